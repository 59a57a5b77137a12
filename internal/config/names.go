package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// names.go is the single place that derives AWS resource names from the
// configuration. Every name's AWS limit sits next to it, and Validate checks
// the names these functions produce, so a limit and a name cannot drift apart.
//
// Limits are from the API reference of each service, as quoted in the AWS SDK
// for Go v2 doc comments (service/*/api_op_Create*.go) and the user guides:
//   - ELBv2 CreateLoadBalancer / CreateTargetGroup Name: at most 32
//     characters, alphanumerics and hyphens, not beginning or ending with a
//     hyphen; a load balancer name must not begin with "internal-".
//   - ECS CreateCluster / CreateService / RegisterTaskDefinition family: up to
//     255 letters, numbers, underscores and hyphens.
//   - EC2 CreateSecurityGroup GroupName: up to 255 characters, can't start with "sg-".
//   - IAM CreateRole RoleName: 1-64 of [\w+=,.@-]; Path up to 512 characters.
//   - CloudWatch Logs log group name: 1-512 of [.\-_/#A-Za-z0-9].
//   - S3 general purpose bucket names: 3-63 characters, see BucketNameProblem.
//   - ElastiCache CreateReplicationGroup ReplicationGroupId: 1-40
//     alphanumerics or hyphens, first a letter, no "--", no trailing hyphen;
//     CacheSubnetGroupName: up to 255 alphanumerics or hyphens.
//   - SNS CreateTopic Name: 1-256 ASCII letters, digits, underscores, hyphens.
//   - CloudWatch PutDashboard DashboardName: up to 255 of A-Z a-z 0-9 - _.

// Name length limits.
const (
	MaxLoadBalancerName     = 32
	MaxTargetGroupName      = 32
	MaxECSName              = 255 // cluster, service, task definition family
	MaxSecurityGroupName    = 255
	MaxIAMRoleName          = 64
	MaxLogGroupName         = 512
	MaxBucketName           = 63
	MaxReplicationGroupID   = 40
	MaxCacheSubnetGroupName = 255
	MaxSNSTopicName         = 256
	MaxDashboardName        = 255
)

// IAMRolePath is the path of every IAM role wbo-deploy creates.
const IAMRolePath = "/wbo-deploy/"

// ExampleAccountID stands in for the account ID when names are checked before
// the account is known: every AWS account ID has 12 digits.
const ExampleAccountID = "123456789012"

// LongestRegion is the longest region code in the AWS SDK's partitions.json
// (aws-sdk-go-v2 v1.48.0, internal/endpoints/awsrulesfn; 15 characters, the
// commercial maximum being 14 as in ap-southeast-7). Names that contain the
// region are checked against it when region is not configured.
const LongestRegion = "us-isof-south-1"

// Names are the names of the stack's AWS resources.
type Names struct {
	LoadBalancer              string   // <stack>-alb; ≤ 32
	TargetGroups              []string // one per service; ≤ 32 each
	Cluster                   string   // <stack>; ≤ 255
	Services                  []string // same as TargetGroups; ≤ 255
	TaskFamilies              []string // same as TargetGroups; ≤ 255
	LoadBalancerSecurityGroup string   // <stack>-alb; ≤ 255, not "sg-…"
	TasksSecurityGroup        string   // <stack>-tasks
	RedisSecurityGroup        string   // <stack>-redis
	ExecutionRole             string   // <stack>-execution; ≤ 64
	TaskRole                  string   // <stack>-task; ≤ 64
	RolePath                  string   // /wbo-deploy/
	LogGroup                  string   // /wbo-deploy/<stack>; ≤ 512
	ReplicationGroup          string   // <stack>-redis; ≤ 40
	CacheSubnetGroup          string   // <stack>-redis; ≤ 255
	AlarmTopic                string   // <stack>-alarms; ≤ 256
	Dashboard                 string   // <stack>; ≤ 255
}

// Names derives the stack's resource names. It expects a validated
// configuration; out-of-range shard counts are clamped to 0..MaxShards so it
// never allocates unbounded memory.
// SecretName is the Secrets Manager name of the stack-owned secret NAME
// (app.secrets NAME: stack): wbo-deploy/<stack>/<NAME>. Secret names allow
// letters, digits and /_+=.@- up to 512 characters (Secrets Manager API
// reference, CreateSecret Name); the stack and an environment variable name
// use only those.
func (c *Config) SecretName(name string) string { return "wbo-deploy/" + c.Stack + "/" + name }

func (c *Config) Names() Names {
	s := c.Stack
	units := c.ServiceNames()
	return Names{
		LoadBalancer:              s + "-alb",
		TargetGroups:              units,
		Cluster:                   s,
		Services:                  append([]string(nil), units...),
		TaskFamilies:              append([]string(nil), units...),
		LoadBalancerSecurityGroup: s + "-alb",
		TasksSecurityGroup:        s + "-tasks",
		RedisSecurityGroup:        s + "-redis",
		ExecutionRole:             s + "-execution",
		TaskRole:                  s + "-task",
		RolePath:                  IAMRolePath,
		LogGroup:                  "/wbo-deploy/" + s,
		ReplicationGroup:          s + "-redis",
		CacheSubnetGroup:          s + "-redis",
		AlarmTopic:                s + "-alarms",
		Dashboard:                 s,
	}
}

