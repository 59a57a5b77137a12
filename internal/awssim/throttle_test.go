package awssim

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2t "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
)

// frozen returns a cloud whose clock only moves when the test says so, at
// Scale 1 (AWS time = wall time), and a way to advance it.
func frozen(t *testing.T) (*Cloud, func(time.Duration)) {
	t.Helper()
	c := New(Options{Scale: 1})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.clock = func() time.Time { return now }
	return c, func(d time.Duration) { now = now.Add(d) }
}

// takeN draws n tokens and reports how many attempts passed.
func takeN(c *Cloud, n int, service, op string, params any) int {
	c.lock()
	defer c.unlock()
	ok := 0
	for i := 0; i < n; i++ {
		if c.take(service, op, params) {
			ok++
		}
	}
	return ok
}

var filtered = &ec2.DescribeVpcsInput{Filters: []ec2t.Filter{{Name: aws.String("tag:x"), Values: []string{"y"}}}}

// EC2's non-mutating bucket: a burst of 100, then 20 per second.
func TestTokenBucketBurstThenRefill(t *testing.T) {
	c, advance := frozen(t)
	if got := takeN(c, 150, "EC2", "DescribeVpcs", filtered); got != 100 {
		t.Fatalf("burst: %d of 150 passed, want the bucket size 100", got)
	}
	advance(time.Second)
	if got := takeN(c, 50, "EC2", "DescribeVpcs", filtered); got != 20 {
		t.Fatalf("after 1 s: %d passed, want the refill rate 20", got)
	}
	advance(time.Hour)
	if got := takeN(c, 150, "EC2", "DescribeVpcs", filtered); got != 100 {
		t.Fatalf("refill stops at the bucket size: %d", got)
	}
}

// Each API has its own bucket; unfiltered describes, mutating calls and ECS
// groups have their own sizes.
func TestTokenBucketsPerAPI(t *testing.T) {
	c, _ := frozen(t)
	// In order: each row draws n attempts and expects want to pass.
	for _, r := range []struct {
		why         string
		service, op string
		params      any
		n, want     int
	}{
		{"non-mutating: 100", "EC2", "DescribeVpcs", filtered, 100, 100},
		{"the same bucket, now empty", "EC2", "DescribeVpcs", filtered, 1, 0},
		{"another API, its own bucket", "EC2", "DescribeSubnets", &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-1"}}, 100, 100},
		{"DescribeSecurityGroups unfiltered and unpaginated: 50", "EC2", "DescribeSecurityGroups", &ec2.DescribeSecurityGroupsInput{}, 100, 50},
		{"DescribeVpcs has no unfiltered bucket of its own", "EC2", "DescribeVpcs", &ec2.DescribeVpcsInput{}, 100, 0},
		{"mutating: 50", "EC2", "CreateVpc", &ec2.CreateVpcInput{}, 100, 50},
		{"CreateTags, uncategorized: 100", "EC2", "CreateTags", &ec2.CreateTagsInput{}, 150, 100},
		{"ECS cluster reads: 50", "ECS", "DescribeClusters", &ecs.DescribeClustersInput{}, 100, 50},
		{"ECS cluster reads share one bucket", "ECS", "ListClusters", &ecs.ListClustersInput{}, 100, 0},
		{"PutMetricAlarm: 3 TPS", "CloudWatch", "PutMetricAlarm", nil, 10, 3},
	} {
		if got := takeN(c, r.n, r.service, r.op, r.params); got != r.want {
			t.Errorf("%s: %d of %d passed, want %d", r.why, got, r.n, r.want)
		}
	}
}

// A throttled attempt answers the service's code through the SDK stack, and
// ThrottleNext is a storm of exactly n refusals per bucket, whatever the time.
func TestThrottleNextIsDeterministic(t *testing.T) {
	c, advance := frozen(t)
	c.ThrottleNext(3)
	if got := takeN(c, 5, "EC2", "DescribeVpcs", filtered); got != 2 {
		t.Fatalf("ThrottleNext(3): %d of 5 passed", got)
	}
	if got := takeN(c, 5, "ECS", "DescribeServices", nil); got != 2 {
		t.Fatalf("each bucket refuses its own 3: %d of 5", got)
	}
	c.ThrottleNext(-1)
	advance(time.Hour)
	if got := takeN(c, 5, "EC2", "DescribeVpcs", filtered); got != 0 {
		t.Fatalf("ThrottleNext(-1) refuses everything: %d", got)
	}
	c.ThrottleNext(0)
	if got := takeN(c, 5, "EC2", "DescribeVpcs", filtered); got != 5 {
		t.Fatalf("storm over: %d", got)
	}
	c.ScaleBuckets(0.1)
	advance(time.Hour)
	if got := takeN(c, 50, "EC2", "DescribeVpcs", filtered); got != 10 {
		t.Fatalf("ScaleBuckets(0.1): %d of 50, want 10", got)
	}
}

// Through the real SDK stack: a throttled attempt answers the service's own
// code, the retryer tries again, and the call succeeds once the storm is
// spent. SNS's code, "Throttled", is retried too.
func TestThrottledAttemptsRetriedBySDK(t *testing.T) {
	c := New(Options{})
	cl, err := awsclients.New(context.Background(), awsclients.Options{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATED", "secret", ""),
		APIOptions: c.APIOptions(), RetryMode: "standard", MaxAttempts: 5, MaxBackoff: time.Millisecond,
		Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	c.ThrottleNext(3)
	if _, err := cl.EC2.DescribeVpcs(context.Background(), filtered); err != nil {
		t.Fatalf("EC2 after 3 throttles: %v", err)
	}
	if _, err := cl.SNS.ListSubscriptionsByTopic(context.Background(), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:none")}); err != nil && ecsCode(err) != "NotFound" {
		t.Fatalf("SNS after 3 throttles: %v", err)
	}
	codes := map[string]int{}
	for _, k := range c.Calls() {
		codes[k.Service+" "+k.Err]++
	}
	if codes["EC2 Throttling"] != 3 || codes["SNS Throttling"] != 3 {
		t.Fatalf("throttled attempts: %v", codes)
	}
	c.ThrottleNext(-1)
	_, err = cl.ECS.DescribeClusters(context.Background(), &ecs.DescribeClustersInput{})
	if ecsCode(err) != "ThrottlingException" {
		t.Fatalf("ECS throttled for good: %v", err)
	}
}
