package provision

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// targetGroupKind provisions one target group per ECS service (Node.Index
// picks the name from config.Names().TargetGroups): IP targets (Fargate),
// HTTP on the app port, health checks on load_balancer.health_check_path and
// lb_cookie stickiness.
type targetGroupKind struct{}

func init() { Register(targetGroupKind{}) }

func (targetGroupKind) Type() string { return "elbv2.target-group" }

// Health check settings (issue 4): success codes 200-399, every 15 s, healthy
// after 2 successes, unhealthy after 3 failures, 5 s timeout.
const (
	tgMatcher   = "200-399"
	tgInterval  = 15
	tgHealthy   = 2
	tgUnhealthy = 3
	tgTimeout   = 5
)

// Target group attribute keys (ELBv2 API reference, TargetGroupAttribute).
const (
	attrDeregDelay     = "deregistration_delay.timeout_seconds"
	attrStickiness     = "stickiness.enabled"
	attrStickinessType = "stickiness.type"
	attrStickinessDur  = "stickiness.lb_cookie.duration_seconds"
)

type tgHealth struct {
	protocol, port, path, matcher      string
	interval, timeout, healthy, unheal int32
	enabled                            bool
}

type tgObs struct {
	protocol, targetType, vpc string
	port                      int32
	hc                        tgHealth
	attrs                     map[string]string
}

type tgWant struct {
	name  string
	vpc   string
	port  int32
	hc    tgHealth
	attrs map[string]string
}

func (k targetGroupKind) want(env *Env, n *Node) (tgWant, error) {
	names := env.Cfg.Names().TargetGroups
	if n.Index < 0 || n.Index >= len(names) {
		return tgWant{}, fmt.Errorf("no target group %d in the configuration (%d services)", n.Index, len(names))
	}
	vpc, err := env.RefID("vpc")
	if err != nil {
		return tgWant{}, err
	}
	lb := env.Cfg.LoadBalancer
	return tgWant{
		name: names[n.Index], vpc: vpc, port: int32(env.Cfg.App.Port),
		hc: tgHealth{protocol: "HTTP", port: "traffic-port", path: env.Cfg.EffectiveHealthCheckPath(), matcher: tgMatcher,
			interval: tgInterval, timeout: tgTimeout, healthy: tgHealthy, unheal: tgUnhealthy, enabled: true},
		attrs: map[string]string{
			attrDeregDelay:     strconv.Itoa(lb.DeregistrationDelay),
			attrStickiness:     strconv.FormatBool(lb.Stickiness),
			attrStickinessType: "lb_cookie",
			attrStickinessDur:  strconv.Itoa(lb.StickinessDuration),
		},
	}, nil
}

func (k targetGroupKind) observe(ctx context.Context, env *Env, n *Node, tg lbt.TargetGroup) (*Observed, error) {
	arn := aws.ToString(tg.TargetGroupArn)
	raw := &tgObs{protocol: string(tg.Protocol), targetType: string(tg.TargetType), vpc: aws.ToString(tg.VpcId), port: aws.ToInt32(tg.Port),
		hc: tgHealth{protocol: string(tg.HealthCheckProtocol), port: aws.ToString(tg.HealthCheckPort), path: aws.ToString(tg.HealthCheckPath),
			interval: aws.ToInt32(tg.HealthCheckIntervalSeconds), timeout: aws.ToInt32(tg.HealthCheckTimeoutSeconds),
			healthy: aws.ToInt32(tg.HealthyThresholdCount), unheal: aws.ToInt32(tg.UnhealthyThresholdCount), enabled: aws.ToBool(tg.HealthCheckEnabled)},
		attrs: map[string]string{}}
	if tg.Matcher != nil {
		raw.hc.matcher = aws.ToString(tg.Matcher.HttpCode)
	}
	attrs, err := env.AWS.ELB.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("describe target group %s attributes: %w", arn, err)
	}
	for _, a := range attrs.Attributes {
		raw.attrs[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	obs := &Observed{Rec: NewRecord(n, arn), State: "active", Raw: raw}
	obs.Rec.ARN = arn
	obs.Rec.Attrs["name"] = aws.ToString(tg.TargetGroupName)
	obs.Rec.Attrs["arn_suffix"] = "targetgroup/" + arnSuffix(arn, ":targetgroup/")
	health, err := env.AWS.ELB.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("describe target health of %s: %w", arn, err)
	}
	total, healthy, draining := 0, 0, 0
	var bad []string
	for _, d := range health.TargetHealthDescriptions {
		if d.TargetHealth == nil || d.Target == nil {
			continue
		}
		st := d.TargetHealth.State
		if st == lbt.TargetHealthStateEnumDraining {
			draining++
			continue // leaving: not counted
		}
		total++
		switch st {
		case lbt.TargetHealthStateEnumHealthy:
			healthy++
		case lbt.TargetHealthStateEnumUnhealthy, lbt.TargetHealthStateEnumUnavailable, lbt.TargetHealthStateEnumUnhealthyDraining:
			bad = append(bad, fmt.Sprintf("%s %s (%s)", aws.ToString(d.Target.Id), st, d.TargetHealth.Reason))
		}
	}
	obs.Info = map[string]string{"targets": fmt.Sprintf("%d/%d healthy", healthy, total)}
	switch {
	case len(bad) > 0:
		obs.Health = &Health{OK: false, Reason: fmt.Sprintf("%d of %d targets unhealthy: %s", len(bad), total, strings.Join(bad, ", "))}
	case total == 0:
		// Every target group of the stack belongs to one ECS service with at
		// least one task, and ECS registers each task with the target groups
		// of the service's loadBalancers (ECS developer guide, "Use load
		// balancing to distribute Amazon ECS service traffic"). No target at
		// all means the service is not attached to this group (or its tasks
		// never started): the load balancer has nowhere to send its traffic.
		reason := "no registered target: the ECS service is not attached to this target group, or none of its tasks is running " +
			"(check the service's load balancer settings and its events; `wbo-deploy up` re-attaches a service whose load balancer settings differ)"
		if draining > 0 {
			reason = fmt.Sprintf("no registered target (%d draining): ", draining) + strings.TrimPrefix(reason, "no registered target: ")
		}
		obs.Health = &Health{OK: false, Reason: reason}
	default:
		obs.Health = &Health{OK: true}
	}
	return obs, nil
}

