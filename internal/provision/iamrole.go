package provision

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// roleKind provisions an IAM role for the ECS tasks. Node.Role "execution"
// is the task execution role (image pull, log writes: the AWS managed
// AmazonECSTaskExecutionRolePolicy); "task" is the role the app's containers
// run as (the board prefix of the bucket, nothing else).
type roleKind struct{}

func init() { Register(roleKind{}) }

func (roleKind) Type() string { return "iam.role" }

// Role roles (Node.Role of kind iam.role).
const (
	roleExecution = "execution"
	roleTask      = "task"
)

// boardsPolicyName is the task role's one inline policy.
const boardsPolicyName = "boards"

// roleSpec is what the configuration wants of a role.
type roleSpec struct {
	name, path, desc string
	trust            policyDoc
	inline           map[string]policyDoc
	managed          []string // ARNs, sorted
	tags             map[string]string
}

// roleObs is a role as IAM describes it (documents URL-decoded).
type roleObs struct {
	path, trust string
	inline      map[string]string
	managed     []string
	tags        map[string]string
	// kmsKey is the key ARN storage.kms_key_id's alias named when the role
	// was observed (task role with an alias only; see resolveKMSAlias), so
	// Diff and Update, which make no AWS call, compare with the same key.
	kmsKey string
}

// roleName is the name of the role node n stands for.
func roleName(env *Env, n *Node) (string, error) {
	names := env.Cfg.Names()
	switch n.Role {
	case roleExecution:
		return names.ExecutionRole, nil
	case roleTask:
		return names.TaskRole, nil
	}
	return "", fmt.Errorf("iam.role node has unknown role %q (want %q or %q)", n.Role, roleExecution, roleTask)
}

// roleWant is what the configuration wants of the role; kmsKey is the
// resolved key ARN when storage.kms_key_id is an alias (resolveKMSAlias).
func roleWant(env *Env, n *Node, kmsKey string) (*roleSpec, error) {
	names := env.Cfg.Names()
	s := &roleSpec{path: names.RolePath, inline: map[string]policyDoc{}, tags: env.Tags(n.Name)}
	switch n.Role {
	case roleExecution:
		s.name, s.desc = names.ExecutionRole, "wbo-deploy "+env.Stack()+": ECS pulls the image and writes logs"
		s.trust = ecsTasksTrust(env, false)
		s.managed = []string{"arn:" + arnPartition(env) + ":iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"}
	case roleTask:
		s.name, s.desc = names.TaskRole, "wbo-deploy "+env.Stack()+": WBO tasks read and write their boards"
		s.trust = ecsTasksTrust(env, true)
		bucket := env.Cfg.BoardBucket(env.Account(), env.Region())
		if r, err := env.Ref("bucket-boards"); err == nil && r.ID != "" {
			bucket = r.ID
		}
		doc, err := taskRolePolicy(env, bucket, kmsKey)
		if err != nil {
			return nil, err
		}
		s.inline[boardsPolicyName] = doc
	default:
		return nil, fmt.Errorf("iam.role node has unknown role %q (want %q or %q)", n.Role, roleExecution, roleTask)
	}
	return s, nil
}

// ecsTasksTrust lets ECS tasks of this account assume the role. The
// aws:SourceAccount condition guards against the confused deputy problem. The
// task role also gets the aws:SourceArn condition the ECS Developer Guide
// shows for task roles ("Amazon ECS task IAM role": ArnLike aws:SourceArn
// arn:aws:ecs:<region>:<account>:* with StringEquals aws:SourceAccount); the
// execution role keeps the account condition only, as the issue asks, since
// the guide's execution-role trust policy shows no source condition.
func ecsTasksTrust(env *Env, sourceArn bool) policyDoc {
	cond := map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": env.Account()}}
	if sourceArn {
		cond["ArnLike"] = map[string]any{"aws:SourceArn": "arn:" + arnPartition(env) + ":ecs:" + env.Region() + ":" + env.Account() + ":*"}
	}
	return policyDoc{Version: "2012-10-17", Statement: []policyStmt{{
		Effect: "Allow", Principal: map[string]any{"Service": "ecs-tasks.amazonaws.com"}, Action: "sts:AssumeRole", Condition: cond,
	}}}
}

