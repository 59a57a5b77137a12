package provision

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/shard"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// shardConfig is the compute tier's small sharded configuration with n
// shards.
func shardConfig(n int) *config.Config {
	c := cmpSmallConfig(config.ModeSharded)
	c.App.Shards = n
	return c
}

// shardRecord returns a record of the rig's state by name.
func shardRecord(t *testing.T, r *rig, name string) state.Resource {
	t.Helper()
	for _, rec := range r.records() {
		if rec.Name == name {
			return rec
		}
	}
	t.Fatalf("%s is not in state", name)
	return state.Resource{}
}

// upWatching runs up on the whole graph, calling watch at the start of every
// node's work (from the engine's event stream, so synchronously with it).
func upWatching(t *testing.T, r *rig, watch func(node string)) *Result {
	t.Helper()
	st, err := state.Open(r.path, r.cfg.Stack, state.Options{ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	c := r.operator()
	if err := st.Bind(c.Account, c.Region); err != nil {
		t.Fatal(err)
	}
	var once sync.Map
	sink := func(ev Event) {
		if watch != nil && ev.Phase == PhaseStart {
			if _, seen := once.LoadOrStore(ev.Node, true); !seen {
				watch(ev.Node)
			}
		}
	}
	env := NewEnv(c, r.cfg, st, &Clock{Scale: r.scale}, sink)
	return (&Engine{Graph: computeGraph(r.cfg), Env: env}).Up(context.Background())
}

// liveTasks lists the tasks of the cluster that have not STOPPED, as
// "group status task-definition".
func liveTasks(t *testing.T, r *rig) []string {
	t.Helper()
	c := r.clients().ECS
	ctx := context.Background()
	var out []string
	for _, st := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
		list, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(r.cfg.Names().Cluster), DesiredStatus: st})
		if err != nil || len(list.TaskArns) == 0 {
			continue
		}
		d, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(r.cfg.Names().Cluster), Tasks: list.TaskArns})
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range d.Tasks {
			if aws.ToString(task.LastStatus) != "STOPPED" {
				out = append(out, aws.ToString(task.Group)+" "+aws.ToString(task.LastStatus)+" "+aws.ToString(task.TaskDefinitionArn))
			}
		}
	}
	return out
}

// checkShards checks that n shards run, one task each, whose sidecars own
// Partition(n), that the listener carries exactly Rules(n) and that the
// simulated load balancer sends every sample board's page, polling and
// WebSocket requests to its owner.
func checkShards(t *testing.T, r *rig, n int) {
	t.Helper()
	ctx := context.Background()
	parts := shard.Partition(n)
	for i := 0; i < n; i++ {
		s := cmpService(t, r, r.cfg.ShardName(i))
		if s.DesiredCount != 1 || s.RunningCount != 1 {
			t.Fatalf("shard %d: %d/%d tasks", i, s.RunningCount, s.DesiredCount)
		}
		td, err := r.clients().ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: s.TaskDefinition})
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		if n > 1 {
			want = shard.FormatKeys(parts[i])
		}
		for _, ctr := range td.TaskDefinition.ContainerDefinitions {
			got := ""
			for _, kv := range ctr.Environment {
				if aws.ToString(kv.Name) == "WBO_SHARD_KEYS" {
					got = aws.ToString(kv.Value)
				}
			}
			if name := aws.ToString(ctr.Name); name != wboContainer && got != want {
				t.Fatalf("shard %d container %s: WBO_SHARD_KEYS %q, want %q", i, name, got, want)
			}
		}
	}
	listener := shardRecord(t, r, "listener-http").ID
	rules, err := r.clients().ELB.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: aws.String(listener)})
	if err != nil {
		t.Fatal(err)
	}
	want, err := shard.Rules(n)
	if err != nil {
		t.Fatal(err)
	}
	var live []lbt.Rule // the board rules' range (hand-made rules go below it)
	for _, rule := range rules.Rules {
		if p, err := strconv.Atoi(aws.ToString(rule.Priority)); err == nil && p >= shard.FirstPriority {
			live = append(live, rule)
		}
	}
	if len(live) != len(want) {
		t.Fatalf("%d shards: the listener has %d rules, want %d", n, len(live), len(want))
	}
	tg := make([]string, n)
	for i := range tg {
		tg[i] = shardRecord(t, r, fmt.Sprintf("tg-shard-%d", i)).ID
	}
	for i, w := range want {
		l := live[i]
		if aws.ToString(l.Priority) != strconv.Itoa(w.Priority) || condKey(l.Conditions) != condKey(w.Conditions) || targetKey(l.Actions) != tg[w.Shard] {
			t.Fatalf("rule %d: got %s %s → %s, want %d %s → %s", i, aws.ToString(l.Priority), condKey(l.Conditions),
				targetKey(l.Actions), w.Priority, condKey(w.Conditions), tg[w.Shard])
		}
	}
	if n < 2 {
		return
	}
	for _, name := range []string{"abc", "Zebra", "bamoti-kelu-zaro-vifena", "тест", "日本語", "café", "élan", "(x)", "~t", "_u", "2024-plan", "한국어", "😀"} {
		enc := shard.EncodeURIComponent(name)
		key, _ := shard.KeyOfEncoded(enc)
		owner := tg[shard.Owner(n, key)]
		for _, req := range []awssim.HTTPRequest{
			{Method: "GET", Path: "/boards/" + enc},
			{Method: "GET", Path: "/socket.io/", RawQuery: "EIO=4&transport=polling&board=" + enc},
			{Method: "GET", Path: "/socket.io/", RawQuery: "EIO=4&transport=websocket&sid=abc&board=" + enc},
		} {
			got, err := r.cloud.Route(listener, req)
			if err != nil {
				t.Fatal(err)
			}
			if got != owner {
				t.Fatalf("%d shards: %s %s?%s went to %s, its owner is %s", n, req.Method, req.Path, req.RawQuery, got, owner)
			}
		}
	}
}

