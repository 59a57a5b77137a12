package provision

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

func (r *rig) iamClient() *iam.Client { return r.clients().IAM.(*iam.Client) }

func rolePolicy(t *testing.T, r *rig, role, name string) string {
	t.Helper()
	out, err := r.iamClient().GetRolePolicy(context.Background(), &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := url.QueryUnescape(aws.ToString(out.PolicyDocument))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func trustPolicy(t *testing.T, r *rig, role string) string {
	t.Helper()
	out, err := r.iamClient().GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := url.QueryUnescape(aws.ToString(out.Role.AssumeRolePolicyDocument))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func attached(t *testing.T, r *rig, role string) []string {
	t.Helper()
	out, err := r.iamClient().ListAttachedRolePolicies(context.Background(), &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, a := range out.AttachedPolicies {
		arns = append(arns, aws.ToString(a.PolicyArn))
	}
	return arns
}

func TestTaskAndExecutionRolePoliciesExact(t *testing.T) {
	r := newRig(t, nil)
	if err := r.up(s3iamOnlyGraph(r.cfg)).Err(); err != nil {
		t.Fatal(err)
	}
	b := boardBucketOf(r)
	// The task role: list the bucket under the board prefix; get, put and
	// delete objects under it; describe this cluster's tasks (the lease
	// holder's state). Nothing else.
	wantTask := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"ListBoards","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::` + b + `","Condition":{"StringLike":{"s3:prefix":"boards/*"}}},` +
		`{"Sid":"ReadWriteBoards","Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::` + b + `/boards/*"},` +
		`{"Sid":"LeaseHolderState","Effect":"Allow","Action":"ecs:DescribeTasks","Resource":"arn:aws:ecs:us-east-1:123456789012:task/wbo/*",` +
		`"Condition":{"ArnEquals":{"ecs:cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/wbo"}}}]}`
	if got := rolePolicy(t, r, "wbo-task", "boards"); got != wantTask {
		t.Fatalf("task role policy\n got %s\nwant %s", got, wantTask)
	}
	wantTaskTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole",` +
		`"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:us-east-1:123456789012:*"},"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}`
	if got := trustPolicy(t, r, "wbo-task"); got != wantTaskTrust {
		t.Fatalf("task role trust\n got %s\nwant %s", got, wantTaskTrust)
	}
	if a := attached(t, r, "wbo-task"); len(a) != 0 {
		t.Fatalf("task role has managed policies %v", a)
	}
	// The execution role: the AWS managed task-execution policy only.
	wantExecTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole",` +
		`"Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}`
	if got := trustPolicy(t, r, "wbo-execution"); got != wantExecTrust {
		t.Fatalf("execution role trust\n got %s\nwant %s", got, wantExecTrust)
	}
	if a := attached(t, r, "wbo-execution"); strings.Join(a, ",") != "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy" {
		t.Fatalf("execution role policies %v", a)
	}
	out, err := r.iamClient().ListRolePolicies(context.Background(), &iam.ListRolePoliciesInput{RoleName: aws.String("wbo-execution")})
	if err != nil || len(out.PolicyNames) != 0 {
		t.Fatalf("execution role inline policies %v %v", out, err)
	}
	role, err := r.iamClient().GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("wbo-task")})
	if err != nil || aws.ToString(role.Role.Path) != "/wbo-deploy/" || len(role.Role.Tags) != 2 {
		t.Fatalf("task role %+v %v", role, err)
	}
}

func TestTaskRolePolicyWithKMSKey(t *testing.T) {
	for _, tc := range []struct {
		key, resource string
		alias         bool // create the alias in the account first; resource is then its key's ARN
	}{
		{"1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", false},
		{"arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab", false},
		{"alias/boards", "", true},
	} {
		c := config.Default()
		c.Storage.KMSKeyID = tc.key
		r := newRig(t, &c)
		if tc.alias {
			tc.resource = r.cloud.CreateKMSKey(tc.key)
		}
		if err := r.up(s3iamOnlyGraph(r.cfg)).Err(); err != nil {
			t.Fatal(err)
		}
		cond := `"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}`
		wantKMS := `{"Sid":"BoardsKey","Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"` + tc.resource + `","Condition":{` + cond + `}}]}`
		if got := rolePolicy(t, r, "wbo-task", "boards"); !strings.HasSuffix(got, wantKMS) {
			t.Fatalf("key %s: task role policy\n got %s\nwant suffix %s", tc.key, got, wantKMS)
		}
		e, done := r.engine(s3iamOnlyGraph(r.cfg))
		status := e.Status(context.Background(), e.Env.store.All())
		done()
		for _, s := range status {
			if s.Name == "bucket-boards" && s.Info["encryption"] != "SSE-KMS with key "+tc.key+", bucket key on" {
				t.Fatalf("board bucket encryption %q", s.Info["encryption"])
			}
		}
		r.cloud.ResetCalls()
		if err := r.up(s3iamOnlyGraph(r.cfg)).Err(); err != nil {
			t.Fatal(err)
		}
		if m := r.cloud.MutatingCalls(); len(m) != 0 {
			t.Fatalf("key %s: second up made %v", tc.key, m)
		}
	}
}