// taskRolePolicy allows exactly what the board sidecars do: list the bucket
// under the board prefix, and get, put and delete objects under it. The
// s3:prefix condition limits listing to that prefix (S3 User Guide, "Amazon
// S3 condition key examples": s3:prefix with StringLike); the sidecars list
// with the prefix (aws s3 cp --recursive s3://bucket/prefix). With SSE-KMS,
// the key may be used for S3 only (kms:ViaService), and only that key: an
// alias is resolved to its key ARN (kmsKey) before, never widened to key/*.
func taskRolePolicy(env *Env, bucket, kmsKey string) (policyDoc, error) {
	arn, prefix := bucketARN(env, bucket), env.Cfg.Storage.Prefix
	doc := policyDoc{Version: "2012-10-17", Statement: []policyStmt{
		{Sid: "ListBoards", Effect: "Allow", Action: "s3:ListBucket", Resource: arn,
			Condition: map[string]any{"StringLike": map[string]any{"s3:prefix": prefix + "*"}}},
		{Sid: "ReadWriteBoards", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
			Resource: arn + "/" + prefix + "*"},
	}}
	if env.Cfg.App.Mode != config.ModeShared {
		// restore asks ECS whether the task holding a shard's lease has
		// stopped (sidecar.Config.Cluster). DescribeTasks takes the task
		// resource type and the ecs:cluster condition key (Service
		// Authorization Reference, Amazon ECS: "DescribeTasks", resource
		// "task*", condition key ecs:cluster, whose value is the cluster
		// ARN): this cluster's tasks only.
		clusterARN := "arn:" + arnPartition(env) + ":ecs:" + env.Region() + ":" + env.Account() + ":cluster/" + env.Cfg.Names().Cluster
		doc.Statement = append(doc.Statement, policyStmt{Sid: "LeaseHolderState", Effect: "Allow", Action: "ecs:DescribeTasks",
			Resource:  "arn:" + arnPartition(env) + ":ecs:" + env.Region() + ":" + env.Account() + ":task/" + env.Cfg.Names().Cluster + "/*",
			Condition: map[string]any{"ArnEquals": map[string]any{"ecs:cluster": clusterARN}}})
	}
	if k := env.Cfg.Storage.KMSKeyID; k != "" {
		res, err := kmsKeyResource(env, k, kmsKey)
		if err != nil {
			return policyDoc{}, err
		}
		cond := map[string]any{"StringEquals": map[string]any{"kms:ViaService": "s3." + env.Region() + ".amazonaws.com"}}
		doc.Statement = append(doc.Statement, policyStmt{Sid: "BoardsKey", Effect: "Allow",
			Action: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resource: res, Condition: cond})
	}
	return doc, nil
}

// kmsKeyResource turns storage.kms_key_id (key ID, multi-Region key ID,
// alias/NAME, key ARN or alias ARN, as config validates) into the key ARN
// for a policy Resource. An alias needs resolved, the key ARN DescribeKey
// gave for it.
func kmsKeyResource(env *Env, k, resolved string) (string, error) {
	if kmsIsAlias(k) {
		if resolved == "" {
			return "", fmt.Errorf("storage.kms_key_id %s: the alias was not resolved to its key", k)
		}
		return resolved, nil
	}
	if strings.HasPrefix(k, "arn:") {
		return k, nil // arn:<partition>:kms:<region>:<account>:key/<id>
	}
	return "arn:" + arnPartition(env) + ":kms:" + env.Region() + ":" + env.Account() + ":key/" + k, nil
}

func (k roleKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	want, err := roleName(env, n)
	if err != nil {
		return nil, err
	}
	var names []string
	if rec != nil && rec.ID != "" {
		names = append(names, rec.ID)
	}
	if rec == nil || rec.ID != want {
		names = append(names, want)
	}
	for _, name := range names {
		out, err := env.AWS.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if awserr.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get role %s: %w", name, err)
		}
		return k.observe(ctx, env, n, out.Role)
	}
	return nil, nil
}