// checkShardingState is checkStateMatches for the stack's tagged resources
// (the kinds Untagged names have none), plus: the rules in the account are
// exactly those of the rules node in state.
func checkShardingState(t *testing.T, r *rig) {
	t.Helper()
	inState := map[string]string{}
	rulesNodes := 0
	for _, rec := range r.records() {
		if Untagged(rec.Kind) {
			if rec.Kind == "elbv2.routing-rules" {
				rulesNodes++
			}
			continue
		}
		inState[rec.Name] = rec.ID
	}
	live := 0
	ourRules := 0
	for _, res := range r.cloud.Inventory() {
		if res.Kind == "listener-rule" && strings.HasPrefix(res.Tags[TagRules], r.cfg.Stack+"/") {
			ourRules++
		}
		if res.Tags[TagStack] != r.cfg.Stack {
			continue
		}
		live++
		id, ok := inState[res.Tags[TagResource]]
		if !ok || (id != res.ID && !strings.Contains(id, res.ID)) {
			t.Fatalf("%s %s (%s) does not match state (%q)", res.Kind, res.Tags[TagResource], res.ID, id)
		}
	}
	if live != len(inState) {
		t.Fatalf("state has %d tagged resources, the account %d", len(inState), live)
	}
	if want := len(mustRules(t, r.cfg)); ourRules != want || (want > 0) != (rulesNodes == 1) {
		t.Fatalf("%d board rules in the account and %d rules nodes in state, want %d rules", ourRules, rulesNodes, want)
	}
}

