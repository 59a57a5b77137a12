package cost

import (
	"slices"
	"strings"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

func variantNames(vs []Variant) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Name)
	}
	return out
}

func TestCompareDefaultVariantsAndOrder(t *testing.T) {
	cfg := config.Default()
	cfg.Region = "us-east-1"
	vs, err := Compare(&cfg, mustTable(t))
	if err != nil {
		t.Fatal(err)
	}
	if !vs[0].Baseline || vs[0].Name != "as configured" || cents(vs[0].Estimate.Total) != 9690 || vs[0].Delta != 0 {
		t.Fatalf("first variant %+v, want the configuration at $96.90", vs[0])
	}
	got := variantNames(vs[1:])
	want := []string{"arm64", "https", "no redis", "self-hosted redis", "shared", "single", "valkey"}
	sorted := slices.Clone(got)
	slices.Sort(sorted)
	if !slices.Equal(sorted, want) {
		t.Fatalf("alternatives %v, want %v", got, want)
	}
	// Cheapest first, each with its difference from the configuration.
	for i := 1; i < len(vs); i++ {
		v := vs[i]
		if v.Baseline || v.Estimate == nil {
			t.Fatalf("%s: baseline %v, estimate %v", v.Name, v.Baseline, v.Estimate)
		}
		if cents(v.Delta) != cents(v.Estimate.Total)-cents(vs[0].Estimate.Total) {
			t.Errorf("%s: delta %.2f, totals %.2f and %.2f", v.Name, v.Delta, v.Estimate.Total, vs[0].Estimate.Total)
		}
		if i > 1 && v.Estimate.Total < vs[i-1].Estimate.Total {
			t.Errorf("%s ($%.2f) comes after %s ($%.2f)", v.Name, v.Estimate.Total, vs[i-1].Name, vs[i-1].Estimate.Total)
		}
	}
	byName := map[string]Variant{}
	for _, v := range vs {
		byName[v.Name] = v
	}
	// Figures by hand, from the default's $96.90:
	// no redis: − 24.82 ElastiCache − 0.20 (2 Redis alarms) = 71.88
	// single: − 7.39 vCPU − 1.62 memory − 3.65 IPv4 − 0.50 alarms (7 instead of 12) − 7.50 CI metrics (38 instead of 63)
	//         − 0.09 CI logs (0.1095 → 0.11) − 0.27 lease heartbeats (1 shard: 52,560 PUT → 0.26) = 75.88
	// shared: alarms + 0.10 (13: 6 target-tracking alarms instead of a second service and target group),
	//         CI metrics − 7.50, CI logs − 0.02 (0.1752 → 0.18), no lease − 0.53 = 88.95
	// valkey: 1460 node-h × 0.0136 = 19.856 → 19.86: − 4.96 = 91.94
	// arm64: vCPU 365 × 0.03238 = 11.8187 → 11.82, memory 730 × 0.00356 = 2.5988 → 2.60: − 2.96 − 0.64 = 93.30
	// https: the load balancer bills the same: 96.90
	for name, total := range map[string]int64{"no redis": 7188, "single": 7588, "valkey": 9194, "arm64": 9330, "https": 9690, "shared": 8895} {
		if got := cents(byName[name].Estimate.Total); got != total {
			t.Errorf("%s: total %d cents, want %d", name, got, total)
		}
	}
	if byName["shared"].Estimate.Autoscaling == nil {
		t.Error("shared variant lacks its autoscaling range")
	}
}

