package provision

import (
	"strings"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// networkGraph is the network tier alone.
func networkGraph(cfg *config.Config) *Graph {
	g := NewGraph()
	full := Build(cfg)
	for _, n := range full.Nodes() {
		// The flow log needs the log bucket of the data tier (flowlog_test.go).
		if strings.HasPrefix(n.Kind, "ec2.") && n.Kind != "ec2.flow-log" {
			g.Add(n)
		}
	}
	return g
}

func TestNetworkUpIdempotentStatusDestroy(t *testing.T) {
	r := newRig(t, nil)
	g := networkGraph(r.cfg)
	res := r.up(g)
	if err := res.Err(); err != nil {
		t.Fatalf("up: %v", err)
	}
	want := []string{
		"internet-gateway igw",
		"route-table rt-private", "route-table rt-public",
		"security-group sg-alb", "security-group sg-redis", "security-group sg-tasks",
		"subnet subnet-private-0", "subnet subnet-private-1", "subnet subnet-public-0", "subnet subnet-public-1",
		"vpc vpc",
	}
	if got := r.owned(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("resources after up:\n got %v\nwant %v", got, want)
	}
	if n := len(r.records()); n != len(want) {
		t.Fatalf("state has %d records, want %d", n, len(want))
	}
	r.cloud.ResetCalls()
	res = r.up(g)
	if err := res.Err(); err != nil {
		t.Fatalf("second up: %v", err)
	}
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}
	res = r.destroy(g)
	if err := res.Err(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if got := r.owned(); len(got) != 0 {
		t.Fatalf("left after destroy: %v", got)
	}
	if n := len(r.records()); n != 0 {
		t.Fatalf("state still has %d records", n)
	}
}

func TestNetworkStateLostAdoptsAndDestroyFindsByTags(t *testing.T) {
	r := newRig(t, nil)
	g := networkGraph(r.cfg)
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	want := r.owned()
	// Another stack and an untagged VPC share the account; neither may be touched.
	other := newRig(t, nil)
	other.cloud = r.cloud
	other.cfg.Stack = "other"
	if err := other.up(networkGraph(other.cfg)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := removeFile(r.path); err != nil {
		t.Fatal(err)
	}
	r.cloud.ResetCalls()
	res := r.up(g)
	if err := res.Err(); err != nil {
		t.Fatalf("up without state: %v", err)
	}
	for _, n := range res.Nodes {
		if n.Action != ActAdopt {
			t.Fatalf("%s: %s, want adopt", n.Name, n.Action)
		}
	}
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("adoption made mutating calls: %v", m)
	}
	if got := r.owned(); len(got) != len(want) {
		t.Fatalf("duplicates after adoption: %v", got)
	}
	// Lose the state again; destroy by discovery alone.
	if err := removeFile(r.path); err != nil {
		t.Fatal(err)
	}
	e, done := r.engine(g)
	found, err := e.Discover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != len(want) {
		t.Fatalf("discovered %d resources, want %d: %v", len(found), len(want), found)
	}
	if err := e.Destroy(t.Context(), found).Err(); err != nil {
		t.Fatalf("destroy by tags: %v", err)
	}
	done()
	if got := r.owned(); len(got) != 0 {
		t.Fatalf("left: %v", got)
	}
	if got := other.owned(); len(got) != len(want) {
		t.Fatalf("the other stack was touched: %v", got)
	}
}
