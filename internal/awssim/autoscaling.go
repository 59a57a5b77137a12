package awssim

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	at "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
)

// Simulated Application Auto Scaling, for ECS services only.
// RegisterScalableTarget and PutScalingPolicy are upserts; unknown targets and
// policies answer ObjectNotFoundException, bad input ValidationException
// (Application Auto Scaling API reference, "Errors" of each operation).

type scalableTarget struct {
	ns        at.ServiceNamespace
	id        string
	dim       at.ScalableDimension
	arn       string
	min, max  int32
	suspended *at.SuspendedState
	created   time.Time
	tags      map[string]string
}

type scalingPolicy struct {
	target *scalableTarget
	name   string
	arn    string
	typ    at.PolicyType
	step   *at.StepScalingPolicyConfiguration
	track  *at.TargetTrackingScalingPolicyConfiguration
	alarms []at.Alarm
	create time.Time
}

type autoScalingSim struct {
	c        *Cloud
	targets  map[string]*scalableTarget // ns|id|dim
	policies map[string]*scalingPolicy  // ns|id|dim|name
	seq      int
}

func init() {
	register("Application Auto Scaling", func(c *Cloud) any {
		return &autoScalingSim{c: c, targets: map[string]*scalableTarget{}, policies: map[string]*scalingPolicy{}}
	})
}

func targetKey(ns at.ServiceNamespace, id string, dim at.ScalableDimension) string {
	return string(ns) + "|" + id + "|" + string(dim)
}

func (s *autoScalingSim) inventory() []Resource {
	var out []Resource
	for _, k := range sortedKeys(s.targets) {
		t := s.targets[k]
		out = append(out, Resource{"Application Auto Scaling", "scalable-target", t.id, copyTags(t.tags)})
	}
	// Scaling policies cannot be tagged (only scalable targets can,
	// TagResource API reference).
	for _, k := range sortedKeys(s.policies) {
		out = append(out, Resource{"Application Auto Scaling", "scaling-policy", s.policies[k].arn, map[string]string{}})
	}
	return out
}

var ecsResourceRE = regexp.MustCompile(`^service/([A-Za-z0-9_-]+)/([A-Za-z0-9_-]+)$`)

// checkTarget validates the identifying triple; only ECS services are
// simulated.
func checkTarget(ns at.ServiceNamespace, id string, dim at.ScalableDimension) error {
	if ns != at.ServiceNamespaceEcs {
		return apiError("ValidationException", "The simulated cloud supports service namespace ecs only, not %q", ns)
	}
	if !ecsResourceRE.MatchString(id) {
		return apiError("ValidationException", "Unsupported resource ID %q: expected service/<cluster>/<service>", id)
	}
	if dim != at.ScalableDimensionECSServiceDesiredCount {
		return apiError("ValidationException", "Unsupported scalable dimension %q for namespace ecs", dim)
	}
	return nil
}

// ecsServiceFor returns the ACTIVE ECS service a resource ID names.
func (s *autoScalingSim) ecsServiceFor(id string) *ecsService {
	m := ecsResourceRE.FindStringSubmatch(id)
	if m == nil {
		return nil
	}
	e, ok := s.c.services["ECS"].(*ecsSim)
	if !ok {
		return nil
	}
	e.advance(s.c.now())
	sv := e.services[e.serviceKey(m[1], m[2])]
	if sv == nil || sv.status != "ACTIVE" {
		return nil
	}
	return sv
}

