package provision

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// Secret values the tests store: none may appear in state, events or the
// task definition.
const (
	testSignInKey  = "sign-in-key-0f9c2d7be41a"
	testSignInKey2 = "rotated-key-77aa31c0d9e2"
	testParamValue = "parameter-value-5d1e88b0"
)

// secretConfig is the small single-task stack with a stack-owned
// AUTH_SECRET_KEY and an SSM SecureString parameter given by ARN.
func secretConfig() *config.Config {
	c := cmpSmallConfig(config.ModeSingle)
	c.App.Secrets = map[string]string{
		config.AuthSecretKey: config.SecretStack,
		"OTEL_HEADERS":       "arn:aws:ssm:us-east-1:123456789012:parameter/team/otel-headers",
	}
	return c
}

// putParameter makes the user's SecureString parameter (not the stack's).
func putParameter(t *testing.T, r *rig, value string, overwrite bool) {
	t.Helper()
	_, err := r.clients().SSM.(*ssm.Client).PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String("/team/otel-headers"), Value: aws.String(value), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(overwrite)})
	if err != nil {
		t.Fatal(err)
	}
}

func setSecret(t *testing.T, r *rig, value string) string {
	t.Helper()
	e, done := r.engine(computeGraph(r.cfg))
	defer done()
	v, err := SetSecret(context.Background(), e.Env, config.AuthSecretKey, value)
	if err != nil {
		t.Fatalf("secret set: %v", err)
	}
	return v
}

