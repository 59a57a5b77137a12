package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestLoadNoSourcesGivesDefaults(t *testing.T) {
	cfg, err := Load(LoadOptions{Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*cfg, Default()) {
		t.Fatalf("got %#v, want Default()", *cfg)
	}
}

// flag > env > file > default, for a scalar, a list and a map.
func TestLoadPrecedence(t *testing.T) {
	file := writeConfig(t, `
stack: from-file
app:
  shards: 3
  image: example/file:1
network:
  public_subnets: [10.0.3.0/24, 10.0.4.0/24]
tags:
  Owner: file
`)
	env := []string{
		"WBO_DEPLOY_STACK=from-env",
		"WBO_DEPLOY_APP_SHARDS=4",
		"WBO_DEPLOY_NETWORK_PUBLIC_SUBNETS=10.0.5.0/24, 10.0.6.0/24",
		"WBO_DEPLOY_TAGS=Owner=env,Team=Boards",
	}
	tests := []struct {
		name      string
		env       []string
		overrides map[string]any
		check     func(t *testing.T, c *Config)
	}{
		{"file over default", []string{}, nil, func(t *testing.T, c *Config) {
			eq(t, "stack", c.Stack, "from-file")
			eq(t, "app.shards", c.App.Shards, 3)
			eq(t, "app.image", c.App.Image, "example/file:1")
			eq(t, "network.public_subnets", c.Network.PublicSubnets, []string{"10.0.3.0/24", "10.0.4.0/24"})
			eq(t, "tags", c.Tags, map[string]string{"Owner": "file"})
			eq(t, "app.port (default)", c.App.Port, 80)
			eq(t, "network.private_subnets (default)", c.Network.PrivateSubnets, Default().Network.PrivateSubnets)
		}},
		{"env over file", env, nil, func(t *testing.T, c *Config) {
			eq(t, "stack", c.Stack, "from-env")
			eq(t, "app.shards", c.App.Shards, 4)
			eq(t, "app.image (file)", c.App.Image, "example/file:1")
			eq(t, "network.public_subnets", c.Network.PublicSubnets, []string{"10.0.5.0/24", "10.0.6.0/24"})
			eq(t, "tags", c.Tags, map[string]string{"Owner": "env", "Team": "Boards"})
		}},
		{"flag over env", env, map[string]any{"stack": "from-flag", "app.shards": 5, "tags": map[string]string{"Owner": "flag"}}, func(t *testing.T, c *Config) {
			eq(t, "stack", c.Stack, "from-flag")
			eq(t, "app.shards", c.App.Shards, 5)
			eq(t, "tags", c.Tags, map[string]string{"Owner": "flag"})
			eq(t, "network.public_subnets (env)", c.Network.PublicSubnets, []string{"10.0.5.0/24", "10.0.6.0/24"})
		}},
		{"flag given as text", []string{}, map[string]any{"app.shards": "6", "alarms.enabled": "false", "network.availability_zones": "eu-west-1a,eu-west-1b"}, func(t *testing.T, c *Config) {
			eq(t, "app.shards", c.App.Shards, 6)
			eq(t, "alarms.enabled", c.Alarms.Enabled, false)
			eq(t, "network.availability_zones", c.Network.AvailabilityZones, []string{"eu-west-1a", "eu-west-1b"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(LoadOptions{ConfigFile: file, Env: tt.env, Overrides: tt.overrides})
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
		})
	}
}

func TestLoadRegionPrecedence(t *testing.T) {
	file := writeConfig(t, "region: eu-west-1\n")
	tests := []struct {
		name string
		env  []string
		ov   map[string]any
		want string
	}{
		{"file", []string{}, nil, "eu-west-1"},
		{"AWS_DEFAULT_REGION over file", []string{"AWS_DEFAULT_REGION=us-west-2"}, nil, "us-west-2"},
		{"AWS_REGION over AWS_DEFAULT_REGION", []string{"AWS_DEFAULT_REGION=us-west-2", "AWS_REGION=eu-central-1"}, nil, "eu-central-1"},
		{"WBO_DEPLOY_REGION over AWS_REGION", []string{"AWS_REGION=eu-central-1", "WBO_DEPLOY_REGION=ap-southeast-1"}, nil, "ap-southeast-1"},
		{"empty AWS_REGION is unset", []string{"AWS_REGION=", "AWS_DEFAULT_REGION=us-west-2"}, nil, "us-west-2"},
		{"--region over everything", []string{"AWS_REGION=eu-central-1", "WBO_DEPLOY_REGION=ap-southeast-1"}, map[string]any{"region": "sa-east-1"}, "sa-east-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(LoadOptions{ConfigFile: file, Env: tt.env, Overrides: tt.ov})
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "region", cfg.Region, tt.want)
		})
	}
}

// Viper lower-cases map keys; tag keys and environment variable names must
// come through exactly as written, from every source.
func TestLoadKeepsMapKeyCase(t *testing.T) {
	cfg := mustLoadYAML(t, `
tags: {CostCenter: "1234", owner: Alice}
app:
  env: {LOG_LEVEL: debug, WBO_MAX_EMIT_COUNT: 5}
`)
	eq(t, "tags", cfg.Tags, map[string]string{"CostCenter": "1234", "owner": "Alice"})
	eq(t, "app.env", cfg.App.Env, map[string]string{"LOG_LEVEL": "debug", "WBO_MAX_EMIT_COUNT": "5"})

	cfg, err := Load(LoadOptions{Env: []string{"WBO_DEPLOY_APP_ENV=LOG_LEVEL=warn,WBO_DEFAULT_BOARD=Lobby"}})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "app.env from env", cfg.App.Env, map[string]string{"LOG_LEVEL": "warn", "WBO_DEFAULT_BOARD": "Lobby"})
}

