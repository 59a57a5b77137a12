package provision

import (
	"strings"
	"testing"
)

// An S3 endpoint that refuses tags in CreateBucket: the bucket is created
// without them and tagged by the converge step; a second up changes nothing.
func TestBucketCreatedOnEndpointsWithoutTagOnCreate(t *testing.T) {
	r := newRig(t, nil)
	r.cloud.RefuseCreateBucketTags()
	g := NewGraph()
	for _, n := range Build(r.cfg).Nodes() {
		if n.Kind == "s3.bucket" {
			g.Add(n)
		}
	}
	if err := r.up(g).Err(); err != nil {
		t.Fatalf("up: %v", err)
	}
	if got := strings.Join(r.owned(), ","); !strings.Contains(got, "bucket bucket-boards") {
		t.Fatalf("the board bucket is not tagged for the stack: %s", got)
	}
	r.cloud.ResetCalls()
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}
}
