package cost

import (
	"math"
	"strings"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/sidecar"
)

// hand is one line item computed by hand in a test.
type hand struct {
	key       string
	qty       float64
	unitPrice float64
	monthly   float64 // rounded to the cent by hand
}

func mustTable(t *testing.T) *PriceTable {
	t.Helper()
	table, err := LoadTable()
	if err != nil {
		t.Fatalf("LoadTable: %v", err)
	}
	return table
}

func cents(x float64) int64 { return int64(math.Round(x * 100)) }

// checkLines asserts the estimate has exactly the hand-computed lines, in
// order, and the hand-computed total, to the cent.
func checkLines(t *testing.T, e *Estimate, want []hand, total float64) {
	t.Helper()
	if len(e.Lines) != len(want) {
		var got []string
		for _, l := range e.Lines {
			got = append(got, l.Key)
		}
		t.Fatalf("got %d lines %v, want %d", len(e.Lines), got, len(want))
	}
	var sum int64
	for i, w := range want {
		l := e.Lines[i]
		if l.Key != w.key {
			t.Errorf("line %d is %s, want %s", i, l.Key, w.key)
			continue
		}
		if math.Abs(l.Quantity-w.qty) > 1e-9*math.Max(1, w.qty) {
			t.Errorf("%s: quantity %v, want %v", w.key, l.Quantity, w.qty)
		}
		if l.UnitPrice != w.unitPrice {
			t.Errorf("%s: unit price %v, want %v", w.key, l.UnitPrice, w.unitPrice)
		}
		if cents(l.Monthly) != cents(w.monthly) {
			t.Errorf("%s: monthly %.4f, want %.2f", w.key, l.Monthly, w.monthly)
		}
		if l.Source == "" || l.Date == "" {
			t.Errorf("%s: line without source or date", w.key)
		}
		sum += cents(w.monthly)
	}
	if cents(total) != sum {
		t.Fatalf("test arithmetic: lines add up to %d cents, stated total %.2f", sum, total)
	}
	if cents(e.Total) != cents(total) {
		t.Errorf("total %.2f, want %.2f", e.Total, total)
	}
}

