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
		{name: "running", holder: arn, status: "RUNNING", cluster: "wbo", wait: 1, sleeps: 1, calls: 2, want: "giving up waiting; waited 1s"},
		{name: "unknown", holder: arn, cluster: "wbo", wait: 1, sleeps: 1, calls: 2, want: "giving up waiting; waited 1s"},
		// The generated role may only describe the tasks of its own cluster
		// (wbo): ECS refuses, and restore stops asking.
		{name: "denied", holder: otherARN, status: "STOPPED", cluster: "other", wait: 1, sleeps: 1, calls: 1,
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
// The backup runs on a test clock, one second per tick.
func TestLeaseCarriesTheRecoveryPoint(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	clk := fargate.NewClock(t, clockStart)
	dir := filepath.Join(t.TempDir(), "data")
	writeBoards(t, dir, map[string]string{"board-a.svg": "aaaa", "board-b.svg": "bb", "board-тест.svg": "ccc"})
	vars := clockVars(clk, "backup", leaseVars(dir, 6, 6, "WBO_SYNC_INTERVAL", "1")) // a heartbeat every 2 s
	loop := f.start("sh", BackupScript, vars, "watching")
	check := func(what string, heartbeat, lastBackup time.Time, boards int, bytes int64) {
		t.Helper()
		body, ok := f.objects(testLeaseKey)[testLeaseKey]
		if !ok {
			t.Fatalf("%s: no lease:\n%s", what, loop.out.String())
		}
		l, err := ParseLease(body)
		if err != nil {
			t.Fatal(err)
		}
		want := Lease{Owner: l.Owner, Heartbeat: heartbeat, LastBackup: lastBackup, Boards: boards, Bytes: bytes}
		if l != want || l.Owner == "" {
			t.Fatalf("%s: lease %+v, want %+v", what, l, want)
		}
	}
	// The directory as restore left it is the first recovery point.
	t0 := clk.Now()
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	check("at start", t0, t0, 3, int64(4+2+len("ccc")))

	// A new board: the sync at t0+1 uploads it, the heartbeat at t0+2
	// publishes that sync.
	writeLikeWBO(t, filepath.Join(dir, "board-c.svg"), "c")
	tick(t, clk, loop, "backup", 1)
	check("1 s later (no heartbeat due)", t0, t0, 3, 9)
	tick(t, clk, loop, "backup", 1)
	check("the heartbeat after the upload", sec(2), sec(1), 4, 10)

	// Syncs fail from now on (the directory is gone): heartbeats go on,
	// the recovery point stays at the last successful sync (t0+2).
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	tick(t, clk, loop, "backup", 2)
	check("a heartbeat after failing syncs", sec(4), sec(2), 4, 10)
	if code := loop.stopOnClock(t, clk, "backup", syscall.SIGTERM); code == 0 {
		t.Errorf("backup exited 0 after its final sync failed:\n%s", loop.out.String())
	}
}
