package provision

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// scalingKind provisions the shared-mode service's Application Auto Scaling:
// the scalable target (ecs:service:DesiredCount of service/<cluster>/<name>,
// autoscaling.min_capacity..max_capacity) and its scaling policies, one node
// ("scaling-app") because the policies live and die with the target
// (DeregisterScalableTarget deletes them).
//
// autoscaling.policy "target-tracking" (the default, AWS's recommendation):
// three TargetTrackingScaling policies, CPU, memory and ALB requests per
// target, with the configured cooldowns. Application Auto Scaling scales
// out when any of them asks and in only when all of them agree, and creates
// and deletes the CloudWatch alarms itself.
//
// "step": the brief's literal policy, two StepScaling policies (+1 task,
// cooldown scale_out_cooldown; -1 task, cooldown scale_in_cooldown) that the
// alarms of the "scaling-alarm-*" nodes (autoscaling_alarm.go) trigger.
type scalingKind struct{}

func init() { Register(scalingKind{}) }

func (scalingKind) Type() string { return "appautoscaling.target" }

const (
	scalingNamespace = aastypes.ServiceNamespaceEcs
	scalingDimension = aastypes.ScalableDimensionECSServiceDesiredCount
)

// Policy names (unique per scalable target).
const (
	policyCPU      = "cpu-target-tracking"
	policyMemory   = "memory-target-tracking"
	policyRequests = "requests-target-tracking"
	policyOut      = "step-scale-out"
	policyIn       = "step-scale-in"
)

var allPolicyNames = []string{policyCPU, policyMemory, policyRequests, policyOut, policyIn}

type scalingObs struct {
	arn      string
	min, max int32
	policies map[string]aastypes.ScalingPolicy
	tags     map[string]string
}

// scalingResourceID is service/<cluster>/<service> of the shared service.
func scalingResourceID(env *Env) (string, error) {
	cluster, err := env.RefID("cluster")
	if err != nil {
		return "", err
	}
	svc, err := env.Ref("service-app")
	if err != nil {
		return "", err
	}
	name := svc.Attrs["name"]
	if name == "" {
		name = env.Cfg.SharedName()
	}
	return "service/" + cluster + "/" + name, nil
}

// requestsResourceLabel is app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>
// from the load balancer's and target group's arn_suffix attributes.
func requestsResourceLabel(env *Env) (string, error) {
	lb, err := env.Ref("alb")
	if err != nil {
		return "", err
	}
	tg, err := env.Ref("tg-app")
	if err != nil {
		return "", err
	}
	if lb.Attrs["arn_suffix"] == "" || tg.Attrs["arn_suffix"] == "" {
		return "", fmt.Errorf("the load balancer or target group ARN suffix is not known yet")
	}
	return lb.Attrs["arn_suffix"] + "/" + tg.Attrs["arn_suffix"], nil
}

// desiredPolicies returns the policies the configuration wants, by name.
func desiredPolicies(env *Env, resourceID string) (map[string]*aas.PutScalingPolicyInput, error) {
	a := env.Cfg.Autoscaling
	base := func(name string, typ aastypes.PolicyType) *aas.PutScalingPolicyInput {
		return &aas.PutScalingPolicyInput{PolicyName: aws.String(name), PolicyType: typ, ServiceNamespace: scalingNamespace,
			ResourceId: aws.String(resourceID), ScalableDimension: scalingDimension}
	}
	out := map[string]*aas.PutScalingPolicyInput{}
	if a.Policy == "step" {
		up := base(policyOut, aastypes.PolicyTypeStepScaling)
		up.StepScalingPolicyConfiguration = &aastypes.StepScalingPolicyConfiguration{
			AdjustmentType: aastypes.AdjustmentTypeChangeInCapacity, Cooldown: aws.Int32(int32(a.ScaleOutCooldown)),
			MetricAggregationType: aastypes.MetricAggregationTypeAverage,
			StepAdjustments:       []aastypes.StepAdjustment{{MetricIntervalLowerBound: aws.Float64(0), ScalingAdjustment: aws.Int32(1)}},
		}
		down := base(policyIn, aastypes.PolicyTypeStepScaling)
		down.StepScalingPolicyConfiguration = &aastypes.StepScalingPolicyConfiguration{
			AdjustmentType: aastypes.AdjustmentTypeChangeInCapacity, Cooldown: aws.Int32(int32(a.ScaleInCooldown)),
			MetricAggregationType: aastypes.MetricAggregationTypeAverage,
			StepAdjustments:       []aastypes.StepAdjustment{{MetricIntervalUpperBound: aws.Float64(0), ScalingAdjustment: aws.Int32(-1)}},
		}
		out[policyOut], out[policyIn] = up, down
		return out, nil
	}
	label, err := requestsResourceLabel(env)
	if err != nil {
		return nil, err
	}
	track := func(name string, metric aastypes.MetricType, target int, label string) {
		p := base(name, aastypes.PolicyTypeTargetTrackingScaling)
		spec := &aastypes.PredefinedMetricSpecification{PredefinedMetricType: metric}
		if label != "" {
			spec.ResourceLabel = aws.String(label)
		}
		p.TargetTrackingScalingPolicyConfiguration = &aastypes.TargetTrackingScalingPolicyConfiguration{
			TargetValue: aws.Float64(float64(target)), PredefinedMetricSpecification: spec,
			ScaleOutCooldown: aws.Int32(int32(a.ScaleOutCooldown)), ScaleInCooldown: aws.Int32(int32(a.ScaleInCooldown)),
			DisableScaleIn: aws.Bool(false),
		}
		out[name] = p
	}
	track(policyCPU, aastypes.MetricTypeECSServiceAverageCPUUtilization, a.CPUTarget, "")
	track(policyMemory, aastypes.MetricTypeECSServiceAverageMemoryUtilization, a.MemoryTarget, "")
	track(policyRequests, aastypes.MetricTypeALBRequestCountPerTarget, a.RequestsPerTarget, label)
	return out, nil
}

