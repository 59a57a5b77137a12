package awssim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2t "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
)

// elbEnv is a simulated account with a VPC, an internet gateway, two public
// subnets in two zones and a security group, and SDK clients for it.
type elbEnv struct {
	t       *testing.T
	c       *Cloud
	cl      *awsclients.Clients
	vpc     string
	subnets []string
	sg      string
}

func newELBEnv(t *testing.T) *elbEnv {
	t.Helper()
	c := New(Options{ConsistencyMisses: -1, NoThrottling: true})
	cl, err := awsclients.New(context.Background(), awsclients.Options{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATED", "secret", ""),
		APIOptions: c.APIOptions(), RetryMode: "standard", MaxAttempts: 3, MaxBackoff: time.Millisecond,
		Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &elbEnv{t: t, c: c, cl: cl}
	ctx := context.Background()
	v, err := cl.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	e.must(err)
	e.vpc = aws.ToString(v.Vpc.VpcId)
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		s, err := cl.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(e.vpc), CidrBlock: aws.String(fmt.Sprintf("10.0.%d.0/24", i+1)), AvailabilityZone: aws.String(az)})
		e.must(err)
		e.subnets = append(e.subnets, aws.ToString(s.Subnet.SubnetId))
	}
	g, err := cl.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("alb"), Description: aws.String("alb"), VpcId: aws.String(e.vpc)})
	e.must(err)
	e.sg = aws.ToString(g.GroupId)
	igw, err := cl.EC2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	e.must(err)
	_, err = cl.EC2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: aws.String(e.vpc)})
	e.must(err)
	return e
}

func (e *elbEnv) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func (e *elbEnv) lb(name string) lbt.LoadBalancer {
	e.t.Helper()
	out, err := e.cl.ELB.CreateLoadBalancer(context.Background(), &elbv2.CreateLoadBalancerInput{Name: aws.String(name),
		Subnets: e.subnets, SecurityGroups: []string{e.sg}, Tags: []lbt.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	e.must(err)
	return out.LoadBalancers[0]
}

func (e *elbEnv) tg(name string) string {
	e.t.Helper()
	out, err := e.cl.ELB.CreateTargetGroup(context.Background(), &elbv2.CreateTargetGroupInput{Name: aws.String(name),
		Protocol: lbt.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(e.vpc), TargetType: lbt.TargetTypeEnumIp})
	e.must(err)
	return aws.ToString(out.TargetGroups[0].TargetGroupArn)
}

func forward(tgs ...string) []lbt.Action {
	fc := &lbt.ForwardActionConfig{}
	for _, t := range tgs {
		fc.TargetGroups = append(fc.TargetGroups, lbt.TargetGroupTuple{TargetGroupArn: aws.String(t), Weight: aws.Int32(1)})
	}
	return []lbt.Action{{Type: lbt.ActionTypeEnumForward, ForwardConfig: fc}}
}

func (e *elbEnv) listener(lbARN string, port int32, actions []lbt.Action) string {
	e.t.Helper()
	out, err := e.cl.ELB.CreateListener(context.Background(), &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbARN),
		Port: aws.Int32(port), Protocol: lbt.ProtocolEnumHttp, DefaultActions: actions})
	e.must(err)
	return aws.ToString(out.Listeners[0].ListenerArn)
}

