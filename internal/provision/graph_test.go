package provision

import (
	"slices"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// Every ECS service must be created after a listener that forwards to its
// target group (CreateService answers InvalidParameterException "does not
// have an associated load balancer" otherwise). With a certificate only the
// HTTPS listener forwards; HTTP redirects.
func TestServicesWaitForTheForwardingListener(t *testing.T) {
	for _, mode := range []string{config.ModeSharded, config.ModeSingle, config.ModeShared} {
		for _, https := range []bool{false, true} {
			cfg := config.Default()
			cfg.App.Mode = mode
			if mode == config.ModeShared {
				cfg.App.Image, cfg.App.SharesState = "example/wbo-shared:1", true
			}
			want := "listener-http"
			if https {
				cfg.LoadBalancer.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/x"
				want = "listener-https"
			}
			g := Build(&cfg)
			if err := g.Check(); err != nil {
				t.Fatal(err)
			}
			services := 0
			for _, n := range g.Nodes() {
				if n.Kind != "ecs.service" {
					continue
				}
				services++
				if !slices.Contains(n.Deps, want) {
					t.Errorf("%s (mode %s, https %v) does not depend on %s: %v", n.Name, mode, https, want, n.Deps)
				}
			}
			if services == 0 {
				t.Fatalf("no services in mode %s", mode)
			}
		}
	}
}

// Beyond 5 shards a target group is attached to the load balancer only by
// the board rules, so shard services wait for them too.
func TestShardServicesWaitForTheRoutingRules(t *testing.T) {
	cfg := config.Default()
	cfg.App.Shards = 7
	g := Build(&cfg)
	if err := g.Check(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 7; i++ {
		n, ok := g.Node("service-shard-" + string(rune('0'+i)))
		if !ok {
			t.Fatalf("no service-shard-%d", i)
		}
		// Shards 0-4 are in the default action; 5 and 6 only in the rules.
		if want := i >= 5; slices.Contains(n.Deps, "rules-http") != want {
			t.Errorf("%s depends on rules-http: %v, want %v (%v)", n.Name, !want, want, n.Deps)
		}
	}
}
