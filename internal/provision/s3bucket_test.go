package provision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// s3iamGraph is the network tier with the S3 buckets and IAM roles.
func s3iamGraph(cfg *config.Config) *Graph {
	g := NewGraph()
	for _, n := range Build(cfg).Nodes() {
		if strings.HasPrefix(n.Kind, "ec2.") || n.Kind == "s3.bucket" || n.Kind == "iam.role" {
			g.Add(n)
		}
	}
	return g
}

// destroyWith runs destroy of everything in state with the given options.
func (r *rig) destroyWith(g *Graph, opts DestroyOptions) *Result {
	e, done := r.engine(g)
	defer done()
	e.Env.Destroy = opts
	return e.Destroy(context.Background(), e.Env.store.All())
}

// s3Client is the rig account's S3 client.
func (r *rig) s3Client() *s3.Client { return r.clients().S3.(*s3.Client) }

// noTrailer turns off the SDK's streaming PutObject checksum, which is
// computed while the HTTP body is sent: the simulated cloud answers before
// any body is sent.
func noTrailer(o *s3.Options) {
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
}

func boardBucketOf(r *rig) string { return r.cfg.BoardBucket("123456789012", r.cfg.Region) }
func logBucketOf(r *rig) string   { return r.cfg.AccessLogBucket("123456789012", r.cfg.Region) }

