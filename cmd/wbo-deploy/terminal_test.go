package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every item of the terminal-experience issue that a pipe can show, each
// failing on the behaviour it replaces.

func TestCompletionForAnUnknownShellIsAUsageError(t *testing.T) {
	c := newCLI(t)
	r := c.run("completion", "tcsh")
	if r.code != 2 || !strings.Contains(r.err, `"tcsh" is not a supported shell`) {
		t.Fatalf("completion tcsh: exit %d\n%s", r.code, r.err)
	}
	if r := c.run("completion", "bash"); r.code != 0 || !strings.Contains(r.out, "bash completion") {
		t.Fatalf("completion bash: exit %d\n%s", r.code, r.err)
	}
}

func TestVersionFlagAndCommand(t *testing.T) {
	c := newCLI(t)
	r := c.mustCode(0, "--version")
	if !strings.HasPrefix(r.out, "wbo-deploy test") {
		t.Fatalf("--version: %q", r.out)
	}
	r = c.mustCode(0, "version", "-o", "json")
	var doc map[string]string
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil || doc["version"] != "test" || doc["go"] == "" {
		t.Fatalf("version -o json: %v %q", err, r.out)
	}
}

func TestValidateChecksTheConfigurationOnly(t *testing.T) {
	c := newCLI(t)
	r := c.mustCode(0, "validate")
	if !strings.Contains(r.out, "Configuration valid") {
		t.Fatalf("validate: %q", r.out)
	}
	bad := filepath.Join(c.dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("app:\n  shards: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = c.mustCode(2, "--config", bad, "validate")
	if !strings.Contains(r.err, "app.shards") {
		t.Fatalf("validate does not name the field:\n%s", r.err)
	}
	if n := len(c.cloud.Calls()); n != 0 {
		t.Fatalf("validate made %d AWS calls", n)
	}
}

func TestOtherToolsWordsGetAHint(t *testing.T) {
	c := newCLI(t)
	for args, want := range map[string]string{
		"apply":             "wbo-deploy up",
		"deploy":            "wbo-deploy up",
		"up -auto-approve":  "--yes",
		"teardown":          "destroy",
		"destroy -auto-app": "--yes",
	} {
		r := c.run(strings.Fields(args)...)
		if r.code != 2 || !strings.Contains(r.err, want) {
			t.Errorf("%s: exit %d, want 2 and a hint naming %q:\n%s", args, r.code, want, r.err)
		}
	}
	if n := len(c.cloud.Calls()); n != 0 {
		t.Fatalf("%d AWS calls for mistyped commands", n)
	}
}

func TestFlagErrorsSpeakPlainly(t *testing.T) {
	c := newCLI(t)
	cases := []struct {
		args []string
		want string
		not  string
	}{
		{[]string{"logs", "--shard", "abc"}, `--shard: "abc" is not a shard number`, "strconv"},
		{[]string{"logs", "--since", "yesterday"}, `--since: "yesterday" is not a duration`, "--since: --since"},
		{[]string{"status", "--wait-healthy", "-5m"}, "--wait-healthy: -5m0s is negative", ""},
		{[]string{"iam-policy", "--partition", "foo"}, `--partition: "foo" is not an AWS partition`, ""},
	}
	for _, tc := range cases {
		r := c.run(tc.args...)
		if r.code != 2 || !strings.Contains(r.err, tc.want) || (tc.not != "" && strings.Contains(r.err, tc.not)) {
			t.Errorf("%v: exit %d, want 2 and %q:\n%s", tc.args, r.code, tc.want, r.err)
		}
	}
	if n := len(c.cloud.Calls()); n != 0 {
		t.Fatalf("%d AWS calls for bad flags", n)
	}
}

func TestIAMPolicyHelpShowsItsFlagsWithoutPlaceholders(t *testing.T) {
	c := newCLI(t)
	r := c.mustCode(0, "iam-policy", "--help")
	if !strings.Contains(r.out, "--live-prices ") || strings.Contains(r.out, "--live-prices cost") {
		t.Fatalf("iam-policy --help:\n%s", r.out)
	}
}

func TestUnpinnedImageIsWarnedAbout(t *testing.T) {
	c := newCLI(t)
	for _, img := range []string{"lovasoa/wbo", "lovasoa/wbo:latest"} {
		p := filepath.Join(c.dir, "latest.yaml")
		if err := os.WriteFile(p, []byte("app:\n  image: "+img+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := c.mustCode(0, "--config", p, "validate")
		if !strings.Contains(r.err, "Warning: app.image") || !strings.Contains(r.err, "pin a version tag") {
			t.Errorf("%s: no warning:\n%s", img, r.err)
		}
	}
	if r := c.mustCode(0, "validate"); strings.Contains(r.err, "Warning") {
		t.Fatalf("the pinned default image is warned about:\n%s", r.err)
	}
}

// Without a terminal, up needs --yes before it changes anything, as
// terraform apply does; with one, a no answers leaves everything untouched.
func TestUpAsksBeforeAnyChange(t *testing.T) {
	c := newCLI(t)
	r := c.run("up")
	if r.code != 2 || !strings.Contains(r.err, "pass --yes") {
		t.Fatalf("up in a pipe without --yes: exit %d\n%s", r.code, r.err)
	}
	if !strings.Contains(r.err, "Plan:") || !strings.Contains(r.err, "/month") {
		t.Fatalf("up did not show the plan and its monthly cost before asking:\n%s", r.err)
	}
	if m := c.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("up without consent made mutating calls: %v", m)
	}
	c.tty, c.stdin = true, "n\n"
	if r := c.run("up"); r.code != 1 || !strings.Contains(r.err, "cancelled") {
		t.Fatalf("up answered no: exit %d\n%s", r.code, r.err)
	}
	if m := c.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("up answered no made mutating calls: %v", m)
	}
	c.stdin = "y\n"
	r = c.mustCode(0, "up")
	// A fresh create converges what its create call cannot set: not an update to report.
	if strings.Contains(r.err, "update enable_dns") || strings.Contains(r.err, "false → true") {
		t.Fatalf("a fresh create printed update lines:\n%s", r.err)
	}
	c.tty, c.stdin = false, ""
	c.mustCode(0, "up") // nothing to change: no consent needed
	// Destroy on a terminal wants the stack's name, not a bare y.
	c.tty, c.stdin = true, "y\n"
	before := len(c.cloud.MutatingCalls())
	if r := c.run("destroy"); r.code != 1 || !strings.Contains(r.err, "Type the stack name (wbo)") {
		t.Fatalf("destroy answered y: exit %d\n%s", r.code, r.err)
	}
	if n := len(c.cloud.MutatingCalls()); n != before {
		t.Fatalf("destroy answered y made %d mutating calls", n-before)
	}
	c.stdin = "wbo\n"
	r = c.mustCode(0, "destroy")
	if strings.Contains(r.err, "- boards") || strings.Contains(r.err, "boards                 delete") {
		t.Fatalf("the kept board bucket is shown as deleted:\n%s", r.err)
	}
}

// A failing -o json command still writes exactly one JSON document to
// stdout: the error.
func TestJSONFailureIsAJSONDocument(t *testing.T) {
	c := newCLI(t)
	r := c.run("up", "-o", "json") // no terminal, no --yes
	if r.code != 2 {
		t.Fatalf("exit %d\n%s", r.code, r.err)
	}
	var doc struct {
		Schema   string `json:"schema"`
		ExitCode int    `json:"exit_code"`
		Error    struct{ Code, Message string }
	}
	dec := json.NewDecoder(strings.NewReader(r.out))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not a JSON document: %v\n%q", err, r.out)
	}
	if dec.More() {
		t.Fatalf("more than one document on stdout:\n%s", r.out)
	}
	if doc.Schema != "wbo-deploy.error/v1" || doc.ExitCode != 2 || doc.Error.Code != "usage" || !strings.Contains(doc.Error.Message, "--yes") {
		t.Fatalf("error document: %+v", doc)
	}
}

func TestLogsWithoutEventsSaysSo(t *testing.T) {
	c := newCLI(t)
	c.mustCode(0, "up", "--yes")
	r := c.mustCode(0, "logs", "--since", "5m", "--filter", "nothing-matches-this")
	if !strings.Contains(r.err, `No log events matching "nothing-matches-this"`) || !strings.Contains(r.err, "--since 5m") {
		t.Fatalf("logs with no events printed:\nstdout %q\nstderr %q", r.out, r.err)
	}
}

// A run that cannot start (no credentials) leaves nothing on disk.
func TestNoCredentialsTouchesNothingOnDisk(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
	c := newCLI(t)
	c.creds = false
	for _, cmd := range []string{"up", "destroy"} {
		state := filepath.Join(c.dir, "nonexistent", "dir", "state.json")
		r := c.run("--state", state, cmd, "--yes")
		if r.code != 1 || !strings.Contains(r.err, "no usable AWS credentials") {
			t.Fatalf("%s without credentials: exit %d\n%s", cmd, r.code, r.err)
		}
		if _, err := os.Stat(filepath.Join(c.dir, "nonexistent")); err == nil {
			t.Fatalf("%s without credentials created the state directory", cmd)
		}
	}
}

// A VPC CIDR change replaces everything in the VPC, and the plan says so
// (it counted only the five resources whose own fields changed).
func TestPlanCountsWhatAReplacementReallyReplaces(t *testing.T) {
	c := newCLI(t)
	c.mustCode(0, "up", "--yes")
	cfg := filepath.Join(c.dir, "cidr.yaml")
	if err := os.WriteFile(cfg, []byte("network:\n  vpc_cidr: 10.1.0.0/16\n  public_subnets: [10.1.1.0/24, 10.1.2.0/24]\n  private_subnets: [10.1.10.0/24, 10.1.11.0/24]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.mustCode(0, "--config", cfg, "plan", "-o", "json")
	var doc struct {
		Summary   map[string]int
		Resources []struct{ Name, Action, Note string }
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatal(err)
	}
	action := map[string]string{}
	for _, res := range doc.Resources {
		action[res.Name] = res.Action
	}
	for _, name := range []string{"vpc", "alb", "sg-tasks", "target-group-shard-0"} {
		if _, ok := action[name]; ok && action[name] != "replace" {
			t.Errorf("%s: %s, want replace (it is in the VPC)", name, action[name])
		}
	}
	if action["board-bucket"] == "replace" || action["boards"] == "replace" {
		t.Errorf("the board bucket is outside the VPC but counted as replaced")
	}
	if doc.Summary["replace"] <= 5 {
		t.Fatalf("plan counts %d replacements; everything in the VPC is replaced:\n%v", doc.Summary["replace"], action)
	}
}

// The common AWS failures get one sentence a person can act on; the SDK's
// text stays behind -v.
func TestCommonFailuresAreOneActionableSentence(t *testing.T) {
	t.Run("unknown profile", func(t *testing.T) {
		t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "config"))
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "credentials"))
		c := newCLI(t)
		c.creds = false
		r := c.run("--profile", "nope", "status")
		if r.code != 1 || !strings.Contains(r.err, `AWS profile "nope" does not exist`) || strings.Contains(r.err, "failed to get shared config profile") {
			t.Fatalf("exit %d:\n%s", r.code, r.err)
		}
	})
	t.Run("unreachable endpoint", func(t *testing.T) {
		c := newCLI(t)
		c.noSim = true
		// A loopback port nothing listens on.
		r := c.run("--endpoint-url", "http://127.0.0.1:1", "status")
		if r.code != 1 || !strings.Contains(r.err, "cannot reach the AWS endpoint 127.0.0.1:1 (STS GetCallerIdentity)") || !strings.Contains(r.err, "--endpoint-url") {
			t.Fatalf("exit %d:\n%s", r.code, r.err)
		}
		if strings.Contains(r.err, "dial tcp") {
			t.Fatalf("raw SDK text without -v:\n%s", r.err)
		}
		r = c.run("-v", "--endpoint-url", "http://127.0.0.1:1", "status")
		if !strings.Contains(r.err, "detail:") || !strings.Contains(r.err, "connect") {
			t.Fatalf("-v does not show the detail:\n%s", r.err)
		}
	})
}

