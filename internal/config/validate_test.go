package config

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// loadAndValidate runs the user's path: Load the YAML, then Validate.
func loadAndValidate(t *testing.T, body string) error {
	t.Helper()
	cfg, err := loadYAML(t, body)
	if err != nil {
		return err
	}
	return cfg.Validate()
}

// Each bad config is reported with exit code 2 and names the field.
func TestValidateBadConfigs(t *testing.T) {
	long := strings.Repeat("a", 30)
	tests := []struct {
		name, yaml, field, fragment string
	}{
		// stack
		{"empty stack", `stack: ""`, "stack", "must not be empty"},
		{"uppercase stack", `stack: MyStack`, "stack", "lowercase"},
		{"stack with space", `stack: "my stack"`, "stack", "not a valid stack name"},
		{"stack with double hyphen", `stack: a--b`, "stack", "single hyphens"},
		{"stack ending in hyphen", `stack: abc-`, "stack", "not a valid stack name"},
		{"stack starting with digit", `stack: 1abc`, "stack", "starting with a letter"},
		{"unicode stack", `stack: "wbö"`, "stack", "not a valid stack name"},
		{"stack too long for target groups", "stack: " + long, "stack", "target group name"},
		{"stack too long for bucket in region", "stack: " + strings.Repeat("b", 28) + "\nregion: ap-southeast-7\napp: {mode: shared, shares_state: true}", "stack", "bucket name"},
		{"stack making internal- ALB", `stack: internal`, "stack", `"internal-"`},
		{"stack making sg- group", `stack: sg-boards`, "stack", `"sg-"`},
		{"stack making reserved bucket", `stack: sthree`, "stack", `"sthree-"`},
		// state
		{"unknown state backend", `state: {backend: dynamodb}`, "state.backend", "not a state backend"},
		{"s3 state without bucket", `state: {backend: s3}`, "state.bucket", "is required"},
		{"bad state bucket", `state: {backend: s3, bucket: My_Bucket}`, "state.bucket", "not a valid S3 bucket name"},
		{"state key folder", `state: {backend: s3, bucket: team-state, key: states/}`, "state.key", "names a folder"},
		{"state key leading slash", `state: {backend: s3, bucket: team-state, key: /wbo.json}`, "state.key", "leading slash"},
		{"state key lock", `state: {backend: s3, bucket: team-state, key: wbo.lock}`, "state.key", ".lock"},
		{"state key too long", "state: {backend: s3, bucket: team-state, key: " + strings.Repeat("k", 1020) + "}", "state.key", "1024"},
		{"state region", `state: {backend: s3, bucket: team-state, region: eu_west_1}`, "state.region", "region code"},
		// domain
		{"domain with scheme", `domain: {name: "https://board.example.com"}`, "domain.name", "without scheme"},
		{"domain single label", `domain: {name: localhost}`, "domain.name", "fully qualified"},
		{"domain wildcard", `domain: {name: "*.example.com"}`, "domain.name", "wildcard"},
		{"domain underscore", `domain: {name: my_board.example.com}`, "domain.name", "the label my_board"},
		{"domain too long for ACM", "domain: {name: " + strings.Repeat("a", 60) + ".example.com}", "domain.name", "at most 64"},
		{"domain and certificate", "domain: {name: board.example.com}\nload_balancer: {certificate_arn: arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012}", "domain.name", "remove one"},
		{"zone without domain", `domain: {hosted_zone_id: Z123}`, "domain.hosted_zone_id", "without domain.name"},
		{"bad zone ID", `domain: {name: board.example.com, hosted_zone_id: example.com}`, "domain.hosted_zone_id", "not a Route 53 hosted zone ID"},
		// region and tags
		{"bad region", `region: "US East"`, "region", "region code"},
		{"region typo", `region: us-east1`, "region", "region code"},
		{"aws: tag", `tags: {"aws:cloudformation:stack-name": x}`, `tags["aws:cloudformation:stack-name"]`, "reserved"},
		{"wbo-deploy: tag", `tags: {"wbo-deploy:stack": x}`, `tags["wbo-deploy:stack"]`, "wbo-deploy itself"},
		{"tag key too long", "tags: {" + strings.Repeat("k", 129) + ": v}", `tags["` + strings.Repeat("k", maxShown) + `"…]`, "128"},
		{"tag value too long", "tags: {k: " + strings.Repeat("v", 257) + "}", "tags.k", "256"},
		{"tag bad chars", `tags: {"a*b": x}`, `tags["a*b"]`, "may contain only"},
		{"too many tags", "tags: {" + manyTags(41) + "}", "tags", "at most 40"},
		// network
		{"vpc not a CIDR", `network: {vpc_cidr: 10.0.0.0}`, "network.vpc_cidr", "CIDR"},
		{"vpc IPv6", `network: {vpc_cidr: "fd00::/56"}`, "network.vpc_cidr", "IPv4"},
		{"vpc host bits", `network: {vpc_cidr: 10.0.0.1/16}`, "network.vpc_cidr", "did you mean 10.0.0.0/16"},
		{"vpc too big", `network: {vpc_cidr: 10.0.0.0/8, public_subnets: [10.0.1.0/24, 10.0.2.0/24]}`, "network.vpc_cidr", "/16 to /28"},
		{"vpc loopback", `network: {vpc_cidr: 127.0.0.0/16}`, "network.vpc_cidr", "cannot be used"},
		{"subnet outside vpc", `network: {public_subnets: [10.0.1.0/24, 10.1.2.0/24]}`, "network.public_subnets[1]", "10.1.2.0/24 is outside network.vpc_cidr 10.0.0.0/16"},
		{"subnets overlap", `network: {private_subnets: [10.0.10.0/24, 10.0.10.128/25]}`, "network.private_subnets[1]", "overlaps network.private_subnets[0]"},
		{"public overlaps private", `network: {private_subnets: [10.0.1.0/24, 10.0.11.0/24]}`, "network.private_subnets[0]", "overlaps network.public_subnets[0]"},
		{"three public subnets", `network: {public_subnets: [10.0.1.0/24, 10.0.2.0/24, 10.0.3.0/24]}`, "network.public_subnets", "exactly two"},
		{"one private subnet", `network: {private_subnets: [10.0.10.0/24]}`, "network.private_subnets", "exactly two"},
		{"public subnet too small for ALB", `network: {public_subnets: [10.0.1.0/28, 10.0.2.0/24]}`, "network.public_subnets[0]", "/27"},
		{"subnet garbage", `network: {private_subnets: [nonsense, 10.0.11.0/24]}`, "network.private_subnets[0]", "CIDR"},
		{"one AZ", `network: {availability_zones: [us-east-1a]}`, "network.availability_zones", "exactly two"},
		{"same AZ twice", `network: {availability_zones: [us-east-1a, us-east-1a]}`, "network.availability_zones[1]", "twice"},
		{"AZ of another region", "region: eu-west-1\nnetwork: {availability_zones: [eu-west-1a, us-east-1b]}", "network.availability_zones[1]", "not in region eu-west-1"},
		{"AZ not a name", `network: {availability_zones: [a, b]}`, "network.availability_zones[0]", "availability zone name"},
		// storage and logs
		{"bucket uppercase", `storage: {bucket: MyBucket}`, "storage.bucket", "lowercase"},
		{"bucket as IP", `storage: {bucket: 192.168.5.4}`, "storage.bucket", "IP address"},
		{"bucket double dot", `storage: {bucket: my..bucket}`, "storage.bucket", "adjacent dots"},
		{"bucket xn--", `storage: {bucket: xn--boards}`, "storage.bucket", "xn--"},
		{"bucket -s3alias", `storage: {bucket: boards-s3alias}`, "storage.bucket", "-s3alias"},
		{"bucket --x-s3", `storage: {bucket: boards--x-s3}`, "storage.bucket", "--x-s3"},
		{"bucket too short", `storage: {bucket: ab}`, "storage.bucket", "3 to 63"},
		{"prefix empty", `storage: {prefix: ""}`, "storage.prefix", "must not be empty"},
		{"prefix leading slash", `storage: {prefix: /boards/}`, "storage.prefix", `start with "/"`},
		{"prefix without slash", `storage: {prefix: boards}`, "storage.prefix", `end with "/"`},
		{"prefix with space", `storage: {prefix: "my boards/"}`, "storage.prefix", "may contain only"},
		{"prefix dot dot", `storage: {prefix: "a/../"}`, "storage.prefix", `".."`},
		{"noncurrent days zero", `storage: {noncurrent_version_days: 0}`, "storage.noncurrent_version_days", "between 1 and"},
		{"kms garbage", `storage: {kms_key_id: "my key"}`, "storage.kms_key_id", "KMS key ID"},
		{"kms other region", "region: eu-west-1\nstorage: {kms_key_id: \"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"}", "storage.kms_key_id", "bucket's region"},
		{"sync interval zero", `storage: {sync_interval: 0}`, "storage.sync_interval", "between 1 and 3600"},
		{"sync interval huge", `storage: {sync_interval: 9223372036854775807}`, "storage.sync_interval", "between 1 and 3600"},
		{"retention not accepted", `logs: {retention_days: 10}`, "logs.retention_days", "1, 3, 5"},
		{"retention negative", `logs: {retention_days: -1}`, "logs.retention_days", "not a retention"},
		// redis
		{"redis mode", `redis: {mode: memcached}`, "redis.mode", "elasticache, none"},
		{"redis engine", `redis: {engine: keydb}`, "redis.engine", "redis, valkey"},
		{"node type garbage", `redis: {node_type: t3.micro}`, "redis.node_type", "cache.t3.micro"},
		{"node type previous gen", `redis: {node_type: cache.t2.micro}`, "redis.node_type", "current-generation"},
		{"node type bad size", `redis: {node_type: cache.t3.large}`, "redis.node_type", "micro, small and medium"},
		{"replicas six", `redis: {replicas: 6}`, "redis.replicas", "between 0 and 5"},
		{"snapshot days", `redis: {snapshot_retention_days: 36}`, "redis.snapshot_retention_days", "between 0 and 35"},
		{"pass_url without redis", `redis: {mode: none, pass_url: true}`, "redis.pass_url", "no endpoint to pass"},
		// load balancer
		{"idle timeout zero", `load_balancer: {idle_timeout: 0}`, "load_balancer.idle_timeout", "between 1 and 4000"},
		{"health path relative", `load_balancer: {health_check_path: health}`, "load_balancer.health_check_path", `start with "/"`},
		{"health path spaces", `load_balancer: {health_check_path: "/a b"}`, "load_balancer.health_check_path", "spaces"},
		{"health path long", "load_balancer: {health_check_path: /" + strings.Repeat("x", 1024) + "}", "load_balancer.health_check_path", "1024"},
		{"stickiness too long", `load_balancer: {stickiness_duration: 604801}`, "load_balancer.stickiness_duration", "604800"},
		{"certificate not ACM", `load_balancer: {certificate_arn: "arn:aws:iam::123456789012:server-certificate/x"}`, "load_balancer.certificate_arn", "ACM certificate ARN"},
		{"certificate other region", "region: eu-west-1\nload_balancer: {certificate_arn: \"arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab\"}", "load_balancer.certificate_arn", "us-east-1"},
		{"ssl policy old", `load_balancer: {ssl_policy: ELBSecurityPolicy-2016-08}`, "load_balancer.ssl_policy", "TLS 1.3"},
		{"ssl policy TLS 1.0", `load_balancer: {ssl_policy: ELBSecurityPolicy-TLS13-1-0-2021-06}`, "load_balancer.ssl_policy", "TLS 1.0"},
		{"deregistration delay", `load_balancer: {deregistration_delay: -5}`, "load_balancer.deregistration_delay", "between 0 and 3600"},
		{"allowed cidrs empty", `load_balancer: {allowed_cidrs: []}`, "load_balancer.allowed_cidrs", "at least one"},
		{"allowed cidr host bits", `load_balancer: {allowed_cidrs: [203.0.113.7/24]}`, "load_balancer.allowed_cidrs[0]", "203.0.113.0/24"},
		{"allowed cidr not a network", `load_balancer: {allowed_cidrs: [office]}`, "load_balancer.allowed_cidrs[0]", "CIDR notation"},
		{"allowed cidr duplicate", `load_balancer: {allowed_cidrs: ["2001:db8::/32", "2001:db8::/32"]}`, "load_balancer.allowed_cidrs[1]", "already listed"},
		// app
		{"app mode", `app: {mode: replicated}`, "app.mode", "sharded, single, shared"},
		{"shared with stock image", `app: {mode: shared}`, "app.mode", "keeps each board in one process"},
		{"shared with stock image from Docker Hub", `app: {mode: shared, image: "docker.io/lovasoa/wbo@sha256:abc"}`, "app.mode", "app.shares_state"},
		{"shards zero", `app: {shards: 0}`, "app.shards", "between 1 and 16"},
		{"shards seventeen", `app: {shards: 17}`, "app.shards", "between 1 and 16"},
		{"image empty", `app: {image: ""}`, "app.image", "must not be empty"},
		{"image with space", `app: {image: "lovasoa/wbo v2"}`, "app.image", "image reference"},
		{"port zero", `app: {port: 0}`, "app.port", "between 1 and 65535"},
		{"port huge", `app: {port: 70000}`, "app.port", "between 1 and 65535"},
		{"cpu not fargate", `app: {cpu: 300}`, "app.cpu", "not a Fargate CPU size"},
		{"memory not for cpu", `app: {cpu: 256, memory: 4096}`, "app.memory", "512, 1024, 2048"},
		{"memory off step", `app: {cpu: 8192, memory: 20000}`, "app.memory", "16384 to 61440 in steps of 4096"},
		{"architecture", `app: {architecture: amd64}`, "app.architecture", "x86_64, arm64"},
		{"env reserved PORT", `app: {env: {PORT: "8080"}}`, "app.env.PORT", "set by wbo-deploy"},
		{"env reserved history dir", `app: {env: {WBO_HISTORY_DIR: /tmp}}`, "app.env.WBO_HISTORY_DIR", "set by wbo-deploy"},
		{"env reserved save delay", `app: {env: {WBO_MAX_SAVE_DELAY: "60000"}}`, "app.env.WBO_MAX_SAVE_DELAY", "set by wbo-deploy"},
		{"env bad name", `app: {env: {"1BAD": x}}`, "app.env.1BAD", "environment variable name"},
		{"WBO v1 rate limit", `app: {env: {WBO_MAX_EMIT_COUNT: "192"}}`, "app.env.WBO_MAX_EMIT_COUNT", "*:192/5s"},
		{"WBO rate limit period", `app: {env: {WBO_MAX_EMIT_COUNT: "*:250/5h"}}`, "app.env.WBO_MAX_EMIT_COUNT", "refuses to start"},
		{"WBO log level", `app: {env: {LOG_LEVEL: verbose}}`, "app.env.LOG_LEVEL", "debug, info, warn, error"},
		{"WBO base path", `app: {env: {WBO_BASE_PATH: "wbo"}}`, "app.env.WBO_BASE_PATH", "URL path"},
		{"WBO moderators", `app: {env: {WBO_BOARD_MODERATORS: "maths:1234"}}`, "app.env.WBO_BOARD_MODERATORS", "32 hexadecimal"},
		{"WBO ip source without proxy", `app: {env: {WBO_IP_SOURCE: remoteAddress}}`, "app.env.WBO_IP_SOURCE", "WBO_TRUST_PROXY_HOPS is 1"},
		{"WBO save delay", `app: {env: {WBO_SAVE_INTERVAL: "90000"}}`, "app.env.WBO_MAX_SAVE_DELAY", "at least WBO_SAVE_INTERVAL (90000 ms)"},
		{"env secret", `app: {env: {AUTH_SECRET_KEY: hunter2}}`, "app.env.AUTH_SECRET_KEY", "plain text"},
		{"env secret points to app.secrets", `app: {env: {AUTH_SECRET_KEY: hunter2}}`, "app.env.AUTH_SECRET_KEY", "app.secrets"},
		{"secret value pasted", `app: {secrets: {AUTH_SECRET_KEY: hunter2}}`, "app.secrets.AUTH_SECRET_KEY", "ARN of a Secrets Manager secret"},
		{"secret ARN of another service", `app: {secrets: {X: "arn:aws:s3:::bucket"}}`, "app.secrets.X", "SSM SecureString"},
		{"secret reserved", `app: {secrets: {PORT: stack}}`, "app.secrets.PORT", "set by wbo-deploy"},
		{"secret bad name", `app: {secrets: {"A-B": stack}}`, "app.secrets.A-B", "environment variable name"},
		{"secret also in env", `app: {secrets: {LOG_LEVEL: stack}, env: {LOG_LEVEL: debug}}`, "app.secrets.LOG_LEVEL", "also in app.env"},
		{"env aws key", `app: {env: {AWS_ACCESS_KEY_ID: AKIA}}`, "app.env.AWS_ACCESS_KEY_ID", "secret"},
		{"grace period", `app: {health_check_grace_period: 7201}`, "app.health_check_grace_period", "between 0 and 7200"},
		{"ephemeral storage", `app: {ephemeral_storage_gb: 10}`, "app.ephemeral_storage_gb", "between 20 and 200"},
		{"desired count zero in shared", `app: {mode: shared, shares_state: true, desired_count: 0}`, "app.desired_count", "between 1 and 100"},
		{"desired above max", "app: {mode: shared, shares_state: true, desired_count: 12}\nautoscaling: {max_capacity: 10}", "app.desired_count", "autoscaling.max_capacity 10"},
		// autoscaling
		{"policy", `autoscaling: {policy: predictive}`, "autoscaling.policy", "target-tracking, step"},
		{"min above max", `autoscaling: {min_capacity: 5, max_capacity: 3}`, "autoscaling.min_capacity", "above autoscaling.max_capacity 3"},
		{"max too large", `autoscaling: {max_capacity: 101}`, "autoscaling.max_capacity", "between 1 and 100"},
		{"cpu target", `autoscaling: {cpu_target: 0}`, "autoscaling.cpu_target", "between 1 and 100"},
		{"memory target", `autoscaling: {memory_target: 101}`, "autoscaling.memory_target", "between 1 and 100"},
		{"requests per target", `autoscaling: {requests_per_target: 0}`, "autoscaling.requests_per_target", "between 1 and"},
		{"cooldown", `autoscaling: {scale_in_cooldown: 3601}`, "autoscaling.scale_in_cooldown", "between 0 and 3600"},
		// alarms
		{"cpu threshold zero", `alarms: {cpu_threshold: 0}`, "alarms.cpu_threshold", "greater than 0"},
		{"memory threshold NaN", `alarms: {memory_threshold: .nan}`, "alarms.memory_threshold", "finite"},
		{"latency infinite", `alarms: {latency_threshold_seconds: .inf}`, "alarms.latency_threshold_seconds", "finite"},
		{"5xx negative", `alarms: {http_5xx_threshold: -1}`, "alarms.http_5xx_threshold", "between 0 and"},
		{"email invalid", `alarms: {email: [ops@example.com, "not an email"]}`, "alarms.email[1]", "email address"},
		{"email with name", `alarms: {email: ["Ops <ops@example.com>"]}`, "alarms.email[0]", "email address"},
		{"email duplicate", `alarms: {email: [ops@example.com, OPS@example.com]}`, "alarms.email[1]", "already listed"},
		{"sms not E.164", `alarms: {sms: ["0151 1234567"]}`, "alarms.sms[0]", "E.164"},
		{"sms too long", `alarms: {sms: ["+1234567890123456"]}`, "alarms.sms[0]", "E.164"},
		// cost
		{"active users negative", `cost: {assumptions: {active_users: -1}}`, "cost.assumptions.active_users", "between 0 and"},
		{"transfer negative", `cost: {assumptions: {gb_transferred: -0.5}}`, "cost.assumptions.gb_transferred", "between 0 and"},
		{"rps NaN", `cost: {assumptions: {requests_per_second: .nan}}`, "cost.assumptions.requests_per_second", "finite"},
		{"log GB infinite", `cost: {assumptions: {log_gb_per_month: -.inf}}`, "cost.assumptions.log_gb_per_month", "finite"},
		{"storage GB huge", `cost: {assumptions: {board_storage_gb: 1e300}}`, "cost.assumptions.board_storage_gb", "between 0 and"},
	}
	if len(tests) < 20 {
		t.Fatalf("the table must hold at least 20 bad configs, has %d", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := loadAndValidate(t, tt.yaml)
			p := problemFor(t, err, tt.field)
			if !strings.Contains(p.Message, tt.fragment) {
				t.Errorf("%s: message %q does not mention %q", tt.field, p.Message, tt.fragment)
			}
		})
	}
}

