package sidecar

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/shard"
)

// syllables make names like WBO's /random (four pronounceable words joined
// by "-", server/shared/pronounceable_name.mjs).
var syllables = []string{"ba", "mo", "ti", "ke", "lu", "za", "ro", "vi", "fe", "na", "so", "du", "pi", "ga", "xe", "wu"}

// bigBoardNames makes n distinct board file names: mostly WBO random names,
// one in eight Unicode (raw UTF-8, current WBO), one in sixteen
// percent-encoded (older WBO), one in ten .json.
func bigBoardNames(r *rand.Rand, n int) []string {
	seen := make(map[string]bool, n)
	out := make([]string, 0, n)
	for len(out) < n {
		var words []string
		for range 4 {
			var w string
			for range 2 + r.IntN(2) {
				w += syllables[r.IntN(len(syllables))]
			}
			words = append(words, w)
		}
		name := strings.Join(words, "-")
		switch r.IntN(16) {
		case 0, 1:
			name = firstWords[r.IntN(len(firstWords))] + "-" + name
		case 2:
			name = shard.EncodeURIComponent(firstWords[r.IntN(len(firstWords))] + "-" + name)
		}
		ext := ".svg"
		if r.IntN(10) == 0 {
			ext = ".json"
		}
		name = "board-" + name + ext
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// writeBigDir writes one small file per name (content = the name).
func writeBigDir(tb testing.TB, dir string, names []string) {
	tb.Helper()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// argMax is the kernel's limit on a command's arguments and environment.
func argMax(t *testing.T) int {
	t.Helper()
	out, err := exec.Command("getconf", "ARG_MAX").Output()
	if err != nil {
		t.Fatalf("getconf ARG_MAX: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// listScript prints the names of the owned boards as list() sees them.
const listScript = "N=list\nsetup\nW=$TMPDIR/list.$$\nmkdir -p \"$W\" || exit 1\nlist || exit 1\ncut -d' ' -f1 \"$W/cur\"\n"

// TestBigShardListsUploadsAndStops: 60,000 boards, whose names together are
// longer than the kernel's argument limit (the old backup passed them all to
// one stat, failed silently and never uploaded again). The listing has
// exactly the owned boards, the loop starts on them, and the final sync
// uploads exactly the boards edited meanwhile.
func TestBigShardListsUploadsAndStops(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("60,000 files; skipped with -short")
	}
	names := bigBoardNames(rand.New(rand.NewPCG(21, 22)), 60_000)
	total := 0
	for _, n := range names {
		total += len(n) + 1
	}
	if limit := argMax(t); total <= limit {
		t.Fatalf("the names take %d bytes, not more than ARG_MAX %d: the test would not exercise the limit", total, limit)
	}
	dir := t.TempDir()
	writeBigDir(t, dir, names)
	writeFile(t, filepath.Join(dir, names[0]+".bak"), "temp")
	f := newFakeS3(t)

	// Keyless with sh, the catch-all shard of 16 (the most keys) with the
	// last shell (bash when installed).
	shs := shells(t)
	for i, keys := range [][]byte{nil, shard.Partition(16)[15]} {
		sh := shs[i*(len(shs)-1)]
		{
			want := names
			if keys != nil {
				want = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return !slices.Contains(keys, keyOfFile(t, n)) })
			}
			want = slices.Sorted(slices.Values(want))
			r := f.run(sh, Compact(libSource+listSource)+listScript, shardVars(dir, keys))
			if r.code != 0 {
				t.Fatalf("%s keys [%s]: list exited %d:\n%.2000s", sh, shard.FormatKeys(keys), r.code, r.stderr)
			}
			if got := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n"); !slices.Equal(got, want) {
				t.Fatalf("%s keys [%s]: list gave %d names, want %d:\n%s", sh, shard.FormatKeys(keys), len(got), len(want), diffMaps(setOf(want), setOf(got)))
			}
		}
	}

	keys := shard.Partition(2)[1]
	var mine []string
	for _, n := range names {
		if slices.Contains(keys, keyOfFile(t, n)) {
			mine = append(mine, n)
		}
	}
	loop := f.start("sh", BackupScript, shardVars(dir, keys, "WBO_SYNC_INTERVAL", "3600"), "watching")
	if w := fmt.Sprintf("(%d boards)", len(mine)); !strings.Contains(loop.out.String(), w) {
		t.Errorf("the loop does not start on %s:\n%s", w, loop.out.String())
	}
	edited := []string{mine[0], mine[len(mine)/2], mine[len(mine)-1], "board-неделя-bamoti.svg"}
	for _, n := range edited {
		writeLikeWBO(t, filepath.Join(dir, n), n+" v2")
	}
	if code := loop.stop(t, syscall.SIGTERM); code != 0 || !strings.Contains(loop.out.String(), "final sync done") {
		t.Fatalf("backup exited %d after SIGTERM:\n%s", code, loop.out.String())
	}
	puts, dels := writes(f.takeRequests())
	slices.Sort(puts)
	want := make([]string, len(edited))
	for i, n := range edited {
		want[i] = testPrefix + n
	}
	slices.Sort(want)
	if !slices.Equal(puts, want) || len(dels) != 0 {
		t.Fatalf("final sync uploaded %q and deleted %q, want exactly the edited %q", puts, dels, want)
	}
	objs := f.objects(testPrefix)
	for _, n := range edited {
		if objs[testPrefix+n] != n+" v2" {
			t.Errorf("%s in S3 is %q", n, objs[testPrefix+n])
		}
	}
}

// TestListErrorIsNoEmptyListing: a stat that fails for any reason but a
// vanished file fails the sync (never "no boards"), so nothing is deleted
// and the loop's final sync fails loudly; a board that vanishes between the
// scan and its stat is simply not there.
func TestListErrorIsNoEmptyListing(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	dir := t.TempDir()
	writeBoards(t, dir, map[string]string{"board-a.svg": "a", "board-b.svg": "b", "board-c.svg": "c"})
	state := filepath.Join(t.TempDir(), "state")
	vars := shardVars(dir, nil, "WBO_BACKUP_ONCE", "1", "WBO_STATE_FILE", state)
	if r := f.run("sh", BackupScript, vars); r.code != 0 {
		t.Fatalf("first backup exited %d:\n%s", r.code, r.stderr)
	}
	realStat, err := exec.LookPath("stat")
	if err != nil {
		t.Fatal(err)
	}
	stub := filepath.Join(f.dir, "bin", "stat")

	// A vanished file: the stand-in deletes board-b, then runs stat.
	writeFile(t, stub, "#!/bin/sh\nrm -f '"+filepath.Join(dir, "board-b.svg")+"'\nexec '"+realStat+"' \"$@\"\n")
	if err := os.Chmod(stub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "board-c.svg"), "c v2")
	r := f.run("sh", BackupScript, vars)
	if r.code != 0 {
		t.Fatalf("backup with a vanishing board exited %d:\n%s", r.code, r.stderr)
	}
	if puts, _ := writes(r.reqs); !slices.Equal(puts, []string{testPrefix + "board-c.svg"}) {
		t.Errorf("backup with a vanishing board uploaded %q, want board-c only", puts)
	}

	// Any other error: the sync fails and touches nothing.
	writeFile(t, stub, "#!/bin/sh\necho \"stat: cannot statx 'board-a.svg': Input/output error\" >&2\nexit 1\n")
	writeFile(t, filepath.Join(dir, "board-a.svg"), "a v2")
	r = f.run("sh", BackupScript, vars)
	if r.code == 0 || len(r.reqs) != 0 || !strings.Contains(r.stderr, "Input/output error") {
		t.Fatalf("backup with a failing stat exited %d with %d requests:\n%s", r.code, len(r.reqs), r.stderr)
	}
	loop := f.start("sh", BackupScript, shardVars(dir, nil, "WBO_SYNC_INTERVAL", "3600", "WBO_STATE_FILE", state), "watching")
	if code := loop.stop(t, syscall.SIGTERM); code == 0 || strings.Contains(loop.out.String(), "final sync done") {
		t.Fatalf("the loop's final sync with a failing stat exited %d:\n%s", code, loop.out.String())
	}
}

// BenchmarkBackupSync reports the CPU time (user+system, the shell and
// every process it runs) of one backup sync that finds nothing changed: the
// cost an idle shard pays every storage.sync_interval. "none" is the
// keyless scan (one shard owns every board); "2" and "16" use the catch-all
// shard's key set of 2 and 16 shards (the most keys). Goal: within 2x of
// none.
func BenchmarkBackupSync(b *testing.B) {
	if _, err := exec.LookPath("aws"); err != nil {
		b.Skip("needs the aws CLI on PATH")
	}
	for _, n := range []int{1000, 10_000, 60_000} {
		dir := b.TempDir()
		writeBigDir(b, dir, bigBoardNames(rand.New(rand.NewPCG(uint64(n), 1)), n))
		for _, ks := range []struct {
			name string
			keys []byte
		}{{"none", nil}, {"2", shard.Partition(2)[1]}, {"16", shard.Partition(16)[15]}} {
			for _, sh := range []string{"sh", "bash --posix"} {
				b.Run(fmt.Sprintf("boards=%d/keys=%s/%s", n, ks.name, strings.Fields(sh)[0]), func(b *testing.B) {
					state := filepath.Join(b.TempDir(), "state")
					env := append(os.Environ(), "WBO_BUCKET=wbo-boards", "WBO_PREFIX=boards/", "WBO_DATA_DIR="+dir,
						"WBO_SHARD_KEYS="+shard.FormatKeys(ks.keys), "WBO_BACKUP_ONCE=1", "WBO_STATE_FILE="+state, "TMPDIR="+b.TempDir())
					seed := shellCommand(context.Background(), sh, Compact(libSource+listSource)+listScript)
					seed.Env = env
					out, err := seed.Output()
					if err != nil {
						b.Fatalf("seed listing: %v", err)
					}
					// The state as the loop keeps it: the listing itself.
					seed = shellCommand(context.Background(), sh, Compact(libSource+listSource)+"N=s\nsetup\nW=$TMPDIR/s\nmkdir -p $W\nlist && cp $W/cur \"$WBO_STATE_FILE\"\n")
					seed.Env = env
					if o, err := seed.CombinedOutput(); err != nil {
						b.Fatalf("seed state: %v\n%s", err, o)
					}
					var cpu float64
					for b.Loop() {
						cmd := shellCommand(context.Background(), sh, BackupScript)
						cmd.Env = env
						if o, err := cmd.CombinedOutput(); err != nil || len(o) != 0 {
							b.Fatalf("sync: %v\n%s", err, o)
						}
						cpu += (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
					}
					b.ReportMetric(cpu*1000/float64(b.N), "cpu-ms/sync")
					b.ReportMetric(float64(strings.Count(string(out), "\n")), "boards-owned")
				})
			}
		}
	}
}
