package sidecar

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/awssim/fargate"
)

const (
	testLease    = "wbo-shard-0"
	testLeaseKey = testPrefix + ".leases/" + testLease
	ownerFile    = ".wbo-lease-owner"
)

// leaseVars is the script environment of a shard task with a lease: ttl and
// wait in seconds, polling every second, extra on top.
func leaseVars(dir string, ttl, wait int, extra ...string) map[string]string {
	return shardVars(dir, nil, append([]string{
		"WBO_LEASE_NAME", testLease, "WBO_LEASE_TTL", strconv.Itoa(ttl),
		"WBO_LEASE_WAIT", strconv.Itoa(wait), "WBO_LEASE_POLL", "1",
	}, extra...)...)
}

// lease returns the owner and time in the lease object; ok false when there
// is none.
func (f *fakeS3) lease() (owner string, at int64, ok bool) {
	f.t.Helper()
	body, ok := f.objects(testLeaseKey)[testLeaseKey]
	if !ok {
		return "", 0, false
	}
	fields := strings.Fields(body)
	if len(fields) != 2 && len(fields) != 5 {
		f.t.Fatalf("lease object %q is not \"<owner> <time> [<last backup> <boards> <bytes>]\"", body)
	}
	at, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		f.t.Fatalf("lease object %q: time: %v", body, err)
	}
	return fields[0], at, true
}

func putLease(f *fakeS3, owner string, at int64) {
	f.put(testLeaseKey, owner+" "+strconv.FormatInt(at, 10)+"\n")
}