// policyText renders the settings of a policy that wbo-deploy manages, so a
// desired and an observed policy compare as text and plan can show them.
func policyText(typ aastypes.PolicyType, step *aastypes.StepScalingPolicyConfiguration, track *aastypes.TargetTrackingScalingPolicyConfiguration) string {
	switch {
	case typ == aastypes.PolicyTypeTargetTrackingScaling && track != nil:
		metric, label := "", ""
		if pm := track.PredefinedMetricSpecification; pm != nil {
			metric, label = string(pm.PredefinedMetricType), aws.ToString(pm.ResourceLabel)
		}
		s := fmt.Sprintf("target tracking %s=%s out-cooldown=%d in-cooldown=%d scale-in=%t",
			metric, strconv.FormatFloat(aws.ToFloat64(track.TargetValue), 'f', -1, 64),
			aws.ToInt32(track.ScaleOutCooldown), aws.ToInt32(track.ScaleInCooldown), !aws.ToBool(track.DisableScaleIn))
		if label != "" {
			s += " label=" + label
		}
		return s
	case typ == aastypes.PolicyTypeStepScaling && step != nil:
		var steps []string
		for _, a := range step.StepAdjustments {
			lo, hi := "-inf", "+inf"
			if a.MetricIntervalLowerBound != nil {
				lo = strconv.FormatFloat(*a.MetricIntervalLowerBound, 'f', -1, 64)
			}
			if a.MetricIntervalUpperBound != nil {
				hi = strconv.FormatFloat(*a.MetricIntervalUpperBound, 'f', -1, 64)
			}
			steps = append(steps, fmt.Sprintf("[%s,%s)%+d", lo, hi, aws.ToInt32(a.ScalingAdjustment)))
		}
		return fmt.Sprintf("step %s %s cooldown=%d aggregation=%s", step.AdjustmentType, strings.Join(steps, " "),
			aws.ToInt32(step.Cooldown), step.MetricAggregationType)
	}
	return string(typ)
}

func (k scalingKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	id := ""
	if rec != nil {
		id = rec.ID
	}
	if id == "" {
		var err error
		if id, err = scalingResourceID(env); err != nil {
			return nil, err
		}
	}
	out, err := env.AWS.AutoScaling.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{
		ServiceNamespace: scalingNamespace, ResourceIds: []string{id}, ScalableDimension: scalingDimension,
	})
	if err != nil {
		return nil, fmt.Errorf("describe scalable target %s: %w", id, err)
	}
	if len(out.ScalableTargets) == 0 {
		return nil, nil
	}
	t := out.ScalableTargets[0]
	raw := &scalingObs{arn: aws.ToString(t.ScalableTargetARN), min: aws.ToInt32(t.MinCapacity), max: aws.ToInt32(t.MaxCapacity),
		policies: map[string]aastypes.ScalingPolicy{}}
	p := aas.NewDescribeScalingPoliciesPaginator(env.AWS.AutoScaling, &aas.DescribeScalingPoliciesInput{
		ServiceNamespace: scalingNamespace, ResourceId: aws.String(id), ScalableDimension: scalingDimension,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe scaling policies of %s: %w", id, err)
		}
		for _, pol := range page.ScalingPolicies {
			raw.policies[aws.ToString(pol.PolicyName)] = pol
		}
	}
	tags, err := env.AWS.AutoScaling.ListTagsForResource(ctx, &aas.ListTagsForResourceInput{ResourceARN: aws.String(raw.arn)})
	if err != nil {
		return nil, fmt.Errorf("list tags of scalable target %s: %w", id, err)
	}
	raw.tags = tags.Tags
	return k.observe(n, id, raw), nil
}

