// Package awsclients builds the AWS SDK v2 clients wbo-deploy uses, each behind
// a small interface that lists only the calls the tool makes (one file per
// service). The real *Client types satisfy these interfaces; so do the SDK's
// waiters and paginators, which accept the same narrow interfaces.
//
// Tests do not replace these interfaces with fakes: they build the real clients
// with Options.APIOptions from internal/awssim, which answers each operation in
// process at the bottom of the SDK's middleware stack. The SDK's own retryer,
// waiters, paginators, error wrapping and parameter validation therefore run in
// every test exactly as they do against AWS.
package awsclients

import (
	"context"
	"errors"
	"fmt"
	"io"

	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
)

// Options select the account, region and transport of a run.
type Options struct {
	Region      string // empty: from AWS_REGION / the profile
	Profile     string // empty: AWS_PROFILE / default chain
	EndpointURL string // --endpoint-url; AWS_ENDPOINT_URL is honoured by the SDK itself
	Version     string // tool version for the user agent

	// MaxAttempts caps SDK attempts per call (default 8).
	MaxAttempts int
	// RetryMode is "adaptive" (default, for real use) or "standard".
	RetryMode string
	// MaxBackoff caps the retryer's backoff (default the SDK's 20 s). Tests
	// scale it down with the rest of the clock.
	MaxBackoff time.Duration

	// Credentials replaces the default chain (tests use static fake keys).
	Credentials aws.CredentialsProvider
	// APIOptions are added to every client's middleware stack (the simulated
	// cloud installs itself here).
	APIOptions []func(*middleware.Stack) error
	// HTTPClient replaces the default transport.
	HTTPClient aws.HTTPClient
	// Env is the environment to read AWS_ENDPOINT_URL from (nil: os.Getenv).
	Getenv func(string) string
	// SDKLog receives the SDK's own log lines ("SDK ... WARN falling back to
	// IMDSv1" and the like); nil discards them, so a person sees our one
	// sentence, not the SDK's chatter (-v shows it).
	SDKLog io.Writer
}

// Clients holds one client per AWS service wbo-deploy calls.
type Clients struct {
	Region string
	// Account is filled by Identify.
	Account string
	// Partition is "aws", "aws-cn" or "aws-us-gov", from the caller ARN.
	Partition string

	EC2 EC2API
	ELB ELBv2API
	ECS ECSAPI
	IAM IAMAPI
	S3  S3API
	// S3State and S3StateBucket are the same S3 client, seen through the
	// calls made on the state bucket (state.backend: s3).
	S3State       S3StateAPI
	S3StateBucket S3StateBucketAPI
	Logs          LogsAPI
	CloudWatch    CloudWatchAPI
	ElastiCache   ElastiCacheAPI
	SNS           SNSAPI
	AutoScaling   AutoScalingAPI
	STS           STSAPI
	Pricing       PricingAPI
	KMS           KMSAPI
	Secrets       SecretsManagerAPI
	SSM           SSMAPI
	ACM           ACMAPI
	Route53       Route53API

	cfg aws.Config
}

// ErrNoRegion is returned when no region is configured anywhere.
var ErrNoRegion = errors.New("no AWS region: set --region, `region:` in the config file, WBO_DEPLOY_REGION or AWS_REGION")

// CredentialsError says that no usable credentials were found.
type CredentialsError struct{ Err error }

func (e *CredentialsError) Error() string {
	return "no usable AWS credentials: configure a profile (--profile or AWS_PROFILE, e.g. `aws configure` or `aws sso login`), " +
		"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an instance or task role is available"
}

// Detail is the SDK's own explanation, for -v.
func (e *CredentialsError) Detail() string { return e.Err.Error() }
func (e *CredentialsError) Unwrap() error  { return e.Err }

