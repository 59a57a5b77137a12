package iampolicy_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
)

// world changes the simulated account behind wbo-deploy's back, as users
// and AWS do.
type world struct {
	t     *testing.T
	cloud *awssim.Cloud
	state string
	// smtpARN is the user's secret of the secrets scenario.
	smtpARN string
}

// by runs f as the test's own doing: its calls are signed with the admin's
// key, so they are not the tool's.
func (w *world) by(f func()) { f() }

func (w *world) sdk() *awsclients.Clients {
	c, err := awsclients.New(context.Background(), awsclients.Options{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(adminKey, "secret", ""),
		APIOptions:  w.cloud.APIOptions(), RetryMode: "standard", MaxBackoff: time.Millisecond, Getenv: func(string) string { return "" }})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) record(name string) string {
	data, err := os.ReadFile(w.state)
	if err != nil {
		w.t.Fatal(err)
	}
	var f struct{ Resources []struct{ Name, ID string } }
	if err := json.Unmarshal(data, &f); err != nil {
		w.t.Fatal(err)
	}
	for _, r := range f.Resources {
		if r.Name == name {
			return r.ID
		}
	}
	w.t.Fatalf("no %s in state", name)
	return ""
}

// putBoards stores a few board versions, so deleting the bucket has objects
// and versions to delete.
func (w *world) putBoards() {
	bucket := w.record("bucket-boards")
	cl := w.sdk().S3.(*s3.Client)
	for _, k := range []string{"boards/board-a.svg", "boards/board-b.svg", "boards/board-a.svg"} {
		if _, err := cl.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader("<svg/>")}); err != nil {
			w.t.Fatal(err)
		}
	}
}

// addIngressRule opens a port by hand; up must revoke it.
func (w *world) addIngressRule(sg string) {
	_, err := w.sdk().EC2.AuthorizeSecurityGroupIngress(context.Background(), &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(w.record(sg)),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}},
	})
	if err != nil {
		w.t.Fatal(err)
	}
}

// confirmEmails makes the recipients confirm their subscriptions as soon as
// they are made (so none expires first, however slow the run), then checks
// the one of the topic is confirmed.
func (w *world) confirmEmails() {
	for _, ep := range []string{"ops@example.com"} {
		w.cloud.ConfirmPromptly(ep)
	}
}

// checkConfirmed fails unless every email subscription of the topic is confirmed.
func (w *world) checkConfirmed() {
	topic := w.record("topic")
	subs := w.cloud.Subscriptions(topic)
	if len(subs) == 0 {
		w.t.Fatal("the topic has no subscription")
	}
	for _, sub := range subs {
		if strings.HasSuffix(sub, "(pending)") {
			w.t.Fatalf("subscription %s is still pending", sub)
		}
	}
}

// userSecrets makes what the secrets scenario's app.secrets names by ARN:
// an SSM SecureString and a Secrets Manager secret under a customer key.
func (w *world) userSecrets() {
	ctx := context.Background()
	w.cloud.CreateKMSKey("alias/team")
	c := w.sdk()
	if _, err := c.SSM.(*ssm.Client).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/team/otel"), Value: aws.String("h=1"), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
		w.t.Fatal(err)
	}
	out, err := c.Secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("team/smtp"), SecretString: aws.String("pw"), KmsKeyId: aws.String("alias/team")})
	if err != nil {
		w.t.Fatal(err)
	}
	w.smtpARN = aws.ToString(out.ARN)
}

// deleteRole deletes the recorded role, its inline and attached policies
// first, as a crash after DeleteRole leaves things: the state still names
// a role that is gone.
func (w *world) deleteRole(name string) {
	ctx := context.Background()
	cl := w.sdk().IAM
	role := aws.String(w.roleName(name))
	inline, err := cl.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: role})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, p := range inline.PolicyNames {
		if _, err := cl.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: role, PolicyName: aws.String(p)}); err != nil {
			w.t.Fatal(err)
		}
	}
	attached, err := cl.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: role})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, p := range attached.AttachedPolicies {
		if _, err := cl.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: role, PolicyArn: p.PolicyArn}); err != nil {
			w.t.Fatal(err)
		}
	}
	if _, err := cl.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role}); err != nil {
		w.t.Fatal(err)
	}
}

// roleName is the role name a state record holds (its ID may be the ARN).
func (w *world) roleName(name string) string {
	id := w.record(name)
	return id[strings.LastIndex(id, "/")+1:]
}
