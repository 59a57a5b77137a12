package awssim

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	at "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

func TestApplicationAutoScaling(t *testing.T) {
	_, cl := ecsTestClients(t, nil)
	ctx := context.Background()
	const id = "service/wbo/wbo-app"
	target := func(min, max *int32) *aas.RegisterScalableTargetInput {
		return &aas.RegisterScalableTargetInput{ServiceNamespace: at.ServiceNamespaceEcs, ResourceId: aws.String(id),
			ScalableDimension: at.ScalableDimensionECSServiceDesiredCount, MinCapacity: min, MaxCapacity: max,
			Tags: map[string]string{"wbo-deploy:stack": "wbo"}}
	}
	if _, err := cl.AutoScaling.RegisterScalableTarget(ctx, target(aws.Int32(1), aws.Int32(10))); ecsCode(err) != "ValidationException" {
		t.Fatalf("a target for a service that does not exist: %v", err)
	}
	subnets, sg := ecsNet(t, cl)
	cl.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("wbo")})
	td, _ := cl.ECS.RegisterTaskDefinition(ctx, ecsTaskDefInput("wbo-app", "app:v1"))
	if _, err := cl.ECS.CreateService(ctx, ecsServiceInput("wbo", "wbo-app", aws.ToString(td.TaskDefinition.TaskDefinitionArn), subnets, sg, 12)); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.AutoScaling.RegisterScalableTarget(ctx, target(aws.Int32(1), nil)); ecsCode(err) != "ValidationException" {
		t.Fatalf("a new target needs both capacities: %v", err)
	}
	if _, err := cl.AutoScaling.RegisterScalableTarget(ctx, target(aws.Int32(5), aws.Int32(2))); ecsCode(err) != "ValidationException" {
		t.Fatalf("min above max: %v", err)
	}
	reg, err := cl.AutoScaling.RegisterScalableTarget(ctx, target(aws.Int32(1), aws.Int32(10)))
	if err != nil || !strings.HasPrefix(aws.ToString(reg.ScalableTargetARN), "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/") {
		t.Fatalf("register: %v %v", reg, err)
	}
	// The service's desired count (12) is brought into the range at once.
	d, _ := cl.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("wbo"), Services: []string{"wbo-app"}})
	if d.Services[0].DesiredCount != 10 {
		t.Fatalf("desired count %d, want clamped to 10", d.Services[0].DesiredCount)
	}
	// An upsert changes only what it names.
	if _, err := cl.AutoScaling.RegisterScalableTarget(ctx, target(nil, aws.Int32(4))); err != nil {
		t.Fatal(err)
	}
	ts, _ := cl.AutoScaling.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: at.ServiceNamespaceEcs, ResourceIds: []string{id}})
	if len(ts.ScalableTargets) != 1 || aws.ToInt32(ts.ScalableTargets[0].MinCapacity) != 1 || aws.ToInt32(ts.ScalableTargets[0].MaxCapacity) != 4 {
		t.Fatalf("after upsert: %+v", ts.ScalableTargets)
	}
	tags, _ := cl.AutoScaling.ListTagsForResource(ctx, &aas.ListTagsForResourceInput{ResourceARN: reg.ScalableTargetARN})
	if tags.Tags["wbo-deploy:stack"] != "wbo" {
		t.Fatalf("tags: %v", tags.Tags)
	}

	policy := func(name string, metric at.MetricType, label *string) *aas.PutScalingPolicyInput {
		return &aas.PutScalingPolicyInput{PolicyName: aws.String(name), PolicyType: at.PolicyTypeTargetTrackingScaling,
			ServiceNamespace: at.ServiceNamespaceEcs, ResourceId: aws.String(id), ScalableDimension: at.ScalableDimensionECSServiceDesiredCount,
			TargetTrackingScalingPolicyConfiguration: &at.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(70),
				PredefinedMetricSpecification: &at.PredefinedMetricSpecification{PredefinedMetricType: metric, ResourceLabel: label}}}
	}
	if _, err := cl.AutoScaling.PutScalingPolicy(ctx, policy("req", at.MetricTypeALBRequestCountPerTarget, nil)); ecsCode(err) != "ValidationException" {
		t.Fatalf("ALBRequestCountPerTarget without ResourceLabel: %v", err)
	}
	label := aws.String("app/wbo-alb/0123456789abcdef/targetgroup/wbo-app/fedcba9876543210")
	p1, err := cl.AutoScaling.PutScalingPolicy(ctx, policy("req", at.MetricTypeALBRequestCountPerTarget, label))
	if err != nil || len(p1.Alarms) != 2 {
		t.Fatalf("target tracking policy: %v %v", p1, err)
	}
	p2, err := cl.AutoScaling.PutScalingPolicy(ctx, policy("req", at.MetricTypeALBRequestCountPerTarget, label))
	if err != nil || aws.ToString(p2.PolicyARN) != aws.ToString(p1.PolicyARN) {
		t.Fatalf("PutScalingPolicy is an upsert keeping the ARN: %v %v", p2, err)
	}
	step := &aas.PutScalingPolicyInput{PolicyName: aws.String("out"), PolicyType: at.PolicyTypeStepScaling,
		ServiceNamespace: at.ServiceNamespaceEcs, ResourceId: aws.String(id), ScalableDimension: at.ScalableDimensionECSServiceDesiredCount}
	if _, err := cl.AutoScaling.PutScalingPolicy(ctx, step); ecsCode(err) != "ValidationException" {
		t.Fatalf("step policy without configuration: %v", err)
	}
	step.StepScalingPolicyConfiguration = &at.StepScalingPolicyConfiguration{AdjustmentType: at.AdjustmentTypeChangeInCapacity,
		StepAdjustments: []at.StepAdjustment{{MetricIntervalLowerBound: aws.Float64(0), ScalingAdjustment: aws.Int32(1)}}}
	if _, err := cl.AutoScaling.PutScalingPolicy(ctx, step); err != nil {
		t.Fatal(err)
	}
	ps, _ := cl.AutoScaling.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: at.ServiceNamespaceEcs, ResourceId: aws.String(id)})
	if len(ps.ScalingPolicies) != 2 {
		t.Fatalf("policies: %+v", ps.ScalingPolicies)
	}
	if _, err := cl.AutoScaling.DeleteScalingPolicy(ctx, &aas.DeleteScalingPolicyInput{PolicyName: aws.String("nope"), ServiceNamespace: at.ServiceNamespaceEcs,
		ResourceId: aws.String(id), ScalableDimension: at.ScalableDimensionECSServiceDesiredCount}); ecsCode(err) != "ObjectNotFoundException" {
		t.Fatalf("delete unknown policy: %v", err)
	}
	// Deregistering the target deletes its policies.
	dereg := &aas.DeregisterScalableTargetInput{ServiceNamespace: at.ServiceNamespaceEcs, ResourceId: aws.String(id), ScalableDimension: at.ScalableDimensionECSServiceDesiredCount}
	if _, err := cl.AutoScaling.DeregisterScalableTarget(ctx, dereg); err != nil {
		t.Fatal(err)
	}
	ps, _ = cl.AutoScaling.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: at.ServiceNamespaceEcs, ResourceId: aws.String(id)})
	if len(ps.ScalingPolicies) != 0 {
		t.Fatalf("policies left after deregistering the target: %+v", ps.ScalingPolicies)
	}
	if _, err := cl.AutoScaling.DeregisterScalableTarget(ctx, dereg); ecsCode(err) != "ObjectNotFoundException" {
		t.Fatalf("second deregister: %v", err)
	}
	if _, err := cl.AutoScaling.PutScalingPolicy(ctx, step); ecsCode(err) != "ObjectNotFoundException" {
		t.Fatalf("policy without a target: %v", err)
	}
}
