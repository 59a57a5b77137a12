package cost

import (
	"errors"
	"fmt"
	"slices"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// Variant is the configuration with one choice changed, priced.
type Variant struct {
	Name     string // short name, e.g. "arm64"
	Change   string // the configuration change, e.g. "app.architecture: arm64"
	Baseline bool   // the configuration as it is
	Estimate *Estimate
	Delta    float64  // Estimate.Total − the baseline's total
	Notes    []string // what the change gives up or needs
	// Unavailable says why a variant could not be priced (a price the
	// region's table lacks); Estimate is nil then.
	Unavailable string
}

// exampleCertificateARN stands for "a certificate is configured" in the HTTPS variant.
const exampleCertificateARN = "arn:aws:acm:region:account:certificate/example"

// Compare prices the configuration and the alternatives a user might choose
// instead: the other app modes, Redis on or off, Redis OSS or Valkey, the other
// CPU architecture, HTTPS on or off, and a self-hosted Redis task on Fargate
// instead of ElastiCache. The configuration itself comes first (Baseline), the
// alternatives follow from the cheapest to the dearest (ties by name).
func Compare(cfg *config.Config, table *PriceTable) ([]Variant, error) {
	base, err := Compute(cfg, table)
	if err != nil {
		return nil, err
	}
	out := []Variant{{Name: "as configured", Change: "none", Baseline: true, Estimate: base}}

	type alt struct {
		name, change string
		apply        func(c *config.Config)
		opt          options
		notes        []string
	}
	var alts []alt

	// Topology.
	if cfg.App.Mode != config.ModeSharded {
		shards := max(cfg.App.Shards, 1)
		alts = append(alts, alt{name: "sharded", change: fmt.Sprintf("app.mode: sharded (%d shards)", shards),
			apply: func(c *config.Config) { c.App.Mode, c.App.Shards = config.ModeSharded, shards },
			notes: []string{"each shard is its own service, task and target group; every board is served by exactly one task"}})
	}
	if cfg.App.Mode != config.ModeSingle {
		alts = append(alts, alt{name: "single", change: "app.mode: single",
			apply: func(c *config.Config) { c.App.Mode = config.ModeSingle },
			notes: []string{"one task: about a minute of downtime per deployment, no spare capacity"}})
	}
	if cfg.App.Mode != config.ModeShared {
		alts = append(alts, alt{name: "shared", change: fmt.Sprintf("app.mode: shared (%d tasks, autoscaling %d–%d)", cfg.App.DesiredCount, cfg.Autoscaling.MinCapacity, cfg.Autoscaling.MaxCapacity),
			apply: func(c *config.Config) { c.App.Mode = config.ModeShared },
			notes: []string{"needs an image that shares board state across tasks (app.shares_state); the stock WBO image does not"}})
	}

	// Redis.
	if cfg.RedisEnabled() {
		alts = append(alts, alt{name: "no redis", change: "redis.mode: none",
			apply: func(c *config.Config) { c.Redis.Mode = "none" },
			notes: []string{"WBO itself does not use Redis (docs/redis.md)"}})
		other := "valkey"
		if cfg.Redis.Engine == "valkey" {
			other = "redis"
		}
		alts = append(alts, alt{name: other, change: "redis.engine: " + other,
			apply: func(c *config.Config) { c.Redis.Engine = other },
			notes: []string{"node-based ElastiCache for Valkey is priced 20% below Redis OSS; Valkey is compatible with Redis OSS 7.2 clients"}})
		alts = append(alts, alt{name: "self-hosted redis", change: "redis.mode: none + a Redis task on Fargate (estimate only)",
			apply: func(c *config.Config) { c.Redis.Mode = "none" },
			opt:   options{selfHostedRedis: true},
			notes: []string{
				"the brief's suggestion; wbo-deploy does not deploy it",
				"one task with no replica, no failover and no managed snapshots: its data is lost when the task is replaced",
			}})
	} else {
		alts = append(alts, alt{name: "elasticache", change: fmt.Sprintf("redis.mode: elasticache (%s %s, %d %s)", cfg.Redis.Engine, cfg.Redis.NodeType, cfg.Redis.Replicas, plural(cfg.Redis.Replicas, "replica", "replicas")),
			apply: func(c *config.Config) { c.Redis.Mode = "elasticache" },
			notes: []string{"only useful for an image that reads REDIS_URL"}})
	}

	// Architecture.
	otherArch := "arm64"
	if cfg.App.Architecture == "arm64" {
		otherArch = "x86_64"
	}
	alts = append(alts, alt{name: otherArch, change: "app.architecture: " + otherArch,
		apply: func(c *config.Config) { c.App.Architecture = otherArch },
		notes: []string{"the WBO image is published for linux/amd64 and linux/arm64"}})

	// HTTPS.
	if cfg.HTTPS() {
		alts = append(alts, alt{name: "http only", change: "load_balancer.certificate_arn: \"\"",
			apply: func(c *config.Config) { c.LoadBalancer.CertificateARN = "" },
			notes: []string{"the load balancer bills the same with or without TLS; plain HTTP exposes boards and cookies on the wire"}})
	} else {
		alts = append(alts, alt{name: "https", change: "load_balancer.certificate_arn: <an ACM certificate>",
			apply: func(c *config.Config) { c.LoadBalancer.CertificateARN = exampleCertificateARN },
			notes: []string{"public ACM certificates are free and the load balancer bills the same for HTTPS; the HTTP→HTTPS redirect adds requests, not rules beyond the 10 free"}})
	}

	var rest []Variant
	for _, a := range alts {
		c := cloneConfig(cfg)
		a.apply(c)
		v := Variant{Name: a.name, Change: a.change, Notes: a.notes}
		e, err := compute(c, table, a.opt)
		if err == nil && c.App.Mode == config.ModeShared {
			err = addAutoscalingRange(e, c, table)
		}
		var missing *MissingPriceError
		switch {
		case errors.As(err, &missing):
			v.Unavailable = missing.Error()
		case err != nil:
			return nil, fmt.Errorf("price variant %q: %w", a.name, err)
		default:
			v.Estimate = e
			v.Delta = roundDelta(e.Total - base.Total)
			if a.opt.selfHostedRedis {
				v.Notes = append(v.Notes, selfHostedNote(base, e, table))
			}
		}
		rest = append(rest, v)
	}
	slices.SortStableFunc(rest, func(a, b Variant) int {
		// Unpriceable variants go last.
		switch {
		case a.Estimate == nil && b.Estimate == nil:
			return cmpString(a.Name, b.Name)
		case a.Estimate == nil:
			return 1
		case b.Estimate == nil:
			return -1
		case a.Estimate.Total < b.Estimate.Total:
			return -1
		case a.Estimate.Total > b.Estimate.Total:
			return 1
		}
		return cmpString(a.Name, b.Name)
	})
	return append(out, rest...), nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// roundDelta rounds a signed difference of two cent amounts to the cent.
func roundDelta(x float64) float64 {
	if x < 0 {
		return -round2(-x)
	}
	return round2(x)
}

// cloneConfig copies the parts of cfg a variant changes (scalars only; the
// slices and maps it shares are never written).
func cloneConfig(cfg *config.Config) *config.Config {
	c := *cfg
	return &c
}

// selfHostedNote shows the arithmetic of replacing ElastiCache by a Redis task.
func selfHostedNote(base, v *Estimate, table *PriceTable) string {
	nodes := lineMonthly(base, "elasticache_nodes")
	task := lineMonthly(v, "redis_task_vcpu") + lineMonthly(v, "redis_task_memory")
	ip := lineMonthly(v, "redis_task_ipv4")
	delta := roundDelta(v.Total - base.Total)
	other := roundDelta(delta + nodes - task - ip)
	note := fmt.Sprintf("arithmetic: the task (%s) and its public IPv4 address (%s) replace the ElastiCache nodes (%s); other lines change by %s; in all %s/month",
		money(round2(task)), money(ip), money(nodes), signedMoney(other), signedMoney(delta))
	if ep, err := table.Price(v.Region, "vpc_endpoint_hour"); err == nil {
		endpoints := round2(float64(imagePullEndpoints*defaultLoadBalancerAZ) * v.HoursPerMonth * ep.Value)
		if delta < 0 && endpoints > -delta {
			note += fmt.Sprintf(". Interface endpoints instead of the public IP (%s) would cost more than the whole saving", money(endpoints))
		}
	}
	return note
}
