package awssim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwt "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
)

// obsClients builds real SDK clients against a fresh simulated account.
func obsClients(t *testing.T) (*Cloud, *awsclients.Clients) {
	t.Helper()
	c := New(Options{ConsistencyMisses: -1}) // windows: consistency_test.go
	cl, err := awsclients.New(context.Background(), awsclients.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATED", "secret", ""),
		APIOptions:  c.APIOptions(),
		RetryMode:   "standard",
		MaxAttempts: 5,
		MaxBackoff:  time.Millisecond,
		Getenv:      func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, cl
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func validAlarm(name string) *cloudwatch.PutMetricAlarmInput {
	return &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), Namespace: aws.String("AWS/ECS"), MetricName: aws.String("CPUUtilization"),
		Statistic: cwt.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(5), DatapointsToAlarm: aws.Int32(5),
		Threshold: aws.Float64(85), ComparisonOperator: cwt.ComparisonOperatorGreaterThanThreshold,
		Dimensions:   []cwt.Dimension{{Name: aws.String("ClusterName"), Value: aws.String("wbo")}},
		AlarmActions: []string{"arn:aws:sns:us-east-1:123456789012:wbo-alarms"},
		Tags:         []cwt.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
	}
}

func TestCloudWatchPutMetricAlarmValidation(t *testing.T) {
	_, cl := obsClients(t)
	ctx := context.Background()
	cases := []struct {
		name string
		mod  func(*cloudwatch.PutMetricAlarmInput)
		code string
	}{
		{"bad period", func(in *cloudwatch.PutMetricAlarmInput) { in.Period = aws.Int32(45) }, "InvalidParameterValue"},
		{"too long", func(in *cloudwatch.PutMetricAlarmInput) {
			in.Period = aws.Int32(3000)
			in.EvaluationPeriods = aws.Int32(30)
		}, "InvalidParameterValue"},
		{"both stats", func(in *cloudwatch.PutMetricAlarmInput) { in.ExtendedStatistic = aws.String("p95") }, "InvalidParameterCombination"},
		{"no stat", func(in *cloudwatch.PutMetricAlarmInput) { in.Statistic = "" }, "InvalidParameterCombination"},
		{"bad percentile", func(in *cloudwatch.PutMetricAlarmInput) { in.Statistic = ""; in.ExtendedStatistic = aws.String("p101") }, "InvalidParameterValue"},
		{"datapoints", func(in *cloudwatch.PutMetricAlarmInput) { in.DatapointsToAlarm = aws.Int32(6) }, "InvalidParameterValue"},
		{"missing data", func(in *cloudwatch.PutMetricAlarmInput) { in.TreatMissingData = aws.String("zero") }, "InvalidParameterValue"},
		{"no threshold", func(in *cloudwatch.PutMetricAlarmInput) { in.Threshold = nil }, "MissingParameter"},
		{"no namespace", func(in *cloudwatch.PutMetricAlarmInput) { in.Namespace = nil }, "MissingParameter"},
		{"bad action", func(in *cloudwatch.PutMetricAlarmInput) { in.OKActions = []string{"topic"} }, "InvalidParameterValue"},
	}
	for _, tc := range cases {
		in := validAlarm("a-" + tc.name)
		tc.mod(in)
		_, err := cl.CloudWatch.PutMetricAlarm(ctx, in)
		if got := errCode(err); got != tc.code {
			t.Errorf("%s: error code %q (%v), want %q", tc.name, got, err, tc.code)
		}
	}
	if _, err := cl.CloudWatch.PutMetricAlarm(ctx, validAlarm("ok")); err != nil {
		t.Fatalf("valid alarm refused: %v", err)
	}
	in := validAlarm("p95")
	in.Statistic, in.ExtendedStatistic = "", aws.String("p95")
	if _, err := cl.CloudWatch.PutMetricAlarm(ctx, in); err != nil {
		t.Fatalf("p95 alarm refused: %v", err)
	}
}

func TestCloudWatchAlarmUpsertKeepsStateAndTags(t *testing.T) {
	c, cl := obsClients(t)
	ctx := context.Background()
	if _, err := cl.CloudWatch.PutMetricAlarm(ctx, validAlarm("x")); err != nil {
		t.Fatal(err)
	}
	out, err := cl.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"x"}})
	if err != nil || len(out.MetricAlarms) != 1 {
		t.Fatalf("describe: %v %v", out, err)
	}
	if out.MetricAlarms[0].StateValue != cwt.StateValueInsufficientData {
		t.Fatalf("new alarm state %s", out.MetricAlarms[0].StateValue)
	}
	if !c.SetAlarmState("x", "ALARM", "test") {
		t.Fatal("hook did not find the alarm")
	}
	in := validAlarm("x")
	in.Threshold = aws.Float64(50)
	in.Tags = []cwt.Tag{{Key: aws.String("other"), Value: aws.String("1")}}
	if _, err := cl.CloudWatch.PutMetricAlarm(ctx, in); err != nil {
		t.Fatal(err)
	}
	out, _ = cl.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"x"}})
	a := out.MetricAlarms[0]
	if a.StateValue != cwt.StateValueAlarm || aws.ToFloat64(a.Threshold) != 50 {
		t.Fatalf("after update: state %s threshold %v", a.StateValue, aws.ToFloat64(a.Threshold))
	}
	tags, err := cl.CloudWatch.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: a.AlarmArn})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "k" {
		t.Fatalf("tags on update must be ignored, got %v", tags.Tags)
	}
}

