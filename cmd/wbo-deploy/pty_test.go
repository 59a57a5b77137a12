//go:build linux

package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// Pseudo-terminal tests: the real binary's main path (this test binary in
// child mode, see TestMain) with its standard streams on a pty, as a person
// at a terminal runs it.

// openPTY opens a pseudo-terminal pair of cols columns (posix_openpt,
// unlockpt, ptsname: Linux's /dev/ptmx interface, pty(7)).
func openPTY(t *testing.T, cols uint16) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty slave: %v", err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 50, Col: cols}); err != nil {
		t.Fatalf("set window size: %v", err)
	}
	// No echo of what the test types: the screen holds only the program's output.
	if tio, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS); err == nil {
		tio.Lflag &^= unix.ECHO
		_ = unix.IoctlSetTermios(int(s.Fd()), unix.TCSETS, tio)
	}
	t.Cleanup(func() { _ = m.Close(); _ = s.Close() })
	return m, s
}

// ptyRun runs command lines one after the other in one child process
// against one simulated cloud, stdin and stderr on the pty, and stdout on
// the pty too unless stdoutFile is given. It types input once the child has
// printed prompt. It returns what the pty showed and the exit code.
type ptyRun struct {
	cmds       [][]string
	stdoutFile string
	prompt     string
	input      string
	cols       uint16
	env        []string
}

func (p ptyRun) run(t *testing.T) (string, int) {
	t.Helper()
	if p.cols == 0 {
		p.cols = 80
	}
	m, s := openPTY(t, p.cols)
	var lines []string
	for _, c := range p.cmds {
		lines = append(lines, strings.Join(c, "\x1f"))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "WBO_CHILD_COMMANDS="+strings.Join(lines, "\x1e"), "WBO_CHILD_DIR="+t.TempDir(), "TERM=xterm", "CI=", "NO_COLOR=")
	cmd.Env = append(cmd.Env, p.env...)
	cmd.Stdin, cmd.Stderr, cmd.Stdout = s, s, s
	if p.stdoutFile != "" {
		f, err := os.Create(p.stdoutFile)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdout = f
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	var mu sync.Mutex
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := m.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return // EIO once every slave descriptor is closed
			}
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close() // the child holds its own copies
	if p.prompt != "" {
		deadline := time.Now().Add(60 * time.Second)
		for {
			mu.Lock()
			seen := strings.Contains(out.String(), p.prompt)
			mu.Unlock()
			if seen {
				break
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatalf("no prompt %q in 60 s:\n%s", p.prompt, out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := io.WriteString(m, p.input); err != nil {
			t.Fatal(err)
		}
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	return out.String(), cmd.ProcessState.ExitCode()
}

func TestPTYUpPromptsBeforeAnyChangeAndANoChangesNothing(t *testing.T) {
	out, code := ptyRun{cmds: [][]string{{"up"}}, prompt: "[y/N]", input: "n\n"}.run(t)
	if code != 1 || !strings.Contains(out, "cancelled: nothing was changed") {
		t.Fatalf("exit %d, screen:\n%s", code, out)
	}
	if !strings.Contains(out, "Plan:") || !strings.Contains(out, "/month") {
		t.Fatalf("the prompt came without the plan and its cost:\n%s", out)
	}
}

func TestPTYDestroyWantsTheStackName(t *testing.T) {
	out, code := ptyRun{cmds: [][]string{{"up", "--yes"}, {"destroy"}}, prompt: "Type the stack name (wbo)", input: "y\n"}.run(t)
	if code != 1 || !strings.Contains(out, `"y" is not the stack name`) {
		t.Fatalf("destroy answered y: exit %d, screen:\n%s", code, out)
	}
}

func TestPTYLiveProgressAndColour(t *testing.T) {
	out, code := ptyRun{cmds: [][]string{{"up", "--yes"}}}.run(t)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if !strings.Contains(out, "A\x1b[J") {
		t.Fatalf("no live lines redrawn in place:\n%q", out)
	}
	if !strings.Contains(out, "created in") || !strings.Contains(out, "total ") {
		t.Fatalf("no completion durations or total:\n%s", out)
	}
	if !strings.Contains(out, "\x1b[32m") {
		t.Fatalf("no colour on a terminal:\n%q", out)
	}
	// NO_COLOR set and not empty: no colour at all.
	out, _ = ptyRun{cmds: [][]string{{"plan"}}, env: []string{"NO_COLOR=1"}}.run(t)
	if strings.Contains(out, "\x1b[3") {
		t.Fatalf("colour with NO_COLOR=1:\n%q", out)
	}
}

func TestPTYColourIsPerStream(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plan.txt")
	screen, code := ptyRun{cmds: [][]string{{"plan"}}, stdoutFile: file}.run(t)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, screen)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("\x1b")) || !bytes.Contains(data, []byte("Plan:")) {
		t.Fatalf("plan > plan.txt from a terminal wrote escape codes (or no plan):\n%q", data)
	}
	out, _ := ptyRun{cmds: [][]string{{"plan"}}}.run(t)
	if !strings.Contains(out, "\x1b[32m+") {
		t.Fatalf("plan on a terminal is not coloured:\n%q", out)
	}
}

func TestPTYStatusFitsEightyColumns(t *testing.T) {
	out, code := ptyRun{cmds: [][]string{{"up", "--yes"}, {"status"}}, cols: 80}.run(t)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	i := strings.Index(out, "RESOURCE")
	if i < 0 {
		t.Fatalf("no status table:\n%s", out)
	}
	// The table; the URLs under it stay whole, to be copied.
	for _, l := range strings.Split(out[i:], "\n") {
		l = strings.TrimRight(l, "\r")
		if l == "" {
			break
		}
		if n := ui.VisibleLen(l); n > 80 {
			t.Fatalf("a %d-column line on an 80-column terminal:\n%s", n, l)
		}
	}
}

// Standard input that is /dev/null (cron, systemd, CI) is not a terminal:
// up and destroy without --yes exit 2 without prompting.
func TestDevNullStdinIsNotATerminal(t *testing.T) {
	for _, lines := range [][]string{{"up"}, {"up\x1f--yes", "destroy"}} {
		devnull, err := os.Open(os.DevNull)
		if err != nil {
			t.Skip(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "WBO_CHILD_COMMANDS="+strings.Join(lines, "\x1e"), "WBO_CHILD_DIR="+t.TempDir())
		cmd.Stdin = devnull
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err = cmd.Run()
		devnull.Close()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		out := stderr.String()
		if code := cmd.ProcessState.ExitCode(); code != 2 || strings.Contains(out, "[y/N]") || strings.Contains(out, "Type the stack name") || !strings.Contains(out, "pass --yes") {
			t.Fatalf("%q from /dev/null: exit %d\n%s", lines, code, out)
		}
	}
}