// The brief's own topology: shared mode, 2 tasks of 0.25 vCPU / 0.5 GB on
// x86, one ALB, Redis primary + one replica, everything else at the defaults
// (alarms, dashboard, Container Insights, access logs on; 30-day retention;
// cost.assumptions: 20 users, 10 GB out, 1 request/s, 1 GB logs, 1 GB boards).
func TestComputeBriefTopologyByHand(t *testing.T) {
	cfg := config.Default()
	cfg.Region = "us-east-1"
	cfg.App.Mode = config.ModeShared
	cfg.App.SharesState = true
	cfg.App.DesiredCount = 2

	e, err := Compute(&cfg, mustTable(t))
	if err != nil {
		t.Fatal(err)
	}
	const h = 730.0
	checkLines(t, e, []hand{
		// 2 tasks × 0.25 vCPU × 730 h = 365 vCPU-h × $0.04048 = $14.7752
		{"fargate_vcpu", 2 * 0.25 * h, 0.04048, 14.78},
		// 2 tasks × 0.5 GB × 730 h = 730 GB-h × $0.004445 = $3.24485
		{"fargate_memory", 2 * 0.5 * h, 0.004445, 3.24},
		// 730 h × $0.0225 = $16.425
		{"alb_hours", h, 0.0225, 16.43},
		// LCU = max(1 req/s ÷ 25 = 0.04, 20 conns ÷ 3000 = 0.0067, 10 GB ÷ 730 h = 0.0137 GB/h,
		// 1 rule: no rule evaluations beyond the 10 free = 0) = 0.04; 0.04 × 730 = 29.2 LCU-h × $0.008 = $0.2336
		{"alb_lcu", 0.04 * h, 0.008, 0.23},
		// (2 tasks + 2 ALB nodes) × 730 h = 2920 address-h × $0.005 = $14.60
		{"public_ipv4", 4 * h, 0.005, 14.60},
		// (1 primary + 1 replica) × 730 h = 1460 node-h × $0.017 = $24.82
		{"elasticache_nodes", 2 * h, 0.017, 24.82},
		// alarms: 2 × 1 service + 3 × 1 target group + 2 Redis + 6 target tracking = 13 × $0.10 = $1.30
		{"cloudwatch_alarms", 13, 0.10, 1.30},
		// 1 dashboard, within the first 3 free: 0 billable × $3.00
		{"cloudwatch_dashboard", 0, 3.00, 0},
		// Container Insights: 13 cluster + 15 × 1 service + 10 × 1 family = 38 metrics × $0.30 = $11.40
		{"container_insights_metrics", 38, 0.30, 11.40},
		// (3 × 2 tasks + 1 service + 1 cluster) = 8 events/min × 1000 B × 60 × 730 = 0.3504 GB × $0.50 = $0.1752
		{"container_insights_logs", 8 * 1000 * 60 * h / 1e9, 0.50, 0.18},
		// 1 GB × $0.50
		{"logs_ingestion", 1, 0.50, 0.50},
		// 1 GB/month × 30 days × 24 h ÷ 730 h = 0.98630 GB-month × $0.03 = $0.02959
		{"logs_storage", 30 * 24 / h, 0.03, 0.03},
		// 1 GB × $0.023 = $0.023
		{"s3_boards", 1, 0.023, 0.02},
		// board backups: 1 req/s × 0.1 uploads per request × 3600 × 730 = 262,800 PUT
		// = 262.8 thousand × $0.005 = $1.314; shared mode has no lease, so no heartbeat line
		{"s3_requests_board_backup", 262.8, 0.005, 1.31},
		// 1 req/s × 3600 × 730 = 2,628,000 requests × 100 B = 0.2628 GB/month, kept 30 × 24 ÷ 730:
		// 0.25920 GB-month × $0.023 = $0.00596
		{"s3_access_logs", 0.2628 * 30 * 24 / h, 0.023, 0.01},
		// 2 ALB nodes × 12 files/h × 730 h = 17,520 PUT = 17.52 thousand × $0.005 = $0.0876
		{"s3_requests_access_logs", 17.52, 0.005, 0.09},
		// flow log: 0.05 GB of REJECT records × $0.25 vended-to-S3 delivery = $0.0125
		{"vpc_flow_logs_delivery", 0.05, 0.25, 0.01},
		// kept 30 days: 0.05 × 30 × 24 ÷ 730 = 0.049315 GB-month × $0.023 = $0.00113
		{"vpc_flow_logs_storage", 0.05 * 30 * 24 / h, 0.023, 0},
		// server access logs: 262,800 backup PUTs × 500 B = 0.1314 GB/month, kept 30 days:
		// 0.1314 × 720 ÷ 730 = 0.12960 GB-month × $0.023 = $0.00298
		{"s3_server_access_logs", 0.1314 * 30 * 24 / h, 0.023, 0},
		// 10 GB − 100 GB free = 0 billable
		{"data_transfer_out", 0, 0.09, 0},
	}, 88.95)

	// Autoscaling range, 1 and 10 tasks. At 1 task the task-dependent lines are
	// vCPU 182.5 × 0.04048 = 7.3876 → 7.39, memory 365 × 0.004445 = 1.622425 → 1.62,
	// IPv4 3 × 730 × 0.005 = 10.95, CI logs (3+1+1) × 0.0438 GB × 0.5 = 0.1095 → 0.11:
	// 88.95 − (18.02 − 9.01) − (14.60 − 10.95) − (0.18 − 0.11) = 76.22.
	// At 10 tasks: vCPU 1825 × 0.04048 = 73.876 → 73.88, memory 3650 × 0.004445 =
	// 16.22425 → 16.22, IPv4 12 × 730 × 0.005 = 43.80, CI logs (30+1+1) × 0.0438 × 0.5
	// = 0.7008 → 0.70: 88.95 + 72.08 + 29.20 + 0.52 = 190.75. The S3 lines do not
	// depend on the task count (no lease in shared mode).
	r := e.Autoscaling
	if r == nil {
		t.Fatal("no autoscaling range in shared mode")
	}
	if r.MinTasks != 1 || r.MaxTasks != 10 || cents(r.MinTotal) != 7622 || cents(r.MaxTotal) != 19075 {
		t.Errorf("autoscaling range %+v, want 1–10 tasks at $76.22–$190.75", *r)
	}
	if d := e.Lines[0].Detail; !strings.Contains(d, "autoscaling range 1–10 tasks: $7.39–$73.88") {
		t.Errorf("vCPU line detail %q does not show the range", d)
	}
	if got, want := Summary(e), "Estimated cost: $88.95/month, $76.22–$190.75/month across 1–10 tasks (us-east-1, on-demand, no free tier assumed; run `wbo-deploy cost` for details)"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}

