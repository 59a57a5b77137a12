package provision

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// obsStubKind stands in for the other tiers' resources (services, target
// groups, load balancer, Redis) in the observability tests: it records the
// IDs and attributes those kinds promise (PROVISIONERS.md contract) without
// any AWS call, so alarms and the dashboard can be tested on their own.
type obsStubKind struct{}

const obsStub = "obs-test.stub"

func init() { Register(obsStubKind{}) }

func (obsStubKind) Type() string { return obsStub }

func obsHex(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return fmt.Sprintf("%016x", h.Sum64())
}

func obsStubRecord(env *Env, n *Node) state.Resource {
	rec := NewRecord(n, "")
	s, acct := env.Stack(), "arn:aws:elasticloadbalancing:"+env.Region()+":"+env.Account()
	switch {
	case n.Name == "alb":
		suffix := "app/" + s + "-alb/" + obsHex(s+"alb")
		rec.ID, rec.Attrs["arn_suffix"], rec.Attrs["name"] = acct+":loadbalancer/"+suffix, suffix, s+"-alb"
	case strings.HasPrefix(n.Name, "tg-"):
		name := s + "-" + strings.TrimPrefix(n.Name, "tg-")
		suffix := "targetgroup/" + name + "/" + obsHex(name)
		rec.ID, rec.Attrs["arn_suffix"], rec.Attrs["name"] = acct+":"+suffix, suffix, name
	case strings.HasPrefix(n.Name, "service-"):
		name := s + "-" + strings.TrimPrefix(n.Name, "service-")
		rec.ID = "arn:aws:ecs:" + env.Region() + ":" + env.Account() + ":service/" + s + "/" + name
		rec.Attrs["name"], rec.Attrs["cluster"] = name, s
	case n.Name == "redis":
		rec.ID = env.Cfg.Names().ReplicationGroup
	}
	rec.ARN = rec.ID
	return rec
}

func (k obsStubKind) Find(_ context.Context, env *Env, n *Node, _ *state.Resource) (*Observed, error) {
	return &Observed{Rec: obsStubRecord(env, n), State: "available"}, nil
}
func (k obsStubKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	return k.Find(ctx, env, n, nil)
}
func (obsStubKind) Diff(*Env, *Node, *Observed) []Change { return nil }
func (obsStubKind) Update(context.Context, *Env, *Node, *Observed, []Change) error {
	return nil
}
func (obsStubKind) Delete(context.Context, *Env, state.Resource) error { return nil }

// obsLabels are the service/target group labels of the configured mode.
func obsLabels(cfg *config.Config) []string {
	switch cfg.App.Mode {
	case config.ModeShared:
		return []string{"app"}
	case config.ModeSingle:
		return []string{"shard-0"}
	}
	var out []string
	for i := range cfg.App.Shards {
		out = append(out, fmt.Sprintf("shard-%d", i))
	}
	return out
}

// obsGraph is the observability tier over stand-ins for the tiers it
// watches, declared with the contract's node names and kinds.
func obsGraph(cfg *config.Config) *Graph {
	g := NewGraph()
	stub := func(name, kind string, deps ...string) { g.Add(&Node{Name: name, Kind: kind, Deps: deps}) }
	stub("alb", "elbv2.load-balancer")
	for _, l := range obsLabels(cfg) {
		stub("tg-"+l, "elbv2.target-group")
		stub("service-"+l, "ecs.service", "tg-"+l)
	}
	if cfg.RedisEnabled() {
		stub("redis", "elasticache.replication-group")
	}
	observabilityNodes(g, cfg)
	for _, n := range g.nodes {
		switch n.Kind {
		case "elbv2.load-balancer", "elbv2.target-group", "ecs.service", "elasticache.replication-group":
			n.Kind = obsStub
		}
	}
	return g
}

