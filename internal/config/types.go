// Package config holds wbo-deploy's configuration: the typed structure, its
// built-in defaults (the brief's architecture), loading with the documented
// precedence (flags > WBO_DEPLOY_* environment > config file > defaults) and
// validation that names every bad field before any AWS call is made.
package config

import "strings"

// DefaultImage is the pinned WBO image used when app.image is not set. A
// version tag, never `latest`, so a re-run never changes the app under the user.
const DefaultImage = "lovasoa/wbo:v2.17.0"

// Config is the whole configuration. Field tags: `mapstructure` is the key in
// the YAML file, in viper and (upper-cased, dots as underscores, prefixed
// WBO_DEPLOY_) in the environment.
type Config struct {
	Stack  string            `mapstructure:"stack"`
	Region string            `mapstructure:"region"`
	Tags   map[string]string `mapstructure:"tags"`

	Network      Network      `mapstructure:"network"`
	Storage      Storage      `mapstructure:"storage"`
	Logs         Logs         `mapstructure:"logs"`
	Redis        Redis        `mapstructure:"redis"`
	LoadBalancer LoadBalancer `mapstructure:"load_balancer"`
	Domain       Domain       `mapstructure:"domain"`
	ECS          ECS          `mapstructure:"ecs"`
	App          App          `mapstructure:"app"`
	Autoscaling  Autoscaling  `mapstructure:"autoscaling"`
	Alarms       Alarms       `mapstructure:"alarms"`
	Dashboard    Dashboard    `mapstructure:"dashboard"`
	Cost         Cost         `mapstructure:"cost"`
	State        State        `mapstructure:"state"`
}

// State backends.
const (
	StateLocal = "local"
	StateS3    = "s3"
)

// State is where wbo-deploy keeps the stack's state (README, "Remote state").
// The bucket is not part of the stack: `wbo-deploy state init-backend`
// creates it and destroy never touches it.
type State struct {
	Backend string `mapstructure:"backend"` // local (the --state file) | s3
	Bucket  string `mapstructure:"bucket"`  // the state bucket (s3)
	Key     string `mapstructure:"key"`     // object key; empty = wbo-deploy/<stack>.json
	Region  string `mapstructure:"region"`  // the state bucket's region; empty = the stack's
	Profile string `mapstructure:"profile"` // AWS profile for the state bucket; empty = the stack's credentials
}

// StateKey is the state object's key: state.key, or wbo-deploy/<stack>.json.
func (c *Config) StateKey() string {
	if c.State.Key != "" {
		return c.State.Key
	}
	return "wbo-deploy/" + c.Stack + ".json"
}

// Network is the VPC tier.
type Network struct {
	VPCCIDR           string   `mapstructure:"vpc_cidr"`
	PublicSubnets     []string `mapstructure:"public_subnets"`
	PrivateSubnets    []string `mapstructure:"private_subnets"`
	AvailabilityZones []string `mapstructure:"availability_zones"` // empty = first two of the region
}

// Storage is the S3 board bucket and the sidecars that sync boards to it.
type Storage struct {
	Bucket                string `mapstructure:"bucket"` // empty = derived from stack, account and region
	Prefix                string `mapstructure:"prefix"` // board objects live under this key prefix
	NoncurrentVersionDays int    `mapstructure:"noncurrent_version_days"`
	KMSKeyID              string `mapstructure:"kms_key_id"`    // empty = SSE-S3
	SyncInterval          int    `mapstructure:"sync_interval"` // seconds between backups
}

// Logs is the CloudWatch Logs group of the app (and the access-log bucket expiry).
type Logs struct {
	RetentionDays int `mapstructure:"retention_days"`
}

