package sidecar

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func validConfig() Config {
	return Config{Bucket: "wbo-prod-123456789012-eu-west-1", Prefix: "boards/", DataDir: "/data", SyncInterval: 10}
}

func TestEnvSingleShard(t *testing.T) {
	env, err := validConfig().Environ()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"WBO_BUCKET=wbo-prod-123456789012-eu-west-1",
		"WBO_DATA_DIR=/data",
		"WBO_PREFIX=boards/",
		"WBO_SYNC_INTERVAL=10",
	}
	if !slices.Equal(env, want) {
		t.Fatalf("Environ() = %q, want %q (no WBO_SHARD_KEYS: owns every board)", env, want)
	}
}

func TestEnvShardedIsSortedAndComplete(t *testing.T) {
	c := validConfig()
	c.Keys = []byte{0xd0, 'b', 'a', '0'}
	c.Region = "eu-west-1"
	c.UID, c.GID = 1001, 1002
	kv, err := c.Env()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var names []string
	for _, p := range kv {
		names = append(names, aws.ToString(p.Name))
		got[aws.ToString(p.Name)] = aws.ToString(p.Value)
	}
	if !slices.IsSorted(names) {
		t.Errorf("Env names not sorted: %q", names)
	}
	want := map[string]string{
		"AWS_DEFAULT_REGION": "eu-west-1", "WBO_BUCKET": c.Bucket, "WBO_DATA_DIR": "/data", "WBO_PREFIX": "boards/",
		"WBO_SHARD_KEYS": "30 61 62 d0", "WBO_SYNC_INTERVAL": "10", "WBO_UID": "1001", "WBO_GID": "1002",
	}
	if len(got) != len(want) {
		t.Errorf("Env has %d entries, want %d: %v", len(got), len(want), got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Env %s = %q, want %q", k, got[k], v)
		}
	}
}

func TestConfigValidateNamesTheField(t *testing.T) {
	cases := []struct {
		field  string
		mutate func(*Config)
	}{
		{"bucket", func(c *Config) { c.Bucket = "" }},
		{"bucket", func(c *Config) { c.Bucket = "Upper_Case" }},
		{"bucket", func(c *Config) { c.Bucket = "a..b" }},
		{"prefix", func(c *Config) { c.Prefix = "boards" }},
		{"prefix", func(c *Config) { c.Prefix = "/boards/" }},
		{"prefix", func(c *Config) { c.Prefix = "bo*rds/" }},
		{"prefix", func(c *Config) { c.Prefix = "a//b/" }},
		{"data dir", func(c *Config) { c.DataDir = "data" }},
		{"data dir", func(c *Config) { c.DataDir = "/" }},
		{"data dir", func(c *Config) { c.DataDir = "/data/" }},
		{"data dir", func(c *Config) { c.DataDir = "/da ta" }},
		{"sync interval", func(c *Config) { c.SyncInterval = 0 }},
		{"sync interval", func(c *Config) { c.SyncInterval = MaxSyncInterval + 1 }},
		{"keys", func(c *Config) { c.Keys = []byte{'a', 'B'} }},
		{"uid", func(c *Config) { c.UID = -1 }},
		{"gid", func(c *Config) { c.GID = -1 }},
		{"lease name", func(c *Config) { c.LeaseName = ".leases" }},
		{"lease name", func(c *Config) { c.LeaseName = "wbo/shard" }},
		{"lease name", func(c *Config) { c.LeaseName = "wbo shard" }},
		{"lease name", func(c *Config) { c.LeaseName = strings.Repeat("a", 256) }},
		{"lease name", func(c *Config) { c.LeaseTTL = 60 }},
		{"lease name", func(c *Config) { c.LeaseWait = 600 }},
		{"lease name", func(c *Config) { c.Cluster = "wbo" }},
		{"cluster", func(c *Config) { c.LeaseName, c.Cluster = "wbo-shard-0", "wbo/x" }},
		{"lease ttl", func(c *Config) { c.LeaseName, c.LeaseTTL = "wbo-shard-0", 5 }},
		{"lease ttl", func(c *Config) { c.LeaseName, c.LeaseTTL = "wbo-shard-0", -1 }},
		{"lease ttl", func(c *Config) { c.LeaseName, c.LeaseTTL = "wbo-shard-0", MaxLeaseSeconds+1 }},
		{"lease wait", func(c *Config) { c.LeaseName, c.LeaseWait = "wbo-shard-0", DefaultLeaseTTL-1 }},
		{"lease wait", func(c *Config) { c.LeaseName, c.LeaseTTL, c.LeaseWait = "wbo-shard-0", 400, 300 }},
		{"lease wait", func(c *Config) { c.LeaseName, c.LeaseWait = "wbo-shard-0", MaxLeaseSeconds+1 }},
	}
	for _, tc := range cases {
		c := validConfig()
		tc.mutate(&c)
		_, err := c.Env()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%+v: error %v, want a FieldError for %q", c, err, tc.field)
		}
	}
	c := validConfig()
	c.Prefix = ""
	if err := c.Validate(); err != nil {
		t.Errorf("empty prefix (bucket root) rejected: %v", err)
	}
}

