package iampolicy_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/wbo-deploy/wbo-deploy/internal/app"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/iampolicy"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// operatorKey signs the tool's calls; the simulated account authorizes them
// against exactly the policy iam-policy writes for the configuration of the
// step. adminKey is the test's own identity, changing the world behind the
// tool's back.
const (
	operatorKey = "AKIDOPERATOR"
	adminKey    = "AKIDADMIN"
)

// scenario runs a sequence of commands with one configuration against a
// fresh simulated account, as an operator holding exactly the iam-policy
// output for the configuration of each step, and returns the IAM actions
// every call of the tool was authorized as (implicit ones included).
//
// It runs in a testing/synctest bubble: on the virtual clock whether a
// deletion meets a lingering ENI (and so makes the calls that handle it)
// does not depend on how fast the machine is.
func scenario(t *testing.T, yaml string, steps func(run func(yaml string, f func(context.Context, *app.Globals) error), w *world)) (used map[string]bool, cfgs []*config.Config) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) { used, cfgs = scenarioIn(t, yaml, steps) })
	return used, cfgs
}

// madeUpCertARN in a scenario's configuration stands for an ISSUED
// certificate scenarioIn imports into the account.
const madeUpCertARN = "arn:aws:acm:us-east-1:123456789012:certificate/0c8a8c36-1a2b-4c3d-9e8f-0123456789ab"

func scenarioIn(t *testing.T, yaml string, steps func(run func(yaml string, f func(context.Context, *app.Globals) error), w *world)) (map[string]bool, []*config.Config) {
	t.Helper()
	cloud := awssim.New(awssim.Options{Scale: 2e-5})
	if err := cloud.SetIdentityPolicy(adminKey, awssim.AdministratorAccess); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var cfgs []*config.Config
	cert := ""
	run := func(y string, f func(context.Context, *app.Globals) error) {
		t.Helper()
		// The listener's certificate must exist in the account's ACM.
		if strings.Contains(y, madeUpCertARN) {
			if cert == "" {
				cert = cloud.ImportCertificate("wbo.example.com", time.Now().Add(365*24*time.Hour))
			}
			y = strings.ReplaceAll(y, madeUpCertARN, cert)
		}
		g, errb, cfg := operatorRun(t, cloud, dir, y)
		cfgs = append(cfgs, cfg)
		doc, err := iampolicy.Build(cfg, "aws", cloud.Account, cloud.Region, iampolicy.Options{}).JSON()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.State.Backend == config.StateS3 {
			g.StateFile = "" // the state is in the bucket
		}
		if err := cloud.SetIdentityPolicy(operatorKey, string(doc)); err != nil {
			t.Fatal(err)
		}
		if err := f(context.Background(), g); err != nil && app.ExitCode(err) != app.ExitDegraded {
			t.Fatalf("%v\n%s", err, errb.String())
		}
	}
	w := &world{t: t, cloud: cloud, state: filepath.Join(dir, "state.json")}
	steps(run, w)
	used := map[string]bool{}
	for _, c := range cloud.Calls() {
		if c.AccessKey != operatorKey {
			continue // the test's own doing
		}
		if denied[c.Err] {
			t.Errorf("%s.%s was refused (%s): the tool went on without it", c.Service, c.Operation, c.Err)
		}
		for _, a := range c.Actions {
			used[a] = true
		}
	}
	return used, cfgs
}

// operatorRun writes yaml as the configuration in dir and returns the
// process context of one command signed with operatorKey, its stderr, and
// the configuration it loads.
func operatorRun(t *testing.T, cloud *awssim.Cloud, dir, yaml string) (*app.Globals, *bytes.Buffer, *config.Config) {
	t.Helper()
	cfgPath := filepath.Join(dir, "wbo-deploy.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	g := &app.Globals{Version: "test", ConfigFile: cfgPath, HTTP: cloud.PublicHTTP(), StateFile: filepath.Join(dir, "state.json"), Yes: true,
		Env: []string{"AWS_REGION=us-east-1"}, ClockScale: 2e-5, Overrides: map[string]any{},
		IO: &ui.Streams{In: strings.NewReader(""), Out: &out, Err: &errb},
		AWS: awsclients.Options{Credentials: credentials.NewStaticCredentialsProvider(operatorKey, "secret", ""),
			APIOptions: cloud.APIOptions(), RetryMode: "standard", MaxBackoff: time.Millisecond}}
	cfg, err := g.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	return g, &errb, cfg
}