// Redis is the ElastiCache replication group.
type Redis struct {
	Mode                  string `mapstructure:"mode"`   // elasticache | none
	Engine                string `mapstructure:"engine"` // redis | valkey
	NodeType              string `mapstructure:"node_type"`
	Replicas              int    `mapstructure:"replicas"`
	SnapshotRetentionDays int    `mapstructure:"snapshot_retention_days"`
	// PassURL passes the endpoint to the app as REDIS_URL. Off by default:
	// the stock WBO image never reads it (wbo.md), and passing it makes
	// every task definition, hence the whiteboard, wait the 5–15 minutes
	// ElastiCache takes to create the group.
	PassURL bool `mapstructure:"pass_url"`
}

// LoadBalancer is the ALB, its target groups and listeners.
type LoadBalancer struct {
	IdleTimeout         int    `mapstructure:"idle_timeout"` // seconds
	DeletionProtection  bool   `mapstructure:"deletion_protection"`
	HealthCheckPath     string `mapstructure:"health_check_path"`
	Stickiness          bool   `mapstructure:"stickiness"`
	StickinessDuration  int    `mapstructure:"stickiness_duration"` // seconds
	CertificateARN      string `mapstructure:"certificate_arn"`
	SSLPolicy           string `mapstructure:"ssl_policy"`
	AccessLogs          bool   `mapstructure:"access_logs"`
	DeregistrationDelay int    `mapstructure:"deregistration_delay"` // seconds
	// AllowedCIDRs are the networks (IPv4 or IPv6) that may reach the load
	// balancer on 80 and 443; the default is anywhere (0.0.0.0/0).
	AllowedCIDRs []string `mapstructure:"allowed_cidrs"`
}

// Domain is the whiteboard's own DNS name (README, "Your own domain and
// sign-in"): wbo-deploy requests an ACM certificate for it (DNS
// validation), writes the validation and alias records in its Route 53
// zone, or prints them when the zone is elsewhere, and serves HTTPS on it.
type Domain struct {
	Name string `mapstructure:"name"` // board.example.com; empty = the load balancer's own name, HTTP
	// HostedZoneID is the Route 53 public zone to write the records in;
	// empty = the zone whose name is the longest suffix of Name, if any
	// (none: the records are printed, to create at your DNS provider).
	HostedZoneID string `mapstructure:"hosted_zone_id"`
}

// ECS is the cluster.
type ECS struct {
	ContainerInsights bool `mapstructure:"container_insights"`
}

// App is the WBO service.
type App struct {
	Mode                   string            `mapstructure:"mode"` // sharded | single | shared
	Shards                 int               `mapstructure:"shards"`
	SharesState            bool              `mapstructure:"shares_state"`
	Image                  string            `mapstructure:"image"`
	Port                   int               `mapstructure:"port"`
	CPU                    int               `mapstructure:"cpu"`           // CPU units (1024 = 1 vCPU)
	Memory                 int               `mapstructure:"memory"`        // MiB
	Architecture           string            `mapstructure:"architecture"`  // x86_64 | arm64
	DesiredCount           int               `mapstructure:"desired_count"` // shared mode only
	Env                    map[string]string `mapstructure:"env"`
	HealthCheckGracePeriod int               `mapstructure:"health_check_grace_period"` // seconds
	EphemeralStorageGB     int               `mapstructure:"ephemeral_storage_gb"`      // 20..200
	Secrets                map[string]string `mapstructure:"secrets"`                   // NAME: secret/parameter ARN or "stack" (SecretSource)
}

// Autoscaling applies in shared mode.
type Autoscaling struct {
	Policy            string `mapstructure:"policy"` // target-tracking | step
	MinCapacity       int    `mapstructure:"min_capacity"`
	MaxCapacity       int    `mapstructure:"max_capacity"`
	CPUTarget         int    `mapstructure:"cpu_target"`          // percent
	MemoryTarget      int    `mapstructure:"memory_target"`       // percent
	RequestsPerTarget int    `mapstructure:"requests_per_target"` // ALB requests per target per minute
	ScaleOutCooldown  int    `mapstructure:"scale_out_cooldown"`  // seconds
	ScaleInCooldown   int    `mapstructure:"scale_in_cooldown"`   // seconds
}

