package provision

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// taskDefKind provisions the task definition family of one service
// ("taskdef-shard-<i>" or "taskdef-app"; family = the service name). The
// node's ID is the ARN of the revision the configuration wants.
// RegisterTaskDefinition always makes a new revision, so a revision is
// registered only when the desired definition differs from every ACTIVE one
// (normally there is exactly one: the service deregisters the previous
// revision after a successful deployment). Delete deregisters every ACTIVE
// revision of the family and deletes the INACTIVE ones.
type taskDefKind struct{}

func init() { Register(taskDefKind{}) }

func (taskDefKind) Type() string { return "ecs.task-definition" }

type taskDefObs struct {
	arn    string
	family string
	spec   tdSpec
	tags   map[string]string
}

// familyOf is the task definition family (and service name) of a compute
// node: Role "app" is the shared-mode service, otherwise shard n.Index.
func familyOf(cfg *config.Config, n *Node) string {
	if n.Role == "app" {
		return cfg.SharedName()
	}
	return cfg.ShardName(n.Index)
}

// taskInputsFor gathers the IDs of the resources a task definition embeds.
func taskInputsFor(env *Env, n *Node) (taskInputs, error) {
	cfg := env.Cfg
	in := taskInputs{family: familyOf(cfg, n), region: env.Region(), logPrefix: TaskLogPrefix(cfg, n.Index)}
	var errs []error
	ref := func(name string) state.Resource {
		r, err := env.Ref(name)
		if err != nil {
			errs = append(errs, err)
		}
		return r
	}
	in.execRole = ref("role-execution").ARN
	in.taskRole = ref("role-task").ARN
	in.logGroup = ref("log-group").ID
	in.bucket = ref("bucket-boards").ID
	if cfg.RedisURLPassed() {
		r := ref("redis")
		switch {
		case r.Attrs["url"] != "":
			in.redisURL = r.Attrs["url"]
		case r.Attrs["endpoint"] != "":
			in.redisURL = "redis://" + r.Attrs["endpoint"] + ":" + r.Attrs["port"]
		case len(errs) == 0:
			errs = append(errs, errors.New("the Redis endpoint is not known yet"))
		}
	}
	keys, err := shardKeysFor(cfg, n)
	if err != nil {
		errs = append(errs, err)
	}
	in.keys = keys
	return in, errors.Join(errs...)
}

func (k taskDefKind) desired(env *Env, n *Node) (*ecs.RegisterTaskDefinitionInput, error) {
	in, err := taskInputsFor(env, n)
	if err != nil {
		return nil, fmt.Errorf("task definition %s: %w", familyOf(env.Cfg, n), err)
	}
	return taskDefinitionInput(env.Cfg, in, ecsTags(env, n.Name))
}

func (k taskDefKind) describe(ctx context.Context, env *Env, ref string) (*ecstypes.TaskDefinition, map[string]string, error) {
	out, err := env.AWS.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(ref), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags},
	})
	if err != nil {
		// An unknown family or revision answers ClientException "Unable to
		// describe task definition."; nothing else distinguishes it.
		if awserr.HasCode(err, "ClientException") {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("describe task definition %s: %w", ref, err)
	}
	return out.TaskDefinition, ecsTagMap(out.Tags), nil
}

// activeRevisions lists the ARNs of the family's ACTIVE revisions, newest
// first. ListTaskDefinitions matches a family prefix ("wbo-shard-1" also
// matches "wbo-shard-10"), so the family is checked exactly.
func activeRevisions(ctx context.Context, env *Env, family string) ([]string, error) {
	return listRevisions(ctx, env, family, ecstypes.TaskDefinitionStatusActive)
}

func listRevisions(ctx context.Context, env *Env, family string, status ecstypes.TaskDefinitionStatus) ([]string, error) {
	var out []string
	p := ecs.NewListTaskDefinitionsPaginator(env.AWS.ECS, &ecs.ListTaskDefinitionsInput{
		FamilyPrefix: aws.String(family), Status: status, Sort: ecstypes.SortOrderDesc,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list task definitions of %s: %w", family, err)
		}
		for _, arn := range page.TaskDefinitionArns {
			if fam, _, ok := parseTaskDefARN(arn); ok && fam == family {
				out = append(out, arn)
			}
		}
	}
	return out, nil
}

// parseTaskDefARN splits arn:...:task-definition/<family>:<revision>.
func parseTaskDefARN(arn string) (family string, revision int, ok bool) {
	i := strings.Index(arn, ":task-definition/")
	if i < 0 {
		return "", 0, false
	}
	fam, rev, found := strings.Cut(arn[i+len(":task-definition/"):], ":")
	n, err := strconv.Atoi(rev)
	if !found || err != nil {
		return "", 0, false
	}
	return fam, n, true
}

// revisionName is "family:revision" of an ARN, for messages and status.
func revisionName(arn string) string {
	if fam, rev, ok := parseTaskDefARN(arn); ok {
		return fam + ":" + strconv.Itoa(rev)
	}
	return arn
}

func (k taskDefKind) observe(n *Node, td *ecstypes.TaskDefinition, tags map[string]string) *Observed {
	arn := aws.ToString(td.TaskDefinitionArn)
	obs := &Observed{Rec: NewRecord(n, arn), State: string(td.Status)}
	obs.Rec.ARN = arn
	obs.Rec.Attrs["family"] = aws.ToString(td.Family)
	obs.Rec.Attrs["revision"] = strconv.Itoa(int(td.Revision))
	obs.Raw = &taskDefObs{arn: arn, family: aws.ToString(td.Family), spec: specOfTaskDef(td), tags: tags}
	obs.Info = map[string]string{"revision": revisionName(arn)}
	return obs
}

