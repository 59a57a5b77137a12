package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/wbo-deploy/wbo-deploy/internal/app"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/iampolicy"
)

// sdk returns real SDK clients on the same simulated account, for tests
// that change things behind wbo-deploy's back.
func (c *cli) sdk() *awsclients.Clients {
	c.t.Helper()
	cl, err := awsclients.New(context.Background(), awsclients.Options{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(adminKey, "secret", ""),
		APIOptions:  c.cloud.APIOptions(), RetryMode: "standard", MaxBackoff: time.Millisecond, Getenv: func(string) string { return "" }})
	if err != nil {
		c.t.Fatal(err)
	}
	return cl
}

func (c *cli) status() (app.StatusDocument, int) {
	c.t.Helper()
	r := c.run("status", "-o", "json")
	var doc app.StatusDocument
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		c.t.Fatalf("status -o json is not one JSON document: %v\n%s\nstderr:\n%s", err, r.out, r.err)
	}
	return doc, r.code
}

func (c *cli) state() string { return filepath.Join(c.dir, "state.json") }

func TestFullCycleThroughTheCLI(t *testing.T) {
	c := newCLI(t)
	r := c.mustCode(0, "up", "--yes")
	if !strings.Contains(r.out, "URL: http://") {
		t.Fatalf("up does not print the URL:\n%s", r.out)
	}
	// A second up changes nothing.
	c.cloud.ResetCalls()
	c.mustCode(0, "up", "--yes")
	if m := c.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}
	doc, code := c.status()
	if code != 0 || !doc.Deployed || !doc.Healthy || !strings.HasPrefix(doc.URL, "http://") || doc.DashboardURL == "" {
		t.Fatalf("status: exit %d, %+v", code, doc)
	}
	for _, res := range doc.Resources {
		if res.Status != "ok" {
			t.Fatalf("%s is %s: %s", res.Name, res.Status, res.Reason)
		}
	}
	// plan --detailed-exitcode: nothing to do.
	c.mustCode(0, "plan", "--detailed-exitcode")
	// Destroy without a terminal and without --yes: exit 2, nothing deleted.
	c.cloud.ResetCalls()
	r = c.mustCode(2, "destroy")
	if m := c.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("destroy without --yes made mutating calls: %v", m)
	}
	if !strings.Contains(r.err, "--yes") {
		t.Fatalf("the refusal does not say how to proceed:\n%s", r.err)
	}
	r = c.mustCode(0, "destroy", "--yes")
	if !strings.Contains(r.out, "Kept: wbo-boards-") {
		t.Fatalf("destroy does not say the board bucket is kept:\n%s", r.out)
	}
	for _, res := range c.cloud.Inventory() {
		if res.Tags["wbo-deploy:stack"] == "wbo" && res.Tags["wbo-deploy:resource"] != "bucket-boards" {
			t.Fatalf("left after destroy: %s %s", res.Kind, res.ID)
		}
	}
	if _, err := os.Stat(c.state()); !os.IsNotExist(err) {
		t.Fatalf("state file left after a complete destroy: %v", err)
	}
	// A second destroy is a no-op success; status says not deployed.
	c.cloud.ResetCalls()
	c.mustCode(0, "destroy", "--yes")
	if m := c.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second destroy made mutating calls: %v", m)
	}
	if _, code := c.status(); code != 4 {
		t.Fatalf("status after destroy: exit %d, want 4", code)
	}
	// destroy --delete-data removes the kept bucket too.
	c.mustCode(0, "destroy", "--yes", "--delete-data")
	for _, res := range c.cloud.Inventory() {
		if res.Tags["wbo-deploy:stack"] == "wbo" {
			t.Fatalf("left after destroy --delete-data: %s %s", res.Kind, res.ID)
		}
	}
}

// status tells the truth: each kind of trouble is found, with its reason
// and exit code 3.
func TestStatusDetectsDriftAndTrouble(t *testing.T) {
	c := newCLI(t)
	c.mustCode(0, "up", "--yes")
	sdk := c.sdk()
	ctx := context.Background()
	find := func(doc app.StatusDocument, name string) (string, string) {
		for _, r := range doc.Resources {
			if r.Name == name {
				return r.Status, r.Reason
			}
		}
		t.Fatalf("status has no %s", name)
		return "", ""
	}
	expect := func(name, status, reasonPart string) {
		t.Helper()
		doc, code := c.status()
		if code != 3 || doc.Healthy {
			t.Fatalf("exit %d healthy=%v, want 3 and unhealthy", code, doc.Healthy)
		}
		st, reason := find(doc, name)
		if st != status || !strings.Contains(reason, reasonPart) {
			t.Fatalf("%s: %s (%s), want %s containing %q", name, st, reason, status, reasonPart)
		}
		c.mustCode(0, "up", "--yes") // repairs it
		if _, code := c.status(); code != 0 {
			t.Fatalf("up did not repair %s", name)
		}
	}

	// A security-group rule removed outside wbo-deploy.
	sgID := recID(t, c, "sg-alb")
	if _, err := sdk.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(sgID),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}); err != nil {
		t.Fatal(err)
	}
	expect("sg-alb", "drifted", "443")

	// A desired count changed by hand.
	if _, err := sdk.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("wbo"), Service: aws.String("wbo-shard-0"), DesiredCount: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	expect("service-shard-0", "drifted", "desired")

	// A resource deleted outside wbo-deploy.
	if _, err := sdk.ECS.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("wbo"), Service: aws.String("wbo-shard-1"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	expect("service-shard-1", "missing", "deleted outside")

	// A target failing its health checks.
	if !c.cloud.SetTargetsFailing("wbo-shard-0", true) {
		t.Fatal("no target group wbo-shard-0")
	}
	doc, code := c.status()
	if code != 3 {
		t.Fatalf("unhealthy target: exit %d", code)
	}
	if st, _ := find(doc, "tg-shard-0"); st != "degraded" {
		t.Fatalf("tg-shard-0 with a failing target is %s", st)
	}
	c.cloud.SetTargetsFailing("wbo-shard-0", false)
}

