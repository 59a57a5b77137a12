package awssim

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	st "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Conditional writes as the S3 User Guide documents them: If-None-Match "*"
// fails with 412 on an existing key, If-Match with 412 on another ETag and
// 404 without a current version, and a conditional write during whose
// upload another write or a delete of the key completed gets 409
// ConditionalRequestConflict (its retry then gets 412).
func TestS3ConditionalWrites(t *testing.T) {
	ctx := context.Background()
	c := New(Options{})
	cl := simClientsIn(t, c, "us-east-1")
	if _, err := cl.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tfstate")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("tfstate"),
		VersioningConfiguration: &st.VersioningConfiguration{Status: st.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	obj := cl.S3State
	put := func(key, body string, ifMatch, ifNoneMatch *string) (*s3.PutObjectOutput, error) {
		return obj.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tfstate"), Key: aws.String(key),
			Body: bytes.NewReader([]byte(body)), IfMatch: ifMatch, IfNoneMatch: ifNoneMatch})
	}
	star := aws.String("*")

	first, err := put("k", "one", nil, star)
	if err != nil {
		t.Fatalf("create-if-absent of a new key: %v", err)
	}
	if _, err := put("k", "two", nil, star); apiCodeOf(err) != "PreconditionFailed" {
		t.Fatalf("create-if-absent of an existing key: %v, want PreconditionFailed (412)", err)
	}
	if _, err := put("k", "two", nil, aws.String(`"abc"`)); apiCodeOf(err) != "NotImplemented" {
		t.Fatalf("If-None-Match with an ETag: %v, want NotImplemented", err)
	}
	if _, err := put("k", "two", aws.String(`"0123"`), nil); apiCodeOf(err) != "PreconditionFailed" {
		t.Fatalf("If-Match with another ETag: %v, want PreconditionFailed", err)
	}
	second, err := put("k", "two", first.ETag, nil)
	if err != nil {
		t.Fatalf("If-Match with the current ETag: %v", err)
	}
	if _, err := put("missing", "x", second.ETag, nil); apiCodeOf(err) != "NoSuchKey" {
		t.Fatalf("If-Match of a missing key: %v, want NoSuchKey (404)", err)
	}
	// Conditional delete.
	if _, err := obj.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("tfstate"), Key: aws.String("k"), IfMatch: first.ETag}); apiCodeOf(err) != "PreconditionFailed" {
		t.Fatalf("delete If-Match with a stale ETag: %v, want PreconditionFailed", err)
	}
	if _, err := obj.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("tfstate"), Key: aws.String("k"), IfMatch: second.ETag}); err != nil {
		t.Fatalf("delete If-Match with the current ETag: %v", err)
	}
	// A delete marker is not a current version: create-if-absent succeeds.
	if _, err := put("k", "three", nil, star); err != nil {
		t.Fatalf("create-if-absent over a delete marker: %v", err)
	}

	// Two conditional creates overlapping: the one held mid-upload sees the
	// other finish first and gets 409; its retry gets 412.
	started, release := c.HoldUpload("tfstate", "lock")
	done := make(chan error, 1)
	go func() {
		_, err := put("lock", "A", nil, star)
		done <- err
	}()
	<-started
	if _, err := put("lock", "B", nil, star); err != nil {
		t.Fatalf("the second create, finishing first: %v", err)
	}
	release()
	if err := <-done; apiCodeOf(err) != "ConditionalRequestConflict" {
		t.Fatalf("the overlapped create: %v, want ConditionalRequestConflict (409)", err)
	}
	if _, err := put("lock", "A", nil, star); apiCodeOf(err) != "PreconditionFailed" {
		t.Fatalf("its retry: %v, want PreconditionFailed", err)
	}
	// A delete completing during a conditional overwrite: 409.
	cur, err := obj.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("tfstate"), Key: aws.String("lock")})
	if err != nil {
		t.Fatal(err)
	}
	started, release = c.HoldUpload("tfstate", "lock")
	go func() {
		_, err := put("lock", "C", cur.ETag, nil)
		done <- err
	}()
	<-started
	if _, err := obj.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("tfstate"), Key: aws.String("lock")}); err != nil {
		t.Fatal(err)
	}
	release()
	if err := <-done; apiCodeOf(err) != "ConditionalRequestConflict" {
		t.Fatalf("overwrite overlapped by a delete: %v, want ConditionalRequestConflict (409)", err)
	}
	// An unconditional write is last-writer-wins, whatever overlaps it.
	started, release = c.HoldUpload("tfstate", "plain")
	go func() {
		_, err := put("plain", "late", nil, nil)
		done <- err
	}()
	<-started
	if _, err := put("plain", "early", nil, nil); err != nil {
		t.Fatal(err)
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("unconditional overlapped write: %v", err)
	}
	got, err := obj.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tfstate"), Key: aws.String("plain")})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_, _ = b.ReadFrom(got.Body)
	if b.String() != "late" {
		t.Fatalf("last writer should win, got %q", b.String())
	}
}