// waitFor polls cond (the simulated clock is scaled: AWS minutes are
// milliseconds) and fails after a generous wall-clock bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestELBLoadBalancerLifecycle(t *testing.T) {
	e := newELBEnv(t)
	ctx := context.Background()
	lb := e.lb("web")
	arn := aws.ToString(lb.LoadBalancerArn)
	if !strings.HasPrefix(arn, "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/") {
		t.Fatalf("ARN %s", arn)
	}
	if lb.State.Code != lbt.LoadBalancerStateEnumProvisioning || lb.Scheme != lbt.LoadBalancerSchemeEnumInternetFacing || lb.IpAddressType != lbt.IpAddressTypeIpv4 {
		t.Fatalf("new load balancer: %+v", lb)
	}
	// Idempotent with the same settings (API reference, CreateLoadBalancer).
	again := e.lb("web")
	if aws.ToString(again.LoadBalancerArn) != arn {
		t.Fatal("same settings must return the same load balancer")
	}
	_, err := e.cl.ELB.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: e.subnets,
		SecurityGroups: []string{e.sg}, Scheme: lbt.LoadBalancerSchemeEnumInternal})
	wantCode(t, err, "DuplicateLoadBalancerName")
	if !strings.Contains(err.Error(), "A load balancer with the same name 'web' exists, but with different settings") {
		t.Fatalf("message: %v", err)
	}
	// One requester-managed ENI per subnet, described after the ALB.
	enis, err := e.cl.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2t.Filter{{Name: aws.String("description"), Values: []string{"ELB app/web/*"}}}})
	e.must(err)
	if len(enis.NetworkInterfaces) != 2 || !aws.ToBool(enis.NetworkInterfaces[0].RequesterManaged) {
		t.Fatalf("ENIs: %+v", enis.NetworkInterfaces)
	}
	// provisioning → active, which the SDK waiter sees.
	err = elbv2.NewLoadBalancerAvailableWaiter(e.cl.ELB, func(o *elbv2.LoadBalancerAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	}).
		Wait(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}}, 5*time.Second)
	e.must(err)
	// Deletion protection refuses DeleteLoadBalancer.
	_, err = e.cl.ELB.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn),
		Attributes: []lbt.LoadBalancerAttribute{{Key: aws.String("deletion_protection.enabled"), Value: aws.String("true")}}})
	e.must(err)
	_, err = e.cl.ELB.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(arn)})
	wantCode(t, err, "OperationNotPermitted")
	_, err = e.cl.ELB.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn),
		Attributes: []lbt.LoadBalancerAttribute{{Key: aws.String("deletion_protection.enabled"), Value: aws.String("false")}}})
	e.must(err)
	_, err = e.cl.ELB.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(arn)})
	e.must(err)
	// "If the load balancer does not exist or has already been deleted, the call succeeds."
	_, err = e.cl.ELB.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(arn)})
	e.must(err)
	_, err = e.cl.ELB.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
	wantCode(t, err, "LoadBalancerNotFound")
	// The ENIs linger and block the subnet and the security group, then go.
	_, err = e.cl.EC2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(e.subnets[0])})
	wantCode(t, err, "DependencyViolation")
	_, err = e.cl.EC2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(e.sg)})
	wantCode(t, err, "DependencyViolation")
	waitFor(t, "ENIs to be released", func() bool {
		_, err := e.cl.EC2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(e.subnets[0])})
		return err == nil
	})
	_, err = e.cl.EC2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(e.sg)})
	e.must(err)
}

