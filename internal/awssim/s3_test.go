package awssim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	st "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
)

// simClientsIn builds real SDK clients for region against c.
func simClientsIn(t *testing.T, c *Cloud, region string) *awsclients.Clients {
	t.Helper()
	cl, err := awsclients.New(context.Background(), awsclients.Options{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATED", "secret", ""),
		APIOptions:  c.APIOptions(),
		RetryMode:   "standard",
		MaxAttempts: 3,
		MaxBackoff:  time.Millisecond,
		Getenv:      func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func apiCodeOf(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestS3CreateBucketRegionRules(t *testing.T) {
	ctx := context.Background()
	c := New(Options{Region: "us-east-1"})
	east := simClientsIn(t, c, "us-east-1").S3
	west := simClientsIn(t, c, "eu-west-1").S3
	mk := func(cl awsclients.S3API, name, lc string) error {
		in := &s3.CreateBucketInput{Bucket: aws.String(name)}
		if lc != "" {
			in.CreateBucketConfiguration = &st.CreateBucketConfiguration{LocationConstraint: st.BucketLocationConstraint(lc)}
		}
		_, err := cl.CreateBucket(ctx, in)
		return err
	}
	if err := mk(east, "b-east", "us-east-1"); apiCodeOf(err) != "InvalidLocationConstraint" {
		t.Fatalf("us-east-1 with a constraint: %v", err)
	}
	if err := mk(west, "b-west", ""); apiCodeOf(err) != "IllegalLocationConstraintException" {
		t.Fatalf("eu-west-1 without a constraint: %v", err)
	}
	if err := mk(west, "b-west", "eu-central-1"); apiCodeOf(err) != "IllegalLocationConstraintException" {
		t.Fatalf("eu-west-1 with another region's constraint: %v", err)
	}
	if err := mk(east, "b-east", ""); err != nil {
		t.Fatal(err)
	}
	if err := mk(east, "b-east", ""); err != nil {
		t.Fatalf("re-creating an owned bucket in us-east-1 must succeed: %v", err)
	}
	if err := mk(west, "b-west", "eu-west-1"); err != nil {
		t.Fatal(err)
	}
	if err := mk(west, "b-west", "eu-west-1"); apiCodeOf(err) != "BucketAlreadyOwnedByYou" {
		t.Fatalf("re-creating an owned bucket in eu-west-1: %v", err)
	}
	c.AddBucket("taken", ForeignAccount, "us-east-1", nil)
	if err := mk(east, "taken", ""); apiCodeOf(err) != "BucketAlreadyExists" {
		t.Fatalf("someone else's name: %v", err)
	}
	if err := mk(east, "Bad_Name", ""); apiCodeOf(err) != "InvalidBucketName" {
		t.Fatalf("invalid name: %v", err)
	}
	// Someone else's bucket: HeadBucket 403, no access at all.
	if _, err := east.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("taken")}); apiCodeOf(err) != "Forbidden" {
		t.Fatalf("head of a foreign bucket: %v", err)
	}
	if _, err := east.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("taken")}); apiCodeOf(err) != "AccessDenied" {
		t.Fatalf("tags of a foreign bucket: %v", err)
	}
	// Ours in another region: redirect, but the location is readable.
	if _, err := east.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("b-west")}); apiCodeOf(err) != "MovedPermanently" {
		t.Fatalf("head across regions: %v", err)
	}
	loc, err := east.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("b-west")})
	if err != nil || loc.LocationConstraint != "eu-west-1" {
		t.Fatalf("location: %v %v", loc, err)
	}
	if loc, err := east.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("b-east")}); err != nil || loc.LocationConstraint != "" {
		t.Fatalf("us-east-1 location must be empty: %v %v", loc, err)
	}
	// ExpectedBucketOwner guards against acting on a bucket of another account.
	if _, err := east.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("b-east"), ExpectedBucketOwner: aws.String("111111111111")}); apiCodeOf(err) != "AccessDenied" {
		t.Fatalf("wrong expected owner: %v", err)
	}
	// ListBuckets: only ours; BucketRegion filters and is reported.
	out, err := east.ListBuckets(ctx, &s3.ListBucketsInput{BucketRegion: aws.String("us-east-1")})
	if err != nil || len(out.Buckets) != 1 || aws.ToString(out.Buckets[0].Name) != "b-east" || aws.ToString(out.Buckets[0].BucketRegion) != "us-east-1" {
		t.Fatalf("list buckets in us-east-1: %+v %v", out, err)
	}
	all, err := east.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(all.Buckets) != 2 {
		t.Fatalf("list all: %+v %v", all, err)
	}
	if inv := c.Inventory(); len(inv) != 2 {
		t.Fatalf("inventory must hold our two buckets only: %v", inv)
	}
}

