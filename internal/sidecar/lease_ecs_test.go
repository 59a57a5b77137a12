package sidecar

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/awssim/fargate"
)

// TestLeaseOfStoppedTaskDoesNotBlock: a lease with a fresh heartbeat whose
// holder (a task ARN) ECS reports stopped is no reason to wait; a running
// holder, an unknown one or a lookup the task role may not make means
// waiting as before. ECS is fargate.Tasks behind the generated task role
// policy; the scripts run on a test clock moved one poll interval per poll.
func TestLeaseOfStoppedTaskDoesNotBlock(t *testing.T) {
	t.Parallel()
	const (
		arn      = "arn:aws:ecs:us-east-1:123456789012:task/wbo/0123456789abcdef0123456789abcdef"
		otherARN = "arn:aws:ecs:us-east-1:123456789012:task/other/0123456789abcdef0123456789abcdef"
	)
	cases := []struct {
		name, holder, status, cluster string
		wait, sleeps, calls           int
		want                          string
	}{
		{name: "stopped", holder: arn, status: "STOPPED", cluster: "wbo", wait: 600, sleeps: 0, calls: 1,
			want: "lease " + testLease + " is held by " + arn + ", which ECS reports STOPPED; waited 0s"},
		{name: "running", holder: arn, status: "RUNNING", cluster: "wbo", wait: 2, sleeps: 2, calls: 3, want: "giving up waiting; waited 2s"},
		{name: "unknown", holder: arn, cluster: "wbo", wait: 2, sleeps: 2, calls: 3, want: "giving up waiting; waited 2s"},
		// The generated role may only describe the tasks of its own cluster
		// (wbo): ECS refuses, and restore stops asking.
		{name: "denied", holder: otherARN, status: "STOPPED", cluster: "other", wait: 2, sleeps: 2, calls: 1,
			want: "cannot look up " + otherARN + " in cluster other"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeS3(t)
			clk := fargate.NewClock(t, clockStart)
			tasks := fargate.NewTasks()
			if c.status != "" {
				tasks.Set(c.holder, c.status)
			}
			f.srv.SetECS(tasks)
			f.put(testPrefix+"board-a.svg", "a")
			putLease(f, c.holder, clk.Now().Unix())
			dir := filepath.Join(t.TempDir(), "data")
			r, sleeps := f.runOnClock(clk, "sh", RestoreScript, "restore", leaseVars(dir, 600, c.wait, "WBO_CLUSTER", c.cluster), time.Second, 10)
			if r.code != 0 {
				t.Fatalf("restore exited %d:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("restore output lacks %q:\n%s", c.want, r.stderr)
			}
			if sleeps != c.sleeps {
				t.Errorf("restore slept %d times between polls, want %d:\n%s", sleeps, c.sleeps, r.stderr)
			}
			if d := diffMaps(map[string]string{"board-a.svg": "a"}, boardFiles(dirFiles(t, dir))); d != "" {
				t.Fatalf("restored:\n%s", d)
			}
			calls := f.ecsCalls()
			if len(calls) != c.calls {
				t.Errorf("restore asked ECS %d times, want %d (once per poll, never again after a refusal): %v", len(calls), c.calls, calls)
			}
			for _, call := range calls {
				if call.Operation != "ecs:DescribeTasks" || (len(call.Denied) > 0) != (c.name == "denied") {
					t.Errorf("ECS call %s denied %v", call.Operation, call.Denied)
				}
			}
			answered := tasks.Clusters()
			if c.name == "denied" {
				if len(answered) != 0 {
					t.Errorf("the refused call reached ECS: %v", answered)
				}
				return
			}
			if len(answered) != c.calls {
				t.Errorf("ECS answered %d calls, want %d", len(answered), c.calls)
			}
			for _, cl := range answered {
				if cl != "wbo" {
					t.Errorf("DescribeTasks named cluster %q, want wbo", cl)
				}
			}
		})
	}
}

// TestLeaseCarriesTheRecoveryPoint: the backup's heartbeat publishes the
// time of its last successful sync with the boards and bytes it saw, in the
// form ParseLease reads; a failing sync leaves the recovery point behind.
func TestLeaseCarriesTheRecoveryPoint(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	dir := filepath.Join(t.TempDir(), "data")
	writeBoards(t, dir, map[string]string{"board-a.svg": "aaaa", "board-b.svg": "bb", "board-тест.svg": "ccc"})
	vars := leaseVars(dir, 6, 6, "WBO_SYNC_INTERVAL", "1") // a heartbeat every 2 s
	before := time.Now().Add(-time.Second).Truncate(time.Second)
	loop := f.start("sh", BackupScript, vars, "watching")
	parse := func() Lease {
		t.Helper()
		body, ok := f.objects(testLeaseKey)[testLeaseKey]
		if !ok {
			t.Fatalf("no lease:\n%s", loop.out.String())
		}
		l, err := ParseLease(body)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := parse()
	if l.LastBackup.Before(before) || l.Boards != 3 || l.Bytes != int64(4+2+len("ccc")) {
		t.Fatalf("lease at start: %+v, want a recovery point after %v with 3 boards and 9 bytes", l, before)
	}
	writeLikeWBO(t, filepath.Join(dir, "board-c.svg"), "c")
	waitLong(t, loop, "the new board counted", func() bool { l := parse(); return l.Boards == 4 && l.Bytes == 10 })

	// Syncs fail from now on (the directory is gone): heartbeats go on,
	// the recovery point stays.
	last := parse().LastBackup
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	waitLong(t, loop, "a heartbeat after failing syncs", func() bool {
		l := parse()
		return l.Heartbeat.After(last.Add(2 * time.Second))
	})
	if l := parse(); !l.LastBackup.Equal(last) && !l.LastBackup.Before(last.Add(2*time.Second)) {
		t.Errorf("the recovery point moved to %v while every sync failed (last success %v)", l.LastBackup, last)
	}
	_ = loop.stop(t, syscall.SIGTERM)
}

// waitLong is waitFor with a 3-minute bound, for waits spanning several
// syncs and heartbeats on a busy machine. It asserts no timing.
func waitLong(t *testing.T, p *proc, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 3 minutes; backup output:\n%s", what, p.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