func mustRules(t *testing.T, cfg *config.Config) []shard.Rule {
	t.Helper()
	if RoutingRulesNode(cfg) == "" {
		return nil
	}
	rules, err := shard.Rules(cfg.App.Shards)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

func planOf(t *testing.T, r *rig) *Result {
	t.Helper()
	e, done := r.engine(computeGraph(r.cfg))
	defer done()
	return e.Plan(context.Background(), false)
}

// TestShardingUpStatusReshardDestroy is the whole cycle: two shards up and
// routed, a second up that changes nothing, status, a re-shard to three
// (planned as such, with every old task stopped before the rules or any
// service change), back to two (the third shard's service and target group
// deleted), destroy.
func TestShardingUpStatusReshardDestroy(t *testing.T) {
	r := newRig(t, shardConfig(2))
	cmpUp(t, r)
	checkShards(t, r, 2)
	checkShardingState(t, r)

	r.cloud.ResetCalls()
	cmpUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}
	if ReshardPending(planOf(t, r)) {
		t.Fatal("a plan without change reports a re-shard")
	}
	st := cmpStatus(t, r)
	for name, s := range st {
		if s.Status != StatusOK {
			t.Errorf("status of %s: %s (%s)", name, s.Status, s.Reason)
		}
	}
	if got := st["rules-http"].Info["rules"]; !strings.HasPrefix(got, "7 board routing rules (5 socket.io") {
		t.Errorf("rules status: %q", got)
	}
	if got := st[ReshardNode].Info["shards"]; got != "2 configured, 2 running" {
		t.Errorf("gate status: %q", got)
	}

	// Re-shard to 3: plan says so, up stops every old task first.
	r.cfg.App.Shards = 3
	plan := planOf(t, r)
	if !ReshardPending(plan) {
		t.Fatal("plan does not report the re-shard")
	}
	for _, nr := range plan.Nodes {
		if nr.Name == ReshardNode {
			if len(nr.Changes) != 1 || !nr.Changes[0].Disruptive || !strings.Contains(nr.Changes[0].New, "without service") {
				t.Fatalf("gate change: %+v", nr.Changes)
			}
			if !strings.Contains(nr.Note, "re-shard") {
				t.Fatalf("gate plan note: %q", nr.Note)
			}
		}
	}
	// The task definitions the two shards run before the re-shard.
	var old []string
	for i := 0; i < 2; i++ {
		old = append(old, aws.ToString(cmpService(t, r, r.cfg.ShardName(i)).TaskDefinition))
	}
	var watched []string
	res := upWatching(t, r, func(node string) {
		if node == "rules-http" || strings.HasPrefix(node, "service-shard-") {
			for _, task := range liveTasks(t, r) {
				if len(watched) == 0 || slices.Contains(old, task[strings.LastIndexByte(task, ' ')+1:]) {
					t.Errorf("%s starts while a task of before the re-shard still runs: %s", node, task)
				}
			}
			watched = append(watched, node)
		}
	})
	if err := res.Err(); err != nil {
		t.Fatalf("re-shard up: %v", err)
	}
	if len(watched) != 4 {
		t.Fatalf("watched %v", watched)
	}
	checkShards(t, r, 3)
	checkShardingState(t, r)
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("up after the re-shard made mutating calls: %v", m)
	}

	// Back to 2: shard 2 stops with the others, then goes as an orphan.
	r.cfg.App.Shards = 2
	if !ReshardPending(planOf(t, r)) {
		t.Fatal("plan does not report the re-shard to 2")
	}
	cmpUp(t, r)
	checkShards(t, r, 2)
	checkShardingState(t, r)
	for _, res := range r.cloud.Inventory() {
		if strings.HasSuffix(res.Tags[TagResource], "shard-2") {
			t.Fatalf("left after the re-shard to 2: %s %s", res.Kind, res.Tags[TagResource])
		}
	}

	if err := r.destroy(computeGraph(r.cfg)).Err(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	for _, res := range r.cloud.Inventory() {
		if res.Kind == "listener-rule" || res.Service == "ECS" {
			t.Fatalf("left after destroy: %+v", res)
		}
	}
	if n := len(r.records()); n != 0 {
		t.Fatalf("state still has %d records", n)
	}
}

