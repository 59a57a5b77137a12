package awssim

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	st "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3 error codes: Amazon S3 API reference, "Error responses", list of error
// codes (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html)
// and each operation's page. HeadBucket answers without a body, so the SDK
// names its errors after the HTTP status: NotFound (404), Forbidden (403),
// MovedPermanently (301).
//
// Bucket names are global: one namespace per Cloud (a simulated partition),
// holding this account's buckets in any region and other accounts' buckets
// (AddBucket). Since April 2023 a new bucket has Block Public Access on and
// ACLs disabled (BucketOwnerEnforced), and since January 2023 SSE-S3 default
// encryption ("Amazon S3 now automatically encrypts all new objects", S3
// User Guide); the simulated buckets start the same way.

const (
	// ForeignAccount owns the buckets of "someone else" (AddBucket).
	ForeignAccount  = "999999999999"
	s3MaxKeys       = 1000
	s3MaxDeleteKeys = 1000 // DeleteObjects: "up to 1,000 keys" per request
	s3MaxTags       = 50
)

type s3Version struct {
	id           string
	seq          int64 // creation order, newest highest; versions of a key list newest first
	data         []byte
	deleteMarker bool
	modified     time.Time
	etag         string
}

type s3Bucket struct {
	name, owner, region string
	created             time.Time
	tags                map[string]string // nil: no tag set
	versioning          st.BucketVersioningStatus
	lifecycle           []st.LifecycleRule
	policy              string
	encryption          *st.ServerSideEncryptionConfiguration
	pab                 *st.PublicAccessBlockConfiguration
	ownership           *st.OwnershipControls
	logging             *st.LoggingEnabled      // server access logging; nil = off
	objects             map[string][]*s3Version // key -> versions, newest first
	gens                map[string]int64        // key -> writes and deletes completed, for conditional-write conflicts
}

// bump counts a completed write or delete of key.
func (b *s3Bucket) bump(key string) {
	if b.gens == nil {
		b.gens = map[string]int64{}
	}
	b.gens[key]++
}

type s3Sim struct {
	c       *Cloud
	ns      *BucketNamespace     // global names: owners, holds after delete (s3names.go)
	pin     *holdPin             // a test's hold of deleted names; nil = random
	buckets map[string]*s3Bucket // this account's buckets (and AddBucket's foreign ones)
	batches []int                // keys per DeleteObjects request, for tests
	failDel int                  // per-key InternalError for the next n keys of DeleteObjects
	// noCreateTags plays an S3 implementation that predates tags in
	// CreateBucket (MalformedXML when they are sent).
	noCreateTags bool
	holds        map[string]*uploadHold // "bucket/key" -> the next PutObject's upload, held by a test
}

func init() {
	register("S3", func(c *Cloud) any { return &s3Sim{c: c, ns: c.bucketNS, buckets: map[string]*s3Bucket{}} })
}

func (c *Cloud) s3() *s3Sim { return c.services["S3"].(*s3Sim) }

// clientRegion is the region of the SDK client that sent the request.
func (s *s3Sim) clientRegion(ctx context.Context) string {
	if r := awsmiddleware.GetRegion(ctx); r != "" {
		return r
	}
	return s.c.Region
}

func (s *s3Sim) bucketARN(name string) string {
	return "arn:" + partitionOf(s.c.Region) + ":s3:::" + name
}

func newBucket(name, owner, region string) *s3Bucket {
	t := true
	return &s3Bucket{name: name, owner: owner, region: region, created: time.Now().UTC(),
		objects: map[string][]*s3Version{},
		pab:     &st.PublicAccessBlockConfiguration{BlockPublicAcls: &t, IgnorePublicAcls: &t, BlockPublicPolicy: &t, RestrictPublicBuckets: &t},
		encryption: &st.ServerSideEncryptionConfiguration{Rules: []st.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &st.ServerSideEncryptionByDefault{SSEAlgorithm: st.ServerSideEncryptionAes256},
			BucketKeyEnabled:                   aws.Bool(false),
		}}},
		ownership: &st.OwnershipControls{Rules: []st.OwnershipControlsRule{{ObjectOwnership: st.ObjectOwnershipBucketOwnerEnforced}}},
	}
}

// AddBucket creates a bucket directly, as if made earlier or by someone else:
// owner "" is this account, any other account ID (ForeignAccount) makes the
// name taken by someone else (BucketAlreadyExists); region "" is the cloud's.
func (c *Cloud) AddBucket(name, owner, region string, tags map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if owner == "" {
		owner = c.Account
	}
	if region == "" {
		region = c.Region
	}
	b := newBucket(name, owner, region)
	if tags != nil {
		b.tags = copyTags(tags)
	}
	c.s3().buckets[name] = b
	c.bucketNS.put(name, owner, region)
}

// DeleteObjectsBatches returns how many keys each DeleteObjects request
// carried, in order (accepted or not).
func (c *Cloud) DeleteObjectsBatches() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.s3().batches...)
}

// FailObjectDeletes makes the next n keys of DeleteObjects requests fail
// with a per-key InternalError in the response (the request itself
// succeeds), as S3 does now and then.
func (c *Cloud) FailObjectDeletes(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s3().failDel = n
}

// bucket returns a bucket this account may use from a client in region:
// NoSuchBucket, AccessDenied (someone else's, or not the expected owner) or
// PermanentRedirect (another region).
func (s *s3Sim) bucket(ctx context.Context, name, expectedOwner *string) (*s3Bucket, error) {
	n := aws.ToString(name)
	b, ok := s.buckets[n]
	if !ok {
		if o, taken := s.ns.ownerOf(n); taken && o.account != s.c.Account {
			return nil, apiError("AccessDenied", "Access Denied") // another account's
		}
		return nil, apiError("NoSuchBucket", "The specified bucket does not exist")
	}
	if b.owner != s.c.Account || (expectedOwner != nil && *expectedOwner != b.owner) {
		return nil, apiError("AccessDenied", "Access Denied")
	}
	if r := s.clientRegion(ctx); b.region != r {
		return nil, apiError("PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.")
	}
	return b, nil
}