func (k targetGroupKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	if rec != nil && rec.ID != "" {
		out, err := env.AWS.ELB.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{rec.ID}})
		if err != nil && !awserr.IsNotFound(err) {
			return nil, fmt.Errorf("describe target group %s: %w", rec.ID, err)
		}
		if err == nil && len(out.TargetGroups) == 1 {
			return k.observe(ctx, env, n, out.TargetGroups[0])
		}
	}
	names := env.Cfg.Names().TargetGroups
	if n.Index < 0 || n.Index >= len(names) {
		return nil, nil // no longer configured (status of an orphan without a record)
	}
	out, err := env.AWS.ELB.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{names[n.Index]}})
	if awserr.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find target group %s: %w", names[n.Index], err)
	}
	if len(out.TargetGroups) != 1 {
		return nil, nil
	}
	tg := out.TargetGroups[0]
	if err := checkOwned(ctx, env, n, "target group", names[n.Index], aws.ToString(tg.TargetGroupArn)); err != nil {
		return nil, err
	}
	return k.observe(ctx, env, n, tg)
}

func (k targetGroupKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	w, err := k.want(env, n)
	if err != nil {
		return nil, err
	}
	out, err := env.AWS.ELB.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String(w.name), Protocol: lbt.ProtocolEnumHttp, ProtocolVersion: aws.String("HTTP1"), Port: aws.Int32(w.port),
		VpcId: aws.String(w.vpc), TargetType: lbt.TargetTypeEnumIp, IpAddressType: lbt.TargetGroupIpAddressTypeEnumIpv4,
		HealthCheckEnabled: aws.Bool(true), HealthCheckProtocol: lbt.ProtocolEnumHttp, HealthCheckPort: aws.String(w.hc.port),
		HealthCheckPath: aws.String(w.hc.path), HealthCheckIntervalSeconds: aws.Int32(w.hc.interval),
		HealthCheckTimeoutSeconds: aws.Int32(w.hc.timeout), HealthyThresholdCount: aws.Int32(w.hc.healthy),
		UnhealthyThresholdCount: aws.Int32(w.hc.unheal), Matcher: &lbt.Matcher{HttpCode: aws.String(w.hc.matcher)},
		Tags: elbTags(env, n.Name),
	})
	if err != nil {
		return nil, fmt.Errorf("create target group %s: %w", w.name, err)
	}
	if len(out.TargetGroups) != 1 {
		return nil, fmt.Errorf("create target group %s: AWS returned %d target groups", w.name, len(out.TargetGroups))
	}
	tg := out.TargetGroups[0]
	rec := NewRecord(n, aws.ToString(tg.TargetGroupArn))
	rec.ARN = rec.ID
	rec.Attrs["name"] = w.name
	rec.Attrs["arn_suffix"] = "targetgroup/" + arnSuffix(rec.ID, ":targetgroup/")
	if err := env.Record(rec); err != nil {
		return nil, err
	}
	return k.observe(ctx, env, n, tg)
}

