package awssim

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2t "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// A pinned window misses exactly that many reads, then the resource shows.
func TestWindowsPinnedMissThenShow(t *testing.T) {
	e := newELBEnv(t) // every window off...
	ctx := context.Background()
	e.c.PinWindow(WinELBDescribe, 2) // ...but this one
	tg := e.tg("web")
	for i := 0; i < 2; i++ {
		_, err := e.cl.ELB.DescribeTargetGroups(ctx, &elasticloadbalancingv2.DescribeTargetGroupsInput{TargetGroupArns: []string{tg}})
		wantCode(t, err, "TargetGroupNotFound")
	}
	out, err := e.cl.ELB.DescribeTargetGroups(ctx, &elasticloadbalancingv2.DescribeTargetGroupsInput{TargetGroupArns: []string{tg}})
	e.must(err)
	if len(out.TargetGroups) != 1 {
		t.Fatalf("visible after its misses: %+v", out.TargetGroups)
	}
	// Listings count as reads too: a new load balancer is left out, then listed.
	lbARN := aws.ToString(e.lb("other").LoadBalancerArn)
	listed := func() bool {
		out, err := e.cl.ELB.DescribeLoadBalancers(ctx, &elasticloadbalancingv2.DescribeLoadBalancersInput{})
		e.must(err)
		for _, l := range out.LoadBalancers {
			if aws.ToString(l.LoadBalancerArn) == lbARN {
				return true
			}
		}
		return false
	}
	for i, want := range []bool{false, false, true} {
		if got := listed(); got != want {
			t.Fatalf("listing %d: listed=%v, want %v (2 listings miss a new load balancer)", i+1, got, want)
		}
	}
}

// ElastiCache, CloudWatch and EC2 windows, and a deleted security group that
// filters still list while a describe by ID says it is gone.
func TestWindowsOtherServices(t *testing.T) {
	c, cl := ecsTestClients(t, nil)
	ctx := context.Background()
	subnets, _ := ecsNet(t, cl)
	for w := Window(0); w < numWindows; w++ {
		c.PinWindow(w, 1)
	}
	if _, err := cl.ElastiCache.CreateCacheSubnetGroup(ctx, &elasticache.CreateCacheSubnetGroupInput{CacheSubnetGroupName: aws.String("g"),
		CacheSubnetGroupDescription: aws.String("g"), SubnetIds: subnets}); err != nil {
		t.Fatal(err)
	}
	_, err := cl.ElastiCache.DescribeCacheSubnetGroups(ctx, &elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String("g")})
	if ecsCode(err) != "CacheSubnetGroupNotFoundFault" {
		t.Fatalf("new cache subnet group: %v", err)
	}
	if _, err := cl.ElastiCache.DescribeCacheSubnetGroups(ctx, &elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String("g")}); err != nil {
		t.Fatalf("after the window: %v", err)
	}

	put := &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"), Namespace: aws.String("AWS/ECS"), MetricName: aws.String("CPUUtilization"),
		Statistic: "Average", Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(80), ComparisonOperator: "GreaterThanThreshold"}
	if _, err := cl.CloudWatch.PutMetricAlarm(ctx, put); err != nil {
		t.Fatal(err)
	}
	names := func() int {
		out, err := cl.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"a"}})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.MetricAlarms)
	}
	if names() != 0 || names() != 1 {
		t.Fatal("DescribeAlarms leaves a new alarm out once, then lists it")
	}

	vpc, err := cl.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(vpc.Vpc.VpcId)
	if _, err := cl.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}}); ecsCode(err) != "InvalidVpcID.NotFound" {
		t.Fatalf("new VPC: %v", err)
	}
	g, err := cl.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(id), GroupName: aws.String("x"), Description: aws.String("x")})
	if err != nil {
		t.Fatal(err)
	}
	gid := aws.ToString(g.GroupId)
	byVPC := &ec2.DescribeSecurityGroupsInput{Filters: []ec2t.Filter{{Name: aws.String("group-name"), Values: []string{"x"}}}}
	if _, err := cl.EC2.DescribeSecurityGroups(ctx, byVPC); err != nil { // spends the new group's miss
		t.Fatal(err)
	}
	if _, err := cl.EC2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(gid)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{gid}}); ecsCode(err) != "InvalidGroup.NotFound" {
		t.Fatalf("a deleted group described by ID: %v", err)
	}
	count := func() int {
		out, err := cl.EC2.DescribeSecurityGroups(ctx, byVPC)
		if err != nil {
			t.Fatal(err)
		}
		return len(out.SecurityGroups)
	}
	if count() != 1 || count() != 0 {
		t.Fatal("a deleted group is still listed by a filter once, then not")
	}
}

// ELB refuses access logs for a moment after the bucket policy is written.
func TestWindowLogBucketPolicy(t *testing.T) {
	e := newELBEnv(t)
	ctx := context.Background()
	e.c.PinWindow(WinLogBucketPolicy, 2)
	_, err := e.cl.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("logs")})
	e.must(err)
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"logdelivery.elasticloadbalancing.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::logs/*"}]}`
	_, err = e.cl.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("logs"), Policy: aws.String(policy)})
	e.must(err)
	enable := &elasticloadbalancingv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: e.lb("web").LoadBalancerArn,
		Attributes: []lbt.LoadBalancerAttribute{{Key: aws.String("access_logs.s3.enabled"), Value: aws.String("true")},
			{Key: aws.String("access_logs.s3.bucket"), Value: aws.String("logs")}, {Key: aws.String("access_logs.s3.prefix"), Value: aws.String("alb")}}}
	for i := 0; i < 2; i++ {
		_, err := e.cl.ELB.ModifyLoadBalancerAttributes(ctx, enable)
		wantCode(t, err, "InvalidConfigurationRequest")
	}
	_, err = e.cl.ELB.ModifyLoadBalancerAttributes(ctx, enable)
	e.must(err)
}

// Drawn windows stay within their documented bounds, differ by seed, and do
// not depend on the order resources are created in.
func TestWindowsDrawnFromBoundsPerSeed(t *testing.T) {
	draw := func(seed int64) []int {
		c := New(Options{Seed: seed, Scale: 1})
		var got []int
		c.lock()
		defer c.unlock()
		for i := 0; i < 20; i++ {
			id := fmt.Sprintf("x%d", i)
			c.openWindow(WinEC2Describe, id, nil)
			l := c.cons.open[winKey{WinEC2Describe, id}]
			b := windowBounds[WinEC2Describe]
			if l.misses < b.min || l.misses > b.max || l.until.IsZero() {
				t.Fatalf("drawn window %+v outside %+v", l, b)
			}
			got = append(got, l.misses)
		}
		return got
	}
	a, b := draw(1), draw(2)
	same := true
	for i := range a {
		same = same && a[i] == b[i]
	}
	if same {
		t.Fatalf("seeds 1 and 2 drew the same windows %v", a)
	}
	if again := draw(1); fmt.Sprint(again) != fmt.Sprint(a) {
		t.Fatalf("seed 1 drew %v, then %v", a, again)
	}
	// A drawn window also closes when its span of AWS time has passed.
	c := New(Options{Scale: 1})
	now := time.Now()
	c.clock = func() time.Time { return now }
	c.lock()
	c.openWindow(WinEC2Describe, "y", nil)
	now = now.Add(windowBounds[WinEC2Describe].span + time.Second)
	open := c.inWindow(WinEC2Describe, "y")
	c.unlock()
	if open {
		t.Fatal("a window outlived its span")
	}
}