func TestEnvLease(t *testing.T) {
	c := validConfig()
	c.LeaseName = "wbo-shard-0"
	env, err := c.Environ()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"WBO_BUCKET=wbo-prod-123456789012-eu-west-1",
		"WBO_DATA_DIR=/data",
		"WBO_LEASE_NAME=wbo-shard-0",
		"WBO_LEASE_TTL=150",
		"WBO_LEASE_WAIT=300",
		"WBO_PREFIX=boards/",
		"WBO_SYNC_INTERVAL=10",
	}
	if !slices.Equal(env, want) {
		t.Fatalf("Environ() = %q, want %q (defaults filled in)", env, want)
	}
	c.LeaseTTL, c.LeaseWait = 20, 20
	vars, err := c.Vars()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range vars {
		got[v[0]] = v[1]
	}
	if got["WBO_LEASE_TTL"] != "20" || got["WBO_LEASE_WAIT"] != "20" {
		t.Fatalf("explicit lease TTL and wait not passed on: %v", got)
	}
}

func TestCompact(t *testing.T) {
	in := "# comment\n\n  echo 'a  # not a comment'\n\t# indented comment\n\tif true; then\n    x=1 # trailing stays\n  fi\n"
	want := "echo 'a  # not a comment'\nif true; then\nx=1 # trailing stays\nfi\n"
	if got := Compact(in); got != want {
		t.Fatalf("Compact = %q, want %q", got, want)
	}
}

// The scripts go into the task definition (at most 64 KiB in all, with the
// wbo container and the JSON escaping; the simulated ECS enforces that limit
// in the provision tests): keep them small.
func TestScriptsAreSmall(t *testing.T) {
	if n := len(RestoreScript) + len(BackupScript); n > 12<<10 {
		t.Fatalf("restore + backup scripts are %d bytes; keep them under 12 KiB", n)
	}
	for _, s := range []string{RestoreScript, BackupScript} {
		if strings.Contains(s, "\n#") {
			t.Fatal("a compacted script still holds comment lines")
		}
	}
	if !slices.Equal(EntryPoint, []string{"/bin/sh", "-c"}) || RestoreCommand()[0] != RestoreScript || BackupCommand()[0] != BackupScript {
		t.Fatal("entry point and commands do not run the scripts with sh -c")
	}
}

func TestScriptsParseInEveryShell(t *testing.T) {
	for _, sh := range shells(t) {
		for name, s := range map[string]string{"restore": RestoreScript, "backup": BackupScript} {
			if out, err := shellCommand(context.Background(), sh+" -n", s).CombinedOutput(); err != nil {
				t.Errorf("%s -n %s: %v\n%s", sh, name, err, out)
			}
		}
	}
}