func TestInitWritesAValidCommentedConfigAndNeverOverwrites(t *testing.T) {
	c := newCLI(t)
	r := c.mustCode(0, "--region", "eu-west-1", "init", "--shards", "3", "--redis", "none", "--alarm-email", "ops@example.com")
	if !strings.Contains(r.out, "Wrote wbo-deploy.yaml") {
		t.Fatalf("init: %q", r.out)
	}
	data, err := os.ReadFile(filepath.Join(c.dir, "wbo-deploy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"region: eu-west-1", "shards: 3", "mode: none", `"ops@example.com"`, "# "} {
		if !strings.Contains(string(data), want) {
			t.Fatalf("written config lacks %q:\n%s", want, data)
		}
	}
	// Every command reads it (./wbo-deploy.yaml is the default config;
	// AWS_REGION would win over the file, so none is set here).
	c.env = []string{}
	r = c.mustCode(0, "plan", "-o", "json")
	if !strings.Contains(r.out, `"region": "eu-west-1"`) || strings.Contains(r.out, "elasticache.replication-group") {
		t.Fatalf("plan does not follow the written config:\n%s", r.out)
	}
	before, _ := os.ReadFile(filepath.Join(c.dir, "wbo-deploy.yaml"))
	r = c.run("init", "--shards", "5")
	if r.code != 2 || !strings.Contains(r.err, "already exists") {
		t.Fatalf("second init: exit %d\n%s", r.code, r.err)
	}
	after, _ := os.ReadFile(filepath.Join(c.dir, "wbo-deploy.yaml"))
	if string(before) != string(after) {
		t.Fatal("init overwrote the configuration")
	}
	// A bad value is refused naming the field, and nothing is written.
	r = c.run("init", "--file", "other.yaml", "--shards", "40")
	if r.code != 2 || !strings.Contains(r.err, "app.shards") {
		t.Fatalf("init --shards 40: exit %d\n%s", r.code, r.err)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "other.yaml")); err == nil {
		t.Fatal("an invalid config was written")
	}
}

func TestInitAsksOnATerminal(t *testing.T) {
	c := newCLI(t)
	c.tty, c.stdin = true, "ap-south-1\n4\n\nme@example.com\n"
	c.mustCode(0, "init")
	data, err := os.ReadFile(filepath.Join(c.dir, "wbo-deploy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"region: ap-south-1", "shards: 4", "mode: none", `"me@example.com"`} {
		if !strings.Contains(string(data), want) {
			t.Fatalf("answers not in the config (%q):\n%s", want, data)
		}
	}
}
