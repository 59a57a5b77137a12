package provision

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

func cmpPolicies(t *testing.T, r *rig) map[string]aastypes.ScalingPolicy {
	t.Helper()
	out, err := r.clients().AutoScaling.DescribeScalingPolicies(context.Background(), &aas.DescribeScalingPoliciesInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/wbo/wbo-app")})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]aastypes.ScalingPolicy{}
	for _, p := range out.ScalingPolicies {
		m[aws.ToString(p.PolicyName)] = p
	}
	return m
}

func cmpKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestScalingPoliciesMatchTheBrief deploys shared mode with target tracking
// (the default), checks the scalable target and the three policies field by
// field, then switches to step scaling and checks the two step policies and
// the six alarms that drive them; each configuration converges with exactly
// the calls it needs and a second up makes none.
func TestScalingPoliciesMatchTheBrief(t *testing.T) {
	c := cmpSmallConfig(config.ModeShared)
	c.Autoscaling.MinCapacity, c.Autoscaling.MaxCapacity = 2, 6
	c.Autoscaling.CPUTarget, c.Autoscaling.MemoryTarget, c.Autoscaling.RequestsPerTarget = 65, 75, 800
	c.Autoscaling.ScaleOutCooldown, c.Autoscaling.ScaleInCooldown = 45, 400
	r := newRig(t, c)
	cmpUp(t, r)
	ctx := context.Background()
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}

	ts, err := r.clients().AutoScaling.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs})
	if err != nil || len(ts.ScalableTargets) != 1 {
		t.Fatalf("scalable targets: %+v %v", ts, err)
	}
	st := ts.ScalableTargets[0]
	check("resource", aws.ToString(st.ResourceId), "service/wbo/wbo-app")
	check("dimension", st.ScalableDimension, aastypes.ScalableDimensionECSServiceDesiredCount)
	check("capacity", []int32{aws.ToInt32(st.MinCapacity), aws.ToInt32(st.MaxCapacity)}, []int32{2, 6})

	label := cmpRec(t, r, "alb").Attrs["arn_suffix"] + "/" + cmpRec(t, r, "tg-app").Attrs["arn_suffix"]
	if !strings.HasPrefix(label, "app/wbo-alb/") || !strings.Contains(label, "/targetgroup/wbo-app/") {
		t.Fatalf("resource label %q", label)
	}
	ps := cmpPolicies(t, r)
	check("target tracking policies", cmpKeys(ps), []string{policyCPU, policyMemory, policyRequests})
	track := func(name string, metric aastypes.MetricType, target float64, label string) {
		t.Helper()
		p := ps[name]
		check(name+" type", p.PolicyType, aastypes.PolicyTypeTargetTrackingScaling)
		cfg := p.TargetTrackingScalingPolicyConfiguration
		if cfg == nil {
			t.Fatalf("%s has no target tracking configuration", name)
		}
		check(name+" metric", cfg.PredefinedMetricSpecification.PredefinedMetricType, metric)
		check(name+" label", aws.ToString(cfg.PredefinedMetricSpecification.ResourceLabel), label)
		check(name+" target", aws.ToFloat64(cfg.TargetValue), target)
		check(name+" scale-out cooldown", aws.ToInt32(cfg.ScaleOutCooldown), int32(45))
		check(name+" scale-in cooldown", aws.ToInt32(cfg.ScaleInCooldown), int32(400))
		check(name+" scale-in enabled", aws.ToBool(cfg.DisableScaleIn), false)
	}
	track(policyCPU, aastypes.MetricTypeECSServiceAverageCPUUtilization, 65, "")
	track(policyMemory, aastypes.MetricTypeECSServiceAverageMemoryUtilization, 75, "")
	track(policyRequests, aastypes.MetricTypeALBRequestCountPerTarget, 800, label)
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up (target tracking) made %v", m)
	}

	// The brief's literal policy.
	r.cfg.Autoscaling.Policy = "step"
	r.cloud.ResetCalls()
	cmpUp(t, r)
	calls := r.cloud.MutatingCalls()
	sort.Strings(calls)
	want := []string{"Application Auto Scaling.DeleteScalingPolicy", "Application Auto Scaling.DeleteScalingPolicy",
		"Application Auto Scaling.DeleteScalingPolicy", "Application Auto Scaling.PutScalingPolicy", "Application Auto Scaling.PutScalingPolicy",
		"CloudWatch.PutMetricAlarm", "CloudWatch.PutMetricAlarm", "CloudWatch.PutMetricAlarm", "CloudWatch.PutMetricAlarm",
		"CloudWatch.PutMetricAlarm", "CloudWatch.PutMetricAlarm"}
	check("switch to step scaling", calls, want)
	ps = cmpPolicies(t, r)
	check("step policies", cmpKeys(ps), []string{policyIn, policyOut})
	step := func(name string, cooldown int32, lower, upper *float64, adj int32) {
		t.Helper()
		p := ps[name]
		check(name+" type", p.PolicyType, aastypes.PolicyTypeStepScaling)
		cfg := p.StepScalingPolicyConfiguration
		if cfg == nil || len(cfg.StepAdjustments) != 1 {
			t.Fatalf("%s step configuration: %+v", name, cfg)
		}
		check(name+" adjustment type", cfg.AdjustmentType, aastypes.AdjustmentTypeChangeInCapacity)
		check(name+" cooldown", aws.ToInt32(cfg.Cooldown), cooldown)
		check(name+" aggregation", cfg.MetricAggregationType, aastypes.MetricAggregationTypeAverage)
		a := cfg.StepAdjustments[0]
		check(name+" bounds", []*float64{a.MetricIntervalLowerBound, a.MetricIntervalUpperBound}, []*float64{lower, upper})
		check(name+" adjustment", aws.ToInt32(a.ScalingAdjustment), adj)
	}
	step(policyOut, 45, aws.Float64(0), nil, 1)
	step(policyIn, 400, nil, aws.Float64(0), -1)

	alarms, err := r.clients().CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("wbo-app-scale-")})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]cwtypes.MetricAlarm{}
	for _, a := range alarms.MetricAlarms {
		byName[aws.ToString(a.AlarmName)] = a
	}
	tg := cmpRec(t, r, "tg-app").Attrs["arn_suffix"]
	ecsDims := map[string]string{"ClusterName": "wbo", "ServiceName": "wbo-app"}
	type alarmWant struct {
		ns, metric, stat string
		dims             map[string]string
		op               cwtypes.ComparisonOperator
		threshold        float64
		periods          int32
		policy           string
	}
	wantAlarms := map[string]alarmWant{
		"out-cpu":      {"AWS/ECS", "CPUUtilization", "Average", ecsDims, cwtypes.ComparisonOperatorGreaterThanThreshold, 65, 3, policyOut},
		"out-memory":   {"AWS/ECS", "MemoryUtilization", "Average", ecsDims, cwtypes.ComparisonOperatorGreaterThanThreshold, 75, 3, policyOut},
		"out-requests": {"AWS/ApplicationELB", "RequestCountPerTarget", "Sum", map[string]string{"TargetGroup": tg}, cwtypes.ComparisonOperatorGreaterThanThreshold, 800, 3, policyOut},
		"in-cpu":       {"AWS/ECS", "CPUUtilization", "Average", ecsDims, cwtypes.ComparisonOperatorLessThanThreshold, 32.5, 15, policyIn},
		"in-memory":    {"AWS/ECS", "MemoryUtilization", "Average", ecsDims, cwtypes.ComparisonOperatorLessThanThreshold, 37.5, 15, policyIn},
		"in-requests":  {"AWS/ApplicationELB", "RequestCountPerTarget", "Sum", map[string]string{"TargetGroup": tg}, cwtypes.ComparisonOperatorLessThanThreshold, 400, 15, policyIn},
	}
	check("alarms", len(byName), len(wantAlarms))
	for role, w := range wantAlarms {
		a, ok := byName["wbo-app-scale-"+role]
		if !ok {
			t.Errorf("alarm for %s missing: %v", role, cmpKeys(byName))
			continue
		}
		dims := map[string]string{}
		for _, d := range a.Dimensions {
			dims[aws.ToString(d.Name)] = aws.ToString(d.Value)
		}
		check(role+" metric", []string{aws.ToString(a.Namespace), aws.ToString(a.MetricName), string(a.Statistic)}, []string{w.ns, w.metric, w.stat})
		check(role+" dimensions", dims, w.dims)
		check(role+" comparison", a.ComparisonOperator, w.op)
		check(role+" threshold", aws.ToFloat64(a.Threshold), w.threshold)
		check(role+" period", aws.ToInt32(a.Period), int32(60))
		check(role+" evaluation", []int32{aws.ToInt32(a.EvaluationPeriods), aws.ToInt32(a.DatapointsToAlarm)}, []int32{w.periods, w.periods})
		check(role+" action", a.AlarmActions, []string{aws.ToString(ps[w.policy].PolicyARN)})
	}
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up (step) made %v", m)
	}

	// Capacity and a target change converge in place; back to target
	// tracking removes the step alarms.
	r.cfg.Autoscaling.MaxCapacity = 8
	r.cfg.Autoscaling.Policy = "target-tracking"
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if n := cmpCount(r, "Application Auto Scaling.RegisterScalableTarget"); n != 1 {
		t.Errorf("capacity change: %d RegisterScalableTarget calls", n)
	}
	if n := cmpCount(r, "CloudWatch.DeleteAlarms"); n != 6 {
		t.Errorf("back to target tracking deleted %d alarms, want 6", n)
	}
	check("policies after switching back", cmpKeys(cmpPolicies(t, r)), []string{policyCPU, policyMemory, policyRequests})
	if err := r.destroy(computeGraph(r.cfg)).Err(); err != nil {
		t.Fatal(err)
	}
	for _, res := range r.cloud.Inventory() {
		if res.Service == "Application Auto Scaling" || (res.Service == "CloudWatch" && strings.HasPrefix(res.ID, "wbo-app-scale-")) {
			t.Fatalf("left after destroy: %+v", res)
		}
	}
}