func (k targetGroupKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	raw := obs.Raw.(*tgObs)
	w, err := k.want(env, n)
	if err != nil {
		return []Change{{Field: "configuration", Old: "?", New: err.Error()}}
	}
	var cs []Change
	why := "a target group's protocol, port, target type and VPC cannot change; its service is re-registered with the new group"
	replace := func(field, old, new string) {
		if old != new {
			cs = append(cs, Change{Field: field, Old: old, New: new, Replace: true, Why: why})
		}
	}
	replace("protocol", raw.protocol, "HTTP")
	replace("port", strconv.Itoa(int(raw.port)), strconv.Itoa(int(w.port)))
	replace("target_type", raw.targetType, "ip")
	replace("vpc", raw.vpc, w.vpc)
	inPlace := func(field, old, new string) {
		if old != new {
			cs = append(cs, Change{Field: field, Old: old, New: new})
		}
	}
	hc, want := raw.hc, w.hc
	inPlace("health_check.enabled", strconv.FormatBool(hc.enabled), strconv.FormatBool(want.enabled))
	inPlace("health_check.protocol", hc.protocol, want.protocol)
	inPlace("health_check.port", hc.port, want.port)
	inPlace("health_check.path", hc.path, want.path)
	inPlace("health_check.matcher", hc.matcher, want.matcher)
	inPlace("health_check.interval", strconv.Itoa(int(hc.interval)), strconv.Itoa(int(want.interval)))
	inPlace("health_check.timeout", strconv.Itoa(int(hc.timeout)), strconv.Itoa(int(want.timeout)))
	inPlace("health_check.healthy_threshold", strconv.Itoa(int(hc.healthy)), strconv.Itoa(int(want.healthy)))
	inPlace("health_check.unhealthy_threshold", strconv.Itoa(int(hc.unheal)), strconv.Itoa(int(want.unheal)))
	for _, key := range sortedKeys(w.attrs) {
		inPlace(key, raw.attrs[key], w.attrs[key])
	}
	return cs
}

func (k targetGroupKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	raw := obs.Raw.(*tgObs)
	w, err := k.want(env, n)
	if err != nil {
		return err
	}
	arn := obs.Rec.ID
	healthChanged := false
	var attrs []lbt.TargetGroupAttribute
	for _, c := range changes {
		switch {
		case strings.HasPrefix(c.Field, "health_check."):
			healthChanged = true
		default:
			if v, ok := w.attrs[c.Field]; ok {
				attrs = append(attrs, lbt.TargetGroupAttribute{Key: aws.String(c.Field), Value: aws.String(v)})
			}
		}
	}
	if healthChanged {
		// Health checks change in place (ModifyTargetGroup), all together so
		// the timeout < interval rule holds for the final values.
		_, err := env.AWS.ELB.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{
			TargetGroupArn: aws.String(arn), HealthCheckEnabled: aws.Bool(true), HealthCheckProtocol: lbt.ProtocolEnumHttp,
			HealthCheckPort: aws.String(w.hc.port), HealthCheckPath: aws.String(w.hc.path),
			HealthCheckIntervalSeconds: aws.Int32(w.hc.interval), HealthCheckTimeoutSeconds: aws.Int32(w.hc.timeout),
			HealthyThresholdCount: aws.Int32(w.hc.healthy), UnhealthyThresholdCount: aws.Int32(w.hc.unheal),
			Matcher: &lbt.Matcher{HttpCode: aws.String(w.hc.matcher)},
		})
		if err != nil {
			return fmt.Errorf("modify health check of target group %s: %w", arn, err)
		}
		raw.hc = w.hc
	}
	if len(attrs) > 0 {
		if _, err := env.AWS.ELB.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn), Attributes: attrs}); err != nil {
			return fmt.Errorf("modify target group %s attributes: %w", arn, err)
		}
		for _, a := range attrs {
			raw.attrs[aws.ToString(a.Key)] = aws.ToString(a.Value)
		}
	}
	return nil
}

// Delete removes the target group. While a listener or rule still forwards
// to it AWS answers ResourceInUse, which the engine retries.
func (k targetGroupKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	_, err := env.AWS.ELB.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(rec.ID)})
	if err != nil && !awserr.IsNotFound(err) {
		return fmt.Errorf("delete target group %s: %w", rec.ID, err)
	}
	return nil
}

func (k targetGroupKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var all []lbt.TargetGroup
	p := elbv2.NewDescribeTargetGroupsPaginator(env.AWS.ELB, &elbv2.DescribeTargetGroupsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe target groups: %w", err)
		}
		all = append(all, page.TargetGroups...)
	}
	var arns []string
	for _, tg := range all {
		arns = append(arns, aws.ToString(tg.TargetGroupArn))
	}
	tags, err := elbTagsOf(ctx, env, arns)
	if err != nil {
		return nil, err
	}
	var out []state.Resource
	for _, tg := range all {
		arn := aws.ToString(tg.TargetGroupArn)
		if tags[arn][TagStack] == env.Stack() {
			out = append(out, state.Resource{Name: tags[arn][TagResource], Kind: k.Type(), ID: arn, ARN: arn,
				Attrs: map[string]string{"name": aws.ToString(tg.TargetGroupName)}})
		}
	}
	return out, nil
}

func (targetGroupKind) PlanNote(env *Env, n *Node) string {
	lb := env.Cfg.LoadBalancer
	note := fmt.Sprintf("IP targets, HTTP :%d, health check %s (%s)", env.Cfg.App.Port, env.Cfg.EffectiveHealthCheckPath(), tgMatcher)
	if lb.Stickiness {
		note += fmt.Sprintf(", sticky sessions %s", humanSeconds(lb.StickinessDuration))
	}
	return note
}

func humanSeconds(s int) string {
	switch {
	case s%86400 == 0:
		return fmt.Sprintf("%d d", s/86400)
	case s%3600 == 0:
		return fmt.Sprintf("%d h", s/3600)
	default:
		return fmt.Sprintf("%d s", s)
	}
}