// TestReshardCrashAtEveryMutatingCall: for every mutating call of a re-shard
// from 2 to 3 shards, crash before or after it, then run up again: the
// account ends with 3 shards owning Partition(3), exactly the rules of 3
// shards, and state agreeing with the account. Each round then goes back to
// 2 shards (itself a re-shard) for the next crash point.
func TestReshardCrashAtEveryMutatingCall(t *testing.T) {
	r := newRig(t, shardConfig(2))
	cmpUp(t, r)
	// Count the re-shard's mutating calls once.
	r.cfg.App.Shards = 3
	r.cloud.ResetCalls()
	cmpUp(t, r)
	total := len(r.cloud.MutatingCalls())
	r.cfg.App.Shards = 2
	cmpUp(t, r)
	if total < 10 {
		t.Fatalf("a re-shard made only %d mutating calls", total)
	}
	t.Logf("a re-shard from 2 to 3 shards makes %d mutating calls", total)
	step := 1
	if testing.Short() {
		step = 4
	}
	for _, mode := range []awssim.CrashMode{awssim.CrashBefore, awssim.CrashAfter} {
		for k := 1; k <= total; k += step {
			r.cfg.App.Shards = 3
			r.cloud.ResetCalls()
			r.cloud.CrashAt(k, mode)
			err := r.up(computeGraph(r.cfg)).Err()
			crashed := r.cloud.Crashed()
			r.cloud.Revive()
			if crashed && err == nil {
				t.Fatalf("mode %d k=%d: up succeeded through a crash", mode, k)
			}
			if !crashed && k < total {
				t.Fatalf("mode %d k=%d: the crash never happened (%d calls)", mode, k, len(r.cloud.MutatingCalls()))
			}
			// Whatever the crash left, no board is served by two tasks.
			checkNoSharedKeys(t, r, fmt.Sprintf("mode %d k=%d after the crash", mode, k))
			if err := r.up(computeGraph(r.cfg)).Err(); err != nil {
				t.Fatalf("mode %d k=%d: re-run: %v", mode, k, err)
			}
			checkShards(t, r, 3)
			checkShardingState(t, r)
			r.cfg.App.Shards = 2
			if err := r.up(computeGraph(r.cfg)).Err(); err != nil {
				t.Fatalf("mode %d k=%d: back to 2: %v", mode, k, err)
			}
			checkShards(t, r, 2)
		}
	}
}

// checkNoSharedKeys fails when two live services' task definitions give
// their sidecars overlapping keys.
func checkNoSharedKeys(t *testing.T, r *rig, when string) {
	t.Helper()
	e, done := r.engine(computeGraph(r.cfg))
	defer done()
	o, err := reshardKind{}.observe(context.Background(), e.Env)
	if err != nil {
		t.Fatal(err)
	}
	owner := map[byte]string{}
	for _, s := range o.services {
		if !s.live() {
			continue
		}
		for _, k := range s.keys {
			if prev, dup := owner[k]; dup {
				t.Fatalf("%s: key %02x owned by live services %s and %s", when, k, prev, s.name)
			}
			owner[k] = s.name
		}
	}
}

// TestRoutingRulesConverge: rules changed, deleted or added by hand are put
// back with the fewest calls; a rule of someone else at one of our
// priorities stops up with a clear error and is never touched; a rule of
// someone else elsewhere is left alone.
func TestRoutingRulesConverge(t *testing.T) {
	r := newRig(t, shardConfig(3))
	cmpUp(t, r)
	ctx := context.Background()
	elb := r.clients().ELB
	listener := shardRecord(t, r, "listener-http").ID
	rules, err := elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: aws.String(listener)})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, rule := range rules.Rules {
		if !aws.ToBool(rule.IsDefault) {
			arns = append(arns, aws.ToString(rule.RuleArn))
		}
	}
	tg0 := shardRecord(t, r, "tg-shard-0").ID
	// Drift: one rule forwards elsewhere, one is gone, a stray of ours is added.
	if _, err := elb.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(arns[len(arns)-1]),
		Actions: []lbt.Action{{Type: lbt.ActionTypeEnumForward, TargetGroupArn: aws.String(tg0)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := elb.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: aws.String(arns[0])}); err != nil {
		t.Fatal(err)
	}
	e, done := r.engine(computeGraph(r.cfg))
	stray := &Node{Name: "rules-http"}
	if _, err := elb.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(400),
		Conditions: []lbt.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &lbt.PathPatternConditionConfig{Values: []string{"/stray"}}}},
		Actions:    []lbt.Action{{Type: lbt.ActionTypeEnumForward, TargetGroupArn: aws.String(tg0)}}, Tags: rulesTags(e.Env, stray.Name)}); err != nil {
		t.Fatal(err)
	}
	done()
	// Someone else's rule below our range stays.
	if _, err := elb.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(5),
		Conditions: []lbt.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &lbt.PathPatternConditionConfig{Values: []string{"/maintenance"}}}},
		Actions:    []lbt.Action{{Type: lbt.ActionTypeEnumFixedResponse, FixedResponseConfig: &lbt.FixedResponseActionConfig{StatusCode: aws.String("503")}}}}); err != nil {
		t.Fatal(err)
	}
	st := cmpStatus(t, r)
	if st["rules-http"].Status != StatusDrifted {
		t.Fatalf("status of drifted rules: %+v", st["rules-http"])
	}
	r.cloud.ResetCalls()
	cmpUp(t, r)
	got := r.cloud.MutatingCalls()
	slices.Sort(got)
	if want := []string{"Elastic Load Balancing v2.CreateRule", "Elastic Load Balancing v2.DeleteRule", "Elastic Load Balancing v2.ModifyRule"}; !slices.Equal(got, want) {
		t.Fatalf("converging made %v, want %v", got, want)
	}
	checkShards(t, r, 3)
	after, err := elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: aws.String(listener)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(after.Rules[0].Priority) != "5" {
		t.Fatalf("someone else's rule at priority 5 is gone: first rule is %s", aws.ToString(after.Rules[0].Priority))
	}

	// Someone else's rule at one of our priorities: up refuses.
	if _, err := elb.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: after.Rules[1].RuleArn}); err != nil {
		t.Fatal(err)
	}
	if _, err := elb.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(int32(shard.FirstPriority)),
		Conditions: []lbt.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &lbt.PathPatternConditionConfig{Values: []string{"/theirs"}}}},
		Actions:    []lbt.Action{{Type: lbt.ActionTypeEnumForward, TargetGroupArn: aws.String(tg0)}}}); err != nil {
		t.Fatal(err)
	}
	err = r.up(computeGraph(r.cfg)).Err()
	if err == nil || !strings.Contains(err.Error(), "did not create") {
		t.Fatalf("up with a foreign rule at priority %d: %v", shard.FirstPriority, err)
	}
}

