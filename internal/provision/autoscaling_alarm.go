package provision

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// scalingAlarmKind provisions one CloudWatch alarm of autoscaling.policy
// "step" (nodes "scaling-alarm-<out|in>-<cpu|memory|requests>", Role
// "<direction>-<metric>"): the alarm that triggers the step-scale-out or
// step-scale-in policy of "scaling-app".
//
// Scale out: the metric above its autoscaling.* target for 3 consecutive
// minutes (the same thresholds target tracking would hold). Scale in: below
// half the target for 15 consecutive minutes ("low utilisation"; 15 minutes
// as the scale-in alarms target tracking makes). Unlike target tracking,
// separate step policies do not coordinate: a service with memory above its
// target and CPU below half of its target is scaled out and in by turns
// (each at most once per cooldown). That is the step policy the brief asks
// for; target tracking, the default, has no such conflict.
type scalingAlarmKind struct{}

func init() { Register(scalingAlarmKind{}) }

func (scalingAlarmKind) Type() string { return "appautoscaling.alarm" }

// ScalingAlarmRoles are the Role values of the step-scaling alarm nodes.
var ScalingAlarmRoles = []string{"out-cpu", "out-memory", "out-requests", "in-cpu", "in-memory", "in-requests"}

type alarmSpec struct {
	name, namespace, metric, statistic string
	dims                               map[string]string
	period, evaluations, datapoints    int32
	threshold                          float64
	comparison                         cwtypes.ComparisonOperator
	missing                            string
	actions                            []string
	description                        string
}

func (a alarmSpec) text() map[string]string {
	var dims []string
	for _, kv := range ecsSortedPairs(a.dims) {
		dims = append(dims, kv[0]+"="+kv[1])
	}
	return map[string]string{
		"metric":             a.namespace + " " + a.metric + " " + a.statistic + " [" + strings.Join(dims, ",") + "]",
		"period":             strconv.Itoa(int(a.period)),
		"evaluation_periods": strconv.Itoa(int(a.evaluations)),
		"datapoints":         strconv.Itoa(int(a.datapoints)),
		"threshold":          string(a.comparison) + " " + strconv.FormatFloat(a.threshold, 'f', -1, 64),
		"treat_missing_data": a.missing,
		"actions":            strings.Join(a.actions, ","),
		"description":        a.description,
	}
}

func scalingAlarmName(env *Env, role string) string {
	return env.Cfg.SharedName() + "-scale-" + role
}

// desiredAlarm builds the alarm of node n from the configuration and the
// scaling policies' ARNs recorded by "scaling-app".
func desiredAlarm(env *Env, n *Node) (alarmSpec, error) {
	dir, metric, ok := strings.Cut(n.Role, "-")
	if !ok || (dir != "out" && dir != "in") {
		return alarmSpec{}, fmt.Errorf("unknown scaling alarm role %q", n.Role)
	}
	a := env.Cfg.Autoscaling
	scaling, err := env.Ref("scaling-app")
	if err != nil {
		return alarmSpec{}, err
	}
	policy := policyOut
	if dir == "in" {
		policy = policyIn
	}
	arn := scaling.Attrs["policy:"+policy]
	if arn == "" {
		return alarmSpec{}, fmt.Errorf("scaling policy %s is not known yet", policy)
	}
	s := alarmSpec{name: scalingAlarmName(env, n.Role), period: 60, actions: []string{arn}, statistic: "Average"}
	var target float64
	switch metric {
	case "cpu", "memory":
		cluster, err := env.RefID("cluster")
		if err != nil {
			return alarmSpec{}, err
		}
		svc, err := env.Ref("service-app")
		if err != nil {
			return alarmSpec{}, err
		}
		s.namespace, s.dims = "AWS/ECS", map[string]string{"ClusterName": cluster, "ServiceName": svc.Attrs["name"]}
		s.metric, target = "CPUUtilization", float64(a.CPUTarget)
		if metric == "memory" {
			s.metric, target = "MemoryUtilization", float64(a.MemoryTarget)
		}
	case "requests":
		tg, err := env.Ref("tg-app")
		if err != nil {
			return alarmSpec{}, err
		}
		if tg.Attrs["arn_suffix"] == "" {
			return alarmSpec{}, fmt.Errorf("the target group ARN suffix is not known yet")
		}
		// RequestCountPerTarget: requests per target per period; its only
		// statistic is Sum (ELB User Guide, CloudWatch metrics).
		s.namespace, s.metric, s.statistic = "AWS/ApplicationELB", "RequestCountPerTarget", "Sum"
		s.dims = map[string]string{"TargetGroup": tg.Attrs["arn_suffix"]}
		target = float64(a.RequestsPerTarget)
	default:
		return alarmSpec{}, fmt.Errorf("unknown scaling alarm metric %q", metric)
	}
	if dir == "out" {
		s.threshold, s.comparison = target, cwtypes.ComparisonOperatorGreaterThanThreshold
		s.evaluations, s.datapoints, s.missing = 3, 3, "notBreaching"
		s.description = fmt.Sprintf("wbo-deploy %s: add a task when %s is above %s for 3 minutes", env.Stack(), s.metric, strconv.FormatFloat(target, 'f', -1, 64))
	} else {
		s.threshold, s.comparison = target/2, cwtypes.ComparisonOperatorLessThanThreshold
		s.evaluations, s.datapoints, s.missing = 15, 15, "notBreaching"
		if metric == "requests" {
			s.missing = "breaching" // no data point: no requests at all
		}
		s.description = fmt.Sprintf("wbo-deploy %s: remove a task when %s is below %s for 15 minutes", env.Stack(), s.metric, strconv.FormatFloat(target/2, 'f', -1, 64))
	}
	return s, nil
}

