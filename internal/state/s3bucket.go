package state

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
)

// TagStateBucket marks a state bucket. It is deliberately not the stack tag
// (wbo-deploy:stack): the bucket outlives every stack whose state it holds,
// and destroy, which finds a stack by that tag, must never see it.
const TagStateBucket = "wbo-deploy:state-bucket"

// InitS3Bucket creates the state bucket in region if it does not exist, and
// makes sure it is hardened: versioning on (every state version is kept, so
// a bad write or a migration can be undone), default encryption SSE-S3,
// Block Public Access on, and a bucket policy denying any request not made
// over TLS. It is idempotent; it returns what it did, one line per step.
func InitS3Bucket(ctx context.Context, api awsclients.S3StateBucketAPI, bucket, region, partition string) ([]string, error) {
	var done []string
	_, err := api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	switch {
	case err == nil:
		done = append(done, "bucket "+bucket+" exists")
	case awserr.HasCode(err, "NotFound", "NoSuchBucket"):
		in := &s3.CreateBucketInput{Bucket: aws.String(bucket), ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}
		// CreateBucket API reference: outside us-east-1 the region is given
		// as the LocationConstraint; in us-east-1 it must be omitted.
		if region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
		}
		if _, err := api.CreateBucket(ctx, in); err != nil && !awserr.HasCode(err, "BucketAlreadyOwnedByYou") {
			if awserr.HasCode(err, "BucketAlreadyExists") {
				return done, fmt.Errorf("create state bucket %s: the name is taken by another AWS account; choose another state.bucket: %w", bucket, err)
			}
			return done, fmt.Errorf("create state bucket %s in %s: %w", bucket, region, err)
		}
		done = append(done, "created bucket "+bucket+" in "+region)
	case awserr.HasCode(err, "Forbidden", "AccessDenied"):
		return done, fmt.Errorf("state bucket %s: it exists but these credentials may not use it (another account's bucket, or missing s3:ListBucket): %w", bucket, err)
	case awserr.HasCode(err, "MovedPermanently", "PermanentRedirect"):
		return done, fmt.Errorf("state bucket %s: it exists in another region than %s; set state.region to its region: %w", bucket, region, err)
	default:
		return done, fmt.Errorf("look up state bucket %s: %w", bucket, err)
	}
	if _, err := api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		return done, fmt.Errorf("turn on versioning of state bucket %s: %w", bucket, err)
	}
	done = append(done, "versioning enabled (every state version is kept)")
	if _, err := api.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256},
		}}}}); err != nil {
		return done, fmt.Errorf("set default encryption of state bucket %s: %w", bucket, err)
	}
	done = append(done, "default encryption SSE-S3")
	t := aws.Bool(true)
	if _, err := api.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(bucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: t, IgnorePublicAcls: t, BlockPublicPolicy: t, RestrictPublicBuckets: t}}); err != nil {
		return done, fmt.Errorf("block public access to state bucket %s: %w", bucket, err)
	}
	done = append(done, "Block Public Access on (all four settings)")
	if _, err := api.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(tlsOnlyPolicy(bucket, partition))}); err != nil {
		return done, fmt.Errorf("set TLS-only policy of state bucket %s: %w", bucket, err)
	}
	done = append(done, "bucket policy denies requests not made over TLS")
	if _, err := api.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(bucket),
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String(TagStateBucket), Value: aws.String("true")}}}}); err != nil {
		return done, fmt.Errorf("tag state bucket %s: %w", bucket, err)
	}
	return done, nil
}

// tlsOnlyPolicy denies every request not made over TLS, on the bucket and
// its objects: the statement the S3 User Guide recommends ("Security best
// practices for Amazon S3": aws:SecureTransport false).
func tlsOnlyPolicy(bucket, partition string) string {
	if partition == "" {
		partition = "aws"
	}
	arn := "arn:" + partition + ":s3:::" + bucket
	doc := map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
		"Resource":  []string{arn, arn + "/*"},
		"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}}}
	b, _ := json.Marshal(doc) // plain maps and strings cannot fail to marshal
	return string(b)
}