// Alarms are the CloudWatch alarms and their SNS topic.
type Alarms struct {
	Enabled                 bool     `mapstructure:"enabled"`
	Email                   []string `mapstructure:"email"`
	SMS                     []string `mapstructure:"sms"` // E.164
	CPUThreshold            float64  `mapstructure:"cpu_threshold"`
	MemoryThreshold         float64  `mapstructure:"memory_threshold"`
	LatencyThresholdSeconds float64  `mapstructure:"latency_threshold_seconds"`
	HTTP5xxThreshold        int      `mapstructure:"http_5xx_threshold"` // target 5xx per 5 minutes
}

// Dashboard is the CloudWatch dashboard.
type Dashboard struct {
	Enabled bool `mapstructure:"enabled"`
}

// Cost holds the traffic assumptions of `wbo-deploy cost`.
type Cost struct {
	Assumptions CostAssumptions `mapstructure:"assumptions"`
}

// CostAssumptions are stated, not measured: the estimate is only as good as they are.
type CostAssumptions struct {
	ActiveUsers       int     `mapstructure:"active_users"`        // concurrent users at a typical hour
	GBTransferred     float64 `mapstructure:"gb_transferred"`      // GB out to the internet per month
	RequestsPerSecond float64 `mapstructure:"requests_per_second"` // average new HTTP requests per second
	LogGBPerMonth     float64 `mapstructure:"log_gb_per_month"`    // app log ingestion per month
	BoardStorageGB    float64 `mapstructure:"board_storage_gb"`    // board data in S3, all versions
}

// Modes of app.mode.
const (
	ModeSharded = "sharded"
	ModeSingle  = "single"
	ModeShared  = "shared"
)

// Default returns the built-in defaults: the brief's architecture, with the
// sharded topology the stock WBO image needs. config.example.yaml must equal it
// (a test checks this).
func Default() Config {
	return Config{
		Stack:  "wbo",
		Region: "",
		Tags:   map[string]string{},
		Network: Network{
			VPCCIDR:           "10.0.0.0/16",
			PublicSubnets:     []string{"10.0.1.0/24", "10.0.2.0/24"},
			PrivateSubnets:    []string{"10.0.10.0/24", "10.0.11.0/24"},
			AvailabilityZones: []string{},
		},
		Storage: Storage{
			Prefix:                "boards/",
			NoncurrentVersionDays: 30,
			SyncInterval:          10,
		},
		Logs: Logs{RetentionDays: 30},
		Redis: Redis{
			Mode:                  "elasticache",
			Engine:                "redis",
			NodeType:              "cache.t3.micro",
			Replicas:              1,
			SnapshotRetentionDays: 1,
		},
		LoadBalancer: LoadBalancer{
			IdleTimeout:         60,
			HealthCheckPath:     "/",
			Stickiness:          true,
			StickinessDuration:  86400,
			SSLPolicy:           "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
			AccessLogs:          true,
			DeregistrationDelay: 30,
			AllowedCIDRs:        []string{"0.0.0.0/0"},
		},
		ECS:   ECS{ContainerInsights: true},
		State: State{Backend: StateLocal},
		App: App{
			Mode:                   ModeSharded,
			Shards:                 2,
			Image:                  DefaultImage,
			Port:                   80,
			CPU:                    256,
			Memory:                 512,
			Architecture:           "x86_64",
			DesiredCount:           2,
			Env:                    map[string]string{},
			Secrets:                map[string]string{},
			HealthCheckGracePeriod: 60,
			EphemeralStorageGB:     20,
		},
		Autoscaling: Autoscaling{
			Policy:            "target-tracking",
			MinCapacity:       1,
			MaxCapacity:       10,
			CPUTarget:         70,
			MemoryTarget:      80,
			RequestsPerTarget: 1000,
			ScaleOutCooldown:  60,
			ScaleInCooldown:   300,
		},
		Alarms: Alarms{
			Enabled:                 true,
			Email:                   []string{},
			SMS:                     []string{},
			CPUThreshold:            85,
			MemoryThreshold:         90,
			LatencyThresholdSeconds: 1,
			HTTP5xxThreshold:        10,
		},
		Dashboard: Dashboard{Enabled: true},
		Cost: Cost{Assumptions: CostAssumptions{
			ActiveUsers:       20,
			GBTransferred:     10,
			RequestsPerSecond: 1,
			LogGBPerMonth:     1,
			BoardStorageGB:    1,
		}},
	}
}

