package provision

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/shard"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// routingRulesKind provisions the board-affinity rules of one listener
// ("rules-http", or "rules-https" when a certificate is set and HTTP only
// redirects): the rules of shard.Rules, each forwarding to its shard's
// target group. It exists in sharded mode with more than one shard.
//
// The rules are ours when they carry the tag wbo-deploy:rules =
// "<stack>/<node>" (set in CreateRule, with the user's tags). They do not
// carry wbo-deploy:stack and wbo-deploy:resource: a rule is part of the
// node's rule set, not a stack resource of its own (like a security group's
// rules), and one node owns many rules. Converging is by priority:
// a missing rule is created, a different one modified, one of ours at a
// priority shard.Rules no longer uses deleted; a rule someone else created at
// one of our priorities is an error, never touched. The node's ID is the
// listener's ARN.
type routingRulesKind struct{}

// TagRules marks a listener rule as one of a rules node's: "<stack>/<node>".
const TagRules = "wbo-deploy:rules"

func rulesTagValue(stack, node string) string { return stack + "/" + node }

// rulesTags are the tags of a rule of node: the user's tags and TagRules.
func rulesTags(env *Env, node string) []lbt.Tag {
	keys := make([]string, 0, len(env.Cfg.Tags))
	for k := range env.Cfg.Tags {
		if k != TagStack && k != TagResource && k != TagRules {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	tags := []lbt.Tag{{Key: aws.String(TagRules), Value: aws.String(rulesTagValue(env.Stack(), node))}}
	for _, k := range keys {
		tags = append(tags, lbt.Tag{Key: aws.String(k), Value: aws.String(env.Cfg.Tags[k])})
	}
	return tags
}

func init() { Register(routingRulesKind{}) }

func (routingRulesKind) Type() string { return "elbv2.routing-rules" }

// describeRulesPageSize is small on purpose: a listener has at most a few
// dozen rules, and paging is then exercised by every test with 3+ shards.
const describeRulesPageSize = 10

// RoutingRulesNode is the rules node of the listener that forwards to the
// app: "rules-https" with a certificate (HTTP then only redirects), else
// "rules-http"; "" when the configuration has no board rules (shared mode,
// one shard).
func RoutingRulesNode(cfg *config.Config) string {
	if cfg.App.Mode != config.ModeSharded || cfg.App.Shards < 2 {
		return ""
	}
	if cfg.HTTPS() {
		return "rules-https"
	}
	return "rules-http"
}

// liveRule is a listener rule as DescribeRules and DescribeTags report it.
type liveRule struct {
	arn      string
	priority int
	conds    string // canonical conditions (condKey)
	targets  string // canonical forward targets (targetKey)
	ours     bool
}

type rulesObs struct {
	listener string
	rules    []liveRule // non-default rules, by priority
}

// wantRule is a rule the configuration asks for.
type wantRule struct {
	shard.Rule
	target string // target group ARN
}

func listenerNodeOf(n *Node) string { return "listener-" + n.Role }

func (k routingRulesKind) desired(env *Env) ([]wantRule, error) {
	rules, err := shard.Rules(env.Cfg.App.Shards)
	if err != nil {
		return nil, err
	}
	out := make([]wantRule, len(rules))
	for i, r := range rules {
		arn, err := env.RefID(fmt.Sprintf("tg-shard-%d", r.Shard))
		if err != nil {
			return nil, err
		}
		out[i] = wantRule{Rule: r, target: arn}
	}
	return out, nil
}

// condKey is a canonical form of conditions: AWS echoes path patterns both
// in Values and in PathPatternConfig, so both are merged, and values are
// sorted.
func condKey(conds []lbt.RuleCondition) string {
	var parts []string
	for _, c := range conds {
		f := aws.ToString(c.Field)
		var vals, res []string
		vals = append(vals, c.Values...)
		res = append(res, c.RegexValues...)
		switch {
		case c.PathPatternConfig != nil:
			vals = append(vals, c.PathPatternConfig.Values...)
			res = append(res, c.PathPatternConfig.RegexValues...)
		case c.HostHeaderConfig != nil:
			vals = append(vals, c.HostHeaderConfig.Values...)
			res = append(res, c.HostHeaderConfig.RegexValues...)
		case c.HttpHeaderConfig != nil:
			f += "(" + strings.ToLower(aws.ToString(c.HttpHeaderConfig.HttpHeaderName)) + ")"
			vals = append(vals, c.HttpHeaderConfig.Values...)
			res = append(res, c.HttpHeaderConfig.RegexValues...)
		case c.HttpRequestMethodConfig != nil:
			vals = append(vals, c.HttpRequestMethodConfig.Values...)
		case c.SourceIpConfig != nil:
			vals = append(vals, c.SourceIpConfig.Values...)
		case c.QueryStringConfig != nil:
			for _, kv := range c.QueryStringConfig.Values {
				vals = append(vals, aws.ToString(kv.Key)+"="+aws.ToString(kv.Value))
			}
		}
		p := f
		if len(vals) > 0 {
			p += " " + strings.Join(sortedUnique(vals), " | ")
		}
		if len(res) > 0 {
			p += " ~ " + strings.Join(sortedUnique(res), " | ")
		}
		parts = append(parts, p)
	}
	sort.Strings(parts)
	return strings.Join(parts, " AND ")
}

func sortedUnique(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	j := 0
	for i, v := range out {
		if i == 0 || v != out[j-1] {
			out[j] = v
			j++
		}
	}
	return out[:j]
}

// targetKey is the target groups a rule's action forwards to (weight > 0),
// or the action type for anything but a forward.
func targetKey(actions []lbt.Action) string {
	var tgs []string
	for _, a := range actions {
		if a.Type != lbt.ActionTypeEnumForward {
			return string(a.Type)
		}
		if arn := aws.ToString(a.TargetGroupArn); arn != "" {
			tgs = append(tgs, arn)
		}
		if a.ForwardConfig != nil {
			for _, t := range a.ForwardConfig.TargetGroups {
				if t.Weight == nil || *t.Weight > 0 {
					tgs = append(tgs, aws.ToString(t.TargetGroupArn))
				}
			}
		}
	}
	return strings.Join(sortedUnique(tgs), ",")
}

// tgLabel shortens target group ARNs to their names, for people.
func tgLabel(key string) string {
	var out []string
	for _, arn := range strings.Split(key, ",") {
		if i := strings.Index(arn, ":targetgroup/"); i >= 0 {
			name := arn[i+len(":targetgroup/"):]
			if j := strings.IndexByte(name, '/'); j >= 0 {
				name = name[:j]
			}
			arn = name
		}
		out = append(out, arn)
	}
	return strings.Join(out, ",")
}

func (k routingRulesKind) observe(ctx context.Context, env *Env, n *Node, listener string) (*Observed, error) {
	var all []lbt.Rule
	p := elbv2.NewDescribeRulesPaginator(env.AWS.ELB, &elbv2.DescribeRulesInput{ListenerArn: aws.String(listener), PageSize: aws.Int32(describeRulesPageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if awserr.IsNotFound(err) {
			return nil, nil // the listener is gone, and its rules with it
		}
		if err != nil {
			return nil, fmt.Errorf("describe rules of listener %s: %w", listener, err)
		}
		all = append(all, page.Rules...)
	}
	var arns []string
	for _, r := range all {
		if !aws.ToBool(r.IsDefault) {
			arns = append(arns, aws.ToString(r.RuleArn))
		}
	}
	tags, err := elbTagsOf(ctx, env, arns)
	if err != nil {
		return nil, fmt.Errorf("rules of listener %s: %w", listener, err)
	}
	raw := &rulesObs{listener: listener}
	for _, r := range all {
		if aws.ToBool(r.IsDefault) {
			continue
		}
		prio, err := strconv.Atoi(aws.ToString(r.Priority))
		if err != nil {
			return nil, fmt.Errorf("rule %s has priority %q", aws.ToString(r.RuleArn), aws.ToString(r.Priority))
		}
		t := tags[aws.ToString(r.RuleArn)]
		raw.rules = append(raw.rules, liveRule{arn: aws.ToString(r.RuleArn), priority: prio, conds: condKey(r.Conditions),
			targets: targetKey(r.Actions), ours: t[TagRules] == rulesTagValue(env.Stack(), n.Name)})
	}
	sort.Slice(raw.rules, func(i, j int) bool { return raw.rules[i].priority < raw.rules[j].priority })
	obs := &Observed{Rec: NewRecord(n, listener), State: "active", Raw: raw}
	obs.Rec.ARN = listener
	ours, socket := 0, 0
	for _, r := range raw.rules {
		if r.ours {
			ours++
			if strings.Contains(r.conds, shard.SocketPath) {
				socket++
			}
		}
	}
	obs.Rec.Attrs["rules"] = strconv.Itoa(ours)
	obs.Info = map[string]string{"rules": fmt.Sprintf("%d board routing rules (%d socket.io, %d board pages)", ours, socket, ours-socket)}
	return obs, nil
}

func (k routingRulesKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	listener, _ := env.RefID(listenerNodeOf(n))
	if listener == "" && rec != nil {
		listener = rec.ID
	}
	if listener == "" {
		return nil, nil
	}
	obs, err := k.observe(ctx, env, n, listener)
	if err != nil || obs == nil {
		return nil, err
	}
	if rec == nil && obs.Rec.Attrs["rules"] == "0" {
		return nil, nil // nothing of ours yet: Create
	}
	return obs, nil
}

// Create converges an empty (or foreign-only) rule set: the same work as
// Update, recorded as soon as the listener is known.
func (k routingRulesKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	listener, err := env.RefID(listenerNodeOf(n))
	if err != nil {
		return nil, err
	}
	rec := NewRecord(n, listener)
	rec.ARN = listener
	if err := env.Record(rec); err != nil {
		return nil, err
	}
	obs, err := k.observe(ctx, env, n, listener)
	if err != nil {
		return nil, err
	}
	if obs == nil {
		return nil, fmt.Errorf("listener %s not found", listener)
	}
	if err := k.Update(ctx, env, n, obs, k.Diff(env, n, obs)); err != nil {
		return nil, err
	}
	return obs, nil
}

// ruleModify is a live rule of ours (arn) to rewrite as want.
type ruleModify struct {
	arn  string
	want wantRule
}

// plan compares the live rules with the wanted ones.
type rulesPlan struct {
	create  []wantRule
	modify  []ruleModify
	remove  []liveRule
	foreign []liveRule // someone else's rule at one of our priorities
}

func (k routingRulesKind) plan(env *Env, raw *rulesObs) (rulesPlan, []wantRule, error) {
	want, err := k.desired(env)
	if err != nil {
		return rulesPlan{}, nil, err
	}
	var p rulesPlan
	byPrio := map[int]liveRule{}
	for _, r := range raw.rules {
		byPrio[r.priority] = r
	}
	wanted := map[int]bool{}
	for _, w := range want {
		wanted[w.Priority] = true
		live, ok := byPrio[w.Priority]
		switch {
		case !ok:
			p.create = append(p.create, w)
		case !live.ours:
			p.foreign = append(p.foreign, live)
		case live.conds != condKey(w.Conditions) || live.targets != w.target:
			p.modify = append(p.modify, ruleModify{live.arn, w})
		}
	}
	for _, r := range raw.rules {
		if r.ours && !wanted[r.priority] {
			p.remove = append(p.remove, r)
		}
	}
	return p, want, nil
}

func describeWant(w wantRule) string {
	return condKey(w.Conditions) + " → " + tgLabel(w.target)
}

func (k routingRulesKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	raw := obs.Raw.(*rulesObs)
	p, _, err := k.plan(env, raw)
	if err != nil {
		return []Change{{Field: "rules", Old: "?", New: err.Error()}}
	}
	var cs []Change
	live := map[string]liveRule{}
	for _, r := range raw.rules {
		live[r.arn] = r
	}
	for _, f := range p.foreign {
		cs = append(cs, Change{Field: fmt.Sprintf("rule %d", f.priority), Old: "a rule wbo-deploy did not create: " + f.conds,
			New: "wbo-deploy's board rule (move the other rule to a priority below " + strconv.Itoa(shard.FirstPriority) + ")"})
	}
	for _, m := range p.modify {
		l := live[m.arn]
		cs = append(cs, Change{Field: fmt.Sprintf("rule %d", m.want.Priority), Old: l.conds + " → " + tgLabel(l.targets), New: describeWant(m.want)})
	}
	for _, c := range p.create {
		cs = append(cs, Change{Field: fmt.Sprintf("rule %d", c.Priority), Old: "(none)", New: describeWant(c)})
	}
	for _, r := range p.remove {
		cs = append(cs, Change{Field: fmt.Sprintf("rule %d", r.priority), Old: r.conds + " → " + tgLabel(r.targets), New: "(deleted)"})
	}
	return cs
}

// ForeignRuleError is a rule wbo-deploy did not create at a priority the
// board rules need.
type ForeignRuleError struct {
	Listener string
	Priority int
	Rule     string
}

func (e *ForeignRuleError) Error() string {
	return fmt.Sprintf("listener %s: priority %d is taken by rule %s, which wbo-deploy did not create; the board routing rules use priorities %d and up: move that rule below %d or delete it",
		e.Listener, e.Priority, e.Rule, shard.FirstPriority, shard.FirstPriority)
}

// Update deletes our rules that are no longer wanted first (freeing rule
// quota), then modifies and creates, in priority order.
func (k routingRulesKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, _ []Change) error {
	raw := obs.Raw.(*rulesObs)
	p, _, err := k.plan(env, raw)
	if err != nil {
		return err
	}
	if len(p.foreign) > 0 {
		f := p.foreign[0]
		return &ForeignRuleError{Listener: raw.listener, Priority: f.priority, Rule: f.arn}
	}
	for _, r := range p.remove {
		if _, err := env.AWS.ELB.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: aws.String(r.arn)}); err != nil && !awserr.IsNotFound(err) {
			return fmt.Errorf("delete rule %d of listener %s: %w", r.priority, raw.listener, err)
		}
	}
	forward := func(w wantRule) []lbt.Action {
		return []lbt.Action{{Type: lbt.ActionTypeEnumForward, TargetGroupArn: aws.String(w.target)}}
	}
	for _, m := range p.modify {
		_, err := env.AWS.ELB.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(m.arn), Conditions: m.want.Conditions, Actions: forward(m.want)})
		if err != nil {
			return fmt.Errorf("modify rule %d of listener %s: %w", m.want.Priority, raw.listener, err)
		}
	}
	for _, c := range p.create {
		_, err := env.AWS.ELB.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(raw.listener), Priority: aws.Int32(int32(c.Priority)),
			Conditions: c.Conditions, Actions: forward(c), Tags: rulesTags(env, n.Name)})
		if err != nil {
			// An endpoint without regex matching refuses the rule with a
			// validation code, fails on it (5xx), or answers something that
			// is not an AWS error document at all (awserr.EndpointError).
			if usesRegex(c.Conditions) && (awserr.IsEndpointError(err) ||
				awserr.HasCode(err, "ValidationError", "InvalidConditionValue", "InvalidConfigurationRequest", "InternalFailure", "InternalError")) {
				return fmt.Errorf("create rule %d of listener %s: %w (board routing needs path-pattern regex values, "+
					"which this load balancer endpoint refused: an emulator or partition without ALB regex matching? "+
					"app.mode: single needs no rules)", c.Priority, raw.listener, err)
			}
			return fmt.Errorf("create rule %d of listener %s: %w", c.Priority, raw.listener, err)
		}
	}
	fresh, err := k.observe(ctx, env, n, raw.listener)
	if err != nil {
		return err
	}
	if fresh != nil {
		*obs = *fresh
	}
	return nil
}

