package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/wbo-deploy/wbo-deploy/internal/app"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
)

// The child half of TestSIGINTDuringUp: the real main path (signal handler
// included) against a simulated cloud living in this process.
func TestMain(m *testing.M) {
	if os.Getenv("WBO_SIGNAL_CHILD") == "1" {
		cloud := awssim.New(awssim.Options{Scale: 1e-3})
		cloud.SetLatency(3 * time.Millisecond)
		code := runWith(os.Args[len(os.Args)-4:], func(g *app.Globals) {
			g.Env = []string{"AWS_REGION=us-east-1"}
			g.ClockScale = 1e-3
			g.AWS = awsclients.Options{Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATED", "secret", ""),
				APIOptions: cloud.APIOptions(), RetryMode: "standard", MaxBackoff: time.Millisecond}
		})
		os.Exit(code)
	}
	if cmds := os.Getenv("WBO_CHILD_COMMANDS"); cmds != "" {
		os.Exit(childCommands(cmds, os.Getenv("WBO_CHILD_DIR")))
	}
	os.Exit(m.Run())
}

// childCommands runs command lines (\x1e between lines, \x1f between
// arguments) one after the other on this process's standard streams, against
// one simulated cloud, with a state file in dir; it returns the last exit
// code, or the first that is not 0.
func childCommands(cmds, dir string) int {
	cloud := awssim.New(awssim.Options{})
	if err := os.Chdir(dir); err != nil {
		return 99
	}
	code := 0
	for _, line := range strings.Split(cmds, "\x1e") {
		args := append([]string{"--state", filepath.Join(dir, "state.json")}, strings.Split(line, "\x1f")...)
		code = runWith(args, func(g *app.Globals) {
			g.Env = append(os.Environ(), "AWS_REGION=us-east-1")
			g.ClockScale = 1e-4
			g.AWS = awsclients.Options{Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATED", "secret", ""),
				APIOptions: cloud.APIOptions(), RetryMode: "standard", MaxAttempts: 20, MaxBackoff: time.Millisecond}
		})
		if code != 0 {
			return code
		}
	}
	return code
}

// SIGINT during up: calls in flight finish, the state is saved, exit 130.
func TestSIGINTDuringUp(t *testing.T) {
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.json")
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--state", statePath, "up", "--yes")
	cmd.Env = append(os.Environ(), "WBO_SIGNAL_CHILD=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the run has recorded something, then interrupt it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st, err := os.Stat(statePath); err == nil && st.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the child recorded nothing in 30 s:\n%s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != 130 {
		t.Fatalf("exit %d (%v), want 130\n%s", code, err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Fatalf("no interruption message:\n%s", stderr.String())
	}
	data, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Serial    int64
		Resources []struct{ Name, ID string }
	}
	if err := json.Unmarshal(data, &f); err != nil || len(f.Resources) == 0 {
		t.Fatalf("state after the interrupt is not a saved state with resources (%v):\n%s", err, data)
	}
	if _, err := os.Stat(statePath + ".lock"); err == nil {
		t.Fatal("the interrupted run left its lock file behind")
	}
}