// TaskCount is the number of WBO tasks normally running: one per shard in
// sharded mode, one in single mode, desired_count in shared mode.
func (c *Config) TaskCount() int {
	switch c.App.Mode {
	case ModeShared:
		return c.App.DesiredCount
	case ModeSingle:
		return 1
	default:
		return c.App.Shards
	}
}

// RedisEnabled reports whether an ElastiCache replication group is part of the stack.
func (c *Config) RedisEnabled() bool { return c.Redis.Mode == "elasticache" }

// SecretStack is the app.secrets value of a secret the stack owns: a
// Secrets Manager secret named SecretName(NAME), whose value only
// `wbo-deploy secret set NAME` sets. The task definition references every
// app.secrets entry (valueFrom); no value is stored anywhere wbo-deploy writes.
const SecretStack = "stack"

// AuthSecretKey is WBO's JWT signing key variable.
const AuthSecretKey = "AUTH_SECRET_KEY"

// SignIn reports whether WBO's sign-in is on: AUTH_SECRET_KEY is one of
// app.secrets (WBO then requires a JWT for /, /random and board pages,
// server/auth/jwt.mjs and board_jwt.mjs).
func (c *Config) SignIn() bool {
	_, ok := c.App.Secrets[AuthSecretKey]
	return ok
}

// SignInHealthCheckPath is where the target group checks a WBO that requires
// sign-in: a static file, served without a token in every configuration
// (../shared/reference/wbo.md, "HTTP and sockets"), where / and board pages
// answer 403.
const SignInHealthCheckPath = "/favicon.ico"

// EffectiveHealthCheckPath is the target group's health check path: the
// configured one, except that the default "/" becomes SignInHealthCheckPath
// when sign-in is on (WBO answers 403 on / without a token).
func (c *Config) EffectiveHealthCheckPath() string {
	if c.SignIn() && c.LoadBalancer.HealthCheckPath == "/" {
		return SignInHealthCheckPath
	}
	return c.LoadBalancer.HealthCheckPath
}

// RedisURLPassed reports whether the app gets the Redis endpoint as
// REDIS_URL (and its task definitions therefore wait for the group).
func (c *Config) RedisURLPassed() bool { return c.RedisEnabled() && c.Redis.PassURL }

// HTTPS reports whether the load balancer serves HTTPS: a certificate is
// configured, or wbo-deploy requests one for domain.name.
func (c *Config) HTTPS() bool { return c.LoadBalancer.CertificateARN != "" || c.Domain.Name != "" }

// DomainName is domain.name as DNS compares it: lower case, without the
// trailing dot ("" without a domain).
func (c *Config) DomainName() string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(c.Domain.Name)), ".")
}

// HostedZoneID is domain.hosted_zone_id without the "/hostedzone/" prefix
// Route 53 answers some IDs with.
func (c *Config) HostedZoneID() string { return TrimHostedZoneID(c.Domain.HostedZoneID) }

// TrimHostedZoneID drops the "/hostedzone/" prefix Route 53 answers zone
// IDs with (HostedZone.Id "/hostedzone/Z…"), so IDs compare as written.
func TrimHostedZoneID(id string) string {
	return strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(id), "/hostedzone/"), "hostedzone/")
}
