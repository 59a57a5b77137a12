package provision

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
)

// upLogged runs up and returns its result and the wait events per node.
func upLogged(r *rig, g *Graph) (*Result, map[string][]string) {
	e, done := r.engine(g)
	defer done()
	var mu sync.Mutex
	waits := map[string][]string{}
	e.Env.sink = func(ev Event) {
		if ev.Phase == PhaseWait {
			mu.Lock()
			waits[ev.Node] = append(waits[ev.Node], ev.Message)
			mu.Unlock()
		}
	}
	return e.Up(context.Background()), waits
}

func heldCreates(r *rig) int {
	n := 0
	for _, c := range r.cloud.Calls() {
		if c.Operation == "CreateBucket" && c.Err == "OperationAborted" {
			n++
		}
	}
	return n
}

// destroy --delete-data then up: S3 still holds both deleted names for a
// while (409 OperationAborted); up retries, saying why, and succeeds.
func TestUpAfterDestroyRetriesHeldBucketNames(t *testing.T) {
	r := newRig(t, nil)
	g := s3iamGraph(r.cfg)
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	r.cloud.PinBucketNameRefusals(2)
	if err := r.destroyWith(g, DestroyOptions{DeleteData: true}).Err(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	r.cloud.ResetCalls()
	res, waits := upLogged(r, g)
	if err := res.Err(); err != nil {
		t.Fatalf("up after destroy: %v", err)
	}
	if n := heldCreates(r); n != 4 {
		t.Fatalf("%d CreateBucket answered OperationAborted, want 2 per bucket", n)
	}
	for _, node := range []string{"bucket-boards", "bucket-logs"} {
		if len(waits[node]) == 0 || !strings.Contains(waits[node][0], "deleted recently") || !strings.Contains(waits[node][0], "OperationAborted") {
			t.Errorf("%s: no progress line saying why up waits: %q", node, waits[node])
		}
	}
	r.cloud.ResetCalls()
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}
}

// A name S3 holds beyond the bounded retry: a clear error saying what to do,
// nothing created or recorded, and the next up (once S3 released the name)
// creates the bucket.
//
// On the virtual clock (a synctest bubble): the retry's 30 s floor in real
// time (MinTimeout) then costs nothing.
func TestUpGivesUpOnAHeldBucketNameCleanly(t *testing.T) {
	synctest.Test(t, testUpGivesUpOnAHeldBucketNameCleanly)
}

func testUpGivesUpOnAHeldBucketNameCleanly(t *testing.T) {
	r := newRig(t, nil)
	g := s3iamGraph(r.cfg)
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	r.cloud.PinBucketNameHold(-1)
	if err := r.destroy(g).Err(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	res := r.up(g)
	var held *BucketNameHeldError
	if err := resultOf(t, res, "bucket-logs").Err; !errors.As(err, &held) || !strings.Contains(err.Error(), "load_balancer.access_logs") ||
		!strings.Contains(err.Error(), logBucketOf(r)) {
		t.Fatalf("bucket-logs held beyond the retry: %v", err)
	}
	for _, rec := range r.records() {
		if rec.Name == "bucket-logs" {
			t.Fatalf("a bucket that was never created is in state: %+v", rec)
		}
	}
	r.cloud.ReleaseBucketNames()
	if err := r.up(g).Err(); err != nil {
		t.Fatalf("up once the name is released: %v", err)
	}
	r.cloud.ResetCalls()
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}
}
