package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// computeGraph is the whole stack (every tier whose kinds are registered),
// from Build.
func computeGraph(cfg *config.Config) *Graph {
	g := NewGraph()
	for _, n := range Build(cfg).Nodes() {
		if _, ok := KindOf(n.Kind); ok {
			g.Add(n)
		}
	}
	return g
}

// cmpConfig is the default configuration in the given app mode.
func cmpConfig(mode string) *config.Config {
	c := config.Default()
	c.Region = "us-east-1"
	c.App.Mode = mode
	if mode == config.ModeShared {
		c.App.SharesState = true
	}
	return &c
}

// cmpSmallConfig leaves out what the compute tier does not need (Redis,
// alarms, dashboard, access logs), to keep call-by-call tests fast.
func cmpSmallConfig(mode string) *config.Config {
	c := cmpConfig(mode)
	c.Redis.Mode = "none"
	c.Alarms.Enabled = false
	c.Dashboard.Enabled = false
	c.LoadBalancer.AccessLogs = false
	return c
}

// cmpTimedRig is newRig with the simulated cloud's timing changed.
func cmpTimedRig(t *testing.T, cfg *config.Config, change func(*awssim.Timing)) *rig {
	r := newRig(t, cfg)
	tm := awssim.RealisticTiming()
	change(&tm)
	r.cloud = awssim.New(awssim.Options{Region: r.cfg.Region, Timing: &tm})
	return r
}

func cmpUp(t *testing.T, r *rig) {
	t.Helper()
	if err := r.up(computeGraph(r.cfg)).Err(); err != nil {
		t.Fatalf("up: %v", err)
	}
}

// cmpCount counts the performed mutating calls of "Service.Operation".
func cmpCount(r *rig, op string) int {
	n := 0
	for _, c := range r.cloud.MutatingCalls() {
		if c == op {
			n++
		}
	}
	return n
}

// cmpFailed counts the attempts of "Service.Operation" that got code.
func cmpFailed(r *rig, op, code string) int {
	n := 0
	for _, c := range r.cloud.Calls() {
		if c.Service+"."+c.Operation == op && c.Err == code {
			n++
		}
	}
	return n
}

func cmpStatus(t *testing.T, r *rig) map[string]ResourceStatus {
	t.Helper()
	e, done := r.engine(computeGraph(r.cfg))
	defer done()
	out := map[string]ResourceStatus{}
	for _, s := range e.Status(context.Background(), e.Env.store.All()) {
		out[s.Name] = s
	}
	return out
}

func cmpRecord(t *testing.T, r *rig, name string) string {
	t.Helper()
	for _, rec := range r.records() {
		if rec.Name == name {
			return rec.ID
		}
	}
	t.Fatalf("no record %s", name)
	return ""
}

