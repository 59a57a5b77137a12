package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// secretKind provisions a stack-owned Secrets Manager secret (app.secrets
// NAME: stack), node "secret-<NAME>", Role NAME, named
// config.SecretName(NAME). up creates it empty, with its tags; its value is
// set only by `wbo-deploy secret set NAME` (SetSecret), from standard input,
// and never passes through state, plan or logs: the state records the ARN and
// the current version ID only. The task definition references the ARN
// (valueFrom) and carries the version ID in a label (taskdef_spec.go), so a
// new value rolls the shards at the next up.
//
// Delete deletes without a recovery window: a recovery window would keep the
// name taken for 7 to 30 days ("You can't create this secret because a
// secret with this name is already scheduled for deletion", CreateSecret
// reference), and a stack re-created after destroy could not get its secret
// back. The value of a sign-in key is not board data: a new one only means
// new tokens.
type secretKind struct{}

func init() { Register(secretKind{}) }

func (secretKind) Type() string { return "secretsmanager.secret" }

// SecretNode is the logical name of the node of app.secrets entry name.
func SecretNode(name string) string { return "secret-" + name }

// awsCurrent is Secrets Manager's staging label of the current version.
const awsCurrent = "AWSCURRENT"

type secretObs struct {
	tags map[string]string
}

// currentVersion returns the version ID staged AWSCURRENT, or "".
func currentVersion(stages map[string][]string) string {
	ids := make([]string, 0, len(stages))
	for id := range stages {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		for _, s := range stages[id] {
			if s == awsCurrent {
				return id
			}
		}
	}
	return ""
}

func (k secretKind) observe(n *Node, out *secretsmanager.DescribeSecretOutput) *Observed {
	arn := aws.ToString(out.ARN)
	rec := NewRecord(n, arn)
	rec.ARN = arn
	rec.Attrs["name"] = aws.ToString(out.Name)
	rec.Attrs["version"] = currentVersion(out.VersionIdsToStages)
	rec.Attrs["kms_key"] = aws.ToString(out.KmsKeyId)
	tags := map[string]string{}
	for _, t := range out.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	obs := &Observed{Rec: rec, State: "available", Raw: &secretObs{tags: tags}, Info: map[string]string{"name": rec.Attrs["name"]}}
	if rec.Attrs["version"] == "" {
		obs.Info["value"] = "not set (wbo-deploy secret set " + n.Role + ")"
	} else {
		obs.Info["value"] = "set"
	}
	return obs
}

func (k secretKind) describe(ctx context.Context, env *Env, id string) (*secretsmanager.DescribeSecretOutput, error) {
	out, err := env.AWS.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if awserr.HasCode(err, "ResourceNotFoundException") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe secret %s: %w", id, err)
	}
	if out.DeletedDate != nil {
		return nil, fmt.Errorf("secret %s is scheduled for deletion since %s: restore it (aws secretsmanager restore-secret --secret-id %s) before up",
			aws.ToString(out.Name), out.DeletedDate.UTC().Format("2006-01-02 15:04"), aws.ToString(out.ARN))
	}
	return out, nil
}

func (k secretKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	ids := []string{env.Cfg.SecretName(n.Role)}
	if rec != nil && rec.ARN != "" {
		ids = append([]string{rec.ARN}, ids...)
	}
	for _, id := range ids {
		out, err := k.describe(ctx, env, id)
		if err != nil || out != nil {
			if err != nil {
				return nil, err
			}
			return k.observe(n, out), nil
		}
	}
	return nil, nil
}

func (k secretKind) tags(env *Env, n *Node) []smtypes.Tag {
	var tags []smtypes.Tag
	for _, kv := range env.SortedTags(n.Name) {
		tags = append(tags, smtypes.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
	}
	return tags
}

// create makes the secret, with value when it is not nil (secret set).
func (k secretKind) create(ctx context.Context, env *Env, n *Node, value *string) (*Observed, error) {
	name := env.Cfg.SecretName(n.Role)
	out, err := env.AWS.Secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: value, Tags: k.tags(env, n),
		Description: aws.String("wbo-deploy " + env.Stack() + ": " + n.Role + " of the WBO container"),
	})
	if awserr.HasCode(err, "ResourceExistsException") {
		// Made by a run that died before it could record it: adopt.
		got, gerr := k.describe(ctx, env, name)
		if gerr != nil || got == nil {
			return nil, errors.Join(fmt.Errorf("create secret %s: %w", name, err), gerr)
		}
		obs := k.observe(n, got)
		return obs, env.Record(obs.Rec)
	}
	if err != nil {
		return nil, fmt.Errorf("create secret %s: %w", name, err)
	}
	rec := NewRecord(n, aws.ToString(out.ARN))
	rec.ARN = aws.ToString(out.ARN)
	rec.Attrs["name"] = name
	rec.Attrs["version"] = aws.ToString(out.VersionId)
	rec.Attrs["kms_key"] = ""
	if err := env.Record(rec); err != nil {
		return nil, err
	}
	tags := env.Tags(n.Name)
	return &Observed{Rec: rec, State: "available", Raw: &secretObs{tags: tags}, Info: map[string]string{"name": name}}, nil
}

func (k secretKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	return k.create(ctx, env, n, nil)
}

func (k secretKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	o, _ := obs.Raw.(*secretObs)
	if o == nil {
		return nil
	}
	want := env.Tags(n.Name)
	for key, v := range want {
		if o.tags[key] != v {
			return []Change{{Field: "tags", Old: tagsDesc(o.tags), New: tagsDesc(want)}}
		}
	}
	return nil
}

