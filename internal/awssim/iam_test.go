package awssim

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	it "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const ecsTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

const execPolicy = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"

func TestIAMRoleLifecycle(t *testing.T) {
	ctx := context.Background()
	c := New(Options{})
	cl := simClientsIn(t, c, "eu-west-1").IAM
	in := &iam.CreateRoleInput{RoleName: aws.String("wbo-task"), Path: aws.String("/wbo-deploy/"), AssumeRolePolicyDocument: aws.String(ecsTrust),
		Tags: []it.Tag{{Key: aws.String("wbo-deploy:stack"), Value: aws.String("wbo")}}}
	out, err := cl.CreateRole(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if arn := aws.ToString(out.Role.Arn); arn != "arn:aws:iam::123456789012:role/wbo-deploy/wbo-task" {
		t.Fatalf("ARN %s", arn)
	}
	if _, err := cl.CreateRole(ctx, in); apiCodeOf(err) != "EntityAlreadyExists" {
		t.Fatalf("duplicate: %v", err)
	}
	// Policy documents come back URL-encoded.
	got, err := cl.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("wbo-task")})
	if err != nil {
		t.Fatal(err)
	}
	enc := aws.ToString(got.Role.AssumeRolePolicyDocument)
	if !strings.HasPrefix(enc, "%7B%22Version%22%3A") {
		t.Fatalf("trust policy not URL-encoded: %s", enc)
	}
	if dec, _ := url.QueryUnescape(enc); dec != ecsTrust {
		t.Fatalf("decoded trust policy %s", dec)
	}
	if len(got.Role.Tags) != 1 {
		t.Fatalf("GetRole tags %v", got.Role.Tags)
	}
	for doc, kind := range map[string]string{
		`{"Statement":`: "CreateRole",
		`{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`: "CreateRole", // no principal
	} {
		_, err := cl.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(doc)})
		if apiCodeOf(err) != "MalformedPolicyDocument" {
			t.Errorf("%s %s: %v", kind, doc, err)
		}
	}
	inline := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
	if _, err := cl.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("wbo-task"), PolicyName: aws.String("boards"),
		PolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`)}); apiCodeOf(err) != "MalformedPolicyDocument" {
		t.Fatalf("identity policy with a principal: %v", err)
	}
	if _, err := cl.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("wbo-task"), PolicyName: aws.String("boards"), PolicyDocument: aws.String(inline)}); err != nil {
		t.Fatal(err)
	}
	rp, err := cl.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("wbo-task"), PolicyName: aws.String("boards")})
	if err != nil {
		t.Fatal(err)
	}
	if dec, _ := url.QueryUnescape(aws.ToString(rp.PolicyDocument)); dec != inline || aws.ToString(rp.PolicyDocument) == inline {
		t.Fatalf("inline policy round trip: %s", aws.ToString(rp.PolicyDocument))
	}
	if _, err := cl.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("wbo-task"), PolicyArn: aws.String("arn:aws:iam::aws:policy/Nope")}); apiCodeOf(err) != "NoSuchEntity" {
		t.Fatalf("unknown managed policy: %v", err)
	}
	if _, err := cl.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("wbo-task"), PolicyArn: aws.String(execPolicy)}); err != nil {
		t.Fatal(err)
	}
	// DeleteConflict until every policy is gone.
	if _, err := cl.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("wbo-task")}); apiCodeOf(err) != "DeleteConflict" {
		t.Fatalf("delete with inline policy: %v", err)
	}
	if _, err := cl.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("wbo-task"), PolicyName: aws.String("boards")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("wbo-task")}); apiCodeOf(err) != "DeleteConflict" {
		t.Fatalf("delete with attached policy: %v", err)
	}
	if _, err := cl.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("wbo-task"), PolicyArn: aws.String(execPolicy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("wbo-task"), PolicyArn: aws.String(execPolicy)}); apiCodeOf(err) != "NoSuchEntity" {
		t.Fatalf("detach twice: %v", err)
	}
	c.ConflictRoleDeletes("wbo-task", 1)
	if _, err := cl.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("wbo-task")}); apiCodeOf(err) != "DeleteConflict" {
		t.Fatalf("injected conflict: %v", err)
	}
	if _, err := cl.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("wbo-task")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("wbo-task")}); apiCodeOf(err) != "NoSuchEntity" {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestIAMListRolesByPathAndPages(t *testing.T) {
	ctx := context.Background()
	c := New(Options{})
	cl := simClientsIn(t, c, "us-east-1").IAM
	for i, path := range []string{"/wbo-deploy/", "/wbo-deploy/", "/", "/other/", "/wbo-deploy/"} {
		name := "role" + string(rune('a'+i))
		if _, err := cl.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String(path), AssumeRolePolicyDocument: aws.String(ecsTrust),
			Tags: []it.Tag{{Key: aws.String("n"), Value: aws.String(name)}}}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := iam.NewListRolesPaginator(cl, &iam.ListRolesInput{PathPrefix: aws.String("/wbo-deploy/"), MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range page.Roles {
			if len(r.Tags) != 0 {
				t.Fatal("ListRoles must not return tags")
			}
			names = append(names, aws.ToString(r.RoleName))
		}
	}
	if strings.Join(names, ",") != "rolea,roleb,rolee" || pages != 2 {
		t.Fatalf("roles %v in %d pages", names, pages)
	}
	tags, err := cl.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("roleb")})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "roleb" {
		t.Fatalf("tags %v %v", tags, err)
	}
	if _, err := cl.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad name"), AssumeRolePolicyDocument: aws.String(ecsTrust)}); apiCodeOf(err) != "ValidationError" {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := cl.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("p"), Path: aws.String("no-slash"), AssumeRolePolicyDocument: aws.String(ecsTrust)}); apiCodeOf(err) != "ValidationError" {
		t.Fatalf("bad path: %v", err)
	}
}

func TestIAMRoleUsableAfterPropagation(t *testing.T) {
	ctx := context.Background()
	tm := RealisticTiming()
	tm.IAMPropagation = 8 * time.Second
	c := New(Options{Scale: 1e-3, Timing: &tm}) // 8 AWS seconds = 8 ms
	cl := simClientsIn(t, c, "us-east-1").IAM
	out, err := cl.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("exec"), AssumeRolePolicyDocument: aws.String(ecsTrust)})
	if err != nil {
		t.Fatal(err)
	}
	other, err := cl.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ec2"), AssumeRolePolicyDocument: aws.String(
		`{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.Role.Arn)
	usable := func(a string) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.roleUsable(a)
	}
	created := time.Now()
	if usable(arn) && time.Since(created) < c.wall(tm.IAMPropagation) {
		t.Fatal("a role is usable at once after CreateRole")
	}
	// Let the propagation time pass (white box: age the role).
	age := func(name string) {
		c.mu.Lock()
		defer c.mu.Unlock()
		r := c.iam().roles[name]
		r.created = r.created.Add(-time.Hour)
		r.trustChanged = r.trustChanged.Add(-time.Hour)
	}
	age("exec")
	age("ec2")
	if !usable(arn) {
		t.Fatal("role not usable after the propagation time")
	}
	if usable(aws.ToString(other.Role.Arn)) {
		t.Fatal("a role that does not trust ecs-tasks.amazonaws.com must not be usable by ECS")
	}
	if usable("arn:aws:iam::123456789012:role/missing") {
		t.Fatal("a missing role is not usable")
	}
	// Changing the trust policy propagates again.
	if _, err := cl.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("exec"), PolicyDocument: aws.String(ecsTrust)}); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	if usable(arn) && time.Since(changed) < c.wall(tm.IAMPropagation) {
		t.Fatal("usable at once after a trust policy change")
	}
}
