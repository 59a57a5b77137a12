package provision

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// DeploymentFailedError says a service deployment did not complete: the
// circuit breaker failed it (and rolled the service back when it could).
// Reasons are the stopped tasks' reasons, newest first.
type DeploymentFailedError struct {
	Service        string
	TaskDefinition string // family:revision that failed
	State          string // rolloutStateReason
	RolledBackTo   string // family:revision now running, if rolled back
	Reasons        []string
}

func (e *DeploymentFailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "deployment of %s to %s failed", e.Service, e.TaskDefinition)
	if e.State != "" {
		fmt.Fprintf(&b, " (%s)", strings.TrimSuffix(e.State, "."))
	}
	if e.RolledBackTo != "" {
		fmt.Fprintf(&b, "; rolled back to %s", e.RolledBackTo)
	}
	if len(e.Reasons) > 0 {
		fmt.Fprintf(&b, "; stopped tasks: %s", strings.Join(e.Reasons, "; "))
	}
	return b.String()
}

// maxNewMisses is how many polls may answer a resource just created as not
// found before a wait calls it gone: describes are eventually consistent
// (DescribeServices MISSING, ReplicationGroupNotFoundFault...;
// terraform-provider-aws retries them after create for the same reason).
const maxNewMisses = 5

const notVisibleYet = "waiting for the new service to be visible to DescribeServices (AWS is eventually consistent)"

// waitDeployment polls the service until the deployment with id completes
// (success) or fails. Progress shows running/desired tasks, the rollout state
// and the target group's healthy targets.
//
// When the circuit breaker rolled the service back, the wait goes on until
// the rollback deployment settles, so the service is steady on its previous
// revision when up reports the failure.
func (k serviceKind) waitDeployment(ctx context.Context, env *Env, n *Node, sp serviceSpec, id string) error {
	var failed error
	missing := 0
	err := env.Clock.Poll(ctx, deploymentTimeout, 5*time.Second, 15*time.Second,
		func(status string, elapsed time.Duration) {
			env.Progress(n.Name, fmt.Sprintf("deploying %s: %s (%s elapsed)", revisionName(sp.taskDef), status, elapsed.Round(time.Second)), elapsed)
		},
		func(ctx context.Context) (bool, string, error) {
			s, err := k.describe(ctx, env, sp.cluster, sp.name)
			if err != nil {
				return false, "", err
			}
			if s == nil && missing < maxNewMisses {
				missing++
				return false, notVisibleYet, nil
			}
			if s == nil || aws.ToString(s.Status) != "ACTIVE" {
				return false, "", fmt.Errorf("ecs service %s disappeared during its deployment", sp.name)
			}
			var mine, primary *ecstypes.Deployment
			for i := range s.Deployments {
				d := &s.Deployments[i]
				if aws.ToString(d.Id) == id {
					mine = d
				}
				if aws.ToString(d.Status) == "PRIMARY" {
					primary = d
				}
			}
			if failed != nil {
				if primary == nil || primary.RolloutState != ecstypes.DeploymentRolloutStateInProgress {
					return true, "", nil
				}
				return false, fmt.Sprintf("deployment failed; rolling back to %s: %d/%d tasks running",
					revisionName(aws.ToString(primary.TaskDefinition)), primary.RunningCount, primary.DesiredCount), nil
			}
			switch {
			case mine != nil && mine.RolloutState == ecstypes.DeploymentRolloutStateCompleted:
				return true, "", nil
			case mine != nil && mine.RolloutState == ecstypes.DeploymentRolloutStateFailed:
				failed = k.failure(ctx, env, sp, s, mine, primary)
				return false, "deployment failed", nil
			case mine == nil && primary != nil && aws.ToString(primary.TaskDefinition) == sp.taskDef &&
				primary.RolloutState == ecstypes.DeploymentRolloutStateCompleted:
				return true, "", nil // superseded by an equivalent deployment that completed
			case mine != nil && mine.RolloutState == "" && mine.DesiredCount > 0 &&
				mine.RunningCount >= mine.DesiredCount && mine.PendingCount == 0:
				// No rollout state at all: an emulator or an API that predates
				// it. All desired tasks of the deployment running is success.
				return true, "", nil
			case mine == nil:
				gone := &ecstypes.Deployment{Id: aws.String(id), TaskDefinition: aws.String(sp.taskDef)}
				failed = k.failure(ctx, env, sp, s, gone, primary)
				return false, "deployment failed", nil
			}
			status := fmt.Sprintf("%d/%d tasks running, rollout %s", mine.RunningCount, mine.DesiredCount, mine.RolloutState)
			if h, total, ok := k.targets(ctx, env, sp.targetGroup); ok {
				status += fmt.Sprintf(", %d/%d targets healthy", h, total)
			}
			return false, status, nil
		})
	if failed != nil {
		return failed
	}
	return err
}

