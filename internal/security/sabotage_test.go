package security

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// sabotageEnv makes TestFSBPControls break the default stack behind
// wbo-deploy's back before checking it (see TestChecksDetectViolations).
const sabotageEnv = "WBO_SECURITY_SABOTAGE"

// sabotaged maps each violation sabotage makes to the subtest that must
// then fail.
var sabotaged = []string{
	"TestFSBPControls/default/S3.8/bucket-boards",          // block public access off
	"TestFSBPControls/default/S3.5/bucket-boards",          // TLS-only policy deleted
	"TestFSBPControls/default/S3.2-S3.3/bucket-logs",       // ACLs enabled again
	"TestFSBPControls/default/S3.12/bucket-logs",           // the same
	"TestFSBPControls/default/ELB.4",                       // invalid headers forwarded
	"TestFSBPControls/default/ECS.2",                       // tasks' group open to the internet
	"TestFSBPControls/default/EC2.18-EC2.19",               // the same rule: port 22 from anywhere
	"TestFSBPControls/default/IAM.1",                       // * on * in the task role
	"TestFSBPControls/default/IAM.21",                      // the same statement
	"TestFSBPControls/default/KMS.2",                       // ... allows kms:Decrypt on every key
	"TestFSBPControls/default/CloudWatch.16",               // retention changed
	"TestFSBPControls/default/state-file-mode",             // state file readable by all
	"TestFSBPControls/default/no-credentials-written",      // secret written next to the state
	"TestFSBPControls/default/outputs-are-what-they-claim", // -v log emptied
}

// sabotage breaks one thing per entry of sabotaged, through the SDK and
// the file system, never through wbo-deploy.
func sabotage(t *testing.T, d *deployment) {
	t.Helper()
	ctx := context.Background()
	b := stackBuckets(t, d)
	boards, logs := aws.String(b["bucket-boards"].name), b["bucket-logs"].name
	off := aws.Bool(false)
	_, err := d.sdk.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: boards,
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: off, IgnorePublicAcls: off, BlockPublicPolicy: off, RestrictPublicBuckets: off}})
	mustNoErr(t, "sabotage public access block", err)
	_, err = d.sdk.S3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: boards})
	mustNoErr(t, "sabotage bucket policy", err)
	_, err = d.sdk.S3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(logs),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipObjectWriter}}}})
	mustNoErr(t, "sabotage log bucket ownership", err)

	lbs, err := d.sdk.ELB.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	mustNoErr(t, "describe load balancers", err)
	_, err = d.sdk.ELB.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: lbs.LoadBalancers[0].LoadBalancerArn,
		Attributes: []lbt.LoadBalancerAttribute{{Key: aws.String("routing.http.drop_invalid_header_fields.enabled"), Value: aws.String("false")}}})
	mustNoErr(t, "sabotage drop invalid headers", err)

	v := stackECS(t, d)
	sg := v.services[0].NetworkConfiguration.AwsvpcConfiguration.SecurityGroups[0]
	_, err = d.sdk.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(sg),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	mustNoErr(t, "sabotage tasks security group", err)

	roles := stackRoles(t, d)
	_, err = d.sdk.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(roles[0].name), PolicyName: aws.String("admin"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
	mustNoErr(t, "sabotage role policy", err)

	groups, err := d.sdk.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	mustNoErr(t, "describe log groups", err)
	_, err = d.sdk.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: groups.LogGroups[0].LogGroupName, RetentionInDays: aws.Int32(7)})
	mustNoErr(t, "sabotage log retention", err)

	mustNoErr(t, "sabotage state file mode", os.Chmod(d.state, 0o644))
	mustNoErr(t, "sabotage secret file", os.WriteFile(d.state+".bak", []byte("aws_secret_access_key = "+fakeSecretKey+"\n"), 0o600))
	d.outputs["up -v stderr"], d.outputs["up -v stdout"] = "", ""
}

// TestChecksDetectViolations proves the checks can fail: it reruns the
// default variant in a child process that first breaks the stack in the
// ways listed in sabotaged, and requires exactly those subtests to fail.
func TestChecksDetectViolations(t *testing.T) {
	if os.Getenv(sabotageEnv) != "" {
		t.Skip("running as the sabotaged child")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestFSBPControls$/^default$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), sabotageEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err == nil {
		t.Fatalf("the sabotaged stack passed every check:\n%s", out.String())
	}
	failed := map[string]bool{}
	for _, line := range strings.Split(out.String(), "\n") {
		line = strings.TrimSpace(line)
		if name, ok := strings.CutPrefix(line, "--- FAIL: "); ok {
			failed[strings.Fields(name)[0]] = true
		}
	}
	for _, name := range sabotaged {
		if !failed[name] {
			t.Errorf("%s did not fail on the sabotaged stack", name)
		}
	}
	for name := range failed {
		if name != "TestFSBPControls" && name != "TestFSBPControls/default" && !contains(sabotaged, name) {
			t.Errorf("%s failed on the sabotaged stack, but sabotage did not target it", name)
		}
	}
	if t.Failed() {
		t.Logf("child output:\n%s", out.String())
	}
}
