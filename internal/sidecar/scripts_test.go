package sidecar

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// fixtureBoards are board files as WBO leaves them: raw UTF-8 names (current
// WBO), percent-encoded names and .json files (older WBO), every kind of
// first character. Contents are arbitrary bytes.
func fixtureBoards() map[string]string {
	return map[string]string{
		"board-abc.svg":                     "<svg>abc \x00\xff</svg>",
		"board-bamoti-kelu-zaro-vifena.svg": "<svg>random</svg>",
		"board-тест.svg":                    "<svg>тест</svg>",
		"board-%D0%B6%D1%83%D0%BA.json":     `{"жук":1}`,
		"board-日本語.svg":                     "<svg>日本語</svg>",
		"board-%E4%B8%AD%E6%96%87.svg":      "<svg>中文</svg>",
		"board-café.svg":                    "<svg>café</svg>",
		"board-élan.svg":                    "<svg>élan</svg>",
		"board-(x)y.svg":                    "<svg>paren</svg>",
		"board-~tilde.svg":                  "<svg>tilde</svg>",
		"board-_under.svg":                  "<svg>under</svg>",
		"board-9lives.svg":                  "<svg>9</svg>",
		"board-Upper.json":                  `{"upper":true}`,
		"board-😀party.svg":                  "<svg>emoji</svg>",
	}
}

// tempFiles are WBO's transient files (and a stray file) that must never be
// uploaded or restored.
var tempFiles = []string{
	"board-abc.svg.bak",
	"board-abc.svg.bak.1700000000000.7.tmp",
	"board-abc.svg.1700000000000.3.quarantine",
	"board-тест.svg.bak",
	"notes.txt",
}

func writeBoards(t *testing.T, dir string, boards map[string]string) {
	t.Helper()
	for name, body := range boards {
		writeFile(t, filepath.Join(dir, name), body)
	}
}

func TestRestoreBackupRoundTrip(t *testing.T) {
	t.Parallel()
	for _, sh := range shells(t) {
		t.Run(sh, func(t *testing.T) {
			t.Parallel()
			testRoundTrip(t, sh)
		})
	}
}