type alarmObs struct {
	spec alarmSpec
	arn  string
	tags map[string]string
}

func (k scalingAlarmKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	name := scalingAlarmName(env, n.Role)
	if rec != nil && rec.ID != "" {
		name = rec.ID
	}
	out, err := env.AWS.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name},
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}})
	if err != nil {
		return nil, fmt.Errorf("describe alarm %s: %w", name, err)
	}
	if len(out.MetricAlarms) == 0 {
		return nil, nil
	}
	m := out.MetricAlarms[0]
	raw := &alarmObs{arn: aws.ToString(m.AlarmArn), spec: alarmSpec{name: name, namespace: aws.ToString(m.Namespace),
		metric: aws.ToString(m.MetricName), statistic: string(m.Statistic), dims: map[string]string{},
		period: aws.ToInt32(m.Period), evaluations: aws.ToInt32(m.EvaluationPeriods), datapoints: aws.ToInt32(m.DatapointsToAlarm),
		threshold: aws.ToFloat64(m.Threshold), comparison: m.ComparisonOperator, missing: aws.ToString(m.TreatMissingData),
		actions: append([]string(nil), m.AlarmActions...), description: aws.ToString(m.AlarmDescription)}}
	if raw.spec.datapoints == 0 {
		raw.spec.datapoints = raw.spec.evaluations
	}
	for _, d := range m.Dimensions {
		raw.spec.dims[aws.ToString(d.Name)] = aws.ToString(d.Value)
	}
	tags, err := env.AWS.CloudWatch.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(raw.arn)})
	if err != nil {
		return nil, fmt.Errorf("list tags of alarm %s: %w", name, err)
	}
	raw.tags = map[string]string{}
	for _, t := range tags.Tags {
		raw.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	obs := &Observed{Rec: NewRecord(n, name), State: string(m.StateValue), Raw: raw}
	obs.Rec.ARN = raw.arn
	obs.Info = map[string]string{"state": string(m.StateValue)}
	return obs, nil
}

func (k scalingAlarmKind) put(ctx context.Context, env *Env, n *Node, s alarmSpec) error {
	in := &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(s.name), AlarmDescription: aws.String(s.description), ActionsEnabled: aws.Bool(true),
		AlarmActions: s.actions, Namespace: aws.String(s.namespace), MetricName: aws.String(s.metric),
		Statistic: cwtypes.Statistic(s.statistic), Period: aws.Int32(s.period), EvaluationPeriods: aws.Int32(s.evaluations),
		DatapointsToAlarm: aws.Int32(s.datapoints), Threshold: aws.Float64(s.threshold), ComparisonOperator: s.comparison,
		TreatMissingData: aws.String(s.missing),
	}
	for _, kv := range ecsSortedPairs(s.dims) {
		in.Dimensions = append(in.Dimensions, cwtypes.Dimension{Name: aws.String(kv[0]), Value: aws.String(kv[1])})
	}
	for _, kv := range env.SortedTags(n.Name) {
		in.Tags = append(in.Tags, cwtypes.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
	}
	if _, err := env.AWS.CloudWatch.PutMetricAlarm(ctx, in); err != nil {
		return fmt.Errorf("put alarm %s: %w", s.name, err)
	}
	return nil
}

