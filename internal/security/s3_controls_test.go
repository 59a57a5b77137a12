package security

import (
	"context"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// bucketView is what S3 reports about one of the stack's buckets.
type bucketView struct {
	name, role string // role: the wbo-deploy:resource tag
	pab        *s3types.PublicAccessBlockConfiguration
	ownership  s3types.ObjectOwnership
	policy     []statement
	sse        *s3types.ServerSideEncryptionRule
	versioning s3types.BucketVersioningStatus
	lifecycle  []s3types.LifecycleRule
}

// stackBuckets lists the account's buckets and reads each one's settings.
func stackBuckets(t *testing.T, d *deployment) map[string]*bucketView {
	t.Helper()
	ctx, c := context.Background(), d.sdk.S3
	list, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	mustNoErr(t, "list buckets", err)
	out := map[string]*bucketView{}
	for _, b := range list.Buckets {
		v := &bucketView{name: aws.ToString(b.Name)}
		tags, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b.Name})
		mustNoErr(t, "get bucket tagging "+v.name, err)
		for _, tg := range tags.TagSet {
			if aws.ToString(tg.Key) == "wbo-deploy:resource" {
				v.role = aws.ToString(tg.Value)
			}
		}
		if pab, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b.Name}); err == nil {
			v.pab = pab.PublicAccessBlockConfiguration
		}
		if oc, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b.Name}); err == nil &&
			oc.OwnershipControls != nil && len(oc.OwnershipControls.Rules) > 0 {
			v.ownership = oc.OwnershipControls.Rules[0].ObjectOwnership
		}
		if pol, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b.Name}); err == nil {
			v.policy, err = parsePolicy(aws.ToString(pol.Policy))
			mustNoErr(t, "bucket policy of "+v.name, err)
		}
		if enc, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b.Name}); err == nil &&
			enc.ServerSideEncryptionConfiguration != nil && len(enc.ServerSideEncryptionConfiguration.Rules) > 0 {
			v.sse = &enc.ServerSideEncryptionConfiguration.Rules[0]
		}
		ver, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b.Name})
		mustNoErr(t, "get bucket versioning "+v.name, err)
		v.versioning = ver.Status
		if lc, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b.Name}); err == nil {
			v.lifecycle = lc.Rules
		}
		out[v.role] = v
	}
	var roles []string
	for r := range out {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	if len(out) != 2 || out["bucket-boards"] == nil || out["bucket-logs"] == nil {
		t.Fatalf("the stack's buckets are %v, want bucket-boards and bucket-logs (access logs are on by default)", roles)
	}
	return out
}

// S3.6 looks for these actions granted to other accounts (its
// blacklistedactionpatterns parameter).
var s3BlacklistedActions = []string{"s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketPolicy",
	"s3:PutEncryptionConfiguration", "s3:PutObjectAcl"}