// TestRoutingRulesPaging: with 5 shards (the most a listener's default
// action can forward to: 5 target groups per action) the rules take several
// DescribeRules pages; a second up still makes no call.
func TestRoutingRulesPaging(t *testing.T) {
	r := newRig(t, shardConfig(5))
	cmpUp(t, r)
	checkShards(t, r, 5)
	checkShardingState(t, r)
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}
	pages := 0
	for _, c := range r.cloud.Calls() {
		if c.Operation == "DescribeRules" {
			pages++
		}
	}
	if want := len(mustRules(t, r.cfg))/describeRulesPageSize + 1; pages < want {
		t.Fatalf("%d DescribeRules calls for %d rules", pages, len(mustRules(t, r.cfg)))
	}
}

func TestRoutingNodesInGraph(t *testing.T) {
	for _, tc := range []struct {
		mode   string
		shards int
		cert   bool
		rules  string
		gate   bool
	}{
		{config.ModeSharded, 2, false, "rules-http", true},
		{config.ModeSharded, 2, true, "rules-https", true},
		{config.ModeSharded, 1, false, "", true},
		{config.ModeSingle, 2, false, "", true},
		{config.ModeShared, 2, false, "", false},
	} {
		c := config.Default()
		c.App.Mode, c.App.Shards = tc.mode, tc.shards
		if tc.mode == config.ModeShared {
			c.App.SharesState = true
		}
		if tc.cert {
			c.LoadBalancer.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
		}
		g := Build(&c)
		if err := g.Check(); err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		var rules []string
		for _, n := range g.Nodes() {
			if n.Kind == "elbv2.routing-rules" {
				rules = append(rules, n.Name)
				if !slices.Contains(n.Deps, ReshardNode) || !slices.Contains(n.Deps, "listener-"+n.Role) || !slices.Contains(n.Deps, "tg-shard-1") {
					t.Fatalf("%+v: rules deps %v", tc, n.Deps)
				}
			}
			if n.Kind == "ecs.service" && strings.HasPrefix(n.Name, "service-shard-") && !slices.Contains(n.Deps, ReshardNode) {
				t.Fatalf("%+v: %s does not wait for the gate", tc, n.Name)
			}
		}
		if got := strings.Join(rules, ","); got != tc.rules {
			t.Fatalf("%+v: rules nodes %q", tc, got)
		}
		if _, ok := g.Node(ReshardNode); ok != tc.gate {
			t.Fatalf("%+v: gate present %v", tc, ok)
		}
	}
}

// boardRules counts the board rules (tagged for the stack) on a listener.
func boardRules(t *testing.T, r *rig, listener string) int {
	t.Helper()
	n := 0
	for _, res := range r.cloud.Inventory() {
		if res.Kind == "listener-rule" && strings.HasPrefix(res.ID, strings.Replace(listener, ":listener/", ":listener-rule/", 1)+"/") &&
			strings.HasPrefix(res.Tags[TagRules], r.cfg.Stack+"/") {
			n++
		}
	}
	return n
}

