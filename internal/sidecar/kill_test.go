package sidecar

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/awssim/fargate"
)

// wboModel saves one board as WBO 2.17 documents it
// (server/configuration.mjs, server/persistence/): WBO_SAVE_INTERVAL after
// the last change, but at the latest WBO_MAX_SAVE_DELAY after the first
// unsaved change; each save writes a temp file and renames it into place.
// An edit is acknowledged (broadcast to the board's users) as soon as it is
// applied in memory.
type wboModel struct {
	t                  *testing.T
	path               string
	interval, maxDelay time.Duration

	mu           sync.Mutex
	acks         []time.Time // acks[i]: edit i+1 acknowledged
	firstUnsaved time.Time
	timer        *time.Timer
	dead         bool
	saves        []modelSave
}

type modelSave struct {
	at   time.Time
	upTo int // the edits the file holds: 1..upTo
}

// newWBOModel reads the delays from env as WBO would (milliseconds).
func newWBOModel(t *testing.T, path string, env map[string]string) *wboModel {
	ms := func(k string) time.Duration {
		n, err := strconv.Atoi(env[k])
		if err != nil {
			t.Fatalf("%s=%q: %v", k, env[k], err)
		}
		return time.Duration(n) * time.Millisecond
	}
	m := &wboModel{t: t, path: path, interval: ms("WBO_SAVE_INTERVAL"), maxDelay: ms("WBO_MAX_SAVE_DELAY")}
	if m.maxDelay < m.interval {
		t.Fatalf("WBO refuses to start: max save delay %v below the save interval %v", m.maxDelay, m.interval)
	}
	m.write(0)
	return m
}

func (m *wboModel) edit() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return
	}
	now := time.Now()
	m.acks = append(m.acks, now)
	if m.timer == nil {
		m.firstUnsaved = now
	} else {
		m.timer.Stop()
	}
	due := min(m.interval, m.firstUnsaved.Add(m.maxDelay).Sub(now))
	m.timer = time.AfterFunc(due, m.save)
}

func (m *wboModel) save() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return
	}
	m.timer = nil
	m.write(len(m.acks))
}

// write saves edits 1..n (the caller holds mu or owns m).
func (m *wboModel) write(n int) {
	var b strings.Builder
	b.WriteString("<svg>\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "edit %d\n", i)
	}
	writeLikeWBO(m.t, m.path, b.String())
	m.saves = append(m.saves, modelSave{at: time.Now(), upTo: n})
}

// crash stops the process without saving (no SIGTERM).
func (m *wboModel) crash() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dead = true
	if m.timer != nil {
		m.timer.Stop()
	}
}

// lastEdit is the highest "edit N" in a board body (0 for none).
func lastEdit(body string) int {
	n := 0
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, "edit "); ok {
			if k, err := strconv.Atoi(v); err == nil && k > n {
				n = k
			}
		}
	}
	return n
}