// Find returns the ACTIVE revision that matches the configuration when one
// does (newest first), else the newest ACTIVE revision, which Diff then
// compares. Without the desired definition (dependencies unknown, as in an
// early plan) it returns the newest.
func (k taskDefKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	family := familyOf(env.Cfg, n)
	if rec != nil && rec.Attrs["family"] != "" {
		family = rec.Attrs["family"]
	}
	arns, err := activeRevisions(ctx, env, family)
	if err != nil || len(arns) == 0 {
		return nil, err
	}
	var want *tdSpec
	if in, err := k.desired(env, n); err == nil {
		s := specOfInput(in)
		want = &s
	}
	var newest *Observed
	for i, arn := range arns {
		td, tags, err := k.describe(ctx, env, arn)
		if err != nil {
			return nil, err
		}
		if td == nil {
			continue
		}
		obs := k.observe(n, td, tags)
		if i == 0 {
			newest = obs
		}
		if want == nil || len(specChanges(obs.Raw.(*taskDefObs).spec, *want)) == 0 {
			return obs, nil
		}
	}
	return newest, nil
}

func (k taskDefKind) register(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	in, err := k.desired(env, n)
	if err != nil {
		return nil, err
	}
	// A role created seconds ago can be refused ("Role is not valid") until
	// IAM has propagated it.
	var out *ecs.RegisterTaskDefinitionOutput
	err = RetryIAMPropagation(ctx, env, n.Name, func(ctx context.Context) error {
		var err error
		out, err = env.AWS.ECS.RegisterTaskDefinition(ctx, in)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("register task definition %s: %w", aws.ToString(in.Family), err)
	}
	obs := k.observe(n, out.TaskDefinition, ecsTagMap(out.Tags))
	if err := env.Record(obs.Rec); err != nil {
		return nil, err
	}
	return obs, nil
}

func (k taskDefKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	return k.register(ctx, env, n)
}

func (k taskDefKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	raw := obs.Raw.(*taskDefObs)
	in, err := k.desired(env, n)
	if err != nil {
		return []Change{{Field: "configuration", Old: "", New: err.Error()}}
	}
	cs := specChanges(raw.spec, specOfInput(in))
	if c, ok := ecsTagDiff(raw.tags, env.Tags(n.Name)); ok {
		cs = append(cs, c)
	}
	return cs
}

// Update registers a new revision when the definition changed (the service
// then deploys it), or only retags the current one.
func (k taskDefKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	onlyTags := true
	for _, c := range changes {
		if c.Field != "tags" {
			onlyTags = false
		}
	}
	if onlyTags {
		raw := obs.Raw.(*taskDefObs)
		return syncECSTags(ctx, env, raw.arn, raw.tags, env.Tags(n.Name))
	}
	fresh, err := k.register(ctx, env, n)
	if err != nil {
		return err
	}
	*obs = *fresh
	return nil
}

// Delete deregisters every ACTIVE revision of the family, then deletes the
// INACTIVE ones (DeleteTaskDefinitions takes at most 10 at a time).
func (k taskDefKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	family := rec.Attrs["family"]
	if family == "" {
		if f, _, ok := parseTaskDefARN(rec.ID); ok {
			family = f
		}
	}
	if family == "" {
		return fmt.Errorf("delete task definition %s: cannot tell its family", rec.ID)
	}
	active, err := activeRevisions(ctx, env, family)
	if err != nil {
		return err
	}
	for _, arn := range active {
		if _, err := env.AWS.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)}); err != nil {
			return fmt.Errorf("deregister task definition %s: %w", revisionName(arn), err)
		}
	}
	inactive, err := listRevisions(ctx, env, family, ecstypes.TaskDefinitionStatusInactive)
	if err != nil {
		return err
	}
	for len(inactive) > 0 {
		batch := inactive[:min(10, len(inactive))]
		inactive = inactive[len(batch):]
		out, err := env.AWS.ECS.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: batch})
		if err != nil {
			return fmt.Errorf("delete task definitions of %s: %w", family, err)
		}
		for _, f := range out.Failures {
			return fmt.Errorf("delete task definition %s: %s", revisionName(aws.ToString(f.Arn)), aws.ToString(f.Reason))
		}
	}
	return nil
}

// Discover finds the stack's families by name prefix and tag.
func (k taskDefKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var out []state.Resource
	p := ecs.NewListTaskDefinitionFamiliesPaginator(env.AWS.ECS, &ecs.ListTaskDefinitionFamiliesInput{
		FamilyPrefix: aws.String(env.Stack() + "-"), Status: ecstypes.TaskDefinitionFamilyStatusActive,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list task definition families: %w", err)
		}
		for _, fam := range page.Families {
			td, tags, err := k.describe(ctx, env, fam)
			if err != nil {
				return nil, err
			}
			if td == nil || tags[TagStack] != env.Stack() {
				continue
			}
			arn := aws.ToString(td.TaskDefinitionArn)
			out = append(out, state.Resource{Name: tags[TagResource], Kind: k.Type(), ID: arn, ARN: arn,
				Attrs: map[string]string{"family": fam, "revision": strconv.Itoa(int(td.Revision))}})
		}
	}
	return out, nil
}

func (taskDefKind) PlanNote(env *Env, n *Node) string {
	a := env.Cfg.App
	return fmt.Sprintf("%s: %s, %d CPU units / %d MiB, %s; restore and backup sidecars (%s)",
		familyOf(env.Cfg, n), a.Image, a.CPU, a.Memory, a.Architecture, AWSCLIImage)
}
