package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// maxDeleteKeys is the most keys one DeleteObjects request may carry ("The
// request can contain a list of up to 1,000 keys", DeleteObjects API
// reference).
const maxDeleteKeys = 1000

// emptyPasses bounds how often emptyBucket lists the bucket again to retry
// versions whose deletion failed.
const emptyPasses = 5

// DeleteError reports object versions that S3 refused to delete when
// emptying a bucket.
type DeleteError struct {
	Bucket  string
	Failed  int
	Key     string // the first failure
	Version string
	Code    string
	Message string
}

func (e *DeleteError) Error() string {
	return fmt.Sprintf("empty bucket %s: %d object versions could not be deleted; first %s (version %s): %s: %s",
		e.Bucket, e.Failed, e.Key, e.Version, e.Code, e.Message)
}

// emptyBucket deletes every object version and delete marker of a bucket:
// ListObjectVersions page by page (at most 1000 entries per page), each page
// deleted with DeleteObjects in batches of at most 1000 keys, and the
// per-key errors of each answer checked. Versions that failed are retried in
// a new listing pass while passes make progress. node names the resource
// for progress reports.
func emptyBucket(ctx context.Context, env *Env, node, name string) error {
	for pass := 1; ; pass++ {
		deleted, failed, err := emptyPass(ctx, env, node, name)
		if err != nil || failed == nil {
			return err
		}
		if deleted == 0 || pass >= emptyPasses {
			return failed
		}
	}
}

func emptyPass(ctx context.Context, env *Env, node, name string) (deleted int, failed *DeleteError, err error) {
	p := s3.NewListObjectVersionsPaginator(env.AWS.S3, &s3.ListObjectVersionsInput{
		Bucket: aws.String(name), ExpectedBucketOwner: expectedOwner(env), MaxKeys: aws.Int32(maxDeleteKeys),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return deleted, nil, fmt.Errorf("list object versions of bucket %s: %w", name, err)
		}
		ids := make([]s3types.ObjectIdentifier, 0, len(page.Versions)+len(page.DeleteMarkers))
		for _, v := range page.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range page.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		for len(ids) > 0 {
			batch := ids[:min(len(ids), maxDeleteKeys)]
			ids = ids[len(batch):]
			out, err := env.AWS.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{
				Bucket: aws.String(name), ExpectedBucketOwner: expectedOwner(env),
				Delete: &s3types.Delete{Objects: batch, Quiet: aws.Bool(true)},
			})
			if err != nil {
				return deleted, nil, fmt.Errorf("delete %d object versions from bucket %s: %w", len(batch), name, err)
			}
			// A 200 answer can still report failures key by key.
			deleted += len(batch) - len(out.Errors)
			for _, e := range out.Errors {
				if failed == nil {
					failed = &DeleteError{Bucket: name, Key: aws.ToString(e.Key), Version: aws.ToString(e.VersionId),
						Code: aws.ToString(e.Code), Message: aws.ToString(e.Message)}
				}
				failed.Failed++
			}
		}
		env.Progress(node, fmt.Sprintf("emptying bucket %s: %d object versions deleted", name, deleted), 0)
	}
	return deleted, failed, nil
}

// countObjects counts the current objects of a bucket (not older versions).
func countObjects(ctx context.Context, env *Env, name string) (int, error) {
	n := 0
	p := s3.NewListObjectsV2Paginator(env.AWS.S3, &s3.ListObjectsV2Input{Bucket: aws.String(name), ExpectedBucketOwner: expectedOwner(env)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return n, fmt.Errorf("list objects of bucket %s: %w", name, err)
		}
		n += int(aws.ToInt32(page.KeyCount))
	}
	return n, nil
}