// The brief's self-hosted Redis task, with its arithmetic shown.
func TestCompareSelfHostedRedisArithmetic(t *testing.T) {
	cfg := config.Default()
	cfg.Region = "us-east-1"
	vs, err := Compare(&cfg, mustTable(t))
	if err != nil {
		t.Fatal(err)
	}
	var v Variant
	for _, x := range vs {
		if x.Name == "self-hosted redis" {
			v = x
		}
	}
	if v.Estimate == nil {
		t.Fatal("no self-hosted redis variant")
	}
	lines := map[string]Line{}
	for _, l := range v.Estimate.Lines {
		lines[l.Key] = l
	}
	if _, ok := lines["elasticache_nodes"]; ok {
		t.Error("self-hosted variant still pays for ElastiCache")
	}
	// 0.25 vCPU × 730 h × 0.04048 = 7.3876; 0.5 GB × 730 × 0.004445 = 1.622425; 1 address × 730 × 0.005 = 3.65
	for key, c := range map[string]int64{"redis_task_vcpu": 739, "redis_task_memory": 162, "redis_task_ipv4": 365} {
		if got := cents(lines[key].Monthly); got != c {
			t.Errorf("%s: %d cents, want %d", key, got, c)
		}
	}
	// Container Insights sees a third service: 13 + 15 × 3 + 10 × 3 = 88 metrics × 0.30 = 26.40;
	// performance logs (3 × 3 tasks + 3 + 1) = 13 events/min × 0.0438 GB × 0.50 = 0.2847 → 0.28.
	if l := lines["container_insights_metrics"]; l.Quantity != 88 || cents(l.Monthly) != 2640 {
		t.Errorf("CI metrics %+v, want 88 metrics and $26.40", l)
	}
	// 96.90 − 24.82 + 7.39 + 1.62 + 3.65 + 7.50 + 0.08 = 92.32
	if cents(v.Estimate.Total) != 9232 || cents(v.Delta) != -458 {
		t.Errorf("total %.2f (delta %.2f), want 92.32 (−4.58)", v.Estimate.Total, v.Delta)
	}
	// The image pull: a public IP, or three interface endpoints in two AZs at
	// 3 × 2 × 0.01 × 730 = 43.80, more than the whole saving.
	if d := lines["redis_task_ipv4"].Detail; !strings.Contains(d, "3 × 2 × $0.01 × 730 h = $43.80/month") {
		t.Errorf("IPv4 detail %q lacks the endpoint arithmetic", d)
	}
	note := strings.Join(v.Notes, "\n")
	for _, want := range []string{"($9.01)", "($3.65)", "($24.82)", "+$7.58", "-$4.58/month"} {
		if !strings.Contains(note, want) {
			t.Errorf("notes lack %q:\n%s", want, note)
		}
	}
}

func TestCompareFlipsEachChoice(t *testing.T) {
	cfg := cheapestSensible()
	cfg.LoadBalancer.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
	vs, err := Compare(&cfg, mustTable(t))
	if err != nil {
		t.Fatal(err)
	}
	got := variantNames(vs[1:])
	slices.Sort(got)
	want := []string{"elasticache", "http only", "sharded", "shared", "x86_64"}
	if !slices.Equal(got, want) {
		t.Errorf("alternatives %v, want %v", got, want)
	}
	for _, v := range vs[1:] {
		if v.Name == "elasticache" && v.Estimate.Total <= vs[0].Estimate.Total {
			t.Errorf("adding ElastiCache does not cost more: %.2f vs %.2f", v.Estimate.Total, vs[0].Estimate.Total)
		}
		if v.Name == "http only" && v.Delta != 0 {
			t.Errorf("http only changes the cost by %.2f", v.Delta)
		}
	}
}

// A variant whose price the region lacks is listed, unpriced, last.
func TestCompareUnavailableVariantGoesLast(t *testing.T) {
	cfg := cheapestSensible()
	cfg.Region = "eu-west-1"
	cfg.Redis.NodeType = "cache.t4g.micro" // not priced for eu-west-1
	vs, err := Compare(&cfg, mustTable(t))
	if err != nil {
		t.Fatal(err)
	}
	last := vs[len(vs)-1]
	if last.Name != "elasticache" || last.Estimate != nil || !strings.Contains(last.Unavailable, "cache.t4g.micro") {
		t.Errorf("last variant %+v, want the unpriced elasticache variant", last)
	}
}