// assertNoSecretIn fails when a secret value appears in the state file.
func assertNoSecretIn(t *testing.T, r *rig) {
	t.Helper()
	data, err := os.ReadFile(r.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{testSignInKey, testSignInKey2, testParamValue} {
		if strings.Contains(string(data), v) {
			t.Fatalf("a secret value is in the state file")
		}
	}
}

func wboContainerOf(t *testing.T, r *rig) (string, []string, map[string]string) {
	t.Helper()
	arn := cmpRecord(t, r, "taskdef-shard-0")
	out, err := r.clients().ECS.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range out.TaskDefinition.ContainerDefinitions {
		if aws.ToString(c.Name) != "wbo" {
			continue
		}
		var secs []string
		for _, s := range c.Secrets {
			secs = append(secs, aws.ToString(s.Name)+"="+aws.ToString(s.ValueFrom))
		}
		for _, e := range c.Environment {
			for _, v := range []string{testSignInKey, testSignInKey2, testParamValue} {
				if strings.Contains(aws.ToString(e.Value), v) {
					t.Fatalf("secret value in the environment of the task definition")
				}
			}
		}
		return arn, secs, c.DockerLabels
	}
	t.Fatal("no wbo container")
	return "", nil, nil
}

func TestSecretsCycleSetRotateDestroy(t *testing.T) {
	r := newRig(t, secretConfig())
	putParameter(t, r, testParamValue, false)

	// Without a value, up refuses before any shard is deployed, naming the command.
	err := r.up(computeGraph(r.cfg)).Err()
	if err == nil || !strings.Contains(err.Error(), "wbo-deploy secret set AUTH_SECRET_KEY") {
		t.Fatalf("up without a value: %v", err)
	}
	v1 := setSecret(t, r, testSignInKey)
	cmpUp(t, r)
	assertNoSecretIn(t, r)
	td1, secs, labels := wboContainerOf(t, r)
	if len(secs) != 2 || !strings.HasPrefix(secs[0], "AUTH_SECRET_KEY=arn:aws:secretsmanager:us-east-1:123456789012:secret:wbo-deploy/wbo/AUTH_SECRET_KEY-") ||
		secs[1] != "OTEL_HEADERS=arn:aws:ssm:us-east-1:123456789012:parameter/team/otel-headers" {
		t.Fatalf("secrets of the wbo container: %v", secs)
	}
	if got := labels[SecretVersionsLabel]; got != "AUTH_SECRET_KEY="+v1+",OTEL_HEADERS=1" {
		t.Fatalf("version label %q", got)
	}
	// The target group checks a path WBO serves without a token.
	tgs, err := r.clients().ELB.DescribeTargetGroups(context.Background(), &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{cmpRecord(t, r, "tg-shard-0")}})
	if err != nil || len(tgs.TargetGroups) != 1 || aws.ToString(tgs.TargetGroups[0].HealthCheckPath) != config.SignInHealthCheckPath {
		t.Fatalf("health check with sign-in on: %v %+v", err, tgs)
	}
	// The execution role reads exactly those two.
	pol, err := r.clients().IAM.GetRolePolicy(context.Background(), &iam.GetRolePolicyInput{RoleName: aws.String("wbo-execution"), PolicyName: aws.String("secrets")})
	if err != nil {
		t.Fatal(err)
	}
	doc := decodeIAMDocument(aws.ToString(pol.PolicyDocument))
	for _, want := range []string{`"secretsmanager:GetSecretValue"`, `secret:wbo-deploy/wbo/AUTH_SECRET_KEY-??????"`, `"ssm:GetParameters"`, `parameter/team/otel-headers"`} {
		if !strings.Contains(doc, want) {
			t.Fatalf("execution role secrets policy lacks %s:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "*\"") && strings.Contains(doc, "secret:*") {
		t.Fatalf("secrets policy is not scoped: %s", doc)
	}

	// A second up changes nothing.
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up mutated: %v", m)
	}

	// A new value rolls the shard: a new revision, the service deploys it.
	v2 := setSecret(t, r, testSignInKey2)
	if v2 == v1 {
		t.Fatal("same version after a new value")
	}
	r.cloud.ResetCalls()
	cmpUp(t, r)
	td2, _, labels := wboContainerOf(t, r)
	if td2 == td1 || labels[SecretVersionsLabel] != "AUTH_SECRET_KEY="+v2+",OTEL_HEADERS=1" {
		t.Fatalf("rotation did not make a new revision: %s → %s, label %q", td1, td2, labels[SecretVersionsLabel])
	}
	if cmpCount(r, "ECS.UpdateService") != 1 {
		t.Fatalf("rotation: %d service updates, want 1: %v", cmpCount(r, "ECS.UpdateService"), r.cloud.MutatingCalls())
	}
	// The user's parameter changes: rolls as well.
	putParameter(t, r, testParamValue+"-2", true)
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if _, _, labels := wboContainerOf(t, r); !strings.HasSuffix(labels[SecretVersionsLabel], "OTEL_HEADERS=2") {
		t.Fatalf("parameter rotation: label %q", labels[SecretVersionsLabel])
	}
	assertNoSecretIn(t, r)

	// Destroy deletes the stack's secret, never the user's parameter.
	if err := r.destroy(computeGraph(r.cfg)).Err(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	for _, res := range r.cloud.Inventory() {
		if res.Service == "Secrets Manager" {
			t.Fatalf("left after destroy: %v", res)
		}
	}
	found := false
	for _, res := range r.cloud.Inventory() {
		found = found || (res.Service == "SSM" && res.ID == "/team/otel-headers")
	}
	if !found {
		t.Fatal("destroy deleted the user's parameter")
	}
	// The name is free again at once (no recovery window): a new stack gets its secret back.
	setSecret(t, r, testSignInKey)
}

func TestSecretRefMissingIsNamed(t *testing.T) {
	r := newRig(t, secretConfig())
	setSecret(t, r, testSignInKey)
	err := r.up(computeGraph(r.cfg)).Err()
	if err == nil || !strings.Contains(err.Error(), "app.secrets.OTEL_HEADERS") || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("up with a missing parameter: %v", err)
	}
}

// A task whose secret cannot be read does not start (the simulated ECS
// refuses it as ECS does), so the secret references are checked end to end.
func TestSecretsCrashAtEveryCall(t *testing.T) {
	cfg := func() *config.Config { return secretConfig() }
	prep := func(r *rig) {
		putParameter(t, r, testParamValue, false)
		setSecret(t, r, testSignInKey)
	}
	probe := newRig(t, cfg())
	prep(probe)
	probe.cloud.ResetCalls()
	cmpUp(t, probe)
	want := probe.owned()
	var points []int
	for i, op := range probe.cloud.MutatingCalls() {
		if strings.HasPrefix(op, "Secrets Manager.") || strings.HasPrefix(op, "IAM.") || op == "ECS.RegisterTaskDefinition" || op == "ECS.CreateService" {
			points = append(points, i+1)
		}
	}
	if len(points) < 4 {
		t.Fatalf("only %d crash points", len(points))
	}
	for _, err := range cmpCrashAll(points, func(mode awssim.CrashMode, k int) error {
		r := newRig(t, cfg())
		prep(r)
		r.cloud.ResetCalls()
		return cmpCrashOnce2(r, mode, k, want)
	}) {
		t.Error(err)
	}
}

// load_balancer.allowed_cidrs restricts the load balancer's security group
// to those networks (IPv4 and IPv6) on 80 and 443, and a change converges
// the rules in place.
func TestAllowedCIDRs(t *testing.T) {
	cfg := cmpSmallConfig(config.ModeSingle)
	cfg.LoadBalancer.AllowedCIDRs = []string{"203.0.113.0/24", "2001:db8::/32"}
	r := newRig(t, cfg)
	cmpUp(t, r)
	rules := func() []string {
		out, err := r.clients().EC2.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{cmpRecord(t, r, "sg-alb")}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range out.SecurityGroups[0].IpPermissions {
			for _, x := range p.IpRanges {
				got = append(got, fmt.Sprintf("%d %s", aws.ToInt32(p.FromPort), aws.ToString(x.CidrIp)))
			}
			for _, x := range p.Ipv6Ranges {
				got = append(got, fmt.Sprintf("%d %s", aws.ToInt32(p.FromPort), aws.ToString(x.CidrIpv6)))
			}
		}
		sort.Strings(got)
		return got
	}
	if got := strings.Join(rules(), ","); got != "443 2001:db8::/32,443 203.0.113.0/24,80 2001:db8::/32,80 203.0.113.0/24" {
		t.Fatalf("rules %s", got)
	}
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up: %v", m)
	}
	r.cfg.LoadBalancer.AllowedCIDRs = []string{"0.0.0.0/0"}
	cmpUp(t, r)
	if got := strings.Join(rules(), ","); got != "443 0.0.0.0/0,80 0.0.0.0/0" {
		t.Fatalf("back to anywhere: %s", got)
	}
	if err := r.destroy(computeGraph(r.cfg)).Err(); err != nil {
		t.Fatal(err)
	}
}