// obsCheckState asserts that every live resource of the stack is recorded in
// state under its logical name with its ID, and that every non-stub record
// is live.
func obsCheckState(t *testing.T, r *rig) {
	t.Helper()
	inState := map[string]string{}
	for _, rec := range r.records() {
		if rec.Kind != obsStub {
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
			t.Fatalf("%s (%s) exists but is not in state", name, res.ID)
		}
		if id != res.ID {
			t.Fatalf("state has %s = %s, the account %s", name, id, res.ID)
		}
	}
	if live != len(inState) {
		t.Fatalf("state has %d resources, the account %d", len(inState), live)
	}
}

func obsUp(t *testing.T, r *rig) {
	t.Helper()
	if err := r.up(obsGraph(r.cfg)).Err(); err != nil {
		t.Fatalf("up: %v", err)
	}
}

func obsStatus(t *testing.T, r *rig) map[string]ResourceStatus {
	t.Helper()
	e, done := r.engine(obsGraph(r.cfg))
	defer done()
	out := map[string]ResourceStatus{}
	for _, s := range e.Status(context.Background(), e.Env.store.All()) {
		out[s.Name] = s
	}
	return out
}

func alarmsByName(r *rig) map[string]cwtypes.MetricAlarm {
	m := map[string]cwtypes.MetricAlarm{}
	for _, a := range r.cloud.Alarms() {
		m[aws.ToString(a.AlarmName)] = a
	}
	return m
}

func TestObservabilityUpIdempotentStatusDestroy(t *testing.T) {
	r := newRig(t, nil)
	r.cfg.Alarms.Email = []string{"ops@example.com"}
	obsUp(t, r)
	want := []string{"dashboard dashboard", "log-group log-group", "topic topic"}
	for _, l := range []string{"shard-0", "shard-1"} {
		for _, w := range []string{"cpu", "memory", "unhealthy-hosts", "no-healthy-hosts", "p95-latency", "target-5xx"} {
			want = append(want, "alarm alarm-"+l+"-"+w)
		}
	}
	for _, m := range []string{"001", "002"} {
		want = append(want, "alarm alarm-redis-"+m+"-engine-cpu", "alarm alarm-redis-"+m+"-memory")
	}
	sort.Strings(want)
	if got := r.owned(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("resources after up:\n got %v\nwant %v", got, want)
	}
	obsCheckState(t, r)

	r.cloud.ResetCalls()
	obsUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}

	st := obsStatus(t, r)
	for name, s := range st {
		if s.Status != StatusOK {
			t.Errorf("status of %s: %s (%s)", name, s.Status, s.Reason)
		}
	}
	if u := st["dashboard"].Info["dashboard_url"]; u != "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=wbo" {
		t.Errorf("dashboard URL %q", u)
	}
	if s := st["topic"].Info["subscription email ops@example.com"]; s != "pending confirmation" {
		t.Errorf("topic info %v", st["topic"].Info)
	}

	if err := r.destroy(obsGraph(r.cfg)).Err(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if got := r.owned(); len(got) != 0 {
		t.Fatalf("left after destroy: %v", got)
	}
	if inv := r.cloud.Inventory(); len(inv) != 0 {
		t.Fatalf("untagged leftovers after destroy: %v", inv)
	}
	r.cloud.ResetCalls()
	if err := r.destroy(obsGraph(r.cfg)).Err(); err != nil {
		t.Fatalf("second destroy: %v", err)
	}
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second destroy made mutating calls: %v", m)
	}
}

