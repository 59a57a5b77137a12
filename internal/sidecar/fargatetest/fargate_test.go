// Package fargatetest runs the restore and backup scripts as Fargate runs
// them (a package of its own, so that these minutes-long tests have their
// own go test timeout beside internal/sidecar's script tests): from the task
// definition the tool generates (provision.TaskDefinitionFor), each
// container in a sandbox with the AWS CLI image's entry point, user,
// environment and read-only root, only the declared volumes writable, the
// dependsOn order, and S3 behind the task role's policy as the tool
// generates it (provision.TaskRolePolicyFor).
package fargatetest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/johannesboyne/gofakes3"

	"github.com/wbo-deploy/wbo-deploy/internal/awssim/fargate"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
	"github.com/wbo-deploy/wbo-deploy/internal/shard"
)

const (
	fgAccount = "123456789012"
	fgRegion  = "us-east-1"
	fgBucket  = "wbo-boards-fargate"
	fgRole    = "arn:aws:iam::123456789012:role/wbo-deploy/wbo-task"
	fgWait    = 240 * time.Second
)

// fgStack is the tool's view of a two-shard stack.
type fgStack struct {
	cfg  *config.Config
	refs provision.TaskRefs
}

func newStack(t *testing.T) fgStack {
	t.Helper()
	cfg := config.Default()
	cfg.Region = fgRegion
	cfg.Storage.SyncInterval = 5
	return fgStack{cfg: &cfg, refs: provision.TaskRefs{Account: fgAccount, Region: fgRegion, Bucket: fgBucket,
		TaskRoleARN: fgRole, ExecRoleARN: "arn:aws:iam::123456789012:role/wbo-deploy/wbo-execution",
		LogGroup: "/wbo-deploy/wbo", RedisURL: "redis://127.0.0.1:9"}}
}