// TestKilledTaskLosesAtMostTheWindow: a board edited twenty times a second
// while the whole task is killed (SIGKILL to WBO and the backup's process
// group: no final sync). WBO's saving is modelled with the save delays
// wbo-deploy gives it (SaveEnv); the backup is the real loop. The edits that
// were acknowledged but are not in S3 span at most WBO's max save delay plus
// the time since the last upload's copy, which the documented window
// (LossWindow: max save delay + sync interval + one sync) bounds.
func TestKilledTaskLosesAtMostTheWindow(t *testing.T) {
	t.Parallel()
	const syncSeconds = 1
	f := newFakeS3(t)
	dir := t.TempDir()
	board := filepath.Join(dir, "board-live.svg")
	wbo := newWBOModel(t, board, SaveEnv(syncSeconds))

	// An aws stand-in in front of the loopback one that logs, for each
	// upload of the staging directory, when its files were copied there
	// (their mtime) and when the upload ended.
	log := filepath.Join(t.TempDir(), "uploads")
	shim := "#!/bin/sh\nup=\nif [ \"$1 $2\" = 's3 cp' ] && [ -d \"$3\" ]; then up=1; for x in \"$3\"/*; do stat -c 'COPY %.9Y' \"$x\"; done >> '" + log + "'; fi\n" +
		"'" + f.aws + "' --endpoint-url \"$WBO_TEST_ENDPOINT\" \"$@\"\nrc=$?\n" +
		"[ -z \"$up\" ] || echo \"END $(date +%s.%N) $rc\" >> '" + log + "'\nexit $rc\n"
	writeFile(t, filepath.Join(f.dir, "bin", "aws"), shim)
	if err := os.Chmod(filepath.Join(f.dir, "bin", "aws"), 0o755); err != nil {
		t.Fatal(err)
	}

	cmd := shellCommand(t.Context(), "sh", BackupScript)
	cmd.Env = f.env(f.url, shardVars(dir, nil, "WBO_SYNC_INTERVAL", strconv.Itoa(syncSeconds)))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := fargate.NewLineLog()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = pw.Close()
	go out.Scan(pr)
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	if !out.WaitFor("watching", hang, nil) {
		t.Fatalf("backup never started:\n%s", out.String())
	}

	// Edit for at least six sync intervals (and six max save delays) and
	// until two uploads made during the edits completed (however slow the
	// machine: no timing is assumed), then kill.
	tick := time.NewTicker(50 * time.Millisecond)
	start := time.Now()
	for ; ; <-tick.C {
		wbo.edit()
		b, _ := os.ReadFile(log)
		if time.Since(start) >= 6*syncSeconds*time.Second && strings.Count(string(b), " 0\n") >= 3 {
			break
		}
		if time.Since(start) > 3*time.Minute {
			t.Fatalf("fewer than three uploads completed in 3 minutes of editing:\n%s\n%s", b, out.String())
		}
	}
	tick.Stop()
	wbo.crash()
	killed := time.Now()
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	inS3 := lastEdit(f.objects(testPrefix)[testPrefix+"board-live.svg"])
	acked := len(wbo.acks)
	if inS3 == 0 {
		t.Fatalf("no edit of %d reached S3 in %v of continuous editing (WBO saves every %v, backup every %d s):\n%s",
			acked, killed.Sub(start).Round(time.Second), wbo.maxDelay, syncSeconds, out.String())
	}
	// The last completed upload: what it carried was copied at copyAt.
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var copyAt, lastCopy, endAt time.Time
	var longest time.Duration
	for _, l := range strings.Split(string(b), "\n") {
		fs := strings.Fields(l)
		if len(fs) < 2 {
			continue
		}
		v, _ := strconv.ParseFloat(fs[1], 64)
		at := time.Unix(0, int64(v*1e9))
		switch {
		case fs[0] == "COPY":
			copyAt = at
		case fs[0] == "END" && len(fs) == 3 && fs[2] == "0" && at.Before(killed):
			lastCopy, endAt = copyAt, at
			longest = max(longest, at.Sub(copyAt))
		}
	}
	if lastCopy.IsZero() {
		t.Fatalf("no upload completed before the kill; log:\n%s", b)
	}
	// S3 holds the latest save made before that copy (file timestamps are
	// coarse: a save within 20 ms of the copy may or may not be in it).
	want := 0
	for _, s := range wbo.saves {
		if s.at.Before(lastCopy.Add(-20 * time.Millisecond)) {
			want = s.upTo
		}
	}
	if inS3 < want {
		t.Errorf("S3 holds edits 1..%d, but WBO had saved 1..%d before the last upload copied the board", inS3, want)
	}
	lost := time.Duration(0)
	if inS3 < acked {
		lost = killed.Sub(wbo.acks[inS3]) // the oldest edit not in S3
	}
	var maxGap time.Duration
	for i := 1; i < len(wbo.saves); i++ {
		maxGap = max(maxGap, wbo.saves[i].at.Sub(wbo.saves[i-1].at))
	}
	// The loss is bounded by the save gap plus the time since the copy;
	// with a sync on time (the interval, then the upload) that is the
	// documented window.
	if bound := maxGap + killed.Sub(lastCopy) + 50*time.Millisecond; lost > bound {
		t.Errorf("lost %v of edits: more than the longest save gap %v plus the %v since the last upload's copy", lost, maxGap, killed.Sub(lastCopy))
	}
	t.Logf("acknowledged %d edits, %d in S3: lost %d, the last %v (documented window %v with this run's longest upload %v; "+
		"longest WBO save gap %v, last upload ended %v before the kill)", acked, inS3, acked-inS3, lost.Round(time.Millisecond),
		LossWindow(syncSeconds, longest).Round(time.Millisecond), longest.Round(time.Millisecond), maxGap.Round(time.Millisecond),
		killed.Sub(endAt).Round(time.Millisecond))
}
