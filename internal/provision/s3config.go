package provision

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
)

// Bucket roles (Node.Role of kind s3.bucket).
const (
	bucketRoleBoards = "boards"
	bucketRoleLogs   = "alb-logs"
)

// abortMultipartDays is how long an incomplete multipart upload of a board
// may linger before S3 aborts it.
const abortMultipartDays = 7

// bucketSpec is what the configuration wants of a bucket.
type bucketSpec struct {
	role       string
	name       string
	versioning bool // boards only; the log bucket's versioning is left alone
	rules      []s3types.LifecycleRule
	sse        s3types.ServerSideEncryptionByDefault
	bucketKey  bool
	policy     policyDoc
	tags       map[string]string
	// Server access logging (s3logging.go): managed for the board bucket
	// only; logTarget "" = off.
	manageLogging        bool
	logTarget, logPrefix string
}

func bucketWant(env *Env, n *Node) (*bucketSpec, error) {
	s, err := bucketWantRole(env, n.Role)
	if err != nil {
		return nil, err
	}
	s.tags = env.Tags(n.Name)
	bucketLoggingWant(env, s)
	return s, nil
}

func bucketWantRole(env *Env, role string) (*bucketSpec, error) {
	acct, region := env.Account(), env.Region()
	on := s3types.ExpirationStatusEnabled
	all := &s3types.LifecycleRuleFilter{Prefix: aws.String("")}
	switch role {
	case bucketRoleBoards:
		name := env.Cfg.BoardBucket(acct, region)
		s := &bucketSpec{role: role, name: name, versioning: true, policy: boardsBucketPolicy(env, name),
			sse: s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}
		if k := env.Cfg.Storage.KMSKeyID; k != "" {
			s.sse = s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(k)}
			s.bucketKey = true // fewer KMS requests, lower cost (S3 User Guide, "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys")
		}
		s.rules = []s3types.LifecycleRule{{
			// Old versions of a board go after the configured days; a delete
			// marker left alone once its versions are gone goes too.
			ID: aws.String("expire-noncurrent-versions"), Status: on, Filter: all,
			NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(int32(env.Cfg.Storage.NoncurrentVersionDays))},
			Expiration:                  &s3types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)},
		}, {
			ID: aws.String("abort-incomplete-multipart-uploads"), Status: on, Filter: all,
			AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(abortMultipartDays)},
		}}
		return s, nil
	case bucketRoleLogs:
		name := env.Cfg.AccessLogBucket(acct, region)
		// "The only server-side encryption option that's supported is Amazon
		// S3-managed keys (SSE-S3)" (Enable access logs for your Application
		// Load Balancer, bucket requirements).
		return &bucketSpec{role: role, name: name, policy: accessLogPolicy(env, name),
			sse: s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256},
			rules: []s3types.LifecycleRule{{
				ID: aws.String("expire-access-logs"), Status: on, Filter: all,
				Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(int32(env.Cfg.Logs.RetentionDays))},
			}, {
				ID: aws.String("abort-incomplete-multipart-uploads"), Status: on, Filter: all,
				AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(abortMultipartDays)},
			}},
		}, nil
	}
	return nil, fmt.Errorf("s3.bucket node has unknown role %q (want %q or %q)", role, bucketRoleBoards, bucketRoleLogs)
}

// bucketObs is a bucket's configuration as S3 describes it.
type bucketObs struct {
	region     string
	versioning string   // Enabled, Suspended or "" (never enabled)
	lifecycle  []string // rule descriptions, sorted; nil = no configuration
	encryption string   // description; "" = none
	pab        string   // description; "" = none
	ownership  string   // ObjectOwnership; "" = no controls
	policy     string   // JSON; "" = none
	tags       map[string]string
	// logging describes server access logging ("" = off), read only for
	// buckets whose logging is managed (loggingObserved).
	logging         string
	loggingObserved bool
}

// expectedOwner makes S3 refuse any call on a bucket of another account
// (AccessDenied) instead of acting on it: bucket names are global.
func expectedOwner(env *Env) *string {
	if a := env.Account(); a != "" {
		return aws.String(a)
	}
	return nil
}

