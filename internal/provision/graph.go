package provision

import (
	"fmt"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// Build declares every resource of the stack and what it depends on: the
// whole dependency graph in one place. Each tier below adds its nodes; the
// provisioners (one file per kind) know how to make them.
func Build(cfg *config.Config) *Graph {
	g := NewGraph()
	add := func(name, kind string, deps ...string) *Node {
		n := &Node{Name: name, Kind: kind, Deps: deps}
		g.Add(n)
		return n
	}

	// ---- Network tier ----------------------------------------------------
	add("vpc", "ec2.vpc")
	add("igw", "ec2.internet-gateway", "vpc")
	var public, private []string
	for i := range cfg.Network.PublicSubnets {
		n := add(fmt.Sprintf("subnet-public-%d", i), "ec2.subnet", "vpc")
		n.Index, n.Role = i, "public"
		public = append(public, n.Name)
	}
	for i := range cfg.Network.PrivateSubnets {
		n := add(fmt.Sprintf("subnet-private-%d", i), "ec2.subnet", "vpc")
		n.Index, n.Role = i, "private"
		private = append(private, n.Name)
	}
	add("rt-public", "ec2.route-table", append([]string{"vpc", "igw"}, public...)...).Role = "public"
	add("rt-private", "ec2.route-table", append([]string{"vpc"}, private...)...).Role = "private"
	add("sg-alb", "ec2.security-group", "vpc").Role = "alb"
	add("sg-tasks", "ec2.security-group", "vpc", "sg-alb").Role = "tasks"
	add("sg-redis", "ec2.security-group", "vpc", "sg-tasks").Role = "redis"

	// ---- Data and identity tier (issue: S3, IAM, logs, ElastiCache) --------
	// S3 and IAM (s3bucket.go, iamrole.go).
	add("bucket-boards", "s3.bucket").Role = "boards"
	if cfg.LoadBalancer.AccessLogs {
		add("bucket-logs", "s3.bucket").Role = "alb-logs"
	}
	add("role-execution", "iam.role").Role = "execution"
	add("role-task", "iam.role", "bucket-boards").Role = "task"
	// REDIS-NODES
	if cfg.RedisEnabled() {
		// ElastiCache (elasticache.go); redis.mode none provisions nothing
		// (RedisNote says why that is fine for the stock WBO image).
		add("redis-subnets", "elasticache.subnet-group", private...)
		add("redis", "elasticache.replication-group", "redis-subnets", "sg-redis")
	}

	// ---- Load balancer tier ------------------------------------------------
	// Target groups (targetgroup.go): one per ECS service, "tg-shard-<i>" in
	// sharded and single mode, "tg-app" in shared mode. The load balancer
	// (alb.go) needs the internet gateway attached (an internet-facing ALB in a
	// VPC without one fails with InvalidSubnet). Listeners (listener.go)
	// forward to every target group; HTTP redirects when HTTPS is configured.
	var targetGroups []string
	for i := range cfg.Names().TargetGroups {
		name := fmt.Sprintf("tg-shard-%d", i)
		if cfg.App.Mode == config.ModeShared {
			name = "tg-app"
		}
		n := add(name, "elbv2.target-group", "vpc")
		n.Index, n.Role = i, "app"
		targetGroups = append(targetGroups, name)
	}
	albDeps := append([]string{"igw", "sg-alb"}, public...)
	if cfg.LoadBalancer.AccessLogs {
		albDeps = append(albDeps, "bucket-logs")
	}
	add("alb", "elbv2.load-balancer", albDeps...).Role = "alb"
	add("listener-http", "elbv2.listener", append([]string{"alb"}, targetGroups...)...).Role = "http"
	if cfg.HTTPS() {
		add("listener-https", "elbv2.listener", append([]string{"alb"}, targetGroups...)...).Role = "https"
	}
	// ROUTING-RULES-NODES

	// ---- Compute tier and shards --------------------------------------------
	// COMPUTE-TIER-NODES

	// ---- Observability -----------------------------------------------------
	// Log group, alarm topic, alarms and dashboard (alarms.go): declared last,
	// so alarms and widgets cover exactly the resources declared above.
	observabilityNodes(g, cfg)

	return g
}
