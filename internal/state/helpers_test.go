package state

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const testStack = "wbo"

// fixedClock returns a clock that advances one second per call, so
// timestamps are deterministic and distinct.
func fixedClock() func() time.Time {
	t := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

func statePath(t testing.TB) string {
	return filepath.Join(t.TempDir(), ".wbo-deploy", testStack+".json")
}

func mustOpen(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedClock()
	}
	s, err := Open(path, testStack, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func mustPut(t testing.TB, s *Store, r Resource) {
	t.Helper()
	if err := s.Put(r); err != nil {
		t.Fatalf("Put(%s): %v", r.Name, err)
	}
}

// readDisk parses the state file as it is on disk.
func readDisk(t testing.TB, path string) File {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("state file %s does not parse: %v\n%s", path, err, data)
	}
	return f
}

func res(name, kind, id string) Resource {
	return Resource{Name: name, Kind: kind, ID: id}
}

func asLocked(t *testing.T, err error) *LockedError {
	t.Helper()
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("want *LockedError, got %T: %v", err, err)
	}
	return le
}