func TestLoadEnvNames(t *testing.T) {
	for key, want := range map[string]string{
		"network.vpc_cidr":                     "WBO_DEPLOY_NETWORK_VPC_CIDR",
		"app.shards":                           "WBO_DEPLOY_APP_SHARDS",
		"load_balancer.idle_timeout":           "WBO_DEPLOY_LOAD_BALANCER_IDLE_TIMEOUT",
		"cost.assumptions.requests_per_second": "WBO_DEPLOY_COST_ASSUMPTIONS_REQUESTS_PER_SECOND",
	} {
		eq(t, key, EnvVarName(key), want)
	}
	// No two keys may share a variable.
	seen := map[string]string{}
	for _, k := range Keys() {
		v := EnvVarName(k)
		if other, dup := seen[v]; dup {
			t.Errorf("%s and %s both map to %s", k, other, v)
		}
		seen[v] = k
	}
	// Every key is settable from the environment, with its type.
	cfg, err := Load(LoadOptions{Env: []string{
		"WBO_DEPLOY_NETWORK_VPC_CIDR=10.9.0.0/16",
		"WBO_DEPLOY_LOAD_BALANCER_IDLE_TIMEOUT=120",
		"WBO_DEPLOY_ECS_CONTAINER_INSIGHTS=false",
		"WBO_DEPLOY_COST_ASSUMPTIONS_REQUESTS_PER_SECOND=2.5",
		"WBO_DEPLOY_ALARMS_SMS=+14155550100",
	}})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "network.vpc_cidr", cfg.Network.VPCCIDR, "10.9.0.0/16")
	eq(t, "load_balancer.idle_timeout", cfg.LoadBalancer.IdleTimeout, 120)
	eq(t, "ecs.container_insights", cfg.ECS.ContainerInsights, false)
	eq(t, "cost.assumptions.requests_per_second", cfg.Cost.Assumptions.RequestsPerSecond, 2.5)
	eq(t, "alarms.sms", cfg.Alarms.SMS, []string{"+14155550100"})
}