func manyTags(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "k" + strings.Repeat("x", i) + ": v"
	}
	return strings.Join(parts, ", ")
}

// All problems come back at once, not one per run.
func TestValidateReportsAllProblemsAtOnce(t *testing.T) {
	err := loadAndValidate(t, `
stack: Bad_Stack
region: mars-1
network:
  vpc_cidr: 10.0.0.0/16
  public_subnets: [10.0.1.0/24, 10.1.2.0/24]
  private_subnets: [10.0.10.0/24]
storage:
  prefix: boards
logs:
  retention_days: 10
redis:
  replicas: 9
app:
  shards: 0
  cpu: 256
  memory: 4096
  env: {PORT: "1"}
alarms:
  sms: ["12345"]
cost:
  assumptions: {active_users: -3}
`)
	ve := asValidation(t, err)
	want := []string{
		"stack", "region", "network.public_subnets[1]", "network.private_subnets",
		"storage.prefix", "logs.retention_days", "redis.replicas", "app.shards",
		"app.memory", "app.env.PORT", "alarms.sms[0]", "cost.assumptions.active_users",
	}
	got := map[string]bool{}
	for _, f := range ve.Fields() {
		got[f] = true
	}
	for _, f := range want {
		if !got[f] {
			t.Errorf("missing problem for %s", f)
		}
	}
	if len(ve.Problems) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(ve.Problems), len(want), err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "invalid configuration (12 problems):") || !strings.Contains(msg, "\n  network.public_subnets[1]: 10.1.2.0/24 is outside network.vpc_cidr 10.0.0.0/16") {
		t.Errorf("unexpected error text:\n%s", msg)
	}
}