// ShardName is the name of shard i's ECS service, task definition family and
// target group: <stack>-shard-<i>, i from 0. Single mode is shard 0.
func (c *Config) ShardName(i int) string { return c.Stack + "-shard-" + strconv.Itoa(i) }

// SharedName is the name of the one service, family and target group of shared mode.
func (c *Config) SharedName() string { return c.Stack + "-app" }

// ServiceNames are the ECS services (and their task families and target
// groups) of the configured mode.
func (c *Config) ServiceNames() []string {
	switch c.App.Mode {
	case ModeShared:
		return []string{c.SharedName()}
	case ModeSingle:
		return []string{c.ShardName(0)}
	}
	n := min(max(c.App.Shards, 0), MaxShards)
	out := make([]string, n)
	for i := range out {
		out[i] = c.ShardName(i)
	}
	return out
}

// BoardBucket is the S3 bucket holding the boards: storage.bucket when set,
// else <stack>-boards-<account>-<region> (≤ 63), globally unique because the
// account and region are in it.
func (c *Config) BoardBucket(account, region string) string {
	if c.Storage.Bucket != "" {
		return c.Storage.Bucket
	}
	return c.Stack + "-boards-" + account + "-" + region
}

// AccessLogBucket is the S3 bucket receiving the load balancer's access logs:
// <stack>-alblogs-<account>-<region> (≤ 63).
func (c *Config) AccessLogBucket(account, region string) string {
	return c.Stack + "-alblogs-" + account + "-" + region
}

// nameCheck is one derived name with its AWS rules.
type nameCheck struct {
	what  string // "load balancer name"
	name  string
	max   int
	rule  func(string) string // charset and prefix rules; "" when fine
	stack bool                // the name starts with the stack name
}

var (
	elbNameRE   = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$`)
	ecsNameRE   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	sgNameRE    = regexp.MustCompile(`^[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]+$`)
	iamNameRE   = regexp.MustCompile(`^[\w+=,.@-]+$`)
	logGroupRE  = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]+$`)
	cacheIDRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)
	cacheSGRE   = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	snsNameRE   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	dashboardRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

func patternRule(re *regexp.Regexp, desc string) func(string) string {
	return func(s string) string {
		if !re.MatchString(s) {
			return desc
		}
		return ""
	}
}

var (
	ruleELB = patternRule(elbNameRE, "may contain only letters, digits and hyphens, and must not begin or end with a hyphen")
	ruleALB = func(s string) string {
		if msg := ruleELB(s); msg != "" {
			return msg
		}
		if strings.HasPrefix(strings.ToLower(s), "internal-") {
			return `must not begin with "internal-"`
		}
		return ""
	}
	ruleECS = patternRule(ecsNameRE, "may contain only letters, digits, underscores and hyphens")
	ruleSG  = func(s string) string {
		if strings.HasPrefix(strings.ToLower(s), "sg-") {
			return `must not begin with "sg-"`
		}
		return patternRule(sgNameRE, "contains characters EC2 does not accept in a security group name")(s)
	}
	ruleIAM      = patternRule(iamNameRE, "may contain only letters, digits and +=,.@_-")
	ruleLogGroup = patternRule(logGroupRE, "may contain only letters, digits and ._-/#")
	ruleCacheID  = func(s string) string {
		if !cacheIDRE.MatchString(s) || strings.Contains(s, "--") || strings.HasSuffix(s, "-") {
			return "must start with a letter, contain only letters, digits and single hyphens, and not end with a hyphen"
		}
		return ""
	}
	ruleCacheSubnetGroup = patternRule(cacheSGRE, "may contain only letters, digits and hyphens")
	ruleSNS              = patternRule(snsNameRE, "may contain only letters, digits, underscores and hyphens")
	ruleDashboard        = patternRule(dashboardRE, "may contain only letters, digits, underscores and hyphens")
)