func checkS3(t *testing.T, d *deployment, v variant) {
	buckets := stackBuckets(t, d)
	for _, role := range []string{"bucket-boards", "bucket-logs"} {
		b := buckets[role]
		arn := "arn:aws:s3:::" + b.name

		t.Run("S3.8/"+role, func(t *testing.T) {
			p := b.pab
			if p == nil || !aws.ToBool(p.BlockPublicAcls) || !aws.ToBool(p.IgnorePublicAcls) ||
				!aws.ToBool(p.BlockPublicPolicy) || !aws.ToBool(p.RestrictPublicBuckets) {
				t.Fatalf("bucket %s: block public access is not fully on: %+v", b.name, p)
			}
		})

		t.Run("S3.2-S3.3/"+role, func(t *testing.T) {
			// Public read or write needs an ACL (disabled, S3.12) or a
			// policy statement allowing everyone.
			for _, s := range b.policy {
				if s.Effect == "Allow" && s.public() {
					t.Fatalf("bucket %s: policy statement %q allows everyone: %+v", b.name, s.Sid, s)
				}
			}
			if b.ownership != s3types.ObjectOwnershipBucketOwnerEnforced {
				t.Fatalf("bucket %s: ACLs are not disabled (ownership %q)", b.name, b.ownership)
			}
		})

		t.Run("S3.5/"+role, func(t *testing.T) {
			for _, s := range b.policy {
				cond := s.Condition["Bool"]["aws:SecureTransport"]
				if s.Effect == "Deny" && s.public() && contains(s.Actions, "s3:*") &&
					contains(s.Resources, arn) && contains(s.Resources, arn+"/*") && len(cond) == 1 && cond[0] == "false" {
					return
				}
			}
			t.Fatalf("bucket %s: no statement denies s3:* on the bucket and its objects when aws:SecureTransport is false: %+v", b.name, b.policy)
		})

		t.Run("S3.6/"+role, func(t *testing.T) {
			for _, s := range b.policy {
				for _, acct := range s.accounts() {
					if acct == simAccount {
						continue
					}
					for _, a := range s3BlacklistedActions {
						if s.allows(a) {
							t.Fatalf("bucket %s: account %s is granted %s", b.name, acct, a)
						}
					}
				}
			}
		})

		t.Run("S3.12/"+role, func(t *testing.T) {
			if b.ownership != s3types.ObjectOwnershipBucketOwnerEnforced {
				t.Fatalf("bucket %s: object ownership %q, want BucketOwnerEnforced (ACLs disabled)", b.name, b.ownership)
			}
		})

		t.Run("S3.13/"+role, func(t *testing.T) {
			enabled := 0
			for _, r := range b.lifecycle {
				if r.Status == s3types.ExpirationStatusEnabled {
					enabled++
				}
			}
			if enabled == 0 {
				t.Fatalf("bucket %s: no enabled lifecycle rule", b.name)
			}
			// What the rules must do: old board versions and old access
			// logs go after 30 days (the defaults).
			want := false
			for _, r := range b.lifecycle {
				switch role {
				case "bucket-boards":
					want = want || (r.NoncurrentVersionExpiration != nil && aws.ToInt32(r.NoncurrentVersionExpiration.NoncurrentDays) == 30)
				case "bucket-logs":
					want = want || (r.Expiration != nil && aws.ToInt32(r.Expiration.Days) == 30)
				}
			}
			if !want {
				t.Fatalf("bucket %s: no lifecycle rule expires old data after 30 days: %+v", b.name, b.lifecycle)
			}
		})

		t.Run("S3.9/"+role, func(t *testing.T) {
			lg, err := d.sdk.S3.GetBucketLogging(context.Background(), &s3.GetBucketLoggingInput{Bucket: aws.String(b.name)})
			mustNoErr(t, "get bucket logging "+b.name, err)
			logs := buckets["bucket-logs"]
			if role == "bucket-logs" {
				// The access-log bucket is the target: logging it would log
				// the delivery of its own logs.
				if lg.LoggingEnabled != nil {
					t.Fatalf("bucket %s logs to %s/%s", b.name, aws.ToString(lg.LoggingEnabled.TargetBucket), aws.ToString(lg.LoggingEnabled.TargetPrefix))
				}
				exception(t, "S3.9", "the access-log bucket is the target of the board bucket's server access logs and does not log itself")
				return
			}
			le := lg.LoggingEnabled
			if le == nil || aws.ToString(le.TargetBucket) != logs.name || aws.ToString(le.TargetPrefix) != "s3-access/" {
				t.Fatalf("bucket %s: server access logging %+v, want to %s under s3-access/", b.name, le, logs.name)
			}
			// The target must let the S3 logging service write there, for
			// this bucket and account only (S3 User Guide, "Permissions for
			// log delivery").
			granted := false
			for _, st := range logs.policy {
				if st.Effect == "Allow" && contains(st.Principals["Service"], "logging.s3.amazonaws.com") &&
					contains(st.Actions, "s3:PutObject") && contains(st.Resources, "arn:aws:s3:::"+logs.name+"/s3-access/*") &&
					contains(st.Condition["ArnLike"]["aws:SourceArn"], "arn:aws:s3:::"+b.name) &&
					contains(st.Condition["StringEquals"]["aws:SourceAccount"], simAccount) {
					granted = true
				}
			}
			if !granted {
				t.Fatalf("bucket %s: its policy does not grant logging.s3.amazonaws.com s3:PutObject on s3-access/* for %s", logs.name, b.name)
			}
		})

		t.Run("encryption/"+role, func(t *testing.T) {
			// FSBP no longer lists S3.4 (S3 encrypts every new object
			// since 5 January 2023); the explicit default is checked
			// anyway, and SSE-KMS is what NIST 800-53's S3.17 asks for.
			if b.sse == nil || b.sse.ApplyServerSideEncryptionByDefault == nil {
				t.Fatalf("bucket %s: no default encryption", b.name)
			}
			def := b.sse.ApplyServerSideEncryptionByDefault
			wantKMS := role == "bucket-boards" && v.kmsKey != ""
			switch {
			case wantKMS && (def.SSEAlgorithm != s3types.ServerSideEncryptionAwsKms || aws.ToString(def.KMSMasterKeyID) != v.kmsKey ||
				!aws.ToBool(b.sse.BucketKeyEnabled)):
				t.Fatalf("bucket %s: encryption %s key %q bucket key %v, want aws:kms with %s and a bucket key",
					b.name, def.SSEAlgorithm, aws.ToString(def.KMSMasterKeyID), aws.ToBool(b.sse.BucketKeyEnabled), v.kmsKey)
			case !wantKMS && def.SSEAlgorithm != s3types.ServerSideEncryptionAes256:
				// The access-log bucket must stay SSE-S3: it is the only
				// encryption ALB log delivery supports.
				t.Fatalf("bucket %s: encryption %s, want AES256 (SSE-S3)", b.name, def.SSEAlgorithm)
			}
		})
	}

	t.Run("S3.14/bucket-boards", func(t *testing.T) {
		if b := buckets["bucket-boards"]; b.versioning != s3types.BucketVersioningStatusEnabled {
			t.Fatalf("board bucket %s: versioning %q, want Enabled", b.name, b.versioning)
		}
	})
	t.Run("S3.14/bucket-logs", func(t *testing.T) {
		if b := buckets["bucket-logs"]; b.versioning == s3types.BucketVersioningStatusEnabled {
			t.Fatalf("access-log bucket %s is versioned; docs/security.md says it is not", b.name)
		}
		exception(t, "S3.14", "the access-log bucket is not versioned: ELB writes each log file once, and expired logs must really go")
	})
}
