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
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// alarmKind provisions one CloudWatch metric alarm. Each alarm is its own
// node ("alarm-<target>-<what>", AWS name "<stack>-<target>-<what>"), so a
// changed threshold rewrites exactly that alarm, an alarm whose resource left
// the configuration is deleted by the engine as an orphan, and disabling
// alarms removes them all on the next up. Every alarm notifies the topic on
// ALARM and on OK. The definitions, periods and missing-data choices are
// documented in docs/alarms.md; Node.Role says which definition, Deps[0] is
// the resource watched, Node.Index the Redis member number.
type alarmKind struct{}

func init() { Register(alarmKind{}) }

func (alarmKind) Type() string { return "cloudwatch.alarm" }

// Alarm roles.
const (
	alarmECSCPU        = "ecs-cpu"
	alarmECSMemory     = "ecs-memory"
	alarmTGUnhealthy   = "tg-unhealthy"
	alarmTGNoHealthy   = "tg-no-healthy"
	alarmTGLatency     = "tg-latency"
	alarmTG5xx         = "tg-5xx"
	alarmRedisCPU      = "redis-cpu"
	alarmRedisMemory   = "redis-memory"
	alarmNodePrefix    = "alarm-"
	alarmTopicNodeName = "topic"
)

// observabilityNodes adds the log group, and, for the resources present in
// g, the alarm topic, the alarms and the dashboard. It runs after the other
// tiers have declared their nodes, so alarms and widgets appear for a tier
// once it exists and never reference a resource that is not in the stack.
func observabilityNodes(g *Graph, cfg *config.Config) {
	add := func(name, kind string, deps ...string) *Node {
		n := &Node{Name: name, Kind: kind, Deps: deps}
		g.Add(n)
		return n
	}
	if _, ok := g.Node("log-group"); !ok {
		add("log-group", "logs.log-group")
	}
	var services, groups []string
	for _, n := range g.nodes {
		switch {
		case n.Kind == "ecs.service" && strings.HasPrefix(n.Name, "service-"):
			services = append(services, n.Name)
		case n.Kind == "elbv2.target-group" && strings.HasPrefix(n.Name, "tg-"):
			groups = append(groups, n.Name)
		}
	}
	_, hasALB := g.Node("alb")
	_, hasRedis := g.Node("redis")
	var alarms []string
	if cfg.Alarms.Enabled {
		add(alarmTopicNodeName, "sns.topic")
		alarm := func(target, what, role string, index int, deps ...string) {
			n := add(alarmNodePrefix+target+"-"+what, "cloudwatch.alarm", append(deps, alarmTopicNodeName)...)
			n.Role, n.Index = role, index
			alarms = append(alarms, n.Name)
		}
		for _, s := range services {
			label := strings.TrimPrefix(s, "service-")
			alarm(label, "cpu", alarmECSCPU, 0, s)
			alarm(label, "memory", alarmECSMemory, 0, s)
		}
		if hasALB {
			for _, tg := range groups {
				label := strings.TrimPrefix(tg, "tg-")
				alarm(label, "unhealthy-hosts", alarmTGUnhealthy, 0, tg, "alb")
				alarm(label, "no-healthy-hosts", alarmTGNoHealthy, 0, tg, "alb")
				alarm(label, "p95-latency", alarmTGLatency, 0, tg, "alb")
				alarm(label, "target-5xx", alarmTG5xx, 0, tg, "alb")
			}
		}
		if hasRedis {
			for m := 1; m <= obsRedisMembers(cfg); m++ {
				label := fmt.Sprintf("redis-%03d", m)
				alarm(label, "engine-cpu", alarmRedisCPU, m, "redis")
				alarm(label, "memory", alarmRedisMemory, m, "redis")
			}
		}
	}
	if cfg.Dashboard.Enabled {
		deps := []string{"log-group"}
		deps = append(deps, services...)
		if hasALB {
			deps = append(deps, "alb")
			deps = append(deps, groups...)
		}
		if hasRedis {
			deps = append(deps, "redis")
		}
		deps = append(deps, alarms...)
		add("dashboard", "cloudwatch.dashboard", deps...)
	}
}

// redisMembers is the number of cache clusters of the replication group: the
// primary and its replicas, named <group>-001, -002, ... by ElastiCache.
func obsRedisMembers(cfg *config.Config) int { return min(max(cfg.Redis.Replicas, 0), 5) + 1 }

