package sidecar

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/shard"
)

// firstWords start generated board names: every kind of first character a
// WBO name can have (letters, digits, _ ~ ( ), accented Latin, Cyrillic,
// Greek, CJK, Hangul, emoji).
var firstWords = []string{
	"abc", "zeta", "kelu", "9lives", "0day", "_under", "~tilde", "(paren)", ")close",
	"тест", "жук", "яблоко", "ёлка", "σοφία", "ωmega", "日本語", "中文", "한글", "😀party", "🎨art",
	"café", "élan", "ñandú", "über", "øst", "ßtraße", "ça", "àla", "اختبار", "עברית",
}

// generatedBoards makes n distinct board files: random first word, raw
// (current WBO) or percent-encoded (older WBO) name, .svg or .json.
func generatedBoards(r *rand.Rand, n int) map[string]string {
	out := map[string]string{}
	for len(out) < n {
		name := fmt.Sprintf("%s-%d", firstWords[r.IntN(len(firstWords))], r.IntN(1_000_000))
		if r.IntN(3) == 0 {
			name = shard.EncodeURIComponent(name)
			if r.IntN(2) == 0 {
				name = strings.ToLower(name) // lower-case hex: still the same key
			}
		}
		ext := ".svg"
		if r.IntN(5) == 0 {
			ext = ".json"
		}
		out["board-"+name+ext] = fmt.Sprintf("<svg>%s %d</svg>", name, r.Int())
	}
	return out
}

// owns filters boards down to those whose key is in keys.
func owns(t *testing.T, boards map[string]string, keys []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, body := range boards {
		if slices.Contains(keys, keyOfFile(t, name)) {
			out[name] = body
		}
	}
	return out
}

func TestShardsNeverTouchEachOthersBoards(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	boards := fixtureBoards()
	maps.Copy(boards, generatedBoards(rand.New(rand.NewPCG(7, 8)), 40))
	for name, body := range boards {
		f.put(testPrefix+name, body)
	}
	keys := partition(2)
	dirs := []string{filepath.Join(t.TempDir(), "data"), filepath.Join(t.TempDir(), "data")}

	for i, dir := range dirs {
		r := f.run("sh", RestoreScript, shardVars(dir, keys[i]))
		if r.code != 0 {
			t.Fatalf("shard %d restore exited %d:\n%s", i, r.code, r.stderr)
		}
		want := owns(t, boards, keys[i])
		if len(want) == 0 || len(want) == len(boards) {
			t.Fatalf("shard %d owns %d of %d boards: the partition does not split the fixture", i, len(want), len(boards))
		}
		if d := diffMaps(want, dirFiles(t, dir)); d != "" {
			t.Fatalf("shard %d restored:\n%s", i, d)
		}
		for _, req := range r.reqs {
			if req.Method == "GET" && req.Key != "" && !slices.Contains(keys[i], keyOfFile(t, strings.TrimPrefix(req.Key, testPrefix))) {
				t.Errorf("shard %d read %q, a board it does not own", i, req.Key)
			}
		}
	}

	// Each shard edits its boards; shard 0 also gets a file of a board that
	// shard 1 owns (a misrouted request). Each backs up (one-shot, no state:
	// uploads every board file it owns).
	var foreign string
	for name := range owns(t, boards, keys[1]) {
		foreign = name
		break
	}
	writeFile(t, filepath.Join(dirs[0], foreign), "misrouted copy")
	for i, dir := range dirs {
		for name, body := range owns(t, boards, keys[i]) {
			writeLikeWBO(t, filepath.Join(dir, name), body+fmt.Sprintf(" edited by %d", i))
		}
	}
	for i, dir := range dirs {
		r := f.run("sh", BackupScript, shardVars(dir, keys[i], "WBO_BACKUP_ONCE", "1"))
		if r.code != 0 {
			t.Fatalf("shard %d backup exited %d:\n%s", i, r.code, r.stderr)
		}
		puts, dels := writes(r.reqs)
		if len(puts) != len(owns(t, boards, keys[i])) || len(dels) != 0 {
			t.Errorf("shard %d wrote %d objects and deleted %d; want %d and 0", i, len(puts), len(dels), len(owns(t, boards, keys[i])))
		}
		for _, k := range puts {
			if !slices.Contains(keys[i], keyOfFile(t, strings.TrimPrefix(k, testPrefix))) {
				t.Errorf("shard %d wrote %q, a board it does not own", i, k)
			}
		}
	}
	got := f.objects(testPrefix)
	if got[testPrefix+foreign] != boards[foreign]+" edited by 1" {
		t.Errorf("%s in S3 is %q: the owner's copy was overwritten", foreign, got[testPrefix+foreign])
	}
}

