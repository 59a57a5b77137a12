package awssim

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	lt "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

func TestLogsGroupLifecycle(t *testing.T) {
	c, cl := obsClients(t)
	ctx := context.Background()
	in := &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/wbo-deploy/wbo"), Tags: map[string]string{"wbo-deploy:stack": "wbo"}}
	if _, err := cl.Logs.CreateLogGroup(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Logs.CreateLogGroup(ctx, in); errCode(err) != "ResourceAlreadyExistsException" {
		t.Fatalf("second create: %v", err)
	}
	if _, err := cl.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("bad name")}); errCode(err) != "InvalidParameterException" {
		t.Fatalf("bad name: %v", err)
	}
	for _, d := range []int32{0, 2, 31, 4000} {
		_, err := cl.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: in.LogGroupName, RetentionInDays: aws.Int32(d)})
		if errCode(err) != "InvalidParameterException" {
			t.Errorf("retention %d: %v", d, err)
		}
	}
	if _, err := cl.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: in.LogGroupName, RetentionInDays: aws.Int32(14)}); err != nil {
		t.Fatal(err)
	}
	out, err := cl.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/wbo-deploy/")})
	if err != nil || len(out.LogGroups) != 1 {
		t.Fatalf("describe: %v %v", out, err)
	}
	g := out.LogGroups[0]
	if aws.ToInt32(g.RetentionInDays) != 14 || aws.ToString(g.Arn) != aws.ToString(g.LogGroupArn)+":*" {
		t.Fatalf("group %+v", g)
	}
	tags, err := cl.Logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: g.LogGroupArn})
	if err != nil || tags.Tags["wbo-deploy:stack"] != "wbo" {
		t.Fatalf("tags %v %v", tags, err)
	}
	if _, err := cl.Logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: g.Arn}); errCode(err) != "InvalidParameterException" {
		t.Fatalf("tagging ARN with :* must be refused: %v", err)
	}
	if inv := c.Inventory(); len(inv) != 1 || inv[0].ID != "/wbo-deploy/wbo" {
		t.Fatalf("inventory %v", inv)
	}
	if _, err := cl.Logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: in.LogGroupName}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: in.LogGroupName}); errCode(err) != "ResourceNotFoundException" {
		t.Fatalf("second delete: %v", err)
	}
}

func TestLogsFilterLogEvents(t *testing.T) {
	c, cl := obsClients(t)
	ctx := context.Background()
	group := "/g"
	if _, err := cl.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	// Two streams, interleaved timestamps, written out of order across streams.
	var a, b []LogEvent
	for i := range 40 {
		e := LogEvent{Time: base.Add(time.Duration(i) * time.Second), Message: fmt.Sprintf("line %d", i)}
		if i%10 == 3 {
			e.Message = fmt.Sprintf("ERROR boom %d", i)
		}
		if i%2 == 0 {
			a = append(a, e)
		} else {
			b = append(b, e)
		}
	}
	if !c.AppendLogEvents(group, "shard-1/wbo/task2", b...) || !c.AppendLogEvents(group, "shard-0/wbo/task1", a...) {
		t.Fatal("append")
	}
	if c.AppendLogEvents("/missing", "s", a...) {
		t.Fatal("append to a missing group must fail")
	}
	collect := func(in *cloudwatchlogs.FilterLogEventsInput) ([]lt.FilteredLogEvent, int) {
		t.Helper()
		var all []lt.FilteredLogEvent
		pages := 0
		p := cloudwatchlogs.NewFilterLogEventsPaginator(cl.Logs, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			all = append(all, out.Events...)
		}
		return all, pages
	}
	all, pages := collect(&cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)})
	if len(all) != 40 || pages != 2 {
		t.Fatalf("got %d events in %d pages", len(all), pages)
	}
	for i := 1; i < len(all); i++ {
		if *all[i].Timestamp < *all[i-1].Timestamp {
			t.Fatalf("not ordered at %d", i)
		}
	}
	errs, _ := collect(&cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`"ERROR boom"`)})
	if len(errs) != 4 {
		t.Fatalf("quoted phrase matched %d", len(errs))
	}
	if got, _ := collect(&cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`error`)}); len(got) != 0 {
		t.Fatalf("terms are case-sensitive, matched %d", len(got))
	}
	if got, _ := collect(&cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`?boom ?"line 5"`)}); len(got) != 5 {
		t.Fatalf("OR matched %d", len(got))
	}
	if got, _ := collect(&cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`line -"line 1"`)}); len(got) != 36-11+1 {
		// "line N" events: 36; those containing "line 1": 1, 10–19 except 13 → 10.
		t.Fatalf("exclusion matched %d", len(got))
	}
	shard0, _ := collect(&cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), LogStreamNamePrefix: aws.String("shard-0/")})
	if len(shard0) != 20 {
		t.Fatalf("prefix matched %d", len(shard0))
	}
	window, _ := collect(&cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group),
		StartTime: aws.Int64(base.Add(10 * time.Second).UnixMilli()), EndTime: aws.Int64(base.Add(19 * time.Second).UnixMilli())})
	if len(window) != 10 {
		t.Fatalf("time range (inclusive) matched %d", len(window))
	}
	_, err := cl.Logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group),
		LogStreamNamePrefix: aws.String("a"), LogStreamNames: []string{"b"}})
	if errCode(err) != "InvalidParameterException" {
		t.Fatalf("prefix and names: %v", err)
	}
	// Empty pages with a token, as a search that ran out of time answers.
	c.SetLogFilterEmptyPages(2)
	all, pages = collect(&cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)})
	if len(all) != 40 || pages != 4 {
		t.Fatalf("with empty pages: %d events in %d pages", len(all), pages)
	}
}

func TestLogsInsightsQuery(t *testing.T) {
	c, cl := obsClients(t)
	ctx := context.Background()
	if _, err := cl.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/g")}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c.AppendLogEvents("/g", "s", LogEvent{now.Add(-2 * time.Minute), "Error: one"}, LogEvent{now.Add(-time.Minute), "fine"}, LogEvent{now, "an ERROR two"})
	q := "SOURCE '/g' | fields @timestamp, @message | filter @message like /(?i)error/ | sort @timestamp desc | limit 50"
	st, err := cl.Logs.(*cloudwatchlogs.Client).StartQuery(ctx, &cloudwatchlogs.StartQueryInput{QueryString: aws.String(q),
		StartTime: aws.Int64(now.Add(-time.Hour).Unix()), EndTime: aws.Int64(now.Add(time.Minute).Unix())})
	if err != nil {
		t.Fatal(err)
	}
	r, err := cl.Logs.(*cloudwatchlogs.Client).GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: st.QueryId})
	if err != nil || r.Status != lt.QueryStatusRunning {
		t.Fatalf("first poll %v %v", r, err)
	}
	r, err = cl.Logs.(*cloudwatchlogs.Client).GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: st.QueryId})
	if err != nil || r.Status != lt.QueryStatusComplete || len(r.Results) != 2 || aws.ToString(r.Results[0][1].Value) != "an ERROR two" {
		t.Fatalf("results %+v %v", r, err)
	}
	_, err = cl.Logs.(*cloudwatchlogs.Client).StartQuery(ctx, &cloudwatchlogs.StartQueryInput{QueryString: aws.String("SOURCE '/nope' | fields @message"),
		StartTime: aws.Int64(0), EndTime: aws.Int64(1)})
	if errCode(err) != "ResourceNotFoundException" {
		t.Fatalf("missing group: %v", err)
	}
}