func obsRedisMemberID(group string, m int) string { return fmt.Sprintf("%s-%03d", group, m) }

// alarmDef is the complete definition of an alarm as wbo-deploy wants it.
type alarmDef struct {
	name, description string
	namespace, metric string
	dims              []cwtypes.Dimension // sorted by name
	stat              cwtypes.Statistic
	extended          string
	period, evals     int32
	datapoints        int32
	threshold         float64
	cmp               cwtypes.ComparisonOperator
	missing           string
	lowSample         string
	actions           []string
}

func obsAlarmName(env *Env, n *Node) string {
	return env.Stack() + "-" + strings.TrimPrefix(n.Name, alarmNodePrefix)
}

func obsDims(kv ...string) []cwtypes.Dimension {
	var out []cwtypes.Dimension
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, cwtypes.Dimension{Name: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	sort.Slice(out, func(i, j int) bool { return aws.ToString(out[i].Name) < aws.ToString(out[j].Name) })
	return out
}

// ecsNames returns the cluster and service name of a service node, from its
// record (Attrs "cluster" and "name") or, failing that, the configuration.
func obsECSNames(env *Env, service string) (cluster, name string, err error) {
	rec, err := env.Ref(service)
	if err != nil {
		return "", "", err
	}
	cluster, name = rec.Attrs["cluster"], rec.Attrs["name"]
	if cluster == "" {
		cluster = env.Cfg.Names().Cluster
	}
	if name == "" {
		label := strings.TrimPrefix(service, "service-")
		switch {
		case label == "app":
			name = env.Cfg.SharedName()
		case strings.HasPrefix(label, "shard-"):
			i, _ := strconv.Atoi(strings.TrimPrefix(label, "shard-"))
			name = env.Cfg.ShardName(i)
		}
	}
	if name == "" {
		return "", "", fmt.Errorf("service %s has no name recorded", service)
	}
	return cluster, name, nil
}

// arnSuffix returns the CloudWatch dimension value of a load balancer or
// target group: Attrs["arn_suffix"], else the part of the ARN after
// "loadbalancer/" ("app/<name>/<id>") or starting at "targetgroup/".
func obsArnSuffix(env *Env, node string) (string, error) {
	rec, err := env.Ref(node)
	if err != nil {
		return "", err
	}
	if s := rec.Attrs["arn_suffix"]; s != "" {
		return s, nil
	}
	arn := rec.ARN
	if arn == "" {
		arn = rec.ID
	}
	if i := strings.Index(arn, ":loadbalancer/"); i >= 0 {
		return arn[i+len(":loadbalancer/"):], nil
	}
	if i := strings.Index(arn, ":targetgroup/"); i >= 0 {
		return arn[i+1:], nil
	}
	return "", fmt.Errorf("%s has no arn_suffix recorded and its ID %q is not an ELB ARN", node, arn)
}

// want builds the alarm definition of node n from the configuration and the
// records of the resources it watches.
func (k alarmKind) want(env *Env, n *Node) (*alarmDef, error) {
	if len(n.Deps) == 0 {
		return nil, fmt.Errorf("alarm %s has no target", n.Name)
	}
	topic, err := env.RefID(alarmTopicNodeName)
	if err != nil {
		return nil, err
	}
	a := env.Cfg.Alarms
	d := &alarmDef{name: obsAlarmName(env, n), actions: []string{topic}, period: 60, evals: 5, datapoints: 5, cmp: cwtypes.ComparisonOperatorGreaterThanThreshold}
	target := n.Deps[0]
	switch n.Role {
	case alarmECSCPU, alarmECSMemory:
		cluster, svc, err := obsECSNames(env, target)
		if err != nil {
			return nil, err
		}
		d.namespace, d.stat, d.dims, d.missing = "AWS/ECS", cwtypes.StatisticAverage, obsDims("ClusterName", cluster, "ServiceName", svc), "missing"
		if n.Role == alarmECSCPU {
			d.metric, d.threshold = "CPUUtilization", a.CPUThreshold
			d.description = fmt.Sprintf("ECS service %s: average CPU above %g%% for 5 minutes. The whiteboard may be slow; consider a larger app.cpu.", svc, a.CPUThreshold)
		} else {
			d.metric, d.threshold = "MemoryUtilization", a.MemoryThreshold
			d.description = fmt.Sprintf("ECS service %s: average memory above %g%% for 5 minutes. The task may soon be killed for lack of memory; consider a larger app.memory.", svc, a.MemoryThreshold)
		}
	case alarmTGUnhealthy, alarmTGNoHealthy, alarmTGLatency, alarmTG5xx:
		tg, err := obsArnSuffix(env, target)
		if err != nil {
			return nil, err
		}
		lb, err := obsArnSuffix(env, "alb")
		if err != nil {
			return nil, err
		}
		d.namespace, d.dims = "AWS/ApplicationELB", obsDims("TargetGroup", tg, "LoadBalancer", lb)
		label := strings.TrimPrefix(target, "tg-")
		switch n.Role {
		case alarmTGUnhealthy:
			d.metric, d.stat, d.threshold, d.evals, d.datapoints, d.missing = "UnHealthyHostCount", cwtypes.StatisticMaximum, 0, 3, 3, "notBreaching"
			d.description = fmt.Sprintf("Target group %s: a target has failed its health checks for 3 minutes.", label)
		case alarmTGNoHealthy:
			d.metric, d.stat, d.threshold, d.cmp, d.missing = "HealthyHostCount", cwtypes.StatisticMinimum, 1, cwtypes.ComparisonOperatorLessThanThreshold, "breaching"
			d.description = fmt.Sprintf("Target group %s: no healthy target for 5 minutes: the boards it serves are down.", label)
		case alarmTGLatency:
			d.metric, d.extended, d.threshold, d.datapoints, d.missing, d.lowSample = "TargetResponseTime", "p95", a.LatencyThresholdSeconds, 3, "notBreaching", "ignore"
			d.description = fmt.Sprintf("Target group %s: 95th percentile response time above %g s in 3 of 5 minutes.", label, a.LatencyThresholdSeconds)
		case alarmTG5xx:
			d.metric, d.stat, d.threshold, d.period, d.evals, d.datapoints, d.missing = "HTTPCode_Target_5XX_Count", cwtypes.StatisticSum, float64(a.HTTP5xxThreshold), 300, 1, 1, "notBreaching"
			d.description = fmt.Sprintf("Target group %s: more than %d server errors (5xx) from the app in 5 minutes.", label, a.HTTP5xxThreshold)
		}
	case alarmRedisCPU, alarmRedisMemory:
		group, err := env.RefID(target)
		if err != nil {
			return nil, err
		}
		member := obsRedisMemberID(group, n.Index)
		d.namespace, d.stat, d.dims, d.missing = "AWS/ElastiCache", cwtypes.StatisticAverage, obsDims("CacheClusterId", member), "missing"
		if n.Role == alarmRedisCPU {
			d.metric, d.threshold = "EngineCPUUtilization", a.CPUThreshold
			d.description = fmt.Sprintf("Redis node %s: engine CPU above %g%% for 5 minutes.", member, a.CPUThreshold)
		} else {
			d.metric, d.threshold = "DatabaseMemoryUsagePercentage", a.MemoryThreshold
			d.description = fmt.Sprintf("Redis node %s: memory use above %g%% of maxmemory for 5 minutes; keys will be evicted.", member, a.MemoryThreshold)
		}
	default:
		return nil, fmt.Errorf("unknown alarm role %q", n.Role)
	}
	d.description += fmt.Sprintf(" (managed by wbo-deploy, stack %s)", env.Stack())
	return d, nil
}

func (d *alarmDef) input() *cloudwatch.PutMetricAlarmInput {
	in := &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(d.name), AlarmDescription: aws.String(d.description), ActionsEnabled: aws.Bool(true),
		AlarmActions: d.actions, OKActions: d.actions,
		Namespace: aws.String(d.namespace), MetricName: aws.String(d.metric), Dimensions: d.dims,
		Period: aws.Int32(d.period), EvaluationPeriods: aws.Int32(d.evals), DatapointsToAlarm: aws.Int32(d.datapoints),
		Threshold: aws.Float64(d.threshold), ComparisonOperator: d.cmp, TreatMissingData: aws.String(d.missing),
	}
	if d.extended != "" {
		in.ExtendedStatistic = aws.String(d.extended)
	} else {
		in.Statistic = d.stat
	}
	if d.lowSample != "" {
		in.EvaluateLowSampleCountPercentile = aws.String(d.lowSample)
	}
	return in
}

