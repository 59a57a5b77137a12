package cost

import (
	"fmt"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/shard"
)

// Figures of the model that are not prices. Each is stated in the estimate's
// assumptions or in the detail of the line that uses it.
const (
	// Fargate includes 20 GB of ephemeral storage per task.
	freeEphemeralGB = 20

	// One ALB capacity unit (LCU) is the largest of these per hour
	// (https://aws.amazon.com/elasticloadbalancing/pricing/): 25 new
	// connections per second, 3,000 active connections per minute, 1 GB
	// processed per hour for EC2/IP targets, 1,000 rule evaluations per second
	// with the first 10 rules of each request free.
	lcuNewConnsPerSec   = 25.0
	lcuActiveConns      = 3000.0
	lcuGBPerHour        = 1.0
	lcuRuleEvalsPerSec  = 1000.0
	freeRulesPerRequest = 10

	// ALB access logs: about 100 bytes per request once gzipped, and one log
	// file per load balancer node every 5 minutes (12 PUTs per node-hour).
	accessLogBytesPerRequest = 100.0
	accessLogPutsPerNodeHour = 12.0

	// VPC flow log of REJECTED traffic, delivered to the access-log bucket
	// (internal/provision/flowlog.go). Its volume is an estimate, not a
	// measurement: an internet-facing stack whose security groups admit only
	// the load balancer's ports sees a steady trickle of scans of other ports,
	// taken as 0.05 GB of records a month (about 400,000 records of ~125 B).
	// No cost.assumptions key fits, so it is a constant of the model.
	flowLogRejectGBPerMonth = 0.05

	// S3 server access logs of the board bucket (internal/provision/s3logging.go):
	// one record per request to the bucket, about 500 bytes uncompressed (the
	// example records of the S3 User Guide, "Amazon S3 server access log
	// format", are 400–500 characters). S3 charges nothing for delivering
	// them, only the storage of the log files (S3 User Guide, "Logging
	// requests with server access logging").
	s3AccessLogBytesPerRecord = 500.0

	// Board backups: the sidecars' S3 requests come from board edits, not from
	// every user request. Assumed: one board upload (PUT) per 10 HTTP requests
	// of cost.assumptions.requests_per_second, an estimate: the sidecar
	// uploads a changed board at most once per storage.sync_interval and never
	// lists the bucket (internal/sidecar/backup.sh), so the real count depends
	// on how many boards are edited at once.
	boardSyncPutsPerRequest = 0.1

	// Lease heartbeats: in sharded and single mode each shard's backup sidecar
	// writes its lease object (one PUT) every WBO_LEASE_TTL/3 seconds
	// (internal/sidecar/backup.sh); the task definition sets the TTL to 150 s
	// (internal/provision/taskdef_spec.go leaseTTL, sidecar.DefaultLeaseTTL),
	// so a heartbeat every 50 s. Shared mode has no lease.
	leaseHeartbeatSeconds = 50

	// Container Insights performance log events: one per task and one per
	// running container (wbo, backup) per minute, plus one per service and one
	// per cluster, about 1 KB each (Container Insights performance log
	// reference for Amazon ECS).
	perfEventsPerTaskMinute = 3
	perfEventBytes          = 1000.0

	// Container Insights metrics for ECS on Fargate, counted from the metric
	// table of the CloudWatch User Guide ("Amazon ECS Container Insights
	// metrics"): 10 metrics (CPU, memory, network, storage and ephemeral
	// storage, used and reserved) at cluster, service and task-definition
	// family level, plus 3 cluster-only and 5 service-only counts.
	ciMetricsPerCluster    = 13
	ciMetricsPerService    = 15
	ciMetricsPerTaskFamily = 10

	// Alarms the stack creates (issue 6 and the compute tier): CPU and memory
	// per ECS service; unhealthy hosts, p95 latency and 5xx per target group;
	// engine CPU and memory for Redis. In shared mode target tracking creates
	// two alarms per policy (three policies), and the step policy creates a
	// high and a low alarm for each of the same three metrics.
	alarmsPerService     = 2
	alarmsPerTargetGroup = 3
	alarmsRedis          = 2
	alarmsScaling        = 6

	// First 100 GB of data transfer out to the internet per month are free,
	// aggregated over the account.
	dtoFreeGB = 100.0

	// The self-hosted Redis task of --compare: the smallest Fargate task, and
	// the interface endpoints it would need to pull its image and ship logs
	// without a public IP (ecr.api, ecr.dkr, logs; S3 via a free gateway endpoint).
	redisTaskCPU          = 256
	redisTaskMemoryMiB    = 512
	imagePullEndpoints    = 3
	defaultLoadBalancerAZ = 2
)

