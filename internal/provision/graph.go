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
	// With access logs on, the board bucket logs its requests to the log
	// bucket (s3logging.go, FSBP S3.9) and the VPC's flow log goes there
	// too (flowlog.go, FSBP EC2.6).
	if cfg.LoadBalancer.AccessLogs {
		add("bucket-logs", "s3.bucket").Role = "alb-logs"
		add("bucket-boards", "s3.bucket", "bucket-logs").Role = "boards"
		add("flow-log", "ec2.flow-log", "vpc", "bucket-logs")
	} else {
		add("bucket-boards", "s3.bucket").Role = "boards"
	}
	// app.secrets (secret.go, secretref.go): the execution role may read
	// exactly these, and the task definitions reference them.
	secretNodes := addSecretNodes(g, cfg)
	add("role-execution", "iam.role", secretNodes...).Role = "execution"
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
	// Your own domain (dnszone.go, certificate.go, dnsrecord.go): the
	// certificate is requested, validated through a record in the domain's
	// Route 53 zone and issued before the HTTPS listener uses it; the
	// domain points at the load balancer only once HTTPS serves. The domain
	// is part of the node names: a new one is made beside the old, which is
	// deleted after the listener has switched.
	httpsDeps := append([]string{"alb"}, targetGroups...)
	if d := cfg.DomainName(); d != "" {
		add(dnsZoneNode, "route53.zone")
		add(CertificateNode(d), "acm.certificate").Role = d
		add(DNSValidationNode(d), "route53.record", dnsZoneNode, CertificateNode(d)).Role = "validation"
		// The load balancer: with DNS elsewhere, the records to create
		// include the CNAME to its name.
		add(CertificateIssuedNode(d), "acm.certificate-validation", CertificateNode(d), DNSValidationNode(d), dnsZoneNode, "alb").Role = d
		httpsDeps = append(httpsDeps, CertificateIssuedNode(d))
		add(DNSAliasNode(d), "route53.record", dnsZoneNode, "alb", "listener-https").Role = "alias"
	}
	if cfg.HTTPS() {
		add("listener-https", "elbv2.listener", httpsDeps...).Role = "https"
	}
	// Board-affinity sharding (routing.go, reshard.go): the re-shard gate,
	// which stops the shards whose boards move before anything else changes,
	// and the rules that send each board's requests to its shard, on the
	// listener that forwards to the app. Every shard service waits for the
	// gate; they are declared below, so that dependency is added when Build
	// returns.
	addShardingNodes(g, cfg, targetGroups)
	defer gateShardServices(g)

	// ---- Compute tier and shards --------------------------------------------
	// The cluster (ecs_cluster.go); per service, one per shard ("shard-<i>")
	// or the one shared-mode service ("app"), a task definition family
	// (taskdef.go) and a Fargate service (service.go); in shared mode the
	// autoscaling target and policies (autoscaling.go) and, with
	// autoscaling.policy step, the alarms that drive them
	// (autoscaling_alarm.go).
	add("cluster", "ecs.cluster")
	for i := range cfg.ServiceNames() {
		suffix, role := fmt.Sprintf("shard-%d", i), "shard"
		if cfg.App.Mode == config.ModeShared {
			suffix, role = "app", "app"
		}
		taskDeps := append([]string{"role-execution", "role-task", "log-group", "bucket-boards"}, secretNodes...)
		if cfg.RedisURLPassed() {
			// Only an image that reads REDIS_URL waits for the endpoint
			// (redis.pass_url): the stock image never does, and the
			// group takes 5–15 minutes to create.
			taskDeps = append(taskDeps, "redis")
		}
		td := add("taskdef-"+suffix, "ecs.task-definition", taskDeps...)
		td.Index, td.Role = i, role
		// ECS refuses a target group no listener forwards to yet: with a
		// certificate only the HTTPS listener forwards (HTTP redirects).
		svcDeps := append([]string{"cluster", td.Name, "tg-" + suffix, "listener-http", "sg-tasks"}, public...)
		if cfg.HTTPS() {
			svcDeps = append(svcDeps, "listener-https")
		}
		// A listener's default action forwards to at most 5 target groups
		// (listener.go): beyond that, a shard's group is attached only by its
		// board rules. Up to 5 the services do not wait for the rules, so a
		// load balancer that refuses them still gets a running stack.
		for _, rules := range []string{"rules-http", "rules-https"} {
			if _, ok := g.Node(rules); ok && i >= maxForwardTargetGroups {
				svcDeps = append(svcDeps, rules)
			}
		}
		// The roles, log group, bucket (and Redis) reach the service
		// through its task definition: no direct edge (graph_test lists
		// every edge with the ID or ordering it carries).
		svc := add("service-"+suffix, "ecs.service", svcDeps...)
		svc.Index, svc.Role = i, role
	}
	if cfg.App.Mode == config.ModeShared {
		add("scaling-app", "appautoscaling.target", "cluster", "service-app", "alb", "tg-app").Role = "app"
		if cfg.Autoscaling.Policy == "step" {
			for _, r := range ScalingAlarmRoles {
				add("scaling-alarm-"+r, "appautoscaling.alarm", "cluster", "scaling-app", "service-app", "tg-app").Role = r
			}
		}
	}

	// ---- Observability -----------------------------------------------------
	// Log group, alarm topic, alarms and dashboard (alarms.go): declared last,
	// so alarms and widgets cover exactly the resources declared above.
	observabilityNodes(g, cfg)

	// The whiteboard serves once the load balancer, its listeners, the
	// board rules and every service (each healthy in its target group) are
	// done; up says so then, even if other resources (Redis, alarms) are
	// still in progress.
	var serving []string
	for _, n := range g.nodes {
		switch n.Kind {
		case "elbv2.load-balancer", "elbv2.listener", "elbv2.routing-rules", "ecs.service":
			serving = append(serving, n.Name)
		case "route53.record":
			if n.Role == "alias" {
				serving = append(serving, n.Name)
			}
		}
	}
	g.AddMilestone(Milestone{Name: MilestoneServing, Nodes: serving, Message: servingMessage})

	return g
}

// MilestoneServing is the milestone reached when the whiteboard URL serves.
const MilestoneServing = "whiteboard"

func servingMessage(env *Env) string {
	if r, err := env.Ref("alb"); err == nil && r.Attrs["dns_name"] != "" {
		return "serving at " + lbURL(env, r.Attrs["dns_name"])
	}
	return "serving"
}
