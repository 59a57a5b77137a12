package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// localBackend is the state file on this machine (see the package
// documentation: atomic rename, flock lock on <path>.lock).
type localBackend struct {
	path string
	lk   locker // nil: read-only with nothing to lock
	// noDir: a read-only open of a path whose directory does not exist; there
	// is nothing to read and no lock to take.
	noDir bool
}

func (b *localBackend) where() string { return b.path }

func (b *localBackend) lock(me Holder, readOnly bool) (*Holder, error) {
	dir := filepath.Dir(b.path)
	if readOnly {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			b.noDir = true // status and plan must not create directories
			return nil, nil
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory %s: %w", dir, err)
	}
	lk, stale, err := acquireLock(b.path+".lock", b.path, readOnly, me)
	if err != nil {
		return nil, err
	}
	b.lk = lk
	return stale, nil
}

func (b *localBackend) unlock() error {
	if b.lk == nil {
		return nil
	}
	err := b.lk.release()
	b.lk = nil
	return err
}

func (b *localBackend) read() ([]byte, bool, error) {
	if b.noDir {
		return nil, false, nil
	}
	fi, err := os.Stat(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read state %s: %w", b.path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, false, &CorruptError{Path: b.path, Problem: fmt.Sprintf("not a regular file (%s)", fi.Mode().Type())}
	}
	data, err := os.ReadFile(b.path)
	if err != nil {
		return nil, false, fmt.Errorf("read state %s: %w", b.path, err)
	}
	return data, true, nil
}

func (b *localBackend) write(data []byte) error { return writeAtomic(b.path, data) }

func (b *localBackend) remove() error {
	if err := os.Remove(b.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := syncDir(filepath.Dir(b.path)); err != nil {
		return fmt.Errorf("fsync directory: %w", err)
	}
	return nil
}

func (b *localBackend) cleanup() error { return removeTemps(b.path) }

func (b *localBackend) retire() (string, error) {
	backup := b.path + ".migrated"
	if err := os.Rename(b.path, backup); err != nil {
		return "", err
	}
	if err := syncDir(filepath.Dir(b.path)); err != nil {
		return "", fmt.Errorf("fsync directory: %w", err)
	}
	return "moved to " + backup, nil
}