// nameChecks lists the names this configuration would create, with account
// and region filled in, so each can be checked against its AWS rules.
func (c *Config) nameChecks(account, region string) []nameCheck {
	n := c.Names()
	checks := []nameCheck{
		{"load balancer name", n.LoadBalancer, MaxLoadBalancerName, ruleALB, true},
		{"ECS cluster name", n.Cluster, MaxECSName, ruleECS, true},
		{"load balancer security group name", n.LoadBalancerSecurityGroup, MaxSecurityGroupName, ruleSG, true},
		{"tasks security group name", n.TasksSecurityGroup, MaxSecurityGroupName, ruleSG, true},
		{"execution role name", n.ExecutionRole, MaxIAMRoleName, ruleIAM, true},
		{"task role name", n.TaskRole, MaxIAMRoleName, ruleIAM, true},
		{"log group name", n.LogGroup, MaxLogGroupName, ruleLogGroup, false},
	}
	// The longest service name stands for all of them (same prefix).
	if len(n.TargetGroups) > 0 {
		longest := n.TargetGroups[len(n.TargetGroups)-1]
		checks = append(checks,
			nameCheck{"target group name", longest, MaxTargetGroupName, ruleELB, true},
			nameCheck{"ECS service name", longest, MaxECSName, ruleECS, true},
			nameCheck{"task definition family", longest, MaxECSName, ruleECS, true},
		)
	}
	if c.Storage.Bucket == "" {
		checks = append(checks, nameCheck{"board bucket name", c.BoardBucket(account, region), MaxBucketName, BucketNameProblem, true})
	}
	if c.LoadBalancer.AccessLogs {
		checks = append(checks, nameCheck{"access-log bucket name", c.AccessLogBucket(account, region), MaxBucketName, BucketNameProblem, true})
	}
	if c.RedisEnabled() {
		checks = append(checks,
			nameCheck{"Redis security group name", n.RedisSecurityGroup, MaxSecurityGroupName, ruleSG, true},
			nameCheck{"ElastiCache replication group ID", n.ReplicationGroup, MaxReplicationGroupID, ruleCacheID, true},
			nameCheck{"ElastiCache subnet group name", n.CacheSubnetGroup, MaxCacheSubnetGroupName, ruleCacheSubnetGroup, true},
		)
	}
	if c.Alarms.Enabled {
		checks = append(checks, nameCheck{"SNS topic name", n.AlarmTopic, MaxSNSTopicName, ruleSNS, true})
	}
	if c.Dashboard.Enabled {
		checks = append(checks, nameCheck{"dashboard name", n.Dashboard, MaxDashboardName, ruleDashboard, true})
	}
	return checks
}

// MaxStackLength is the longest stack name for which every derived name fits
// its limit, for this configuration, account and region.
func (c *Config) MaxStackLength(account, region string) int {
	best := 1 << 30
	for _, ch := range c.nameChecks(account, region) {
		overhead := len(ch.name) - len(c.Stack)
		if allowed := ch.max - overhead; allowed < best {
			best = allowed
		}
	}
	return best
}

// checkNames records a problem on "stack" when a name derived from it breaks
// an AWS rule. region == "" means not yet known: LongestRegion stands in.
func (c *Config) checkNames(account, region string, p *problems) {
	assumed := ""
	if region == "" {
		region = LongestRegion
		assumed = fmt.Sprintf(" (region is not set, so the longest region code, %s, is assumed)", LongestRegion)
	}
	checks := c.nameChecks(account, region)
	// Length first: report the tightest limit once, with the length that fits.
	var worst *nameCheck
	for i := range checks {
		ch := &checks[i]
		if len(ch.name) > ch.max && (worst == nil || ch.max-len(ch.name) < worst.max-len(worst.name)) {
			worst = ch
		}
	}
	if worst != nil {
		why := ""
		if strings.Contains(worst.name, region) {
			why = assumed
		}
		p.add("stack", c.Stack, "%s is too long: it makes the %s %s, %d characters, and AWS allows %d; with this configuration the stack name can have at most %d characters%s",
			show(c.Stack), worst.what, show(worst.name), len(worst.name), worst.max, c.MaxStackLength(account, region), why)
		return
	}
	for _, ch := range checks {
		if msg := ch.rule(ch.name); msg != "" {
			p.add("stack", c.Stack, "%s makes the %s %s, which AWS rejects: it %s", show(c.Stack), ch.what, show(ch.name), msg)
			return
		}
	}
}

// CheckNames checks every derived name against its AWS rules for a known
// account and region (Validate uses ExampleAccountID and, when region is not
// configured, LongestRegion). Commands can call it once STS has returned the
// account and the region is resolved. The error is a *ValidationError.
func (c *Config) CheckNames(account, region string) error {
	var p problems
	c.checkNames(account, region, &p)
	return p.err()
}

// BucketNameProblem returns why name is not a valid S3 general purpose bucket
// name, or "". Rules: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
func BucketNameProblem(name string) string {
	if len(name) < 3 || len(name) > MaxBucketName {
		return fmt.Sprintf("must be 3 to 63 characters long (it has %d)", len(name))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return "may contain only lowercase letters, digits, dots and hyphens"
		}
	}
	first, last := name[0], name[len(name)-1]
	if first == '.' || first == '-' || last == '.' || last == '-' {
		return "must begin and end with a letter or digit"
	}
	if strings.Contains(name, "..") {
		return "must not contain two adjacent dots"
	}
	if a, err := netip.ParseAddr(name); err == nil && a.Is4() {
		return "must not be formatted as an IP address"
	}
	for _, pre := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, pre) {
			return fmt.Sprintf("must not begin with %q (reserved by S3)", pre)
		}
	}
	for _, suf := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, suf) {
			return fmt.Sprintf("must not end with %q (reserved by S3)", suf)
		}
	}
	return ""
}
