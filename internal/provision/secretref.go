package provision

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// secretRefKind is a secret app.secrets names by ARN (a Secrets Manager
// secret or an SSM SecureString parameter the user manages), node
// "secret-<NAME>", Role NAME. wbo-deploy never creates, changes or deletes
// it: Find looks it up (without reading its value) for the version the task
// definition's label carries and for the KMS key the execution role may
// decrypt it with; Create fails, naming what is missing; Delete only forgets
// it. A new value (a new AWSCURRENT version, a new parameter version) rolls
// the shards at the next up.
type secretRefKind struct{}

func init() { Register(secretRefKind{}) }

func (secretRefKind) Type() string { return "app.secret-ref" }

func (secretRefKind) untagged() {}

func (k secretRefKind) arn(env *Env, n *Node) string { return env.Cfg.App.Secrets[n.Role] }

func (k secretRefKind) Find(ctx context.Context, env *Env, n *Node, _ *state.Resource) (*Observed, error) {
	arn := k.arn(env, n)
	rec := NewRecord(n, arn)
	rec.ARN = arn
	var key string
	switch config.SecretSource(arn) {
	case "secretsmanager":
		out, err := env.AWS.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
		if awserr.HasCode(err, "ResourceNotFoundException") {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("app.secrets.%s: describe secret %s: %w", n.Role, arn, err)
		}
		if out.DeletedDate != nil {
			return nil, fmt.Errorf("app.secrets.%s: secret %s is scheduled for deletion", n.Role, arn)
		}
		rec.Attrs["version"] = currentVersion(out.VersionIdsToStages)
		key = aws.ToString(out.KmsKeyId)
	case "ssm":
		name := parameterName(arn)
		out, err := env.AWS.SSM.DescribeParameters(ctx, &ssm.DescribeParametersInput{
			ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Name"), Option: aws.String("Equals"), Values: []string{name}}},
		})
		if err != nil {
			return nil, fmt.Errorf("app.secrets.%s: describe parameter %s: %w", n.Role, name, err)
		}
		if len(out.Parameters) == 0 {
			return nil, nil
		}
		p := out.Parameters[0]
		if p.Type != ssmtypes.ParameterTypeSecureString {
			return nil, fmt.Errorf("app.secrets.%s: parameter %s is a %s, not a SecureString: its value is stored unencrypted; make it a SecureString", n.Role, name, p.Type)
		}
		rec.Attrs["version"] = strconv.FormatInt(p.Version, 10)
		key = aws.ToString(p.KeyId)
	default:
		return nil, fmt.Errorf("app.secrets.%s is not a secret or parameter ARN", n.Role)
	}
	resolved, err := secretKeyARN(ctx, env, arn, key)
	if err != nil {
		return nil, fmt.Errorf("app.secrets.%s: %w", n.Role, err)
	}
	rec.Attrs["kms_key"] = resolved
	obs := &Observed{Rec: rec, State: "available", Info: map[string]string{"arn": arn}}
	if rec.Attrs["version"] == "" {
		obs.Info["value"] = "none (no AWSCURRENT version)"
	}
	return obs, nil
}

// parameterName is the SSM name in a parameter ARN: parameter/a/b names /a/b
// (a hierarchy), parameter/x names x. ARNs do not tell the two forms of a
// one-level name apart; Parameter Store names with a slash always start with one.
func parameterName(arn string) string {
	i := strings.Index(arn, ":parameter/")
	if i < 0 {
		return arn
	}
	rest := arn[i+len(":parameter/"):]
	if strings.Contains(rest, "/") {
		return "/" + rest
	}
	return rest
}

// secretKeyARN turns the KMS key a secret or parameter names (absent, an AWS
// managed alias, a key ID, a key ARN or a customer alias) into the key ARN
// the execution role needs kms:Decrypt on, or "" for AWS managed keys, whose
// key policies already allow use through their service to the account's
// principals (AWS KMS Developer Guide, "AWS managed keys"). A customer alias
// is resolved with DescribeKey: a policy Resource cannot name an alias.
func secretKeyARN(ctx context.Context, env *Env, secretARN, key string) (string, error) {
	switch {
	case key == "" || key == "alias/aws/secretsmanager" || key == "alias/aws/ssm" ||
		strings.HasSuffix(key, ":alias/aws/secretsmanager") || strings.HasSuffix(key, ":alias/aws/ssm"):
		return "", nil
	case strings.HasPrefix(key, "arn:") && strings.Contains(key, ":key/"):
		return key, nil
	case strings.HasPrefix(key, "alias/") || strings.Contains(key, ":alias/"):
		out, err := env.AWS.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(key)})
		if err != nil {
			return "", fmt.Errorf("resolve KMS key %s of %s: %w", key, secretARN, err)
		}
		return aws.ToString(out.KeyMetadata.Arn), nil
	}
	// A bare key ID lives in the secret's own region and account.
	parts := strings.SplitN(secretARN, ":", 6)
	if len(parts) < 6 {
		return "", fmt.Errorf("cannot tell the region of %s", secretARN)
	}
	return "arn:" + parts[1] + ":kms:" + parts[3] + ":" + parts[4] + ":key/" + key, nil
}

