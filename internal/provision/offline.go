package provision

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// TaskRefs are the IDs of the resources a task definition and the task
// role's policy embed, as up would know them after creating those
// resources.
type TaskRefs struct {
	Account, Region, Partition string // Partition "" = "aws"
	Bucket                     string // the board bucket ("" = cfg.BoardBucket)
	TaskRoleARN, ExecRoleARN   string
	LogGroup                   string
	RedisURL                   string // with redis enabled
	KMSKeyARN                  string // the key storage.kms_key_id's alias names, if an alias
}

// offlineEnv is an Env without AWS whose completed dependencies are refs.
func offlineEnv(cfg *config.Config, r TaskRefs) *Env {
	if r.Partition == "" {
		r.Partition = "aws"
	}
	if r.Bucket == "" {
		r.Bucket = cfg.BoardBucket(r.Account, r.Region)
	}
	env := NewEnv(&awsclients.Clients{Account: r.Account, Region: r.Region, Partition: r.Partition}, cfg, nil, nil, nil)
	env.refs["bucket-boards"] = state.Resource{Name: "bucket-boards", ID: r.Bucket}
	env.refs["role-task"] = state.Resource{Name: "role-task", ID: "task", ARN: r.TaskRoleARN}
	env.refs["role-execution"] = state.Resource{Name: "role-execution", ID: "execution", ARN: r.ExecRoleARN}
	env.refs["log-group"] = state.Resource{Name: "log-group", ID: r.LogGroup}
	if r.RedisURL != "" {
		env.refs["redis"] = state.Resource{Name: "redis", Attrs: map[string]string{"url": r.RedisURL}}
	}
	return env
}

// TaskDefinitionFor is the RegisterTaskDefinition call up makes for
// service index (shard index; 0 in shared mode), computed without AWS, for
// tests that run the task's containers (internal/awssim/fargate).
func TaskDefinitionFor(cfg *config.Config, index int, r TaskRefs) (*ecs.RegisterTaskDefinitionInput, error) {
	name := "taskdef-shard-" + strconv.Itoa(index)
	if cfg.App.Mode == config.ModeShared {
		name = "taskdef-app"
	}
	n, ok := Build(cfg).Node(name)
	if !ok {
		return nil, fmt.Errorf("the stack has no task definition %s", name)
	}
	return taskDefKind{}.desired(offlineEnv(cfg, r), n)
}

// TaskRolePolicyFor is the task role's inline policy document as up puts
// it, computed without AWS.
func TaskRolePolicyFor(cfg *config.Config, r TaskRefs) (string, error) {
	n, ok := Build(cfg).Node("role-task")
	if !ok {
		return "", fmt.Errorf("the stack has no task role")
	}
	spec, err := roleWant(offlineEnv(cfg, r), n, r.KMSKeyARN)
	if err != nil {
		return "", err
	}
	doc, ok := spec.inline[boardsPolicyName]
	if !ok {
		return "", fmt.Errorf("the task role has no %s policy", boardsPolicyName)
	}
	return doc.String(), nil
}