func recID(t *testing.T, c *cli, name string) string {
	t.Helper()
	data, err := os.ReadFile(c.state())
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Resources []struct{ Name, ID string }
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Resources {
		if r.Name == name {
			return r.ID
		}
	}
	t.Fatalf("no %s in state", name)
	return ""
}

// A deployment that fails: up exits non-zero with the stopped reason, and
// status reports the service degraded (exit 3) until a good image is deployed.
func TestFailedDeploymentIsReportedByUpAndStatus(t *testing.T) {
	c := newCLI(t)
	c.mustCode(0, "up", "--yes")
	bad := filepath.Join(c.dir, "bad-image.yaml")
	if err := os.WriteFile(bad, []byte("app:\n  image: lovasoa/wbo:broken-build\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.run("--config", bad, "up", "--yes")
	if r.code != 1 || !strings.Contains(r.err, "Essential container in task exited") {
		t.Fatalf("up with a failing image: exit %d\n%s", r.code, r.err)
	}
	rr := c.run("--config", bad, "status", "-o", "json")
	var doc app.StatusDocument
	if err := json.Unmarshal([]byte(rr.out), &doc); err != nil {
		t.Fatal(err)
	}
	if rr.code != 3 || doc.Healthy {
		t.Fatalf("status after a failed deployment: exit %d", rr.code)
	}
	found := false
	for _, res := range doc.Resources {
		if strings.HasPrefix(res.Name, "service-") && res.Status != "ok" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no service reported as not ok: %+v", doc.Resources)
	}
	c.mustCode(0, "up", "--yes") // the good image again
	if _, code := c.status(); code != 0 {
		t.Fatalf("status after redeploying the good image: exit %d", code)
	}
}

// destroy without a state file removes every resource tagged for the stack
// and nothing else: another stack and untagged resources in the same account
// survive untouched. A resource deleted by hand counts as deleted.
func TestStatelessDestroyTouchesOnlyTheStack(t *testing.T) {
	c := newCLI(t)
	c.mustCode(0, "up", "--yes")
	// Another stack in the same account, with its own state file.
	other := filepath.Join(c.dir, "other.json")
	c.mustCode(0, "--stack", "other", "--state", other, "up", "--yes")
	// An untagged VPC someone made by hand.
	sdk := c.sdk()
	ctx := context.Background()
	vpc, err := sdk.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	count := func(stack string) int {
		n := 0
		for _, r := range c.cloud.Inventory() {
			if r.Tags["wbo-deploy:stack"] == stack {
				n++
			}
		}
		return n
	}
	otherBefore := count("other")
	// Delete one of our resources by hand, then lose the state file.
	if _, err := sdk.ECS.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("wbo"), Service: aws.String("wbo-shard-0"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(c.state()); err != nil {
		t.Fatal(err)
	}
	r := c.mustCode(0, "destroy", "--dry-run")
	if !strings.Contains(r.err, "vpc") || strings.Contains(r.err, aws.ToString(vpc.Vpc.VpcId)) {
		t.Fatalf("dry run lists the wrong resources:\n%s", r.err)
	}
	c.mustCode(0, "destroy", "--yes", "--delete-data")
	if n := count("wbo"); n != 0 {
		t.Fatalf("%d resources of stack wbo left", n)
	}
	if n := count("other"); n != otherBefore {
		t.Fatalf("the other stack lost resources: %d → %d", otherBefore, n)
	}
	out, err := sdk.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{aws.ToString(vpc.Vpc.VpcId)}})
	if err != nil || len(out.Vpcs) != 1 {
		t.Fatalf("the untagged VPC was touched: %v", err)
	}
}

// With a certificate the HTTP listener only redirects, so the services must
// wait for the HTTPS listener (ECS refuses a target group no listener
// forwards to); internal/provision TestServicesWaitForTheForwardingListener
// pins that dependency, this runs the whole cycle.
func TestFullCycleWithHTTPS(t *testing.T) {
	c := newCLI(t)
	cfg := filepath.Join(c.dir, "https.yaml")
	cert := c.cloud.ImportCertificate("wbo.example.com", time.Now().Add(365*24*time.Hour))
	if err := os.WriteFile(cfg, []byte("load_balancer:\n  certificate_arn: "+cert+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.mustCode(0, "--config", cfg, "up", "--yes")
	if !strings.Contains(r.out, "URL: https://") {
		t.Fatalf("up with a certificate does not print an https URL:\n%s", r.out)
	}
	c.cloud.ResetCalls()
	c.mustCode(0, "--config", cfg, "up", "--yes")
	if m := c.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}
	c.mustCode(0, "--config", cfg, "status")
	c.mustCode(0, "--config", cfg, "destroy", "--yes", "--delete-data")
}

// More shards than a forward action takes target groups (5).
func TestUpWithSevenShards(t *testing.T) {
	c := newCLI(t)
	c.env = append(c.env, "WBO_DEPLOY_APP_SHARDS=7", "WBO_DEPLOY_REDIS_MODE=none")
	c.mustCode(0, "up", "--yes")
	if _, code := c.status(); code != 0 {
		t.Fatalf("status exit %d", code)
	}
	c.mustCode(0, "destroy", "--yes", "--delete-data")
}

// status --wait-healthy polls until healthy; on a stack that stays degraded
// it gives up at the timeout with exit 3. It runs in a testing/synctest
// bubble: the waits (the simulated cloud's, the poll interval, the
// deadline) are on the virtual clock, which advances only when every
// goroutine of the command is blocked, so a busy machine's slow status
// calls cannot eat the 10 minutes (60 ms of scaled wall time) before the
// stack is seen healthy.
func TestStatusWaitHealthy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCLI(t)
		c.mustCode(0, "up", "--yes")
		c.mustCode(0, "status", "--wait-healthy", "10m")
		if !c.cloud.SetTargetsFailing("wbo-shard-1", true) {
			t.Fatal("no target group wbo-shard-1")
		}
		start := time.Now()
		r := c.mustCode(3, "status", "--wait-healthy", "3m")
		if !strings.Contains(r.err, "waiting for the stack to become healthy") || !strings.Contains(r.err, "tg-shard-1") {
			t.Fatalf("no progress naming what is unhealthy:\n%s", r.err)
		}
		// It waited the whole 3 minutes, and gave up within a minute after
		// (one more look, a 10 s poll interval), on the clock as cli.run
		// scales it (1e-4).
		scaled := func(d time.Duration) time.Duration { return time.Duration(float64(d) * 1e-4) }
		if d := time.Since(start); d < scaled(3*time.Minute) || d > scaled(4*time.Minute) {
			t.Fatalf("gave up after %s of the virtual clock (%s of AWS time), want 3 to 4 min", d, time.Duration(float64(d)/1e-4))
		}
	})
}