func TestCloudWatchDescribeAlarmsPaginatesAndDeletes(t *testing.T) {
	_, cl := obsClients(t)
	ctx := context.Background()
	for i := range 7 {
		if _, err := cl.CloudWatch.PutMetricAlarm(ctx, validAlarm(fmt.Sprintf("s-%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cl.CloudWatch.PutMetricAlarm(ctx, validAlarm("other")); err != nil {
		t.Fatal(err)
	}
	var names []string
	p := cloudwatch.NewDescribeAlarmsPaginator(cl.CloudWatch, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("s-"), MaxRecords: aws.Int32(3)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range out.MetricAlarms {
			names = append(names, aws.ToString(a.AlarmName))
		}
	}
	if pages != 3 || len(names) != 7 || names[0] != "s-00" || names[6] != "s-06" {
		t.Fatalf("pages %d names %v", pages, names)
	}
	_, err := cl.CloudWatch.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"s-00", "nope"}})
	if errCode(err) != "ResourceNotFound" {
		t.Fatalf("delete with a missing name: %v", err)
	}
	out, _ := cl.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"s-00"}})
	if len(out.MetricAlarms) != 0 {
		t.Fatal("the existing alarm must still be deleted")
	}
}

func TestCloudWatchDashboards(t *testing.T) {
	c, cl := obsClients(t)
	ctx := context.Background()
	bad := []string{
		`not json`,
		`{}`,
		`{"widgets":[{"type":"metric","properties":{"metrics":[["AWS/ECS","CPUUtilization"]]}}]}`,
		`{"widgets":[{"type":"metric","properties":{"region":"us-east-1","metrics":[["AWS/ECS","CPUUtilization","ClusterName"]]}}]}`,
		`{"widgets":[{"type":"log","properties":{"region":"us-east-1"}}]}`,
		`{"widgets":[{"type":"metric","width":30,"properties":{"region":"us-east-1","metrics":[["AWS/ECS","CPUUtilization"]]}}]}`,
		`{"widgets":[{"type":"graph"}]}`,
	}
	for _, b := range bad {
		_, err := cl.CloudWatch.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("d"), DashboardBody: aws.String(b)})
		var die *cwt.DashboardInvalidInputError
		if !errors.As(err, &die) || errCode(err) != "InvalidParameterInput" || len(die.DashboardValidationMessages) == 0 {
			t.Errorf("body %s: got %v", b, err)
		}
	}
	body := map[string]any{"widgets": []any{
		map[string]any{"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6, "properties": map[string]any{
			"region": "us-east-1", "metrics": []any{[]any{"AWS/ECS", "CPUUtilization", "ClusterName", "wbo", map[string]any{"stat": "Average"}}}}},
		map[string]any{"type": "log", "properties": map[string]any{"region": "us-east-1", "query": "SOURCE 'g' | fields @message"}},
	}}
	js, _ := json.Marshal(body)
	_, err := cl.CloudWatch.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("d"), DashboardBody: aws.String(string(js)),
		Tags: []cwt.Tag{{Key: aws.String("wbo-deploy:stack"), Value: aws.String("wbo")}}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := cl.CloudWatch.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("d")})
	if err != nil || aws.ToString(g.DashboardBody) != string(js) || aws.ToString(g.DashboardArn) != "arn:aws:cloudwatch::123456789012:dashboard/d" {
		t.Fatalf("get: %v %v", g, err)
	}
	l, err := cl.CloudWatch.ListDashboards(ctx, &cloudwatch.ListDashboardsInput{})
	if err != nil || len(l.DashboardEntries) != 1 {
		t.Fatalf("list: %v %v", l, err)
	}
	tags, err := cl.CloudWatch.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: g.DashboardArn})
	if err != nil || len(tags.Tags) != 1 {
		t.Fatalf("dashboard tags: %v %v", tags, err)
	}
	if inv := c.Inventory(); len(inv) != 1 || inv[0].Kind != "dashboard" {
		t.Fatalf("inventory %v", inv)
	}
	_, err = cl.CloudWatch.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{"d", "missing"}})
	if errCode(err) != "ResourceNotFound" {
		t.Fatalf("delete with a missing name: %v", err)
	}
	if _, err := cl.CloudWatch.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("d")}); err != nil {
		t.Fatal("a failed DeleteDashboards must delete nothing")
	}
	if _, err := cl.CloudWatch.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{"d"}}); err != nil {
		t.Fatal(err)
	}
	_, err = cl.CloudWatch.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("d")})
	if errCode(err) != "ResourceNotFound" {
		t.Fatalf("get after delete: %v", err)
	}
}
