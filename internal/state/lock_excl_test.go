package state

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// deadPID returns the PID of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if pidAlive(pid) {
		t.Skipf("pid %d was reused already", pid)
	}
	return pid
}

func writeLockFile(t *testing.T, path string, h Holder) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".lock", encodeHolder(h), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExclFallbackLock(t *testing.T) {
	dir := t.TempDir()
	lockPath := filepath.Join(dir, "wbo.json.lock")
	me := Holder{PID: os.Getpid(), Host: hostname(), Started: time.Now().UTC()}
	l, stale, err := acquireExcl(lockPath, "wbo.json", me)
	if err != nil || stale != nil {
		t.Fatalf("first acquire: %v %+v", err, stale)
	}
	_, _, err = acquireExcl(lockPath, "wbo.json", me)
	if le := asLocked(t, err); le.Holder == nil || le.Holder.PID != os.Getpid() {
		t.Fatalf("second acquire: %+v", le)
	}
	if err := l.release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lockPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("lock file not removed on release")
	}

	// Left by a dead process: taken over.
	dead := deadPID(t)
	if err := os.WriteFile(lockPath, encodeHolder(Holder{PID: dead, Host: hostname()}), 0o600); err != nil {
		t.Fatal(err)
	}
	l, stale, err = acquireExcl(lockPath, "wbo.json", me)
	if err != nil || stale == nil || stale.PID != dead {
		t.Fatalf("takeover: %v %+v", err, stale)
	}
	_ = l.release()

	// A live process, or one on another host, is never taken over.
	for _, h := range []Holder{{PID: os.Getppid(), Host: hostname()}, {PID: dead, Host: "elsewhere"}} {
		if err := os.WriteFile(lockPath, encodeHolder(h), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err = acquireExcl(lockPath, "wbo.json", me)
		asLocked(t, err)
	}
}
