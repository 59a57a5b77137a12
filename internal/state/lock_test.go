//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package state

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Environment of the helper process (the test binary re-executed).
const (
	envHoldLock = "WBO_STATE_TEST_HOLD_LOCK" // path to Open and hold until killed
	envReadOnly = "WBO_STATE_TEST_READ_ONLY"
)

// TestHelperProcess is not a test: run as a child with envHoldLock set, it
// opens the state, prints "locked <pid>" and blocks until killed (or its
// stdin closes, so it never outlives the test).
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(envHoldLock)
	if path == "" {
		t.Skip("helper process only")
	}
	s, err := Open(path, testStack, Options{ToolVersion: "child", ReadOnly: os.Getenv(envReadOnly) == "1"})
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(3)
	}
	fmt.Printf("locked %d\n", os.Getpid())
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = s.Close()
	os.Exit(0)
}

type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	pid   int
}

// startHolder runs a child process that holds the lock of path.
func startHolder(t *testing.T, path string, readOnly bool) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), envHoldLock+"="+path)
	if readOnly {
		cmd.Env = append(cmd.Env, envReadOnly+"=1")
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, pid: cmd.Process.Pid}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked "+strconv.Itoa(c.pid) {
		t.Fatalf("helper did not take the lock: %q %v", line, err)
	}
	return c
}

// kill ends the child as a crash would: no Close, no cleanup.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait() // reaped: the PID is gone and the kernel dropped its flock
}

func TestSecondOpenInProcessIsLocked(t *testing.T) {
	path := statePath(t)
	started := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	first := mustOpen(t, path, Options{Now: func() time.Time { return started }})
	_, err := Open(path, testStack, Options{})
	le := asLocked(t, err)
	if le.Holder == nil || le.Holder.PID != os.Getpid() || !le.Holder.Started.Equal(started) {
		t.Fatalf("holder = %+v", le.Holder)
	}
	want := fmt.Sprintf("state %s is locked by pid %d (started 2026-11-29T10:00:00Z on host %s): another wbo-deploy run is using this stack",
		path, os.Getpid(), hostname())
	if err.Error() != want {
		t.Fatalf("message\n got %s\nwant %s", err, want)
	}
	if le.ExitCode() != 1 {
		t.Fatalf("exit code %d", le.ExitCode())
	}
	// A reader does not interleave with the writer either.
	_, err = Open(path, testStack, Options{ReadOnly: true})
	if le := asLocked(t, err); le.Holder == nil || le.Holder.PID != os.Getpid() {
		t.Fatalf("reader saw holder %+v", le.Holder)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("lock file left after Close: %v", err)
	}
	again := mustOpen(t, path, Options{})
	if again.StaleLock() != nil {
		t.Fatalf("clean release reported as stale: %+v", again.StaleLock())
	}
}

func TestLockedByAnotherProcessThenTakenOverWhenItDies(t *testing.T) {
	path := statePath(t)
	w := mustOpen(t, path, Options{})
	mustPut(t, w, res("vpc", "ec2.vpc", "vpc-1"))
	_ = w.Close()

	c := startHolder(t, path, false)
	_, err := Open(path, testStack, Options{})
	le := asLocked(t, err)
	if le.Holder == nil || le.Holder.PID != c.pid || le.Holder.ToolVersion != "child" {
		t.Fatalf("holder = %+v, want pid %d", le.Holder, c.pid)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("locked by pid %d (started ", c.pid)) {
		t.Fatalf("message does not name the pid: %v", err)
	}

	c.kill(t) // crash: no Close, lock file left behind with the child's details
	data, err := os.ReadFile(path + ".lock")
	if err != nil || !strings.Contains(string(data), strconv.Itoa(c.pid)) {
		t.Fatalf("expected the dead child's lock file to remain: %q %v", data, err)
	}
	s := mustOpen(t, path, Options{})
	stale := s.StaleLock()
	if stale == nil || stale.PID != c.pid || stale.Alive {
		t.Fatalf("StaleLock() = %+v, want dead pid %d", stale, c.pid)
	}
	if h := parseHolder(mustRead(t, path+".lock")); h == nil || h.PID != os.Getpid() {
		t.Fatalf("lock file not rewritten with the new holder: %+v", h)
	}
	if r, ok := s.Get("vpc"); !ok || r.ID != "vpc-1" {
		t.Fatal("state lost across takeover")
	}
}

func TestStaleLockFileWithDeadPIDIsTakenOver(t *testing.T) {
	path := statePath(t)
	pid := deadPID(t)
	started := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	writeLockFile(t, path, Holder{PID: pid, Host: hostname(), Started: started})
	s := mustOpen(t, path, Options{})
	stale := s.StaleLock()
	if stale == nil || stale.PID != pid || stale.Alive || !stale.Started.Equal(started) {
		t.Fatalf("StaleLock() = %+v", stale)
	}
	mustPut(t, s, res("vpc", "ec2.vpc", "vpc-1"))
}

// A lock file naming a live process that does not hold the flock (PID reuse,
// or a file written by something that does not use flock) does not block:
// the flock is authoritative.
func TestLockFileNamingLiveProcessWithoutFlock(t *testing.T) {
	path := statePath(t)
	writeLockFile(t, path, Holder{PID: os.Getppid(), Host: hostname(), Started: time.Now()})
	s := mustOpen(t, path, Options{})
	if st := s.StaleLock(); st == nil || st.PID != os.Getppid() || !st.Alive {
		t.Fatalf("StaleLock() = %+v", st)
	}
}

func TestGarbageLockFileIsTakenOver(t *testing.T) {
	path := statePath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".lock", []byte("1234 not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, path, Options{})
	if s.StaleLock() != nil {
		t.Fatalf("garbage reported as a holder: %+v", s.StaleLock())
	}
	if h := parseHolder(mustRead(t, path+".lock")); h == nil || h.PID != os.Getpid() {
		t.Fatalf("lock file content = %+v", h)
	}
}

func TestReadersShareWritersExclude(t *testing.T) {
	path := statePath(t)
	w := mustOpen(t, path, Options{})
	mustPut(t, w, res("vpc", "ec2.vpc", "vpc-1"))
	_ = w.Close()

	r1 := mustOpen(t, path, Options{ReadOnly: true})
	c := startHolder(t, path, true) // a reader in another process too
	r2 := mustOpen(t, path, Options{ReadOnly: true})
	if _, ok := r2.Get("vpc"); !ok {
		t.Fatal("reader sees no state")
	}

	_, err := Open(path, testStack, Options{})
	le := asLocked(t, err)
	if !le.Readers || le.Holder != nil || !strings.Contains(err.Error(), "read-only wbo-deploy run") {
		t.Fatalf("writer blocked by readers: %+v %v", le, err)
	}
	_ = r1.Close()
	_ = r2.Close()
	_, err = Open(path, testStack, Options{})
	if le := asLocked(t, err); !le.Readers {
		t.Fatalf("child reader still holds: %+v", le)
	}
	c.kill(t)
	mustOpen(t, path, Options{})
}

func TestLockReleasedOnFailedOpenAndAfterClose(t *testing.T) {
	path := writeState(t, []byte("{"))
	if _, err := Open(path, testStack, Options{}); err == nil {
		t.Fatal("corrupt file opened")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		s, err := Open(path, testStack, Options{})
		if err != nil {
			t.Fatalf("lock not released: %v", err)
		}
		_ = s.Close()
	}
}