func TestObservabilityCrashAtEveryMutatingCall(t *testing.T) {
	// One service and one Redis node keep the run short; every kind of
	// the tier is still there (the other alarms only repeat the same calls).
	setup := func(r *rig) {
		r.cfg.App.Mode, r.cfg.Redis.Replicas = config.ModeShared, 0
		r.cfg.Alarms.Email = []string{"ops@example.com"}
		r.cfg.Alarms.SMS = []string{"+14155550100"}
	}
	probe := newRig(t, nil)
	setup(probe)
	obsUp(t, probe)
	want := probe.owned()
	total := len(probe.cloud.MutatingCalls())
	if total != 14 { // log group 2, topic 1, subscriptions 2, alarms 8, dashboard 1
		t.Fatalf("%d mutating calls counted, want 14", total)
	}
	for _, mode := range []awssim.CrashMode{awssim.CrashBefore, awssim.CrashAfter} {
		for k := 1; k <= total; k++ {
			r := newRig(t, nil)
			setup(r)
			r.cloud.CrashAt(k, mode)
			if err := r.up(obsGraph(r.cfg)).Err(); err == nil {
				t.Fatalf("mode %d k=%d: up succeeded through a crash", mode, k)
			}
			r.cloud.Revive()
			obsUp(t, r)
			if got := r.owned(); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("mode %d k=%d: after re-run\n got %v\nwant %v", mode, k, got, want)
			}
			obsCheckState(t, r)
			topic := "arn:aws:sns:us-east-1:123456789012:wbo-alarms"
			if subs := r.cloud.Subscriptions(topic); strings.Join(subs, ",") != "email:ops@example.com (pending),sms:+14155550100" {
				t.Fatalf("mode %d k=%d: subscriptions %v", mode, k, subs)
			}
			r.cloud.ResetCalls()
			obsUp(t, r)
			if m := r.cloud.MutatingCalls(); len(m) != 0 {
				t.Fatalf("mode %d k=%d: third up made mutating calls: %v", mode, k, m)
			}
			if err := r.destroy(obsGraph(r.cfg)).Err(); err != nil {
				t.Fatalf("mode %d k=%d: destroy: %v", mode, k, err)
			}
			if inv := r.cloud.Inventory(); len(inv) != 0 {
				t.Fatalf("mode %d k=%d: left after destroy: %v", mode, k, inv)
			}
		}
	}
}