func (k secretKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, _ []Change) error {
	if _, err := env.AWS.Secrets.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String(obs.Rec.ARN), Tags: k.tags(env, n)}); err != nil {
		return fmt.Errorf("tag secret %s: %w", obs.Rec.Attrs["name"], err)
	}
	return nil
}

func (k secretKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	id := rec.ARN
	if id == "" {
		id = rec.ID
	}
	_, err := env.AWS.Secrets.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(id), ForceDeleteWithoutRecovery: aws.Bool(true)})
	if err != nil && !awserr.HasCode(err, "ResourceNotFoundException") {
		return fmt.Errorf("delete secret %s: %w", id, err)
	}
	return nil
}

// Discover finds the stack's secrets by their name prefix and stack tag.
func (k secretKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	prefix := env.Cfg.SecretName("")
	p := secretsmanager.NewListSecretsPaginator(env.AWS.Secrets, &secretsmanager.ListSecretsInput{
		Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{prefix}}},
	})
	var out []state.Resource
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list secrets: %w", err)
		}
		for _, s := range page.SecretList {
			tags := map[string]string{}
			for _, t := range s.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			if tags[TagStack] != env.Stack() || !strings.HasPrefix(aws.ToString(s.Name), prefix) {
				continue
			}
			arn := aws.ToString(s.ARN)
			out = append(out, state.Resource{Name: tags[TagResource], Kind: k.Type(), ID: arn, ARN: arn,
				Attrs: map[string]string{"name": aws.ToString(s.Name)}})
		}
	}
	return out, nil
}

func (secretKind) PlanNote(env *Env, n *Node) string {
	return fmt.Sprintf("Secrets Manager secret %s for %s; its value comes only from `wbo-deploy secret set %s`", env.Cfg.SecretName(n.Role), n.Role, n.Role)
}

// SetSecret stores value as the new current version of the stack-owned
// secret name (app.secrets name: stack), creating the secret when it does
// not exist yet, and records its ARN and version ID (never the value) in
// state. It returns the new version ID. The shards pick the new value up at
// the next up, which registers task definitions with the new version label.
func SetSecret(ctx context.Context, env *Env, name, value string) (string, error) {
	if src := config.SecretSource(env.Cfg.App.Secrets[name]); src != config.SecretStack {
		return "", fmt.Errorf("app.secrets.%s is not \"stack\": wbo-deploy stores only stack-owned secrets (set app.secrets.%s: stack, or change the value of the secret its ARN names where it lives)", name, name)
	}
	if value == "" {
		return "", errors.New("the secret value is empty")
	}
	k := secretKind{}
	n := &Node{Name: SecretNode(name), Kind: k.Type(), Role: name}
	var rec *state.Resource
	if env.store != nil {
		if r, ok := env.store.Get(n.Name); ok {
			rec = &r
		}
	}
	obs, err := k.Find(ctx, env, n, rec)
	if err != nil {
		return "", err
	}
	if obs == nil {
		obs, err = k.create(ctx, env, n, aws.String(value))
		if err != nil {
			return "", err
		}
		if obs.Rec.Attrs["version"] != "" {
			return obs.Rec.Attrs["version"], nil
		}
		// Adopted a secret made without a value: put one below.
	}
	out, err := env.AWS.Secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(obs.Rec.ARN), SecretString: aws.String(value)})
	if err != nil {
		return "", fmt.Errorf("put a new value in secret %s: %w", obs.Rec.Attrs["name"], err)
	}
	obs.Rec.Attrs["version"] = aws.ToString(out.VersionId)
	return obs.Rec.Attrs["version"], env.Record(obs.Rec)
}

// addSecretNodes declares one node per app.secrets entry: a stack-owned
// secret or a looked-up reference. It returns their names, sorted.
func addSecretNodes(g *Graph, cfg *config.Config) []string {
	var names []string
	for _, name := range cfg.SecretNames() {
		kind := secretRefKind{}.Type()
		if cfg.App.Secrets[name] == config.SecretStack {
			kind = secretKind{}.Type()
		}
		g.Add(&Node{Name: SecretNode(name), Kind: kind, Role: name})
		names = append(names, SecretNode(name))
	}
	return names
}

// ReadSecretValue reads the current value of app.secrets entry name (for
// `token` and the probe, which sign with AUTH_SECRET_KEY): GetSecretValue
// for a Secrets Manager secret (the stack's own by its name), GetParameter
// with decryption for an SSM parameter. The value is returned to the caller
// only; nothing logs or records it.
func ReadSecretValue(ctx context.Context, env *Env, name string) (string, error) {
	v := env.Cfg.App.Secrets[name]
	switch config.SecretSource(v) {
	case config.SecretStack, "secretsmanager":
		id := v
		if v == config.SecretStack {
			id = env.Cfg.SecretName(name)
		}
		out, err := env.AWS.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if awserr.HasCode(err, "ResourceNotFoundException") && v == config.SecretStack {
			return "", fmt.Errorf("app.secrets.%s has no value yet: run `wbo-deploy secret set %s`", name, name)
		}
		if err != nil {
			return "", fmt.Errorf("read secret %s: %w", id, err)
		}
		return aws.ToString(out.SecretString), nil
	case "ssm":
		out, err := env.AWS.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(v), WithDecryption: aws.Bool(true)})
		if err != nil {
			return "", fmt.Errorf("read parameter %s: %w", v, err)
		}
		return aws.ToString(out.Parameter.Value), nil
	}
	return "", fmt.Errorf("app.secrets.%s is not set", name)
}
