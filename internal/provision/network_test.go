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
		if strings.HasPrefix(n.Kind, "ec2.") {
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