func obsDimsText(ds []cwtypes.Dimension) string {
	sorted := append([]cwtypes.Dimension(nil), ds...)
	sort.Slice(sorted, func(i, j int) bool { return aws.ToString(sorted[i].Name) < aws.ToString(sorted[j].Name) })
	var parts []string
	for _, d := range sorted {
		parts = append(parts, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
	}
	return strings.Join(parts, ",")
}

func obsListText(l []string) string {
	s := append([]string(nil), l...)
	sort.Strings(s)
	return "[" + strings.Join(s, " ") + "]"
}

func obsFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func obsInt32(p *int32) string {
	if p == nil {
		return "unset"
	}
	return strconv.Itoa(int(*p))
}

// compareAlarm lists every field where the live alarm differs from the
// definition.
func obsCompareAlarm(d *alarmDef, live *cwtypes.MetricAlarm) []Change {
	var cs []Change
	diff := func(field, old, new string) {
		if old != new {
			cs = append(cs, Change{Field: field, Old: old, New: new})
		}
	}
	want := d.input()
	diff("namespace", aws.ToString(live.Namespace), d.namespace)
	diff("metric", aws.ToString(live.MetricName), d.metric)
	diff("dimensions", obsDimsText(live.Dimensions), obsDimsText(d.dims))
	diff("statistic", string(live.Statistic), string(want.Statistic))
	diff("extended_statistic", aws.ToString(live.ExtendedStatistic), d.extended)
	diff("period", obsInt32(live.Period), obsInt32(want.Period))
	diff("evaluation_periods", obsInt32(live.EvaluationPeriods), obsInt32(want.EvaluationPeriods))
	// DatapointsToAlarm unset means "all of EvaluationPeriods".
	dp := live.DatapointsToAlarm
	if dp == nil {
		dp = live.EvaluationPeriods
	}
	diff("datapoints_to_alarm", obsInt32(dp), obsInt32(want.DatapointsToAlarm))
	diff("threshold", obsFloat(aws.ToFloat64(live.Threshold)), obsFloat(d.threshold))
	diff("comparison", string(live.ComparisonOperator), string(d.cmp))
	missing := aws.ToString(live.TreatMissingData)
	if missing == "" {
		missing = "missing"
	}
	diff("treat_missing_data", missing, d.missing)
	diff("evaluate_low_sample_count_percentile", aws.ToString(live.EvaluateLowSampleCountPercentile), d.lowSample)
	diff("alarm_actions", obsListText(live.AlarmActions), obsListText(d.actions))
	diff("ok_actions", obsListText(live.OKActions), obsListText(d.actions))
	diff("insufficient_data_actions", obsListText(live.InsufficientDataActions), obsListText(nil))
	diff("actions_enabled", strconv.FormatBool(aws.ToBool(live.ActionsEnabled)), "true")
	diff("description", aws.ToString(live.AlarmDescription), d.description)
	return cs
}

func (k alarmKind) observe(n *Node, a cwtypes.MetricAlarm) *Observed {
	name := aws.ToString(a.AlarmName)
	obs := &Observed{Rec: NewRecord(n, name), State: string(a.StateValue), Raw: &a}
	obs.Rec.ARN = aws.ToString(a.AlarmArn)
	stat := string(a.Statistic)
	if a.ExtendedStatistic != nil {
		stat = *a.ExtendedStatistic
	}
	obs.Info = map[string]string{
		"state":  string(a.StateValue),
		"metric": fmt.Sprintf("%s %s %s (%s)", aws.ToString(a.Namespace), aws.ToString(a.MetricName), stat, obsDimsText(a.Dimensions)),
		"when":   fmt.Sprintf("%s %s, %s of %s periods of %ss", a.ComparisonOperator, obsFloat(aws.ToFloat64(a.Threshold)), obsInt32(a.DatapointsToAlarm), obsInt32(a.EvaluationPeriods), obsInt32(a.Period)),
	}
	if a.StateValue == cwtypes.StateValueAlarm {
		obs.Health = &Health{OK: false, Reason: fmt.Sprintf("alarm %s is in ALARM: %s", name, aws.ToString(a.StateReason))}
	} else {
		obs.Health = &Health{OK: true}
	}
	return obs
}

func (k alarmKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	name := obsAlarmName(env, n)
	if rec != nil && rec.ID != "" {
		name = rec.ID
	}
	out, err := env.AWS.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{
		AlarmNames: []string{name}, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm},
	})
	if err != nil {
		return nil, fmt.Errorf("describe alarm %s: %w", name, err)
	}
	for _, a := range out.MetricAlarms {
		if aws.ToString(a.AlarmName) == name {
			return k.observe(n, a), nil
		}
	}
	return nil, nil
}