func (k secretRefKind) Create(_ context.Context, env *Env, n *Node) (*Observed, error) {
	arn := k.arn(env, n)
	return nil, fmt.Errorf("app.secrets.%s: %s does not exist (in account %s as seen from region %s); wbo-deploy does not create secrets it is given by ARN: create it, or use \"stack\" and `wbo-deploy secret set %s`",
		n.Role, arn, env.Account(), env.Region(), n.Role)
}

func (secretRefKind) Diff(*Env, *Node, *Observed) []Change { return nil }

func (secretRefKind) Update(context.Context, *Env, *Node, *Observed, []Change) error { return nil }

// Delete never deletes: the secret is the user's.
func (secretRefKind) Delete(context.Context, *Env, state.Resource) error { return nil }

func (k secretRefKind) PlanNote(env *Env, n *Node) string {
	return fmt.Sprintf("look up %s for %s (not created, never deleted)", k.arn(env, n), n.Role)
}

// secretsPolicyName is the execution role's inline policy for app.secrets.
const secretsPolicyName = "secrets"

// executionSecretsPolicy lets the execution role read exactly the secrets
// of app.secrets, as ECS does before a task starts (Amazon ECS Developer
// Guide, "Amazon ECS task execution IAM role", "Secrets Manager or Systems
// Manager Parameter Store permissions": secretsmanager:GetSecretValue,
// ssm:GetParameters, and kms:Decrypt for a customer managed key). A
// stack-owned secret is named by its name and Secrets Manager's six random
// characters ("-??????", Secrets Manager User Guide, "Permissions policy
// examples"), so the policy does not change when the secret is re-created.
// KMS keys come from the secret nodes' records (observed in this run).
func executionSecretsPolicy(env *Env) (policyDoc, bool) {
	cfg := env.Cfg
	var secrets, params, keys []string
	regions := map[string]bool{}
	for _, name := range cfg.SecretNames() {
		v := cfg.App.Secrets[name]
		switch config.SecretSource(v) {
		case config.SecretStack:
			secrets = append(secrets, "arn:"+arnPartition(env)+":secretsmanager:"+env.Region()+":"+env.Account()+":secret:"+cfg.SecretName(name)+"-??????")
		case "secretsmanager":
			secrets = append(secrets, v)
		case "ssm":
			params = append(params, v)
		}
		if r, err := env.Ref(SecretNode(name)); err == nil && r.Attrs["kms_key"] != "" {
			keys = append(keys, r.Attrs["kms_key"])
			if parts := strings.SplitN(r.ARN, ":", 5); len(parts) == 5 {
				regions[parts[2]+"."+parts[3]] = true
			}
		}
	}
	if len(secrets)+len(params) == 0 {
		return policyDoc{}, false
	}
	doc := policyDoc{Version: "2012-10-17"}
	if len(secrets) > 0 {
		doc.Statement = append(doc.Statement, policyStmt{Sid: "ReadSecrets", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: secrets})
	}
	if len(params) > 0 {
		doc.Statement = append(doc.Statement, policyStmt{Sid: "ReadParameters", Effect: "Allow", Action: "ssm:GetParameters", Resource: params})
	}
	if len(keys) > 0 {
		var via []string
		for r := range regions {
			via = append(via, r+".amazonaws.com")
		}
		sort.Strings(via)
		sort.Strings(keys)
		doc.Statement = append(doc.Statement, policyStmt{Sid: "DecryptSecrets", Effect: "Allow", Action: "kms:Decrypt", Resource: dedupe(keys),
			Condition: map[string]any{"StringEquals": map[string]any{"kms:ViaService": via}}})
	}
	return doc, true
}

func dedupe(sorted []string) []string {
	var out []string
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}
