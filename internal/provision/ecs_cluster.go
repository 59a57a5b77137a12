package provision

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// clusterKind provisions the ECS cluster (config.Names().Cluster, the stack
// name) with Container Insights per ecs.container_insights. It is deleted
// after its services: DeleteCluster answers ClusterContainsServicesException
// or ClusterContainsTasksException until they are gone, and the engine
// retries those as dependency errors.
type clusterKind struct{}

func init() { Register(clusterKind{}) }

func (clusterKind) Type() string { return "ecs.cluster" }

type clusterObs struct {
	insights string // enabled, disabled, enhanced
	tags     map[string]string
}

func (k clusterKind) wantInsights(env *Env) string {
	if env.Cfg.ECS.ContainerInsights {
		return "enabled"
	}
	return "disabled"
}

func (k clusterKind) describe(ctx context.Context, env *Env, n *Node, name string) (*Observed, error) {
	out, err := env.AWS.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{
		Clusters: []string{name}, Include: []ecstypes.ClusterField{ecstypes.ClusterFieldSettings, ecstypes.ClusterFieldTags},
	})
	if err != nil {
		if awserr.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("describe ecs cluster %s: %w", name, err)
	}
	for _, c := range out.Clusters {
		// A deleted cluster stays visible as INACTIVE for a while: it is gone.
		if aws.ToString(c.Status) != "ACTIVE" {
			continue
		}
		raw := &clusterObs{insights: "disabled", tags: ecsTagMap(c.Tags)}
		for _, s := range c.Settings {
			if s.Name == ecstypes.ClusterSettingNameContainerInsights {
				raw.insights = aws.ToString(s.Value)
			}
		}
		obs := &Observed{Rec: NewRecord(n, aws.ToString(c.ClusterName)), State: "ACTIVE", Raw: raw}
		obs.Rec.ARN = aws.ToString(c.ClusterArn)
		obs.Info = map[string]string{
			"services":           fmt.Sprint(c.ActiveServicesCount),
			"running tasks":      fmt.Sprint(c.RunningTasksCount),
			"container insights": raw.insights,
		}
		return obs, nil
	}
	return nil, nil
}

func (k clusterKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	name := env.Cfg.Names().Cluster
	if rec != nil && rec.ID != "" {
		name = rec.ID
	}
	return k.describe(ctx, env, n, name)
}

func (k clusterKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	name := env.Cfg.Names().Cluster
	// CreateCluster returns the existing cluster when an ACTIVE one has the
	// name, so a retry after a lost response is safe.
	out, err := env.AWS.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{
		ClusterName: aws.String(name),
		Settings:    []ecstypes.ClusterSetting{{Name: ecstypes.ClusterSettingNameContainerInsights, Value: aws.String(k.wantInsights(env))}},
		Tags:        ecsTags(env, n.Name),
	})
	if err != nil {
		return nil, fmt.Errorf("create ecs cluster %s: %w", name, err)
	}
	rec := NewRecord(n, aws.ToString(out.Cluster.ClusterName))
	rec.ARN = aws.ToString(out.Cluster.ClusterArn)
	if err := env.Record(rec); err != nil {
		return nil, err
	}
	// Describe what AWS now holds: an existing cluster keeps its settings.
	obs, err := k.describe(ctx, env, n, name)
	if err != nil {
		return nil, err
	}
	if obs == nil {
		return nil, fmt.Errorf("create ecs cluster %s: not found right after creation", name)
	}
	return obs, nil
}

func (k clusterKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	raw := obs.Raw.(*clusterObs)
	var cs []Change
	want := k.wantInsights(env)
	// "enhanced" (Container Insights with enhanced observability) includes
	// everything "enabled" gives; leave a user's upgrade alone.
	if raw.insights != want && (want == "disabled" || raw.insights != "enhanced") {
		cs = append(cs, Change{Field: "container_insights", Old: raw.insights, New: want})
	}
	if c, ok := ecsTagDiff(raw.tags, env.Tags(n.Name)); ok {
		cs = append(cs, c)
	}
	return cs
}