// waitRunning polls the service until want tasks run.
func (k serviceKind) waitRunning(ctx context.Context, env *Env, n *Node, sp serviceSpec, want int32) error {
	missing := 0
	return env.Clock.Poll(ctx, deploymentTimeout, 5*time.Second, 15*time.Second,
		func(status string, elapsed time.Duration) {
			env.Progress(n.Name, fmt.Sprintf("scaling %s: %s (%s elapsed)", sp.name, status, elapsed.Round(time.Second)), elapsed)
		},
		func(ctx context.Context) (bool, string, error) {
			s, err := k.describe(ctx, env, sp.cluster, sp.name)
			if err != nil {
				return false, "", err
			}
			if s == nil && missing < maxNewMisses {
				missing++
				return false, notVisibleYet, nil
			}
			if s == nil || aws.ToString(s.Status) != "ACTIVE" {
				return false, "", fmt.Errorf("ecs service %s disappeared while scaling", sp.name)
			}
			if s.DesiredCount != want {
				return true, "", nil // changed by someone else (the autoscaler): not ours to wait for
			}
			status := fmt.Sprintf("%d/%d tasks running", s.RunningCount, want)
			if h, total, ok := k.targets(ctx, env, sp.targetGroup); ok {
				status += fmt.Sprintf(", %d/%d targets healthy", h, total)
			}
			return s.RunningCount >= want && s.PendingCount == 0, status, nil
		})
}

// targets counts the target group's healthy targets (best effort: the
// count is for progress only).
func (k serviceKind) targets(ctx context.Context, env *Env, tg string) (healthy, total int, ok bool) {
	if tg == "" || env.AWS.ELB == nil {
		return 0, 0, false
	}
	out, err := env.AWS.ELB.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		return 0, 0, false
	}
	for _, d := range out.TargetHealthDescriptions {
		if d.TargetHealth == nil {
			continue
		}
		total++
		if d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			healthy++
		}
	}
	return healthy, total, true
}

// failure builds the error of a failed deployment from the stopped tasks it
// started (ListTasks desiredStatus STOPPED, DescribeTasks).
func (k serviceKind) failure(ctx context.Context, env *Env, sp serviceSpec, s *ecstypes.Service, failed, primary *ecstypes.Deployment) error {
	e := &DeploymentFailedError{Service: sp.name, TaskDefinition: revisionName(aws.ToString(failed.TaskDefinition)),
		State: aws.ToString(failed.RolloutStateReason)}
	if primary != nil && aws.ToString(primary.Id) != aws.ToString(failed.Id) {
		e.RolledBackTo = revisionName(aws.ToString(primary.TaskDefinition))
	}
	reasons, err := k.stoppedReasons(ctx, env, sp, aws.ToString(failed.Id), aws.ToString(failed.TaskDefinition))
	if err != nil {
		e.Reasons = []string{fmt.Sprintf("(could not list the stopped tasks: %v)", err)}
	} else {
		e.Reasons = reasons
	}
	if len(e.Reasons) == 0 {
		for _, ev := range s.Events {
			if m := aws.ToString(ev.Message); strings.Contains(m, "fail") || strings.Contains(m, "unable") {
				e.Reasons = append(e.Reasons, m)
				break
			}
		}
	}
	return e
}

func (k serviceKind) stoppedReasons(ctx context.Context, env *Env, sp serviceSpec, deployment, taskDef string) ([]string, error) {
	list, err := env.AWS.ECS.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(sp.cluster), ServiceName: aws.String(sp.name),
		DesiredStatus: ecstypes.DesiredStatusStopped, MaxResults: aws.Int32(100)})
	if err != nil {
		return nil, err
	}
	if len(list.TaskArns) == 0 {
		return nil, nil
	}
	out, err := env.AWS.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(sp.cluster), Tasks: list.TaskArns})
	if err != nil {
		return nil, err
	}
	tasks := out.Tasks
	sort.SliceStable(tasks, func(i, j int) bool {
		return aws.ToTime(tasks[i].CreatedAt).After(aws.ToTime(tasks[j].CreatedAt))
	})
	seen := map[string]bool{}
	var reasons []string
	for _, t := range tasks {
		if aws.ToString(t.StartedBy) != deployment && aws.ToString(t.TaskDefinitionArn) != taskDef {
			continue
		}
		r := aws.ToString(t.StoppedReason)
		var detail []string
		for _, c := range t.Containers {
			switch {
			case aws.ToString(c.Reason) != "":
				detail = append(detail, fmt.Sprintf("%s: %s", aws.ToString(c.Name), aws.ToString(c.Reason)))
			case c.ExitCode != nil && *c.ExitCode != 0:
				detail = append(detail, fmt.Sprintf("%s exited with code %d", aws.ToString(c.Name), *c.ExitCode))
			}
		}
		if len(detail) > 0 {
			r += " (" + strings.Join(detail, ", ") + ")"
		}
		if r == "" || seen[r] {
			continue
		}
		seen[r] = true
		reasons = append(reasons, r)
		if len(reasons) == 3 {
			break
		}
	}
	return reasons, nil
}
