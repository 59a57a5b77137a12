package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/wbo-deploy/wbo-deploy/internal/app"
)

func statusOf(t *testing.T, doc app.StatusDocument, name string) (string, string) {
	t.Helper()
	for _, r := range doc.Resources {
		if r.Name == name {
			return r.Status, r.Reason
		}
	}
	t.Fatalf("status has no %s: %+v", name, doc.Resources)
	return "", ""
}

// A target group without a registered target beside a service running its
// tasks is a service detached from its group: degraded, not "0/0 healthy".
func TestStatusTargetGroupWithoutTargetsIsDegraded(t *testing.T) {
	c := newCLI(t)
	c.mustCode(0, "up", "--yes")
	sdk, ctx := c.sdk(), context.Background()
	tgARN := recID(t, c, "tg-shard-0")
	h, err := sdk.ELB.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	if err != nil {
		t.Fatal(err)
	}
	var targets []lbt.TargetDescription
	for _, d := range h.TargetHealthDescriptions {
		targets = append(targets, *d.Target)
	}
	if len(targets) == 0 {
		t.Fatal("tg-shard-0 has no target after up")
	}
	if _, err := sdk.ELB.(*elbv2.Client).DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: targets}); err != nil {
		t.Fatal(err)
	}
	doc, code := c.status()
	st, reason := statusOf(t, doc, "tg-shard-0")
	if code != 3 || doc.Healthy || st != "degraded" || !strings.Contains(reason, "no registered target") {
		t.Fatalf("status exit %d healthy=%v; tg-shard-0 %s (%s): want exit 3, degraded, no registered target", code, doc.Healthy, st, reason)
	}
	if st, _ := statusOf(t, doc, "service-shard-0"); st != "ok" {
		t.Fatalf("service-shard-0 is %s: the test should detach the group only", st)
	}
}

func hasAll(s string, parts ...string) string {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return p
		}
	}
	return ""
}

// An endpoint that does not speak CloudWatch (the SDK uses Smithy RPC v2
// CBOR): status of an undeployed stack still says "not deployed" (exit 4),
// naming the kinds it could not check; of a stack found by its tags, the
// CloudWatch resources are unknown, not missing.
func TestStatusWithAnUnsupportedService(t *testing.T) {
	c := newCLI(t)
	c.cloud.UnsupportedService("CloudWatch")
	doc, code := c.status()
	if code != 4 || doc.Deployed {
		t.Fatalf("undeployed stack, CloudWatch unsupported: exit %d deployed=%v, want 4", code, doc.Deployed)
	}
	if len(doc.Unchecked) == 0 || hasAll(strings.Join(doc.Notes, "\n"), "cloudwatch.alarm", "may not support CloudWatch") != "" {
		t.Fatalf("status does not say what it could not check: unchecked %v, notes %q", doc.Unchecked, doc.Notes)
	}
	if r := c.run("status"); r.code != 4 || !strings.Contains(r.out, "could not check for cloudwatch.") {
		t.Fatalf("text status: exit %d\n%s", r.code, r.out)
	}

	c.cloud.ClearRaw()
	c.mustCode(0, "up", "--yes")
	if err := os.Remove(c.state()); err != nil {
		t.Fatal(err)
	}
	c.cloud.UnsupportedService("CloudWatch")
	doc, code = c.status()
	if code != 3 || !doc.Deployed || doc.Healthy {
		t.Fatalf("deployed stack, CloudWatch unsupported: exit %d deployed=%v healthy=%v, want 3", code, doc.Deployed, doc.Healthy)
	}
	unchecked := map[string]bool{}
	for _, k := range doc.Unchecked {
		unchecked[k] = true
	}
	if !unchecked["cloudwatch.alarm"] || !unchecked["cloudwatch.dashboard"] {
		t.Fatalf("unchecked kinds %v", doc.Unchecked)
	}
	unknown := 0
	for _, r := range doc.Resources {
		switch {
		case unchecked[r.Kind]:
			if r.Status != "unknown" || !strings.Contains(r.Reason, "may not support CloudWatch") {
				t.Errorf("%s (%s) is %s, want unknown: %s", r.Name, r.Kind, r.Status, r.Reason)
			}
			unknown++
		case r.Status == "unknown" || r.Status == "missing" && strings.HasPrefix(r.Kind, "cloudwatch."):
			t.Errorf("%s (%s) is %s (%s): only the unchecked kinds are unknown", r.Name, r.Kind, r.Status, r.Reason)
		}
	}
	if unknown == 0 {
		t.Fatal("no CloudWatch resource in status")
	}
}

// destroy against an endpoint that does not speak CloudWatch, with no
// CloudWatch resource in the configuration: everything else is deleted, and
// destroy exits 1 naming what it could not check and how to finish.
func TestDestroyWithAnUnsupportedService(t *testing.T) {
	c := newCLI(t)
	cfg := filepath.Join(c.dir, "quiet.yaml")
	if err := os.WriteFile(cfg, []byte("alarms:\n  enabled: false\ndashboard:\n  enabled: false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.mustCode(0, "--config", cfg, "up", "--yes")
	c.cloud.UnsupportedService("CloudWatch")
	r := c.mustCode(1, "--config", cfg, "destroy", "--yes")
	if miss := hasAll(r.err, "cloudwatch.alarm", "cloudwatch.dashboard", "may not support CloudWatch", "destroy is not complete",
		"run `wbo-deploy destroy` again", "wbo-deploy:stack=wbo"); miss != "" {
		t.Fatalf("destroy's error lacks %q:\n%s", miss, r.err)
	}
	for _, res := range c.cloud.Inventory() {
		if res.Tags["wbo-deploy:stack"] == "wbo" && res.Tags["wbo-deploy:resource"] != "bucket-boards" {
			t.Errorf("left after destroy: %s %s", res.Kind, res.Tags["wbo-deploy:resource"])
		}
	}
	if _, err := os.Stat(c.state()); err != nil {
		t.Fatalf("destroy removed the state although it could not check everything: %v", err)
	}
	c.cloud.ClearRaw()
	c.mustCode(0, "--config", cfg, "destroy", "--yes")
	if _, err := os.Stat(c.state()); !os.IsNotExist(err) {
		t.Fatalf("state left after a complete destroy: %v", err)
	}
}

// destroy then up: S3 still holds the access-log bucket's name for a while
// after destroy deleted it; up waits it out, saying why.
func TestDestroyThenUpWaitsForTheLogBucketName(t *testing.T) {
	c := newCLI(t)
	c.mustCode(0, "up", "--yes")
	c.cloud.PinBucketNameRefusals(2)
	c.mustCode(0, "destroy", "--yes")
	r := c.mustCode(0, "up", "--yes")
	if !strings.Contains(r.err, "deleted recently and S3 has not released it yet (409 OperationAborted)") {
		t.Fatalf("up does not say why it waits:\n%s", r.err)
	}
	if doc, code := c.status(); code != 0 || !doc.Healthy {
		t.Fatalf("status after destroy and up: exit %d", code)
	}
}