func (k clusterKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	for _, c := range changes {
		switch c.Field {
		case "container_insights":
			if _, err := env.AWS.ECS.UpdateClusterSettings(ctx, &ecs.UpdateClusterSettingsInput{
				Cluster:  aws.String(obs.Rec.ID),
				Settings: []ecstypes.ClusterSetting{{Name: ecstypes.ClusterSettingNameContainerInsights, Value: aws.String(c.New)}},
			}); err != nil {
				return fmt.Errorf("set container insights of ecs cluster %s to %s: %w", obs.Rec.ID, c.New, err)
			}
		case "tags":
			if err := syncECSTags(ctx, env, obs.Rec.ARN, obs.Raw.(*clusterObs).tags, env.Tags(n.Name)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (k clusterKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	_, err := env.AWS.ECS.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String(rec.ID)})
	if err != nil && !awserr.IsNotFound(err) {
		return fmt.Errorf("delete ecs cluster %s: %w", rec.ID, err)
	}
	return nil
}

// Discover finds the stack's cluster by its deterministic name and its tag.
func (k clusterKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	n := &Node{Name: "cluster", Kind: k.Type()}
	obs, err := k.describe(ctx, env, n, env.Cfg.Names().Cluster)
	if err != nil || obs == nil {
		return nil, err
	}
	tags := obs.Raw.(*clusterObs).tags
	if tags[TagStack] != env.Stack() {
		return nil, nil
	}
	return []state.Resource{{Name: tags[TagResource], Kind: k.Type(), ID: obs.Rec.ID, ARN: obs.Rec.ARN}}, nil
}

func (clusterKind) PlanNote(env *Env, n *Node) string {
	if env.Cfg.ECS.ContainerInsights {
		return "Fargate cluster " + env.Cfg.Names().Cluster + ", Container Insights on"
	}
	return "Fargate cluster " + env.Cfg.Names().Cluster + ", Container Insights off"
}

// ---- ECS tag helpers, shared by the ECS kinds ----

func ecsTags(env *Env, logical string) []ecstypes.Tag {
	var tags []ecstypes.Tag
	for _, kv := range env.SortedTags(logical) {
		tags = append(tags, ecstypes.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
	}
	return tags
}

func ecsTagMap(tags []ecstypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// ecsTagDiff compares tags; keys starting with "aws:" belong to AWS and are
// ignored.
func ecsTagDiff(have, want map[string]string) (Change, bool) {
	var add, del []string
	for k, v := range want {
		if have[k] != v {
			add = append(add, k+"="+v)
		}
	}
	for k := range have {
		if _, ok := want[k]; !ok && !strings.HasPrefix(k, "aws:") {
			del = append(del, k)
		}
	}
	if len(add) == 0 && len(del) == 0 {
		return Change{}, false
	}
	sort.Strings(add)
	sort.Strings(del)
	var parts []string
	if len(add) > 0 {
		parts = append(parts, "set "+strings.Join(add, ", "))
	}
	if len(del) > 0 {
		parts = append(parts, "remove "+strings.Join(del, ", "))
	}
	return Change{Field: "tags", Old: fmt.Sprintf("%d tags", len(have)), New: strings.Join(parts, "; ")}, true
}

// syncECSTags makes an ECS resource's tags equal want.
func syncECSTags(ctx context.Context, env *Env, arn string, have, want map[string]string) error {
	var set []ecstypes.Tag
	for _, kv := range ecsSortedPairs(want) {
		if have[kv[0]] != kv[1] {
			set = append(set, ecstypes.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
		}
	}
	if len(set) > 0 {
		if _, err := env.AWS.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: set}); err != nil {
			return fmt.Errorf("tag %s: %w", arn, err)
		}
	}
	var del []string
	for k := range have {
		if _, ok := want[k]; !ok && !strings.HasPrefix(k, "aws:") {
			del = append(del, k)
		}
	}
	if len(del) > 0 {
		sort.Strings(del)
		if _, err := env.AWS.ECS.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: del}); err != nil {
			return fmt.Errorf("untag %s: %w", arn, err)
		}
	}
	return nil
}

func ecsSortedPairs(m map[string]string) [][2]string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][2]string, len(keys))
	for i, k := range keys {
		out[i] = [2]string{k, m[k]}
	}
	return out
}
