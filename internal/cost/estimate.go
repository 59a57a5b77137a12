package cost

import (
	"errors"
	"fmt"
	"math"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// Estimate is the monthly cost of one configuration, line by line.
type Estimate struct {
	Stack          string
	Region         string
	RegionName     string
	Currency       string
	HoursPerMonth  float64
	PriceTableDate string // when the embedded table was compiled
	Lines          []Line
	Total          float64 // sum of the priced lines' rounded monthly amounts
	// Partial is set when a line has no price in the table (Line.Missing):
	// Total is then a lower bound.
	Partial bool
	Missing []string // one message per unpriced item, in line order
	// Autoscaling is set in shared mode: the total at the minimum and the
	// maximum task count of the autoscaling range.
	Autoscaling *TaskRange
	Assumptions []Assumption
	Notes       []string
	FreeTier    []string // what a new account's free tier may cover (never applied)
}

// TaskRange is the total at both ends of the autoscaling range.
type TaskRange struct {
	MinTasks, MaxTasks int
	MinTotal, MaxTotal float64
}

// Line is one priced item: Monthly = Quantity × UnitPrice, rounded to the cent.
type Line struct {
	Key        string // stable identifier of the line, e.g. "fargate_vcpu"
	Item       string
	Quantity   float64 // billable quantity per month, in Unit
	Unit       string
	UnitPrice  float64 // per PriceUnit
	PriceUnit  string
	Monthly    float64
	Detail     string // the arithmetic and what it rests on
	PriceKey   string // key in the price table
	Source     string
	Date       string
	Confidence string
	// Missing says which figure the table lacks ("no price for … in … in the
	// table: check with --live-prices"); the line's Monthly is then 0 and not a
	// price.
	Missing string
}

// Assumption is a stated input of the estimate.
type Assumption struct {
	Key    string
	Value  string
	Source string // where it comes from: a configuration key or the model
}

// Compute estimates the monthly cost of cfg in cfg.Region with the prices of
// table. A region that is not one of Regions gives *UnknownRegionError; an
// item the region lacks a price for becomes an unpriced line (Line.Missing)
// and the estimate is Partial.
func Compute(cfg *config.Config, table *PriceTable) (*Estimate, error) {
	e, err := compute(cfg, table, options{})
	if err != nil {
		return nil, err
	}
	if cfg.App.Mode == config.ModeShared {
		if err := addAutoscalingRange(e, cfg, table); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func compute(cfg *config.Config, table *PriceTable, opt options) (*Estimate, error) {
	if cfg == nil || table == nil {
		return nil, fmt.Errorf("cost estimate needs a configuration and a price table")
	}
	if _, ok := LookupRegion(cfg.Region); !ok {
		return nil, &UnknownRegionError{Region: cfg.Region, Known: RegionList()}
	}
	topo, err := topologyOf(cfg, opt)
	if err != nil {
		return nil, err
	}
	b := &builder{table: table, region: cfg.Region, hours: table.HoursPerMonth}
	e := &Estimate{
		Stack:          cfg.Stack,
		Region:         cfg.Region,
		RegionName:     table.RegionName(cfg.Region),
		Currency:       table.Currency,
		HoursPerMonth:  table.HoursPerMonth,
		PriceTableDate: table.Compiled,
	}
	b.compute(cfg, topo)
	b.selfHostedRedis(cfg, topo)
	if b.err != nil {
		return nil, b.err
	}
	e.Lines = b.lines
	var total float64
	seen := map[string]bool{}
	for _, l := range e.Lines {
		total += l.Monthly
		if l.Missing != "" {
			e.Partial = true
			if !seen[l.Missing] {
				seen[l.Missing] = true
				e.Missing = append(e.Missing, l.Missing)
			}
		}
	}
	e.Total = round2(total)
	e.Assumptions = assumptions(cfg, topo, table.HoursPerMonth)
	e.Notes = notes(cfg, topo, e)
	e.FreeTier = freeTierNote()
	return e, nil
}

// builder accumulates lines; the first error stops it. A missing price is
// not an error: it makes an unpriced line.
type builder struct {
	table  *PriceTable
	region string
	hours  float64
	lines  []Line
	err    error
}

func (b *builder) add(key, item string, qty float64, unit, priceKey, detail string) {
	if b.err != nil {
		return
	}
	p, err := b.table.Price(b.region, priceKey)
	var missing *MissingPriceError
	if errors.As(err, &missing) {
		b.unpriced(key, item, qty, unit, priceKey, detail, missing)
		return
	}
	if err != nil {
		b.err = err
		return
	}
	b.lines = append(b.lines, Line{
		Key:        key,
		Item:       item,
		Quantity:   qty,
		Unit:       unit,
		UnitPrice:  p.Value,
		PriceUnit:  b.table.Items[priceKey].Unit,
		Monthly:    round2(qty * p.Value),
		Detail:     detail,
		PriceKey:   priceKey,
		Source:     p.Source,
		Date:       p.Date,
		Confidence: p.Confidence,
	})
}

// unpriced adds a line whose price the table lacks: its quantity and
// arithmetic are shown, its amount is not counted.
func (b *builder) unpriced(key, item string, qty float64, unit, priceKey, detail string, m *MissingPriceError) {
	priceUnit := "node-hour" // the one item that can lack a spec: an ElastiCache node type
	if it, ok := b.table.Items[priceKey]; ok {
		priceUnit = it.Unit
	}
	b.lines = append(b.lines, Line{
		Key: key, Item: item, Quantity: qty, Unit: unit, PriceUnit: priceUnit,
		Detail: detail, PriceKey: priceKey, Missing: m.Error(),
	})
}

// compute adds the lines of the stack as configured.
func (b *builder) compute(cfg *config.Config, t topology) {
	h := b.hours
	a := cfg.Cost.Assumptions

	// Fargate: every task bills its vCPU and memory for every hour it runs.
	arch, vcpuKey, gbKey := "x86_64", "fargate_vcpu_x86", "fargate_gb_x86"
	if t.arm {
		arch, vcpuKey, gbKey = "arm64", "fargate_vcpu_arm", "fargate_gb_arm"
	}
	taskWord := plural(t.tasks, "task", "tasks")
	b.add("fargate_vcpu", "Fargate vCPU ("+arch+")", float64(t.tasks)*t.vcpu*h, "vCPU-hours", vcpuKey,
		fmt.Sprintf("%d %s × %s vCPU × %s h", t.tasks, taskWord, num(t.vcpu), num(h)))
	b.add("fargate_memory", "Fargate memory ("+arch+")", float64(t.tasks)*t.memGB*h, "GB-hours", gbKey,
		fmt.Sprintf("%d %s × %s GB × %s h", t.tasks, taskWord, num(t.memGB), num(h)))
	if extra := cfg.App.EphemeralStorageGB - freeEphemeralGB; extra > 0 {
		b.add("fargate_ephemeral", "Fargate ephemeral storage beyond 20 GB", float64(t.tasks*extra)*h, "GB-hours", "fargate_ephemeral",
			fmt.Sprintf("%d %s × (%d GB − %d GB included) × %s h", t.tasks, taskWord, cfg.App.EphemeralStorageGB, freeEphemeralGB, num(h)))
	}

	// Application Load Balancer: hours, and capacity units from the stated traffic.
	b.add("alb_hours", "Application Load Balancer", h, "hours", "alb_hour",
		fmt.Sprintf("1 load balancer × %s h", num(h)))
	newConns := a.RequestsPerSecond / lcuNewConnsPerSec
	active := float64(a.ActiveUsers) / lcuActiveConns
	gbPerHour := a.GBTransferred / h
	billableRules := t.listenerRules - freeRulesPerRequest
	if billableRules < 0 {
		billableRules = 0
	}
	ruleEvals := a.RequestsPerSecond * float64(billableRules) / lcuRuleEvalsPerSec
	lcu := math.Max(math.Max(newConns, active), math.Max(gbPerHour/lcuGBPerHour, ruleEvals))
	rules := fmt.Sprintf("%d rules (%d board-affinity rules on the %s listener + 1 default) − 10 free = %d",
		t.listenerRules, t.shardRules, t.ruleListener, billableRules)
	if t.ruleListener == "HTTPS" {
		rules += "; the HTTP listener only redirects (1 default rule, free)"
	}
	b.add("alb_lcu", "ALB capacity units (LCU)", lcu*h, "LCU-hours", "alb_lcu",
		fmt.Sprintf("LCU = max(new connections %s/s ÷ 25 = %s; active connections %d ÷ 3000 = %s; processed %s GB ÷ %s h = %s GB/h ÷ 1 = %s; rule evaluations %s/s × %d billable rules ÷ 1000 = %s [%s]) = %s LCU × %s h",
			num(a.RequestsPerSecond), num4(newConns), a.ActiveUsers, num4(active), num(a.GBTransferred), num(h), num4(gbPerHour), num4(gbPerHour),
			num(a.RequestsPerSecond), billableRules, num4(ruleEvals), rules, num4(lcu), num(h)))

	// Public IPv4: one per task (public subnets, no NAT gateway) and one per
	// load balancer node (one node per AZ of an internet-facing ALB).
	ips := t.tasks + t.albNodes
	b.add("public_ipv4", "Public IPv4 addresses", float64(ips)*h, "address-hours", "public_ipv4",
		fmt.Sprintf("(%d %s + %d load balancer nodes, one per AZ) × %s h", t.tasks, taskWord, t.albNodes, num(h)))

	// ElastiCache: every node of the replication group bills by the hour.
	if t.redisNodes > 0 {
		key := fmt.Sprintf("elasticache_%s_%s", cfg.Redis.Engine, cfg.Redis.NodeType)
		engine := "Redis OSS"
		if cfg.Redis.Engine == "valkey" {
			engine = "Valkey"
		}
		if _, ok := b.table.Items[key]; !ok && b.err == nil {
			// A node type the table has no item for: say which field asked.
			b.unpriced("elasticache_nodes", fmt.Sprintf("ElastiCache %s %s", engine, cfg.Redis.NodeType), float64(t.redisNodes)*h, "node-hours", key,
				fmt.Sprintf("(1 primary + %d %s) × %s h", cfg.Redis.Replicas, plural(cfg.Redis.Replicas, "replica", "replicas"), num(h)),
				&MissingPriceError{Region: b.region, Item: key, Name: fmt.Sprintf("ElastiCache %s %s", engine, cfg.Redis.NodeType),
					Field: "redis.node_type", Value: cfg.Redis.NodeType, Known: b.nodeTypes(cfg.Redis.Engine)})
			return
		}
		b.add("elasticache_nodes", fmt.Sprintf("ElastiCache %s %s", engine, cfg.Redis.NodeType), float64(t.redisNodes)*h, "node-hours", key,
			fmt.Sprintf("(1 primary + %d %s) × %s h", cfg.Redis.Replicas, plural(cfg.Redis.Replicas, "replica", "replicas"), num(h)))
	}

	// CloudWatch alarms and dashboard.
	if n, how := t.alarms(cfg); n > 0 {
		b.add("cloudwatch_alarms", "CloudWatch alarms", float64(n), "alarms", "cw_alarm", fmt.Sprintf("%d alarms: %s", n, how))
	}
	if cfg.Dashboard.Enabled {
		b.add("cloudwatch_dashboard", "CloudWatch dashboard", 0, "billable dashboards", "cw_dashboard",
			"1 dashboard; the first 3 dashboards of an account are free: assumed this is the account's only one (otherwise 1 × the unit price)")
	}

	// Container Insights: its metrics bill as custom metrics, its performance
	// log events as log ingestion.
	if cfg.ECS.ContainerInsights {
		metrics := ciMetricsPerCluster + ciMetricsPerService*t.services + ciMetricsPerTaskFamily*t.taskFamilies
		b.add("container_insights_metrics", "Container Insights metrics", float64(metrics), "metrics", "cw_metric",
			fmt.Sprintf("%d per cluster + %d per service × %d + %d per task definition family × %d (approximate count)",
				ciMetricsPerCluster, ciMetricsPerService, t.services, ciMetricsPerTaskFamily, t.taskFamilies))
		runningTasks := t.tasks
		if t.selfHostedRedis {
			runningTasks++
		}
		events := perfEventsPerTaskMinute*runningTasks + t.services + 1
		gb := float64(events) * 60 * h * perfEventBytes / 1e9
		b.add("container_insights_logs", "Container Insights performance logs", gb, "GB ingested", "logs_ingest",
			fmt.Sprintf("(%d per task × %d %s + %d per service + 1 per cluster) = %d events/min × 1 KB × 60 × %s h",
				perfEventsPerTaskMinute, runningTasks, plural(runningTasks, "task", "tasks"), t.services, events, num(h)))
	}

	// CloudWatch Logs of the app.
	b.add("logs_ingestion", "CloudWatch Logs ingestion", a.LogGBPerMonth, "GB", "logs_ingest",
		fmt.Sprintf("%s GB of app logs per month (cost.assumptions.log_gb_per_month)", num(a.LogGBPerMonth)))
	stored, storedHow := logsStored(a.LogGBPerMonth, cfg.Logs.RetentionDays, h)
	b.add("logs_storage", "CloudWatch Logs storage", stored, "GB-months", "logs_storage", storedHow)

	// S3: boards, their backups and leases, and the logs. The backup sidecar
	// (internal/sidecar/backup.sh) finds changed files from local state, so it
	// makes no LIST requests: its requests are board PUTs and lease heartbeats.
	b.add("s3_boards", "S3 board storage", a.BoardStorageGB, "GB-months", "s3_standard",
		fmt.Sprintf("%s GB of boards, all versions (cost.assumptions.board_storage_gb)", num(a.BoardStorageGB)))
	syncPuts := a.RequestsPerSecond * boardSyncPutsPerRequest * 3600 * h
	perBoard := 3600 / float64(max(cfg.Storage.SyncInterval, 1)) * h
	b.add("s3_requests_board_backup", "S3 requests: board backup PUT", syncPuts/1000, "thousand requests", "s3_requests_tier1",
		fmt.Sprintf("%s req/s × %s board uploads per request (an estimate) × 3600 × %s h = %s PUT requests; for scale, one board edited around the clock makes %s (one upload per storage.sync_interval, %d s)",
			num(a.RequestsPerSecond), num(boardSyncPutsPerRequest), num(h), num(syncPuts), num(perBoard), cfg.Storage.SyncInterval))
	beats := float64(t.leases) * 3600 / leaseHeartbeatSeconds * h
	if t.leases > 0 {
		b.add("s3_requests_lease", "S3 requests: shard lease heartbeat PUT", beats/1000, "thousand requests", "s3_requests_tier1",
			fmt.Sprintf("%d %s × 1 PUT every %d s (lease TTL 150 s ÷ 3) × 3600 × %s h = %s PUT requests",
				t.leases, plural(t.leases, "shard", "shards"), leaseHeartbeatSeconds, num(h), num(beats)))
	}
	if cfg.LoadBalancer.AccessLogs {
		requests := a.RequestsPerSecond * 3600 * h
		monthGB := requests * accessLogBytesPerRequest / 1e9
		keptGB, keptHow := logsStoredShare(monthGB, cfg.Logs.RetentionDays, h)
		b.add("s3_access_logs", "S3 access-log storage", keptGB, "GB-months", "s3_standard",
			fmt.Sprintf("%s req/s × 3600 × %s h × ~100 B gzipped = %s GB/month; %s", num(a.RequestsPerSecond), num(h), num4(monthGB), keptHow))
		puts := float64(t.albNodes) * accessLogPutsPerNodeHour * h
		b.add("s3_requests_access_logs", "S3 requests: access-log PUT", puts/1000, "thousand requests", "s3_requests_tier1",
			fmt.Sprintf("%d load balancer nodes × 12 files/h × %s h = %s PUT requests", t.albNodes, num(h), num(puts)))

		// The VPC flow log of rejected traffic, delivered to the log bucket:
		// CloudWatch vended-log delivery per GB, then S3 storage until expiry.
		b.add("vpc_flow_logs_delivery", "VPC flow log (REJECT) delivery to S3", flowLogRejectGBPerMonth, "GB", "logs_vended_s3",
			fmt.Sprintf("%s GB/month of REJECT records (an estimate for a small internet-facing stack) delivered as CloudWatch vended logs", num(flowLogRejectGBPerMonth)))
		flowKept, flowHow := logsStoredShare(flowLogRejectGBPerMonth, cfg.Logs.RetentionDays, h)
		b.add("vpc_flow_logs_storage", "VPC flow log storage", flowKept, "GB-months", "s3_standard",
			fmt.Sprintf("%s GB/month (before gzip, an upper bound); %s", num(flowLogRejectGBPerMonth), flowHow))

		// Server access logs of the board bucket: one record per request,
		// the backup and lease PUTs above.
		records := syncPuts + beats
		recGB := records * s3AccessLogBytesPerRecord / 1e9
		recKept, recHow := logsStoredShare(recGB, cfg.Logs.RetentionDays, h)
		counted := num(syncPuts) + " backup PUTs"
		if beats > 0 {
			counted = fmt.Sprintf("(%s backup + %s lease PUTs) = %s requests", num(syncPuts), num(beats), num(records))
		}
		b.add("s3_server_access_logs", "S3 server access-log storage (board bucket)", recKept, "GB-months", "s3_standard",
			fmt.Sprintf("%s × ~500 B = %s GB/month (delivery is free); %s", counted, num4(recGB), recHow))
	}

	// Data transfer out to the internet.
	billable := a.GBTransferred - dtoFreeGB
	if billable < 0 {
		billable = 0
	}
	b.add("data_transfer_out", "Data transfer out to the internet", billable, "GB", "data_transfer_out",
		fmt.Sprintf("%s GB/month (cost.assumptions.gb_transferred) − the first 100 GB free each month, account-wide: assumed no other workload of the account uses them (without them: %s GB billable)",
			num(a.GBTransferred), num(a.GBTransferred)))
}

// selfHostedRedis adds the Redis task of the --compare variant that replaces
// ElastiCache with a Redis container on Fargate.
func (b *builder) selfHostedRedis(cfg *config.Config, t topology) {
	if !t.selfHostedRedis || b.err != nil {
		return
	}
	h := b.hours
	vcpu, gb := float64(redisTaskCPU)/1024, float64(redisTaskMemoryMiB)/1024
	arch, vcpuKey, gbKey := "x86_64", "fargate_vcpu_x86", "fargate_gb_x86"
	if t.arm {
		arch, vcpuKey, gbKey = "arm64", "fargate_vcpu_arm", "fargate_gb_arm"
	}
	b.add("redis_task_vcpu", "Redis task vCPU ("+arch+")", vcpu*h, "vCPU-hours", vcpuKey,
		fmt.Sprintf("1 task × %s vCPU × %s h", num(vcpu), num(h)))
	b.add("redis_task_memory", "Redis task memory ("+arch+")", gb*h, "GB-hours", gbKey,
		fmt.Sprintf("1 task × %s GB × %s h", num(gb), num(h)))
	ep, err := b.table.Price(b.region, "vpc_endpoint_hour")
	endpoints := "interface endpoints: no price for this region"
	if err == nil {
		cost := float64(imagePullEndpoints*t.albNodes) * h * ep.Value
		endpoints = fmt.Sprintf("the alternative, interface endpoints ecr.api, ecr.dkr and logs in %d AZs: %d × %d × $%s × %s h = $%.2f/month, and an ECR pull-through cache for a Docker Hub image",
			t.albNodes, imagePullEndpoints, t.albNodes, num(ep.Value), num(h), round2(cost))
	}
	b.add("redis_task_ipv4", "Redis task public IPv4", h, "address-hours", "public_ipv4",
		fmt.Sprintf("1 address × %s h: the task needs a public IP to pull its image (no NAT gateway); %s", num(h), endpoints))
}

// logsStored is the steady-state log volume kept by the retention policy.
func logsStored(gbPerMonth float64, retentionDays int, hours float64) (float64, string) {
	if retentionDays == 0 {
		return gbPerMonth * 12, fmt.Sprintf("%s GB/month kept forever (logs.retention_days 0): after 12 months %s GB", num(gbPerMonth), num(gbPerMonth*12))
	}
	months := float64(retentionDays) * 24 / hours
	return gbPerMonth * months, fmt.Sprintf("%s GB/month × %d days retention × 24 h ÷ %s h = %s GB kept (uncompressed, an upper bound)",
		num(gbPerMonth), retentionDays, num(hours), num4(gbPerMonth*months))
}

// logsStoredShare is logsStored for the access-log bucket's expiry lifecycle.
func logsStoredShare(gbPerMonth float64, retentionDays int, hours float64) (float64, string) {
	if retentionDays == 0 {
		return gbPerMonth * 12, "no expiry (logs.retention_days 0): after 12 months " + num4(gbPerMonth*12) + " GB"
	}
	months := float64(retentionDays) * 24 / hours
	return gbPerMonth * months, fmt.Sprintf("kept %d days (logs.retention_days): × %d × 24 ÷ %s = %s GB", retentionDays, retentionDays, num(hours), num4(gbPerMonth*months))
}

// nodeTypes lists the node types the table prices for an engine in the region.
func (b *builder) nodeTypes(engine string) []string {
	prefix := "elasticache_" + engine + "_"
	var out []string
	for key := range b.table.Regions[b.region].Prices {
		if len(key) > len(prefix) && key[:len(prefix)] == prefix {
			out = append(out, key[len(prefix):])
		}
	}
	sortStrings(out)
	return out
}

// addAutoscalingRange prices the ends of the autoscaling range (shared mode)
// and shows each task-dependent line's range in its detail.
func addAutoscalingRange(e *Estimate, cfg *config.Config, table *PriceTable) error {
	lo, hi := cfg.Autoscaling.MinCapacity, cfg.Autoscaling.MaxCapacity
	atLo, err := computeTasks(cfg, table, lo)
	if err != nil {
		return err
	}
	atHi, err := computeTasks(cfg, table, hi)
	if err != nil {
		return err
	}
	e.Autoscaling = &TaskRange{MinTasks: lo, MaxTasks: hi, MinTotal: totalOrZero(atLo), MaxTotal: atHi.Total}
	for i := range e.Lines {
		l := &e.Lines[i]
		a, z := lineMonthly(atLo, l.Key), lineMonthly(atHi, l.Key)
		if a != z {
			l.Detail += fmt.Sprintf("; autoscaling range %d–%d tasks: $%.2f–$%.2f", lo, hi, a, z)
		}
	}
	return nil
}

// computeTasks prices the configuration with n WBO tasks (n may be 0).
func computeTasks(cfg *config.Config, table *PriceTable, n int) (*Estimate, error) {
	if n > 0 {
		return compute(cfg, table, options{tasks: n})
	}
	c := *cfg
	c.App.DesiredCount = 0
	return compute(&c, table, options{})
}

func totalOrZero(e *Estimate) float64 {
	if e == nil {
		return 0
	}
	return e.Total
}

func lineMonthly(e *Estimate, key string) float64 {
	for _, l := range e.Lines {
		if l.Key == key {
			return l.Monthly
		}
	}
	return 0
}

// round2 rounds a non-negative amount to the cent, half up. The tiny bias
// keeps products such as 730 × 0.0225 = 16.425 from rounding down because
// the float lands just below the half cent.
func round2(x float64) float64 {
	return math.Round(x*100+1e-7) / 100
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
