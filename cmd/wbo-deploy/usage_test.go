package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/app"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// Bad configuration, flags and environment: exit 2, the field named, and no
// AWS call made.
func TestBadInputExitsTwoNamingTheField(t *testing.T) {
	cases := []struct {
		name, yaml string
		args       []string
		env        []string
		field      string
	}{
		{"vpc cidr not a cidr", "network:\n  vpc_cidr: 10.0.0.0/33\n", nil, nil, "network.vpc_cidr"},
		{"subnet outside vpc", "network:\n  public_subnets: [10.1.1.0/24, 10.0.2.0/24]\n", nil, nil, "network.public_subnets[0]"},
		{"overlapping subnets", "network:\n  private_subnets: [10.0.10.0/24, 10.0.10.0/25]\n", nil, nil, "network.private_subnets"},
		{"three subnets", "network:\n  public_subnets: [10.0.1.0/24, 10.0.2.0/24, 10.0.3.0/24]\n", nil, nil, "network.public_subnets"},
		{"same AZ twice", "network:\n  availability_zones: [us-east-1a, us-east-1a]\n", nil, nil, "network.availability_zones"},
		{"stack upper case", "stack: WBO\n", nil, nil, "stack"},
		{"stack too long", "stack: " + strings.Repeat("a", 40) + "\n", nil, nil, "stack"},
		{"unknown key", "netwrok:\n  vpc_cidr: 10.0.0.0/16\n", nil, nil, "netwrok"},
		{"shards not a number", "app:\n  shards: two\n", nil, nil, "app.shards"},
		{"bad fargate pair", "app:\n  cpu: 256\n  memory: 4096\n", nil, nil, "app.memory"},
		{"bad architecture", "app:\n  architecture: sparc\n", nil, nil, "app.architecture"},
		{"shared with stock image", "app:\n  mode: shared\n", nil, nil, "app.mode"},
		{"replicas out of range", "redis:\n  replicas: 9\n", nil, nil, "redis.replicas"},
		{"retention not accepted", "logs:\n  retention_days: 31\n", nil, nil, "logs.retention_days"},
		{"bucket name invalid", "storage:\n  bucket: Bad_Bucket\n", nil, nil, "storage.bucket"},
		{"negative port", "app:\n  port: -1\n", nil, nil, "app.port"},
		{"sms not e164", "alarms:\n  sms: ['0612345678']\n", nil, nil, "alarms.sms[0]"},
		{"flag: bad stack", "", []string{"--stack", "no spaces"}, nil, "stack"},
		{"env: bad shards", "", nil, []string{"WBO_DEPLOY_APP_SHARDS=lots"}, "app.shards"},
		{"env: bad cidr", "", nil, []string{"WBO_DEPLOY_NETWORK_VPC_CIDR=nope"}, "network.vpc_cidr"},
		{"bad output flag", "", []string{"-o", "yaml"}, nil, "--output"},
		{"image with upper case", "app:\n  image: Lovasoa/WBO:v1.30.0\n", nil, nil, "app.image"},
		{"env: unknown variable", "", nil, []string{"WBO_DEPLOY_APP_SHARD=3"}, "env.WBO_DEPLOY_APP_SHARD"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			c.env = append(c.env, tc.env...)
			args := []string{}
			if tc.yaml != "" {
				p := filepath.Join(c.dir, "bad.yaml")
				if err := os.WriteFile(p, []byte(tc.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--config", p)
			}
			args = append(args, tc.args...)
			for _, cmd := range []string{"up", "plan", "destroy"} {
				r := c.run(append(append([]string{}, args...), cmd)...)
				if r.code != 2 {
					t.Fatalf("%s: exit %d, want 2\n%s", cmd, r.code, r.err)
				}
				if !strings.Contains(r.err, tc.field) {
					t.Fatalf("%s: error does not name %s:\n%s", cmd, tc.field, r.err)
				}
			}
			if n := len(c.cloud.Calls()); n != 0 {
				t.Fatalf("%d AWS calls made with bad input", n)
			}
			if _, err := os.Stat(filepath.Join(c.dir, "state.json")); err == nil {
				t.Fatal("a state file was written for bad input")
			}
		})
	}
}

func TestNoRegionIsOneClearSentence(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	c := newCLI(t)
	c.env = []string{}
	r := c.run("up")
	if r.code != 1 || !strings.Contains(r.err, "no AWS region: set --region") {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.err)
	}
	if n := len(c.cloud.Calls()); n != 0 {
		t.Fatalf("%d AWS calls made without a region", n)
	}
}

func TestUnknownCommandAndArgsAreUsageErrors(t *testing.T) {
	c := newCLI(t)
	if r := c.run("up", "extra"); r.code != 2 {
		t.Fatalf("extra argument: exit %d", r.code)
	}
	if r := c.run("up", "--no-such-flag"); r.code != 2 {
		t.Fatalf("unknown flag: exit %d", r.code)
	}
}

func TestNoCredentialsIsOneClearSentence(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"),
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "",
	} {
		t.Setenv(k, v)
	}
	c := newCLI(t)
	var out, errb bytes.Buffer
	g := &app.Globals{Version: "test", Env: []string{"AWS_REGION=us-east-1"}, ClockScale: 1e-4, Overrides: map[string]any{},
		StateFile: filepath.Join(c.dir, "state.json"),
		IO:        &ui.Streams{In: strings.NewReader(""), Out: &out, Err: &errb},
		AWS:       awsclients.Options{APIOptions: c.cloud.APIOptions()}}
	err := app.Up(context.Background(), g, app.UpOptions{})
	if code := app.ExitCode(err); code != 1 {
		t.Fatalf("exit %d: %v", code, err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "no usable AWS credentials:") || strings.Count(msg, "\n") > 0 {
		t.Fatalf("not one clear sentence: %q", msg)
	}
	if n := len(c.cloud.Calls()); n != 0 {
		t.Fatalf("%d AWS calls made without credentials", n)
	}
	if _, err := os.Stat(g.StateFile); err == nil {
		t.Fatal("a state file was written without credentials")
	}
}

func TestUnknownCommandExitsTwo(t *testing.T) {
	if code := run([]string{"no-such-command"}); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if code := run([]string{"version"}); code != 0 {
		t.Fatalf("version: exit %d", code)
	}
}