// Create puts the alarm (PutMetricAlarm is an upsert by name, so a retry
// after a lost response is safe) with its tags, then records it.
func (k scalingAlarmKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	s, err := desiredAlarm(env, n)
	if err != nil {
		return nil, err
	}
	if err := k.put(ctx, env, n, s); err != nil {
		return nil, err
	}
	rec := NewRecord(n, s.name)
	rec.ARN = fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", obsPartition(env), env.Region(), env.Account(), s.name)
	if err := env.Record(rec); err != nil {
		return nil, err
	}
	return &Observed{Rec: rec, State: "INSUFFICIENT_DATA", Raw: &alarmObs{spec: s, arn: rec.ARN, tags: env.Tags(n.Name)}}, nil
}

func (k scalingAlarmKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	raw := obs.Raw.(*alarmObs)
	want, err := desiredAlarm(env, n)
	if err != nil {
		return []Change{{Field: "configuration", New: err.Error()}}
	}
	have, w := raw.spec.text(), want.text()
	var fields []string
	for f := range w {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	var cs []Change
	for _, f := range fields {
		if have[f] != w[f] {
			cs = append(cs, Change{Field: f, Old: showValue(have[f]), New: showValue(w[f])})
		}
	}
	if c, ok := ecsTagDiff(raw.tags, env.Tags(n.Name)); ok {
		cs = append(cs, c)
	}
	return cs
}

// Update puts the alarm again (tags are ignored on update: they go through
// TagResource).
func (k scalingAlarmKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	raw := obs.Raw.(*alarmObs)
	settings := false
	for _, c := range changes {
		if c.Field != "tags" {
			settings = true
		}
	}
	if settings {
		s, err := desiredAlarm(env, n)
		if err != nil {
			return err
		}
		if err := k.put(ctx, env, n, s); err != nil {
			return err
		}
		raw.spec = s
	}
	var set []cwtypes.Tag
	for _, kv := range env.SortedTags(n.Name) {
		if raw.tags[kv[0]] != kv[1] {
			set = append(set, cwtypes.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
		}
	}
	if len(set) > 0 {
		if _, err := env.AWS.CloudWatch.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: aws.String(raw.arn), Tags: set}); err != nil {
			return fmt.Errorf("tag alarm %s: %w", raw.spec.name, err)
		}
	}
	return nil
}

func (k scalingAlarmKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	_, err := env.AWS.CloudWatch.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{rec.ID}})
	if err != nil && !awserr.IsNotFound(err) {
		return fmt.Errorf("delete alarm %s: %w", rec.ID, err)
	}
	return nil
}

// Discover lists the stack's step-scaling alarms by name prefix and tag.
func (k scalingAlarmKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var out []state.Resource
	p := cloudwatch.NewDescribeAlarmsPaginator(env.AWS.CloudWatch, &cloudwatch.DescribeAlarmsInput{
		AlarmNamePrefix: aws.String(env.Cfg.SharedName() + "-scale-"), AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe alarms: %w", err)
		}
		for _, m := range page.MetricAlarms {
			tags, err := env.AWS.CloudWatch.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: m.AlarmArn})
			if err != nil {
				return nil, fmt.Errorf("list tags of alarm %s: %w", aws.ToString(m.AlarmName), err)
			}
			tm := map[string]string{}
			for _, t := range tags.Tags {
				tm[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			if tm[TagStack] != env.Stack() {
				continue
			}
			out = append(out, state.Resource{Name: tm[TagResource], Kind: k.Type(), ID: aws.ToString(m.AlarmName), ARN: aws.ToString(m.AlarmArn)})
		}
	}
	return out, nil
}

func (scalingAlarmKind) PlanNote(env *Env, n *Node) string {
	if dir, metric, ok := strings.Cut(n.Role, "-"); ok {
		if dir == "out" {
			return "step scaling: +1 task when " + metric + " stays above its target"
		}
		return "step scaling: -1 task when " + metric + " stays below half its target"
	}
	return ""
}