func cmpService(t *testing.T, r *rig, name string) ecstypes.Service {
	t.Helper()
	out, err := r.clients().ECS.DescribeServices(context.Background(), &ecs.DescribeServicesInput{
		Cluster: aws.String(r.cfg.Stack), Services: []string{name}, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("describe service %s: %v %+v", name, err, out)
	}
	return out.Services[0]
}

func TestComputeUpIdempotentStatusDestroy(t *testing.T) {
	r := newRig(t, cmpConfig(config.ModeSharded))
	g := computeGraph(r.cfg)
	cmpUp(t, r)
	owned := strings.Join(r.owned(), "|")
	for _, want := range []string{"cluster cluster", "service service-shard-0", "service service-shard-1",
		"task-definition taskdef-shard-0", "task-definition taskdef-shard-1"} {
		if !strings.Contains(owned, want) {
			t.Fatalf("%q missing after up: %v", want, r.owned())
		}
	}
	if err := cmpStateAgrees(r); err != nil {
		t.Fatal(err)
	}

	r.cloud.ResetCalls()
	cmpUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}

	st := cmpStatus(t, r)
	for name, s := range st {
		if s.Status != StatusOK {
			t.Errorf("status of %s: %s (%s)", name, s.Status, s.Reason)
		}
	}
	for _, i := range []string{"0", "1"} {
		if got := st["service-shard-"+i].Info["tasks"]; got != "1/1 running" {
			t.Errorf("shard %s tasks: %q", i, got)
		}
		if got := st["service-shard-"+i].Info["deployment"]; got != "COMPLETED" {
			t.Errorf("shard %s deployment: %q", i, got)
		}
		if got := st["tg-shard-"+i].Info["targets"]; !strings.HasPrefix(got, "1/1 healthy") {
			t.Errorf("tg-shard-%s targets: %q", i, got)
		}
	}
	if url := st["alb"].Info["url"]; !strings.HasPrefix(url, "http://") {
		t.Errorf("no URL in status: %v", st["alb"].Info)
	}
	if st["service-shard-0"].Info["boards"] == "" || st["service-shard-0"].Info["boards"] == st["service-shard-1"].Info["boards"] {
		t.Errorf("each shard shows its own board range: %q / %q", st["service-shard-0"].Info["boards"], st["service-shard-1"].Info["boards"])
	}

	if err := r.destroy(g).Err(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if got := r.owned(); strings.Join(got, "|") != "bucket bucket-boards" {
		t.Fatalf("left after destroy: %v (only the board bucket is kept)", got)
	}
	for _, res := range r.cloud.Inventory() {
		if res.Kind == "network-interface" || res.Service == "ECS" {
			t.Fatalf("left after destroy: %+v", res)
		}
	}
	if n := len(r.records()); n != 0 {
		t.Fatalf("state still has %d records", n)
	}
	r.cloud.ResetCalls()
	if err := r.destroy(g).Err(); err != nil {
		t.Fatalf("second destroy: %v", err)
	}
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second destroy made mutating calls: %v", m)
	}
}

func TestComputeImageChangeIsOneRevisionAndOneUpdatePerService(t *testing.T) {
	r := newRig(t, cmpConfig(config.ModeSharded))
	cmpUp(t, r)
	r.cfg.App.Image = "lovasoa/wbo:v2.16.0"
	r.cloud.ResetCalls()
	cmpUp(t, r)
	got := r.cloud.MutatingCalls()
	sort.Strings(got)
	want := []string{"ECS.DeregisterTaskDefinition", "ECS.DeregisterTaskDefinition", "ECS.RegisterTaskDefinition",
		"ECS.RegisterTaskDefinition", "ECS.UpdateService", "ECS.UpdateService"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("an image change made %v, want one RegisterTaskDefinition and one UpdateService per service (and the old revisions deregistered)", got)
	}
	for _, i := range []string{"0", "1"} {
		s := cmpService(t, r, "wbo-shard-"+i)
		if !strings.HasSuffix(aws.ToString(s.TaskDefinition), ":2") || s.RunningCount != 1 {
			t.Fatalf("shard %s runs %s with %d tasks", i, aws.ToString(s.TaskDefinition), s.RunningCount)
		}
		l, _ := r.clients().ECS.ListTaskDefinitions(context.Background(), &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("wbo-shard-" + i)})
		if len(l.TaskDefinitionArns) != 1 {
			t.Fatalf("ACTIVE revisions of shard %s: %v", i, l.TaskDefinitionArns)
		}
	}
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("up after the deployment made mutating calls: %v", m)
	}
}