// TestAlarmDefinitions checks every alarm against the configuration.
func TestAlarmDefinitions(t *testing.T) {
	r := newRig(t, nil)
	cfg := r.cfg
	cfg.Alarms.CPUThreshold, cfg.Alarms.MemoryThreshold, cfg.Alarms.LatencyThresholdSeconds, cfg.Alarms.HTTP5xxThreshold = 81, 92, 1.5, 17
	obsUp(t, r)
	topic := "arn:aws:sns:us-east-1:123456789012:wbo-alarms"
	lb := "app/wbo-alb/" + obsHex("wboalb")
	type expect struct {
		ns, metric, stat, ext, dims, cmp, missing string
		period, evals, dp                         int32
		threshold                                 float64
	}
	want := map[string]expect{}
	for _, l := range []string{"shard-0", "shard-1"} {
		svc := "ClusterName=wbo,ServiceName=wbo-" + l
		tg := "LoadBalancer=" + lb + ",TargetGroup=targetgroup/wbo-" + l + "/" + obsHex("wbo-"+l)
		want["wbo-"+l+"-cpu"] = expect{"AWS/ECS", "CPUUtilization", "Average", "", svc, "GreaterThanThreshold", "missing", 60, 5, 5, 81}
		want["wbo-"+l+"-memory"] = expect{"AWS/ECS", "MemoryUtilization", "Average", "", svc, "GreaterThanThreshold", "missing", 60, 5, 5, 92}
		want["wbo-"+l+"-unhealthy-hosts"] = expect{"AWS/ApplicationELB", "UnHealthyHostCount", "Maximum", "", tg, "GreaterThanThreshold", "notBreaching", 60, 3, 3, 0}
		want["wbo-"+l+"-no-healthy-hosts"] = expect{"AWS/ApplicationELB", "HealthyHostCount", "Minimum", "", tg, "LessThanThreshold", "breaching", 60, 5, 5, 1}
		want["wbo-"+l+"-p95-latency"] = expect{"AWS/ApplicationELB", "TargetResponseTime", "", "p95", tg, "GreaterThanThreshold", "notBreaching", 60, 5, 3, 1.5}
		want["wbo-"+l+"-target-5xx"] = expect{"AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", "", tg, "GreaterThanThreshold", "notBreaching", 300, 1, 1, 17}
	}
	for _, m := range []string{"wbo-redis-001", "wbo-redis-002"} {
		short := strings.TrimPrefix(m, "wbo-")
		want["wbo-"+short+"-engine-cpu"] = expect{"AWS/ElastiCache", "EngineCPUUtilization", "Average", "", "CacheClusterId=" + m, "GreaterThanThreshold", "missing", 60, 5, 5, 81}
		want["wbo-"+short+"-memory"] = expect{"AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "Average", "", "CacheClusterId=" + m, "GreaterThanThreshold", "missing", 60, 5, 5, 92}
	}
	got := alarmsByName(r)
	if len(got) != len(want) {
		t.Fatalf("%d alarms, want %d", len(got), len(want))
	}
	for name, w := range want {
		a, ok := got[name]
		if !ok {
			t.Errorf("missing alarm %s", name)
			continue
		}
		g := expect{aws.ToString(a.Namespace), aws.ToString(a.MetricName), string(a.Statistic), aws.ToString(a.ExtendedStatistic),
			obsDimsText(a.Dimensions), string(a.ComparisonOperator), aws.ToString(a.TreatMissingData),
			aws.ToInt32(a.Period), aws.ToInt32(a.EvaluationPeriods), aws.ToInt32(a.DatapointsToAlarm), aws.ToFloat64(a.Threshold)}
		if g != w {
			t.Errorf("alarm %s:\n got %+v\nwant %+v", name, g, w)
		}
		if strings.Join(a.AlarmActions, ",") != topic || strings.Join(a.OKActions, ",") != topic || len(a.InsufficientDataActions) != 0 {
			t.Errorf("alarm %s actions: alarm %v ok %v insufficient %v", name, a.AlarmActions, a.OKActions, a.InsufficientDataActions)
		}
		if !aws.ToBool(a.ActionsEnabled) || !strings.Contains(aws.ToString(a.AlarmDescription), "stack wbo") {
			t.Errorf("alarm %s: actions enabled %v, description %q", name, aws.ToBool(a.ActionsEnabled), aws.ToString(a.AlarmDescription))
		}
		if w.ext != "" && aws.ToString(a.EvaluateLowSampleCountPercentile) != "ignore" {
			t.Errorf("alarm %s: percentile alarms ignore low sample counts", name)
		}
	}
}

func TestAlarmThresholdChangeUpdatesExactlyThatAlarm(t *testing.T) {
	c := config.Default()
	c.App.Mode = config.ModeShared
	r := newRig(t, &c)
	obsUp(t, r)
	before := alarmsByName(r)
	r.cfg.Alarms.LatencyThresholdSeconds = 2.5
	r.cloud.ResetCalls()
	obsUp(t, r)
	if m := r.cloud.MutatingCalls(); strings.Join(m, ",") != "CloudWatch.PutMetricAlarm" {
		t.Fatalf("latency threshold change made %v", m)
	}
	after := alarmsByName(r)
	for name, a := range after {
		changed := aws.ToFloat64(a.Threshold) != aws.ToFloat64(before[name].Threshold)
		if changed != (name == "wbo-app-p95-latency") {
			t.Errorf("alarm %s threshold %v → %v", name, aws.ToFloat64(before[name].Threshold), aws.ToFloat64(a.Threshold))
		}
	}
	if got := aws.ToFloat64(after["wbo-app-p95-latency"].Threshold); got != 2.5 {
		t.Fatalf("latency threshold now %v", got)
	}

	// With two shards, the 5xx threshold is in exactly the two 5xx alarms.
	c2 := config.Default()
	r2 := newRig(t, &c2)
	obsUp(t, r2)
	r2.cfg.Alarms.HTTP5xxThreshold = 50
	r2.cloud.ResetCalls()
	obsUp(t, r2)
	if m := r2.cloud.MutatingCalls(); strings.Join(m, ",") != "CloudWatch.PutMetricAlarm,CloudWatch.PutMetricAlarm" {
		t.Fatalf("5xx threshold change made %v", m)
	}
	for name, a := range alarmsByName(r2) {
		if strings.HasSuffix(name, "-target-5xx") != (aws.ToFloat64(a.Threshold) == 50) {
			t.Errorf("alarm %s threshold %v", name, aws.ToFloat64(a.Threshold))
		}
	}
}

func TestAlarmsFollowTheStack(t *testing.T) {
	c := config.Default()
	c.App.Shards = 3
	r := newRig(t, &c)
	obsUp(t, r)
	if _, ok := alarmsByName(r)["wbo-shard-2-cpu"]; !ok {
		t.Fatal("no alarm for shard 2")
	}
	// A shard goes away: its six alarms are deleted, the others untouched.
	r.cfg.App.Shards = 2
	r.cloud.ResetCalls()
	obsUp(t, r)
	var deletes, other []string
	for _, m := range r.cloud.MutatingCalls() {
		switch m {
		case "CloudWatch.DeleteAlarms":
			deletes = append(deletes, m)
		case "CloudWatch.PutDashboard":
		default:
			other = append(other, m)
		}
	}
	if len(deletes) != 6 || len(other) != 0 {
		t.Fatalf("removing a shard made %v", r.cloud.MutatingCalls())
	}
	for name := range alarmsByName(r) {
		if strings.Contains(name, "shard-2") {
			t.Fatalf("alarm %s survived", name)
		}
	}
	obsCheckState(t, r)

	// Redis removed: its alarms go too.
	r.cfg.Redis.Mode = "none"
	obsUp(t, r)
	for name := range alarmsByName(r) {
		if strings.Contains(name, "redis") {
			t.Fatalf("alarm %s survived Redis", name)
		}
	}

	// Alarms disabled: every alarm and the topic are deleted; the dashboard stays.
	r.cfg.Alarms.Enabled = false
	obsUp(t, r)
	if a := r.cloud.Alarms(); len(a) != 0 {
		t.Fatalf("alarms left: %d", len(a))
	}
	if got := r.owned(); strings.Join(got, ",") != "dashboard dashboard,log-group log-group" {
		t.Fatalf("after disabling alarms: %v", got)
	}
	obsCheckState(t, r)
	r.cloud.ResetCalls()
	obsUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("re-run after disabling made %v", m)
	}
	// Enabled again: they come back.
	r.cfg.Alarms.Enabled = true
	obsUp(t, r)
	if a := r.cloud.Alarms(); len(a) != 12 {
		t.Fatalf("%d alarms after re-enabling", len(a))
	}
}