func (k roleKind) observe(ctx context.Context, env *Env, n *Node, r *iamtypes.Role) (*Observed, error) {
	name := aws.ToString(r.RoleName)
	o := &roleObs{path: aws.ToString(r.Path), trust: decodeIAMDocument(aws.ToString(r.AssumeRolePolicyDocument)),
		inline: map[string]string{}, tags: map[string]string{}}
	for _, t := range r.Tags {
		o.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	pp := iam.NewListRolePoliciesPaginator(env.AWS.IAM, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	for pp.HasMorePages() {
		page, err := pp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list inline policies of role %s: %w", name, err)
		}
		for _, pn := range page.PolicyNames {
			doc, err := env.AWS.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
			if err != nil {
				return nil, fmt.Errorf("get policy %s of role %s: %w", pn, name, err)
			}
			o.inline[pn] = decodeIAMDocument(aws.ToString(doc.PolicyDocument))
		}
	}
	ap := iam.NewListAttachedRolePoliciesPaginator(env.AWS.IAM, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list attached policies of role %s: %w", name, err)
		}
		for _, a := range page.AttachedPolicies {
			o.managed = append(o.managed, aws.ToString(a.PolicyArn))
		}
	}
	sort.Strings(o.managed)
	if n.Role == roleTask {
		key, err := resolveKMSAlias(ctx, env)
		if err != nil {
			return nil, err
		}
		o.kmsKey = key
	}
	rec := NewRecord(n, name)
	rec.ARN = aws.ToString(r.Arn)
	return &Observed{Rec: rec, State: "available", Raw: o, Info: map[string]string{"arn": rec.ARN}}, nil
}

func (k roleKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	// Resolve the key alias first: a missing alias fails before the role
	// exists.
	var kmsKey string
	if n.Role == roleTask {
		key, err := resolveKMSAlias(ctx, env)
		if err != nil {
			return nil, err
		}
		kmsKey = key
	}
	spec, err := roleWant(env, n, kmsKey)
	if err != nil {
		return nil, err
	}
	var tags []iamtypes.Tag
	for _, kv := range env.SortedTags(n.Name) {
		tags = append(tags, iamtypes.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
	}
	out, err := env.AWS.IAM.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String(spec.name), Path: aws.String(spec.path), Description: aws.String(spec.desc),
		AssumeRolePolicyDocument: aws.String(spec.trust.String()), Tags: tags,
	})
	if awserr.HasCode(err, "EntityAlreadyExists") {
		// Made by a run that died before Find could see it: adopt.
		got, gerr := env.AWS.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(spec.name)})
		if gerr != nil {
			return nil, fmt.Errorf("get existing role %s: %w", spec.name, gerr)
		}
		obs, oerr := k.observe(ctx, env, n, got.Role)
		if oerr != nil {
			return nil, oerr
		}
		return obs, env.Record(obs.Rec)
	}
	if err != nil {
		return nil, fmt.Errorf("create role %s: %w", spec.name, err)
	}
	rec := NewRecord(n, spec.name)
	rec.ARN = aws.ToString(out.Role.Arn)
	if err := env.Record(rec); err != nil {
		return nil, err
	}
	// A new role has no policies yet. IAM reads right after a write may lag
	// (eventual consistency), so describe it from what was sent, not GetRole.
	o := &roleObs{path: spec.path, trust: spec.trust.String(), inline: map[string]string{}, tags: spec.tags, kmsKey: kmsKey}
	return &Observed{Rec: rec, State: "available", Raw: o, Info: map[string]string{"arn": rec.ARN}}, nil
}

func (k roleKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	o, ok := obs.Raw.(*roleObs)
	if !ok {
		return nil
	}
	spec, err := roleWant(env, n, o.kmsKey)
	if err != nil {
		return []Change{{Field: "configuration", New: err.Error()}}
	}
	var cs []Change
	if o.path != spec.path {
		cs = append(cs, Change{Field: "path", Old: o.path, New: spec.path, Replace: true, Why: "an IAM role's path cannot change"})
	}
	if !policiesEqual(o.trust, spec.trust.String()) {
		cs = append(cs, Change{Field: "trust_policy", Old: "differs", New: "ecs-tasks.amazonaws.com from account " + env.Account()})
	}
	for _, name := range sortedMapKeys(spec.inline) {
		have, ok := o.inline[name]
		switch {
		case !ok:
			cs = append(cs, Change{Field: "inline_policy:" + name, Old: "none", New: "set"})
		case !policiesEqual(have, spec.inline[name].String()):
			cs = append(cs, Change{Field: "inline_policy:" + name, Old: "differs", New: "set"})
		}
	}
	// The role grants exactly what the configuration says: other inline or
	// managed policies (added by hand) are removed.
	for _, name := range sortedMapKeys(o.inline) {
		if _, ok := spec.inline[name]; !ok {
			cs = append(cs, Change{Field: "inline_policy:" + name, Old: "set", New: "none"})
		}
	}
	for _, arn := range spec.managed {
		if !roleListHas(o.managed, arn) {
			cs = append(cs, Change{Field: "managed_policy:" + arn, Old: "detached", New: "attached"})
		}
	}
	for _, arn := range o.managed {
		if !roleListHas(spec.managed, arn) {
			cs = append(cs, Change{Field: "managed_policy:" + arn, Old: "attached", New: "detached"})
		}
	}
	for k, v := range spec.tags {
		if o.tags[k] != v {
			cs = append(cs, Change{Field: "tags", Old: tagsDesc(o.tags), New: tagsDesc(spec.tags)})
			break
		}
	}
	return cs
}