// denied are the codes of refused calls (awssim authz.go).
var denied = map[string]bool{"AccessDenied": true, "AccessDeniedException": true, "UnauthorizedOperation": true,
	"AuthorizationError": true, "Forbidden": true}

// boardCommands runs every board command once (import, restore and rm
// restart the owning shard: UpdateService, ListTasks, DescribeTasks).
func boardCommands(w *world) func(context.Context, *app.Globals) error {
	return func(ctx context.Context, g *app.Globals) error {
		file := filepath.Join(w.t.TempDir(), "a.svg")
		steps := []func() error{
			func() error { return app.BoardsList(ctx, g, app.BoardsListOptions{Shard: -1}) },
			func() error { return app.BoardsExport(ctx, g, app.BoardsExportOptions{Name: "a", Output: file}) },
			func() error { return app.BoardsImport(ctx, g, app.BoardsImportOptions{File: file, Name: "c"}) },
			func() error { return app.BoardsRestore(ctx, g, app.BoardsRestoreOptions{Name: "a", At: "0s"}) },
			func() error { return app.BoardsRemove(ctx, g, "b") },
		}
		for _, f := range steps {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	}
}

func up(ctx context.Context, g *app.Globals) error {
	return app.Up(ctx, g, app.UpOptions{AllowReplace: true})
}
func status(ctx context.Context, g *app.Globals) error {
	return app.Status(ctx, g, app.StatusOptions{})
}
func logs(ctx context.Context, g *app.Globals) error {
	return app.Logs(ctx, g, app.LogsOptions{Since: "10m", Shard: -1})
}
func destroyAll(ctx context.Context, g *app.Globals) error {
	return app.Destroy(ctx, g, app.DestroyOptions{DeleteData: true})
}

// The simulated account is the judge: every step runs as an operator holding
// exactly the policy written for its configuration, so a call the policy
// does not allow fails the step (or, tolerated by the tool, is reported).
// And every action of those policies is authorized by some call (implicit
// actions too: the account records them), or is documented as repair-only
// or conditional. Nothing here depends on scheduling: conditional actions
// are exempt from both "must be used" and "must not be used".
func TestPolicyCoversExactlyTheCallsMade(t *testing.T) {
	const base = "stack: wbo\nregion: us-east-1\n"
	const changed = base + `tags:
  team: whiteboard
app:
  shards: 3
  image: lovasoa/wbo:v2.16.0
alarms:
  cpu_threshold: 80
  email: [ops@example.com]
logs:
  retention_days: 14
redis:
  replicas: 2
  snapshot_retention_days: 3
load_balancer:
  health_check_path: /favicon.ico
ecs:
  container_insights: false
storage:
  kms_key_id: arn:aws:kms:us-east-1:123456789012:alias/wbo-boards
`
	const shrunk = base + "app:\n  shards: 3\nalarms:\n  email: []\n"
	const sharedBase = base + "app:\n  mode: shared\n  image: example/wbo-shared:1\n  shares_state: true\nload_balancer:\n  certificate_arn: " + madeUpCertARN + "\n"
	const sharedStep = sharedBase + "autoscaling:\n  policy: step\n"
	const sharedTagged = sharedBase + "tags:\n  team: whiteboard\n"
	usedAll := map[string]bool{}
	policyAll := map[string]bool{}
	check := func(name string, used map[string]bool, cfgs []*config.Config) {
		t.Helper()
		for a := range used {
			usedAll[a] = true
		}
		for _, cfg := range cfgs {
			for a := range iampolicy.Build(cfg, "aws", "123456789012", "us-east-1", iampolicy.Options{}).ActionSet() {
				policyAll[a] = true
			}
		}
	}
	used, cfgs := scenario(t, base, func(run func(string, func(context.Context, *app.Globals) error), w *world) {
		run(base, up)
		run(base, up)
		run(base, status)
		run(base, logs)
		run(base, func(ctx context.Context, g *app.Globals) error {
			// No such task: the lookup (DescribeLogStreams) is what counts here.
			_ = app.Logs(ctx, g, app.LogsOptions{Since: "1h", Task: "0123456789abcdef0123456789abcdef", Shard: -1})
			return nil
		})
		// The alias the changed configuration names, made by its owner:
		// up resolves it with kms:DescribeKey.
		w.cloud.CreateKMSKey("alias/wbo-boards")
		w.by(w.confirmEmails)
		run(changed, up)
		w.by(w.checkConfirmed)
		w.by(w.putBoards)
		run(base, boardCommands(w))
		w.by(func() { w.addIngressRule("sg-alb") })
		run(shrunk, up)
		run(shrunk, destroyAll)
	})
	check("default, changed, shrunk", used, cfgs)
	used, cfgs = scenario(t, sharedStep, func(run func(string, func(context.Context, *app.Globals) error), w *world) {
		run(sharedStep, up)
		run(sharedStep, status)
		run(sharedTagged, up)
		run(sharedBase, up)
		run(sharedBase, destroyAll)
	})
	check("shared: step scaling, then target tracking, tags added and removed; https", used, cfgs)
	// The state in S3: the bucket made by init-backend, the local state
	// moved there and back, a cycle on the remote state and its lock.
	const remote = base + "state:\n  backend: s3\n  bucket: team-state\n"
	const localWithBucket = base + "state:\n  bucket: team-state\n"
	used, cfgs = scenario(t, remote, func(run func(string, func(context.Context, *app.Globals) error), w *world) {
		run(remote, app.StateInitBackend)
		run(localWithBucket, up)
		run(localWithBucket, func(ctx context.Context, g *app.Globals) error {
			return app.StateMigrate(ctx, g, app.StateMigrateOptions{To: "s3"})
		})
		run(remote, up)
		run(remote, status)
		run(remote, func(ctx context.Context, g *app.Globals) error { return app.Plan(ctx, g, app.PlanOptions{}) })
		run(remote, app.StateShow)
		run(remote, destroyAll)
	})
	check("state in S3: init-backend, migrate, up, status, plan, show, destroy", used, cfgs)

	// Sign-in and secrets: a stack-owned key, a parameter and a secret the
	// user made (with a customer managed key named by alias).
	secretsYAML := func(smtp string) string {
		return base + `redis:
  mode: none
app:
  shards: 1
  secrets:
    AUTH_SECRET_KEY: stack
    OTEL_HEADERS: arn:aws:ssm:us-east-1:123456789012:parameter/team/otel
    SMTP_PASSWORD: ` + smtp + "\n"
	}
	used, cfgs = scenario(t, secretsYAML("stack"), func(run func(string, func(context.Context, *app.Globals) error), w *world) {
		w.by(w.userSecrets)
		secrets := secretsYAML(w.smtpARN)
		run(secrets, func(ctx context.Context, g *app.Globals) error {
			g.IO.In = strings.NewReader("k3y")
			return app.SecretSet(ctx, g, "AUTH_SECRET_KEY")
		})
		run(secrets, func(ctx context.Context, g *app.Globals) error {
			g.IO.In = strings.NewReader("k3y-2")
			return app.SecretSet(ctx, g, "AUTH_SECRET_KEY")
		})
		run(secrets, up)
		run(secrets, status)
		token := func(ctx context.Context, g *app.Globals) error {
			return app.Token(ctx, g, app.TokenOptions{Role: "editor", TTL: time.Hour})
		}
		run(secrets, token)
		// The key in a parameter of the user's: token decrypts it.
		run(strings.Replace(secrets, "AUTH_SECRET_KEY: stack", "AUTH_SECRET_KEY: arn:aws:ssm:us-east-1:123456789012:parameter/team/otel", 1), token)
		// The key in a secret of the user's under a customer managed key:
		// token needs kms:Decrypt through Secrets Manager.
		run(strings.Replace(secrets, "AUTH_SECRET_KEY: stack", "AUTH_SECRET_KEY: "+w.smtpARN, 1), token)
		run(secrets, destroyAll)
	})
	check("secrets and sign-in", used, cfgs)

	// Your own domain: the certificate and records in the account's zone, a
	// new name in the zone named by ID, the domain given up (what it made is
	// deleted with the DELETE-only grant), then DNS elsewhere, and destroy.
	domainYAML := func(extra string) string { return base + "redis:\n  mode: none\napp:\n  shards: 1\n" + extra }
	used, cfgs = scenario(t, domainYAML(""), func(run func(string, func(context.Context, *app.Globals) error), w *world) {
		zone := w.cloud.CreateZone("example.com")
		withZone := domainYAML("domain:\n  name: board.example.com\n")
		run(withZone, up)
		run(withZone, status)
		run(domainYAML("domain:\n  name: new.example.com\n  hosted_zone_id: "+zone+"\n"), up)
		run(domainYAML(""), up)
		elsewhere := domainYAML("domain:\n  name: board.example.org\n")
		run(elsewhere, func(ctx context.Context, g *app.Globals) error {
			// Stops with the records to create at the DNS provider.
			if err := up(ctx, g); app.ExitCode(err) != app.ExitFailure {
				return fmt.Errorf("up with DNS elsewhere: %v, want exit 1 and the records to create", err)
			}
			return nil
		})
		run(elsewhere, destroyAll)
	})
	check("domain: Route 53, a change, given up, DNS elsewhere", used, cfgs)

	var unused []string
	for a := range policyAll {
		if !usedAll[a] && iampolicy.RepairOnly[a] == "" && iampolicy.Conditional[a] == "" {
			unused = append(unused, a)
		}
	}
	sort.Strings(unused)
	if len(unused) > 0 {
		t.Errorf("policy actions no cycle used (drop them from the awsclients interfaces, exercise them, or list them as repair-only or conditional): %v", unused)
	}
	for a := range iampolicy.Conditional {
		if !policyAll[a] {
			t.Errorf("conditional action %s is not in any policy: stale entry", a)
		}
	}
	for a, why := range iampolicy.Implicit {
		if !usedAll[a] && iampolicy.Conditional[a] == "" {
			t.Errorf("implicit action %s (%s) was never authorized by any call: stale entry, or the simulated account does not model it", a, why)
		}
	}
	for a := range iampolicy.RepairOnly {
		if !policyAll[a] {
			t.Errorf("repair-only action %s is not in any policy: stale entry", a)
		}
		if usedAll[a] {
			t.Errorf("repair-only action %s is used by a normal cycle: remove it from RepairOnly", a)
		}
	}
}

// kms:DescribeKey is in the policy only when storage.kms_key_id is an alias
// (the one form resolved with a KMS call); KMS holds none of the stack's
// resources, so unlike other unused services it keeps no read-only action.
func TestKMSOnlyForAnAlias(t *testing.T) {
	for key, want := range map[string]bool{
		"":                                     false,
		"1234abcd-12ab-34cd-56ef-1234567890ab": false,
		"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab": false,
		"alias/wbo-boards": true,
		"arn:aws:kms:us-east-1:123456789012:alias/wbo-boards": true,
	} {
		cfg := config.Default()
		cfg.Region = "us-east-1"
		cfg.Storage.KMSKeyID = key
		acts := iampolicy.Build(&cfg, "aws", "123456789012", "us-east-1", iampolicy.Options{}).ActionSet()
		if acts["kms:DescribeKey"] != want {
			t.Errorf("kms_key_id %q: kms:DescribeKey in policy %v, want %v", key, acts["kms:DescribeKey"], want)
		}
		for a := range acts {
			if strings.HasPrefix(a, "kms:") && a != "kms:DescribeKey" {
				t.Errorf("kms_key_id %q: unexpected %s", key, a)
			}
		}
	}
}

// kms:Decrypt is granted only with secrets named by ARN, and only through
// the services holding them (kms:ViaService).
func TestKMSDecryptOnlyThroughTheSecretsServices(t *testing.T) {
	cfg := config.Default()
	cfg.Region = "us-east-1"
	cfg.App.Secrets = map[string]string{"AUTH_SECRET_KEY": "arn:aws:ssm:us-east-1:123456789012:parameter/team/key"}
	doc := iampolicy.Build(&cfg, "aws", "123456789012", "us-east-1", iampolicy.Options{})
	found := false
	for _, s := range doc.Statement {
		for _, a := range s.Action {
			if a != "kms:Decrypt" {
				continue
			}
			found = true
			via := fmt.Sprint(s.Condition["StringLike"])
			if !strings.Contains(via, "ssm.us-east-1.amazonaws.com") || strings.Contains(via, "secretsmanager") || s.Resource != "arn:aws:kms:us-east-1:123456789012:key/*" {
				t.Errorf("kms:Decrypt statement %+v: want key/* through ssm only", s)
			}
		}
	}
	if !found {
		t.Fatal("no kms:Decrypt for a SecureString named by ARN")
	}
	cfg.App.Secrets = map[string]string{"AUTH_SECRET_KEY": config.SecretStack}
	if iampolicy.Build(&cfg, "aws", "123456789012", "us-east-1", iampolicy.Options{}).ActionSet()["kms:Decrypt"] {
		t.Error("kms:Decrypt granted for a stack-owned secret (AWS managed key)")
	}
}
