package sidecar

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/awssim/fargate"
)

// TestBackupSendsOnlyChangesAndGuardsDeletions runs one-shot backups with a
// kept state file, the way the loop runs its syncs.
func TestBackupSendsOnlyChangesAndGuardsDeletions(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	dir := t.TempDir()
	boards := map[string]string{
		"board-a.svg": "a", "board-b.svg": "b", "board-c.svg": "c", "board-d.svg": "d", "board-e.svg": "e",
	}
	writeBoards(t, dir, boards)
	vars := shardVars(dir, nil, "WBO_BACKUP_ONCE", "1", "WBO_STATE_FILE", filepath.Join(t.TempDir(), "state"))
	backup := func(step string) result {
		t.Helper()
		r := f.run("sh", BackupScript, vars)
		if r.code != 0 {
			t.Fatalf("%s: backup exited %d:\n%s", step, r.code, r.stderr)
		}
		assertOnlyBoardWrites(t, r.reqs)
		return r
	}
	if puts, _ := writes(backup("first").reqs); len(puts) != len(boards) {
		t.Fatalf("first backup uploaded %q, want all %d boards", puts, len(boards))
	}

	// Nothing changed: no request at all.
	if r := backup("unchanged"); len(r.reqs) != 0 {
		t.Fatalf("backup of an unchanged directory made requests %v", r.reqs)
	}

	// Rewrites that keep the size and the mtime's second are still seen:
	// WBO's rename gives a new inode, and an in-place write a new
	// sub-second mtime.
	a := filepath.Join(dir, "board-a.svg")
	sec := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, rewrite := range []func(){
		func() { writeLikeWBO(t, a, "A") },
		func() { writeFile(t, a, "α"[:1]) },
	} {
		if err := os.Chtimes(a, sec, sec.Add(time.Duration(i+1)*100*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		backup("before rewrite")
		rewrite()
		if err := os.Chtimes(a, sec, sec.Add(time.Duration(i+1)*100*time.Millisecond+time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if puts, _ := writes(backup("rewritten").reqs); !slices.Equal(puts, []string{"boards/board-a.svg"}) {
			t.Fatalf("rewrite %d of board-a (same size, same second): the backup uploaded %q", i, puts)
		}
	}

	// One board deleted by WBO: its object is deleted.
	if err := os.Remove(filepath.Join(dir, "board-a.svg")); err != nil {
		t.Fatal(err)
	}
	if _, dels := writes(backup("one deleted").reqs); !slices.Equal(dels, []string{"boards/board-a.svg"}) {
		t.Fatalf("after deleting board-a the backup deleted %q", dels)
	}
	if _, ok := f.objects(testPrefix)["boards/board-a.svg"]; ok {
		t.Fatal("board-a still in S3 after its deletion was backed up")
	}

	// Most of the remaining boards vanish at once (an emptied or swapped
	// data dir): nothing is deleted, and a board that comes back is uploaded.
	for _, n := range []string{"board-b.svg", "board-c.svg", "board-d.svg"} {
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	r := backup("three of four deleted")
	if _, dels := writes(r.reqs); len(dels) != 0 || !strings.Contains(r.stderr, "refusing to delete 3 of 4") {
		t.Fatalf("mass deletion went through: deleted %q, output:\n%s", dels, r.stderr)
	}
	writeFile(t, filepath.Join(dir, "board-b.svg"), "b is back")
	r = backup("one came back")
	if puts, dels := writes(r.reqs); !slices.Equal(puts, []string{"boards/board-b.svg"}) || len(dels) != 0 {
		t.Fatalf("after board-b came back: uploaded %q, deleted %q; output:\n%s", puts, dels, r.stderr)
	}
	objs := f.objects(testPrefix)
	for _, n := range []string{"board-c.svg", "board-d.svg", "board-e.svg"} {
		if _, ok := objs[testPrefix+n]; !ok {
			t.Errorf("%s was deleted from S3 by a guarded sync", n)
		}
	}

	// The data directory disappears: the sync fails and touches nothing.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	r = f.run("sh", BackupScript, vars)
	if r.code == 0 || len(r.reqs) != 0 {
		t.Fatalf("backup of a missing directory exited %d with %d requests:\n%s", r.code, len(r.reqs), r.stderr)
	}
	if got := len(f.objects(testPrefix)); got != 4 {
		t.Fatalf("%d board objects left after syncs of a missing directory, want 4", got)
	}
}

// TestBackupLoopSyncsPeriodically: the loop (1 s interval, on a test clock)
// uploads a changed board and deletes a removed one at its next sync, then
// stops on SIGINT.
func TestBackupLoopSyncsPeriodically(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	clk := fargate.NewClock(t, clockStart)
	dir := t.TempDir()
	writeBoards(t, dir, map[string]string{"board-a.svg": "a", "board-b.svg": "b", "board-z.svg": "z"})
	f.put("boards/board-b.svg", "b")
	loop := f.start("sh", BackupScript, clockVars(clk, "backup", shardVars(dir, []byte("ab"), "WBO_SYNC_INTERVAL", "1")), "watching")

	writeLikeWBO(t, filepath.Join(dir, "board-a.svg"), "a v2")
	writeLikeWBO(t, filepath.Join(dir, "board-z.svg"), "z v2, not ours")
	tick(t, clk, loop, "backup", 1)
	if got := f.objects(testPrefix)["boards/board-a.svg"]; got != "a v2" {
		t.Fatalf("board-a = %q in S3 after the next sync, want the change:\n%s", got, loop.out.String())
	}
	if err := os.Remove(filepath.Join(dir, "board-b.svg")); err != nil {
		t.Fatal(err)
	}
	tick(t, clk, loop, "backup", 1)
	if _, ok := f.objects(testPrefix)["boards/board-b.svg"]; ok {
		t.Fatalf("board-b not deleted by the next sync:\n%s", loop.out.String())
	}

	if code := loop.stopOnClock(t, clk, "backup", syscall.SIGINT); code != 0 {
		t.Fatalf("backup loop exited %d after SIGINT:\n%s", code, loop.out.String())
	}
	if _, ok := f.objects("")["boards/board-z.svg"]; ok {
		t.Fatal("the loop uploaded board-z, which its shard does not own")
	}
}
