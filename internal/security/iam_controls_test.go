package security

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// roleView is what IAM reports about one of the stack's roles.
type roleView struct {
	name, path string
	trust      []statement
	inline     map[string][]statement
	managed    []string // ARNs
}

func stackRoles(t *testing.T, d *deployment) []roleView {
	t.Helper()
	ctx, c := context.Background(), d.sdk.IAM
	list, err := c.ListRoles(ctx, &iam.ListRolesInput{})
	mustNoErr(t, "list roles", err)
	var out []roleView
	for _, r := range list.Roles {
		v := roleView{name: aws.ToString(r.RoleName), path: aws.ToString(r.Path), inline: map[string][]statement{}}
		got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: r.RoleName})
		mustNoErr(t, "get role "+v.name, err)
		v.trust, err = parsePolicy(aws.ToString(got.Role.AssumeRolePolicyDocument))
		mustNoErr(t, "trust policy of "+v.name, err)
		names, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: r.RoleName})
		mustNoErr(t, "list role policies of "+v.name, err)
		for _, n := range names.PolicyNames {
			p, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: r.RoleName, PolicyName: aws.String(n)})
			mustNoErr(t, "get role policy "+n, err)
			v.inline[n], err = parsePolicy(aws.ToString(p.PolicyDocument))
			mustNoErr(t, "inline policy "+n+" of "+v.name, err)
		}
		att, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: r.RoleName})
		mustNoErr(t, "list attached role policies of "+v.name, err)
		for _, p := range att.AttachedPolicies {
			v.managed = append(v.managed, aws.ToString(p.PolicyArn))
		}
		out = append(out, v)
	}
	if len(out) != 2 {
		t.Fatalf("the account has %d roles, want the execution and task roles", len(out))
	}
	return out
}

func checkIAM(t *testing.T, d *deployment, v variant) {
	roles := stackRoles(t, d)

	t.Run("IAM.1", func(t *testing.T) {
		// IAM.1 looks at customer managed policies: wbo-deploy creates
		// none (only AWS managed ones are attached), and the inline
		// policies it writes are held to the same rule.
		for _, r := range roles {
			for _, arn := range r.managed {
				if !strings.HasPrefix(arn, "arn:aws:iam::aws:policy/") {
					t.Fatalf("role %s has customer managed policy %s", r.name, arn)
				}
			}
			for n, stmts := range r.inline {
				for _, s := range stmts {
					if s.Effect == "Allow" && contains(s.Actions, "*") && contains(s.Resources, "*") {
						t.Fatalf("role %s inline policy %s allows * on *", r.name, n)
					}
				}
			}
		}
	})
	t.Run("IAM.21", func(t *testing.T) {
		for _, r := range roles {
			for n, stmts := range r.inline {
				for _, s := range stmts {
					if len(s.NotAction) > 0 {
						t.Fatalf("role %s inline policy %s uses NotAction", r.name, n)
					}
					for _, a := range s.Actions {
						if s.Effect == "Allow" && strings.Contains(a, "*") {
							t.Fatalf("role %s inline policy %s allows the wildcard action %s", r.name, n, a)
						}
					}
					for _, res := range s.Resources {
						if s.Effect == "Allow" && res == "*" {
							t.Fatalf("role %s inline policy %s allows %v on every resource", r.name, n, s.Actions)
						}
					}
				}
			}
		}
	})
	t.Run("IAM.2-IAM.8", func(t *testing.T) {
		// The controls about IAM users, access keys, MFA and passwords:
		// wbo-deploy creates no user and no key.
		for _, op := range []string{"CreateUser", "CreateAccessKey", "CreateLoginProfile"} {
			if d.called("IAM", op) {
				t.Fatalf("wbo-deploy called iam:%s", op)
			}
		}
		t.Skip("n/a: no IAM users or access keys are created")
	})
	t.Run("KMS.2", func(t *testing.T) {
		if v.kmsKey == "" {
			for _, r := range roles {
				for n, stmts := range r.inline {
					for _, s := range stmts {
						if s.allows("kms:Decrypt") {
							t.Fatalf("role %s inline policy %s allows kms:Decrypt without storage.kms_key_id", r.name, n)
						}
					}
				}
			}
			t.Skip("n/a: no KMS permission without storage.kms_key_id")
		}
		// The control ignores conditions: a Decrypt on key/* is a Decrypt
		// on every key of the account, whatever kms:ResourceAliases says.
		var resources []string
		for _, r := range roles {
			for _, stmts := range r.inline {
				for _, s := range stmts {
					if s.allows("kms:Decrypt") || s.allows("kms:ReEncryptFrom") {
						resources = append(resources, s.Resources...)
					}
				}
			}
		}
		if len(resources) == 0 {
			t.Fatal("storage.kms_key_id is set but no role may decrypt with the key")
		}
		allKeys := false
		for _, res := range resources {
			allKeys = allKeys || res == "*" || strings.HasSuffix(res, ":key/*") || strings.HasSuffix(res, ":*")
		}
		// An alias is resolved (kms:DescribeKey) to the key it names: the
		// task role may use that one key, by ARN.
		want := v.kmsKey
		if strings.HasPrefix(v.kmsKey, "alias/") {
			want = d.kmsKeyARN
			if !strings.Contains(want, ":key/") || strings.HasSuffix(want, "*") {
				t.Fatalf("variant %s: the alias names no single key (%q)", v.name, want)
			}
		}
		if allKeys || len(resources) != 1 || resources[0] != want {
			t.Fatalf("kms:Decrypt is allowed on %v, want only %s", resources, want)
		}
	})
	t.Run("roles", func(t *testing.T) {
		// Not an FSBP control: each role has its own path, trusts only
		// ECS tasks of this account, and the execution role carries only
		// the AWS managed task execution policy.
		for _, r := range roles {
			if r.path != "/wbo-deploy/" {
				t.Fatalf("role %s has path %q, want /wbo-deploy/", r.name, r.path)
			}
			if len(r.trust) != 1 {
				t.Fatalf("role %s trust policy has %d statements", r.name, len(r.trust))
			}
			s := r.trust[0]
			svc := s.Principals["Service"]
			if s.Effect != "Allow" || s.public() || len(s.Principals) != 1 || len(svc) != 1 || svc[0] != "ecs-tasks.amazonaws.com" ||
				len(s.Actions) != 1 || s.Actions[0] != "sts:AssumeRole" {
				t.Fatalf("role %s trust policy %+v, want only ecs-tasks.amazonaws.com to sts:AssumeRole", r.name, s)
			}
			if acct := s.Condition["StringEquals"]["aws:SourceAccount"]; len(acct) != 1 || acct[0] != simAccount {
				t.Fatalf("role %s trust policy has no aws:SourceAccount condition: %+v", r.name, s.Condition)
			}
			for _, arn := range r.managed {
				if arn != "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy" {
					t.Fatalf("role %s has managed policy %s", r.name, arn)
				}
			}
		}
	})
}