func testRoundTrip(t *testing.T, sh string) {
	f := newFakeS3(t)
	outside := map[string]string{
		"board-abc.svg":            "root object, outside the prefix",
		"other/board-abc.svg":      "other prefix",
		"boards-old/board-abc.svg": "look-alike prefix",
		"boards/notes.txt":         "not a board, inside the prefix",
		"boards/sub/board-x.svg":   "nested, not a board of this directory",
	}
	for k, v := range outside {
		f.put(k, v)
	}

	// 1. A directory with boards and temp files is backed up (one-shot mode
	//    without state uploads every board).
	src := t.TempDir()
	boards := fixtureBoards()
	writeBoards(t, src, boards)
	for _, name := range tempFiles {
		writeFile(t, filepath.Join(src, name), "temp")
	}
	state := filepath.Join(t.TempDir(), "state")
	r := f.run(sh, BackupScript, shardVars(src, nil, "WBO_BACKUP_ONCE", "1", "WBO_STATE_FILE", state))
	if r.code != 0 {
		t.Fatalf("first backup exited %d:\n%s", r.code, r.stderr)
	}
	assertOnlyBoardWrites(t, r.reqs)
	want := withPrefix(boards)
	maps.Copy(want, map[string]string{"boards/notes.txt": outside["boards/notes.txt"], "boards/sub/board-x.svg": outside["boards/sub/board-x.svg"]})
	if d := diffMaps(want, f.objects(testPrefix)); d != "" {
		t.Fatalf("objects after first backup:\n%s", d)
	}

	// 2. Restore into a directory that does not exist yet: exactly the boards.
	dir1 := filepath.Join(t.TempDir(), "data")
	r = f.run(sh, RestoreScript, shardVars(dir1, nil))
	if r.code != 0 {
		t.Fatalf("restore exited %d:\n%s", r.code, r.stderr)
	}
	if d := diffMaps(boards, dirFiles(t, dir1)); d != "" {
		t.Fatalf("restored directory:\n%s", d)
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("restored %d boards", len(boards))) {
		t.Errorf("restore did not report %d boards:\n%s", len(boards), r.stderr)
	}
	assertOwner(t, dir1, os.Getuid(), os.Getgid())

	// 3. The backup loop starts on the restored directory (its state is the
	//    directory as restored, already in S3); WBO rewrites boards (one with
	//    the same size within the same second), adds one, deletes one, leaves
	//    temp files around, then is stopped; SIGTERM to the backup makes its
	//    final sync send exactly those changes, and it exits 0.
	loop := f.start(sh, BackupScript, shardVars(dir1, nil, "WBO_SYNC_INTERVAL", "3600"), "watching")
	writeLikeWBO(t, filepath.Join(dir1, "board-abc.svg"), "<svg>ABC \x00\xfe</svg>") // same size
	writeLikeWBO(t, filepath.Join(dir1, "board-тест.svg"), "<svg>тест v2, longer</svg>")
	writeLikeWBO(t, filepath.Join(dir1, "board-new.svg"), "<svg>new</svg>")
	if err := os.Remove(filepath.Join(dir1, "board-café.svg")); err != nil {
		t.Fatal(err)
	}
	for _, name := range tempFiles {
		writeFile(t, filepath.Join(dir1, name), "temp again")
	}
	if code := loop.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("backup loop exited %d after SIGTERM:\n%s", code, loop.out.String())
	}
	if !strings.Contains(loop.out.String(), "final sync done") {
		t.Errorf("backup loop output lacks the final sync:\n%s", loop.out.String())
	}
	r.reqs = f.takeRequests()
	assertOnlyBoardWrites(t, r.reqs)
	puts, dels := writes(r.reqs)
	slices.Sort(puts)
	if w := []string{"boards/board-abc.svg", "boards/board-new.svg", "boards/board-тест.svg"}; strings.Join(puts, " ") != strings.Join(w, " ") {
		t.Errorf("second backup uploaded %q, want exactly the changed boards %q", puts, w)
	}
	if w := []string{"boards/board-café.svg"}; strings.Join(dels, " ") != strings.Join(w, " ") {
		t.Errorf("second backup deleted %q, want %q", dels, w)
	}

	// 4. A new restore into an empty directory gives back the latest boards.
	dir2 := filepath.Join(t.TempDir(), "data")
	r = f.run(sh, RestoreScript, shardVars(dir2, nil))
	if r.code != 0 {
		t.Fatalf("second restore exited %d:\n%s", r.code, r.stderr)
	}
	if d := diffMaps(boardFiles(dirFiles(t, dir1)), dirFiles(t, dir2)); d != "" {
		t.Fatalf("second restore differs from the latest directory:\n%s", d)
	}

	// 5. Nothing outside the boards changed; the deleted board is recoverable.
	all := f.objects("")
	for k, v := range outside {
		if all[k] != v {
			t.Errorf("object %q outside the board files changed: %q", k, all[k])
		}
	}
	if v, m := f.versions("boards/board-café.svg"); v != 1 || m != 1 {
		t.Errorf("deleted board has %d versions and %d delete markers, want 1 and 1", v, m)
	}
	if v, _ := f.versions("boards/board-abc.svg"); v != 2 {
		t.Errorf("rewritten board has %d versions, want 2", v)
	}
}

// writes returns the object keys PUT and DELETEd, sorted by request order.
func writes(reqs []s3req) (puts, dels []string) {
	for _, r := range reqs {
		switch r.Method {
		case "PUT", "POST":
			puts = append(puts, r.Key)
		case "DELETE":
			dels = append(dels, r.Key)
		}
	}
	return puts, dels
}

// assertOnlyBoardWrites checks every write went to a board object under the
// prefix: no temp file, nothing outside the prefix.
func assertOnlyBoardWrites(t *testing.T, reqs []s3req) {
	t.Helper()
	puts, dels := writes(reqs)
	for _, k := range append(puts, dels...) {
		name, ok := strings.CutPrefix(k, testPrefix)
		if !ok || strings.Contains(name, "/") || !isBoardFile(name) {
			t.Errorf("write to %q, which is not a board object under %q", k, testPrefix)
		}
	}
}

func assertOwner(t *testing.T, dir string, uid, gid int) {
	t.Helper()
	paths := []string{dir}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		paths = append(paths, filepath.Join(dir, e.Name()))
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if int(st.Uid) != uid || int(st.Gid) != gid {
			t.Errorf("%s owned by %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, gid)
		}
	}
}

func TestRestoreGivesBoardsToWBOUser(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	if os.Getuid() != 0 {
		t.Skip("giving files to uid 1000 needs root; the other tests cover chown to the current user")
	}
	f.put("boards/board-abc.svg", "x")
	dir := filepath.Join(t.TempDir(), "data")
	vars := shardVars(dir, nil)
	delete(vars, "WBO_UID")
	delete(vars, "WBO_GID")
	r := f.run("sh", RestoreScript, vars)
	if r.code != 0 {
		t.Fatalf("restore exited %d:\n%s", r.code, r.stderr)
	}
	assertOwner(t, dir, 1000, 1000) // WBO's user in the lovasoa/wbo image
}