func TestComputeFailingDeploymentReportsStoppedReason(t *testing.T) {
	r := newRig(t, cmpSmallConfig(config.ModeSingle))
	g := computeGraph(r.cfg)
	cmpUp(t, r)
	good := r.cfg.App.Image
	r.cfg.App.Image = "lovasoa/wbo:" + awssim.BrokenImageMarker
	err := r.up(g).Err()
	if err == nil {
		t.Fatal("up succeeded with an image whose container exits")
	}
	for _, want := range []string{"Essential container in task exited", "wbo exited with code 1", "rolled back to wbo-shard-0:1", "deployment of wbo-shard-0 to wbo-shard-0:2 failed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	var typed *DeploymentFailedError
	for _, n := range r.up(g).Failed() { // the same again: the configuration is still broken
		if errors.As(n.Err, &typed) {
			break
		}
	}
	if typed == nil || typed.RolledBackTo != "wbo-shard-0:1" || len(typed.Reasons) == 0 {
		t.Fatalf("a re-run fails the same way with a *DeploymentFailedError: %+v", typed)
	}
	if s := cmpService(t, r, "wbo-shard-0"); !strings.HasSuffix(aws.ToString(s.TaskDefinition), ":1") || s.RunningCount != 1 {
		t.Fatalf("after the rollback the service runs %s with %d tasks", aws.ToString(s.TaskDefinition), s.RunningCount)
	}
	if s := cmpStatus(t, r)["service-shard-0"]; s.Status != StatusDrifted || !strings.Contains(s.Reason, "task_definition") {
		t.Fatalf("status after a rolled-back deployment: %s %s", s.Status, s.Reason)
	}
	// Back to the good image: the revision it matches is still ACTIVE, so
	// nothing is registered or deployed; the failed revision is retired.
	r.cfg.App.Image = good
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if got := r.cloud.MutatingCalls(); strings.Join(got, ",") != "ECS.DeregisterTaskDefinition" {
		t.Fatalf("reverting the image made %v, want only the failed revision deregistered", got)
	}
}

func TestComputeFirstDeploymentFailure(t *testing.T) {
	c := cmpSmallConfig(config.ModeSingle)
	c.App.Image = "example/wbo:" + awssim.BrokenImageMarker
	r := newRig(t, c)
	err := r.up(computeGraph(r.cfg)).Err()
	if err == nil || !strings.Contains(err.Error(), "Essential container in task exited") || strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("first deployment of a broken image: %v", err)
	}
	if s := cmpStatus(t, r)["service-shard-0"]; s.Status != StatusDrifted || !strings.Contains(s.Reason, "rollout: FAILED") {
		t.Fatalf("status: %s %s", s.Status, s.Reason)
	}
}

func TestComputeDestroyWaitsOutLingeringENIs(t *testing.T) {
	// On the virtual clock (testing/synctest) the stopped task's ENI still
	// lingers when destroy reaches the subnet, however busy the machine: on
	// the scaled wall clock a slow destroy found it already gone.
	synctest.Test(t, computeDestroyWaitsOutLingeringENIs)
}

func computeDestroyWaitsOutLingeringENIs(t *testing.T) {
	r := newRig(t, cmpSmallConfig(config.ModeSingle))
	cmpUp(t, r)
	r.cloud.ResetCalls()
	if err := r.destroy(computeGraph(r.cfg)).Err(); err != nil {
		t.Fatalf("destroy needed a retry: %v", err)
	}
	blocked := cmpFailed(r, "EC2.DeleteSubnet", "DependencyViolation") + cmpFailed(r, "EC2.DeleteSecurityGroup", "DependencyViolation")
	if blocked == 0 {
		t.Fatal("the stopped task's ENI never blocked a deletion: the test does not exercise lingering ENIs")
	}
	for _, res := range r.cloud.Inventory() {
		if res.Kind == "network-interface" || res.Kind == "subnet" || res.Kind == "security-group" {
			t.Fatalf("left after destroy: %+v", res)
		}
	}
}

func TestComputeNoWaitReturnsAfterTheUpdate(t *testing.T) {
	// Tasks take 20 AWS minutes (120 ms) to start: a wait cannot go unseen.
	r := cmpTimedRig(t, cmpSmallConfig(config.ModeSingle), func(tm *awssim.Timing) { tm.TaskStart = 20 * time.Minute })
	g := computeGraph(r.cfg)
	cmpUp(t, r)
	r.cfg.App.Image = "lovasoa/wbo:v2.16.0"
	e, done := r.engine(g)
	e.Env.NoWait = true
	err := e.Up(context.Background()).Err()
	done()
	if err != nil {
		t.Fatal(err)
	}
	s := cmpService(t, r, "wbo-shard-0")
	var primary ecstypes.Deployment
	for _, d := range s.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			primary = d
		}
	}
	if primary.RolloutState != ecstypes.DeploymentRolloutStateInProgress {
		t.Fatalf("--no-wait waited: rollout %s", primary.RolloutState)
	}
	// The next up waits for that deployment, then retires revision 1.
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if got := r.cloud.MutatingCalls(); strings.Join(got, ",") != "ECS.DeregisterTaskDefinition" {
		t.Fatalf("up after --no-wait made %v", got)
	}
	if s := cmpStatus(t, r)["service-shard-0"]; s.Status != StatusOK || s.Info["task definition"] != "wbo-shard-0:2" {
		t.Fatalf("status: %+v", s)
	}
}