func TestAlarmInAlarmDegradesStatus(t *testing.T) {
	r := newRig(t, nil)
	obsUp(t, r)
	if !r.cloud.SetAlarmState("wbo-shard-1-target-5xx", "ALARM", "Threshold Crossed: 1 datapoint [42.0] was greater than the threshold (10.0).") {
		t.Fatal("alarm not found")
	}
	st := obsStatus(t, r)
	s := st["alarm-shard-1-target-5xx"]
	if s.Status != StatusDegraded || !strings.Contains(s.Reason, "wbo-shard-1-target-5xx") || !strings.Contains(s.Reason, "42.0") {
		t.Fatalf("status %+v", s)
	}
	if s.Info["state"] != "ALARM" {
		t.Fatalf("info %v", s.Info)
	}
	if o := st["alarm-shard-0-target-5xx"]; o.Status != StatusOK {
		t.Fatalf("other alarm %+v", o)
	}
	// A new alarm is INSUFFICIENT_DATA until CloudWatch has data: not degraded.
	if o := st["alarm-shard-0-cpu"]; o.Status != StatusOK || o.Info["state"] != "INSUFFICIENT_DATA" {
		t.Fatalf("fresh alarm %+v", o)
	}
}

func TestAlarmDriftIsRepaired(t *testing.T) {
	r := newRig(t, nil)
	obsUp(t, r)
	// Someone edits an alarm in the console: the next up puts it back.
	cl := r.clients()
	a := alarmsByName(r)["wbo-shard-0-memory"]
	_, err := cl.CloudWatch.PutMetricAlarm(context.Background(), obsInputFromLive(a, 50))
	if err != nil {
		t.Fatal(err)
	}
	st := obsStatus(t, r)
	if s := st["alarm-shard-0-memory"]; s.Status != StatusDrifted || !strings.Contains(s.Reason, "threshold: 50 → 90") {
		t.Fatalf("status %+v", s)
	}
	r.cloud.ResetCalls()
	obsUp(t, r)
	if m := r.cloud.MutatingCalls(); strings.Join(m, ",") != "CloudWatch.PutMetricAlarm" {
		t.Fatalf("repair made %v", m)
	}
	if got := aws.ToFloat64(alarmsByName(r)["wbo-shard-0-memory"].Threshold); got != 90 {
		t.Fatalf("threshold %v", got)
	}
}