// topology is what the configuration deploys, counted for pricing.
type topology struct {
	mode            string
	tasks           int // normally running WBO tasks
	leases          int // shard leases with a heartbeat (sharded and single mode)
	minTasks        int // shared mode: autoscaling range
	maxTasks        int
	services        int // ECS services, including a self-hosted Redis task's
	targetGroups    int
	taskFamilies    int
	albNodes        int
	redisNodes      int     // ElastiCache nodes
	listenerRules   int     // rules a request may be evaluated against: the shard rules + the default rule
	shardRules      int     // board-affinity rules of shard.Rules on the serving listener
	ruleListener    string  // the listener that carries them: "HTTP", or "HTTPS" (HTTP then only redirects)
	vcpu            float64 // per task
	memGB           float64 // per task
	arm             bool
	selfHostedRedis bool
}

// options change what compute prices, for --compare.
type options struct {
	tasks           int // >0: price this many WBO tasks instead of the normal count
	selfHostedRedis bool
}

func topologyOf(cfg *config.Config, opt options) (topology, error) {
	t := topology{mode: cfg.App.Mode, selfHostedRedis: opt.selfHostedRedis}
	if cfg.App.CPU <= 0 {
		return t, fmt.Errorf("app.cpu must be positive CPU units (1024 = 1 vCPU), got %d", cfg.App.CPU)
	}
	if cfg.App.Memory <= 0 {
		return t, fmt.Errorf("app.memory must be positive MiB, got %d", cfg.App.Memory)
	}
	t.vcpu = float64(cfg.App.CPU) / 1024
	t.memGB = float64(cfg.App.Memory) / 1024
	switch cfg.App.Architecture {
	case "x86_64":
	case "arm64":
		t.arm = true
	default:
		return t, fmt.Errorf("app.architecture must be x86_64 or arm64, got %q", cfg.App.Architecture)
	}
	switch cfg.App.Mode {
	case config.ModeSharded:
		if cfg.App.Shards < 1 {
			return t, fmt.Errorf("app.shards must be at least 1 in sharded mode, got %d", cfg.App.Shards)
		}
		t.tasks, t.services, t.targetGroups = cfg.App.Shards, cfg.App.Shards, cfg.App.Shards
		// The rules routing provisions (internal/provision/routing.go), counted
		// from the same generator.
		rules, err := shard.Rules(cfg.App.Shards)
		if err != nil {
			return t, fmt.Errorf("app.shards: %w", err)
		}
		t.shardRules = len(rules)
	case config.ModeSingle:
		t.tasks, t.services, t.targetGroups = 1, 1, 1
	case config.ModeShared:
		if cfg.App.DesiredCount < 0 {
			return t, fmt.Errorf("app.desired_count must not be negative, got %d", cfg.App.DesiredCount)
		}
		a := cfg.Autoscaling
		if a.MinCapacity < 0 || a.MaxCapacity < a.MinCapacity {
			return t, fmt.Errorf("autoscaling.min_capacity (%d) and autoscaling.max_capacity (%d) must satisfy 0 <= min <= max",
				a.MinCapacity, a.MaxCapacity)
		}
		if a.Policy != "target-tracking" && a.Policy != "step" {
			return t, fmt.Errorf("autoscaling.policy must be target-tracking or step, got %q", a.Policy)
		}
		t.tasks, t.services, t.targetGroups = cfg.App.DesiredCount, 1, 1
		t.minTasks, t.maxTasks = a.MinCapacity, a.MaxCapacity
	default:
		return t, fmt.Errorf("app.mode must be sharded, single or shared, got %q", cfg.App.Mode)
	}
	// Every request is evaluated against the serving listener's rules in
	// priority order and, when none matches, its default rule: at most
	// shardRules + 1. With a certificate the rules sit on the HTTPS listener
	// and the HTTP listener has only its default redirect (one rule).
	t.listenerRules = t.shardRules + 1
	t.ruleListener = "HTTP"
	if cfg.HTTPS() {
		t.ruleListener = "HTTPS"
	}
	if opt.tasks > 0 {
		t.tasks = opt.tasks
	}
	if t.mode != config.ModeShared {
		t.leases = t.tasks // one task per shard, each holding its shard's lease
	}
	t.taskFamilies = t.services
	if opt.selfHostedRedis {
		t.services++
		t.taskFamilies++
	}
	if cfg.App.EphemeralStorageGB < 0 {
		return t, fmt.Errorf("app.ephemeral_storage_gb must not be negative, got %d", cfg.App.EphemeralStorageGB)
	}

	t.albNodes = len(cfg.Network.PublicSubnets)
	if t.albNodes < defaultLoadBalancerAZ {
		t.albNodes = defaultLoadBalancerAZ
	}

	switch cfg.Redis.Mode {
	case "elasticache":
		if cfg.Redis.Replicas < 0 {
			return t, fmt.Errorf("redis.replicas must not be negative, got %d", cfg.Redis.Replicas)
		}
		if cfg.Redis.Engine != "redis" && cfg.Redis.Engine != "valkey" {
			return t, fmt.Errorf("redis.engine must be redis or valkey, got %q", cfg.Redis.Engine)
		}
		if cfg.Redis.NodeType == "" {
			return t, fmt.Errorf("redis.node_type is empty")
		}
		t.redisNodes = 1 + cfg.Redis.Replicas
	case "none":
	default:
		return t, fmt.Errorf("redis.mode must be elasticache or none, got %q", cfg.Redis.Mode)
	}

	if cfg.Logs.RetentionDays < 0 {
		return t, fmt.Errorf("logs.retention_days must not be negative, got %d", cfg.Logs.RetentionDays)
	}
	a := cfg.Cost.Assumptions
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"cost.assumptions.active_users", float64(a.ActiveUsers)},
		{"cost.assumptions.gb_transferred", a.GBTransferred},
		{"cost.assumptions.requests_per_second", a.RequestsPerSecond},
		{"cost.assumptions.log_gb_per_month", a.LogGBPerMonth},
		{"cost.assumptions.board_storage_gb", a.BoardStorageGB},
	} {
		if f.v < 0 || f.v != f.v { // negative or NaN
			return t, fmt.Errorf("%s must be a non-negative number, got %v", f.name, f.v)
		}
	}
	return t, nil
}

// alarms counts the CloudWatch alarms the stack creates, with the arithmetic.
func (t topology) alarms(cfg *config.Config) (int, string) {
	n, parts := 0, []string{}
	if cfg.Alarms.Enabled {
		n += alarmsPerService*t.services + alarmsPerTargetGroup*t.targetGroups
		parts = append(parts, fmt.Sprintf("%d per ECS service × %d + %d per target group × %d",
			alarmsPerService, t.services, alarmsPerTargetGroup, t.targetGroups))
		if t.redisNodes > 0 {
			n += alarmsRedis
			parts = append(parts, fmt.Sprintf("%d for Redis", alarmsRedis))
		}
	}
	if t.mode == config.ModeShared {
		n += alarmsScaling
		if cfg.Autoscaling.Policy == "step" {
			parts = append(parts, fmt.Sprintf("%d of the step scaling policy (high and low for CPU, memory, requests)", alarmsScaling))
		} else {
			parts = append(parts, fmt.Sprintf("%d created by target tracking (2 per policy × 3 policies)", alarmsScaling))
		}
	}
	return n, joinPlus(parts)
}

func joinPlus(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += " + "
		}
		out += p
	}
	return out
}