func TestReshardTwoToThree(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	boards := fixtureBoards()
	maps.Copy(boards, generatedBoards(rand.New(rand.NewPCG(9, 10)), 60))
	for name, body := range boards {
		f.put(testPrefix+name, body)
	}

	// Two shards run, edit every board, and stop (final backup).
	latest := map[string]string{}
	for i, keys := range partition(2) {
		dir := filepath.Join(t.TempDir(), "data")
		if r := f.run("sh", RestoreScript, shardVars(dir, keys)); r.code != 0 {
			t.Fatalf("old shard %d restore exited %d:\n%s", i, r.code, r.stderr)
		}
		for name, body := range dirFiles(t, dir) {
			latest[name] = body + " v2"
			writeLikeWBO(t, filepath.Join(dir, name), latest[name])
		}
		if r := f.run("sh", BackupScript, shardVars(dir, keys, "WBO_BACKUP_ONCE", "1")); r.code != 0 {
			t.Fatalf("old shard %d backup exited %d:\n%s", i, r.code, r.stderr)
		}
	}
	if d := diffMaps(boards, strip(latest, " v2")); d != "" {
		t.Fatalf("the two old shards together did not hold every board:\n%s", d)
	}

	// Three new shards restore: every board exactly once, latest content.
	owner := map[string]int{}
	for i, keys := range partition(3) {
		dir := filepath.Join(t.TempDir(), "data")
		if r := f.run("sh", RestoreScript, shardVars(dir, keys)); r.code != 0 {
			t.Fatalf("new shard %d restore exited %d:\n%s", i, r.code, r.stderr)
		}
		for name, body := range dirFiles(t, dir) {
			if prev, dup := owner[name]; dup {
				t.Errorf("%s restored by shards %d and %d", name, prev, i)
			}
			owner[name] = i
			if body != latest[name] {
				t.Errorf("%s on new shard %d is %q, want %q", name, i, body, latest[name])
			}
		}
	}
	for name := range boards {
		if _, ok := owner[name]; !ok {
			t.Errorf("%s lost in the re-shard", name)
		}
	}
}

func strip(m map[string]string, suffix string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = strings.TrimSuffix(v, suffix)
	}
	return out
}

// TestOwnedMatchesGoKeys checks the scripts' idea of ownership (shell globs,
// byte by byte) against internal/shard for many file names, without S3.
func TestOwnedMatchesGoKeys(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 12))
	boards := generatedBoards(r, 600)
	maps.Copy(boards, fixtureBoards())
	dir := t.TempDir()
	writeBoards(t, dir, boards)
	for _, name := range tempFiles {
		writeFile(t, filepath.Join(dir, name), "temp")
	}
	if err := os.Mkdir(filepath.Join(dir, "board-dir.svg"), 0o755); err != nil {
		t.Fatal(err)
	}
	partitions := [][][]byte{partition(3), partition(7), {nil}}
	// A random split too, so keys are not just residues.
	var a, b []byte
	for _, k := range shard.AllKeys() {
		if r.IntN(2) == 0 {
			a = append(a, k)
		} else {
			b = append(b, k)
		}
	}
	partitions = append(partitions, [][]byte{a, b})
	for _, sh := range shells(t) {
		for pi, part := range partitions {
			seen := map[string]int{}
			for si, keys := range part {
				cmd := shellCommand(context.Background(), sh, Compact(libSource)+"N=test\nkeypats\nowned\n")
				cmd.Dir = dir
				cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "WBO_SHARD_KEYS=" + shard.FormatKeys(keys)}
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("%s: owned: %v", sh, err)
				}
				got := strings.Fields(string(out))
				for _, name := range got {
					seen[name]++
				}
				want := boards
				if keys != nil {
					want = owns(t, boards, keys)
				}
				wantNames := slices.Sorted(maps.Keys(want))
				slices.Sort(got)
				if !slices.Equal(got, wantNames) {
					t.Fatalf("%s partition %d shard %d: owned lists %d files, Go expects %d\n%s", sh, pi, si, len(got), len(wantNames),
						diffMaps(setOf(wantNames), setOf(got)))
				}
			}
			for name := range boards {
				if seen[name] != 1 {
					t.Fatalf("%s partition %d: %s owned by %d shards", sh, pi, name, seen[name])
				}
			}
		}
	}
}

func setOf(names []string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		out[n] = ""
	}
	return out
}

// TestRestoreSelectsOwnedBoardsLikeGo checks the CLI side of ownership (the
// --include patterns, matched by Python against Unicode keys) the same way.
func TestRestoreSelectsOwnedBoardsLikeGo(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	boards := generatedBoards(rand.New(rand.NewPCG(13, 14)), 300)
	for name, body := range boards {
		f.put(testPrefix+name, body)
	}
	for i, keys := range partition(3) {
		dir := filepath.Join(t.TempDir(), "data")
		r := f.run("sh", RestoreScript, shardVars(dir, keys))
		if r.code != 0 {
			t.Fatalf("shard %d restore exited %d:\n%s", i, r.code, r.stderr)
		}
		if d := diffMaps(owns(t, boards, keys), dirFiles(t, dir)); d != "" {
			t.Fatalf("shard %d restored:\n%s", i, d)
		}
	}
}