// RegisterScalableTarget creates or updates a target. A new target needs
// both capacities; the ECS service must exist; the service's desired count
// is brought into the new range at once, as Application Auto Scaling does.
func (s *autoScalingSim) RegisterScalableTarget(_ context.Context, in *aas.RegisterScalableTargetInput) (*aas.RegisterScalableTargetOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	id := aws.ToString(in.ResourceId)
	if err := checkTarget(in.ServiceNamespace, id, in.ScalableDimension); err != nil {
		return nil, err
	}
	sv := s.ecsServiceFor(id)
	if sv == nil {
		return nil, apiError("ValidationException", "ECS service doesn't exist: %s", id)
	}
	key := targetKey(in.ServiceNamespace, id, in.ScalableDimension)
	t, ok := s.targets[key]
	if !ok {
		if in.MinCapacity == nil || in.MaxCapacity == nil {
			return nil, apiError("ValidationException", "MinCapacity and MaxCapacity are required to register a new scalable target")
		}
		for k := range in.Tags {
			if strings.HasPrefix(k, "aws:") {
				return nil, apiError("ValidationException", "Tag keys starting with aws: are reserved")
			}
		}
		s.seq++
		t = &scalableTarget{ns: in.ServiceNamespace, id: id, dim: in.ScalableDimension, created: s.c.now(),
			arn:  fmt.Sprintf("arn:aws:application-autoscaling:%s:%s:scalable-target/%020x", s.c.Region, s.c.Account, s.seq*0x9e3779b1),
			tags: copyTags(in.Tags)}
	}
	mn, mx := t.min, t.max
	if in.MinCapacity != nil {
		mn = *in.MinCapacity
	}
	if in.MaxCapacity != nil {
		mx = *in.MaxCapacity
	}
	if mn < 0 || mx < 0 || mn > mx {
		return nil, apiError("ValidationException", "Minimum capacity %d cannot be greater than maximum capacity %d", mn, mx)
	}
	t.min, t.max = mn, mx
	if in.SuspendedState != nil {
		t.suspended = in.SuspendedState
	}
	s.targets[key] = t
	if sv.desired < mn || sv.desired > mx {
		sv.desired = min(max(sv.desired, mn), mx)
		sv.deployments[0].desired = sv.desired
	}
	return &aas.RegisterScalableTargetOutput{ScalableTargetARN: aws.String(t.arn)}, nil
}

func (s *autoScalingSim) DescribeScalableTargets(_ context.Context, in *aas.DescribeScalableTargetsInput) (*aas.DescribeScalableTargetsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	if in.ServiceNamespace == "" {
		return nil, apiError("ValidationException", "ServiceNamespace is required")
	}
	var list []at.ScalableTarget
	for _, k := range sortedKeys(s.targets) {
		t := s.targets[k]
		if t.ns != in.ServiceNamespace || in.ScalableDimension != "" && t.dim != in.ScalableDimension ||
			len(in.ResourceIds) > 0 && !contains(in.ResourceIds, t.id) {
			continue
		}
		list = append(list, at.ScalableTarget{ServiceNamespace: t.ns, ResourceId: aws.String(t.id), ScalableDimension: t.dim,
			MinCapacity: aws.Int32(t.min), MaxCapacity: aws.Int32(t.max), CreationTime: aws.Time(t.created),
			ScalableTargetARN: aws.String(t.arn), SuspendedState: t.suspended,
			RoleARN: aws.String("arn:aws:iam::" + s.c.Account + ":role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService")})
	}
	max := in.MaxResults
	if max == nil || *max < 1 || *max > 50 {
		max = aws.Int32(50)
	}
	page, next := paginate(list, max, in.NextToken)
	return &aas.DescribeScalableTargetsOutput{ScalableTargets: page, NextToken: next}, nil
}

// DeregisterScalableTarget also deletes the target's scaling policies
// (DeregisterScalableTarget API reference).
func (s *autoScalingSim) DeregisterScalableTarget(_ context.Context, in *aas.DeregisterScalableTargetInput) (*aas.DeregisterScalableTargetOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	id := aws.ToString(in.ResourceId)
	if err := checkTarget(in.ServiceNamespace, id, in.ScalableDimension); err != nil {
		return nil, err
	}
	key := targetKey(in.ServiceNamespace, id, in.ScalableDimension)
	if _, ok := s.targets[key]; !ok {
		return nil, apiError("ObjectNotFoundException", "No scalable target registered for service namespace: %s, resource ID: %s, scalable dimension: %s", in.ServiceNamespace, id, in.ScalableDimension)
	}
	delete(s.targets, key)
	for k := range s.policies {
		if strings.HasPrefix(k, key+"|") {
			delete(s.policies, k)
		}
	}
	return &aas.DeregisterScalableTargetOutput{}, nil
}

var resourceLabelRE = regexp.MustCompile(`^app/[^/]+/[^/]+/targetgroup/[^/]+/[^/]+$`)