// TestRoutingRulesMoveToHTTPS: adding a certificate makes HTTP redirect, so
// the rules go to the HTTPS listener and leave the HTTP one.
func TestRoutingRulesMoveToHTTPS(t *testing.T) {
	r := newRig(t, shardConfig(2))
	cmpUp(t, r)
	httpL := shardRecord(t, r, "listener-http").ID
	if n := boardRules(t, r, httpL); n != 7 {
		t.Fatalf("%d rules on the HTTP listener", n)
	}
	r.cfg.LoadBalancer.CertificateARN = testCertARN(r)
	cmpUp(t, r)
	httpsL := shardRecord(t, r, "listener-https").ID
	if n := boardRules(t, r, httpL); n != 0 {
		t.Fatalf("%d board rules left on the redirecting HTTP listener", n)
	}
	if n := boardRules(t, r, httpsL); n != 7 {
		t.Fatalf("%d rules on the HTTPS listener", n)
	}
	if got := shardRecord(t, r, "rules-https").ID; got != httpsL {
		t.Fatalf("rules-https recorded as %s", got)
	}
	for _, rec := range r.records() {
		if rec.Name == "rules-http" {
			t.Fatal("rules-http still in state")
		}
	}
	enc := shard.EncodeURIComponent("bamoti")
	got, err := r.cloud.Route(httpsL, awssim.HTTPRequest{Method: "GET", Path: "/socket.io/", RawQuery: "EIO=4&board=" + enc})
	if err != nil || got != shardRecord(t, r, fmt.Sprintf("tg-shard-%d", shard.Owner(2, 'b'))).ID {
		t.Fatalf("HTTPS socket.io request routed to %s, %v", got, err)
	}
}

// TestRoutingRulesDestroyWithoutState: the rules node is found by its tag
// and destroy from discovery removes the rules; deleting rules that are
// already gone (or whose listener is) succeeds.
func TestRoutingRulesDestroyWithoutState(t *testing.T) {
	r := newRig(t, shardConfig(3))
	cmpUp(t, r)
	listener := shardRecord(t, r, "listener-http").ID
	rec := shardRecord(t, r, "rules-http")
	e, done := r.engine(computeGraph(r.cfg))
	defer done()
	ctx := context.Background()
	recs, err := e.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, d := range recs {
		if d.Kind == "elbv2.routing-rules" {
			found++
			if d.Name != "rules-http" || d.ID != listener {
				t.Fatalf("discovered %+v", d)
			}
		}
	}
	if found != 1 {
		t.Fatalf("discovered %d rules nodes", found)
	}
	k := routingRulesKind{}
	if err := k.Delete(ctx, e.Env, rec); err != nil {
		t.Fatal(err)
	}
	if n := boardRules(t, r, listener); n != 0 {
		t.Fatalf("%d rules left after Delete", n)
	}
	if err := k.Delete(ctx, e.Env, rec); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	gone := rec
	gone.ID = strings.Replace(listener, listener[strings.LastIndexByte(listener, '/')+1:], "0000000000000000", 1)
	if err := k.Delete(ctx, e.Env, gone); err != nil {
		t.Fatalf("Delete on a deleted listener: %v", err)
	}
	if err := e.Destroy(ctx, recs).Err(); err != nil {
		t.Fatalf("destroy from discovery: %v", err)
	}
	for _, res := range r.cloud.Inventory() {
		if res.Kind == "listener-rule" || res.Service == "ECS" {
			t.Fatalf("left: %+v", res)
		}
	}
}

// TestSingleToShardedIsAReshard: going from single mode (one task owning
// every board) to two shards stops the single task first.
func TestSingleToShardedIsAReshard(t *testing.T) {
	c := cmpSmallConfig(config.ModeSingle)
	r := newRig(t, c)
	cmpUp(t, r)
	checkShards(t, r, 1)
	r.cfg.App.Mode, r.cfg.App.Shards = config.ModeSharded, 2
	if !ReshardPending(planOf(t, r)) {
		t.Fatal("single -> 2 shards is not planned as a re-shard")
	}
	cmpUp(t, r)
	checkShards(t, r, 2)
	checkShardingState(t, r)
}
