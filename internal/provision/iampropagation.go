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
// (awserr.IsRoleNotPropagated), with the clock's backoff, for at most
// IAMPropagationTimeout of AWS time. Any other error, or the last one when
// time runs out, is returned as is. what names the node the call is for, in
// progress reports.
func RetryIAMPropagation(ctx context.Context, env *Env, what string, fn func(ctx context.Context) error) error {
	return env.Clock.Retry(ctx, IAMPropagationTimeout, awserr.IsRoleNotPropagated,
		func(status string, elapsed time.Duration) {
			env.Progress(what, fmt.Sprintf("waiting for a new IAM role to propagate (%s elapsed; %s)", elapsed.Round(time.Second), status), elapsed)
		}, fn)
}