func TestELBLoadBalancerValidation(t *testing.T) {
	e := newELBEnv(t)
	ctx := context.Background()
	cases := []struct {
		name string
		in   *elbv2.CreateLoadBalancerInput
		code string
	}{
		{"one subnet", &elbv2.CreateLoadBalancerInput{Name: aws.String("a"), Subnets: e.subnets[:1]}, "ValidationError"},
		{"bad name", &elbv2.CreateLoadBalancerInput{Name: aws.String("-a"), Subnets: e.subnets}, "ValidationError"},
		{"internal- prefix", &elbv2.CreateLoadBalancerInput{Name: aws.String("internal-a"), Subnets: e.subnets}, "ValidationError"},
		{"unknown subnet", &elbv2.CreateLoadBalancerInput{Name: aws.String("a"), Subnets: []string{e.subnets[0], "subnet-nope"}}, "SubnetNotFound"},
		{"unknown group", &elbv2.CreateLoadBalancerInput{Name: aws.String("a"), Subnets: e.subnets, SecurityGroups: []string{"sg-nope"}}, "InvalidSecurityGroup"},
	}
	for _, c := range cases {
		_, err := e.cl.ELB.CreateLoadBalancer(ctx, c.in)
		if err == nil {
			t.Fatalf("%s: accepted", c.name)
		}
		wantCode(t, err, c.code)
	}
	arn := aws.ToString(e.lb("web").LoadBalancerArn)
	attr := func(k, v string) error {
		_, err := e.cl.ELB.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn),
			Attributes: []lbt.LoadBalancerAttribute{{Key: aws.String(k), Value: aws.String(v)}}})
		return err
	}
	wantCode(t, attr("idle_timeout.seconds", "60"), "ValidationError") // unknown key
	wantCode(t, attr("idle_timeout.timeout_seconds", "4001"), "ValidationError")
	wantCode(t, attr("routing.http.drop_invalid_header_fields.enabled", "yes"), "ValidationError")
	wantCode(t, attr("access_logs.s3.enabled", "true"), "ValidationError") // no bucket
	e.must(attr("idle_timeout.timeout_seconds", "120"))
	out, err := e.cl.ELB.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn)})
	e.must(err)
	got := map[string]string{}
	for _, a := range out.Attributes {
		got[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	if got["idle_timeout.timeout_seconds"] != "120" || got["routing.http.drop_invalid_header_fields.enabled"] != "false" || got["deletion_protection.enabled"] != "false" {
		t.Fatalf("attributes: %v", got)
	}
	// Security groups and subnets change in place; ENIs follow.
	g2, err := e.cl.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("alb2"), Description: aws.String("x"), VpcId: aws.String(e.vpc)})
	e.must(err)
	_, err = e.cl.ELB.SetSecurityGroups(ctx, &elbv2.SetSecurityGroupsInput{LoadBalancerArn: aws.String(arn), SecurityGroups: []string{aws.ToString(g2.GroupId)}})
	e.must(err)
	_, err = e.cl.EC2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(e.sg)})
	e.must(err) // no ENI uses the old group any more
}