func obsInputFromLive(a cwtypes.MetricAlarm, threshold float64) *cloudwatch.PutMetricAlarmInput {
	return &cloudwatch.PutMetricAlarmInput{
		AlarmName: a.AlarmName, AlarmDescription: a.AlarmDescription, ActionsEnabled: a.ActionsEnabled,
		AlarmActions: a.AlarmActions, OKActions: a.OKActions, Namespace: a.Namespace, MetricName: a.MetricName,
		Dimensions: a.Dimensions, Statistic: a.Statistic, ExtendedStatistic: a.ExtendedStatistic, Period: a.Period,
		EvaluationPeriods: a.EvaluationPeriods, DatapointsToAlarm: a.DatapointsToAlarm, Threshold: aws.Float64(threshold),
		ComparisonOperator: a.ComparisonOperator, TreatMissingData: a.TreatMissingData,
	}
}

func TestObservabilityDiscoverWithoutState(t *testing.T) {
	r := newRig(t, nil)
	obsUp(t, r)
	e, done := r.engine(obsGraph(r.cfg))
	defer done()
	recs, err := e.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, rec := range recs {
		names = append(names, rec.Name)
	}
	sort.Strings(names)
	owned := r.owned()
	if len(names) != len(owned) {
		t.Fatalf("discovered %v, the account has %v", names, owned)
	}
	if err := e.Destroy(context.Background(), recs).Err(); err != nil {
		t.Fatal(err)
	}
	if inv := r.cloud.Inventory(); len(inv) != 0 {
		t.Fatalf("left after a state-less destroy: %v", inv)
	}
}

func TestObservabilityNodesFollowTheGraph(t *testing.T) {
	c := config.Default()
	c.App.Mode, c.Redis.Mode = config.ModeShared, "none"
	g := obsGraph(&c)
	var alarms []string
	for _, n := range g.Nodes() {
		if n.Kind == "cloudwatch.alarm" {
			alarms = append(alarms, n.Name)
		}
	}
	sort.Strings(alarms)
	want := "alarm-app-cpu,alarm-app-memory,alarm-app-no-healthy-hosts,alarm-app-p95-latency,alarm-app-target-5xx,alarm-app-unhealthy-hosts"
	if strings.Join(alarms, ",") != want {
		t.Fatalf("alarms %v", alarms)
	}
	// Without the compute and load balancer tiers, no alarm and no widget
	// references them.
	bare := NewGraph()
	observabilityNodes(bare, &c)
	for _, n := range bare.Nodes() {
		if n.Kind == "cloudwatch.alarm" {
			t.Fatalf("alarm %s without anything to watch", n.Name)
		}
		if n.Name == "dashboard" && strings.Join(n.Deps, ",") != "log-group" {
			t.Fatalf("dashboard deps %v", n.Deps)
		}
	}
	if err := bare.Check(); err != nil {
		t.Fatal(err)
	}
	c.Alarms.Enabled, c.Dashboard.Enabled = false, false
	off := obsGraph(&c)
	for _, n := range off.Nodes() {
		if n.Kind == "cloudwatch.alarm" || n.Kind == "sns.topic" || n.Kind == "cloudwatch.dashboard" {
			t.Fatalf("%s declared with alarms and dashboard disabled", n.Name)
		}
	}
	if err := Build(&c).Check(); err != nil {
		t.Fatalf("full graph: %v", err)
	}
}