func roleListHas(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (k roleKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	var kmsKey string
	if o, ok := obs.Raw.(*roleObs); ok {
		kmsKey = o.kmsKey
	}
	spec, err := roleWant(env, n, kmsKey)
	if err != nil {
		return err
	}
	c, name := env.AWS.IAM, aws.String(obs.Rec.ID)
	for _, ch := range changes {
		var err error
		switch {
		case ch.Field == "trust_policy":
			_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: name, PolicyDocument: aws.String(spec.trust.String())})
		case strings.HasPrefix(ch.Field, "inline_policy:"):
			pn := strings.TrimPrefix(ch.Field, "inline_policy:")
			if doc, ok := spec.inline[pn]; ok {
				_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String(pn), PolicyDocument: aws.String(doc.String())})
			} else {
				_, err = c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: aws.String(pn)})
			}
		case strings.HasPrefix(ch.Field, "managed_policy:"):
			arn := aws.String(strings.TrimPrefix(ch.Field, "managed_policy:"))
			if ch.New == "attached" {
				_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: name, PolicyArn: arn})
			} else {
				_, err = c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: arn})
			}
		case ch.Field == "tags":
			var tags []iamtypes.Tag
			for _, kv := range env.SortedTags(n.Name) {
				tags = append(tags, iamtypes.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
			}
			_, err = c.TagRole(ctx, &iam.TagRoleInput{RoleName: name, Tags: tags})
		}
		if err != nil {
			return fmt.Errorf("set %s of role %s: %w", ch.Field, obs.Rec.ID, err)
		}
	}
	return nil
}

// Delete removes the role's inline policies, detaches its managed ones, then
// deletes it (DeleteRole refuses a role with policies: DeleteConflict, which
// the engine retries should something attach one meanwhile).
func (k roleKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	c, name := env.AWS.IAM, aws.String(rec.ID)
	pp := iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: name})
	for pp.HasMorePages() {
		page, err := pp.NextPage(ctx)
		if awserr.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list inline policies of role %s: %w", rec.ID, err)
		}
		for _, pn := range page.PolicyNames {
			if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: aws.String(pn)}); err != nil && !awserr.IsNotFound(err) {
				return fmt.Errorf("delete policy %s of role %s: %w", pn, rec.ID, err)
			}
		}
	}
	ap := iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: name})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if awserr.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list attached policies of role %s: %w", rec.ID, err)
		}
		for _, a := range page.AttachedPolicies {
			if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: a.PolicyArn}); err != nil && !awserr.IsNotFound(err) {
				return fmt.Errorf("detach policy %s from role %s: %w", aws.ToString(a.PolicyArn), rec.ID, err)
			}
		}
	}
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name}); err != nil && !awserr.IsNotFound(err) {
		return fmt.Errorf("delete role %s: %w", rec.ID, err)
	}
	return nil
}

// Discover lists the roles under wbo-deploy's path and keeps the ones tagged
// for the stack (ListRoles returns no tags: ListRoleTags per role).
func (k roleKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var out []state.Resource
	p := iam.NewListRolesPaginator(env.AWS.IAM, &iam.ListRolesInput{PathPrefix: aws.String(config.IAMRolePath)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list roles under %s: %w", config.IAMRolePath, err)
		}
		for _, r := range page.Roles {
			tags := map[string]string{}
			tp := iam.NewListRoleTagsPaginator(env.AWS.IAM, &iam.ListRoleTagsInput{RoleName: r.RoleName})
			for tp.HasMorePages() {
				tpage, err := tp.NextPage(ctx)
				if awserr.IsNotFound(err) {
					break
				}
				if err != nil {
					return nil, fmt.Errorf("list tags of role %s: %w", aws.ToString(r.RoleName), err)
				}
				for _, t := range tpage.Tags {
					tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			}
			if tags[TagStack] != env.Stack() {
				continue
			}
			out = append(out, state.Resource{Name: tags[TagResource], Kind: k.Type(), ID: aws.ToString(r.RoleName), ARN: aws.ToString(r.Arn)})
		}
	}
	return out, nil
}
