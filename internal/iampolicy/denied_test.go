package iampolicy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/app"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/iampolicy"
)

// A statement taken out of the operator policy makes up fail, with the
// refusal each service answers: the policy is load-bearing, statement by
// statement, and the operator learns which action is missing.
func TestRemovedStatementFailsUp(t *testing.T) {
	const yaml = "stack: wbo\nregion: us-east-1\nalarms:\n  email: [ops@example.com]\n"
	for _, k := range []struct {
		sid, code, action string
	}{
		{"Ec2", "UnauthorizedOperation", "ec2:"},
		{"S3StackBuckets", "AccessDenied", "s3:CreateBucket"},
		{"Ecs", "AccessDeniedException", "ecs:"},
		{"Logs", "AccessDeniedException", "logs:"},
		{"IamStackRoles", "AccessDenied", "iam:"},
		{"Sns", "AuthorizationError", "SNS:"},
	} {
		t.Run(k.sid, func(t *testing.T) {
			cloud := awssim.New(awssim.Options{Scale: 2e-5})
			g, errb, cfg := operatorRun(t, cloud, t.TempDir(), yaml)
			doc := iampolicy.Build(cfg, "aws", cloud.Account, cloud.Region, iampolicy.Options{})
			var kept []iampolicy.Statement
			for _, s := range doc.Statement {
				if s.Sid != k.sid {
					kept = append(kept, s)
				}
			}
			if len(kept) == len(doc.Statement) {
				t.Fatalf("the policy has no statement %s", k.sid)
			}
			doc.Statement = kept
			if err := cloud.SetIdentityPolicy(operatorKey, doc.String()); err != nil {
				t.Fatal(err)
			}
			err := app.Up(context.Background(), g, app.UpOptions{})
			if err == nil {
				t.Fatalf("up succeeded without statement %s", k.sid)
			}
			msg := err.Error() + errb.String()
			if !strings.Contains(msg, "api error "+k.code) || !strings.Contains(msg, "is not authorized to perform: "+k.action) {
				t.Fatalf("without %s: want %s naming %s, got %v\n%s", k.sid, k.code, k.action, err, errb.String())
			}
			var refused bool
			for _, c := range cloud.Calls() {
				refused = refused || c.Err == k.code
			}
			if !refused {
				t.Errorf("no call recorded with %s", k.code)
			}
		})
	}
}

// Shared mode with alarms and the dashboard off still needs CloudWatch:
// Application Auto Scaling checks that the caller may manage the alarms of
// the target tracking policies. Up and destroy succeed as the operator.
func TestSharedModeWithoutAlarmsRunsAsTheOperator(t *testing.T) {
	const yaml = "stack: wbo\nregion: us-east-1\napp:\n  mode: shared\n  image: example/wbo-shared:1\n  shares_state: true\n" +
		"alarms:\n  enabled: false\ndashboard:\n  enabled: false\n"
	used, _ := scenario(t, yaml, func(run func(string, func(context.Context, *app.Globals) error), _ *world) {
		run(yaml, up)
		run(yaml, destroyAll)
	})
	for _, a := range []string{"cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "application-autoscaling:PutScalingPolicy"} {
		if !used[a] {
			t.Errorf("%s was not authorized by any call", a)
		}
	}
}

// A destroy re-run after a crash that followed DeleteRole reads a role that
// is gone: IAM authorizes that read on the role's path-less ARN, which the
// policy grants, so the tool learns NoSuchEntity (and carries on) instead
// of AccessDenied.
func TestDestroyAfterTheRoleWentRunsAsTheOperator(t *testing.T) {
	const yaml = "stack: wbo\nregion: us-east-1\n"
	scenario(t, yaml, func(run func(string, func(context.Context, *app.Globals) error), w *world) {
		run(yaml, up)
		w.by(func() { w.deleteRole("role-execution") })
		run(yaml, destroyAll)
	})
}
