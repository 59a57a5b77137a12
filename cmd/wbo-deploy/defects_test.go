package main

import (
	"context"
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
	c.mustCode(0, "up")
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