func bucketNameOK(n string) bool {
	if len(n) < 3 || len(n) > 63 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	first, last := n[0], n[len(n)-1]
	return first != '.' && first != '-' && last != '.' && last != '-' && !strings.Contains(n, "..")
}

// ---- buckets ----

func (s *s3Sim) CreateBucket(ctx context.Context, in *s3.CreateBucketInput) (*s3.CreateBucketOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	name := aws.ToString(in.Bucket)
	if !bucketNameOK(name) {
		return nil, apiError("InvalidBucketName", "The specified bucket is not valid.")
	}
	region := s.clientRegion(ctx)
	var lc string
	var tags map[string]string
	if cfg := in.CreateBucketConfiguration; cfg != nil {
		lc = string(cfg.LocationConstraint)
		if len(cfg.Tags) > 0 && s.noCreateTags {
			return nil, apiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
		}
		if len(cfg.Tags) > 0 {
			m, err := s3TagMap(cfg.Tags)
			if err != nil {
				return nil, err
			}
			tags = m
		}
	}
	// CreateBucket API reference: in us-east-1 no location constraint is
	// given; a regional endpoint needs the constraint of its region.
	switch {
	case region == "us-east-1" && lc != "":
		return nil, apiError("InvalidLocationConstraint", "The specified location-constraint is not valid")
	case region != "us-east-1" && lc == "":
		return nil, apiError("IllegalLocationConstraintException", "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	case region != "us-east-1" && lc != region:
		return nil, apiError("IllegalLocationConstraintException", "The %s location constraint is incompatible for the region specific endpoint this request was sent to.", lc)
	}
	// Another Cloud of the shared namespace holds the name: another
	// account's (BucketAlreadyExists), or this account's in another region
	// (a Cloud is one region), which is BucketAlreadyOwnedByYou everywhere
	// but for a us-east-1 bucket re-created in us-east-1.
	if o, taken := s.ns.ownerOf(name); taken {
		if _, local := s.buckets[name]; !local {
			if o.account != s.c.Account {
				return nil, apiError("BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
			}
			return nil, apiError("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
		}
	}
	if b, ok := s.buckets[name]; ok {
		if b.owner != s.c.Account {
			return nil, apiError("BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
		}
		// "If you create a bucket that already exists and you own it, in
		// us-east-1 you get 200 OK (and the ACLs are reset); in all other
		// Regions, 409 BucketAlreadyOwnedByYou" (CreateBucket API reference).
		if region == "us-east-1" && b.region == "us-east-1" {
			return &s3.CreateBucketOutput{Location: aws.String("/" + name), BucketArn: aws.String(s.bucketARN(name))}, nil
		}
		return nil, apiError("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
	}
	b := newBucket(name, s.c.Account, region)
	switch in.ObjectOwnership {
	case "":
	case st.ObjectOwnershipBucketOwnerEnforced, st.ObjectOwnershipBucketOwnerPreferred, st.ObjectOwnershipObjectWriter:
		b.ownership = &st.OwnershipControls{Rules: []st.OwnershipControlsRule{{ObjectOwnership: in.ObjectOwnership}}}
	default:
		return nil, apiError("InvalidArgument", "Invalid x-amz-object-ownership header: %s", in.ObjectOwnership)
	}
	// A name deleted a moment ago is still held (s3names.go).
	if held := s.ns.claim(name, s.c.Account, region, s.c.now()); held {
		return nil, apiError("OperationAborted", "A conflicting conditional operation is currently in progress against this resource. Please try again.")
	}
	b.tags = tags
	s.buckets[name] = b
	loc := "/" + name
	if region != "us-east-1" {
		loc = "http://" + name + ".s3.amazonaws.com/"
	}
	return &s3.CreateBucketOutput{Location: aws.String(loc), BucketArn: aws.String(s.bucketARN(name))}, nil
}

func (s *s3Sim) HeadBucket(ctx context.Context, in *s3.HeadBucketInput) (*s3.HeadBucketOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, ok := s.buckets[aws.ToString(in.Bucket)]
	switch {
	case !ok:
		if o, taken := s.ns.ownerOf(aws.ToString(in.Bucket)); taken && o.account != s.c.Account {
			return nil, apiError("Forbidden", "Forbidden") // another account's
		}
		return nil, apiError("NotFound", "Not Found")
	case b.owner != s.c.Account || (in.ExpectedBucketOwner != nil && *in.ExpectedBucketOwner != b.owner):
		return nil, apiError("Forbidden", "Forbidden")
	case b.region != s.clientRegion(ctx):
		return nil, apiError("MovedPermanently", "Moved Permanently")
	}
	return &s3.HeadBucketOutput{BucketRegion: aws.String(b.region), BucketArn: aws.String(s.bucketARN(b.name))}, nil
}

func (s *s3Sim) GetBucketLocation(_ context.Context, in *s3.GetBucketLocationInput) (*s3.GetBucketLocationOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, ok := s.buckets[aws.ToString(in.Bucket)]
	if !ok {
		return nil, apiError("NoSuchBucket", "The specified bucket does not exist")
	}
	if b.owner != s.c.Account {
		return nil, apiError("AccessDenied", "Access Denied")
	}
	// us-east-1 buckets have a null location constraint.
	lc := st.BucketLocationConstraint(b.region)
	if b.region == "us-east-1" {
		lc = ""
	}
	return &s3.GetBucketLocationOutput{LocationConstraint: lc}, nil
}

func (s *s3Sim) DeleteBucket(ctx context.Context, in *s3.DeleteBucketInput) (*s3.DeleteBucketOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	if len(b.objects) > 0 {
		msg := "The bucket you tried to delete is not empty"
		if b.versioning != "" {
			msg += ". You must delete all versions in the bucket."
		}
		return nil, apiError("BucketNotEmpty", "%s", msg)
	}
	delete(s.buckets, b.name)
	s.ns.release(b.name, s.newHold(b.region))
	return &s3.DeleteBucketOutput{}, nil
}

func (s *s3Sim) ListBuckets(ctx context.Context, in *s3.ListBucketsInput) (*s3.ListBucketsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	if in.MaxBuckets != nil && (*in.MaxBuckets < 1 || *in.MaxBuckets > 10000) {
		return nil, apiError("InvalidArgument", "max-buckets must be between 1 and 10000")
	}
	if in.BucketRegion != nil && *in.BucketRegion != s.clientRegion(ctx) {
		// ListBuckets API reference: "Requests made to a Regional endpoint
		// that is different from the bucket-region parameter are not supported."
		return nil, apiError("InvalidArgument", "The bucket-region parameter must match the region of the endpoint the request was sent to.")
	}
	// BucketRegion is in the answer "if the request contains at least one
	// valid parameter" (ListBuckets API reference).
	withRegion := in.BucketRegion != nil || in.Prefix != nil || in.MaxBuckets != nil || in.ContinuationToken != nil
	var list []st.Bucket
	for _, n := range sortedKeys(s.buckets) {
		b := s.buckets[n]
		if b.owner != s.c.Account || !strings.HasPrefix(n, aws.ToString(in.Prefix)) {
			continue
		}
		if in.BucketRegion != nil && b.region != *in.BucketRegion {
			continue
		}
		out := st.Bucket{Name: aws.String(n), CreationDate: aws.Time(b.created), BucketArn: aws.String(s.bucketARN(n))}
		if withRegion {
			out.BucketRegion = aws.String(b.region)
		}
		list = append(list, out)
	}
	max := int32(10000)
	if in.MaxBuckets != nil {
		max = *in.MaxBuckets
	}
	page, next := paginate(list, &max, in.ContinuationToken)
	return &s3.ListBucketsOutput{Buckets: page, ContinuationToken: next, Prefix: in.Prefix,
		Owner: &st.Owner{ID: aws.String(s.c.Account)}}, nil
}

// ---- tags ----

func s3TagMap(tags []st.Tag) (map[string]string, error) {
	if len(tags) > s3MaxTags {
		return nil, apiError("InvalidTag", "Object tags cannot be greater than %d", s3MaxTags)
	}
	m := map[string]string{}
	for _, t := range tags {
		k, v := aws.ToString(t.Key), aws.ToString(t.Value)
		if k == "" || len(k) > 128 || len(v) > 256 {
			return nil, apiError("InvalidTag", "The TagKey you have provided is invalid")
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, apiError("InvalidTag", "System tags cannot be added/updated by requester")
		}
		if _, dup := m[k]; dup {
			return nil, apiError("InvalidTag", "Cannot provide multiple Tags with the same key")
		}
		m[k] = v
	}
	return m, nil
}

func (s *s3Sim) PutBucketTagging(ctx context.Context, in *s3.PutBucketTaggingInput) (*s3.PutBucketTaggingOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	if in.Tagging == nil {
		return nil, apiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	m, err := s3TagMap(in.Tagging.TagSet)
	if err != nil {
		return nil, err
	}
	b.tags = m
	return &s3.PutBucketTaggingOutput{}, nil
}

func (s *s3Sim) GetBucketTagging(ctx context.Context, in *s3.GetBucketTaggingInput) (*s3.GetBucketTaggingOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	if len(b.tags) == 0 {
		return nil, apiError("NoSuchTagSet", "The TagSet does not exist")
	}
	var out []st.Tag
	for _, k := range sortedKeys(b.tags) {
		out = append(out, st.Tag{Key: aws.String(k), Value: aws.String(b.tags[k])})
	}
	return &s3.GetBucketTaggingOutput{TagSet: out}, nil
}

func (s *s3Sim) DeleteBucketTagging(ctx context.Context, in *s3.DeleteBucketTaggingInput) (*s3.DeleteBucketTaggingOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	b.tags = nil
	return &s3.DeleteBucketTaggingOutput{}, nil
}

// ---- versioning ----

func (s *s3Sim) PutBucketVersioning(ctx context.Context, in *s3.PutBucketVersioningInput) (*s3.PutBucketVersioningOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	if in.VersioningConfiguration == nil {
		return nil, apiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	switch v := in.VersioningConfiguration.Status; v {
	case st.BucketVersioningStatusEnabled, st.BucketVersioningStatusSuspended:
		b.versioning = v
	default:
		return nil, apiError("IllegalVersioningConfigurationException", "The Versioning element must be specified")
	}
	return &s3.PutBucketVersioningOutput{}, nil
}

func (s *s3Sim) GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput) (*s3.GetBucketVersioningOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	// A bucket that never had versioning answers without a Status.
	return &s3.GetBucketVersioningOutput{Status: b.versioning}, nil
}

// ---- lifecycle ----

func lifecycleProblem(rules []st.LifecycleRule) string {
	if len(rules) == 0 || len(rules) > 1000 {
		return "a lifecycle configuration has 1 to 1000 rules"
	}
	ids := map[string]bool{}
	for _, r := range rules {
		id := aws.ToString(r.ID)
		if len(id) > 255 {
			return "ID length should not exceed allowed limit of 255"
		}
		if id != "" && ids[id] {
			return "RuleId must be unique. Found same ID for more than one rule"
		}
		ids[id] = true
		if r.Status != st.ExpirationStatusEnabled && r.Status != st.ExpirationStatusDisabled {
			return "Status must be Enabled or Disabled"
		}
		//lint:ignore SA1019 rules written by older tools still carry the legacy Prefix, which S3 accepts.
		if r.Filter != nil && r.Prefix != nil {
			return "Filter and Prefix cannot both be specified"
		}
		if r.Expiration == nil && r.NoncurrentVersionExpiration == nil && r.AbortIncompleteMultipartUpload == nil &&
			len(r.Transitions) == 0 && len(r.NoncurrentVersionTransitions) == 0 {
			return "At least one action needs to be specified in a rule"
		}
		if e := r.Expiration; e != nil {
			n := 0
			if e.Days != nil {
				n++
				if *e.Days <= 0 {
					return "'Days' for Expiration action must be a positive integer"
				}
			}
			if e.Date != nil {
				n++
			}
			if e.ExpiredObjectDeleteMarker != nil {
				n++
			}
			if n != 1 {
				return "Expiration must have exactly one of Days, Date or ExpiredObjectDeleteMarker"
			}
		}
		if e := r.NoncurrentVersionExpiration; e != nil && (e.NoncurrentDays == nil || *e.NoncurrentDays <= 0) {
			return "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"
		}
		if a := r.AbortIncompleteMultipartUpload; a != nil && (a.DaysAfterInitiation == nil || *a.DaysAfterInitiation <= 0) {
			return "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"
		}
	}
	return ""
}

func (s *s3Sim) PutBucketLifecycleConfiguration(ctx context.Context, in *s3.PutBucketLifecycleConfigurationInput) (*s3.PutBucketLifecycleConfigurationOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	if in.LifecycleConfiguration == nil {
		return nil, apiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	if msg := lifecycleProblem(in.LifecycleConfiguration.Rules); msg != "" {
		return nil, apiError("InvalidArgument", "%s", msg)
	}
	b.lifecycle = append([]st.LifecycleRule(nil), in.LifecycleConfiguration.Rules...)
	return &s3.PutBucketLifecycleConfigurationOutput{TransitionDefaultMinimumObjectSize: st.TransitionDefaultMinimumObjectSizeAllStorageClasses128k}, nil
}

func (s *s3Sim) GetBucketLifecycleConfiguration(ctx context.Context, in *s3.GetBucketLifecycleConfigurationInput) (*s3.GetBucketLifecycleConfigurationOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	if len(b.lifecycle) == 0 {
		return nil, apiError("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist")
	}
	return &s3.GetBucketLifecycleConfigurationOutput{Rules: append([]st.LifecycleRule(nil), b.lifecycle...),
		TransitionDefaultMinimumObjectSize: st.TransitionDefaultMinimumObjectSizeAllStorageClasses128k}, nil
}

func (s *s3Sim) DeleteBucketLifecycle(ctx context.Context, in *s3.DeleteBucketLifecycleInput) (*s3.DeleteBucketLifecycleOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	b.lifecycle = nil
	return &s3.DeleteBucketLifecycleOutput{}, nil
}

// ---- bucket policy ----

// bucketPolicyProblem checks a bucket policy: valid policy grammar with a
// Principal in every statement, and only this bucket's ARNs as resources
// (S3 answers "Policy has invalid resource" otherwise).
func bucketPolicyProblem(doc, bucketARN string) string {
	if !strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return "Policies must be valid JSON and the first byte must be '{'"
	}
	if msg := policyProblem(doc, "bucket"); msg != "" {
		return msg
	}
	var raw struct {
		Statement json.RawMessage
	}
	_ = json.Unmarshal([]byte(doc), &raw)
	var stmts []map[string]any
	if json.Unmarshal(raw.Statement, &stmts) != nil {
		var one map[string]any
		_ = json.Unmarshal(raw.Statement, &one)
		stmts = []map[string]any{one}
	}
	for _, stmt := range stmts {
		for _, res := range stringList(stmt["Resource"]) {
			if res != bucketARN && !strings.HasPrefix(res, bucketARN+"/") {
				return "Policy has invalid resource"
			}
		}
	}
	return ""
}

// publicPolicy approximates S3's "is public" test for Block Public Access: an
// Allow statement for everyone ("*") without any condition.
func publicPolicy(doc string) bool {
	var raw struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &raw) != nil {
		return false
	}
	var stmts []map[string]any
	if json.Unmarshal(raw.Statement, &stmts) != nil {
		var one map[string]any
		_ = json.Unmarshal(raw.Statement, &one)
		stmts = []map[string]any{one}
	}
	for _, stmt := range stmts {
		if stmt["Effect"] != "Allow" || stmt["Condition"] != nil {
			continue
		}
		p := stmt["Principal"]
		if p == "*" {
			return true
		}
		if m, ok := p.(map[string]any); ok && anyString(m["AWS"], "*") {
			return true
		}
	}
	return false
}

func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func (s *s3Sim) PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput) (*s3.PutBucketPolicyOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	doc := aws.ToString(in.Policy)
	if msg := bucketPolicyProblem(doc, s.bucketARN(b.name)); msg != "" {
		return nil, apiError("MalformedPolicy", "%s", msg)
	}
	if b.pab != nil && aws.ToBool(b.pab.BlockPublicPolicy) && publicPolicy(doc) {
		return nil, apiError("AccessDenied", "User is not authorized to perform: s3:PutBucketPolicy on resource because public policies are blocked by the BlockPublicPolicy block public access setting.")
	}
	b.policy = doc
	s.c.openWindow(WinLogBucketPolicy, b.name, nil)
	return &s3.PutBucketPolicyOutput{}, nil
}

func (s *s3Sim) GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput) (*s3.GetBucketPolicyOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	if b.policy == "" {
		return nil, apiError("NoSuchBucketPolicy", "The bucket policy does not exist")
	}
	return &s3.GetBucketPolicyOutput{Policy: aws.String(b.policy)}, nil
}

func (s *s3Sim) DeleteBucketPolicy(ctx context.Context, in *s3.DeleteBucketPolicyInput) (*s3.DeleteBucketPolicyOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	b.policy = ""
	return &s3.DeleteBucketPolicyOutput{}, nil
}

// ---- encryption ----

func (s *s3Sim) PutBucketEncryption(ctx context.Context, in *s3.PutBucketEncryptionInput) (*s3.PutBucketEncryptionOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	cfg := in.ServerSideEncryptionConfiguration
	if cfg == nil || len(cfg.Rules) != 1 || cfg.Rules[0].ApplyServerSideEncryptionByDefault == nil {
		return nil, apiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	d := cfg.Rules[0].ApplyServerSideEncryptionByDefault
	switch d.SSEAlgorithm {
	case st.ServerSideEncryptionAes256:
		if d.KMSMasterKeyID != nil {
			return nil, apiError("InvalidArgument", "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
		}
	case st.ServerSideEncryptionAwsKms, st.ServerSideEncryptionAwsKmsDsse:
	default:
		return nil, apiError("InvalidArgument", "The encryption method specified is not supported")
	}
	rule := cfg.Rules[0]
	if rule.BucketKeyEnabled == nil {
		rule.BucketKeyEnabled = aws.Bool(false)
	}
	b.encryption = &st.ServerSideEncryptionConfiguration{Rules: []st.ServerSideEncryptionRule{rule}}
	return &s3.PutBucketEncryptionOutput{}, nil
}

func (s *s3Sim) GetBucketEncryption(ctx context.Context, in *s3.GetBucketEncryptionInput) (*s3.GetBucketEncryptionOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	if b.encryption == nil {
		return nil, apiError("ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found")
	}
	return &s3.GetBucketEncryptionOutput{ServerSideEncryptionConfiguration: b.encryption}, nil
}

// DeleteBucketEncryption resets the bucket to the default, SSE-S3 (S3 User
// Guide: buckets always have default encryption since January 2023).
func (s *s3Sim) DeleteBucketEncryption(ctx context.Context, in *s3.DeleteBucketEncryptionInput) (*s3.DeleteBucketEncryptionOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	b.encryption = newBucket("", "", "").encryption
	return &s3.DeleteBucketEncryptionOutput{}, nil
}

// ---- public access block ----

func (s *s3Sim) PutPublicAccessBlock(ctx context.Context, in *s3.PutPublicAccessBlockInput) (*s3.PutPublicAccessBlockOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	p := in.PublicAccessBlockConfiguration
	if p == nil {
		return nil, apiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	f := func(v *bool) *bool { return aws.Bool(aws.ToBool(v)) } // unset = false
	b.pab = &st.PublicAccessBlockConfiguration{BlockPublicAcls: f(p.BlockPublicAcls), IgnorePublicAcls: f(p.IgnorePublicAcls),
		BlockPublicPolicy: f(p.BlockPublicPolicy), RestrictPublicBuckets: f(p.RestrictPublicBuckets)}
	return &s3.PutPublicAccessBlockOutput{}, nil
}

func (s *s3Sim) GetPublicAccessBlock(ctx context.Context, in *s3.GetPublicAccessBlockInput) (*s3.GetPublicAccessBlockOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	if b.pab == nil {
		return nil, apiError("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")
	}
	c := *b.pab
	return &s3.GetPublicAccessBlockOutput{PublicAccessBlockConfiguration: &c}, nil
}

func (s *s3Sim) DeletePublicAccessBlock(ctx context.Context, in *s3.DeletePublicAccessBlockInput) (*s3.DeletePublicAccessBlockOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	b.pab = nil
	return &s3.DeletePublicAccessBlockOutput{}, nil
}

// ---- ownership controls ----

func (s *s3Sim) PutBucketOwnershipControls(ctx context.Context, in *s3.PutBucketOwnershipControlsInput) (*s3.PutBucketOwnershipControlsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	oc := in.OwnershipControls
	if oc == nil || len(oc.Rules) != 1 {
		return nil, apiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	switch oc.Rules[0].ObjectOwnership {
	case st.ObjectOwnershipBucketOwnerEnforced, st.ObjectOwnershipBucketOwnerPreferred, st.ObjectOwnershipObjectWriter:
	default:
		return nil, apiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	b.ownership = &st.OwnershipControls{Rules: []st.OwnershipControlsRule{{ObjectOwnership: oc.Rules[0].ObjectOwnership}}}
	return &s3.PutBucketOwnershipControlsOutput{}, nil
}

func (s *s3Sim) GetBucketOwnershipControls(ctx context.Context, in *s3.GetBucketOwnershipControlsInput) (*s3.GetBucketOwnershipControlsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	if b.ownership == nil {
		return nil, apiError("OwnershipControlsNotFoundError", "The bucket ownership controls were not found")
	}
	return &s3.GetBucketOwnershipControlsOutput{OwnershipControls: b.ownership}, nil
}

func (s *s3Sim) DeleteBucketOwnershipControls(ctx context.Context, in *s3.DeleteBucketOwnershipControlsInput) (*s3.DeleteBucketOwnershipControlsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	b.ownership = nil
	return &s3.DeleteBucketOwnershipControlsOutput{}, nil
}

// ---- objects ----

// newVersion makes a version; its ID carries the sequence so list markers
// stay meaningful after the version is deleted.
func (s *s3Sim) newVersion(b *s3Bucket, data []byte, marker bool) *s3Version {
	s.c.seq++
	v := &s3Version{seq: s.c.seq, data: data, deleteMarker: marker, modified: s.c.now().UTC()}
	if b.versioning == st.BucketVersioningStatusEnabled {
		v.id = fmt.Sprintf("v%015d.%08x", v.seq, uint32(uint64(v.seq)*0x9e3779b97f4a7c15>>32))
	} else {
		v.id = "null"
	}
	if !marker {
		sum := md5.Sum(data)
		v.etag = `"` + hex.EncodeToString(sum[:]) + `"`
	}
	return v
}

func versionSeq(id string) (int64, bool) {
	if !strings.HasPrefix(id, "v") || len(id) < 16 {
		return 0, false
	}
	n, err := strconv.ParseInt(id[1:16], 10, 64)
	return n, err == nil
}

// put adds a version as the newest of key: with versioning Enabled every
// version stays; otherwise the new one replaces the "null" version.
func (b *s3Bucket) put(key string, v *s3Version) {
	b.bump(key)
	vs := b.objects[key]
	if v.id == "null" {
		kept := vs[:0]
		for _, x := range vs {
			if x.id != "null" {
				kept = append(kept, x)
			}
		}
		vs = kept
	}
	b.objects[key] = append([]*s3Version{v}, vs...)
}

// Conditional writes (PutObject API reference, If-Match and If-None-Match;
// S3 User Guide, "How to prevent object overwrites with conditional writes",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html):
//   - If-None-Match accepts only "*": the write fails with 412
//     PreconditionFailed when the key has a current version (a delete marker
//     is not one: "applies only to the current version of an object in a
//     versioned bucket"). Another value is NotImplemented.
//   - If-Match: the write fails with 412 PreconditionFailed when the current
//     version's ETag differs, and with 404 NoSuchKey when there is no current
//     version (none, or a delete marker).
//   - "If a conflicting operation occurs during the upload, S3 returns a 409
//     ConditionalRequestConflict response. On a 409 failure, retry the
//     upload": a conditional write during whose upload another write or a
//     delete of the same key completed fails with 409 (its retry is then
//     judged against the new current version: "the first write operation to
//     finish succeeds", later ones get 412).
//
// An upload takes no time unless a test holds it (HoldUpload), which is how
// the simulation makes two operations overlap deterministically.

// checkWritePrecondition judges If-Match / If-None-Match against the key's
// current version. Called with the cloud lock held.
func checkWritePrecondition(b *s3Bucket, key string, ifMatch, ifNoneMatch *string) error {
	var cur *s3Version
	if vs := b.objects[key]; len(vs) > 0 && !vs[0].deleteMarker {
		cur = vs[0]
	}
	if ifNoneMatch != nil {
		if *ifNoneMatch != "*" {
			return apiError("NotImplemented", "A header you provided implies functionality that is not implemented")
		}
		if cur != nil {
			return apiError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		}
	}
	if ifMatch != nil {
		if cur == nil {
			return apiError("NoSuchKey", "The specified key does not exist.")
		}
		if *ifMatch != "*" && *ifMatch != cur.etag {
			return apiError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		}
	}
	return nil
}

// HoldUpload makes the next PutObject of key in bucket stop after S3 judged
// its preconditions, as if its body were still being uploaded: started is
// closed when it got there, and the upload completes when release is called.
// Other operations run meanwhile.
func (c *Cloud) HoldUpload(bucket, key string) (started <-chan struct{}, release func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s3()
	if s.holds == nil {
		s.holds = map[string]*uploadHold{}
	}
	h := &uploadHold{started: make(chan struct{}), release: make(chan struct{})}
	s.holds[bucket+"/"+key] = h
	var once bool
	return h.started, func() {
		if !once {
			once = true
			close(h.release)
		}
	}
}

type uploadHold struct{ started, release chan struct{} }

func (s *s3Sim) PutObject(ctx context.Context, in *s3.PutObjectInput) (*s3.PutObjectOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	key := aws.ToString(in.Key)
	if key == "" || len(key) > 1024 {
		return nil, apiError("KeyTooLongError", "Your key is too long")
	}
	conditional := in.IfMatch != nil || in.IfNoneMatch != nil
	if err := checkWritePrecondition(b, key, in.IfMatch, in.IfNoneMatch); err != nil {
		return nil, err
	}
	var data []byte
	if in.Body != nil {
		// The SDK's checksum middleware may have read a seekable body and
		// rewound it; read it from the start.
		if sk, ok := in.Body.(io.Seeker); ok {
			_, _ = sk.Seek(0, io.SeekStart)
		}
		data, err = io.ReadAll(in.Body)
		if err != nil {
			return nil, fmt.Errorf("awssim: read PutObject body: %w", err)
		}
	}
	gen := b.gens[key]
	if h, ok := s.holds[b.name+"/"+key]; ok {
		delete(s.holds, b.name+"/"+key)
		close(h.started)
		s.c.unlock()
		<-h.release
		s.c.lock()
		if _, ok := s.buckets[b.name]; !ok {
			return nil, apiError("NoSuchBucket", "The specified bucket does not exist")
		}
	}
	if conditional && b.gens[key] != gen {
		return nil, apiError("ConditionalRequestConflict", "A conflicting operation occurred. If using PutObject you can retry the request. If using multipart upload you should initiate another CreateMultipartUpload request and re-upload each part.")
	}
	v := s.newVersion(b, data, false)
	b.put(key, v)
	out := &s3.PutObjectOutput{ETag: aws.String(v.etag)}
	if b.versioning != "" {
		out.VersionId = aws.String(v.id)
	}
	return out, nil
}

func (s *s3Sim) findVersion(b *s3Bucket, key string, versionID *string) (*s3Version, error) {
	vs := b.objects[key]
	if versionID == nil {
		if len(vs) == 0 || vs[0].deleteMarker {
			return nil, apiError("NoSuchKey", "The specified key does not exist.")
		}
		return vs[0], nil
	}
	for _, v := range vs {
		if v.id == *versionID {
			if v.deleteMarker {
				return nil, apiError("MethodNotAllowed", "The specified method is not allowed against this resource.")
			}
			return v, nil
		}
	}
	return nil, apiError("NoSuchVersion", "The specified version does not exist.")
}

func (s *s3Sim) GetObject(ctx context.Context, in *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	v, err := s.findVersion(b, aws.ToString(in.Key), in.VersionId)
	if err != nil {
		return nil, s.hideMissing(ctx, b, err, "AccessDenied")
	}
	data := append([]byte(nil), v.data...)
	out := &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(data)), ContentLength: aws.Int64(int64(len(data))),
		ETag: aws.String(v.etag), LastModified: aws.Time(v.modified)}
	if b.versioning != "" {
		out.VersionId = aws.String(v.id)
	}
	return out, nil
}

// hideMissing: a missing key answers 403 AccessDenied, not 404 NoSuchKey,
// to a caller without s3:ListBucket on the bucket ("If you don't have the
// s3:ListBucket permission, Amazon S3 returns an HTTP status code 403 Access
// Denied error", S3 GetObject and HeadObject API references, "Permissions").
func (s *s3Sim) hideMissing(ctx context.Context, b *s3Bucket, err error, code string) error {
	if awsCode(err) != "NoSuchKey" || s.c.callerAllowed(ctx, "s3:ListBucket", s.bucketARN(b.name), nil) {
		return err
	}
	return &authzError{code: code, msg: "Access Denied", status: 403}
}

func (s *s3Sim) HeadObject(ctx context.Context, in *s3.HeadObjectInput) (*s3.HeadObjectOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	v, err := s.findVersion(b, aws.ToString(in.Key), in.VersionId)
	if err != nil {
		if err = s.hideMissing(ctx, b, err, "Forbidden"); awsCode(err) == "Forbidden" {
			return nil, err // HEAD has no body: the SDK names a 403 "Forbidden"
		}
		return nil, apiError("NotFound", "Not Found") // HEAD has no body
	}
	return &s3.HeadObjectOutput{ContentLength: aws.Int64(int64(len(v.data))), ETag: aws.String(v.etag), LastModified: aws.Time(v.modified)}, nil
}

// deleteOne applies DeleteObject semantics to one key; it returns whether a
// delete marker was involved and its (or the deleted) version ID.
func (s *s3Sim) deleteOne(b *s3Bucket, key string, versionID *string) (marker bool, id string) {
	b.bump(key)
	vs := b.objects[key]
	if versionID != nil {
		for i, v := range vs {
			if v.id == *versionID {
				b.objects[key] = append(vs[:i:i], vs[i+1:]...)
				if len(b.objects[key]) == 0 {
					delete(b.objects, key)
				}
				return v.deleteMarker, v.id
			}
		}
		return false, *versionID // deleting a version that is not there succeeds
	}
	switch b.versioning {
	case "":
		delete(b.objects, key)
		return false, ""
	default:
		if len(vs) == 0 && b.versioning == st.BucketVersioningStatusSuspended {
			return false, ""
		}
		m := s.newVersion(b, nil, true)
		b.put(key, m)
		return true, m.id
	}
}

func (s *s3Sim) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput) (*s3.DeleteObjectOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	// DeleteObject API reference: "Deletes the object if the ETag (entity
	// tag) value provided during the delete operation matches the ETag of
	// the object in S3. If the ETag values do not match, the operation
	// returns a 412 Precondition Failed error" (general purpose buckets
	// too); as for PutObject, no current version is 404 NoSuchKey.
	if in.IfMatch != nil && in.VersionId == nil {
		if err := checkWritePrecondition(b, aws.ToString(in.Key), in.IfMatch, nil); err != nil {
			return nil, err
		}
	}
	marker, id := s.deleteOne(b, aws.ToString(in.Key), in.VersionId)
	out := &s3.DeleteObjectOutput{}
	if marker {
		out.DeleteMarker = aws.Bool(true)
	}
	if id != "" {
		out.VersionId = aws.String(id)
	}
	return out, nil
}

func (s *s3Sim) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput) (*s3.DeleteObjectsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	n := 0
	if in.Delete != nil {
		n = len(in.Delete.Objects)
	}
	s.batches = append(s.batches, n)
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	// DeleteObjects API reference: "The request can contain a list of up to
	// 1,000 keys"; more (or none) is MalformedXML.
	if n == 0 || n > s3MaxDeleteKeys {
		return nil, apiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	quiet := aws.ToBool(in.Delete.Quiet)
	out := &s3.DeleteObjectsOutput{}
	for _, o := range in.Delete.Objects {
		key := aws.ToString(o.Key)
		if s.failDel > 0 {
			s.failDel--
			out.Errors = append(out.Errors, st.Error{Key: o.Key, VersionId: o.VersionId, Code: aws.String("InternalError"),
				Message: aws.String("We encountered an internal error. Please try again.")})
			continue
		}
		// Each key is authorized on its own; a denied one is reported in
		// Errors with AccessDenied and the others are deleted (DeleteObjects
		// API reference: "Errors: Container for a failed delete action").
		obj := s.bucketARN(b.name) + "/" + key
		if !s.c.callerAllowed(ctx, "s3:DeleteObject", obj, nil) ||
			(o.VersionId != nil && !s.c.callerAllowed(ctx, "s3:DeleteObjectVersion", obj, nil)) {
			out.Errors = append(out.Errors, st.Error{Key: o.Key, VersionId: o.VersionId, Code: aws.String("AccessDenied"), Message: aws.String("Access Denied")})
			continue
		}
		marker, id := s.deleteOne(b, key, o.VersionId)
		if quiet {
			continue
		}
		d := st.DeletedObject{Key: o.Key, VersionId: o.VersionId}
		if marker {
			d.DeleteMarker = aws.Bool(true)
			d.DeleteMarkerVersionId = aws.String(id)
		}
		out.Deleted = append(out.Deleted, d)
	}
	return out, nil
}

func maxKeys(m *int32) int {
	if m == nil || *m > s3MaxKeys {
		return s3MaxKeys
	}
	if *m < 0 {
		return 0
	}
	return int(*m)
}

func (s *s3Sim) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input) (*s3.ListObjectsV2Output, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	prefix, delim := aws.ToString(in.Prefix), aws.ToString(in.Delimiter)
	after := aws.ToString(in.StartAfter)
	if in.ContinuationToken != nil {
		k, err := base64.RawURLEncoding.DecodeString(*in.ContinuationToken)
		if err != nil {
			return nil, apiError("InvalidArgument", "The continuation token provided is incorrect")
		}
		after = string(k)
	}
	limit := maxKeys(in.MaxKeys)
	out := &s3.ListObjectsV2Output{Name: in.Bucket, Prefix: in.Prefix, Delimiter: in.Delimiter, MaxKeys: aws.Int32(int32(limit)),
		ContinuationToken: in.ContinuationToken, StartAfter: in.StartAfter, IsTruncated: aws.Bool(false)}
	seenCP := map[string]bool{}
	count, last := 0, ""
	for _, key := range sortedKeys(b.objects) {
		vs := b.objects[key]
		if key <= after || !strings.HasPrefix(key, prefix) || vs[0].deleteMarker {
			continue
		}
		entry := key
		if delim != "" {
			if i := strings.Index(key[len(prefix):], delim); i >= 0 {
				entry = key[:len(prefix)+i+len(delim)]
			}
		}
		if entry != key && seenCP[entry] {
			continue
		}
		if count == limit {
			out.IsTruncated = aws.Bool(true)
			out.NextContinuationToken = aws.String(base64.RawURLEncoding.EncodeToString([]byte(last)))
			break
		}
		count++
		if entry != key {
			seenCP[entry] = true
			out.CommonPrefixes = append(out.CommonPrefixes, st.CommonPrefix{Prefix: aws.String(entry)})
			// Skip every key under this common prefix on the next page.
			last = entry + "\U0010FFFF"
			continue
		}
		v := vs[0]
		out.Contents = append(out.Contents, st.Object{Key: aws.String(key), Size: aws.Int64(int64(len(v.data))),
			ETag: aws.String(v.etag), LastModified: aws.Time(v.modified), StorageClass: st.ObjectStorageClassStandard})
		last = key
	}
	out.KeyCount = aws.Int32(int32(count))
	return out, nil
}

func (s *s3Sim) ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput) (*s3.ListObjectVersionsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	b, err := s.bucket(ctx, in.Bucket, in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	if in.Delimiter != nil {
		return nil, fmt.Errorf("awssim: S3.ListObjectVersions with a Delimiter is not simulated")
	}
	if in.VersionIdMarker != nil && in.KeyMarker == nil {
		return nil, apiError("InvalidArgument", "A version-id marker cannot be specified without a key marker.")
	}
	prefix, km := aws.ToString(in.Prefix), aws.ToString(in.KeyMarker)
	// markerSeq < 0: start after every version of KeyMarker; else after the
	// version with that sequence number (which may since have been deleted).
	markerSeq := int64(-1)
	if vm := in.VersionIdMarker; vm != nil {
		if *vm == "null" {
			for _, v := range b.objects[km] {
				if v.id == "null" {
					markerSeq = v.seq
				}
			}
		} else if n, ok := versionSeq(*vm); ok {
			markerSeq = n
		} else {
			return nil, apiError("InvalidArgument", "Invalid version id specified")
		}
	}
	limit := maxKeys(in.MaxKeys)
	out := &s3.ListObjectVersionsOutput{Name: in.Bucket, Prefix: in.Prefix, KeyMarker: in.KeyMarker, VersionIdMarker: in.VersionIdMarker,
		MaxKeys: aws.Int32(int32(limit)), IsTruncated: aws.Bool(false)}
	count := 0
	var lastKey, lastID string
	for _, key := range sortedKeys(b.objects) {
		if !strings.HasPrefix(key, prefix) || key < km {
			continue
		}
		for i, v := range b.objects[key] {
			if key == km {
				// Versions of the marker key list newest first (highest seq);
				// continue after the marker's position.
				if markerSeq < 0 || v.seq >= markerSeq {
					continue
				}
			}
			if count == limit {
				out.IsTruncated = aws.Bool(true)
				out.NextKeyMarker, out.NextVersionIdMarker = aws.String(lastKey), aws.String(lastID)
				return out, nil
			}
			count++
			lastKey, lastID = key, v.id
			latest := aws.Bool(i == 0)
			if v.deleteMarker {
				out.DeleteMarkers = append(out.DeleteMarkers, st.DeleteMarkerEntry{Key: aws.String(key), VersionId: aws.String(v.id),
					IsLatest: latest, LastModified: aws.Time(v.modified)})
				continue
			}
			out.Versions = append(out.Versions, st.ObjectVersion{Key: aws.String(key), VersionId: aws.String(v.id), IsLatest: latest,
				ETag: aws.String(v.etag), Size: aws.Int64(int64(len(v.data))), LastModified: aws.Time(v.modified),
				StorageClass: st.ObjectVersionStorageClassStandard})
		}
	}
	return out, nil
}

func (s *s3Sim) inventory() []Resource {
	var out []Resource
	for _, n := range sortedKeys(s.buckets) {
		b := s.buckets[n]
		if b.owner == s.c.Account {
			out = append(out, Resource{"S3", "bucket", n, copyTags(b.tags)})
		}
	}
	return out
}