// The default deployment: sharded, 2 shards, otherwise as the brief.
func TestComputeDefaultShardedByHand(t *testing.T) {
	cfg := config.Default()
	cfg.Region = "us-east-1"
	e, err := Compute(&cfg, mustTable(t))
	if err != nil {
		t.Fatal(err)
	}
	const h = 730.0
	checkLines(t, e, []hand{
		{"fargate_vcpu", 2 * 0.25 * h, 0.04048, 14.78},  // 365 × 0.04048 = 14.7752
		{"fargate_memory", 2 * 0.5 * h, 0.004445, 3.24}, // 730 × 0.004445 = 3.24485
		{"alb_hours", h, 0.0225, 16.43},                 // 16.425
		// rule evaluations: 1 req/s × (40 − 10) rules ÷ 1000 = 0.03 < 0.04 new connections: 29.2 × 0.008 = 0.2336
		{"alb_lcu", 0.04 * h, 0.008, 0.23},
		{"public_ipv4", 4 * h, 0.005, 14.60},            // (2 shards + 2 ALB nodes) × 730 × 0.005
		{"elasticache_nodes", 2 * h, 0.017, 24.82},      // 1460 × 0.017
		{"cloudwatch_alarms", 12, 0.10, 1.20},           // 2 × 2 services + 3 × 2 target groups + 2 Redis
		{"cloudwatch_dashboard", 0, 3.00, 0},            // first 3 free
		{"container_insights_metrics", 63, 0.30, 18.90}, // 13 + 15 × 2 + 10 × 2 = 63
		// (3 × 2 + 2 + 1) = 9 events/min × 0.0438 GB = 0.3942 GB × 0.50 = 0.1971
		{"container_insights_logs", 9 * 1000 * 60 * h / 1e9, 0.50, 0.20},
		{"logs_ingestion", 1, 0.50, 0.50},
		{"logs_storage", 30 * 24 / h, 0.03, 0.03},
		{"s3_boards", 1, 0.023, 0.02},
		// 1 req/s × 0.1 × 3600 × 730 = 262,800 PUT × $0.005 per 1,000 = 1.314
		{"s3_requests_board_backup", 262.8, 0.005, 1.31},
		// 2 shards × 3600 ÷ 50 s × 730 h = 105,120 PUT × $0.005 per 1,000 = 0.5256
		{"s3_requests_lease", 105.12, 0.005, 0.53},
		{"s3_access_logs", 0.2628 * 30 * 24 / h, 0.023, 0.01},
		{"s3_requests_access_logs", 17.52, 0.005, 0.09},
		{"vpc_flow_logs_delivery", 0.05, 0.25, 0.01},            // 0.05 GB × 0.25 = 0.0125
		{"vpc_flow_logs_storage", 0.05 * 30 * 24 / h, 0.023, 0}, // 0.049315 × 0.023 = 0.00113
		// (262,800 + 105,120) = 367,920 requests × 500 B = 0.18396 GB/month × 720 ÷ 730
		// = 0.181444 GB-month × 0.023 = 0.00417
		{"s3_server_access_logs", 0.18396 * 30 * 24 / h, 0.023, 0},
		{"data_transfer_out", 0, 0.09, 0},
	}, 96.90)
	if e.Autoscaling != nil {
		t.Error("sharded mode has no autoscaling range")
	}
	if got, want := Summary(e), "Estimated cost: $96.90/month (us-east-1, on-demand, no free tier assumed; run `wbo-deploy cost` for details)"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}

// cheapestSensible is the cheapest configuration worth running: one arm64
// task, no Redis (WBO does not use it), no Container Insights and no access
// logs, but alarms and the (free) dashboard kept.
func cheapestSensible() config.Config {
	cfg := config.Default()
	cfg.Region = "us-east-1"
	cfg.App.Mode = config.ModeSingle
	cfg.App.Architecture = "arm64"
	cfg.Redis.Mode = "none"
	cfg.ECS.ContainerInsights = false
	cfg.LoadBalancer.AccessLogs = false
	return cfg
}

