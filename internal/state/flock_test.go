//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package state

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const syscallLockEx = syscall.LOCK_EX | syscall.LOCK_NB

// While a writer has taken the flock but not yet written its details (or the
// file still names a dead process), the error does not name a wrong PID.
func TestLockedWithUnrecordedHolder(t *testing.T) {
	path := statePath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, content := range [][]byte{nil, encodeHolder(Holder{PID: deadPID(t), Host: hostname()})} {
		if err := os.WriteFile(path+".lock", content, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path+".lock", os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := flock(f, syscallLockEx); err != nil {
			t.Fatal(err)
		}
		_, err = Open(path, testStack, Options{})
		le := asLocked(t, err)
		if le.Holder != nil || le.Readers || !strings.Contains(err.Error(), "holder not recorded") {
			t.Fatalf("content %q: %+v %v", content, le, err)
		}
		_ = f.Close()
	}
}