func TestRestoreFailsWhenS3Fails(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	f.put("boards/board-abc.svg", "x")
	t.Run("unreachable endpoint", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		r := f.runAt(closedEndpoint(t), "sh", RestoreScript, shardVars(dir, nil, "AWS_MAX_ATTEMPTS", "1"))
		if r.code == 0 {
			t.Fatalf("restore exited 0 with S3 unreachable:\n%s", r.stderr)
		}
		if !strings.Contains(r.stderr, "copy from s3://"+testBucket+"/"+testPrefix+" failed") {
			t.Errorf("restore output does not say what failed:\n%s", r.stderr)
		}
	})
	t.Run("missing bucket", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		r := f.run("sh", RestoreScript, shardVars(dir, nil, "WBO_BUCKET", "no-such-bucket"))
		if r.code == 0 {
			t.Fatalf("restore exited 0 for a missing bucket:\n%s", r.stderr)
		}
		if !strings.Contains(r.stderr, "NoSuchBucket") {
			t.Errorf("restore output does not name the missing bucket:\n%s", r.stderr)
		}
	})
}

func TestScriptsRejectBadSettings(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t)
	dir := t.TempDir()
	cases := []struct {
		name, want string
		vars       map[string]string
	}{
		{"upper-case letter key", "WBO_SHARD_KEYS: key 41", shardVars(dir, nil, "WBO_SHARD_KEYS", "61 41")},
		{"bad hex", "WBO_SHARD_KEYS: \"6g\"", shardVars(dir, nil, "WBO_SHARD_KEYS", "6g")},
		{"upper-case hex", "WBO_SHARD_KEYS: \"D0\"", shardVars(dir, nil, "WBO_SHARD_KEYS", "D0")},
		{"duplicate key", "key 61 is listed twice", shardVars(dir, nil, "WBO_SHARD_KEYS", "61 62 61")},
		{"no bucket", "WBO_BUCKET is not set", shardVars(dir, nil, "WBO_BUCKET", "")},
		{"relative dir", "WBO_DATA_DIR must be an absolute path", shardVars("data", nil)},
		{"lease name with a slash", "WBO_LEASE_NAME: \"a/b\"", shardVars(dir, nil, "WBO_LEASE_NAME", "a/b")},
		{"hidden lease name", "WBO_LEASE_NAME: \".x\"", shardVars(dir, nil, "WBO_LEASE_NAME", ".x")},
		{"zero lease ttl", "WBO_LEASE_TTL must be", shardVars(dir, nil, "WBO_LEASE_NAME", "s", "WBO_LEASE_TTL", "0")},
		{"octal-looking lease wait", "WBO_LEASE_WAIT must be", shardVars(dir, nil, "WBO_LEASE_NAME", "s", "WBO_LEASE_WAIT", "010")},
		{"bad lease poll", "WBO_LEASE_POLL must be", shardVars(dir, nil, "WBO_LEASE_NAME", "s", "WBO_LEASE_POLL", "1s")},
		{"bad cluster", "WBO_CLUSTER: \"a/b\"", shardVars(dir, nil, "WBO_LEASE_NAME", "s", "WBO_CLUSTER", "a/b")},
	}
	for _, c := range cases {
		for _, script := range []struct{ name, text string }{{"restore", RestoreScript}, {"backup", BackupScript}} {
			t.Run(c.name+"/"+script.name, func(t *testing.T) {
				vars := maps.Clone(c.vars)
				vars["WBO_BACKUP_ONCE"] = "1"
				r := f.run("sh", script.text, vars)
				if r.code == 0 || !strings.Contains(r.stderr, c.want) {
					t.Fatalf("exit %d, output %q; want failure mentioning %q", r.code, r.stderr, c.want)
				}
				if len(r.reqs) != 0 {
					t.Fatalf("made %d S3 requests before rejecting its settings", len(r.reqs))
				}
			})
		}
	}
	r := f.run("sh", BackupScript, shardVars(dir, nil, "WBO_SYNC_INTERVAL", "0"))
	if r.code == 0 || !strings.Contains(r.stderr, "WBO_SYNC_INTERVAL") {
		t.Fatalf("backup accepted WBO_SYNC_INTERVAL=0: exit %d, %q", r.code, r.stderr)
	}
}