func resultOf(t *testing.T, res *Result, name string) NodeResult {
	t.Helper()
	for _, n := range res.Nodes {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no result for %s in %+v", name, res.Nodes)
	return NodeResult{}
}

func TestS3IAMUpIdempotentStatusDestroy(t *testing.T) {
	r := newRig(t, nil)
	g := s3iamGraph(r.cfg)
	if err := r.up(g).Err(); err != nil {
		t.Fatalf("up: %v", err)
	}
	got := strings.Join(r.owned(), ",")
	for _, want := range []string{"bucket bucket-boards", "bucket bucket-logs", "role role-execution", "role role-task", "vpc vpc"} {
		if !strings.Contains(got, want) {
			t.Fatalf("after up, missing %q in %s", want, got)
		}
	}
	checkStateMatches(t, r)
	for _, rec := range r.records() {
		switch rec.Name {
		case "bucket-boards":
			if rec.ID != boardBucketOf(r) || rec.ARN != "arn:aws:s3:::"+boardBucketOf(r) {
				t.Fatalf("board bucket record %+v", rec)
			}
		case "role-task":
			if rec.ID != "wbo-task" || rec.ARN != "arn:aws:iam::123456789012:role/wbo-deploy/wbo-task" {
				t.Fatalf("task role record %+v", rec)
			}
		}
	}
	// The board bucket as configured.
	cl, b, ctx := r.s3Client(), aws.String(boardBucketOf(r)), context.Background()
	if v, err := cl.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b}); err != nil || v.Status != s3types.BucketVersioningStatusEnabled {
		t.Fatalf("versioning %v %v", v, err)
	}
	lc, err := cl.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
	if err != nil {
		t.Fatal(err)
	}
	wantLC := []string{
		"rule abort-incomplete-multipart-uploads, incomplete multipart uploads aborted after 7 days",
		"rule expire-noncurrent-versions, expired delete markers removed, noncurrent versions expire after 30 days",
	}
	if got := lifecycleDescs(lc.Rules); strings.Join(got, "|") != strings.Join(wantLC, "|") {
		t.Fatalf("lifecycle\n got %q\nwant %q", got, wantLC)
	}
	pol, err := cl.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
	if err != nil {
		t.Fatal(err)
	}
	wantPol := `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*",` +
		`"Resource":["arn:aws:s3:::` + *b + `","arn:aws:s3:::` + *b + `/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	if aws.ToString(pol.Policy) != wantPol {
		t.Fatalf("board bucket policy\n got %s\nwant %s", aws.ToString(pol.Policy), wantPol)
	}
	tags, err := cl.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
	if err != nil || len(tags.TagSet) != 2 {
		t.Fatalf("tags %v %v", tags, err)
	}

	r.cloud.ResetCalls()
	if err := r.up(g).Err(); err != nil {
		t.Fatalf("second up: %v", err)
	}
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}
	e, done := r.engine(g)
	st := e.Status(context.Background(), e.Env.store.All())
	done()
	for _, s := range st {
		if s.Status != StatusOK {
			t.Fatalf("status of %s: %s (%s)", s.Name, s.Status, s.Reason)
		}
		if s.Name == "bucket-boards" && (s.Info["versioning"] != "Enabled" || s.Info["encryption"] != "SSE-S3") {
			t.Fatalf("board bucket info %v", s.Info)
		}
	}

	// Drift: someone turns a Block Public Access setting off; status says
	// so and up fixes that one setting.
	if _, err := cl.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
		BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(false), RestrictPublicBuckets: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	r.cloud.ResetCalls()
	res := r.up(g)
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if m := r.cloud.MutatingCalls(); strings.Join(m, ",") != "S3.PutPublicAccessBlock" {
		t.Fatalf("repairing drift made %v", m)
	}
	if n := resultOf(t, res, "bucket-boards"); n.Action != ActUpdate || n.Changes[0].Old != "off: BlockPublicPolicy" {
		t.Fatalf("drift result %+v", n)
	}

	res = r.destroy(g)
	if err := res.Err(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if n := resultOf(t, res, "bucket-boards"); n.Action != ActKeep || !strings.Contains(n.Note, "kept with its 0 objects") {
		t.Fatalf("board bucket on destroy: %+v", n)
	}
	if got := r.owned(); strings.Join(got, ",") != "bucket bucket-boards" {
		t.Fatalf("left after destroy: %v", got)
	}
	if n := len(r.records()); n != 0 {
		t.Fatalf("state still has %d records", n)
	}
	r.cloud.ResetCalls()
	if err := r.destroy(g).Err(); err != nil {
		t.Fatalf("second destroy: %v", err)
	}
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second destroy made %v", m)
	}
}

// s3iamOnlyGraph is the buckets and roles alone (they need nothing of the
// network tier).
func s3iamOnlyGraph(cfg *config.Config) *Graph {
	g := NewGraph()
	for _, n := range Build(cfg).Nodes() {
		if n.Kind == "s3.bucket" || n.Kind == "iam.role" {
			g.Add(n)
		}
	}
	return g
}

// crashSweep crashes up at each of its mutating calls, in both modes, then
// checks that a re-run ends with exactly one of each resource, in state, and
// (withDestroy) that destroy leaves only the kept board bucket.
func crashSweep(t *testing.T, build func(*config.Config) *Graph, withDestroy bool) {
	t.Helper()
	probe := newRig(t, nil)
	if err := probe.up(build(probe.cfg)).Err(); err != nil {
		t.Fatalf("clean up: %v", err)
	}
	want := strings.Join(probe.owned(), "|")
	total, mine := 0, 0
	for _, m := range probe.cloud.MutatingCalls() {
		total++
		if strings.HasPrefix(m, "S3.") || strings.HasPrefix(m, "IAM.") {
			mine++
		}
	}
	if mine < 8 {
		t.Fatalf("only %d S3/IAM mutating calls in %d", mine, total)
	}
	for _, mode := range []awssim.CrashMode{awssim.CrashBefore, awssim.CrashAfter} {
		for k := 1; k <= total; k++ {
			r := newRig(t, nil)
			r.cloud.CrashAt(k, mode)
			if err := r.up(build(r.cfg)).Err(); err == nil || !r.cloud.Crashed() {
				t.Fatalf("mode %d k=%d: the crash did not happen (%v)", mode, k, err)
			}
			r.cloud.Revive()
			if err := r.up(build(r.cfg)).Err(); err != nil {
				t.Fatalf("mode %d k=%d: re-run: %v", mode, k, err)
			}
			if got := strings.Join(r.owned(), "|"); got != want {
				t.Fatalf("mode %d k=%d: after re-run\n got %s\nwant %s", mode, k, got, want)
			}
			checkStateMatches(t, r)
			if !withDestroy {
				continue
			}
			if err := r.destroy(build(r.cfg)).Err(); err != nil {
				t.Fatalf("mode %d k=%d: destroy: %v", mode, k, err)
			}
			if got := strings.Join(r.owned(), "|"); got != "bucket bucket-boards" {
				t.Fatalf("mode %d k=%d: left after destroy: %s", mode, k, got)
			}
		}
	}
}

// TestS3IAMCrashAtEveryMutatingCall sweeps every S3 and IAM call.
func TestS3IAMCrashAtEveryMutatingCall(t *testing.T) {
	crashSweep(t, s3iamOnlyGraph, true)
}

// TestS3IAMWithNetworkCrashAtEveryMutatingCall sweeps the network tier with
// the buckets and roles (some 70 runs; the network calls alone are swept by
// TestNetworkCrashAtEveryMutatingCall).
func TestS3IAMWithNetworkCrashAtEveryMutatingCall(t *testing.T) {
	if testing.Short() {
		t.Skip("long crash sweep")
	}
	crashSweep(t, s3iamGraph, false)
}

// putBoards writes n boards, each in two versions, and deletes every third
// one: the bucket then holds versions, noncurrent versions and delete markers.
func putBoards(t *testing.T, r *rig, bucket string, n int) map[string][]byte {
	t.Helper()
	cl, ctx := r.s3Client(), context.Background()
	current := map[string][]byte{}
	for i := range n {
		key := fmt.Sprintf("%sboard-%04d.svg", r.cfg.Storage.Prefix, i)
		for v := range 2 {
			body := []byte(fmt.Sprintf("<svg board=%d version=%d>\x00\xff</svg>", i, v))
			if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}, noTrailer); err != nil {
				t.Fatal(err)
			}
			current[key] = body
		}
		if i%3 == 2 {
			if _, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
				t.Fatal(err)
			}
			delete(current, key)
		}
	}
	return current
}

// versionCount counts the object versions and delete markers of a bucket.
func versionCount(t *testing.T, r *rig, bucket string) int {
	t.Helper()
	n := 0
	p := s3.NewListObjectVersionsPaginator(r.s3Client(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Versions) + len(page.DeleteMarkers)
	}
	return n
}

func assertBoards(t *testing.T, r *rig, bucket string, want map[string][]byte) {
	t.Helper()
	cl, ctx := r.s3Client(), context.Background()
	for key, body := range want {
		out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		got, _ := io.ReadAll(out.Body)
		if !bytes.Equal(got, body) {
			t.Fatalf("%s changed: %q, want %q", key, got, body)
		}
	}
	if n, err := countObjects(ctx, &Env{AWS: r.clients(), Cfg: r.cfg}, bucket); err != nil || n != len(want) {
		t.Fatalf("bucket holds %d current objects (%v), want %d", n, err, len(want))
	}
}

func TestBoardBucketKeptIntactAndAdoptedByNextUp(t *testing.T) {
	r := newRig(t, nil)
	g := s3iamGraph(r.cfg)
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	bucket := boardBucketOf(r)
	boards := putBoards(t, r, bucket, 30)
	versions := versionCount(t, r, bucket)
	res := r.destroy(g)
	if err := res.Err(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	n := resultOf(t, res, "bucket-boards")
	wantNote := fmt.Sprintf("board bucket %s kept with its %d objects; `wbo-deploy destroy --delete-data` deletes it", bucket, len(boards))
	if n.Action != ActKeep || n.Note != wantNote {
		t.Fatalf("destroy of the board bucket: %+v", n)
	}
	assertBoards(t, r, bucket, boards)
	if v := versionCount(t, r, bucket); v != versions {
		t.Fatalf("destroy changed the versions: %d, was %d", v, versions)
	}
	for _, rec := range r.records() {
		t.Fatalf("state still has %s", rec.Name)
	}
	// A later up adopts the kept bucket with its boards.
	r.cloud.ResetCalls()
	res = r.up(g)
	if err := res.Err(); err != nil {
		t.Fatalf("up after destroy: %v", err)
	}
	if n := resultOf(t, res, "bucket-boards"); n.Action != ActAdopt || n.ID != bucket {
		t.Fatalf("board bucket after re-up: %+v", n)
	}
	// Only the deleted log bucket is made again; the kept one is untouched.
	var s3calls []string
	for _, m := range r.cloud.MutatingCalls() {
		if strings.HasPrefix(m, "S3.") {
			s3calls = append(s3calls, m)
		}
	}
	if got := strings.Join(s3calls, ","); got != "S3.CreateBucket,S3.PutBucketLifecycleConfiguration,S3.PutBucketPolicy" {
		t.Fatalf("S3 calls of the re-up: %s", got)
	}
	assertBoards(t, r, bucket, boards)
	checkStateMatches(t, r)
}

func TestDeleteDataEmptiesVersionsInBatchesOf1000(t *testing.T) {
	r := newRig(t, nil)
	g := s3iamGraph(r.cfg)
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	bucket := boardBucketOf(r)
	// 1,000 boards × 2 versions + a delete marker on every third of the
	// first 1,500 writes' keys: 2,000 versions and 500 delete markers.
	cl, ctx := r.s3Client(), context.Background()
	for i := range 1000 {
		key := fmt.Sprintf("%sb%04d", r.cfg.Storage.Prefix, i)
		for v := range 2 {
			if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(fmt.Sprint(v))}, noTrailer); err != nil {
				t.Fatal(err)
			}
		}
		if i%2 == 0 {
			if _, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := versionCount(t, r, bucket); n != 2500 {
		t.Fatalf("bucket holds %d versions and markers, want 2500", n)
	}
	// Three keys fail once in the DeleteObjects answer; the next pass retries them.
	r.cloud.FailObjectDeletes(3)
	res := r.destroyWith(g, DestroyOptions{DeleteData: true})
	if err := res.Err(); err != nil {
		t.Fatalf("destroy --delete-data: %v", err)
	}
	if n := resultOf(t, res, "bucket-boards"); n.Action != ActDelete {
		t.Fatalf("board bucket: %+v", n)
	}
	batches := r.cloud.DeleteObjectsBatches()
	sum := 0
	for _, b := range batches {
		if b > 1000 {
			t.Fatalf("a DeleteObjects request carried %d keys", b)
		}
		sum += b
	}
	if sum != 2500+3 || len(batches) < 3 {
		t.Fatalf("DeleteObjects batches %v (sum %d), want 2,503 keys in at least 3 requests", batches, sum)
	}
	for _, res := range r.cloud.Inventory() {
		if res.Kind == "bucket" {
			t.Fatalf("bucket %s left after --delete-data", res.ID)
		}
	}
}

func TestBucketNameTakenByAnotherAccount(t *testing.T) {
	c := config.Default()
	c.Storage.Bucket = "someone-elses-boards"
	r := newRig(t, &c)
	r.cloud.AddBucket("someone-elses-boards", awssim.ForeignAccount, "us-east-1", nil)
	res := r.up(s3iamGraph(r.cfg))
	n := resultOf(t, res, "bucket-boards")
	var taken *BucketNameTakenError
	if !errors.As(n.Err, &taken) || taken.Bucket != "someone-elses-boards" {
		t.Fatalf("want BucketNameTakenError, got %v", n.Err)
	}
	if msg := n.Err.Error(); !strings.Contains(msg, "taken by another AWS account") || !strings.Contains(msg, "storage.bucket") {
		t.Fatalf("message does not tell what to do: %s", msg)
	}
	// Nothing of ours was created under that name, and the other account's
	// bucket is untouched.
	for _, res := range r.cloud.Inventory() {
		if res.ID == "someone-elses-boards" {
			t.Fatal("the foreign bucket shows as ours")
		}
	}
}

func TestBucketOfOursInAnotherRegion(t *testing.T) {
	c := config.Default()
	c.Storage.Bucket = "my-boards-elsewhere"
	r := newRig(t, &c)
	r.cloud.AddBucket("my-boards-elsewhere", "", "eu-west-1", nil)
	n := resultOf(t, r.up(s3iamGraph(r.cfg)), "bucket-boards")
	var re *BucketRegionError
	if !errors.As(n.Err, &re) || re.Region != "eu-west-1" || re.Want != "us-east-1" {
		t.Fatalf("want BucketRegionError, got %v", n.Err)
	}
}

func TestAccessLogBucketPolicyByRegion(t *testing.T) {
	for _, tc := range []struct {
		region    string
		principal string
	}{
		{"us-east-1", `{"AWS":"arn:aws:iam::127311923021:root"}`},
		{"eu-west-1", `{"AWS":"arn:aws:iam::156460612806:root"}`},
		// Asia Pacific (Hyderabad) opened in November 2022.
		{"ap-south-2", `{"Service":"logdelivery.elasticloadbalancing.amazonaws.com"}`},
	} {
		t.Run(tc.region, func(t *testing.T) {
			c := config.Default()
			c.Region = tc.region
			r := newRig(t, &c)
			if err := r.up(s3iamGraph(r.cfg)).Err(); err != nil {
				t.Fatalf("up in %s: %v", tc.region, err)
			}
			b := logBucketOf(r)
			pol, err := r.s3Client().GetBucketPolicy(context.Background(), &s3.GetBucketPolicyInput{Bucket: aws.String(b)})
			if err != nil {
				t.Fatal(err)
			}
			want := `{"Version":"2012-10-17","Statement":[` +
				`{"Sid":"ELBAccessLogDelivery","Effect":"Allow","Principal":` + tc.principal + `,"Action":"s3:PutObject","Resource":"arn:aws:s3:::` + b + `/AWSLogs/123456789012/*"},` +
				`{"Sid":"S3ServerAccessLogDelivery","Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::` + b + `/s3-access/*",` +
				`"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::` + boardBucketOf(r) + `"},"StringEquals":{"aws:SourceAccount":"123456789012"}}},` +
				`{"Sid":"AWSLogDeliveryWrite","Effect":"Allow","Principal":{"Service":"delivery.logs.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::` + b + `/vpc-flow-logs/AWSLogs/123456789012/*",` +
				`"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:logs:` + tc.region + `:123456789012:*"},"StringEquals":{"aws:SourceAccount":"123456789012","s3:x-amz-acl":"bucket-owner-full-control"}}},` +
				`{"Sid":"AWSLogDeliveryAclCheck","Effect":"Allow","Principal":{"Service":"delivery.logs.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::` + b + `",` +
				`"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:logs:` + tc.region + `:123456789012:*"},"StringEquals":{"aws:SourceAccount":"123456789012"}}},` +
				`{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::` + b + `","arn:aws:s3:::` + b + `/*"],` +
				`"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
			if got := aws.ToString(pol.Policy); got != want {
				t.Fatalf("access-log bucket policy\n got %s\nwant %s", got, want)
			}
			lc, err := r.s3Client().GetBucketLifecycleConfiguration(context.Background(), &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(lifecycleDescs(lc.Rules), "|"); !strings.Contains(got, "objects expire after 30 days") {
				t.Fatalf("log lifecycle %s", got)
			}
			enc, err := r.s3Client().GetBucketEncryption(context.Background(), &s3.GetBucketEncryptionInput{Bucket: aws.String(b)})
			if err != nil || enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 {
				t.Fatalf("log bucket must use SSE-S3: %v %v", enc, err)
			}
		})
	}
}

func TestAccessLogBucketDeletedUnlessKeepLogs(t *testing.T) {
	r := newRig(t, nil)
	g := s3iamGraph(r.cfg)
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	logs := logBucketOf(r)
	key := "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/01/01/log.gz"
	if _, err := r.s3Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(logs), Key: aws.String(key),
		Body: strings.NewReader("log line")}, noTrailer); err != nil {
		t.Fatal(err)
	}
	res := r.destroyWith(g, DestroyOptions{KeepLogs: true})
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if n := resultOf(t, res, "bucket-logs"); n.Action != ActKeep || !strings.Contains(n.Note, "kept with its 1 log files") {
		t.Fatalf("--keep-logs: %+v", n)
	}
	if got := strings.Join(r.owned(), ","); got != "bucket bucket-boards,bucket bucket-logs" {
		t.Fatalf("after destroy --keep-logs: %s", got)
	}
	// Up again (adopting both), then a plain destroy deletes the log bucket
	// with its logs, and keeps the boards.
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	res = r.destroy(g)
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if n := resultOf(t, res, "bucket-logs"); n.Action != ActDelete {
		t.Fatalf("plain destroy of the log bucket: %+v", n)
	}
	if got := strings.Join(r.owned(), ","); got != "bucket bucket-boards" {
		t.Fatalf("after destroy: %s", got)
	}
}

func TestNoncurrentDaysChangeUpdatesLifecycleInPlace(t *testing.T) {
	r := newRig(t, nil)
	g := s3iamGraph(r.cfg)
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	r.cfg.Storage.NoncurrentVersionDays = 90
	r.cloud.ResetCalls()
	res := r.up(g)
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if m := r.cloud.MutatingCalls(); strings.Join(m, ",") != "S3.PutBucketLifecycleConfiguration" {
		t.Fatalf("changing noncurrent_version_days made %v, want one PutBucketLifecycleConfiguration", m)
	}
	n := resultOf(t, res, "bucket-boards")
	if n.Action != ActUpdate || len(n.Changes) != 1 || n.Changes[0].Field != "lifecycle" || !strings.Contains(n.Changes[0].New, "after 90 days") {
		t.Fatalf("result %+v", n)
	}
	lc, err := r.s3Client().GetBucketLifecycleConfiguration(context.Background(), &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(boardBucketOf(r))})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(lifecycleDescs(lc.Rules), "|"), "noncurrent versions expire after 90 days") {
		t.Fatalf("lifecycle not updated: %v", lifecycleDescs(lc.Rules))
	}
	r.cloud.ResetCalls()
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("third up made %v", m)
	}
}

func TestS3IAMDiscoveredWithoutState(t *testing.T) {
	r := newRig(t, nil)
	g := s3iamGraph(r.cfg)
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	// Another stack's bucket and role, and a bucket of this stack's tags in
	// another region: none may be discovered.
	other := newRig(t, nil)
	other.cloud = r.cloud
	other.cfg.Stack = "other"
	if err := other.up(s3iamGraph(other.cfg)).Err(); err != nil {
		t.Fatal(err)
	}
	r.cloud.AddBucket("wbo-boards-elsewhere", "", "eu-west-1", map[string]string{TagStack: "wbo", TagResource: "bucket-boards"})
	if err := removeFile(r.path); err != nil {
		t.Fatal(err)
	}
	e, done := r.engine(g)
	defer done()
	found, err := e.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mine := map[string]string{}
	for _, f := range found {
		if f.Kind == "s3.bucket" || f.Kind == "iam.role" {
			mine[f.Name] = f.ID
		}
	}
	want := map[string]string{"bucket-boards": boardBucketOf(r), "bucket-logs": logBucketOf(r), "role-execution": "wbo-execution", "role-task": "wbo-task"}
	if fmt.Sprint(mine) != fmt.Sprint(want) {
		t.Fatalf("discovered %v, want %v", mine, want)
	}
	if err := e.Destroy(context.Background(), found).Err(); err != nil {
		t.Fatalf("destroy by discovery: %v", err)
	}
	left := strings.Join(r.owned(), ",")
	if left != "bucket bucket-boards,bucket bucket-boards" { // kept, and the one in eu-west-1
		t.Fatalf("left after destroy by discovery: %s", left)
	}
	if got := other.owned(); len(got) == 0 || !strings.Contains(strings.Join(got, ","), "role role-task") {
		t.Fatalf("the other stack was touched: %v", got)
	}
}