func TestS3BucketConfigurationNotFoundCodes(t *testing.T) {
	ctx := context.Background()
	c := New(Options{})
	cl := simClientsIn(t, c, "us-east-1").S3.(*s3.Client)
	b := aws.String("cfg-bucket")
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	// New buckets: BPA on, SSE-S3, ACLs disabled, no versioning.
	pab, err := cl.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
	if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicPolicy) {
		t.Fatalf("default BPA: %v %v", pab, err)
	}
	enc, err := cl.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
	if err != nil || enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != st.ServerSideEncryptionAes256 {
		t.Fatalf("default encryption: %v %v", enc, err)
	}
	if v, err := cl.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b}); err != nil || v.Status != "" {
		t.Fatalf("new bucket versioning: %v %v", v, err)
	}
	checks := []struct {
		code string
		del  func() error
		get  func() error
	}{
		{"NoSuchLifecycleConfiguration", nil, func() error {
			_, err := cl.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
			return err
		}},
		{"NoSuchBucketPolicy", nil, func() error { _, err := cl.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b}); return err }},
		{"NoSuchTagSet", nil, func() error { _, err := cl.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b}); return err }},
		{"NoSuchPublicAccessBlockConfiguration", func() error {
			_, err := c.s3().DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: b})
			return err
		}, func() error {
			_, err := cl.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
			return err
		}},
		{"OwnershipControlsNotFoundError", func() error {
			_, err := c.s3().DeleteBucketOwnershipControls(ctx, &s3.DeleteBucketOwnershipControlsInput{Bucket: b})
			return err
		}, func() error {
			_, err := cl.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b})
			return err
		}},
	}
	for _, ch := range checks {
		if ch.del != nil {
			if err := ch.del(); err != nil {
				t.Fatal(err)
			}
		}
		if err := ch.get(); apiCodeOf(err) != ch.code {
			t.Errorf("want %s, got %v", ch.code, err)
		}
	}
	on := aws.Bool(true)
	if _, err := cl.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &st.PublicAccessBlockConfiguration{
		BlockPublicAcls: on, IgnorePublicAcls: on, BlockPublicPolicy: on, RestrictPublicBuckets: on}}); err != nil {
		t.Fatal(err)
	}
	c.AddBucket("legacy", "", "", nil)
	c.s3().buckets["legacy"].encryption = nil
	if _, err := cl.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("legacy")}); apiCodeOf(err) != "ServerSideEncryptionConfigurationNotFoundError" {
		t.Errorf("encryption not found: %v", err)
	}
	if _, err := cl.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("nope")}); apiCodeOf(err) != "NoSuchBucket" {
		t.Errorf("missing bucket: %v", err)
	}
	// Policies: must be JSON with a principal, resources of this bucket only,
	// and not public while BlockPublicPolicy is on.
	for doc, code := range map[string]string{
		`not json`: "MalformedPolicy",
		`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::cfg-bucket/*"}]}`:                                  "MalformedPolicy",
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::x/*"}]}`: "MalformedPolicy",
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::cfg-bucket/*"}]}`:                  "AccessDenied",
	} {
		if _, err := cl.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(doc)}); apiCodeOf(err) != code {
			t.Errorf("policy %s: want %s, got %v", doc, code, err)
		}
	}
	// Lifecycle validation.
	bad := []st.LifecycleRule{{ID: aws.String("x"), Status: st.ExpirationStatusEnabled, Filter: &st.LifecycleRuleFilter{Prefix: aws.String("")},
		NoncurrentVersionExpiration: &st.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(0)}}}
	if _, err := cl.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b,
		LifecycleConfiguration: &st.BucketLifecycleConfiguration{Rules: bad}}); apiCodeOf(err) != "InvalidArgument" {
		t.Errorf("lifecycle with 0 days: %v", err)
	}
}

// withoutTrailingChecksum turns off the SDK's streaming (aws-chunked
// trailer) checksum of PutObject: it is computed while the HTTP body is sent,
// and the simulation answers before any body is sent, so the SDK would
// report the checksum as never computed.
func withoutTrailingChecksum(o *s3.Options) {
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
}

func putVersion(t *testing.T, cl *s3.Client, bucket, key, body string) string {
	t.Helper()
	out, err := cl.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader([]byte(body))},
		withoutTrailingChecksum)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.VersionId)
}

func TestS3VersionsDeleteMarkersAndPagination(t *testing.T) {
	ctx := context.Background()
	c := New(Options{})
	cl := simClientsIn(t, c, "us-east-1").S3.(*s3.Client)
	b := aws.String("versions")
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
		VersioningConfiguration: &st.VersioningConfiguration{Status: st.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	v1 := putVersion(t, cl, "versions", "boards/a", "one")
	v2 := putVersion(t, cl, "versions", "boards/a", "two")
	if v1 == v2 || v1 == "null" {
		t.Fatalf("version IDs %q %q", v1, v2)
	}
	got, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("boards/a")})
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := io.ReadAll(got.Body); string(body) != "two" {
		t.Fatalf("latest = %q", body)
	}
	old, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("boards/a"), VersionId: aws.String(v1)})
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := io.ReadAll(old.Body); string(body) != "one" {
		t.Fatalf("v1 = %q", body)
	}
	del, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("boards/a")})
	if err != nil || !aws.ToBool(del.DeleteMarker) {
		t.Fatalf("delete must leave a marker: %+v %v", del, err)
	}
	if _, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("boards/a")}); apiCodeOf(err) != "NoSuchKey" {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := cl.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b}); apiCodeOf(err) != "BucketNotEmpty" {
		t.Fatalf("delete a bucket holding versions: %v", err)
	}
	// 1,203 more entries; page through them 100 at a time.
	for i := range 600 {
		k := fmt.Sprintf("boards/k%04d", i)
		putVersion(t, cl, "versions", k, "x")
		if i%2 == 0 {
			putVersion(t, cl, "versions", k, "y")
		}
	}
	total, markers, pages := 0, 0, 0
	p := s3.NewListObjectVersionsPaginator(cl, &s3.ListObjectVersionsInput{Bucket: b, MaxKeys: aws.Int32(100)})
	seen := map[string]bool{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if n := len(page.Versions) + len(page.DeleteMarkers); n > 100 {
			t.Fatalf("page of %d entries", n)
		}
		for _, v := range page.Versions {
			id := aws.ToString(v.Key) + "@" + aws.ToString(v.VersionId)
			if seen[id] {
				t.Fatalf("%s listed twice", id)
			}
			seen[id] = true
			total++
		}
		markers += len(page.DeleteMarkers)
	}
	if total != 2+900 || markers != 1 || pages != 10 {
		t.Fatalf("listed %d versions and %d markers in %d pages", total, markers, pages)
	}
	if _, err := cl.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: b, VersionIdMarker: aws.String(v1)}); apiCodeOf(err) != "InvalidArgument" {
		t.Fatalf("version marker without key marker: %v", err)
	}
	// ListObjectsV2 sees current objects only, paginated.
	n := 0
	lp := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: b, Prefix: aws.String("boards/"), MaxKeys: aws.Int32(250)})
	for lp.HasMorePages() {
		page, err := lp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += int(aws.ToInt32(page.KeyCount))
	}
	if n != 600 {
		t.Fatalf("ListObjectsV2 counted %d current objects, want 600", n)
	}
	// DeleteObjects: at most 1000 keys, per-key results, per-key errors.
	var ids []st.ObjectIdentifier
	for i := range 1001 {
		ids = append(ids, st.ObjectIdentifier{Key: aws.String(fmt.Sprintf("boards/k%04d", i))})
	}
	if _, err := cl.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b, Delete: &st.Delete{Objects: ids}}); apiCodeOf(err) != "MalformedXML" {
		t.Fatalf("1001 keys: %v", err)
	}
	c.FailObjectDeletes(2)
	out, err := cl.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b, Delete: &st.Delete{Objects: ids[:10]}})
	if err != nil || len(out.Errors) != 2 || len(out.Deleted) != 8 || aws.ToString(out.Errors[0].Code) != "InternalError" {
		t.Fatalf("per-key results: %+v %v", out, err)
	}
	if b := c.DeleteObjectsBatches(); len(b) != 2 || b[0] != 1001 || b[1] != 10 {
		t.Fatalf("batches %v", b)
	}
}

func TestS3UnversionedOverwriteAndEmptyDelete(t *testing.T) {
	ctx := context.Background()
	c := New(Options{})
	cl := simClientsIn(t, c, "us-east-1").S3.(*s3.Client)
	b := aws.String("plain")
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	putVersion(t, cl, "plain", "k", "1")
	putVersion(t, cl, "plain", "k", "2")
	vs, err := cl.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: b})
	if err != nil || len(vs.Versions) != 1 || aws.ToString(vs.Versions[0].VersionId) != "null" {
		t.Fatalf("unversioned bucket keeps one null version: %+v %v", vs, err)
	}
	if _, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b}); err != nil {
		t.Fatalf("empty bucket: %v", err)
	}
	if _, err := cl.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b}); apiCodeOf(err) != "NoSuchBucket" {
		t.Fatalf("second delete: %v", err)
	}
}