func TestELBTargetGroupsAndListeners(t *testing.T) {
	e := newELBEnv(t)
	ctx := context.Background()
	lbARN := aws.ToString(e.lb("web").LoadBalancerArn)
	tg1, tg2 := e.tg("one"), e.tg("two")
	if e.tg("one") != tg1 {
		t.Fatal("same settings must return the same target group")
	}
	_, err := e.cl.ELB.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("one"), Protocol: lbt.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: aws.String(e.vpc), TargetType: lbt.TargetTypeEnumIp})
	wantCode(t, err, "DuplicateTargetGroupName")
	_, err = e.cl.ELB.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("bad"), Protocol: lbt.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: aws.String(e.vpc), TargetType: lbt.TargetTypeEnumIp, HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(5)})
	wantCode(t, err, "ValidationError") // timeout must be below the interval
	_, err = e.cl.ELB.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tg1),
		Attributes: []lbt.TargetGroupAttribute{{Key: aws.String("stickiness.lb_cookie.duration"), Value: aws.String("1")}}})
	wantCode(t, err, "ValidationError")

	l80 := e.listener(lbARN, 80, forward(tg1, tg2))
	if e.listener(lbARN, 80, forward(tg1, tg2)) != l80 {
		t.Fatal("same settings must return the same listener")
	}
	_, err = e.cl.ELB.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(80),
		Protocol: lbt.ProtocolEnumHttp, DefaultActions: forward(tg1)})
	wantCode(t, err, "DuplicateListener")
	_, err = e.cl.ELB.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(443),
		Protocol: lbt.ProtocolEnumHttps, DefaultActions: forward(tg1)})
	wantCode(t, err, "ValidationError") // HTTPS needs a certificate
	_, err = e.cl.ELB.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(443),
		Protocol: lbt.ProtocolEnumHttps, SslPolicy: aws.String("ELBSecurityPolicy-Nope"), DefaultActions: forward(tg1),
		Certificates: []lbt.Certificate{{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012")}}})
	wantCode(t, err, "SSLPolicyNotFound")
	_, err = e.cl.ELB.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(25),
		Protocol: lbt.ProtocolEnumTcp, DefaultActions: forward(tg1)})
	wantCode(t, err, "UnsupportedProtocol")
	loop := []lbt.Action{{Type: lbt.ActionTypeEnumRedirect, RedirectConfig: &lbt.RedirectActionConfig{StatusCode: lbt.RedirectActionStatusCodeEnumHttp301}}}
	_, err = e.cl.ELB.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(8080),
		Protocol: lbt.ProtocolEnumHttp, DefaultActions: loop})
	wantCode(t, err, "InvalidLoadBalancerAction")

	// The listener's default action, as DescribeListeners shows it.
	ls, err := e.cl.ELB.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lbARN)})
	e.must(err)
	a := ls.Listeners[0].DefaultActions[0]
	if aws.ToInt32(a.Order) != 1 || len(a.ForwardConfig.TargetGroups) != 2 || a.TargetGroupArn != nil || aws.ToBool(a.ForwardConfig.TargetGroupStickinessConfig.Enabled) {
		t.Fatalf("default action: %+v", a)
	}
	// A target group used by a listener is in use, and associated.
	tgs, err := e.cl.ELB.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{tg1}})
	e.must(err)
	if got := tgs.TargetGroups[0].LoadBalancerArns; len(got) != 1 || got[0] != lbARN {
		t.Fatalf("LoadBalancerArns %v", got)
	}
	_, err = e.cl.ELB.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(tg1)})
	wantCode(t, err, "ResourceInUse")
	// A second load balancer cannot use the same target group.
	other := aws.ToString(e.lb("other").LoadBalancerArn)
	_, err = e.cl.ELB.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(other), Port: aws.Int32(80),
		Protocol: lbt.ProtocolEnumHttp, DefaultActions: forward(tg1)})
	wantCode(t, err, "TargetGroupAssociationLimit")
	// Deleting the load balancer deletes its listeners; the groups are free.
	_, err = e.cl.ELB.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lbARN)})
	e.must(err)
	_, err = e.cl.ELB.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{l80}})
	wantCode(t, err, "ListenerNotFound")
	_, err = e.cl.ELB.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(tg1)})
	e.must(err)
	_, err = e.cl.ELB.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(tg1)})
	e.must(err) // already gone: success (ResourceInUse is the API's only error)
	_, err = e.cl.ELB.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{tg1}})
	wantCode(t, err, "TargetGroupNotFound")
}