func (k scalingKind) observe(n *Node, id string, raw *scalingObs) *Observed {
	obs := &Observed{Rec: NewRecord(n, id), State: "registered", Raw: raw}
	obs.Rec.ARN = raw.arn
	var names []string
	for name, p := range raw.policies {
		obs.Rec.Attrs["policy:"+name] = aws.ToString(p.PolicyARN)
		names = append(names, name)
	}
	sort.Strings(names)
	obs.Info = map[string]string{"capacity": fmt.Sprintf("%d-%d tasks", raw.min, raw.max), "policies": strings.Join(names, ", ")}
	return obs
}

func (k scalingKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	id, err := scalingResourceID(env)
	if err != nil {
		return nil, err
	}
	a := env.Cfg.Autoscaling
	out, err := env.AWS.AutoScaling.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{
		ServiceNamespace: scalingNamespace, ResourceId: aws.String(id), ScalableDimension: scalingDimension,
		MinCapacity: aws.Int32(int32(a.MinCapacity)), MaxCapacity: aws.Int32(int32(a.MaxCapacity)), Tags: env.Tags(n.Name),
	})
	if err != nil {
		return nil, fmt.Errorf("register scalable target %s: %w", id, err)
	}
	raw := &scalingObs{arn: aws.ToString(out.ScalableTargetARN), min: int32(a.MinCapacity), max: int32(a.MaxCapacity),
		policies: map[string]aastypes.ScalingPolicy{}, tags: env.Tags(n.Name)}
	obs := k.observe(n, id, raw)
	if err := env.Record(obs.Rec); err != nil {
		return nil, err
	}
	return obs, nil
}

func (k scalingKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	raw := obs.Raw.(*scalingObs)
	a := env.Cfg.Autoscaling
	var cs []Change
	if raw.min != int32(a.MinCapacity) || raw.max != int32(a.MaxCapacity) {
		cs = append(cs, Change{Field: "capacity", Old: fmt.Sprintf("%d-%d", raw.min, raw.max), New: fmt.Sprintf("%d-%d", a.MinCapacity, a.MaxCapacity)})
	}
	want, err := desiredPolicies(env, obs.Rec.ID)
	if err != nil {
		return append(cs, Change{Field: "configuration", New: err.Error()})
	}
	for _, name := range allPolicyNames {
		w, wanted := want[name]
		have, exists := raw.policies[name]
		switch {
		case wanted && !exists:
			cs = append(cs, Change{Field: "policy " + name, Old: "(none)", New: policyText(w.PolicyType, w.StepScalingPolicyConfiguration, w.TargetTrackingScalingPolicyConfiguration)})
		case !wanted && exists:
			cs = append(cs, Change{Field: "policy " + name, Old: policyText(have.PolicyType, have.StepScalingPolicyConfiguration, have.TargetTrackingScalingPolicyConfiguration), New: "(deleted)"})
		case wanted:
			o := policyText(have.PolicyType, have.StepScalingPolicyConfiguration, have.TargetTrackingScalingPolicyConfiguration)
			nw := policyText(w.PolicyType, w.StepScalingPolicyConfiguration, w.TargetTrackingScalingPolicyConfiguration)
			if o != nw {
				cs = append(cs, Change{Field: "policy " + name, Old: o, New: nw})
			}
		}
	}
	if c, ok := ecsTagDiff(raw.tags, env.Tags(n.Name)); ok {
		cs = append(cs, c)
	}
	return cs
}

