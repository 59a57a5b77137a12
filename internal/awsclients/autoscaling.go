// The applicationautoscaling calls wbo-deploy makes. Add a call to AutoScalingAPI here
// when a provisioner starts using it; *applicationautoscaling.Client satisfies the interface.

package awsclients

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
)

// AutoScalingAPI lists the calls wbo-deploy makes on applicationautoscaling.
type AutoScalingAPI interface {
	RegisterScalableTarget(ctx context.Context, in *applicationautoscaling.RegisterScalableTargetInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.RegisterScalableTargetOutput, error)
	DescribeScalableTargets(ctx context.Context, in *applicationautoscaling.DescribeScalableTargetsInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.DescribeScalableTargetsOutput, error)
	DeregisterScalableTarget(ctx context.Context, in *applicationautoscaling.DeregisterScalableTargetInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.DeregisterScalableTargetOutput, error)
	PutScalingPolicy(ctx context.Context, in *applicationautoscaling.PutScalingPolicyInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.PutScalingPolicyOutput, error)
	DescribeScalingPolicies(ctx context.Context, in *applicationautoscaling.DescribeScalingPoliciesInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.DescribeScalingPoliciesOutput, error)
	DeleteScalingPolicy(ctx context.Context, in *applicationautoscaling.DeleteScalingPolicyInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.DeleteScalingPolicyOutput, error)
	TagResource(ctx context.Context, in *applicationautoscaling.TagResourceInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.TagResourceOutput, error)
	UntagResource(ctx context.Context, in *applicationautoscaling.UntagResourceInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.UntagResourceOutput, error)
	ListTagsForResource(ctx context.Context, in *applicationautoscaling.ListTagsForResourceInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.ListTagsForResourceOutput, error)
}

var _ AutoScalingAPI = (*applicationautoscaling.Client)(nil)