func TestComputeCheapestSensibleByHand(t *testing.T) {
	cfg := cheapestSensible()
	e, err := Compute(&cfg, mustTable(t))
	if err != nil {
		t.Fatal(err)
	}
	const h = 730.0
	checkLines(t, e, []hand{
		{"fargate_vcpu", 0.25 * h, 0.03238, 5.91},  // 182.5 × 0.03238 = 5.90935
		{"fargate_memory", 0.5 * h, 0.00356, 1.30}, // 365 × 0.00356 = 1.2994
		{"alb_hours", h, 0.0225, 16.43},            // 16.425
		{"alb_lcu", 0.04 * h, 0.008, 0.23},         // 29.2 × 0.008 = 0.2336
		{"public_ipv4", 3 * h, 0.005, 10.95},       // (1 task + 2 ALB nodes) × 730 × 0.005
		{"cloudwatch_alarms", 5, 0.10, 0.50},       // 2 × 1 service + 3 × 1 target group
		{"cloudwatch_dashboard", 0, 3.00, 0},       // first 3 free
		{"logs_ingestion", 1, 0.50, 0.50},          // 1 GB
		{"logs_storage", 30 * 24 / h, 0.03, 0.03},  // 0.9863 × 0.03 = 0.02959
		{"s3_boards", 1, 0.023, 0.02},              // 0.023
		// board backups: 1 req/s × 0.1 × 3600 × 730 = 262,800 PUT × $0.005 per 1,000 = 1.314
		{"s3_requests_board_backup", 262.8, 0.005, 1.31},
		// one shard's lease: 3600 ÷ 50 s × 730 h = 52,560 PUT × $0.005 per 1,000 = 0.2628
		{"s3_requests_lease", 52.56, 0.005, 0.26},
		{"data_transfer_out", 0, 0.09, 0}, // under the free 100 GB
	}, 37.44)
}

func TestComputeEphemeralStorageAndDataTransferBeyondAllowances(t *testing.T) {
	cfg := config.Default()
	cfg.Region = "us-east-1"
	cfg.App.EphemeralStorageGB = 50
	cfg.Cost.Assumptions.GBTransferred = 250
	e, err := Compute(&cfg, mustTable(t))
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]Line{}
	for _, l := range e.Lines {
		byKey[l.Key] = l
	}
	// 2 tasks × (50 − 20) GB × 730 h = 43,800 GB-h × $0.000111 = $4.8618
	if l := byKey["fargate_ephemeral"]; cents(l.Monthly) != 486 || l.Quantity != 43800 {
		t.Errorf("ephemeral storage line %+v, want 43800 GB-h and $4.86", l)
	}
	// (250 − 100) GB × $0.09 = $13.50
	if l := byKey["data_transfer_out"]; cents(l.Monthly) != 1350 {
		t.Errorf("data transfer line %+v, want $13.50", l)
	}
	// LCU: 250 GB ÷ 730 h = 0.3425 GB/h beats 0.04 new connections: 250 LCU-h × $0.008 = $2.00
	if l := byKey["alb_lcu"]; math.Abs(l.Quantity-250) > 1e-9 || cents(l.Monthly) != 200 {
		t.Errorf("LCU line %+v, want 250 LCU-hours and $2.00", l)
	}
}

