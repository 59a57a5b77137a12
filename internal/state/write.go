package state

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// tmpPrefix is how temporary files of the state file at path are named.
func tmpPrefix(path string) string { return filepath.Base(path) + ".tmp-" }

// encode renders the document: indented (users read and diff it), one
// trailing newline.
func encode(f File) ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// writeAtomic replaces path with data so that a reader or a crash sees either
// the old or the new content: temp file in the same directory (so rename is
// atomic, same filesystem), mode 0600, fsync, rename, fsync of the directory
// (so the rename itself survives a power loss).
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create state directory %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, tmpPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("create temporary state file in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("chmod %s: %w", tmpName, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmpName, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmpName, path, err)
	}
	if err := syncDir(dir); err != nil {
		// The new file is in place; only its durability across a power cut
		// is in doubt. Report it: the caller decides.
		return fmt.Errorf("fsync state directory %s: %w", dir, err)
	}
	return nil
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for fsync there; NTFS journals renames
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return serr
	}
	return cerr
}

// removeTemps deletes temporary files a crashed writer left next to path.
// Only called while holding the exclusive lock, so none belongs to a live run.
func removeTemps(path string) error {
	dir := filepath.Dir(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list state directory %s: %w", dir, err)
	}
	prefix := tmpPrefix(path)
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("remove leftover temporary state file: %w", err)
			}
		}
	}
	return nil
}
