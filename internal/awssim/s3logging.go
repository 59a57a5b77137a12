package awssim

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	st "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Server access logging (S3 API reference, PutBucketLogging and
// GetBucketLogging). The target bucket must exist, belong to the same
// account and be in the same Region ("The destination bucket must be in the
// same AWS Region and AWS account as the source bucket", S3 User Guide,
// "Enabling Amazon S3 server access logging"); otherwise S3 answers
// InvalidTargetBucketForLogging ("The target bucket for logging does not
// exist, is not owned by you, or does not have the appropriate grants for
// the log-delivery group", S3 API reference, "Error responses"). With the
// target's object ownership BucketOwnerEnforced, target grants are refused
// too ("You also can't include destination grants", same guide). An empty
// BucketLoggingStatus turns logging off.

func (s *s3Sim) PutBucketLogging(ctx context.Context, in *s3.PutBucketLoggingInput) (*s3.PutBucketLoggingOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	if in.BucketLoggingStatus == nil {
		return nil, apiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	le := in.BucketLoggingStatus.LoggingEnabled
	if le == nil {
		b.logging = nil
		return &s3.PutBucketLoggingOutput{}, nil
	}
	bad := func() error {
		return apiError("InvalidTargetBucketForLogging", "The target bucket for logging does not exist, is not owned by you, or does not have the appropriate grants for the log-delivery group")
	}
	target, ok := s.buckets[aws.ToString(le.TargetBucket)]
	if !ok || target.owner != b.owner || target.region != b.region {
		return nil, bad()
	}
	if len(le.TargetGrants) > 0 && target.ownership != nil && len(target.ownership.Rules) > 0 &&
		target.ownership.Rules[0].ObjectOwnership == st.ObjectOwnershipBucketOwnerEnforced {
		return nil, bad()
	}
	if le.TargetPrefix == nil {
		return nil, apiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	b.logging = &st.LoggingEnabled{TargetBucket: aws.String(target.name), TargetPrefix: aws.String(*le.TargetPrefix),
		TargetGrants: le.TargetGrants, TargetObjectKeyFormat: le.TargetObjectKeyFormat}
	return &s3.PutBucketLoggingOutput{}, nil
}

func (s *s3Sim) GetBucketLogging(ctx context.Context, in *s3.GetBucketLoggingInput) (*s3.GetBucketLoggingOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	out := &s3.GetBucketLoggingOutput{}
	if b.logging != nil {
		cp := *b.logging
		out.LoggingEnabled = &cp
	}
	return out, nil
}