// observeBucket reads every setting Diff compares (read-only calls).
func observeBucket(ctx context.Context, env *Env, name, role string) (*bucketObs, error) {
	c, b, own := env.AWS.S3, aws.String(name), expectedOwner(env)
	o := &bucketObs{region: env.Region(), tags: map[string]string{}}
	v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b, ExpectedBucketOwner: own})
	if err != nil {
		return nil, fmt.Errorf("get versioning of bucket %s: %w", name, err)
	}
	o.versioning = string(v.Status)
	lc, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b, ExpectedBucketOwner: own})
	switch {
	case awserr.HasCode(err, "NoSuchLifecycleConfiguration"):
	case err != nil:
		return nil, fmt.Errorf("get lifecycle of bucket %s: %w", name, err)
	default:
		o.lifecycle = lifecycleDescs(lc.Rules)
	}
	enc, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b, ExpectedBucketOwner: own})
	switch {
	case awserr.HasCode(err, "ServerSideEncryptionConfigurationNotFoundError"):
	case err != nil:
		return nil, fmt.Errorf("get encryption of bucket %s: %w", name, err)
	case enc.ServerSideEncryptionConfiguration != nil && len(enc.ServerSideEncryptionConfiguration.Rules) > 0:
		r := enc.ServerSideEncryptionConfiguration.Rules[0]
		if r.ApplyServerSideEncryptionByDefault != nil {
			o.encryption = encryptionDesc(*r.ApplyServerSideEncryptionByDefault, aws.ToBool(r.BucketKeyEnabled))
		}
	}
	pab, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b, ExpectedBucketOwner: own})
	switch {
	case awserr.HasCode(err, "NoSuchPublicAccessBlockConfiguration"):
	case err != nil:
		return nil, fmt.Errorf("get public access block of bucket %s: %w", name, err)
	default:
		o.pab = pabDesc(pab.PublicAccessBlockConfiguration)
	}
	oc, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b, ExpectedBucketOwner: own})
	switch {
	case awserr.HasCode(err, "OwnershipControlsNotFoundError"):
	case err != nil:
		return nil, fmt.Errorf("get ownership controls of bucket %s: %w", name, err)
	case oc.OwnershipControls != nil && len(oc.OwnershipControls.Rules) > 0:
		o.ownership = string(oc.OwnershipControls.Rules[0].ObjectOwnership)
	}
	pol, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b, ExpectedBucketOwner: own})
	switch {
	case awserr.HasCode(err, "NoSuchBucketPolicy"):
	case err != nil:
		return nil, fmt.Errorf("get policy of bucket %s: %w", name, err)
	default:
		o.policy = aws.ToString(pol.Policy)
	}
	tags, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b, ExpectedBucketOwner: own})
	switch {
	case awserr.HasCode(err, "NoSuchTagSet"):
	case err != nil:
		return nil, fmt.Errorf("get tags of bucket %s: %w", name, err)
	default:
		for _, t := range tags.TagSet {
			o.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	if role == bucketRoleBoards {
		if err := observeBucketLogging(ctx, env, name, o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// lifecycleDescs describes rules in words, one string per rule, sorted: two
// configurations are the same when their descriptions are.
func lifecycleDescs(rules []s3types.LifecycleRule) []string {
	out := make([]string, 0, len(rules))
	for _, r := range rules {
		var parts []string
		parts = append(parts, "rule "+aws.ToString(r.ID))
		if r.Status != s3types.ExpirationStatusEnabled {
			parts = append(parts, "disabled")
		}
		//lint:ignore SA1019 a rule made by another tool may use the legacy Prefix instead of Filter.
		prefix := aws.ToString(r.Prefix)
		if f := r.Filter; f != nil {
			prefix = aws.ToString(f.Prefix)
			if f.And != nil || f.Tag != nil || f.ObjectSizeGreaterThan != nil || f.ObjectSizeLessThan != nil {
				parts = append(parts, "custom filter")
			}
		}
		if prefix != "" {
			parts = append(parts, "prefix "+prefix)
		}
		if e := r.Expiration; e != nil {
			if e.Days != nil {
				parts = append(parts, fmt.Sprintf("objects expire after %d days", *e.Days))
			}
			if e.Date != nil {
				parts = append(parts, "objects expire on "+e.Date.Format("2006-01-02"))
			}
			if aws.ToBool(e.ExpiredObjectDeleteMarker) {
				parts = append(parts, "expired delete markers removed")
			}
		}
		if e := r.NoncurrentVersionExpiration; e != nil {
			parts = append(parts, fmt.Sprintf("noncurrent versions expire after %d days", aws.ToInt32(e.NoncurrentDays)))
			if e.NewerNoncurrentVersions != nil {
				parts = append(parts, fmt.Sprintf("keeping %d", *e.NewerNoncurrentVersions))
			}
		}
		if a := r.AbortIncompleteMultipartUpload; a != nil {
			parts = append(parts, fmt.Sprintf("incomplete multipart uploads aborted after %d days", aws.ToInt32(a.DaysAfterInitiation)))
		}
		if len(r.Transitions) > 0 || len(r.NoncurrentVersionTransitions) > 0 {
			parts = append(parts, "storage class transitions")
		}
		out = append(out, strings.Join(parts, ", "))
	}
	sort.Strings(out)
	return out
}

func encryptionDesc(d s3types.ServerSideEncryptionByDefault, bucketKey bool) string {
	switch d.SSEAlgorithm {
	case s3types.ServerSideEncryptionAes256:
		return "SSE-S3"
	case s3types.ServerSideEncryptionAwsKms:
		key := "the AWS managed key"
		if d.KMSMasterKeyID != nil {
			key = "key " + *d.KMSMasterKeyID
		}
		if bucketKey {
			return "SSE-KMS with " + key + ", bucket key on"
		}
		return "SSE-KMS with " + key + ", bucket key off"
	}
	return string(d.SSEAlgorithm)
}

func pabDesc(p *s3types.PublicAccessBlockConfiguration) string {
	if p == nil {
		return ""
	}
	var off []string
	for _, x := range []struct {
		name string
		v    *bool
	}{{"BlockPublicAcls", p.BlockPublicAcls}, {"IgnorePublicAcls", p.IgnorePublicAcls},
		{"BlockPublicPolicy", p.BlockPublicPolicy}, {"RestrictPublicBuckets", p.RestrictPublicBuckets}} {
		if !aws.ToBool(x.v) {
			off = append(off, x.name)
		}
	}
	if len(off) == 0 {
		return "all blocked"
	}
	return "off: " + strings.Join(off, ", ")
}

func tagsDesc(m map[string]string) string {
	var parts []string
	for _, k := range sortedMapKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	return orNone(strings.Join(parts, ","))
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// userTags drops the tags AWS itself sets (aws:*), which nobody can change.
func withoutAWSTags(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if !strings.HasPrefix(k, "aws:") {
			out[k] = v
		}
	}
	return out
}

func tagsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// bucketChanges lists what differs between spec and the observed bucket.
func bucketChanges(spec *bucketSpec, o *bucketObs) []Change {
	var cs []Change
	if spec.versioning && o.versioning != string(s3types.BucketVersioningStatusEnabled) {
		cs = append(cs, Change{Field: "versioning", Old: orNone(o.versioning), New: "Enabled"})
	}
	want := lifecycleDescs(spec.rules)
	if strings.Join(want, "\n") != strings.Join(o.lifecycle, "\n") {
		cs = append(cs, Change{Field: "lifecycle", Old: orNone(strings.Join(o.lifecycle, "; ")), New: strings.Join(want, "; ")})
	}
	if w := encryptionDesc(spec.sse, spec.bucketKey); o.encryption != w {
		cs = append(cs, Change{Field: "encryption", Old: orNone(o.encryption), New: w})
	}
	if o.pab != "all blocked" {
		cs = append(cs, Change{Field: "public_access_block", Old: orNone(o.pab), New: "all blocked"})
	}
	if o.ownership != string(s3types.ObjectOwnershipBucketOwnerEnforced) {
		cs = append(cs, Change{Field: "object_ownership", Old: orNone(o.ownership), New: string(s3types.ObjectOwnershipBucketOwnerEnforced)})
	}
	if o.policy == "" || !policiesEqual(o.policy, spec.policy.String()) {
		old := "differs"
		if o.policy == "" {
			old = "none"
		}
		what := "deny requests not over TLS"
		if spec.role == bucketRoleLogs {
			what = "ELB access-log, S3 access-log and VPC flow-log delivery, deny requests not over TLS"
		}
		cs = append(cs, Change{Field: "bucket_policy", Old: old, New: what})
	}
	if have := withoutAWSTags(o.tags); !tagsEqual(have, spec.tags) {
		cs = append(cs, Change{Field: "tags", Old: tagsDesc(have), New: tagsDesc(spec.tags)})
	}
	if c, ok := loggingChange(spec, o); ok {
		cs = append(cs, c)
	}
	return cs
}

// applyBucketChange makes one change with the matching Put call.
func applyBucketChange(ctx context.Context, env *Env, spec *bucketSpec, c Change) error {
	s, b, own := env.AWS.S3, aws.String(spec.name), expectedOwner(env)
	var err error
	switch c.Field {
	case "versioning":
		_, err = s.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b, ExpectedBucketOwner: own,
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	case "lifecycle":
		_, err = s.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b, ExpectedBucketOwner: own,
			LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: spec.rules}})
	case "encryption":
		_, err = s.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ExpectedBucketOwner: own,
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &spec.sse, BucketKeyEnabled: aws.Bool(spec.bucketKey)}}}})
	case "public_access_block":
		t := aws.Bool(true)
		_, err = s.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, ExpectedBucketOwner: own,
			PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: t, IgnorePublicAcls: t, BlockPublicPolicy: t, RestrictPublicBuckets: t}})
	case "object_ownership":
		_, err = s.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: b, ExpectedBucketOwner: own,
			OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}})
	case "bucket_policy":
		_, err = s.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, ExpectedBucketOwner: own, Policy: aws.String(spec.policy.String())})
	case "access_logging":
		err = putBucketLogging(ctx, env, spec)
	case "tags":
		_, err = s.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, ExpectedBucketOwner: own,
			Tagging: &s3types.Tagging{TagSet: s3Tags(spec.tags)}})
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("set %s of bucket %s: %w", c.Field, spec.name, err)
	}
	return nil
}

func s3Tags(m map[string]string) []s3types.Tag {
	var out []s3types.Tag
	for _, k := range sortedMapKeys(m) {
		out = append(out, s3types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}