func TestComputeDesiredCountDrift(t *testing.T) {
	r := newRig(t, cmpSmallConfig(config.ModeShared))
	cmpUp(t, r)
	ecsc := r.clients().ECS
	set := func(n int32) {
		if _, err := ecsc.UpdateService(context.Background(), &ecs.UpdateServiceInput{Cluster: aws.String("wbo"), Service: aws.String("wbo-app"), DesiredCount: aws.Int32(n)}); err != nil {
			t.Fatal(err)
		}
	}
	set(5) // as the autoscaler would
	if s := cmpStatus(t, r)["service-app"]; s.Status == StatusDrifted {
		t.Fatalf("a desired count inside the autoscaling range is not drift: %s", s.Reason)
	}
	set(0)
	if s := cmpStatus(t, r)["service-app"]; s.Status != StatusDrifted || !strings.Contains(s.Reason, "desired_count: 0 → 1 (autoscaling range 1-10)") {
		t.Fatalf("desired count below the range: %s %s", s.Status, s.Reason)
	}
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if got := r.cloud.MutatingCalls(); strings.Join(got, ",") != "ECS.UpdateService" {
		t.Fatalf("repairing the desired count made %v", got)
	}

	r2 := newRig(t, cmpSmallConfig(config.ModeSingle))
	cmpUp(t, r2)
	if _, err := r2.clients().ECS.UpdateService(context.Background(), &ecs.UpdateServiceInput{Cluster: aws.String("wbo"), Service: aws.String("wbo-shard-0"), DesiredCount: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	if s := cmpStatus(t, r2)["service-shard-0"]; s.Status != StatusDrifted || !strings.Contains(s.Reason, "desired_count: 5 → 1") {
		t.Fatalf("a shard scaled by hand: %s %s", s.Status, s.Reason)
	}
	// Scaled to 0 (as the re-shard gate does): up brings the task back and
	// waits for it, although no deployment starts.
	if _, err := r2.clients().ECS.UpdateService(context.Background(), &ecs.UpdateServiceInput{Cluster: aws.String("wbo"), Service: aws.String("wbo-shard-0"), DesiredCount: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	r2.cloud.ResetCalls()
	cmpUp(t, r2)
	if got := r2.cloud.MutatingCalls(); strings.Join(got, ",") != "ECS.UpdateService" {
		t.Fatalf("scaling back to 1 made %v", got)
	}
	if s := cmpService(t, r2, "wbo-shard-0"); s.RunningCount != 1 {
		t.Fatalf("up returned with %d tasks running", s.RunningCount)
	}
}

func TestComputeDestroyWithoutState(t *testing.T) {
	r := newRig(t, cmpSmallConfig(config.ModeShared))
	r.cfg.Autoscaling.Policy = "step"
	cmpUp(t, r)
	e, done := r.engine(computeGraph(r.cfg))
	defer done()
	found, err := e.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, rec := range found {
		names[rec.Name] = rec.Kind
	}
	for _, want := range []string{"cluster", "taskdef-app", "service-app", "scaling-app", "scaling-alarm-out-cpu", "scaling-alarm-in-requests"} {
		if names[want] == "" {
			t.Fatalf("Discover did not find %s: %v", want, names)
		}
	}
	if err := e.Destroy(context.Background(), found).Err(); err != nil {
		t.Fatalf("destroy from discovery: %v", err)
	}
	for _, res := range r.owned() {
		if res != "bucket bucket-boards" {
			t.Fatalf("left after a state-less destroy: %v", r.owned())
		}
	}
}

// TestComputeCrashAtEveryComputeCall crashes up at each mutating call the
// compute tier makes (ECS, Application Auto Scaling, the step-scaling
// alarms), before and after AWS acts, re-runs up and checks that the account
// holds exactly the stack, in state, and that destroy cleans it. (The
// reliability package sweeps every call of the whole default stack.)
func TestComputeCrashAtEveryComputeCall(t *testing.T) {
	type variant struct {
		name string
		cfg  func() *config.Config
	}
	variants := []variant{
		{"single", func() *config.Config { return cmpSmallConfig(config.ModeSingle) }},
		{"shared-step", func() *config.Config {
			c := cmpSmallConfig(config.ModeShared)
			c.Autoscaling.Policy = "step"
			return c
		}},
	}
	compute := func(op string) bool {
		return strings.HasPrefix(op, "ECS.") || strings.HasPrefix(op, "Application Auto Scaling.") || op == "CloudWatch.PutMetricAlarm"
	}
	for _, v := range variants {
		probe := newRig(t, v.cfg())
		cmpUp(t, probe)
		want := probe.owned()
		var points []int
		for i, op := range probe.cloud.MutatingCalls() {
			if compute(op) {
				points = append(points, i+1)
			}
		}
		if len(points) < 3 {
			t.Fatalf("%s: only %d compute calls", v.name, len(points))
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2*len(points))
		sem := make(chan struct{}, 4)
		for _, mode := range []awssim.CrashMode{awssim.CrashBefore, awssim.CrashAfter} {
			for _, k := range points {
				wg.Add(1)
				go func(mode awssim.CrashMode, k int) {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					errs <- cmpCrashOnce(t, v.cfg(), mode, k, want)
				}(mode, k)
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("%s: %v", v.name, err)
			}
		}
	}
}

func cmpCrashOnce(t *testing.T, cfg *config.Config, mode awssim.CrashMode, k int, want []string) error {
	r := newRig(t, cfg)
	g := computeGraph(r.cfg)
	r.cloud.CrashAt(k, mode)
	if err := r.up(g).Err(); err == nil {
		return fmt.Errorf("mode %d k=%d: up succeeded through a crash", mode, k)
	}
	if !r.cloud.Crashed() {
		return fmt.Errorf("mode %d k=%d: the crash never happened", mode, k)
	}
	r.cloud.Revive()
	if err := r.up(g).Err(); err != nil {
		return fmt.Errorf("mode %d k=%d: re-run: %v", mode, k, err)
	}
	if got := r.owned(); strings.Join(got, "|") != strings.Join(want, "|") {
		return fmt.Errorf("mode %d k=%d: after re-run\n got %v\nwant %v", mode, k, got, want)
	}
	if err := cmpStateAgrees(r); err != nil {
		return fmt.Errorf("mode %d k=%d: %v", mode, k, err)
	}
	r.cloud.ResetCalls()
	if err := r.up(g).Err(); err != nil || len(r.cloud.MutatingCalls()) != 0 {
		return fmt.Errorf("mode %d k=%d: up after recovery: %v %v", mode, k, err, r.cloud.MutatingCalls())
	}
	if err := r.destroy(g).Err(); err != nil {
		return fmt.Errorf("mode %d k=%d: destroy: %v", mode, k, err)
	}
	if got := r.owned(); strings.Join(got, "|") != "bucket bucket-boards" {
		return fmt.Errorf("mode %d k=%d: left after destroy: %v", mode, k, got)
	}
	return nil
}

// cmpAggregate are kinds whose state record stands for a set of AWS objects
// (listener rules, the re-shard gate), not one tagged resource.
var cmpAggregate = map[string]bool{"elbv2.routing-rules": true, "ecs.reshard": true}

// cmpStateAgrees is checkStateMatches without t.Fatal (it runs in
// goroutines): every stack resource is in state under its name with its ID,
// and state holds nothing else but aggregate records.
func cmpStateAgrees(r *rig) error {
	inState := map[string]string{}
	for _, rec := range r.records() {
		if !cmpAggregate[rec.Kind] {
			inState[rec.Name] = rec.ID
		}
	}
	live := 0
	for _, res := range r.cloud.Inventory() {
		if res.Tags[TagStack] != r.cfg.Stack {
			continue
		}
		live++
		name := res.Tags[TagResource]
		id, ok := inState[name]
		if !ok {
			return fmt.Errorf("%s (%s) exists but is not in state", name, res.ID)
		}
		if id != res.ID && !strings.Contains(id, res.ID) {
			return fmt.Errorf("state has %s = %s, the account has %s", name, id, res.ID)
		}
	}
	if live != len(inState) {
		return fmt.Errorf("state has %d resources, the account %d", len(inState), live)
	}
	return nil
}