func validatePolicy(in *aas.PutScalingPolicyInput) error {
	name := aws.ToString(in.PolicyName)
	if name == "" || len(name) > 256 || strings.Contains(name, ":") {
		return apiError("ValidationException", "Invalid policy name %q", name)
	}
	typ := in.PolicyType
	if typ == "" {
		typ = at.PolicyTypeStepScaling
	}
	switch typ {
	case at.PolicyTypeTargetTrackingScaling:
		c := in.TargetTrackingScalingPolicyConfiguration
		if c == nil || c.TargetValue == nil {
			return apiError("ValidationException", "TargetTrackingScalingPolicyConfiguration with a TargetValue is required for policy type TargetTrackingScaling")
		}
		if *c.TargetValue <= 0 {
			return apiError("ValidationException", "TargetValue must be greater than 0")
		}
		pm := c.PredefinedMetricSpecification
		if (pm == nil) == (c.CustomizedMetricSpecification == nil) {
			return apiError("ValidationException", "Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification is required")
		}
		if pm != nil {
			switch pm.PredefinedMetricType {
			case at.MetricTypeECSServiceAverageCPUUtilization, at.MetricTypeECSServiceAverageMemoryUtilization:
				if pm.ResourceLabel != nil {
					return apiError("ValidationException", "ResourceLabel is only valid with ALBRequestCountPerTarget")
				}
			case at.MetricTypeALBRequestCountPerTarget:
				if !resourceLabelRE.MatchString(aws.ToString(pm.ResourceLabel)) {
					return apiError("ValidationException", "ResourceLabel %q must be app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id>", aws.ToString(pm.ResourceLabel))
				}
			default:
				return apiError("ValidationException", "Predefined metric %q is not valid for namespace ecs", pm.PredefinedMetricType)
			}
		}
		for _, cd := range []*int32{c.ScaleInCooldown, c.ScaleOutCooldown} {
			if cd != nil && (*cd < 0 || *cd > 86400) {
				return apiError("ValidationException", "Cooldown must be between 0 and 86400 seconds")
			}
		}
	case at.PolicyTypeStepScaling:
		c := in.StepScalingPolicyConfiguration
		if c == nil || len(c.StepAdjustments) == 0 {
			return apiError("ValidationException", "StepScalingPolicyConfiguration with at least one step adjustment is required for policy type StepScaling")
		}
		switch c.AdjustmentType {
		case at.AdjustmentTypeChangeInCapacity, at.AdjustmentTypeExactCapacity, at.AdjustmentTypePercentChangeInCapacity:
		default:
			return apiError("ValidationException", "Invalid AdjustmentType %q", c.AdjustmentType)
		}
		for _, a := range c.StepAdjustments {
			if a.ScalingAdjustment == nil {
				return apiError("ValidationException", "ScalingAdjustment is required in each step adjustment")
			}
			if a.MetricIntervalLowerBound == nil && a.MetricIntervalUpperBound == nil && len(c.StepAdjustments) > 1 {
				return apiError("ValidationException", "Only one step adjustment can be unbounded on both sides")
			}
		}
	default:
		return apiError("ValidationException", "Unsupported policy type %q", typ)
	}
	return nil
}

