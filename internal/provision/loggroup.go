package provision

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// logGroupKind provisions the app's CloudWatch Logs group
// (config.Names().LogGroup, "/wbo-deploy/<stack>") with the configured
// retention. The tasks' awslogs driver writes one stream per container:
// <prefix>/<container>/<task-id>, prefix "shard-<i>" or "app" (see
// internal/logs). destroy keeps the group with --keep-logs.
type logGroupKind struct{}

func init() { Register(logGroupKind{}) }

func (logGroupKind) Type() string { return "logs.log-group" }

type logGroupObs struct {
	retention int32 // 0 = never expire
}

// logGroupPrefix is the name prefix of every group wbo-deploy creates; Discover
// lists only these.
const logGroupPrefix = "/wbo-deploy/"

func (k logGroupKind) describe(ctx context.Context, env *Env, name string) (*Observed, error) {
	out, err := env.AWS.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	if err != nil {
		if awserr.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("describe log group %s: %w", name, err)
	}
	for _, g := range out.LogGroups {
		if aws.ToString(g.LogGroupName) != name {
			continue
		}
		obs := &Observed{Rec: state.Resource{ID: name, ARN: aws.ToString(g.LogGroupArn), Attrs: map[string]string{}}, State: "available"}
		raw := &logGroupObs{retention: aws.ToInt32(g.RetentionInDays)}
		obs.Raw = raw
		obs.Info = map[string]string{"retention": retentionText(raw.retention)}
		return obs, nil
	}
	return nil, nil
}

func retentionText(days int32) string {
	if days == 0 {
		return "never expire"
	}
	return strconv.Itoa(int(days)) + " days"
}

func (k logGroupKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	name := env.Cfg.Names().LogGroup
	if rec != nil && rec.ID != "" {
		name = rec.ID
	}
	obs, err := k.describe(ctx, env, name)
	if obs != nil {
		obs.Rec.Name, obs.Rec.Kind, obs.Rec.Deps = n.Name, n.Kind, append([]string(nil), n.Deps...)
	}
	return obs, err
}

func (k logGroupKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	name := env.Cfg.Names().LogGroup
	_, err := env.AWS.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(name), Tags: env.Tags(n.Name)})
	if awserr.HasCode(err, "ResourceAlreadyExistsException") {
		// Made between Find and now (another run, or the awslogs driver's
		// awslogs-create-group): adopt it as it is.
		obs, derr := k.describe(ctx, env, name)
		if derr != nil || obs == nil {
			return nil, fmt.Errorf("create log group %s: %w", name, err)
		}
		obs.Rec.Name, obs.Rec.Kind, obs.Rec.Deps = n.Name, n.Kind, append([]string(nil), n.Deps...)
		return obs, env.Record(obs.Rec)
	}
	if err != nil {
		return nil, fmt.Errorf("create log group %s: %w", name, err)
	}
	rec := NewRecord(n, name)
	rec.ARN = fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", obsPartition(env), env.Region(), env.Account(), name)
	if err := env.Record(rec); err != nil {
		return nil, err
	}
	// A new group has no retention policy: its events never expire until
	// Update sets the configured retention.
	return &Observed{Rec: rec, State: "available", Raw: &logGroupObs{}}, nil
}

func obsPartition(env *Env) string {
	if env.AWS != nil && env.AWS.Partition != "" {
		return env.AWS.Partition
	}
	return "aws"
}

func (k logGroupKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	raw := obs.Raw.(*logGroupObs)
	want := int32(env.Cfg.Logs.RetentionDays)
	if raw.retention != want {
		return []Change{{Field: "retention_days", Old: retentionText(raw.retention), New: retentionText(want)}}
	}
	return nil
}

func (k logGroupKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	want := int32(env.Cfg.Logs.RetentionDays)
	if _, err := env.AWS.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{
		LogGroupName: aws.String(obs.Rec.ID), RetentionInDays: aws.Int32(want),
	}); err != nil {
		return fmt.Errorf("set retention of log group %s to %d days: %w", obs.Rec.ID, want, err)
	}
	obs.Raw.(*logGroupObs).retention = want
	return nil
}

func (k logGroupKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	if env.Destroy.KeepLogs {
		return &KeptError{Reason: fmt.Sprintf("log group %s kept (--keep-logs); delete it later with `aws logs delete-log-group --log-group-name %s`", rec.ID, rec.ID)}
	}
	_, err := env.AWS.Logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(rec.ID)})
	if err != nil && !awserr.IsNotFound(err) {
		return fmt.Errorf("delete log group %s: %w", rec.ID, err)
	}
	return nil
}

// Discover lists the groups under /wbo-deploy/ whose tags name this stack.
func (k logGroupKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var out []state.Resource
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(env.AWS.Logs, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(logGroupPrefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe log groups: %w", err)
		}
		for _, g := range page.LogGroups {
			arn := aws.ToString(g.LogGroupArn)
			tags, err := env.AWS.Logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			if err != nil {
				if awserr.IsNotFound(err) {
					continue
				}
				return nil, fmt.Errorf("list tags of log group %s: %w", aws.ToString(g.LogGroupName), err)
			}
			if tags.Tags[TagStack] != env.Stack() {
				continue
			}
			out = append(out, state.Resource{Name: tags.Tags[TagResource], Kind: k.Type(), ID: aws.ToString(g.LogGroupName), ARN: arn})
		}
	}
	return out, nil
}