func TestValidateGoodConfigs(t *testing.T) {
	tests := map[string]string{
		"shared with an image that shares state": "app: {mode: shared, shares_state: true, image: example/wbo-redis:1, desired_count: 3}\nautoscaling: {min_capacity: 2, max_capacity: 6, policy: step}",
		"single arm64":                           "app: {mode: single, architecture: arm64, cpu: 1024, memory: 3072}",
		"sixteen shards, HTTPS, KMS":             "region: eu-west-1\napp: {shards: 16}\nload_balancer: {certificate_arn: \"arn:aws:acm:eu-west-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab\"}\nstorage: {kms_key_id: alias/boards}",
		"no redis, valkey, own bucket":           "redis: {mode: none, engine: valkey, node_type: cache.r7g.large, replicas: 0}\nstorage: {bucket: my.boards-bucket, prefix: wbo/boards/}",
		"alarms and tags":                        "alarms: {email: [ops@example.com, oncall+wbo@example.co.uk], sms: [\"+14155550100\"]}\ntags: {Owner: Alice, cost-center: 1234, \"Name with spaces\": \"ok: yes\", \"tëam\": \"bøards\"}",
		"own network and zones":                  "region: us-east-2\nnetwork: {vpc_cidr: 172.16.0.0/20, public_subnets: [172.16.0.0/27, 172.16.0.32/27], private_subnets: [172.16.1.0/28, 172.16.1.16/28], availability_zones: [us-east-2a, us-east-2c]}",
		"own domain with a trailing dot":         "domain: {name: Board.Example.COM., hosted_zone_id: /hostedzone/Z0123456789ABCDEFGHIJ}",
		"largest fargate size":                   "app: {cpu: 16384, memory: 122880, ephemeral_storage_gb: 200}",
		"zero cost assumptions":                  "cost: {assumptions: {active_users: 0, gb_transferred: 0, requests_per_second: 0, log_gb_per_month: 0, board_storage_gb: 0}}",
		"env overriding a tool default":          "app: {env: {WBO_TRUST_PROXY_HOPS: \"2\", LOG_LEVEL: debug}}",
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			if err := loadAndValidate(t, body); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The stack length limit is computed from the derived names: the longest
// allowed stack passes, one character more fails, for several configurations.
func TestValidateStackLengthBoundary(t *testing.T) {
	configs := map[string]func(c *Config){
		"defaults, region unset": func(c *Config) {},
		"16 shards":              func(c *Config) { c.App.Shards = 16 },
		"shared, no access logs, long region": func(c *Config) {
			c.App.Mode, c.App.SharesState, c.LoadBalancer.AccessLogs, c.Region = ModeShared, true, false, "ap-southeast-7"
		},
		"own bucket, single, no redis": func(c *Config) {
			c.Storage.Bucket, c.App.Mode, c.Redis.Mode, c.LoadBalancer.AccessLogs = "my-boards", ModeSingle, "none", false
		},
	}
	for name, mutate := range configs {
		t.Run(name, func(t *testing.T) {
			c := Default()
			mutate(&c)
			c.Stack = "x"
			region := c.Region
			if region == "" {
				region = LongestRegion
			}
			n := c.MaxStackLength(ExampleAccountID, region)
			if n < 2 || n > 63 {
				t.Fatalf("MaxStackLength = %d", n)
			}
			c.Stack = strings.Repeat("s", n)
			if err := c.Validate(); err != nil {
				t.Fatalf("stack of %d characters (the maximum) rejected: %v", n, err)
			}
			c.Stack = strings.Repeat("s", n+1)
			wantMessage(t, c.Validate(), "stack", "too long", "at most "+strconv.Itoa(n))
		})
	}
}

// Numbers of any size or sign, set directly, never panic and are reported.
func TestValidateExtremeNumbers(t *testing.T) {
	for _, n := range []int{math.MinInt, -1, 0, math.MaxInt32 + 1, math.MaxInt} {
		c := Default()
		c.App.Shards, c.App.Port, c.App.CPU, c.App.Memory = n, n, n, n
		c.Storage.SyncInterval, c.Logs.RetentionDays, c.Autoscaling.MinCapacity = n, n, n
		c.Alarms.HTTP5xxThreshold, c.Cost.Assumptions.ActiveUsers = n, n
		err := c.Validate()
		for _, f := range []string{"app.shards", "app.port", "app.cpu", "storage.sync_interval", "logs.retention_days", "autoscaling.min_capacity"} {
			problemFor(t, err, f)
		}
		_ = c.Names()
		_ = c.ServiceNames()
	}
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -math.MaxFloat64, math.MaxFloat64} {
		c := Default()
		c.Alarms.CPUThreshold, c.Cost.Assumptions.GBTransferred = x, x
		err := c.Validate()
		problemFor(t, err, "alarms.cpu_threshold")
		problemFor(t, err, "cost.assumptions.gb_transferred")
	}
	var nilCfg *Config
	asValidation(t, nilCfg.Validate())
}

func TestValidationErrorText(t *testing.T) {
	one := &ValidationError{Problems: []FieldError{{Field: "app.shards", Message: "must be between 1 and 16, got 0"}}}
	if got, want := one.Error(), "invalid configuration: app.shards: must be between 1 and 16, got 0"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if one.ExitCode() != 2 {
		t.Errorf("ExitCode() = %d", one.ExitCode())
	}
}

func TestIsStockImage(t *testing.T) {
	for img, want := range map[string]bool{
		"lovasoa/wbo":                                         true,
		"lovasoa/wbo:v2.17.0":                                 true,
		"lovasoa/wbo:latest":                                  true,
		"docker.io/lovasoa/wbo:v2.17.0":                       true,
		"lovasoa/wbo@sha256:0123abcd":                         true,
		"lovasoa/wbo:v2@sha256:0123abcd":                      true,
		"registry.example.com:5000/docker-hub/lovasoa/wbo:v2": true,
		"lovasoa/wbo-fork:v1":                                 false,
		"example/wbo:v2":                                      false,
		"registry.example.com:5000/wbo":                       false,
		"notlovasoa/wbo":                                      false,
	} {
		if got := IsStockImage(img); got != want {
			t.Errorf("IsStockImage(%q) = %v, want %v", img, got, want)
		}
	}
}

func TestFargateSizes(t *testing.T) {
	eq(t, "256", FargateMemoryOptions(256), []int{512, 1024, 2048})
	eq(t, "512", FargateMemoryOptions(512), []int{1024, 2048, 3072, 4096})
	eq(t, "4096 count", len(FargateMemoryOptions(4096)), 23) // 8192..30720 step 1024
	eq(t, "8192 last", FargateMemoryOptions(8192)[len(FargateMemoryOptions(8192))-1], 61440)
	eq(t, "16384", FargateMemoryOptions(16384)[:2], []int{32768, 40960})
	eq(t, "not a cpu", FargateMemoryOptions(3000), []int(nil))
	for _, ok := range [][2]int{{256, 512}, {1024, 8192}, {2048, 16384}, {8192, 20480}, {16384, 122880}} {
		if !ValidFargateSize(ok[0], ok[1]) {
			t.Errorf("%d/%d rejected", ok[0], ok[1])
		}
	}
	for _, bad := range [][2]int{{256, 4096}, {512, 512}, {1024, 9216}, {8192, 18432}, {16384, 36864}, {0, 0}, {-1, -1}} {
		if ValidFargateSize(bad[0], bad[1]) {
			t.Errorf("%d/%d accepted", bad[0], bad[1])
		}
	}
}

// A value that is not an ARN is never echoed: it may be the secret itself.
func TestSecretValueNotEchoed(t *testing.T) {
	err := loadAndValidate(t, `app: {secrets: {AUTH_SECRET_KEY: hunter2-s3cr3t}}`)
	if err == nil || strings.Contains(err.Error(), "hunter2-s3cr3t") {
		t.Fatalf("error %v", err)
	}
	for _, ok := range []string{
		`app: {secrets: {AUTH_SECRET_KEY: stack}}`,
		`app: {secrets: {AUTH_SECRET_KEY: "arn:aws:secretsmanager:us-east-1:123456789012:secret:wbo/key-AbCdEf"}}`,
		`app: {secrets: {AUTH_SECRET_KEY: "arn:aws:ssm:eu-west-1:123456789012:parameter/wbo/key"}}`,
	} {
		if err := loadAndValidate(t, ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	c := Default()
	if c.EffectiveHealthCheckPath() != "/" || c.SignIn() {
		t.Fatal("sign-in on by default")
	}
	c.App.Secrets = map[string]string{AuthSecretKey: SecretStack}
	if !c.SignIn() || c.EffectiveHealthCheckPath() != SignInHealthCheckPath {
		t.Fatal("sign-in health check path")
	}
	c.LoadBalancer.HealthCheckPath = "/rules"
	if c.EffectiveHealthCheckPath() != "/rules" {
		t.Fatal("a configured path is kept")
	}
}

func TestWBOEnvWarnings(t *testing.T) {
	c := mustLoadYAML(t, "app: {env: {WBO_MAX_SAVE_DELAYS: \"5\", WBO_SEQ_REPLAY_RETENTION_MS: 2s, AUTO_FINGER_WHITEOUT: \"off\", WBO_MAX_EMIT_COUNT: \"*:300/5s\", LOG_LEVEL: DEBUG}}")
	if err := c.Validate(); err != nil {
		t.Fatalf("valid WBO settings refused: %v", err)
	}
	w := strings.Join(c.Warnings(), "\n")
	for _, want := range []string{"WBO_MAX_SAVE_DELAYS: lovasoa/wbo:v2.17.0 does not read", "did you mean WBO_MAX_SAVE_DELAY?", "WBO_SEQ_REPLAY_RETENTION_MS: WBO reads 2s as 2", "AUTO_FINGER_WHITEOUT: only the value \"disabled\""} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings lack %q:\n%s", want, w)
		}
	}
	if strings.Contains(w, "WBO_MAX_EMIT_COUNT") || strings.Contains(w, "LOG_LEVEL") {
		t.Errorf("warned about valid settings:\n%s", w)
	}
	// Another image reads its own settings: nothing is checked.
	c = mustLoadYAML(t, "app: {image: example/board:1, env: {WBO_MAX_EMIT_COUNT: \"192\", WBO_X: y}}")
	if err := c.Validate(); err != nil || len(c.Warnings()) != 0 {
		t.Fatalf("custom image: %v %v", err, c.Warnings())
	}
}
