package provision

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
)

func obsEvent(msg string) awssim.LogEvent { return awssim.LogEvent{Time: time.Now(), Message: msg} }

func logGroupRetention(t *testing.T, r *rig) int32 {
	t.Helper()
	out, err := r.clients().Logs.DescribeLogGroups(context.Background(), &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/wbo-deploy/wbo")})
	if err != nil || len(out.LogGroups) != 1 {
		t.Fatalf("describe log group: %v %v", out, err)
	}
	return aws.ToInt32(out.LogGroups[0].RetentionInDays)
}

func TestLogGroupCreatedWithRetentionAndTags(t *testing.T) {
	r := newRig(t, nil)
	obsUp(t, r)
	if d := logGroupRetention(t, r); d != 30 {
		t.Fatalf("retention %d, want the default 30", d)
	}
	var rec *struct{ id, arn string }
	for _, x := range r.records() {
		if x.Name == "log-group" {
			rec = &struct{ id, arn string }{x.ID, x.ARN}
		}
	}
	if rec == nil || rec.id != "/wbo-deploy/wbo" || rec.arn != "arn:aws:logs:us-east-1:123456789012:log-group:/wbo-deploy/wbo" {
		t.Fatalf("state record %+v", rec)
	}
	tags, err := r.clients().Logs.ListTagsForResource(context.Background(), &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(rec.arn)})
	if err != nil || tags.Tags[TagStack] != "wbo" || tags.Tags[TagResource] != "log-group" {
		t.Fatalf("tags %v %v", tags, err)
	}
}

func TestLogGroupRetentionChange(t *testing.T) {
	r := newRig(t, nil)
	obsUp(t, r)
	r.cfg.Logs.RetentionDays = 90
	e, done := r.engine(obsGraph(r.cfg))
	plan := e.Plan(context.Background(), false)
	done()
	var found bool
	for _, n := range plan.Nodes {
		if n.Name == "log-group" {
			found = n.Action == ActUpdate && len(n.Changes) == 1 && n.Changes[0].String() == "retention_days: 30 days → 90 days"
		}
	}
	if !found {
		t.Fatalf("plan does not show the retention change: %+v", plan.Nodes)
	}
	r.cloud.ResetCalls()
	obsUp(t, r)
	if m := r.cloud.MutatingCalls(); strings.Join(m, ",") != "CloudWatch Logs.PutRetentionPolicy" {
		t.Fatalf("retention change made %v", m)
	}
	if d := logGroupRetention(t, r); d != 90 {
		t.Fatalf("retention %d", d)
	}
	r.cloud.ResetCalls()
	obsUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("re-run made %v", m)
	}
}

func TestLogGroupKeptWithKeepLogs(t *testing.T) {
	r := newRig(t, nil)
	obsUp(t, r)
	if !r.cloud.AppendLogEvents("/wbo-deploy/wbo", "shard-0/wbo/abc", obsEvent("board saved")) {
		t.Fatal("no log group")
	}
	e, done := r.engine(obsGraph(r.cfg))
	e.Env.Destroy.KeepLogs = true
	res := e.Destroy(context.Background(), e.Env.store.All())
	done()
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	var kept bool
	for _, n := range res.Nodes {
		if n.Name == "log-group" {
			kept = n.Action == ActKeep && strings.Contains(n.Note, "/wbo-deploy/wbo")
		}
	}
	if !kept {
		t.Fatalf("log group not reported as kept: %+v", res.Nodes)
	}
	if got := r.owned(); strings.Join(got, ",") != "log-group log-group" {
		t.Fatalf("after destroy --keep-logs: %v", got)
	}
	if n := len(r.records()); n != 0 {
		t.Fatalf("%d records left in state", n)
	}
	// A later up adopts the kept group and its events.
	r.cloud.ResetCalls()
	obsUp(t, r)
	for _, m := range r.cloud.MutatingCalls() {
		if strings.HasPrefix(m, "CloudWatch Logs.") {
			t.Fatalf("adopting the kept group made %s", m)
		}
	}
	out, err := r.clients().Logs.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/wbo-deploy/wbo")})
	if err != nil || len(out.Events) != 1 {
		t.Fatalf("events after adoption: %v %v", out, err)
	}
	// Without --keep-logs the group goes.
	if err := r.destroy(obsGraph(r.cfg)).Err(); err != nil {
		t.Fatal(err)
	}
	if got := r.owned(); len(got) != 0 {
		t.Fatalf("left: %v", got)
	}
}