func TestRoleExtraPoliciesRemovedAndDeleteConflictRetried(t *testing.T) {
	r := newRig(t, nil)
	g := s3iamOnlyGraph(r.cfg)
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cl := context.Background(), r.iamClient()
	// Someone widens the task role by hand.
	if _, err := cl.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("wbo-task"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("wbo-task"), PolicyName: aws.String("extra"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	r.cloud.ResetCalls()
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.cloud.MutatingCalls(), ","); got != "IAM.DeleteRolePolicy,IAM.DetachRolePolicy" {
		t.Fatalf("converging the widened role made %s", got)
	}
	// Widen it again, and let DeleteRole meet two conflicts (the role still in
	// an instance profile that goes away): destroy removes the policies and
	// retries.
	if _, err := cl.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("wbo-task"), PolicyArn: aws.String("arn:aws:iam::aws:policy/CloudWatchLogsFullAccess")}); err != nil {
		t.Fatal(err)
	}
	r.cloud.ConflictRoleDeletes("wbo-task", 2)
	r.cloud.ResetCalls()
	if err := r.destroy(g).Err(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	conflicts, deleted := 0, 0
	for _, c := range r.cloud.Calls() {
		if c.Operation == "DeleteRole" && c.Err == "DeleteConflict" {
			conflicts++
		}
		if c.Operation == "DeleteRole" && c.Performed {
			deleted++
		}
	}
	if conflicts != 2 || deleted != 2 {
		t.Fatalf("DeleteRole: %d conflicts, %d deletions; want 2 and 2", conflicts, deleted)
	}
	for _, o := range r.owned() {
		if strings.HasPrefix(o, "role ") {
			t.Fatalf("left: %s", o)
		}
	}
}

func TestPoliciesEqualSemantically(t *testing.T) {
	base := `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b/*"},` +
		`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	same := []string{
		base,
		url.QueryEscape(base),
		// Statements and list values reordered, whitespace, scalar vs list, bool vs string.
		`{ "Statement": [ {"Effect":"Deny","Principal":"*","Action":["s3:*"],"Resource":["arn:aws:s3:::b/*","arn:aws:s3:::b"],"Condition":{"Bool":{"aws:SecureTransport":false}}},
		  {"Resource":["arn:aws:s3:::b/*"],"Action":["s3:PutObject","s3:GetObject"],"Effect":"Allow","Sid":"A"} ], "Version": "2012-10-17" }`,
	}
	for _, s := range same {
		if !policiesEqual(base, s) {
			t.Errorf("should be equal:\n%s\n%s", base, s)
		}
	}
	differ := []string{
		strings.Replace(base, `"s3:PutObject"`, `"s3:DeleteObject"`, 1),
		strings.Replace(base, `arn:aws:s3:::b/*"}`, `*"}`, 1),
		strings.Replace(base, `"false"`, `"true"`, 1),
		`{"Version":"2012-10-17","Statement":[]}`,
		`not json`,
	}
	for _, d := range differ {
		if policiesEqual(base, d) {
			t.Errorf("should differ:\n%s\n%s", base, d)
		}
	}
}

func TestRetryIAMPropagation(t *testing.T) {
	env := &Env{Clock: &Clock{Scale: 1e-4}, sink: func(Event) {}}
	notYet := &smithy.GenericAPIError{Code: "InvalidParameterException",
		Message: "Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being passed has the proper permissions."}
	calls := 0
	err := RetryIAMPropagation(context.Background(), env, "service-shard-0", func(context.Context) error {
		calls++
		if calls < 3 {
			return notYet
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("retried %d times, err %v; want success on the third call", calls, err)
	}
	// A real parameter error is not retried.
	other := &smithy.GenericAPIError{Code: "InvalidParameterException", Message: "The container wbo does not exist in the task definition."}
	calls = 0
	err = RetryIAMPropagation(context.Background(), env, "service-shard-0", func(context.Context) error { calls++; return other })
	if !errors.Is(err, other) || calls != 1 {
		t.Fatalf("other error: %d calls, %v", calls, err)
	}
	// A role that never becomes usable: retried until the wait ends (here
	// the caller's context; on its own, IAMPropagationTimeout of AWS time
	// with the clock's real-time floor), then the error is returned.
	calls = 0
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = RetryIAMPropagation(ctx, env, "taskdef", func(context.Context) error {
		calls++
		return &smithy.GenericAPIError{Code: "ClientException", Message: "Role is not valid"}
	})
	if err == nil || calls < 2 {
		t.Fatalf("never usable: %d calls, %v", calls, err)
	}
}

func TestIsRoleNotPropagated(t *testing.T) {
	for _, tc := range []struct {
		code, msg string
		want      bool
	}{
		{"InvalidParameterException", "Unable to assume role and validate the listeners configured on your load balancer. Please verify the role being passed has the proper permissions.", true},
		{"ClientException", "ECS was unable to assume the role 'arn:aws:iam::1:role/x' that was provided for this task.", true},
		{"ClientException", "Role is not valid", true},
		{"InvalidParameterException", "Unable to assume the service linked role. Please verify that the ECS service linked role exists.", true},
		{"InvalidParameterException", "Task definition does not support launch_type FARGATE.", false},
		{"AccessDeniedException", "unable to assume role", false},
	} {
		if got := awserr.IsRoleNotPropagated(&smithy.GenericAPIError{Code: tc.code, Message: tc.msg}); got != tc.want {
			t.Errorf("%s %q: %v, want %v", tc.code, tc.msg, got, tc.want)
		}
	}
	if awserr.IsRoleNotPropagated(errors.New("unable to assume")) {
		t.Error("an error without an AWS code is not a propagation error")
	}
}
