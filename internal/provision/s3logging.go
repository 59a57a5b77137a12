package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Server access logging of the board bucket (FSBP S3.9). With
// load_balancer.access_logs on, the board bucket logs its requests to the
// access-log bucket under s3AccessLogPrefix; the log bucket's policy lets the
// S3 logging service write there (accessLogPolicy), and its lifecycle expires
// the files with the load balancer's. With access logs off there is no log
// bucket, and logging is turned off. The log bucket itself does not log: it is
// the target (S3.9 exempts it), and logging into itself would log forever.

// s3AccessLogPrefix is where the board bucket's server access logs go.
const s3AccessLogPrefix = "s3-access/"

// bucketLoggingWant sets the logging the configuration wants of the board
// bucket: the access-log bucket and prefix, or none.
func bucketLoggingWant(env *Env, s *bucketSpec) {
	if s.role != bucketRoleBoards {
		return
	}
	s.manageLogging = true
	if env.Cfg.LoadBalancer.AccessLogs {
		s.logTarget = env.Cfg.AccessLogBucket(env.Account(), env.Region())
		s.logPrefix = s3AccessLogPrefix
	}
}

// loggingDesc describes server access logging: "" when off.
func loggingDesc(target, prefix string) string {
	if target == "" {
		return ""
	}
	return "to " + target + " under " + orNone(prefix)
}

// observeBucketLogging reads the bucket's logging (GetBucketLogging).
func observeBucketLogging(ctx context.Context, env *Env, name string, o *bucketObs) error {
	out, err := env.AWS.S3.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: aws.String(name), ExpectedBucketOwner: expectedOwner(env)})
	if err != nil {
		return fmt.Errorf("get logging of bucket %s: %w", name, err)
	}
	o.loggingObserved = true
	if le := out.LoggingEnabled; le != nil {
		o.logging = loggingDesc(aws.ToString(le.TargetBucket), aws.ToString(le.TargetPrefix))
	}
	return nil
}

// loggingChange is the access_logging change, if the logging differs.
func loggingChange(spec *bucketSpec, o *bucketObs) (Change, bool) {
	if !spec.manageLogging || !o.loggingObserved {
		return Change{}, false
	}
	want := loggingDesc(spec.logTarget, spec.logPrefix)
	if o.logging == want {
		return Change{}, false
	}
	return Change{Field: "access_logging", Old: orNone(o.logging), New: orNone(want)}, true
}

// putBucketLogging turns logging on to the wanted target, or off with an
// empty BucketLoggingStatus (PutBucketLogging API reference). Grants are
// not given: the log bucket enforces bucket-owner ownership, so access comes
// from its policy ("Permissions for log delivery", S3 User Guide).
func putBucketLogging(ctx context.Context, env *Env, spec *bucketSpec) error {
	status := &s3types.BucketLoggingStatus{}
	if spec.logTarget != "" {
		status.LoggingEnabled = &s3types.LoggingEnabled{TargetBucket: aws.String(spec.logTarget), TargetPrefix: aws.String(spec.logPrefix)}
	}
	_, err := env.AWS.S3.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: aws.String(spec.name),
		ExpectedBucketOwner: expectedOwner(env), BucketLoggingStatus: status})
	return err
}