func (s fgStack) taskDef(t *testing.T, index int) *ecs.RegisterTaskDefinitionInput {
	t.Helper()
	def, err := provision.TaskDefinitionFor(s.cfg, index, s.refs)
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// s3WithRole is the loopback S3 with the task role holding policy.
func (s fgStack) s3WithRole(t *testing.T, policy string) *fargate.S3 {
	t.Helper()
	srv := fargate.NewS3(t, fgBucket)
	pols, err := fargate.ParsePolicies(policy)
	if err != nil {
		t.Fatal(err)
	}
	srv.AddRole(fgRole, pols)
	return srv
}

func (s fgStack) policy(t *testing.T) string {
	t.Helper()
	p, err := provision.TaskRolePolicyFor(s.cfg, s.refs)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wboImage stands in for the WBO image (user 1000:1000, as the image
// runs): it prints the boards it finds; once the test drops .edit in the
// board directory it saves an edit of own the way WBO does (temp file,
// rename); on SIGTERM it saves fresh before exiting, as WBO flushes its
// boards when stopped.
// With fresh "" it has no SIGTERM handler: as PID 1 it then ignores
// SIGTERM, like a hung process, until its stopTimeout's SIGKILL.
func wboImage(t *testing.T, own, fresh string) fargate.Image {
	trap := ""
	if fresh != "" {
		trap = fmt.Sprintf(`trap 'printf flushed > %[1]s.tmp && mv %[1]s.tmp %[1]s && echo "wbo: flushed" && exit 0; exit 1' TERM`, fresh)
	}
	script := fmt.Sprintf(`cd "$WBO_HISTORY_DIR" || exit 1
%[2]s
echo "wbo: loaded" board-*
echo "wbo: ready"
while :; do
  if [ -e .edit ]; then
    rm .edit
    printf edited > %[1]s.tmp && mv %[1]s.tmp %[1]s && echo "wbo: edited" || echo "wbo: cannot save"
  fi
  sleep 1 & wait $!
done
`, own, trap)
	return fargate.ScriptImage(t, "1000:1000", script)
}

// boardsOf returns a board file name whose key shard i of n owns.
func boardsOf(t *testing.T, n, i int, skip ...string) string {
	t.Helper()
	keys := shard.Partition(n)[i]
	for c := 'a'; c <= 'z'; c++ {
		name := "board-" + string(c) + "fargate.json"
		if slices.Contains(keys, shard.KeyOfName(string(c)+"fargate")) && !slices.Contains(skip, name) {
			return name
		}
	}
	t.Fatalf("no letter key in shard %d of %d", i, n)
	return ""
}

func runTask(t *testing.T, srv *fargate.S3, def *ecs.RegisterTaskDefinitionInput, cfg *config.Config, wbo fargate.Image) *fargate.Task {
	t.Helper()
	return runTaskOnClock(t, srv, def, cfg, wbo, nil, "")
}

// runTaskOnClock runs the task with its sidecar scripts and the runner's
// timers (stopTimeout) on clk (nil: real time); the scripts call the clock
// as name-restore and name-backup.
func runTaskOnClock(t *testing.T, srv *fargate.S3, def *ecs.RegisterTaskDefinitionInput, cfg *config.Config, wbo fargate.Image, clk *fargate.Clock, name string) *fargate.Task {
	t.Helper()
	o := fargate.FromDefinition(def)
	o.S3, o.Region, o.Account, o.Cluster = srv, fgRegion, fgAccount, "wbo"
	cli := fargate.AWSCLIImage(t, srv.URL)
	if clk != nil {
		cli = clk.AddTo(cli)
		o.Clock = clk
		for _, c := range []string{"restore", "backup"} {
			v := clk.Vars(name + "-" + c)
			setEnv(container(t, def, c), v[0], fargate.ClockMount+"/clock")
			setEnv(container(t, def, c), v[2], v[3])
		}
		o.Containers = def.ContainerDefinitions
	}
	o.Images = map[string]fargate.Image{provision.AWSCLIImage: cli, cfg.App.Image: wbo}
	task, err := fargate.Start(t, o)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func objects(t *testing.T, srv *fargate.S3) map[string]string {
	t.Helper()
	out := map[string]string{}
	list, err := srv.Backend.ListBucket(fgBucket, nil, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list.Contents {
		obj, err := srv.Backend.GetObject(fgBucket, c.Key, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(obj.Contents)
		_ = obj.Contents.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[c.Key] = string(b)
	}
	return out
}

func put(t *testing.T, srv *fargate.S3, key, body string) {
	t.Helper()
	if _, err := srv.Backend.PutObject(fgBucket, key, nil, strings.NewReader(body), int64(len(body)), nil); err != nil {
		t.Fatal(err)
	}
}

func eventIndex(evs []fargate.Event, container, what string) int {
	return slices.IndexFunc(evs, func(e fargate.Event) bool { return e.Container == container && e.What == what })
}

// deniedRequests lists the refused requests, except the GET or HEAD of a
// missing key (403 instead of 404), which the lease reader expects.
func deniedRequests(reqs []fargate.Request) []string {
	var out []string
	for _, r := range reqs {
		for _, d := range r.Denied {
			if !strings.HasSuffix(d, "(missing key)") {
				out = append(out, fmt.Sprintf("%s %s/%s?%s: %s", r.Operation, r.Bucket, r.Key, r.Query, d))
			}
		}
	}
	return out
}

// TestGeneratedTaskRoundTrip runs shard 1's generated task definition:
// restore brings exactly the shard's boards (as root, then gives them to
// WBO's user), WBO starts after restore's SUCCESS and backup's START and can
// write them as uid 1000, and stopping the task stops WBO first and the
// backup after it, whose final sync carries WBO's flush to S3 and releases
// the lease. Every S3 request is allowed by the generated task role policy.
func TestGeneratedTaskRoundTrip(t *testing.T) {
	fargate.RequireSandbox(t)
	t.Parallel()
	st := newStack(t)
	srv := st.s3WithRole(t, st.policy(t))
	own := boardsOf(t, 2, 1)
	fresh := boardsOf(t, 2, 1, own)
	other := boardsOf(t, 2, 0)
	prefix := st.cfg.Storage.Prefix
	put(t, srv, prefix+own, "original")
	put(t, srv, prefix+other, "other shard")
	def := st.taskDef(t, 1)
	// On a test clock that stands still: no stopTimeout can run out on a
	// busy machine, the backup's final sync alone carries the edits.
	clk := fargate.NewClock(t, time.Unix(1_800_000_000, 0))
	task := runTaskOnClock(t, srv, def, st.cfg, wboImage(t, own, fresh), clk, "trip")
	task.WaitOutput("wbo", "wbo: ready", fgWait)
	if out := task.Output("wbo"); !strings.Contains(out, "wbo: loaded "+own+"\n") && !strings.HasSuffix(strings.Split(out, "\n")[0], own) {
		t.Errorf("WBO must find exactly the shard's board %s; output:\n%s", own, out)
	}
	task.WaitOutput("backup", "watching", fgWait)
	// Edit once the backup watches: an edit before the backup has seeded
	// its state from the directory would not be seen as a change.
	if err := os.WriteFile(filepath.Join(task.Volume("boards"), ".edit"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	task.WaitOutput("wbo", "wbo: edited", fgWait)
	stopOnClock(t, task, clk, "trip", "the service deployed a new revision")

	evs := task.Events()
	order := []int{eventIndex(evs, "restore", "start"), eventIndex(evs, "restore", "exit"), eventIndex(evs, "backup", "start"),
		eventIndex(evs, "wbo", "start"), eventIndex(evs, "wbo", "SIGTERM"), eventIndex(evs, "wbo", "exit"),
		eventIndex(evs, "backup", "SIGTERM"), eventIndex(evs, "backup", "exit")}
	if slices.Contains(order, -1) || !slices.IsSorted(order) {
		t.Fatalf("want restore, then backup, then wbo; stop wbo, then backup; events: %v\n%s", evs, task.Logs())
	}
	for _, c := range []string{"restore", "wbo", "backup"} {
		if code, ok := task.ExitCode(c); !ok || code != 0 || task.Killed(c) {
			t.Errorf("container %s: exit %d (exited %v, killed %v), want 0\n%s", c, code, ok, task.Killed(c), task.Logs())
		}
	}
	got := objects(t, srv)
	want := map[string]string{prefix + own: "edited", prefix + fresh: "flushed", prefix + other: "other shard"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("s3 %s = %q, want %q", k, got[k], v)
		}
	}
	for k := range got {
		if strings.Contains(k, ".leases/") {
			t.Errorf("the lease %s was not released after the final sync", k)
		}
	}
	if !strings.Contains(task.Output("backup"), "lease "+aws.ToString(def.Family)+" released") {
		t.Errorf("backup did not release its lease:\n%s", task.Output("backup"))
	}
	if !strings.Contains(task.Output("restore"), "this task is "+task.ARN) {
		t.Errorf("the lease owner must be the task ARN from the metadata endpoint:\n%s", task.Output("restore"))
	}
	if d := deniedRequests(srv.TakeRequests()); len(d) > 0 {
		t.Errorf("requests the task role refused: %v", d)
	}
}

// container returns a pointer to the named definition in def.
func container(t *testing.T, def *ecs.RegisterTaskDefinitionInput, name string) *ecstypes.ContainerDefinition {
	t.Helper()
	for i := range def.ContainerDefinitions {
		if aws.ToString(def.ContainerDefinitions[i].Name) == name {
			return &def.ContainerDefinitions[i]
		}
	}
	t.Fatalf("no container %s", name)
	return nil
}

// setEnv sets a variable of one container; the generated containers may
// share one environment slice, so it is copied first.
func setEnv(c *ecstypes.ContainerDefinition, name, value string) {
	c.Environment = slices.Clone(c.Environment)
	for i, kv := range c.Environment {
		if aws.ToString(kv.Name) == name {
			c.Environment[i].Value = aws.String(value)
			return
		}
	}
	c.Environment = append(c.Environment, ecstypes.KeyValuePair{Name: aws.String(name), Value: aws.String(value)})
}

// TestSabotagedTaskDefinitionsFail: the runner is as strict as Fargate, so
// a definition that would fail there fails here, each with WBO never
// started on an unrestored directory.
func TestSabotagedTaskDefinitionsFail(t *testing.T) {
	fargate.RequireSandbox(t)
	t.Parallel()
	st := newStack(t)
	own := boardsOf(t, 2, 1)
	cases := []struct {
		name     string
		policy   func(string) string
		sabotage func(*ecs.RegisterTaskDefinitionInput)
		failing  string // the container that must fail
		output   string // in its output
		wboRuns  bool   // wbo may have started (it needs backup's START only)
	}{
		{"restore writes outside the volumes", nil, func(d *ecs.RegisterTaskDefinitionInput) {
			setEnv(container(t, d, "restore"), "WBO_DATA_DIR", "/srv/boards")
		}, "restore", "cannot create /srv/boards", false},
		{"backup without its scratch volume", nil, func(d *ecs.RegisterTaskDefinitionInput) {
			c := container(t, d, "backup")
			c.MountPoints = slices.DeleteFunc(c.MountPoints, func(m ecstypes.MountPoint) bool { return aws.ToString(m.ContainerPath) == "/tmp" })
		}, "backup", "cannot create /tmp/wbo-backup", true},
		{"restore without the entry point override", nil, func(d *ecs.RegisterTaskDefinitionInput) {
			container(t, d, "restore").EntryPoint = nil
		}, "restore", "aws: error: argument command: Invalid choice", false},
		{"a task role without s3:ListBucket", func(p string) string {
			return strings.Replace(p, `"s3:ListBucket"`, `"s3:ListBucketVersions"`, 1)
		}, nil, "restore", "AccessDenied", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			policy := st.policy(t)
			if tc.policy != nil {
				policy = tc.policy(policy)
			}
			srv := st.s3WithRole(t, policy)
			put(t, srv, st.cfg.Storage.Prefix+own, "original")
			def := st.taskDef(t, 1)
			if tc.sabotage != nil {
				tc.sabotage(def)
			}
			task := runTask(t, srv, def, st.cfg, wboImage(t, own, boardsOf(t, 2, 1, own)))
			task.Wait(fgWait)
			if code, ok := task.ExitCode(tc.failing); !ok || code == 0 {
				t.Fatalf("%s: exit %d (exited %v), want a failure\n%s", tc.failing, code, ok, task.Logs())
			}
			if out := task.Output(tc.failing); !strings.Contains(out, tc.output) {
				t.Errorf("%s output lacks %q:\n%s", tc.failing, tc.output, out)
			}
			if i := eventIndex(task.Events(), "wbo", "start"); i != -1 && !tc.wboRuns {
				t.Errorf("wbo started although %s failed; events: %v", tc.failing, task.Events())
			}
			if got := objects(t, srv)[st.cfg.Storage.Prefix+own]; got != "original" {
				t.Errorf("the board changed to %q", got)
			}
		})
	}
}

// TestGeneratedTaskStopsAHungWBO: a WBO that does not exit on SIGTERM is
// killed after the wbo container's stopTimeout, and only then is the backup
// stopped: its final sync still carries what WBO saved before.
func TestGeneratedTaskStopsAHungWBO(t *testing.T) {
	fargate.RequireSandbox(t)
	t.Parallel()
	st := newStack(t)
	srv := st.s3WithRole(t, st.policy(t))
	own := boardsOf(t, 2, 0)
	prefix := st.cfg.Storage.Prefix
	put(t, srv, prefix+own, "original")
	def := st.taskDef(t, 0)
	clk := fargate.NewClock(t, time.Unix(1_800_000_000, 0))
	task := runTaskOnClock(t, srv, def, st.cfg, wboImage(t, own, ""), clk, "hung")
	task.WaitOutput("backup", "watching", fgWait)
	if err := os.WriteFile(filepath.Join(task.Volume("boards"), ".edit"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	task.WaitOutput("wbo", "wbo: edited", fgWait)
	task.Stop("scale in")
	waitEvent(t, task, "wbo", "SIGTERM")
	// The runner's stopTimeout is on the test clock: WBO is killed when,
	// and only when, the clock has moved that far.
	stopTimeout := time.Duration(aws.ToInt32(container(t, def, "wbo").StopTimeout)) * time.Second
	clk.Advance(stopTimeout - time.Second)
	if i := eventIndex(task.Events(), "wbo", "SIGKILL"); i != -1 {
		t.Fatalf("wbo killed %v after SIGTERM, before its stopTimeout of %v; events %v", stopTimeout-time.Second, stopTimeout, task.Events())
	}
	clk.Advance(time.Second)
	if i := eventIndex(task.Events(), "wbo", "SIGKILL"); i == -1 {
		t.Fatalf("wbo not killed after its stopTimeout of %v; events %v", stopTimeout, task.Events())
	}
	stopOnClock(t, task, clk, "hung", "scale in")
	evs := task.Events()
	order := []int{eventIndex(evs, "wbo", "SIGTERM"), eventIndex(evs, "wbo", "SIGKILL"), eventIndex(evs, "wbo", "exit"),
		eventIndex(evs, "backup", "SIGTERM"), eventIndex(evs, "backup", "exit")}
	if slices.Contains(order, -1) || !slices.IsSorted(order) {
		t.Fatalf("want wbo SIGTERM, SIGKILL after its stopTimeout, exit, then backup stopped; events: %v", evs)
	}
	if ev := evs[order[0]]; ev.Detail != fmt.Sprintf("stopTimeout %d s", aws.ToInt32(container(t, def, "wbo").StopTimeout)) {
		t.Errorf("wbo was stopped with %q, want its definition's stopTimeout", ev.Detail)
	}
	if code, _ := task.ExitCode("wbo"); code != 137 {
		t.Errorf("wbo exit %d, want 137 (SIGKILL)", code)
	}
	if code, _ := task.ExitCode("backup"); code != 0 || task.Killed("backup") {
		t.Errorf("backup exit %d (killed %v), want 0\n%s", code, task.Killed("backup"), task.Output("backup"))
	}
	if got := objects(t, srv)[prefix+own]; got != "edited" {
		t.Errorf("s3 %s = %q, want the edit WBO saved before it hung\n%s", own, got, task.Logs())
	}
	if d := deniedRequests(srv.TakeRequests()); len(d) > 0 {
		t.Errorf("requests the task role refused: %v", d)
	}
}

// waitEvent waits until the task records "container what" (polling its
// events; the bound only stops a hung test).
func waitEvent(t *testing.T, task *fargate.Task, container, what string) {
	t.Helper()
	deadline := time.After(fgWait)
	for eventIndex(task.Events(), container, what) == -1 {
		select {
		case <-deadline:
			t.Fatalf("no event %s %s; events %v\n%s", container, what, task.Events(), task.Logs())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stopOnClock stops a task whose scripts run on clk (runTaskOnClock as
// name) and waits for it. A sleep its backup began just before its SIGTERM
// and still waits for is ended (Clock.Wake), as it would end by itself on a
// real clock.
func stopOnClock(t *testing.T, task *fargate.Task, clk *fargate.Clock, name, reason string) {
	t.Helper()
	task.Stop(reason)
	// The backup runs its loop until WBO has stopped.
	waitEvent(t, task, "backup", "SIGTERM")
	for wakes := 0; clk.WaitAsleep(t, fgWait, task.Done(), name+"-backup"); wakes++ {
		if wakes > 3 {
			t.Fatalf("the backup still runs after its SIGTERM and %d of its sleeps ended; events %v\n%s", wakes, task.Events(), task.Logs())
		}
		clk.Wake(name + "-backup")
	}
	task.Wait(fgWait)
}

// TestGeneratedTasksHandOverTheLease: ECS starts a shard's new task while
// the old one still runs (maximumPercent counts only RUNNING and PENDING
// tasks). The new task's restore waits for the old task's lease, polling;
// once the old task is stopped, its backup's final sync carries WBO's flush
// and releases the lease, and only then does the new task restore, so its
// WBO starts with the old task's last save. The scripts and the runner's
// timers run on a test clock that moves only when the test says: each poll
// of the new restore happens at a point of the test's choosing.
func TestGeneratedTasksHandOverTheLease(t *testing.T) {
	fargate.RequireSandbox(t)
	t.Parallel()
	st := newStack(t)
	srv := st.s3WithRole(t, st.policy(t))
	tasks := fargate.NewTasks()
	srv.SetECS(tasks)
	clk := fargate.NewClock(t, time.Unix(1_800_000_000, 0))
	own := boardsOf(t, 2, 0)
	fresh := boardsOf(t, 2, 0, own)
	prefix := st.cfg.Storage.Prefix
	put(t, srv, prefix+own, "original")
	old := runTaskOnClock(t, srv, st.taskDef(t, 0), st.cfg, wboImage(t, own, fresh), clk, "old")
	tasks.Track(old)
	old.WaitOutput("backup", "watching", fgWait)
	if out := old.Output("restore"); !strings.Contains(out, "is free; waited 0s") {
		t.Fatalf("the old task's restore must find the lease free:\n%s", out)
	}

	next := runTaskOnClock(t, srv, st.taskDef(t, 0), st.cfg, wboImage(t, own, fresh), clk, "next")
	tasks.Track(next)
	next.WaitOutput("restore", "waiting for "+old.ARN, fgWait)
	// The new restore polls (every WBO_LEASE_POLL, 5 s) and keeps waiting
	// while ECS reports the old task RUNNING and its lease is held.
	const poll = 5 * time.Second
	for polls := 1; ; polls++ {
		if !clk.WaitAsleep(t, fgWait, next.Done(), "next-restore", "old-backup") {
			t.Fatalf("the new task ended while the old one held the lease; events %v\n%s", next.Events(), next.Logs())
		}
		if n := clk.Sleeps("next-restore"); n != polls {
			t.Fatalf("the new restore slept %d times after %d polls", n, polls)
		}
		if polls == 2 {
			break
		}
		clk.Advance(poll)
	}

	// The old task stops while the new restore sleeps (the clock stands
	// still, so no stopTimeout runs out): WBO flushes, the backup's final
	// sync uploads it and releases the lease.
	stopOnClock(t, old, clk, "old", "deployment: the new task is starting")
	evs := old.Events()
	if i := eventIndex(evs, "backup", "exit"); i == -1 || strings.Contains(old.Output("backup"), "not released") || old.Killed("backup") {
		t.Fatalf("the old backup did not release its lease; events %v\n%s", evs, old.Logs())
	}
	if !clk.Asleep("next-restore") || eventIndex(next.Events(), "wbo", "start") != -1 {
		t.Fatalf("the new restore must still be sleeping; events %v\n%s", next.Events(), next.Logs())
	}

	// Its next poll finds the lease released.
	clk.Advance(poll)
	next.WaitOutput("wbo", "wbo: ready", fgWait)
	if out := next.Output("restore"); !strings.Contains(out, "released by its owner; waited 10s") {
		t.Errorf("the new task's restore must go on because the old task released the lease, at its third poll:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join(next.Volume("boards"), fresh))
	if err != nil || string(b) != "flushed" {
		t.Errorf("the new task restored %s = %q (%v), want the old WBO's flush", fresh, b, err)
	}
	stopOnClock(t, next, clk, "next", "test done")
	if d := deniedRequests(srv.TakeRequests()); len(d) > 0 {
		t.Errorf("requests the task role refused: %v", d)
	}
}
