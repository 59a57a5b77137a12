package provision

import (
	"context"
	"fmt"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
)

// IAMPropagationTimeout bounds how long (AWS time) a call that uses a new
// role is retried while the role propagates. IAM changes usually reach other
// services within seconds; terraform-provider-aws retries ECS CreateService
// and UpdateService for 2 minutes on the same errors.
const IAMPropagationTimeout = 2 * time.Minute

// RetryIAMPropagation runs fn, the first call that hands a role just created
// to another service (ECS RegisterTaskDefinition, CreateService...), again
// while it fails only because that role has not propagated yet
// (awserr.IsRoleNotPropagated), or because ECS does not see yet the listener
// that just attached the service's target group to the load balancer
// (awserr.IsTargetGroupNotAssociated, terraform-provider-aws#3535), with the
// clock's backoff, for at most IAMPropagationTimeout of AWS time. Any other
// error, or the last one when time runs out, is returned as is. what names
// the node the call is for, in progress reports.
func RetryIAMPropagation(ctx context.Context, env *Env, what string, fn func(ctx context.Context) error) error {
	var last error
	return env.Clock.Retry(ctx, IAMPropagationTimeout, isPropagation,
		func(status string, elapsed time.Duration) {
			why := "a new IAM role to propagate"
			if awserr.IsTargetGroupNotAssociated(last) {
				why = "ECS to see the new listener of its target group"
			}
			env.Progress(what, fmt.Sprintf("waiting for %s (%s elapsed; %s)", why, elapsed.Round(time.Second), status), elapsed)
		}, func(ctx context.Context) error {
			last = fn(ctx)
			return last
		})
}

func isPropagation(err error) bool {
	return awserr.IsRoleNotPropagated(err) || awserr.IsTargetGroupNotAssociated(err)
}