// With -o json every command writes exactly one JSON document to stdout.
func TestJSONOutputIsOneDocument(t *testing.T) {
	c := newCLI(t)
	for _, args := range [][]string{
		{"plan", "-o", "json"},
		{"up", "--yes", "-o", "json"},
		{"plan", "-o", "json"},
		{"status", "-o", "json"},
		{"state", "show", "-o", "json"},
		{"cost", "-o", "json"},
		{"destroy", "--yes", "-o", "json"},
		{"version", "-o", "json"},
	} {
		r := c.mustCode(0, args...)
		dec := json.NewDecoder(strings.NewReader(r.out))
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("%v: stdout is not JSON: %v\n%s", args, err, r.out)
		}
		if dec.More() {
			t.Fatalf("%v: more than one document on stdout:\n%s", args, r.out)
		}
		if s, _ := doc["schema"].(string); !strings.HasPrefix(s, "wbo-deploy.") {
			t.Fatalf("%v: no schema name: %v", args, doc["schema"])
		}
	}
}

// An operator whose policy lacks a statement gets, from up, one sentence
// naming the refused call, AWS's code and the way out (iam-policy); the
// simulated account refuses the call as SNS does (AuthorizationError).
func TestUpWithATrimmedPolicyNamesTheRefusedCall(t *testing.T) {
	c := newCLI(t)
	c.editPolicy = func(d *iampolicy.Document) {
		var kept []iampolicy.Statement
		for _, s := range d.Statement {
			if s.Sid != "Sns" {
				kept = append(kept, s)
			}
		}
		d.Statement = kept
	}
	r := c.run("up", "--yes")
	if r.code != 1 || !strings.Contains(r.err, "AWS denied SNS GetTopicAttributes (AuthorizationError)") || !strings.Contains(r.err, "wbo-deploy iam-policy") {
		t.Fatalf("up with no SNS statement: exit %d\n%s", r.code, r.err)
	}
}
