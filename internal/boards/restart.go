package boards

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
)

// Service is the ECS service of the shard that owns a board.
type Service struct {
	ECS     awsclients.ECSAPI
	Cluster string
	Name    string
	// Sleep waits (AWS time; the caller's clock) between two looks.
	Sleep func(context.Context, time.Duration) error
	// Polls bounds each wait: the task's stop (WBO's flush, the backup's
	// final sync: at most about 2.5 minutes) and the new task's start.
	Polls int
	// Note receives what is happening ("stopping wbo-shard-1 ...").
	Note func(string)
}

// PollEvery is the interval between two looks at the service.
const PollEvery = 5 * time.Second

// Downtime says what a board change did to the owning shard's service.
type Downtime struct {
	Service   string `json:"service"`
	Restarted bool   `json:"restarted"`        // false: no task was running (nothing to restart)
	Desired   int32  `json:"desired,omitzero"` // the desired count restored
}

// While runs change while the service has no task: it scales the service to
// zero, waits until every task of it has stopped (ECS lastStatus STOPPED:
// its containers have exited, so WBO's SIGTERM save and the backup's final
// sync are done), runs change, and restores the desired count, waiting
// until that many tasks run. The desired count is restored even when change
// or a wait fails. A service that does not exist or runs no task is not
// touched: change runs at once.
func (s Service) While(ctx context.Context, change func(context.Context) error) (Downtime, error) {
	d := Downtime{Service: s.Name}
	desired, err := s.desired(ctx)
	if err != nil {
		return d, err
	}
	if desired == 0 {
		return d, change(ctx)
	}
	d.Restarted, d.Desired = true, desired
	s.note(fmt.Sprintf("stopping %s (its boards are unavailable until it is back)", s.Name))
	if _, err := s.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(s.Cluster), Service: aws.String(s.Name), DesiredCount: aws.Int32(0)}); err != nil {
		return d, fmt.Errorf("scale service %s to 0: %w", s.Name, err)
	}
	err = s.waitStopped(ctx)
	if err == nil {
		err = change(ctx)
	}
	// Back up whatever happened, also after Ctrl-C: a shard left at zero
	// tasks is an outage.
	bg := context.WithoutCancel(ctx)
	s.note(fmt.Sprintf("starting %s again (%d task)", s.Name, desired))
	if _, uerr := s.ECS.UpdateService(bg, &ecs.UpdateServiceInput{Cluster: aws.String(s.Cluster), Service: aws.String(s.Name), DesiredCount: aws.Int32(desired)}); uerr != nil {
		return d, errors.Join(err, fmt.Errorf("scale service %s back to %d (run `wbo-deploy up` to restore it): %w", s.Name, desired, uerr))
	}
	if err != nil {
		return d, err
	}
	return d, s.waitRunning(ctx, desired)
}

func (s Service) note(m string) {
	if s.Note != nil {
		s.Note(m)
	}
}

// desired is the service's desired count; 0 when it does not exist.
func (s Service) desired(ctx context.Context) (int32, error) {
	out, err := s.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(s.Cluster), Services: []string{s.Name}})
	if err != nil {
		if awserr.IsNotFound(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("describe service %s: %w", s.Name, err)
	}
	for _, sv := range out.Services {
		if aws.ToString(sv.ServiceName) == s.Name && aws.ToString(sv.Status) == "ACTIVE" {
			return sv.DesiredCount, nil
		}
	}
	return 0, nil
}

func (s Service) wait(ctx context.Context, what string, done func() (bool, error)) error {
	polls := s.Polls
	if polls <= 0 {
		polls = 60
	}
	for i := 0; ; i++ {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if i >= polls {
			return fmt.Errorf("%s: not within %v", what, time.Duration(polls)*PollEvery)
		}
		if err := s.Sleep(ctx, PollEvery); err != nil {
			return err
		}
	}
}

// waitStopped waits until no task of the service is running or stopping.
func (s Service) waitStopped(ctx context.Context) error {
	return s.wait(ctx, "wait for the tasks of "+s.Name+" to stop", func() (bool, error) {
		for _, st := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
			var next *string
			for {
				lt, err := s.ECS.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(s.Cluster), ServiceName: aws.String(s.Name), DesiredStatus: st, NextToken: next})
				if err != nil {
					return false, fmt.Errorf("list tasks of %s: %w", s.Name, err)
				}
				if st == ecstypes.DesiredStatusRunning && len(lt.TaskArns) > 0 {
					return false, nil
				}
				for i := 0; i < len(lt.TaskArns); i += 100 {
					dt, err := s.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(s.Cluster), Tasks: lt.TaskArns[i:min(i+100, len(lt.TaskArns))]})
					if err != nil {
						return false, fmt.Errorf("describe tasks of %s: %w", s.Name, err)
					}
					for _, t := range dt.Tasks {
						if aws.ToString(t.LastStatus) != "STOPPED" {
							return false, nil
						}
					}
				}
				if next = lt.NextToken; next == nil {
					break
				}
			}
		}
		return true, nil
	})
}

// waitRunning waits until desired tasks of the service run.
func (s Service) waitRunning(ctx context.Context, desired int32) error {
	return s.wait(ctx, "wait for "+s.Name+" to run again", func() (bool, error) {
		out, err := s.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(s.Cluster), Services: []string{s.Name}})
		if err != nil {
			return false, fmt.Errorf("describe service %s: %w", s.Name, err)
		}
		for _, sv := range out.Services {
			if aws.ToString(sv.ServiceName) == s.Name {
				return sv.RunningCount >= desired, nil
			}
		}
		return false, fmt.Errorf("service %s is gone", s.Name)
	})
}