func TestComputeValkeyAndStepPolicy(t *testing.T) {
	cfg := config.Default()
	cfg.Region = "us-east-1"
	cfg.Redis.Engine = "valkey"
	cfg.App.Mode = config.ModeShared
	cfg.Autoscaling.Policy = "step"
	e, err := Compute(&cfg, mustTable(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range e.Lines {
		switch l.Key {
		case "elasticache_nodes":
			// 1460 node-h × $0.0136 (Redis OSS $0.017 × 0.8) = $19.856
			if l.UnitPrice != 0.0136 || cents(l.Monthly) != 1986 || !strings.Contains(l.Item, "Valkey") {
				t.Errorf("valkey line %+v, want $0.0136/node-hour and $19.86", l)
			}
		case "cloudwatch_alarms":
			// 2 + 3 + 2 Redis + 6 step-policy alarms
			if l.Quantity != 13 || !strings.Contains(l.Detail, "step scaling") {
				t.Errorf("alarms line %+v, want 13 with the step policy named", l)
			}
		}
	}
}

// A node type the table has no price for is an unpriced line naming the
// field, not an error: the rest of the estimate is shown, its total partial.
func TestComputeUnpricedNodeType(t *testing.T) {
	cfg := config.Default()
	cfg.Region = "eu-west-1"
	cfg.Redis.NodeType = "cache.r7g.large"
	e, err := Compute(&cfg, mustTable(t))
	if err != nil {
		t.Fatalf("error %v, want a partial estimate", err)
	}
	if !e.Partial || len(e.Missing) != 1 {
		t.Fatalf("partial %v, missing %q: want one missing item", e.Partial, e.Missing)
	}
	for _, want := range []string{"redis.node_type", "cache.r7g.large", "eu-west-1", "cache.t3.micro", "--live-prices"} {
		if !strings.Contains(e.Missing[0], want) {
			t.Errorf("message %q lacks %q", e.Missing[0], want)
		}
	}
	l := line(t, e, "elasticache_nodes")
	if l.Missing == "" || l.Monthly != 0 || l.Quantity != 2*730 {
		t.Errorf("elasticache line %+v, want unpriced with its 1460 node-hours (primary and replica)", l)
	}
}

func TestComputeBadConfigNamesTheField(t *testing.T) {
	table := mustTable(t)
	cases := map[string]func(*config.Config){
		"app.cpu":                         func(c *config.Config) { c.App.CPU = 0 },
		"app.memory":                      func(c *config.Config) { c.App.Memory = -1 },
		"app.shards":                      func(c *config.Config) { c.App.Shards = 0 },
		"app.mode":                        func(c *config.Config) { c.App.Mode = "swarm" },
		"app.architecture":                func(c *config.Config) { c.App.Architecture = "riscv" },
		"app.desired_count":               func(c *config.Config) { c.App.Mode, c.App.DesiredCount = config.ModeShared, -2 },
		"autoscaling.max_capacity":        func(c *config.Config) { c.App.Mode, c.Autoscaling.MaxCapacity = config.ModeShared, 0 },
		"autoscaling.policy":              func(c *config.Config) { c.App.Mode, c.Autoscaling.Policy = config.ModeShared, "yolo" },
		"redis.mode":                      func(c *config.Config) { c.Redis.Mode = "memcached" },
		"redis.engine":                    func(c *config.Config) { c.Redis.Engine = "keydb" },
		"redis.replicas":                  func(c *config.Config) { c.Redis.Replicas = -1 },
		"logs.retention_days":             func(c *config.Config) { c.Logs.RetentionDays = -7 },
		"app.ephemeral_storage_gb":        func(c *config.Config) { c.App.EphemeralStorageGB = -1 },
		"cost.assumptions.active_users":   func(c *config.Config) { c.Cost.Assumptions.ActiveUsers = -5 },
		"cost.assumptions.gb_transferred": func(c *config.Config) { c.Cost.Assumptions.GBTransferred = math.NaN() },
	}
	for field, mutate := range cases {
		cfg := config.Default()
		cfg.Region = "us-east-1"
		mutate(&cfg)
		_, err := Compute(&cfg, table)
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error %v, want one naming the field", field, err)
		}
	}
}

func TestComputeRetentionForeverAndNoAlarms(t *testing.T) {
	cfg := cheapestSensible()
	cfg.Logs.RetentionDays = 0
	cfg.Alarms.Enabled = false
	cfg.Dashboard.Enabled = false
	e, err := Compute(&cfg, mustTable(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range e.Lines {
		if l.Key == "cloudwatch_alarms" || l.Key == "cloudwatch_dashboard" {
			t.Errorf("line %s present with alarms and dashboard off", l.Key)
		}
		// kept forever: after 12 months, 12 GB × $0.03 = $0.36
		if l.Key == "logs_storage" && (l.Quantity != 12 || cents(l.Monthly) != 36) {
			t.Errorf("logs storage %+v, want 12 GB-months and $0.36", l)
		}
	}
}

func TestEveryRegionPricesTheDefaultAndCheapestStack(t *testing.T) {
	table := mustTable(t)
	for _, region := range table.RegionCodes() {
		for name, cfg := range map[string]config.Config{"default": config.Default(), "cheapest": cheapestSensible()} {
			cfg.Region = region
			e, err := Compute(&cfg, table)
			if err != nil {
				t.Errorf("%s in %s: %v", name, region, err)
				continue
			}
			if e.Total <= 0 || e.RegionName == "" {
				t.Errorf("%s in %s: total %v, region name %q", name, region, e.Total, e.RegionName)
			}
		}
	}
}

// The heartbeat cadence priced is the sidecar's: a PUT every lease TTL ÷ 3.
func TestLeaseHeartbeatMatchesTheSidecar(t *testing.T) {
	if got := sidecar.DefaultLeaseTTL / 3; got != leaseHeartbeatSeconds {
		t.Errorf("sidecar heartbeat every %d s, the estimate prices one every %d s", got, leaseHeartbeatSeconds)
	}
}
