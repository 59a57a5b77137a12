package cost

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// assumptions lists the stated inputs of an estimate.
func assumptions(cfg *config.Config, t topology, hours float64) []Assumption {
	a := cfg.Cost.Assumptions
	out := []Assumption{
		{"pricing", "on-demand list prices in USD, excluding tax; no Savings Plans, reserved nodes or Spot; no free tier", "model"},
		{"hours_per_month", num(hours) + " hours (every resource runs all month)", "price table"},
		{"active_users", fmt.Sprintf("%d concurrent users, each holding one WebSocket connection to the load balancer", a.ActiveUsers), "cost.assumptions.active_users"},
		{"requests_per_second", fmt.Sprintf("%s HTTP requests/s on average, each counted as a new connection (an upper bound)", num(a.RequestsPerSecond)), "cost.assumptions.requests_per_second"},
		{"gb_transferred", fmt.Sprintf("%s GB/month out to the internet, also taken as the bytes the load balancer processes", num(a.GBTransferred)), "cost.assumptions.gb_transferred"},
		{"log_gb_per_month", fmt.Sprintf("%s GB/month of app logs", num(a.LogGBPerMonth)), "cost.assumptions.log_gb_per_month"},
		{"board_storage_gb", fmt.Sprintf("%s GB of boards in S3, all versions", num(a.BoardStorageGB)), "cost.assumptions.board_storage_gb"},
		{"load_balancer_nodes", fmt.Sprintf("%d load balancer nodes (one per public subnet), each with a public IPv4 address; AWS adds nodes under heavy load", t.albNodes), "network.public_subnets"},
	}
	if t.mode == config.ModeSharded {
		out = append(out, Assumption{"listener_rules", fmt.Sprintf("%d board-affinity listener rules on the %s listener for %d %s (internal/shard) + the default rule = %d, all evaluated for a request in the worst case",
			t.shardRules, t.ruleListener, cfg.App.Shards, plural(cfg.App.Shards, "shard", "shards"), t.listenerRules), "app.shards"})
	}
	out = append(out, Assumption{"board_backup_puts", fmt.Sprintf("%s board upload (S3 PUT) per HTTP request, an estimate: the backup sidecar uploads a changed board at most once per storage.sync_interval", num(boardSyncPutsPerRequest)), "model"})
	if t.leases > 0 {
		out = append(out, Assumption{"lease_heartbeat", fmt.Sprintf("one S3 PUT per shard every %d s (lease TTL 150 s ÷ 3) by the backup sidecar", leaseHeartbeatSeconds), "model"})
	}
	if cfg.LoadBalancer.AccessLogs {
		out = append(out,
			Assumption{"access_log_size", "about 100 bytes per request in the gzipped access logs", "model"},
			Assumption{"flow_log_volume", fmt.Sprintf("%s GB/month of REJECT flow log records, an estimate for a small internet-facing stack (port scans)", num(flowLogRejectGBPerMonth)), "model"},
			Assumption{"s3_access_log_size", "about 500 bytes per request in the board bucket's server access logs (uncompressed)", "model"})
	}
	if cfg.ECS.ContainerInsights {
		out = append(out, Assumption{"container_insights", "Container Insights (not enhanced observability): metrics billed as custom metrics, performance log events of about 1 KB kept 1 day", "model"})
	}
	return out
}