func readOwner(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		t.Fatalf("owner token: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// clockStart is where the test clocks start (whole seconds).
var clockStart = time.Unix(1_800_000_000, 0)

// TestLeaseHandOverWaitsForFinalBackup plays an ECS deployment that starts
// the new task while the old one is still stopping: the new task's restore
// waits for the old task's lease, polling, the old task's last edit reaches
// S3 in its final sync, and only then does the new restore copy the boards.
// The scripts run on a test clock: every poll happens when the test moves
// it, so the order of events is the test's, however busy the machine.
func TestLeaseHandOverWaitsForFinalBackup(t *testing.T) {
	t.Parallel()
	for _, sh := range shells(t) {
		t.Run(sh, func(t *testing.T) {
			t.Parallel()
			f := newFakeS3(t)
			clk := fargate.NewClock(t, clockStart)
			f.put(testPrefix+"board-a.svg", "a v1")
			f.put(testPrefix+"board-b.svg", "b v1")
			// The TTL and the wait are far longer than the clock ever
			// moves: the new restore can only go on because the lease was
			// released.
			vars := func(dir, who string) map[string]string {
				return clockVars(clk, who, leaseVars(dir, 600, 600, "WBO_SYNC_INTERVAL", "3600"))
			}

			// The old task: restore (no lease yet), then its backup loop.
			oldDir := filepath.Join(t.TempDir(), "data")
			r := f.run(sh, RestoreScript, vars(oldDir, "old-restore"))
			if r.code != 0 || !strings.Contains(r.stderr, "lease "+testLease+" is free; waited 0s") || clk.Sleeps("old-restore") != 0 {
				t.Fatalf("old task's restore exited %d after %d sleeps:\n%s", r.code, clk.Sleeps("old-restore"), r.stderr)
			}
			oldOwner := readOwner(t, oldDir)
			backup := f.start(sh, BackupScript, vars(oldDir, "old-backup"), "watching")
			owner, at, ok := f.lease()
			if !ok || owner != oldOwner || at != clk.Now().Unix() {
				t.Fatalf("lease after the backup started: %q at %d (ok %v), want %q at %d", owner, at, ok, oldOwner, clk.Now().Unix())
			}

			// The new task starts while the old one still serves: its
			// restore waits, and keeps waiting at each poll.
			newDir := filepath.Join(t.TempDir(), "data")
			restore := f.start(sh, RestoreScript, vars(newDir, "new-restore"), "waiting for "+oldOwner)
			const polls = 2
			for i := 1; ; i++ {
				if !clk.WaitAsleep(t, hang, restore.exited, "new-restore", "old-backup") {
					t.Fatalf("the new restore ended (%d) while the old task held the lease:\n%s", restore.code, restore.out.String())
				}
				if n := clk.Sleeps("new-restore"); n != i {
					t.Fatalf("the new restore slept %d times after %d polls", n, i)
				}
				if i == polls {
					break
				}
				clk.Advance(time.Second)
			}

			// The old task's WBO saves a last edit, then ECS stops it. The
			// new restore sleeps meanwhile (the clock stands still): it
			// cannot see the lease before the final sync.
			writeLikeWBO(t, filepath.Join(oldDir, "board-a.svg"), "a v2, the last edit")
			if code := backup.stopOnClock(t, clk, "old-backup", syscall.SIGTERM); code != 0 {
				t.Fatalf("old backup exited %d after SIGTERM:\n%s", code, backup.out.String())
			}
			for _, want := range []string{"final sync done", "lease " + testLease + " released"} {
				if !strings.Contains(backup.out.String(), want) {
					t.Errorf("old backup output lacks %q:\n%s", want, backup.out.String())
				}
			}
			if !restore.running() || !clk.Asleep("new-restore") {
				t.Fatalf("the new restore did not sleep through the old task's stop:\n%s", restore.out.String())
			}

			// Its next poll finds the lease released.
			clk.Advance(time.Second)
			if code := restore.wait(t); code != 0 {
				t.Fatalf("new restore exited %d:\n%s", code, restore.out.String())
			}
			if want := fmt.Sprintf("lease %s released by its owner; waited %ds", testLease, polls); !strings.Contains(restore.out.String(), want) {
				t.Errorf("new restore output lacks %q:\n%s", want, restore.out.String())
			}
			if n := clk.Sleeps("new-restore"); n != polls {
				t.Errorf("the new restore slept %d times, want %d", n, polls)
			}
			want := map[string]string{"board-a.svg": "a v2, the last edit", "board-b.svg": "b v1"}
			if d := diffMaps(want, boardFiles(dirFiles(t, newDir))); d != "" {
				t.Fatalf("the new task restored (it must have the old task's last edit):\n%s", d)
			}
			if newOwner := readOwner(t, newDir); newOwner == oldOwner || newOwner == "" {
				t.Errorf("the new task's owner token %q is not its own (old task: %q)", newOwner, oldOwner)
			}
			if o, _, ok := f.lease(); ok {
				t.Errorf("lease still held by %q after the old task released it and nobody took it", o)
			}
		})
	}
}

// TestLeaseStaleOrOverdueDoesNotBlock: a lease whose heartbeat is older than
// the TTL (its task died without releasing it) is no reason to wait, one
// that goes stale while restore waits ends the wait, and a live one is
// waited for at most WBO_LEASE_WAIT. On a test clock, moved one poll
// interval per poll, each case makes an exact number of polls.
func TestLeaseStaleOrOverdueDoesNotBlock(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		age       int64 // of the heartbeat when restore starts
		ttl, wait int
		want      []string
		sleeps    int
	}{
		// Dead for long: restore goes on at once.
		{name: "stale", age: 1000, ttl: 30, wait: 600, sleeps: 0,
			want: []string{"lease " + testLease + " is stale (last heartbeat of dead-task 1000s ago); waited 0s"}},
		// 2 s old, TTL 3 s: fresh at the first poll, stale at the second,
		// long before the wait of 600 s runs out.
		{name: "goes stale while waiting", age: 2, ttl: 3, wait: 600, sleeps: 1,
			want: []string{"waiting for dead-task to release lease " + testLease + " (heartbeat 2s ago)",
				"lease " + testLease + " is stale (last heartbeat of dead-task 3s ago); waited 1s"}},
		// Alive (TTL 600 s) but the wait is 1 s: a second poll, then no more.
		{name: "wait runs out", age: 0, ttl: 600, wait: 1, sleeps: 1,
			want: []string{"waiting for dead-task", "lease " + testLease + " still held by dead-task: giving up waiting; waited 1s"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeS3(t)
			clk := fargate.NewClock(t, clockStart)
			f.put(testPrefix+"board-a.svg", "a")
			putLease(f, "dead-task", clk.Now().Unix()-c.age)
			dir := filepath.Join(t.TempDir(), "data")
			r, sleeps := f.runOnClock(clk, "sh", RestoreScript, "restore", leaseVars(dir, c.ttl, c.wait), time.Second, 10)
			if r.code != 0 {
				t.Fatalf("restore exited %d:\n%s", r.code, r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("restore output lacks %q:\n%s", w, r.stderr)
				}
			}
			if sleeps != c.sleeps {
				t.Errorf("restore slept %d times between polls, want %d:\n%s", sleeps, c.sleeps, r.stderr)
			}
			if c.sleeps == 0 && strings.Contains(r.stderr, "waiting") {
				t.Errorf("restore waited for a stale lease:\n%s", r.stderr)
			}
			if d := diffMaps(map[string]string{"board-a.svg": "a"}, boardFiles(dirFiles(t, dir))); d != "" {
				t.Fatalf("restored:\n%s", d)
			}
			// Restore only reads the lease; the dead task's object stays
			// until the new backup overwrites it.
			if o, _, ok := f.lease(); !ok || o != "dead-task" {
				t.Errorf("restore changed the lease: owner %q (present %v)", o, ok)
			}
			if puts, dels := writes(r.reqs); len(puts)+len(dels) != 0 {
				t.Errorf("restore wrote to S3: put %q, deleted %q", puts, dels)
			}
		})
	}
}

// TestLeaseIsNoBoard: the lease object is never restored, its owner token
// file is never uploaded, and neither counts as a board for the deletion
// guard; the backup loop refreshes the lease while nothing changes. The
// backup runs on a test clock, one second per tick.
func TestLeaseIsNoBoard(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	clk := fargate.NewClock(t, clockStart)
	boards := map[string]string{"board-a.svg": "a", "board-b.svg": "b", "board-c.svg": "c", "board-d.svg": "d"}
	for name, body := range boards {
		f.put(testPrefix+name, body)
	}
	putLease(f, "gone-task", 1000) // stale
	dir := filepath.Join(t.TempDir(), "data")
	vars := clockVars(clk, "backup", leaseVars(dir, 6, 6, "WBO_SYNC_INTERVAL", "1")) // a heartbeat every 2 s

	r := f.run("sh", RestoreScript, vars)
	if r.code != 0 || !strings.Contains(r.stderr, "restored 4 boards") {
		t.Fatalf("restore exited %d, want 4 boards restored:\n%s", r.code, r.stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{ownerFile, "board-a.svg", "board-b.svg", "board-c.svg", "board-d.svg"}; !slices.Equal(names, want) {
		t.Fatalf("data dir after restore holds %q, want %q (the lease is no board)", names, want)
	}
	owner := readOwner(t, dir)

	loop := f.start("sh", BackupScript, vars, "watching")
	if o, at, ok := f.lease(); !ok || o != owner || at != clk.Now().Unix() {
		t.Fatalf("lease at start: %q at %d (present %v), want %q at %d", o, at, ok, owner, clk.Now().Unix())
	}
	tick(t, clk, loop, "backup", 1)
	if _, at, _ := f.lease(); at != clk.Now().Unix()-1 {
		t.Fatalf("a heartbeat after 1 s of a TTL of 6 s: want every 2 s")
	}
	tick(t, clk, loop, "backup", 1)
	if o, at, _ := f.lease(); o != owner || at != clk.Now().Unix() {
		t.Fatalf("no heartbeat 2 s after the last: %q at %d, now %d", o, at, clk.Now().Unix())
	}

	// One board of four deleted: its object goes. Then two of the three
	// left: the guard refuses, which it would not if the lease or the token
	// counted as boards (2 of 4 would pass).
	if err := os.Remove(filepath.Join(dir, "board-a.svg")); err != nil {
		t.Fatal(err)
	}
	tick(t, clk, loop, "backup", 1)
	if _, ok := f.objects(testPrefix)[testPrefix+"board-a.svg"]; ok {
		t.Fatalf("board-a not deleted by the next sync:\n%s", loop.out.String())
	}
	for _, n := range []string{"board-b.svg", "board-c.svg"} {
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	tick(t, clk, loop, "backup", 1)
	if !strings.Contains(loop.out.String(), "refusing to delete 2 of 3 boards") {
		t.Fatalf("the guard did not refuse deleting 2 of 3 boards:\n%s", loop.out.String())
	}
	if code := loop.stopOnClock(t, clk, "backup", syscall.SIGINT); code != 0 {
		t.Fatalf("backup exited %d:\n%s", code, loop.out.String())
	}

	puts, dels := writes(f.takeRequests())
	for _, k := range append(slices.Clone(puts), dels...) {
		if k != testLeaseKey && k != testPrefix+"board-a.svg" {
			t.Errorf("backup wrote %q: only board-a's deletion and the lease were due", k)
		}
	}
	if !slices.Contains(puts, testLeaseKey) || !slices.Equal(dels, []string{testPrefix + "board-a.svg", testLeaseKey}) {
		t.Errorf("backup put %q and deleted %q; want lease heartbeats, then board-a and the released lease deleted", puts, dels)
	}
	objs := f.objects("")
	for _, n := range []string{"board-b.svg", "board-c.svg", "board-d.svg"} {
		if objs[testPrefix+n] != boards[n] {
			t.Errorf("%s lost from S3", n)
		}
	}
	if _, ok := objs[testLeaseKey]; ok {
		t.Error("lease not released")
	}
}

// TestLeaseOwnTaskProceeds: a restore that runs again in the same task (its
// token file in the data dir) is not blocked by its own task's fresh lease.
func TestLeaseOwnTaskProceeds(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	f.put(testPrefix+"board-a.svg", "a")
	dir := filepath.Join(t.TempDir(), "data")
	writeFile(t, filepath.Join(dir, ownerFile), "arn:aws:ecs:us-east-1:123456789012:task/wbo/0123abcd\n")
	putLease(f, "arn:aws:ecs:us-east-1:123456789012:task/wbo/0123abcd", time.Now().Unix())
	// TTL and wait of 600 s: waiting at all would exceed the run's 60 s.
	r := f.run("sh", RestoreScript, leaseVars(dir, 600, 600))
	if r.code != 0 {
		t.Fatalf("restore exited %d:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "lease "+testLease+" is held by this task") || strings.Contains(r.stderr, "waiting") {
		t.Fatalf("restore did not go on at once with its own lease:\n%s", r.stderr)
	}
	if got := readOwner(t, dir); got != "arn:aws:ecs:us-east-1:123456789012:task/wbo/0123abcd" {
		t.Errorf("owner token changed to %q", got)
	}
	if d := diffMaps(map[string]string{"board-a.svg": "a"}, boardFiles(dirFiles(t, dir))); d != "" {
		t.Fatalf("restored:\n%s", d)
	}
}

// TestLeaseUnreadableFailsRestore: when the lease cannot be looked up, restore
// fails (as it does when the boards cannot be copied) instead of guessing.
func TestLeaseUnreadableFailsRestore(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	dir := filepath.Join(t.TempDir(), "data")
	r := f.runAt(closedEndpoint(t), "sh", RestoreScript, leaseVars(dir, 600, 600, "AWS_MAX_ATTEMPTS", "1"))
	if r.code == 0 || !strings.Contains(r.stderr, "cannot list s3://"+testBucket+"/"+testLeaseKey) {
		t.Fatalf("restore with S3 unreachable exited %d:\n%s", r.code, r.stderr)
	}
}

// TestLeaseOwnerIsTheTaskARN: with the ECS task metadata endpoint (here a
// curl stand-in on PATH, no network) the owner token is the task ARN, so
// the logs name the task that holds a lease.
func TestLeaseOwnerIsTheTaskARN(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	const arn = "arn:aws:ecs:eu-west-1:123456789012:task/wbo/4f1e0c2b9a8d4e6f8a7b6c5d4e3f2a1b"
	// The v4 /task document, spaced as a pretty-printer would.
	curl := "#!/bin/sh\ncase \"$*\" in *http://169.254.170.2/v4/abc/task*) ;; *) exit 22;; esac\n" +
		"printf '{\"Cluster\": \"wbo\",\\n \"TaskARN\": \"" + arn + "\",\\n \"Family\": \"wbo-shard-0\"}\\n'\n"
	if err := os.WriteFile(filepath.Join(f.dir, "bin", "curl"), []byte(curl), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, sh := range shells(t) {
		dir := filepath.Join(t.TempDir(), "data")
		r := f.run(sh, RestoreScript, leaseVars(dir, 600, 600, "ECS_CONTAINER_METADATA_URI_V4", "http://169.254.170.2/v4/abc"))
		if r.code != 0 {
			t.Fatalf("%s: restore exited %d:\n%s", sh, r.code, r.stderr)
		}
		if got := readOwner(t, dir); got != arn {
			t.Errorf("%s: owner token %q, want the task ARN %q", sh, got, arn)
		}
		if !strings.Contains(r.stderr, "this task is "+arn) {
			t.Errorf("%s: restore does not log its task:\n%s", sh, r.stderr)
		}
	}
}
