package provision

import (
	"sort"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// TestEveryEdgeHasAReason lists every kind of edge the graph declares, over
// configurations that together use every part of it, and requires a reason
// for each (edgeReasons): an edge nothing needs makes a resource, and so the
// whiteboard, wait for nothing.
func TestEveryEdgeHasAReason(t *testing.T) {
	used := map[string]bool{}
	for _, cfg := range edgeConfigs() {
		g := Build(cfg)
		if err := g.Check(); err != nil {
			t.Fatal(err)
		}
		for _, n := range g.Nodes() {
			for _, d := range n.Deps {
				dn, _ := g.Node(d)
				edge := n.Kind + " -> " + dn.Kind
				used[edge] = true
				if edgeReasons[edge] == "" {
					t.Errorf("%s depends on %s (%s) and no reason is listed: what ID or ordering does it need?", n.Name, d, edge)
				}
			}
		}
	}
	var stale []string
	for e := range edgeReasons {
		if !used[e] {
			stale = append(stale, e)
		}
	}
	sort.Strings(stale)
	for _, e := range stale {
		t.Errorf("edgeReasons lists %s, which no configuration declares", e)
	}
}

// edgeConfigs are configurations that together declare every kind of edge
// the graph has.
func edgeConfigs() []*config.Config {
	var out []*config.Config
	add := func(f func(c *config.Config)) {
		c := config.Default()
		c.Region = "us-east-1"
		f(&c)
		out = append(out, &c)
	}
	add(func(c *config.Config) {})
	add(func(c *config.Config) { c.Redis.PassURL = true })
	add(func(c *config.Config) { c.Redis.Mode = "none"; c.LoadBalancer.AccessLogs = false })
	add(func(c *config.Config) { c.App.Shards = 7 })
	add(func(c *config.Config) {
		c.LoadBalancer.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/x"
	})
	add(func(c *config.Config) { c.App.Mode = config.ModeSingle })
	add(func(c *config.Config) { c.Domain.Name = "board.example.com" })
	add(func(c *config.Config) {
		c.App.Mode, c.App.Image, c.App.SharesState = config.ModeShared, "example/wbo-shared:1", true
		c.Autoscaling.Policy = "step"
	})
	add(func(c *config.Config) {
		c.App.Mode, c.App.Image, c.App.SharesState = config.ModeShared, "example/wbo-shared:1", true
		c.Alarms.Email = []string{"ops@example.com"}
	})
	return out
}

// edgeReasons says, for every kind of edge the graph declares (dependent
// kind → dependency kind), what the dependent needs from the dependency:
// an ID or attribute it embeds in its calls, or an ordering AWS imposes.
// Nothing waits for what it does not use (issue 17): an edge not listed
// here fails TestEveryEdgeHasAReason, and so does a listed one no
// configuration declares any more.
var edgeReasons = map[string]string{
	"appautoscaling.alarm -> appautoscaling.target":             "the step policies are attached to the scalable target (PutScalingPolicy ResourceId)",
	"appautoscaling.alarm -> ecs.cluster":                       "the scalable target's resource ID service/<cluster>/<service>",
	"appautoscaling.alarm -> ecs.service":                       "the scalable target's resource ID service/<cluster>/<service>; alarm dimensions ServiceName",
	"appautoscaling.alarm -> elbv2.target-group":                "the request-count alarm's TargetGroup dimension (ARN suffix)",
	"appautoscaling.target -> ecs.cluster":                      "resource ID service/<cluster>/<service>",
	"appautoscaling.target -> ecs.service":                      "resource ID service/<cluster>/<service>; RegisterScalableTarget needs the service to exist",
	"appautoscaling.target -> elbv2.load-balancer":              "ALBRequestCountPerTarget's ResourceLabel app/<lb-name>/<lb-id>/targetgroup/...",
	"appautoscaling.target -> elbv2.target-group":               "ALBRequestCountPerTarget's ResourceLabel .../targetgroup/<tg-name>/<tg-id>",
	"cloudwatch.alarm -> ecs.service":                           "dimensions ClusterName/ServiceName of the CPU and memory alarms",
	"cloudwatch.alarm -> elasticache.replication-group":         "dimension CacheClusterId: the member clusters of the group",
	"cloudwatch.alarm -> elbv2.load-balancer":                   "dimension LoadBalancer (ARN suffix)",
	"cloudwatch.alarm -> elbv2.target-group":                    "dimension TargetGroup (ARN suffix)",
	"cloudwatch.alarm -> sns.topic":                             "AlarmActions: the topic ARN",
	"cloudwatch.dashboard -> cloudwatch.alarm":                  "alarm widgets name the alarms' ARNs",
	"cloudwatch.dashboard -> ecs.service":                       "metric widgets' ServiceName dimensions",
	"cloudwatch.dashboard -> elasticache.replication-group":     "metric widgets' CacheClusterId dimensions",
	"cloudwatch.dashboard -> elbv2.load-balancer":               "metric widgets' LoadBalancer dimension",
	"cloudwatch.dashboard -> elbv2.target-group":                "metric widgets' TargetGroup dimensions",
	"cloudwatch.dashboard -> logs.log-group":                    "the log widget's query names the log group",
	"ec2.flow-log -> ec2.vpc":                                   "CreateFlowLogs ResourceIds: the VPC ID",
	"ec2.flow-log -> s3.bucket":                                 "LogDestination: the log bucket's ARN (and its policy admitting log delivery)",
	"ec2.internet-gateway -> ec2.vpc":                           "AttachInternetGateway VpcId",
	"ec2.route-table -> ec2.internet-gateway":                   "the 0.0.0.0/0 route's GatewayId",
	"ec2.route-table -> ec2.subnet":                             "AssociateRouteTable SubnetId",
	"ec2.route-table -> ec2.vpc":                                "CreateRouteTable VpcId",
	"ec2.security-group -> ec2.security-group":                  "ingress rules reference the source group's ID (tasks from the ALB's, Redis from the tasks')",
	"ec2.security-group -> ec2.vpc":                             "CreateSecurityGroup VpcId",
	"ec2.subnet -> ec2.vpc":                                     "CreateSubnet VpcId",
	"ecs.service -> ec2.security-group":                         "awsvpc network configuration: the tasks' security group ID",
	"ecs.service -> ec2.subnet":                                 "awsvpc network configuration: the public subnet IDs",
	"ecs.service -> ecs.cluster":                                "CreateService cluster",
	"ecs.service -> ecs.reshard":                                "ordering: a re-shard stops the shards whose boards move before a service changes",
	"ecs.service -> ecs.task-definition":                        "CreateService taskDefinition ARN",
	"ecs.service -> elbv2.listener":                             "ordering: CreateService refuses a target group no listener forwards to (InvalidParameterException)",
	"ecs.service -> elbv2.routing-rules":                        "ordering beyond 5 shards: only the board rules attach the shard's target group to the load balancer",
	"ecs.service -> elbv2.target-group":                         "loadBalancers targetGroupArn",
	"ecs.task-definition -> elasticache.replication-group":      "REDIS_URL: the endpoint, only with redis.pass_url",
	"ecs.task-definition -> iam.role":                           "executionRoleArn and taskRoleArn",
	"ecs.task-definition -> logs.log-group":                     "the awslogs-group option",
	"ecs.task-definition -> s3.bucket":                          "the sidecars' bucket name (restore, backup)",
	"elasticache.replication-group -> ec2.security-group":       "SecurityGroupIds",
	"elasticache.replication-group -> elasticache.subnet-group": "CacheSubnetGroupName",
	"elasticache.subnet-group -> ec2.subnet":                    "SubnetIds: the private subnets",
	"elbv2.listener -> elbv2.load-balancer":                     "CreateListener LoadBalancerArn",
	"elbv2.listener -> acm.certificate-validation":              "the HTTPS listener's certificate ARN, once ISSUED: a listener refuses a certificate that is not",
	"acm.certificate-validation -> acm.certificate":             "the certificate ARN it waits on",
	"acm.certificate-validation -> route53.record":              "ACM validates only once the validation CNAME resolves: waiting before it is written only waits longer",
	"acm.certificate-validation -> route53.zone":                "whether the records are in Route 53 (wait) or at the user's DNS provider (look a few times, then name the records)",
	"acm.certificate-validation -> elbv2.load-balancer":         "with DNS elsewhere, the records to create include the CNAME to the load balancer's DNS name",
	"route53.record -> route53.zone":                            "the hosted zone ID of ChangeResourceRecordSets",
	"route53.record -> acm.certificate":                         "the validation CNAME's name and value, from DescribeCertificate",
	"route53.record -> elbv2.load-balancer":                     "the alias target: the load balancer's DNS name and canonical hosted zone ID",
	"route53.record -> elbv2.listener":                          "the name points at the load balancer only once HTTPS serves it (a new name would otherwise meet the old certificate)",
	"elbv2.listener -> elbv2.target-group":                      "the forward action's target group ARNs",
	"elbv2.load-balancer -> ec2.internet-gateway":               "ordering: an internet-facing load balancer in a VPC without an attached gateway fails (InvalidSubnet)",
	"elbv2.load-balancer -> ec2.security-group":                 "SecurityGroups",
	"elbv2.load-balancer -> ec2.subnet":                         "Subnets: the public subnet IDs",
	"elbv2.load-balancer -> s3.bucket":                          "access_logs.s3.bucket, whose policy must admit ELB log delivery first",
	"elbv2.routing-rules -> ecs.reshard":                        "ordering: the rules change only after the shards whose boards move have stopped",
	"elbv2.routing-rules -> elbv2.listener":                     "CreateRule ListenerArn",
	"elbv2.routing-rules -> elbv2.target-group":                 "the rules' forward actions: each shard's target group ARN",
	"elbv2.target-group -> ec2.vpc":                             "CreateTargetGroup VpcId",
	"iam.role -> s3.bucket":                                     "the task role's inline policy names the board bucket's ARN",
	"s3.bucket -> s3.bucket":                                    "the board bucket's server access logging targets the log bucket",
}