// Environment variables without our prefix are not configuration: no error,
// no effect (they belong to other tools). A WBO_DEPLOY_ variable that names
// no key is a typo, reported as an unknown key in the file is, with the
// closest variable that exists.
func TestLoadIgnoresForeignEnvAndReportsUnknownOwnVariables(t *testing.T) {
	cfg, err := Load(LoadOptions{Env: []string{"STACK=nope", "AWS_PROFILE=dev", "malformed"}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*cfg, Default()) {
		t.Fatalf("env outside the schema changed the config: %#v", *cfg)
	}
	_, err = Load(LoadOptions{Env: []string{"WBO_DEPLOY_APP_SHARD=3", "WBO_DEPLOY_PROFILE=dev"}})
	if err == nil {
		t.Fatal("unknown WBO_DEPLOY_ variables accepted")
	}
	for _, want := range []string{"env.WBO_DEPLOY_APP_SHARD", "did you mean WBO_DEPLOY_APP_SHARDS?", "env.WBO_DEPLOY_PROFILE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestLoadBadEnvNamesFieldAndVariable(t *testing.T) {
	_, err := Load(LoadOptions{Env: []string{
		"WBO_DEPLOY_APP_SHARDS=two",
		"WBO_DEPLOY_ALARMS_ENABLED=maybe",
		"WBO_DEPLOY_TAGS=Owner",
		"WBO_DEPLOY_NETWORK_PUBLIC_SUBNETS=10.0.1.0/24,,10.0.2.0/24",
		"WBO_DEPLOY_COST_ASSUMPTIONS_GB_TRANSFERRED=lots",
		"WBO_DEPLOY_APP_PORT=99999999999999999999999",
	}})
	wantMessage(t, err, "app.shards", "whole number", "WBO_DEPLOY_APP_SHARDS")
	wantMessage(t, err, "alarms.enabled", "true or false", "WBO_DEPLOY_ALARMS_ENABLED")
	wantMessage(t, err, "tags", "KEY=VALUE")
	wantMessage(t, err, "network.public_subnets", "empty")
	wantMessage(t, err, "cost.assumptions.gb_transferred", "number")
	wantMessage(t, err, "app.port", "out of range")
	if n := len(asValidation(t, err).Problems); n != 6 {
		t.Errorf("got %d problems, want 6: %v", n, err)
	}
}

func TestLoadBadOverrides(t *testing.T) {
	_, err := Load(LoadOptions{Env: []string{}, Overrides: map[string]any{
		"shards":     3,
		"app.shards": []int{1},
		"stack":      42,
	}})
	wantMessage(t, err, "shards", "unknown", `"app.shards"`)
	wantMessage(t, err, "app.shards", "whole number")
	wantMessage(t, err, "stack", "string")
}

func TestLoadUnknownKeys(t *testing.T) {
	_, err := loadYAML(t, `
netwrok:
  vpc_cidr: 10.0.0.0/16
Stack: wbo
shards: 3
app:
  shard: 3
  imgae: lovasoa/wbo:v2.17.0
cost:
  assumptions:
    users: 5
load_balancer:
  bogus_setting_name: 1
"app.port": 8080
`)
	wantMessage(t, err, `["app.port"]`, "nested")
	wantMessage(t, err, "netwrok", `unknown key`, `did you mean "network"`)
	wantMessage(t, err, "Stack", `did you mean "stack"`)
	wantMessage(t, err, "shards", `did you mean "app.shards"`)
	wantMessage(t, err, "app.shard", `did you mean "shards"`)
	wantMessage(t, err, "app.imgae", `did you mean "image"`)
	wantMessage(t, err, "cost.assumptions.users", "unknown key")
	p := problemFor(t, err, "load_balancer.bogus_setting_name")
	if strings.Contains(p.Message, "did you mean") {
		t.Errorf("no suggestion expected for a key unlike any other: %q", p.Message)
	}
}

func TestLoadTypeConfusion(t *testing.T) {
	_, err := loadYAML(t, `
stack: [a, b]
tags: [a, b]
network:
  public_subnets: 10.0.1.0/24
  vpc_cidr: {a: 1}
app:
  shards: "two"
  port: 80.5
  cpu: 1e40
  shares_state: "yes"
  env: {A: [1, 2]}
alarms:
  sms: [+4915112345678]
  cpu_threshold: high
logs: 30
`)
	wantMessage(t, err, "stack", "must be a string", "a list")
	wantMessage(t, err, "tags", "mapping", "a list")
	wantMessage(t, err, "network.public_subnets", "must be a list")
	wantMessage(t, err, "network.vpc_cidr", "must be a string", "a mapping")
	wantMessage(t, err, "app.shards", "whole number", `"two"`)
	wantMessage(t, err, "app.port", "whole number", "80.5")
	wantMessage(t, err, "app.cpu", "out of range")
	wantMessage(t, err, "app.shares_state", "true or false")
	wantMessage(t, err, "app.env.A", "must be a string")
	wantMessage(t, err, "alarms.sms[0]", "must be a string", "quotes")
	wantMessage(t, err, "alarms.cpu_threshold", "must be a number")
	wantMessage(t, err, "logs", "mapping of settings", "retention_days")
}

// Anchors and aliases are fine when they resolve to the right type, and an
// error naming the field when they do not.
func TestLoadAnchors(t *testing.T) {
	cfg := mustLoadYAML(t, `
network:
  public_subnets: &pub [10.0.1.0/24, 10.0.2.0/24]
  private_subnets: [10.0.10.0/24, 10.0.11.0/24]
tags: &tags {Team: boards}
app:
  env: *tags
`)
	eq(t, "app.env", cfg.App.Env, map[string]string{"Team": "boards"})

	cfg = mustLoadYAML(t, `
autoscaling: &as
  min_capacity: 2
  max_capacity: 4
`)
	eq(t, "autoscaling.min_capacity", cfg.Autoscaling.MinCapacity, 2)

	_, err := loadYAML(t, `
network:
  public_subnets: &subs [10.0.1.0/24, 10.0.2.0/24]
tags: *subs
app:
  shards: *subs
`)
	wantMessage(t, err, "tags", "a list")
	wantMessage(t, err, "app.shards", "whole number", "a list")

	// A merge key that brings in an unknown key is caught too.
	_, err = loadYAML(t, `
base: &base {shards: 2, replicas: 3}
app:
  <<: *base
`)
	problemFor(t, err, "base")
	wantMessage(t, err, "app.replicas", "unknown key", `"redis.replicas"`)
}

func TestLoadFileProblems(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(LoadOptions{ConfigFile: missing, Env: []string{}})
	wantMessage(t, err, FieldConfigFile, "does not exist")

	_, err = Load(LoadOptions{ConfigFile: t.TempDir(), Env: []string{}})
	wantMessage(t, err, FieldConfigFile, "directory")

	_, err = loadYAML(t, "stack: [unclosed\n")
	wantMessage(t, err, FieldConfigFile, "invalid YAML")

	_, err = loadYAML(t, "stack: a\n---\nstack: b\n")
	wantMessage(t, err, FieldConfigFile, "more than one YAML document")

	_, err = loadYAML(t, "- a\n- b\n")
	wantMessage(t, err, FieldConfigFile, "mapping")

	_, err = loadYAML(t, "stack: a\nstack: b\n")
	wantMessage(t, err, FieldConfigFile, "already defined")

	_, err = loadYAML(t, strings.Repeat("#", maxConfigFileSize+1))
	wantMessage(t, err, FieldConfigFile, "larger than")

	// Empty and comment-only files are the defaults.
	for _, body := range []string{"", "# nothing\n", "stack:\n"} {
		cfg := mustLoadYAML(t, body)
		if !reflect.DeepEqual(*cfg, Default()) {
			t.Errorf("%q: got %#v, want defaults", body, *cfg)
		}
	}
}

func TestLoadSearchDefault(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	cfg, err := Load(LoadOptions{SearchDefault: true, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "stack without a file", cfg.Stack, "wbo")

	if err := os.WriteFile(filepath.Join(dir, DefaultConfigFile), []byte("stack: found\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err = Load(LoadOptions{SearchDefault: true, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "stack from ./wbo-deploy.yaml", cfg.Stack, "found")

	cfg, err = Load(LoadOptions{Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "stack when not searching", cfg.Stack, "wbo")
}

// Each Load has its own viper: concurrent loads with different inputs do not
// see each other's values.
func TestLoadConcurrentIsolation(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stack := fmt.Sprintf("stack-%d", i)
			cfg, err := Load(LoadOptions{Env: []string{"WBO_DEPLOY_APP_SHARDS=" + fmt.Sprint(i%16+1)}, Overrides: map[string]any{"stack": stack}})
			if err != nil {
				errs <- err
				return
			}
			if cfg.Stack != stack || cfg.App.Shards != i%16+1 {
				errs <- fmt.Errorf("load %d got stack %q shards %d", i, cfg.Stack, cfg.App.Shards)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// The returned Config owns its maps and slices: changing one does not change
// the next Default() or Load.
func TestLoadReturnsIndependentValues(t *testing.T) {
	a, err := Load(LoadOptions{Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	a.Tags["x"] = "y"
	a.Network.PublicSubnets[0] = "changed"
	b, err := Load(LoadOptions{Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*b, Default()) {
		t.Fatal("a change to one loaded config leaked into the next")
	}
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

// A hostile or wrong file yields a bounded number of problems.
func TestLoadBoundsProblemCount(t *testing.T) {
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, "unknown_%d: x\n", i)
	}
	_, err := loadYAML(t, b.String())
	ve := asValidation(t, err)
	if len(ve.Problems) != maxUnknownKeys+1 {
		t.Fatalf("got %d problems, want %d", len(ve.Problems), maxUnknownKeys+1)
	}
	wantMessage(t, err, FieldConfigFile, "10 more unknown keys")

	_, err = loadYAML(t, "alarms:\n  email: ["+strings.Repeat("1, ", maxCollection)+"1]\n")
	ve = asValidation(t, err)
	if len(ve.Problems) != 1 {
		t.Fatalf("got %d problems, want 1", len(ve.Problems))
	}
	wantMessage(t, err, "alarms.email", "1001 items")
}