func TestELBRules(t *testing.T) {
	e := newELBEnv(t)
	ctx := context.Background()
	lbARN := aws.ToString(e.lb("web").LoadBalancerArn)
	tg1, tg2 := e.tg("one"), e.tg("two")
	l := e.listener(lbARN, 80, forward(tg1, tg2))
	rule := func(p int32, conds ...lbt.RuleCondition) (string, error) {
		out, err := e.cl.ELB.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(l), Priority: aws.Int32(p),
			Conditions: conds, Actions: forward(tg2), Tags: []lbt.Tag{{Key: aws.String("n"), Value: aws.String(fmt.Sprint(p))}}})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Rules[0].RuleArn), nil
	}
	r10, err := rule(10, pathCond("/boards/b*"))
	e.must(err)
	_, err = rule(10, pathCond("/x"))
	wantCode(t, err, "PriorityInUse")
	_, err = rule(0, pathCond("/x"))
	wantCode(t, err, "ValidationError")
	_, err = rule(50001, pathCond("/x"))
	wantCode(t, err, "ValidationError")
	_, err = rule(11, pathCond("/a", "/b", "/c"), queryCond([2]string{"k", "1"}, [2]string{"k", "2"}, [2]string{"k", "3"}))
	wantCode(t, err, "ValidationError")
	// Rules per load balancer: 100 (not counting default rules).
	for p := int32(100); p < 199; p++ {
		_, err := rule(p, pathCond(fmt.Sprintf("/r%d", p)))
		e.must(err)
	}
	_, err = rule(300, pathCond("/one-too-many"))
	wantCode(t, err, "TooManyRules")
	// DescribeRules pages, in priority order, default last.
	var all []lbt.Rule
	p := elbv2.NewDescribeRulesPaginator(e.cl.ELB, &elbv2.DescribeRulesInput{ListenerArn: aws.String(l), PageSize: aws.Int32(7)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		e.must(err)
		all = append(all, page.Rules...)
		pages++
	}
	if len(all) != 101 || pages != 15 || aws.ToString(all[0].Priority) != "10" || !aws.ToBool(all[100].IsDefault) || aws.ToString(all[100].Priority) != "default" {
		t.Fatalf("%d rules in %d pages, first %s, last %s", len(all), pages, aws.ToString(all[0].Priority), aws.ToString(all[100].Priority))
	}
	// Priorities move together; a clash with a rule not moved is refused.
	_, err = e.cl.ELB.(*elbv2.Client).SetRulePriorities(ctx, &elbv2.SetRulePrioritiesInput{RulePriorities: []lbt.RulePriorityPair{{RuleArn: aws.String(r10), Priority: aws.Int32(100)}}})
	wantCode(t, err, "PriorityInUse")
	_, err = e.cl.ELB.(*elbv2.Client).SetRulePriorities(ctx, &elbv2.SetRulePrioritiesInput{RulePriorities: []lbt.RulePriorityPair{{RuleArn: aws.String(r10), Priority: aws.Int32(5)}}})
	e.must(err)
	def := aws.ToString(all[100].RuleArn)
	_, err = e.cl.ELB.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: aws.String(def)})
	wantCode(t, err, "OperationNotPermitted")
	// A rule's forward counts as use of the target group.
	_, err = e.cl.ELB.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(l), DefaultActions: forward(tg1)})
	e.must(err)
	_, err = e.cl.ELB.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(tg2)})
	wantCode(t, err, "ResourceInUse")
	tags, err := e.cl.ELB.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{r10}})
	e.must(err)
	if len(tags.TagDescriptions[0].Tags) != 1 || aws.ToString(tags.TagDescriptions[0].Tags[0].Value) != "10" {
		t.Fatalf("rule tags %+v", tags.TagDescriptions)
	}
	_, err = e.cl.ELB.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: aws.String(l)})
	e.must(err)
	_, err = e.cl.ELB.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{r10}})
	wantCode(t, err, "RuleNotFound")
	_, err = e.cl.ELB.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(tg2)})
	e.must(err)
}

func TestELBTargetHealthHooks(t *testing.T) {
	e := newELBEnv(t)
	ctx := context.Background()
	lbARN := aws.ToString(e.lb("web").LoadBalancerArn)
	tg := e.tg("one")
	_, err := e.cl.ELB.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tg),
		Attributes: []lbt.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("30")}}})
	e.must(err)
	state := func() map[string]string {
		out, err := e.cl.ELB.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
		e.must(err)
		m := map[string]string{}
		for _, d := range out.TargetHealthDescriptions {
			m[aws.ToString(d.Target.Id)] = string(d.TargetHealth.State)
		}
		return m
	}
	s := e.c.elbv2()
	e.c.lock()
	if s.tgHasLoadBalancer(tg) {
		t.Error("no listener yet")
	}
	err = s.registerTask(tg, "10.0.1.10", 80)
	if err == nil {
		err = s.registerTask(tg, "10.0.2.10", 80)
	}
	bad := s.registerTask(tg, "192.168.0.1", 80)
	e.c.unlock()
	e.must(err)
	wantCode(t, bad, "InvalidTarget") // outside the VPC
	if got := state(); got["10.0.1.10"] != "unused" {
		t.Fatalf("not in use: %v", got)
	}
	e.listener(lbARN, 80, forward(tg))
	e.c.lock()
	has := s.tgHasLoadBalancer(tg)
	e.c.unlock()
	if !has {
		t.Fatal("the listener associates the target group")
	}
	e.c.lock()
	s.setTaskHealthy(tg, "10.0.2.10", false)
	e.c.unlock()
	waitFor(t, "targets past their initial checks", func() bool { return state()["10.0.1.10"] == "healthy" })
	if got := state(); got["10.0.2.10"] != "unhealthy" {
		t.Fatalf("marked failing: %v", got)
	}
	e.c.lock()
	s.deregisterTask(tg, "10.0.1.10")
	e.c.unlock()
	if got := state(); got["10.0.1.10"] != "draining" {
		t.Fatalf("deregistered: %v", got)
	}
	waitFor(t, "the deregistration delay", func() bool { _, ok := state()["10.0.1.10"]; return !ok })
	// RegisterTargets/DeregisterTargets through the API.
	_, err = e.cl.ELB.(*elbv2.Client).RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []lbt.TargetDescription{{Id: aws.String("10.0.1.20")}}})
	e.must(err)
	if got := state(); got["10.0.1.20"] != "initial" {
		t.Fatalf("registered: %v", got)
	}
	_, err = e.cl.ELB.(*elbv2.Client).DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []lbt.TargetDescription{{Id: aws.String("10.9.9.9")}}})
	e.must(err) // "If the specified target does not exist, the action returns successfully."
}

