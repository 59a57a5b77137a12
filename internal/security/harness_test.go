package security

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/wbo-deploy/wbo-deploy/internal/app"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/iampolicy"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// The fake credentials of every run. They must never reach the state file,
// the JSON documents or the -v log.
const (
	fakeAccessKeyID = "AKIAWBOSECTEST7EXMPL"
	fakeSecretKey   = "wbo/SecurityTest+FakeSecretKey/4f1c2e9a7b3d5e6f8a0b"
	simAccount      = "123456789012"
	simRegion       = "us-east-1"
	clockScale      = 2e-5
)

// deployment is one stack deployed with app.Up into its own simulated
// account, with everything the commands printed and wrote.
type deployment struct {
	t     *testing.T
	cloud *awssim.Cloud
	dir   string
	state string
	// outputs of the commands run, by name ("up -v stderr", ...).
	outputs map[string]string
	sdk     *sdkClients
	// kmsKeyARN is the key a storage.kms_key_id alias names, made in the
	// account before the first up (its owner's doing, not wbo-deploy's).
	kmsKeyARN string
	// certARN is the ISSUED certificate that replaces testCertARN in the
	// configuration (listeners need one that exists in ACM).
	certARN string
}

// sdkClients are real SDK clients on the deployment's simulated account,
// built by awsclients.New like wbo-deploy's own (the concrete clients, so
// a check may call any read operation).
type sdkClients struct {
	EC2         *ec2.Client
	ELB         *elbv2.Client
	ECS         *ecs.Client
	IAM         *iam.Client
	S3          *s3.Client
	Logs        *cloudwatchlogs.Client
	ElastiCache *elasticache.Client
	SNS         *sns.Client
	ACM         *acm.Client
}

// deploy writes config (YAML) and runs `up -v`, `up -o json` (a second run:
// nothing to change) and `status -o json` against a fresh simulated account.
// With kmsAlias set, the account first gets a KMS key with that alias.
func deploy(t *testing.T, config, kmsAlias string) *deployment {
	t.Helper()
	d := &deployment{t: t, cloud: awssim.New(awssim.Options{Scale: clockScale, Account: simAccount, Region: simRegion}),
		dir: t.TempDir(), outputs: map[string]string{}}
	if kmsAlias != "" {
		d.kmsKeyARN = d.cloud.CreateKMSKey(kmsAlias)
	}
	if strings.Contains(config, testCertARN) {
		d.certARN = d.cloud.ImportCertificate("wbo.example.com", time.Now().Add(365*24*time.Hour))
		config = strings.ReplaceAll(config, testCertARN, d.certARN)
	}
	if strings.Contains(config, "domain:") {
		d.cloud.CreateZone("example.com") // the domain's owner's zone
	}
	d.state = filepath.Join(d.dir, ".wbo-deploy", "wbo.json")
	if err := os.WriteFile(filepath.Join(d.dir, "wbo-deploy.yaml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d.run("up -v", func(g *app.Globals) error {
		g.Verbose = true
		return app.Up(ctx, g, app.UpOptions{})
	})
	d.run("up -o json", func(g *app.Globals) error {
		g.Output = "json"
		return app.Up(ctx, g, app.UpOptions{})
	})
	d.run("status -o json", func(g *app.Globals) error {
		g.Output = "json"
		return app.Status(ctx, g, app.StatusOptions{})
	})
	d.sdk = d.clients()
	if d.certARN == "" {
		d.certARN = d.recorded("certificate-wbo.example.com")
	}
	return d
}

// recorded is the ID the state file records for a resource ("" if none).
func (d *deployment) recorded(name string) string {
	data, err := os.ReadFile(d.state)
	if err != nil {
		d.t.Fatal(err)
	}
	var f struct{ Resources []struct{ Name, ID string } }
	if err := json.Unmarshal(data, &f); err != nil {
		d.t.Fatal(err)
	}
	for _, r := range f.Resources {
		if r.Name == name {
			return r.ID
		}
	}
	return ""
}

