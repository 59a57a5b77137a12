package awssim

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	st "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
)

func mkBucket(cl *awsclients.Clients, name string) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if cl.Region != "us-east-1" {
		in.CreateBucketConfiguration = &st.CreateBucketConfiguration{LocationConstraint: st.BucketLocationConstraint(cl.Region)}
	}
	_, err := cl.S3.CreateBucket(context.Background(), in)
	return err
}

func rmBucket(t *testing.T, cl *awsclients.Clients, name string) {
	t.Helper()
	if _, err := cl.S3.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
}

// A deleted name is held: CreateBucket answers OperationAborted until it is
// free, to this account and any other.
func TestDeletedBucketNameIsHeld(t *testing.T) {
	c := New(Options{})
	cl := simClientsIn(t, c, "us-east-1")
	c.PinBucketNameRefusals(2)
	if err := mkBucket(cl, "logs-a"); err != nil {
		t.Fatal(err)
	}
	rmBucket(t, cl, "logs-a")
	for i := 0; i < 2; i++ {
		if err := mkBucket(cl, "logs-a"); apiCodeOf(err) != "OperationAborted" {
			t.Fatalf("create %d right after delete: %v, want OperationAborted", i+1, err)
		}
	}
	if _, err := cl.S3.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String("logs-a")}); apiCodeOf(err) != "NotFound" {
		t.Fatalf("head of a deleted bucket: %v", err)
	}
	if err := mkBucket(cl, "logs-a"); err != nil {
		t.Fatalf("after the pinned refusals: %v", err)
	}

	c.PinBucketNameHold(-1)
	rmBucket(t, cl, "logs-a")
	other := New(Options{Account: "222222222222", Buckets: c.bucketNS})
	if err := mkBucket(simClientsIn(t, other, "us-east-1"), "logs-a"); apiCodeOf(err) != "OperationAborted" {
		t.Fatalf("another account during the hold: %v", err)
	}
	c.ReleaseBucketNames()
	if err := mkBucket(cl, "logs-a"); err != nil {
		t.Fatalf("after ReleaseBucketNames: %v", err)
	}
}

// The random hold is drawn from the seed within the documented bounds, and
// is longer for another region.
func TestBucketNameHoldBounds(t *testing.T) {
	for seed := int64(0); seed < 20; seed++ {
		c := New(Options{Seed: seed, Scale: 1})
		c.lock()
		before := time.Now()
		h := c.s3().newHold("us-east-1")
		c.unlock()
		same, cross := h.until.Sub(before), h.crossUntil.Sub(before)
		if same < BucketNameHoldMin || same > BucketNameHoldMax+time.Second {
			t.Fatalf("seed %d: same-region hold %v outside [%v, %v]", seed, same, BucketNameHoldMin, BucketNameHoldMax)
		}
		if cross < BucketNameHoldMax || cross > BucketNameHoldCrossRegionMax+time.Second {
			t.Fatalf("seed %d: cross-region hold %v outside [%v, %v]", seed, cross, BucketNameHoldMax, BucketNameHoldCrossRegionMax)
		}
		if !h.refuses("us-east-1", before) || !h.refuses("eu-west-1", before.Add(same)) || h.refuses("us-east-1", before.Add(same+time.Second)) {
			t.Fatalf("seed %d: hold %+v refuses the wrong creates", seed, h)
		}
	}
}

// One namespace shared by several accounts and regions: CreateBucket
// answers as its API reference says for each case.
func TestSharedBucketNamespace(t *testing.T) {
	ns := NewBucketNamespace()
	mine := New(Options{Buckets: ns})
	mineWest := New(Options{Region: "eu-west-1", Buckets: ns}) // the same account in another region
	theirs := New(Options{Account: "222222222222", Buckets: ns})
	me, meWest, them := simClientsIn(t, mine, "us-east-1"), simClientsIn(t, mineWest, "eu-west-1"), simClientsIn(t, theirs, "us-east-1")
	ctx := context.Background()

	if err := mkBucket(me, "boards-x"); err != nil {
		t.Fatal(err)
	}
	// us-east-1 legacy: re-creating your own us-east-1 bucket there is 200 OK.
	if err := mkBucket(me, "boards-x"); err != nil {
		t.Fatalf("own bucket again in us-east-1: %v", err)
	}
	// Elsewhere, your own name is BucketAlreadyOwnedByYou.
	if err := mkBucket(meWest, "boards-x"); apiCodeOf(err) != "BucketAlreadyOwnedByYou" {
		t.Fatalf("own us-east-1 bucket from eu-west-1: %v", err)
	}
	// Another account's name: BucketAlreadyExists, 403 to HeadBucket, no access.
	if err := mkBucket(them, "boards-x"); apiCodeOf(err) != "BucketAlreadyExists" {
		t.Fatalf("another account's name: %v", err)
	}
	if _, err := them.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("boards-x")}); apiCodeOf(err) != "Forbidden" {
		t.Fatalf("head of another account's bucket: %v", err)
	}
	if _, err := them.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("boards-x")}); apiCodeOf(err) != "AccessDenied" {
		t.Fatalf("another account's bucket tags: %v", err)
	}
	// Once deleted and released, the name is anyone's.
	mine.PinBucketNameHold(0)
	rmBucket(t, me, "boards-x")
	if err := mkBucket(them, "boards-x"); err != nil {
		t.Fatalf("a released name: %v", err)
	}
	if err := mkBucket(me, "boards-x"); apiCodeOf(err) != "BucketAlreadyExists" {
		t.Fatalf("our old name, now someone else's: %v", err)
	}
}
