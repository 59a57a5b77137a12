package sidecar

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ecsTasks answers DescribeTasks (ECS JSON 1.1 protocol, Amazon ECS API
// reference) from a map of task ARN to lastStatus, AccessDenied when denied
// is set, and records the cluster each call named.
type ecsTasks struct {
	mu       sync.Mutex
	status   map[string]string
	denied   bool
	clusters []string
}

func (e *ecsTasks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Cluster string   `json:"cluster"`
		Tasks   []string `json:"tasks"`
	}
	_ = json.NewDecoder(r.Body).Decode(&in)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clusters = append(e.clusters, in.Cluster)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DescribeTasks") {
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"__type":"InvalidParameterException","message":"unexpected call"}`))
		return
	}
	if e.denied {
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"__type":"AccessDeniedException","message":"User is not authorized to perform: ecs:DescribeTasks"}`))
		return
	}
	type task struct {
		TaskArn    string `json:"taskArn"`
		LastStatus string `json:"lastStatus"`
	}
	type failure struct {
		Arn    string `json:"arn"`
		Reason string `json:"reason"`
	}
	out := struct {
		Tasks    []task    `json:"tasks"`
		Failures []failure `json:"failures"`
	}{Tasks: []task{}, Failures: []failure{}}
	for _, t := range in.Tasks {
		if s, ok := e.status[t]; ok {
			out.Tasks = append(out.Tasks, task{t, s})
		} else {
			out.Failures = append(out.Failures, failure{t, "MISSING"})
		}
	}
	_ = json.NewEncoder(w).Encode(out)
}

// TestLeaseOfStoppedTaskDoesNotBlock: a lease with a fresh heartbeat whose
// holder (a task ARN) ECS reports stopped is no reason to wait; a running
// holder, an unknown one or a failed lookup means waiting as before.
func TestLeaseOfStoppedTaskDoesNotBlock(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:ecs:us-east-1:123456789012:task/wbo/0123456789abcdef0123456789abcdef"
	cases := []struct {
		name, status string
		denied       bool
		wait         int
		want         string
	}{
		{name: "stopped", status: "STOPPED", wait: 600, want: "lease " + testLease + " is held by " + arn + ", which ECS reports STOPPED"},
		{name: "running", status: "RUNNING", wait: 2, want: "giving up waiting"},
		{name: "unknown", wait: 2, want: "giving up waiting"},
		{name: "denied", denied: true, wait: 2, want: "cannot look up " + arn + " in cluster wbo"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeS3(t)
			e := &ecsTasks{status: map[string]string{}, denied: c.denied}
			if c.status != "" {
				e.status[arn] = c.status
			}
			f.mu.Lock()
			f.ecs = e
			f.mu.Unlock()
			f.put(testPrefix+"board-a.svg", "a")
			putLease(f, arn, time.Now().Unix())
			dir := filepath.Join(t.TempDir(), "data")
			r := f.run("sh", RestoreScript, leaseVars(dir, 600, c.wait, "WBO_CLUSTER", "wbo"))
			if r.code != 0 {
				t.Fatalf("restore exited %d:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("restore output lacks %q:\n%s", c.want, r.stderr)
			}
			if c.wait == 600 && strings.Contains(r.stderr, "giving up") {
				t.Errorf("restore waited for a stopped task's lease:\n%s", r.stderr)
			}
			if d := diffMaps(map[string]string{"board-a.svg": "a"}, boardFiles(dirFiles(t, dir))); d != "" {
				t.Fatalf("restored:\n%s", d)
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			if len(e.clusters) == 0 {
				t.Fatal("restore never asked ECS about the lease holder")
			}
			for _, cl := range e.clusters {
				if cl != "wbo" {
					t.Errorf("DescribeTasks named cluster %q, want wbo", cl)
				}
			}
			if c.denied && len(e.clusters) != 1 {
				t.Errorf("restore asked ECS %d times after an AccessDenied, want once", len(e.clusters))
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