func (k scalingKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	raw := obs.Raw.(*scalingObs)
	id := obs.Rec.ID
	a := env.Cfg.Autoscaling
	want, err := desiredPolicies(env, id)
	if err != nil {
		return err
	}
	for _, c := range changes {
		switch {
		case c.Field == "capacity":
			if _, err := env.AWS.AutoScaling.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{
				ServiceNamespace: scalingNamespace, ResourceId: aws.String(id), ScalableDimension: scalingDimension,
				MinCapacity: aws.Int32(int32(a.MinCapacity)), MaxCapacity: aws.Int32(int32(a.MaxCapacity)),
			}); err != nil {
				return fmt.Errorf("update scalable target %s: %w", id, err)
			}
			raw.min, raw.max = int32(a.MinCapacity), int32(a.MaxCapacity)
		case strings.HasPrefix(c.Field, "policy "):
			name := strings.TrimPrefix(c.Field, "policy ")
			if in, ok := want[name]; ok {
				out, err := env.AWS.AutoScaling.PutScalingPolicy(ctx, in)
				if err != nil {
					return fmt.Errorf("put scaling policy %s of %s: %w", name, id, err)
				}
				raw.policies[name] = aastypes.ScalingPolicy{PolicyName: in.PolicyName, PolicyARN: out.PolicyARN, PolicyType: in.PolicyType,
					StepScalingPolicyConfiguration: in.StepScalingPolicyConfiguration, TargetTrackingScalingPolicyConfiguration: in.TargetTrackingScalingPolicyConfiguration}
				continue
			}
			_, err := env.AWS.AutoScaling.DeleteScalingPolicy(ctx, &aas.DeleteScalingPolicyInput{PolicyName: aws.String(name),
				ServiceNamespace: scalingNamespace, ResourceId: aws.String(id), ScalableDimension: scalingDimension})
			if err != nil && !awserr.IsNotFound(err) {
				return fmt.Errorf("delete scaling policy %s of %s: %w", name, id, err)
			}
			delete(raw.policies, name)
		case c.Field == "tags":
			if err := k.syncTags(ctx, env, raw, env.Tags(n.Name)); err != nil {
				return err
			}
		}
	}
	*obs = *k.observe(n, id, raw)
	return nil
}

func (k scalingKind) syncTags(ctx context.Context, env *Env, raw *scalingObs, want map[string]string) error {
	set := map[string]string{}
	for key, v := range want {
		if raw.tags[key] != v {
			set[key] = v
		}
	}
	if len(set) > 0 {
		if _, err := env.AWS.AutoScaling.TagResource(ctx, &aas.TagResourceInput{ResourceARN: aws.String(raw.arn), Tags: set}); err != nil {
			return fmt.Errorf("tag scalable target %s: %w", raw.arn, err)
		}
	}
	var del []string
	for key := range raw.tags {
		if _, ok := want[key]; !ok && !strings.HasPrefix(key, "aws:") {
			del = append(del, key)
		}
	}
	if len(del) > 0 {
		sort.Strings(del)
		if _, err := env.AWS.AutoScaling.UntagResource(ctx, &aas.UntagResourceInput{ResourceARN: aws.String(raw.arn), TagKeys: del}); err != nil {
			return fmt.Errorf("untag scalable target %s: %w", raw.arn, err)
		}
	}
	raw.tags = want
	return nil
}

// Delete deregisters the target, which deletes its policies too
// (DeregisterScalableTarget API reference).
func (k scalingKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	_, err := env.AWS.AutoScaling.DeregisterScalableTarget(ctx, &aas.DeregisterScalableTargetInput{
		ServiceNamespace: scalingNamespace, ResourceId: aws.String(rec.ID), ScalableDimension: scalingDimension,
	})
	if err != nil && !awserr.IsNotFound(err) {
		return fmt.Errorf("deregister scalable target %s: %w", rec.ID, err)
	}
	return nil
}

// Discover finds the scalable targets of the stack's cluster's services.
func (k scalingKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	prefix := "service/" + env.Cfg.Names().Cluster + "/"
	var out []state.Resource
	p := aas.NewDescribeScalableTargetsPaginator(env.AWS.AutoScaling, &aas.DescribeScalableTargetsInput{ServiceNamespace: scalingNamespace})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe scalable targets: %w", err)
		}
		for _, t := range page.ScalableTargets {
			id := aws.ToString(t.ResourceId)
			if !strings.HasPrefix(id, prefix) || t.ScalableDimension != scalingDimension {
				continue
			}
			tags, err := env.AWS.AutoScaling.ListTagsForResource(ctx, &aas.ListTagsForResourceInput{ResourceARN: t.ScalableTargetARN})
			if err != nil {
				return nil, fmt.Errorf("list tags of scalable target %s: %w", id, err)
			}
			if tags.Tags[TagStack] != env.Stack() {
				continue
			}
			out = append(out, state.Resource{Name: tags.Tags[TagResource], Kind: k.Type(), ID: id, ARN: aws.ToString(t.ScalableTargetARN)})
		}
	}
	return out, nil
}

func (scalingKind) PlanNote(env *Env, n *Node) string {
	a := env.Cfg.Autoscaling
	if a.Policy == "step" {
		return fmt.Sprintf("%d-%d tasks; step scaling +1 (cooldown %d s) / -1 (cooldown %d s) on CloudWatch alarms",
			a.MinCapacity, a.MaxCapacity, a.ScaleOutCooldown, a.ScaleInCooldown)
	}
	return fmt.Sprintf("%d-%d tasks; target tracking CPU %d%%, memory %d%%, %d requests per target per minute",
		a.MinCapacity, a.MaxCapacity, a.CPUTarget, a.MemoryTarget, a.RequestsPerTarget)
}