// globals is the process context of one command, as cmd/wbo-deploy builds
// it, with the fake credentials both as the credential provider and in the
// environment.
func (d *deployment) globals(out, errb *bytes.Buffer) *app.Globals {
	return &app.Globals{
		Version:    "test",
		ConfigFile: filepath.Join(d.dir, "wbo-deploy.yaml"),
		StateFile:  d.state,
		Yes:        true,
		Env: []string{"AWS_REGION=" + simRegion, "AWS_ACCESS_KEY_ID=" + fakeAccessKeyID,
			"AWS_SECRET_ACCESS_KEY=" + fakeSecretKey},
		ClockScale: clockScale,
		HTTP:       d.cloud.PublicHTTP(),
		Overrides:  map[string]any{},
		IO:         &ui.Streams{In: strings.NewReader(""), Out: out, Err: errb},
		AWS:        d.awsOptions(),
	}
}

func (d *deployment) awsOptions() awsclients.Options {
	return awsclients.Options{
		Credentials: credentials.NewStaticCredentialsProvider(fakeAccessKeyID, fakeSecretKey, ""),
		APIOptions:  d.cloud.APIOptions(), RetryMode: "standard", MaxAttempts: 25, MaxBackoff: time.Millisecond,
	}
}

// run runs one command and keeps its stdout and stderr; a failure ends
// the test with the tail of stderr.
func (d *deployment) run(name string, cmd func(*app.Globals) error) {
	d.t.Helper()
	var out, errb bytes.Buffer
	g := d.globals(&out, &errb)
	d.asOperator(g)
	err := cmd(g)
	d.outputs[name+" stdout"] = out.String()
	d.outputs[name+" stderr"] = errb.String()
	if err != nil {
		d.t.Fatalf("%s: %v\n%s", name, err, tail(errb.String(), 30))
	}
}

// securityAdminKey is the test's own identity (checks, and sabotage made
// behind wbo-deploy's back); wbo-deploy signs with fakeAccessKeyID, whose
// user holds exactly the iam-policy output for the configuration deployed.
const securityAdminKey = "AKIDSECURITYADMIN"

// asOperator gives wbo-deploy's key exactly the iam-policy output for g's
// configuration, and the test's admin key AdministratorAccess.
func (d *deployment) asOperator(g *app.Globals) {
	d.t.Helper()
	mustNoErr(d.t, "admin identity", d.cloud.SetIdentityPolicy(securityAdminKey, awssim.AdministratorAccess))
	cfg, err := g.LoadConfig()
	if err != nil {
		return // the command fails on it before any AWS call
	}
	pol := iampolicy.Build(cfg, "aws", d.cloud.Account, d.cloud.Region, iampolicy.Options{}).String()
	mustNoErr(d.t, "operator identity", d.cloud.SetIdentityPolicy(fakeAccessKeyID, pol))
}

// clients are the test's own (admin) clients.
func (d *deployment) clients() *sdkClients {
	d.t.Helper()
	o := d.awsOptions()
	o.Credentials = credentials.NewStaticCredentialsProvider(securityAdminKey, fakeSecretKey, "")
	o.Region = simRegion
	o.Getenv = func(string) string { return "" }
	cl, err := awsclients.New(context.Background(), o)
	if err != nil {
		d.t.Fatal(err)
	}
	c := &sdkClients{}
	var ok [9]bool
	c.EC2, ok[0] = cl.EC2.(*ec2.Client)
	c.ELB, ok[1] = cl.ELB.(*elbv2.Client)
	c.ECS, ok[2] = cl.ECS.(*ecs.Client)
	c.IAM, ok[3] = cl.IAM.(*iam.Client)
	c.S3, ok[4] = cl.S3.(*s3.Client)
	c.Logs, ok[5] = cl.Logs.(*cloudwatchlogs.Client)
	c.ElastiCache, ok[6] = cl.ElastiCache.(*elasticache.Client)
	c.SNS, ok[7] = cl.SNS.(*sns.Client)
	c.ACM, ok[8] = cl.ACM.(*acm.Client)
	for i, v := range ok {
		if !v {
			d.t.Fatalf("awsclients.New returned a client %d that is not the SDK's", i)
		}
	}
	return c
}

// called reports whether wbo-deploy ever called service:operation (any
// outcome) in this account.
func (d *deployment) called(service, operation string) bool {
	for _, c := range d.cloud.Calls() {
		if c.AccessKey == fakeAccessKeyID && c.Service == service && c.Operation == operation {
			return true
		}
	}
	return false
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func mustNoErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