func TestELBRoute(t *testing.T) {
	e := newELBEnv(t)
	ctx := context.Background()
	lbARN := aws.ToString(e.lb("web").LoadBalancerArn)
	tg1, tg2 := e.tg("one"), e.tg("two")
	l := e.listener(lbARN, 80, forward(tg1, tg2))
	_, err := e.c.Route(l, HTTPRequest{Method: "GET", Path: "/"})
	if err == nil || !strings.Contains(err.Error(), "not active") {
		t.Fatalf("a provisioning load balancer routes nothing: %v", err)
	}
	waitFor(t, "active", func() bool { _, err := e.c.Route(l, HTTPRequest{Method: "GET", Path: "/"}); return err == nil })
	_, err = e.cl.ELB.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(l), Priority: aws.Int32(20),
		Conditions: []lbt.RuleCondition{pathCond("/boards/*")}, Actions: forward(tg2)})
	e.must(err)
	_, err = e.cl.ELB.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(l), Priority: aws.Int32(10),
		Conditions: []lbt.RuleCondition{pathCond("/socket.io/"), queryCond([2]string{"board", "a*"})}, Actions: forward(tg1)})
	e.must(err)
	_, err = e.cl.ELB.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(l), Priority: aws.Int32(5),
		Conditions: []lbt.RuleCondition{pathCond("/old")}, Actions: []lbt.Action{{Type: lbt.ActionTypeEnumRedirect,
			RedirectConfig: &lbt.RedirectActionConfig{Path: aws.String("/new"), StatusCode: lbt.RedirectActionStatusCodeEnumHttp302}}}})
	e.must(err)
	route := func(path, query string) string {
		t.Helper()
		tg, err := e.c.Route(l, HTTPRequest{Method: "GET", Path: path, RawQuery: query})
		e.must(err)
		return tg
	}
	if route("/boards/x", "") != tg2 || route("/socket.io/", "EIO=4&board=Apple") != tg1 {
		t.Fatal("rules route by path and query")
	}
	var nf *NotForwardedError
	if _, err := e.c.Route(l, HTTPRequest{Method: "GET", Path: "/old"}); !errors.As(err, &nf) || nf.Result.ActionType != "redirect" {
		t.Fatalf("redirect rule: %v", err)
	}
	// The default action spreads over both groups, deterministically.
	seen := map[string]int{}
	for i := 0; i < 200; i++ {
		seen[route(fmt.Sprintf("/static/%d.js", i), "")]++
	}
	first, second := route("/static/7.js", ""), route("/static/7.js", "")
	if seen[tg1] < 50 || seen[tg2] < 50 || first != second {
		t.Fatalf("weighted default: %v", seen)
	}
	cands, err := e.c.RouteCandidates(l, HTTPRequest{Method: "GET", Path: "/"})
	e.must(err)
	if len(cands) != 2 {
		t.Fatalf("candidates %v", cands)
	}
}