// notes are what the reader should know about this estimate.
func notes(cfg *config.Config, t topology, e *Estimate) []string {
	var out []string
	if t.redisNodes > 0 {
		out = append(out, fmt.Sprintf("WBO itself does not use Redis (docs/redis.md: no Redis or shared backend in its code): the replication group (%s/month) only serves an image that reads REDIS_URL; redis.mode: none removes it.",
			money(lineMonthly(e, "elasticache_nodes"))))
	}
	out = append(out,
		"There is no NAT gateway: tasks run in public subnets with public IPv4 addresses, so each task's address is billed (the public IPv4 line).",
		"Not estimated: S3 reads when a task starts (restore, the lease checks), lease releases, inter-AZ traffic between tasks and Redis, CloudWatch API requests made by viewing the dashboard, and data transfer in (free).")
	if cfg.LoadBalancer.AccessLogs {
		out = append(out, "Not estimated either: the S3 PUT requests of the flow log's files (the log delivery writes at most one file per 5 minutes while there are records), if S3 bills them to the bucket owner.")
	}
	if t.redisNodes > 0 {
		out = append(out, fmt.Sprintf("ElastiCache snapshots (redis.snapshot_retention_days %d) are billed only beyond the backup storage ElastiCache includes for each cluster.", cfg.Redis.SnapshotRetentionDays))
	}
	if len(cfg.Alarms.SMS) > 0 {
		out = append(out, "Alarm notifications by SMS (alarms.sms) are billed per message at a price that depends on the destination country; they are not estimated. Email notifications are free up to 1,000 a month.")
	}
	if cfg.Storage.KMSKeyID != "" {
		out = append(out, "storage.kms_key_id: a customer managed KMS key bills about $1/month plus its requests, unless it is shared with other resources; not estimated.")
	}
	if cfg.DomainName() != "" {
		// "Public SSL/TLS certificates provisioned through AWS Certificate
		// Manager are free" (ACM pricing); "Route 53 doesn't charge for
		// alias queries to ... Elastic Load Balancing load balancers"
		// (Route 53 pricing, "Queries").
		out = append(out, "domain.name: the ACM certificate is free, and so are the alias queries to the load balancer; the Route 53 hosted zone is yours ($0.50/month per zone) and is not counted here.")
	}
	if cfg.ECS.ContainerInsights {
		out = append(out, "ecs.container_insights: turning it off removes the Container Insights lines; the dashboard's running-task widget needs it.")
	}
	return out
}

func freeTierNote() []string {
	return []string{
		"No free tier is assumed in this estimate: a new account may pay less for its first months, an old one pays these prices.",
		"Fargate has no free tier.",
		"Accounts created before 15 July 2025 may still have the 12-month free tier: 750 hours a month of one ElastiCache cache.t2/t3.micro node, 750 hours and 15 LCU of a load balancer, 5 GB of S3 Standard, and 750 hours of public IPv4 (documented for EC2 instances).",
		"Accounts created since 15 July 2025 get free-tier credits (up to $200) instead of the 12-month offers.",
		"Always free for every account: 10 CloudWatch alarms, 10 custom metrics, 3 dashboards, 5 GB of logs, and 100 GB a month of data transfer out; the estimate applies only the dashboards and the 100 GB, as their lines say.",
	}
}

// num formats a number without trailing zeros, grouping thousands.
func num(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	return group(s)
}

// num4 formats a number with at most four decimals.
func num4(x float64) string {
	s := strconv.FormatFloat(math.Round(x*1e4)/1e4, 'f', -1, 64)
	return group(s)
}

func group(s string) string {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	if len(intPart) > 4 {
		var b strings.Builder
		for i, c := range intPart {
			if i > 0 && (len(intPart)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		intPart = b.String()
	}
	if neg {
		intPart = "-" + intPart
	}
	if hasFrac {
		return intPart + "." + frac
	}
	return intPart
}

// unitPrice formats a unit price with at least two decimals ($0.10, $0.04048).
func unitPrice(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if _, frac, _ := strings.Cut(s, "."); len(frac) < 2 {
		s = strconv.FormatFloat(x, 'f', 2, 64)
	}
	return "$" + s
}

// money formats an amount in dollars and cents.
func money(x float64) string {
	if x < 0 {
		return "-$" + strconv.FormatFloat(-x, 'f', 2, 64)
	}
	return "$" + strconv.FormatFloat(x, 'f', 2, 64)
}

func sortStrings(s []string) { slices.Sort(s) }