// New loads the shared AWS configuration (default credential chain, profile,
// region) and builds every client. It makes no AWS call.
func New(ctx context.Context, o Options) (*Clients, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	maxAttempts := o.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 8
	}
	loadOpts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithAppID("wbo-deploy/" + versionOr(o.Version)),
		awsconfig.WithRetryer(func() aws.Retryer { return newRetryer(o.RetryMode, maxAttempts, o.MaxBackoff) }),
	}
	if o.Region != "" {
		loadOpts = append(loadOpts, awsconfig.WithRegion(o.Region))
	}
	if o.SDKLog != nil {
		loadOpts = append(loadOpts, awsconfig.WithLogger(logging.NewStandardLogger(o.SDKLog)))
	} else {
		loadOpts = append(loadOpts, awsconfig.WithLogger(logging.Nop{}))
	}
	if o.Profile != "" {
		loadOpts = append(loadOpts, awsconfig.WithSharedConfigProfile(o.Profile))
	}
	if o.Credentials != nil {
		loadOpts = append(loadOpts, awsconfig.WithCredentialsProvider(o.Credentials))
	}
	if o.HTTPClient != nil {
		loadOpts = append(loadOpts, awsconfig.WithHTTPClient(o.HTTPClient))
	}
	// endpointErrors first: its body capture must sit above a transport
	// that APIOptions may install (the simulated cloud's raw answers).
	loadOpts = append(loadOpts, awsconfig.WithAPIOptions(append([]func(*middleware.Stack) error{endpointErrors}, o.APIOptions...)))
	endpoint := o.EndpointURL
	if endpoint == "" {
		endpoint = getenv("AWS_ENDPOINT_URL")
	}
	if endpoint != "" {
		if !strings.HasPrefix(endpoint, "http://") && !strings.HasPrefix(endpoint, "https://") {
			return nil, fmt.Errorf("endpoint URL %q must start with http:// or https://", endpoint)
		}
		loadOpts = append(loadOpts, awsconfig.WithBaseEndpoint(endpoint))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, ErrNoRegion
	}
	c := &Clients{Region: cfg.Region, cfg: cfg}
	c.EC2 = ec2.NewFromConfig(cfg)
	c.ELB = elbv2.NewFromConfig(cfg)
	c.ECS = ecs.NewFromConfig(cfg)
	c.IAM = iam.NewFromConfig(cfg)
	// Emulators serve buckets on a path, not as virtual hosts.
	s3c := s3.NewFromConfig(cfg, func(so *s3.Options) { so.UsePathStyle = endpoint != "" })
	c.S3, c.S3State, c.S3StateBucket = s3c, s3c, s3c
	c.Logs = cloudwatchlogs.NewFromConfig(cfg)
	c.CloudWatch = cloudwatch.NewFromConfig(cfg)
	c.ElastiCache = elasticache.NewFromConfig(cfg)
	c.SNS = sns.NewFromConfig(cfg)
	c.AutoScaling = applicationautoscaling.NewFromConfig(cfg)
	c.STS = sts.NewFromConfig(cfg)
	c.KMS = kms.NewFromConfig(cfg)
	c.Secrets = secretsmanager.NewFromConfig(cfg)
	c.SSM = ssm.NewFromConfig(cfg)
	// ACM in the stack's region: a load balancer takes certificates of its
	// own region only. Route 53 is global; the SDK signs for us-east-1.
	c.ACM = acm.NewFromConfig(cfg)
	c.Route53 = route53.NewFromConfig(cfg)
	// The Price List API is served only from a few regions (us-east-1 among
	// them), whatever region the stack is in.
	c.Pricing = pricing.NewFromConfig(cfg, func(po *pricing.Options) {
		if endpoint == "" {
			po.Region = "us-east-1"
		}
	})
	return c, nil
}

// CheckCredentials resolves credentials once, so a missing setup is reported
// in one sentence before any work starts.
func (c *Clients) CheckCredentials(ctx context.Context) error {
	if c.cfg.Credentials == nil {
		return &CredentialsError{Err: errors.New("no credential provider")}
	}
	if _, err := c.cfg.Credentials.Retrieve(ctx); err != nil {
		return &CredentialsError{Err: err}
	}
	return nil
}

// Identify calls STS GetCallerIdentity (once per run) and records the account.
func (c *Clients) Identify(ctx context.Context) error {
	out, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("get caller identity: %w", err)
	}
	c.Account = aws.ToString(out.Account)
	c.Partition = "aws"
	if arn := aws.ToString(out.Arn); strings.HasPrefix(arn, "arn:") {
		if parts := strings.SplitN(arn, ":", 3); len(parts) == 3 {
			c.Partition = parts[1]
		}
	}
	return nil
}

// Config returns the resolved SDK configuration (read-only use).
func (c *Clients) Config() aws.Config { return c.cfg }

func versionOr(v string) string {
	if v == "" {
		return "dev"
	}
	return v
}

var extraThrottleCodes = map[string]struct{}{"Throttled": {}}

// newRetryer: adaptive mode (client-side rate limiting once AWS throttles) for
// real use; standard for tests. The retry quota token bucket is disabled: a
// deployment makes hundreds of calls and a throttling storm must slow it down,
// not fail it (the attempt cap still bounds each call).
func newRetryer(mode string, maxAttempts int, maxBackoff time.Duration) aws.Retryer {
	std := func(so *retry.StandardOptions) {
		so.MaxAttempts = maxAttempts
		so.RateLimiter = ratelimit.None
		so.Retryables = append([]retry.IsErrorRetryable{notAWSAnswerRetryable}, so.Retryables...)
		// SNS answers throttling with the code "Throttled" (SNS API
		// reference, ThrottledException), which the SDK's default lists
		// miss: retry it as the throttle it is.
		so.Retryables = append(so.Retryables, retry.RetryableErrorCode{Codes: extraThrottleCodes})
		so.Throttles = append(so.Throttles, retry.ThrottleErrorCode{Codes: extraThrottleCodes})
		if maxBackoff > 0 {
			so.MaxBackoff = maxBackoff
			so.Backoff = retry.NewExponentialJitterBackoff(maxBackoff)
		}
	}
	if mode == "standard" {
		return retry.NewStandard(std)
	}
	return retry.NewAdaptiveMode(func(ao *retry.AdaptiveModeOptions) {
		ao.StandardOptions = append(ao.StandardOptions, std)
	})
}