func TestELBInventoryAndTags(t *testing.T) {
	e := newELBEnv(t)
	ctx := context.Background()
	lbARN := aws.ToString(e.lb("web").LoadBalancerArn)
	tg := e.tg("one")
	e.listener(lbARN, 80, forward(tg))
	_, err := e.cl.ELB.(*elbv2.Client).AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{tg}, Tags: []lbt.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("a"), Value: aws.String("2")}}})
	wantCode(t, err, "DuplicateTagKeys")
	_, err = e.cl.ELB.(*elbv2.Client).AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{tg}, Tags: []lbt.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	e.must(err)
	_, err = e.cl.ELB.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{strings.Replace(tg, "/one/", "/two/", 1)}})
	wantCode(t, err, "TargetGroupNotFound")
	kinds := map[string]int{}
	for _, r := range e.c.Inventory() {
		if r.Service == "ELBv2" {
			kinds[r.Kind]++
			if r.Kind == "load-balancer" && r.Tags["k"] != "v" {
				t.Fatalf("tags from CreateLoadBalancer: %v", r.Tags)
			}
			if r.Kind == "target-group" && r.Tags["a"] != "1" {
				t.Fatalf("tags from AddTags: %v", r.Tags)
			}
		}
	}
	if kinds["load-balancer"] != 1 || kinds["target-group"] != 1 || kinds["listener"] != 1 || kinds["listener-rule"] != 0 {
		t.Fatalf("inventory %v", kinds)
	}
}

type logDelivery struct {
	err   error
	calls []string
}

func (l *logDelivery) CheckELBLogDelivery(bucket, prefix, account, region string) error {
	l.calls = append(l.calls, bucket+"|"+prefix+"|"+account+"|"+region)
	return l.err
}

func TestELBAccessLogsAskTheBucket(t *testing.T) {
	e := newELBEnv(t)
	ctx := context.Background()
	check := &logDelivery{err: errors.New("policy does not allow logdelivery.elasticloadbalancing.amazonaws.com")}
	e.c.services["S3"] = check // the S3 simulation's answer, stubbed to exercise both outcomes
	arn := aws.ToString(e.lb("web").LoadBalancerArn)
	enable := []lbt.LoadBalancerAttribute{{Key: aws.String("access_logs.s3.enabled"), Value: aws.String("true")},
		{Key: aws.String("access_logs.s3.bucket"), Value: aws.String("logs")}, {Key: aws.String("access_logs.s3.prefix"), Value: aws.String("alb")}}
	_, err := e.cl.ELB.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn), Attributes: enable})
	wantCode(t, err, "InvalidConfigurationRequest")
	if !strings.Contains(err.Error(), "Access Denied for bucket: logs") {
		t.Fatalf("message: %v", err)
	}
	check.err = nil
	_, err = e.cl.ELB.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn), Attributes: enable})
	e.must(err)
	if len(check.calls) != 2 || check.calls[1] != "logs|alb|123456789012|us-east-1" {
		t.Fatalf("checks %v", check.calls)
	}
	// Unchanged log settings are not checked again.
	_, err = e.cl.ELB.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn),
		Attributes: []lbt.LoadBalancerAttribute{{Key: aws.String("idle_timeout.timeout_seconds"), Value: aws.String("30")}}})
	e.must(err)
	if len(check.calls) != 2 {
		t.Fatalf("checks %v", check.calls)
	}
	_, err = e.cl.ELB.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn),
		Attributes: []lbt.LoadBalancerAttribute{{Key: aws.String("access_logs.s3.prefix"), Value: aws.String("AWSLogs/x")}}})
	wantCode(t, err, "ValidationError")
}