// secret set through a crash at its call, before or after Secrets Manager
// acted: the next run leaves one secret, holding the value, recorded in state.
func TestSetSecretCrash(t *testing.T) {
	for _, mode := range []awssim.CrashMode{awssim.CrashBefore, awssim.CrashAfter} {
		for _, existing := range []bool{false, true} {
			r := newRig(t, secretConfig())
			if existing {
				setSecret(t, r, testSignInKey)
			}
			r.cloud.CrashAt(1, mode)
			e, done := r.engine(computeGraph(r.cfg))
			if _, err := SetSecret(context.Background(), e.Env, config.AuthSecretKey, testSignInKey2); err == nil {
				t.Fatalf("mode %d existing %v: set through a crash", mode, existing)
			}
			done()
			r.cloud.Revive()
			setSecret(t, r, testSignInKey2)
			n := 0
			for _, res := range r.cloud.Inventory() {
				if res.Service == "Secrets Manager" {
					n++
				}
			}
			e, done = r.engine(computeGraph(r.cfg))
			got, err := ReadSecretValue(context.Background(), e.Env, config.AuthSecretKey)
			done()
			if n != 1 || err != nil || got != testSignInKey2 {
				t.Fatalf("mode %d existing %v: %d secrets, value ok %v, %v", mode, existing, n, got == testSignInKey2, err)
			}
			if rec := cmpRecord(t, r, SecretNode(config.AuthSecretKey)); !strings.Contains(rec, ":secret:wbo-deploy/wbo/AUTH_SECRET_KEY-") {
				t.Fatalf("state has %q", rec)
			}
			assertNoSecretIn(t, r)
		}
	}
}