func (k alarmKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	d, err := k.want(env, n)
	if err != nil {
		return nil, err
	}
	in := d.input()
	for _, kv := range env.SortedTags(n.Name) {
		in.Tags = append(in.Tags, cwtypes.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
	}
	if _, err := env.AWS.CloudWatch.PutMetricAlarm(ctx, in); err != nil {
		return nil, fmt.Errorf("create alarm %s: %w", d.name, err)
	}
	rec := NewRecord(n, d.name)
	rec.ARN = fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", obsPartition(env), env.Region(), env.Account(), d.name)
	if err := env.Record(rec); err != nil {
		return nil, err
	}
	live := k.asLive(d, rec.ARN)
	return k.observe(n, live), nil
}

// asLive is the alarm as CloudWatch describes it right after PutMetricAlarm
// (state INSUFFICIENT_DATA until its first evaluation).
func (k alarmKind) asLive(d *alarmDef, arn string) cwtypes.MetricAlarm {
	in := d.input()
	return cwtypes.MetricAlarm{
		AlarmName: in.AlarmName, AlarmArn: aws.String(arn), AlarmDescription: in.AlarmDescription, ActionsEnabled: in.ActionsEnabled,
		AlarmActions: in.AlarmActions, OKActions: in.OKActions, Namespace: in.Namespace, MetricName: in.MetricName,
		Dimensions: in.Dimensions, Statistic: in.Statistic, ExtendedStatistic: in.ExtendedStatistic, Period: in.Period,
		EvaluationPeriods: in.EvaluationPeriods, DatapointsToAlarm: in.DatapointsToAlarm, Threshold: in.Threshold,
		ComparisonOperator: in.ComparisonOperator, TreatMissingData: in.TreatMissingData,
		EvaluateLowSampleCountPercentile: in.EvaluateLowSampleCountPercentile, StateValue: cwtypes.StateValueInsufficientData,
	}
}

func (k alarmKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	d, err := k.want(env, n)
	if err != nil {
		return []Change{{Field: "definition", Old: "?", New: err.Error()}}
	}
	return obsCompareAlarm(d, obs.Raw.(*cwtypes.MetricAlarm))
}

// Update rewrites the whole alarm: PutMetricAlarm replaces the previous
// configuration and keeps the alarm's state (PutMetricAlarm reference).
func (k alarmKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	d, err := k.want(env, n)
	if err != nil {
		return err
	}
	if _, err := env.AWS.CloudWatch.PutMetricAlarm(ctx, d.input()); err != nil {
		return fmt.Errorf("update alarm %s: %w", d.name, err)
	}
	live := k.asLive(d, obs.Rec.ARN)
	live.StateValue = obs.Raw.(*cwtypes.MetricAlarm).StateValue
	obs.Raw = &live
	return nil
}

func (k alarmKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	_, err := env.AWS.CloudWatch.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{rec.ID}})
	if err != nil && !awserr.IsNotFound(err) {
		return fmt.Errorf("delete alarm %s: %w", rec.ID, err)
	}
	return nil
}