// Delete removes this node's rules from the listener (a deleted listener
// took its rules with it).
func (k routingRulesKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	n := &Node{Name: rec.Name, Kind: rec.Kind}
	obs, err := k.observe(ctx, env, n, rec.ID)
	if err != nil || obs == nil {
		return err
	}
	for _, r := range obs.Raw.(*rulesObs).rules {
		if !r.ours {
			continue
		}
		if _, err := env.AWS.ELB.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: aws.String(r.arn)}); err != nil && !awserr.IsNotFound(err) {
			return fmt.Errorf("delete rule %d of listener %s: %w", r.priority, rec.ID, err)
		}
	}
	return nil
}

// Discover finds, on the stack's listeners, the rules tagged for the stack
// by a rules node: one record per listener and node.
func (k routingRulesKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	ls, err := stackListeners(ctx, env)
	if err != nil {
		return nil, err
	}
	var out []state.Resource
	for _, l := range ls {
		arn := aws.ToString(l.ListenerArn)
		names, err := k.ruleOwners(ctx, env, arn)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			out = append(out, state.Resource{Name: name, Kind: k.Type(), ID: arn, ARN: arn, Attrs: map[string]string{}})
		}
	}
	return out, nil
}

// ruleOwners lists the rules nodes of this stack that own rules on a listener.
func (k routingRulesKind) ruleOwners(ctx context.Context, env *Env, listener string) ([]string, error) {
	var arns []string
	p := elbv2.NewDescribeRulesPaginator(env.AWS.ELB, &elbv2.DescribeRulesInput{ListenerArn: aws.String(listener), PageSize: aws.Int32(describeRulesPageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if awserr.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("describe rules of listener %s: %w", listener, err)
		}
		for _, r := range page.Rules {
			if !aws.ToBool(r.IsDefault) {
				arns = append(arns, aws.ToString(r.RuleArn))
			}
		}
	}
	tags, err := elbTagsOf(ctx, env, arns)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, arn := range arns {
		stack, name, ok := strings.Cut(tags[arn][TagRules], "/")
		if ok && stack == env.Stack() && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (routingRulesKind) PlanNote(env *Env, n *Node) string {
	rules, err := shard.Rules(env.Cfg.App.Shards)
	if err != nil {
		return err.Error()
	}
	socket := 0
	for _, r := range rules {
		if r.Kind == shard.KindSocket {
			socket++
		}
	}
	return fmt.Sprintf("%d listener rules sending each board to its shard: %d for socket.io (board= query), %d for board pages, downloads and previews",
		len(rules), socket, len(rules)-socket)
}

// addShardingNodes declares the re-shard gate (sharded and single mode) and
// the routing rules node (sharded mode with 2+ shards), for graph.go.
func addShardingNodes(g *Graph, cfg *config.Config, targetGroups []string) {
	if cfg.App.Mode == config.ModeShared {
		return
	}
	// The gate needs no dependency: it finds the cluster by name, and a
	// cluster that does not exist yet runs nothing.
	g.Add(&Node{Name: ReshardNode, Kind: "ecs.reshard"})
	if name := RoutingRulesNode(cfg); name != "" {
		role := strings.TrimPrefix(name, "rules-")
		deps := append([]string{"listener-" + role, ReshardNode}, targetGroups...)
		g.Add(&Node{Name: name, Kind: "elbv2.routing-rules", Deps: deps, Role: role})
	}
}

// usesRegex reports whether a rule has regex path values.
func usesRegex(conds []lbt.RuleCondition) bool {
	for _, c := range conds {
		if c.PathPatternConfig != nil && len(c.PathPatternConfig.RegexValues) > 0 {
			return true
		}
	}
	return false
}
