package config

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// App and autoscaling limits.
const (
	MaxShards                 = 16
	MaxHealthCheckGracePeriod = 7200 // seconds
	MinEphemeralStorageGB     = 20   // Fargate: 20 GiB included ...
	MaxEphemeralStorageGB     = 200  // ... up to 200 GiB
	MaxTasks                  = 100  // shared mode: desired/min/max capacity
	MaxCooldown               = 3600 // seconds
	MaxRequestsPerTarget      = 1_000_000
	maxImageLen               = 255 // ECS ContainerDefinition.Image: up to 255 characters
	maxAppEnv                 = 100
	maxEnvValueLen            = 4096
)

// StockImage is the repository of the official WBO image.
const StockImage = "lovasoa/wbo"

var (
	// ECS accepts letters, digits, hyphens, underscores, colons, periods,
	// forward slashes and number signs in an image, plus @ for digests.
	imageRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._\-/:#@]*$`)
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// fargateMemory lists the memory sizes (MiB) Fargate accepts for each task
// CPU value (Amazon ECS Developer Guide, "Task CPU and memory").
var fargateMemory = map[int][]int{
	256:   {512, 1024, 2048},
	512:   steps(1024, 4096, 1024),
	1024:  steps(2048, 8192, 1024),
	2048:  steps(4096, 16384, 1024),
	4096:  steps(8192, 30720, 1024),
	8192:  steps(16384, 61440, 4096),
	16384: steps(32768, 122880, 8192),
}

func steps(from, to, step int) []int {
	var out []int
	for v := from; v <= to; v += step {
		out = append(out, v)
	}
	return out
}

// FargateMemoryOptions returns the memory sizes (MiB) Fargate allows with
// cpu units, or nil when cpu is not a Fargate CPU value.
func FargateMemoryOptions(cpu int) []int {
	return append([]int(nil), fargateMemory[cpu]...)
}

// ValidFargateSize reports whether cpu/memory is a Fargate task size.
func ValidFargateSize(cpu, memory int) bool {
	for _, m := range fargateMemory[cpu] {
		if m == memory {
			return true
		}
	}
	return false
}

// ReservedAppEnv are the wbo container's environment variables that
// wbo-deploy sets itself and app.env may not override: PORT (from app.port;
// the target group and health check use it), HOST (WBO must listen on all
// interfaces for the load balancer), WBO_HISTORY_DIR (the board directory the
// restore and backup sidecars share), REDIS_URL (the provisioned endpoint),
// and WBO_SAVE_INTERVAL and WBO_MAX_SAVE_DELAY (derived from
// storage.sync_interval: they bound the edits lost when a task dies).
func ReservedAppEnv() []string {
	return []string{"HOST", "PORT", "REDIS_URL", "WBO_HISTORY_DIR", "WBO_MAX_SAVE_DELAY", "WBO_SAVE_INTERVAL"}
}

// DefaultAppEnv are variables wbo-deploy sets for the load balancer setup
// that app.env may override, e.g. WBO_TRUST_PROXY_HOPS=2 behind a CDN.
func DefaultAppEnv() map[string]string {
	return map[string]string{
		"NODE_ENV":             "production",
		"WBO_IP_SOURCE":        "X-Forwarded-For",
		"WBO_TRUST_PROXY_HOPS": "1",
	}
}

// secretEnv are variables that carry credentials. Container environment
// variables are stored in plain text in the task definition, which anyone with
// ecs:DescribeTaskDefinition can read (AWS Foundational Security Best
// Practices ECS.8 flags the AWS credential variables).
var secretEnv = map[string]bool{
	"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "ECS_ENGINE_AUTH_DATA": true,
}

// IsStockImage reports whether image is the official lovasoa/wbo image, with
// any tag or digest, from Docker Hub or a mirror of it (a pull-through cache
// such as <registry>/docker-hub/lovasoa/wbo serves the same image).
func IsStockImage(image string) bool {
	ref := image
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i >= 0 && !strings.Contains(ref[i:], "/") {
		ref = ref[:i]
	}
	ref = strings.ToLower(ref)
	return ref == StockImage || strings.HasSuffix(ref, "/"+StockImage)
}

func (c *Config) validateApp(p *problems) {
	a := c.App
	if oneOf(p, "app.mode", a.Mode, ModeSharded, ModeSingle, ModeShared) &&
		a.Mode == ModeShared && IsStockImage(a.Image) && !a.SharesState {
		p.add("app.mode", a.Mode, "shared runs several tasks that serve the same boards, but the %s image keeps each board in one process: tasks would split a board's users and drop edits. Use mode sharded (each board served by exactly one task), or set app.shares_state: true if your image really shares board state", StockImage)
	}
	intRange(p, "app.shards", a.Shards, 1, MaxShards)
	switch img := a.Image; {
	case img == "":
		p.add("app.image", "", "must not be empty; the default is %s", DefaultImage)
	case len(img) > maxImageLen:
		p.add("app.image", img, "is %d characters long; ECS allows %d", len(img), maxImageLen)
	case !imageRE.MatchString(img):
		p.add("app.image", img, "%s is not a container image reference such as %s (no spaces or special characters)", show(img), DefaultImage)
	default:
		if _, path, _, _ := splitImage(img); path != strings.ToLower(path) {
			p.add("app.image", img, "%s: the repository name %s must be lower case (only a registry host and a tag may hold capitals), e.g. %s", show(img), show(path), strings.ToLower(path))
		}
	}
	intRange(p, "app.port", a.Port, 1, 65535)
	c.validateFargateSize(p)
	oneOf(p, "app.architecture", a.Architecture, "x86_64", "arm64")
	c.validateAppEnv(p)
	intRange(p, "app.health_check_grace_period", a.HealthCheckGracePeriod, 0, MaxHealthCheckGracePeriod)
	intRange(p, "app.ephemeral_storage_gb", a.EphemeralStorageGB, MinEphemeralStorageGB, MaxEphemeralStorageGB)
	if a.Mode == ModeShared {
		intRange(p, "app.desired_count", a.DesiredCount, 1, MaxTasks)
	}
}

func (c *Config) validateFargateSize(p *problems) {
	cpu, mem := c.App.CPU, c.App.Memory
	opts, ok := fargateMemory[cpu]
	if !ok {
		cpus := make([]int, 0, len(fargateMemory))
		for k := range fargateMemory {
			cpus = append(cpus, k)
		}
		sort.Ints(cpus)
		p.add("app.cpu", strconv.Itoa(cpu), "%d is not a Fargate CPU size; use one of %s (1024 = 1 vCPU)", cpu, joinInts(cpus))
		return
	}
	if !ValidFargateSize(cpu, mem) {
		p.add("app.memory", strconv.Itoa(mem), "%d MiB is not a Fargate memory size for app.cpu %d; use %s", mem, cpu, memoryChoices(opts))
	}
}

func memoryChoices(opts []int) string {
	if len(opts) <= 4 {
		return "one of " + joinInts(opts)
	}
	return strconv.Itoa(opts[0]) + " to " + strconv.Itoa(opts[len(opts)-1]) + " in steps of " + strconv.Itoa(opts[1]-opts[0])
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

func (c *Config) validateAppEnv(p *problems) {
	env := c.App.Env
	if len(env) > maxAppEnv {
		p.add("app.env", strconv.Itoa(len(env)), "has %d variables; at most %d are allowed", len(env), maxAppEnv)
	}
	reserved := map[string]bool{}
	for _, k := range ReservedAppEnv() {
		reserved[k] = true
	}
	for _, k := range sortedKeys(env) {
		f := keyField("app.env", k)
		up := strings.ToUpper(k)
		switch {
		case !envNameRE.MatchString(k):
			p.add(f, k, "%s is not a valid environment variable name (letters, digits and _, not starting with a digit)", show(k))
		case reserved[k]:
			p.add(f, k, "%s is set by wbo-deploy and cannot be overridden", k)
		case secretEnv[up] || strings.Contains(up, "SECRET") || strings.Contains(up, "PASSWORD"):
			p.add(f, k, "%s looks like a secret: app.env is stored in plain text in the ECS task definition, so wbo-deploy refuses secrets here", k)
		}
		if v := env[k]; len(v) > maxEnvValueLen || strings.ContainsRune(v, 0) {
			p.add(f, "", "value must be at most %d bytes without NUL characters", maxEnvValueLen)
		}
	}
}

func (c *Config) validateAutoscaling(p *problems) {
	as := c.Autoscaling
	oneOf(p, "autoscaling.policy", as.Policy, "target-tracking", "step")
	minOK := intRange(p, "autoscaling.min_capacity", as.MinCapacity, 1, MaxTasks)
	maxOK := intRange(p, "autoscaling.max_capacity", as.MaxCapacity, 1, MaxTasks)
	if minOK && maxOK && as.MinCapacity > as.MaxCapacity {
		p.add("autoscaling.min_capacity", strconv.Itoa(as.MinCapacity), "%d is above autoscaling.max_capacity %d", as.MinCapacity, as.MaxCapacity)
	} else if minOK && maxOK && c.App.Mode == ModeShared && !p.has("app.desired_count") {
		d := c.App.DesiredCount
		if d < as.MinCapacity || d > as.MaxCapacity {
			p.add("app.desired_count", strconv.Itoa(d), "%d must be between autoscaling.min_capacity %d and autoscaling.max_capacity %d", d, as.MinCapacity, as.MaxCapacity)
		}
	}
	intRange(p, "autoscaling.cpu_target", as.CPUTarget, 1, 100)
	intRange(p, "autoscaling.memory_target", as.MemoryTarget, 1, 100)
	intRange(p, "autoscaling.requests_per_target", as.RequestsPerTarget, 1, MaxRequestsPerTarget)
	intRange(p, "autoscaling.scale_out_cooldown", as.ScaleOutCooldown, 0, MaxCooldown)
	intRange(p, "autoscaling.scale_in_cooldown", as.ScaleInCooldown, 0, MaxCooldown)
}