// Discover lists the alarms named with the stack's prefix whose tags say they
// are this stack's alarm nodes.
func (k alarmKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var out []state.Resource
	p := cloudwatch.NewDescribeAlarmsPaginator(env.AWS.CloudWatch, &cloudwatch.DescribeAlarmsInput{
		AlarmNamePrefix: aws.String(env.Stack() + "-"), AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe alarms: %w", err)
		}
		for _, a := range page.MetricAlarms {
			tags, err := obsCWTags(ctx, env, aws.ToString(a.AlarmArn))
			if err != nil {
				return nil, err
			}
			if tags == nil || tags[TagStack] != env.Stack() || !strings.HasPrefix(tags[TagResource], alarmNodePrefix) {
				continue
			}
			out = append(out, state.Resource{Name: tags[TagResource], Kind: k.Type(), ID: aws.ToString(a.AlarmName), ARN: aws.ToString(a.AlarmArn)})
		}
	}
	return out, nil
}

// cwTags returns a CloudWatch resource's tags, nil when it is gone.
func obsCWTags(ctx context.Context, env *Env, arn string) (map[string]string, error) {
	out, err := env.AWS.CloudWatch.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if err != nil {
		if awserr.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("list tags of %s: %w", arn, err)
	}
	m := map[string]string{}
	for _, t := range out.Tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m, nil
}