// PutScalingPolicy creates or replaces a policy of a registered target.
// Target tracking policies report the two alarms AWS creates for them.
func (s *autoScalingSim) PutScalingPolicy(_ context.Context, in *aas.PutScalingPolicyInput) (*aas.PutScalingPolicyOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	id := aws.ToString(in.ResourceId)
	if err := checkTarget(in.ServiceNamespace, id, in.ScalableDimension); err != nil {
		return nil, err
	}
	if err := validatePolicy(in); err != nil {
		return nil, err
	}
	tk := targetKey(in.ServiceNamespace, id, in.ScalableDimension)
	t, ok := s.targets[tk]
	if !ok {
		return nil, apiError("ObjectNotFoundException", "No scalable target registered for service namespace: %s, resource ID: %s, scalable dimension: %s", in.ServiceNamespace, id, in.ScalableDimension)
	}
	name := aws.ToString(in.PolicyName)
	key := tk + "|" + name
	p, ok := s.policies[key]
	if !ok {
		s.seq++
		uuid := fmt.Sprintf("%08x-0000-4000-8000-%012x", s.seq, s.seq*7919)
		p = &scalingPolicy{target: t, name: name, create: s.c.now(),
			arn: fmt.Sprintf("arn:aws:autoscaling:%s:%s:scalingPolicy:%s:resource/ecs/%s:policyName/%s", s.c.Region, s.c.Account, uuid, id, name)}
	}
	p.typ = in.PolicyType
	if p.typ == "" {
		p.typ = at.PolicyTypeStepScaling
	}
	p.step = deepCopyJSON(in.StepScalingPolicyConfiguration)
	p.track = deepCopyJSON(in.TargetTrackingScalingPolicyConfiguration)
	p.alarms = nil
	if p.typ == at.PolicyTypeTargetTrackingScaling {
		for _, suffix := range []string{"AlarmHigh", "AlarmLow"} {
			s.seq++
			an := fmt.Sprintf("TargetTracking-%s-%s-%08x-sim", id, suffix, s.seq)
			p.alarms = append(p.alarms, at.Alarm{AlarmName: aws.String(an),
				AlarmARN: aws.String(fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", s.c.Region, s.c.Account, an))})
		}
	}
	s.policies[key] = p
	return &aas.PutScalingPolicyOutput{PolicyARN: aws.String(p.arn), Alarms: append([]at.Alarm(nil), p.alarms...)}, nil
}

func (s *autoScalingSim) DescribeScalingPolicies(_ context.Context, in *aas.DescribeScalingPoliciesInput) (*aas.DescribeScalingPoliciesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	if in.ServiceNamespace == "" {
		return nil, apiError("ValidationException", "ServiceNamespace is required")
	}
	var list []at.ScalingPolicy
	for _, k := range sortedKeys(s.policies) {
		p := s.policies[k]
		t := p.target
		if t.ns != in.ServiceNamespace || in.ResourceId != nil && t.id != aws.ToString(in.ResourceId) ||
			in.ScalableDimension != "" && t.dim != in.ScalableDimension || len(in.PolicyNames) > 0 && !contains(in.PolicyNames, p.name) {
			continue
		}
		list = append(list, at.ScalingPolicy{PolicyARN: aws.String(p.arn), PolicyName: aws.String(p.name), PolicyType: p.typ,
			ServiceNamespace: t.ns, ResourceId: aws.String(t.id), ScalableDimension: t.dim, CreationTime: aws.Time(p.create),
			StepScalingPolicyConfiguration: deepCopyJSON(p.step), TargetTrackingScalingPolicyConfiguration: deepCopyJSON(p.track),
			Alarms: append([]at.Alarm(nil), p.alarms...)})
	}
	max := in.MaxResults
	if max == nil || *max < 1 || *max > 10 {
		max = aws.Int32(10)
	}
	page, next := paginate(list, max, in.NextToken)
	return &aas.DescribeScalingPoliciesOutput{ScalingPolicies: page, NextToken: next}, nil
}

func (s *autoScalingSim) DeleteScalingPolicy(_ context.Context, in *aas.DeleteScalingPolicyInput) (*aas.DeleteScalingPolicyOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	id := aws.ToString(in.ResourceId)
	if err := checkTarget(in.ServiceNamespace, id, in.ScalableDimension); err != nil {
		return nil, err
	}
	key := targetKey(in.ServiceNamespace, id, in.ScalableDimension) + "|" + aws.ToString(in.PolicyName)
	if _, ok := s.policies[key]; !ok {
		return nil, apiError("ObjectNotFoundException", "No scaling policy found for service namespace: %s, resource ID: %s, scalable dimension: %s, policy name: %s",
			in.ServiceNamespace, id, in.ScalableDimension, aws.ToString(in.PolicyName))
	}
	delete(s.policies, key)
	return &aas.DeleteScalingPolicyOutput{}, nil
}

func (s *autoScalingSim) targetByARN(arn string) (*scalableTarget, error) {
	for _, t := range s.targets {
		if t.arn == arn {
			return t, nil
		}
	}
	return nil, apiError("ResourceNotFoundException", "No scalable target found for ARN %s", arn)
}

func (s *autoScalingSim) TagResource(_ context.Context, in *aas.TagResourceInput) (*aas.TagResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	t, err := s.targetByARN(aws.ToString(in.ResourceARN))
	if err != nil {
		return nil, err
	}
	for k, v := range in.Tags {
		if strings.HasPrefix(k, "aws:") {
			return nil, apiError("ValidationException", "Tag keys starting with aws: are reserved")
		}
		t.tags[k] = v
	}
	if len(t.tags) > 50 {
		return nil, apiError("TooManyTagsException", "A resource can have at most 50 tags")
	}
	return &aas.TagResourceOutput{}, nil
}

func (s *autoScalingSim) UntagResource(_ context.Context, in *aas.UntagResourceInput) (*aas.UntagResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	t, err := s.targetByARN(aws.ToString(in.ResourceARN))
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(t.tags, k)
	}
	return &aas.UntagResourceOutput{}, nil
}

func (s *autoScalingSim) ListTagsForResource(_ context.Context, in *aas.ListTagsForResourceInput) (*aas.ListTagsForResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	t, err := s.targetByARN(aws.ToString(in.ResourceARN))
	if err != nil {
		return nil, err
	}
	return &aas.ListTagsForResourceOutput{Tags: copyTags(t.tags)}, nil
}
