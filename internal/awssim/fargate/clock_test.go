package fargate

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestClockCommand: the clock command prints the clock's time as date +%s
// does, and its sleep returns once the clock has moved that far, not before.
func TestClockCommand(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("the clock command needs curl")
	}
	start := time.Unix(1_800_000_000, 0)
	c := NewClock(t, start.Add(300*time.Millisecond))
	run := func(args ...string) *exec.Cmd {
		cmd := exec.Command(c.Command(), args...)
		cmd.Env = append(os.Environ(), "WBO_TEST_CLOCK_WHO=probe")
		return cmd
	}
	out, err := run("+%s").Output()
	if err != nil || strings.TrimSpace(string(out)) != "1800000000" {
		t.Fatalf("clock +%%s = %q (%v), want the start in whole seconds", out, err)
	}

	sleep := run("2")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var werr error
	go func() { werr = sleep.Wait(); close(exited) }()
	if !c.WaitAsleep(t, time.Minute, exited, "probe") {
		t.Fatalf("sleep 2 returned before the clock moved: %v", werr)
	}
	c.Advance(time.Second)
	if !c.Asleep("probe") {
		t.Fatal("sleep 2 ended after 1 s of the clock")
	}
	c.Advance(time.Second)
	select {
	case <-exited:
		if werr != nil {
			t.Fatalf("sleep 2: %v", werr)
		}
	case <-time.After(time.Minute): // a hang detector only
		t.Fatal("sleep 2 still running after the clock moved 2 s")
	}
	if c.Sleeps("probe") != 1 || c.Asleep("probe") {
		t.Errorf("sleeps %d, asleep %v; want 1 and false", c.Sleeps("probe"), c.Asleep("probe"))
	}
	if out, err := run("1.5").CombinedOutput(); err == nil {
		t.Errorf("sleep 1.5 succeeded (%s); the scripts only sleep whole seconds", out)
	}
}

// TestClockTimers: AfterFunc fires once the clock reaches its time, in
// Advance; a stopped timer never fires.
func TestClockTimers(t *testing.T) {
	c := NewClock(t, time.Unix(1_800_000_000, 0))
	var fired []string
	c.AfterFunc(2*time.Second, func() { fired = append(fired, "2s") })
	stop := c.AfterFunc(time.Second, func() { fired = append(fired, "stopped") })
	c.AfterFunc(time.Second, func() { fired = append(fired, "1s") })
	if !stop() || stop() {
		t.Error("stop: want true for a pending timer, then false")
	}
	c.Advance(time.Second)
	if strings.Join(fired, ",") != "1s" {
		t.Fatalf("after 1 s fired %v, want [1s]", fired)
	}
	c.Advance(5 * time.Second)
	if strings.Join(fired, ",") != "1s,2s" {
		t.Fatalf("after 6 s fired %v, want [1s 2s]", fired)
	}
	if got := c.Now(); !got.Equal(time.Unix(1_800_000_006, 0)) {
		t.Errorf("now %v, want start + 6 s", got)
	}
}

// TestTasksDescribe: a task given by Set is described in its cluster
// (named or by ARN) and MISSING from another, as an unknown task is; every
// call's cluster is recorded.
func TestTasksDescribe(t *testing.T) {
	const arn = "arn:aws:ecs:us-east-1:123456789012:task/wbo/0123"
	ts := NewTasks()
	ts.Set(arn, "STOPPED")
	describe := func(cluster string, tasks ...string) string {
		body, _ := json.Marshal(map[string]any{"cluster": cluster, "tasks": tasks})
		w := httptest.NewRecorder()
		ts.ServeHTTP(w, httptest.NewRequest("POST", "/", bytes.NewReader(body)))
		return strings.TrimSpace(w.Body.String())
	}
	for _, c := range []struct{ cluster, want string }{
		{"wbo", `{"tasks":[{"taskArn":"` + arn + `","lastStatus":"STOPPED","desiredStatus":"STOPPED"}],"failures":[]}`},
		{"arn:aws:ecs:us-east-1:123456789012:cluster/wbo", `{"tasks":[{"taskArn":"` + arn + `","lastStatus":"STOPPED","desiredStatus":"STOPPED"}],"failures":[]}`},
		{"other", `{"tasks":[],"failures":[{"arn":"` + arn + `","reason":"MISSING"}]}`},
		{"", `{"tasks":[],"failures":[{"arn":"` + arn + `","reason":"MISSING"}]}`}, // the default cluster
	} {
		if got := describe(c.cluster, arn); got != c.want {
			t.Errorf("cluster %q: got %s, want %s", c.cluster, got, c.want)
		}
	}
	if got := describe("wbo", arn+"9"); !strings.Contains(got, `"reason":"MISSING"`) {
		t.Errorf("an unknown task: %s", got)
	}
	if got := ts.Clusters(); strings.Join(got, ",") != "wbo,arn:aws:ecs:us-east-1:123456789012:cluster/wbo,other,,wbo" {
		t.Errorf("clusters recorded %q", got)
	}
}
