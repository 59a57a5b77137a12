package provision

import (
	"context"
	"fmt"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// AWS is eventually consistent: a describe right after a create can miss the
// new resource (EC2 API reference, "Eventual consistency in the Amazon EC2
// API"; ECS DescribeServices answers MISSING, ELBv2 LoadBalancerNotFound /
// TargetGroupNotFound / ListenerNotFound, ElastiCache
// ReplicationGroupNotFoundFault, DescribeAlarms leaves a new alarm out:
// terraform-provider-aws reads every new resource with
// RetryWhenNewResourceNotFound for that reason). Two rules follow, applied by
// the engine to every kind:
//
//   - A resource recorded in state wins over a describe that lags: when Find
//     misses a recorded ID that was created less than ConsistencyGrace ago,
//     Find is asked again with backoff before anything is created, so a re-run
//     right after a crash never makes a duplicate.
//   - After Create, the engine waits until Find sees the new resource, so the
//     run ends with AWS consistent and the next run's Find (a second up, a
//     status) does not meet the window.
//
// Both waits are bounded by a number of attempts (not by a wall-clock floor),
// go through env.Clock and say in progress why they wait.

// ConsistencyGrace is how long (AWS time) after its creation a recorded
// resource that describes miss is still presumed to exist and waited for
// (with the clock's real-time floor, MinTimeout, like every timeout).
// AWS documents "eventually"; the windows seen are seconds, and
// terraform-provider-aws gives new resources 2 minutes (PropagationTimeout).
const ConsistencyGrace = 2 * time.Minute

// visibilityAttempts bounds the re-reads of one wait: delays of 1, 2, 4, 8,
// 16, 16, 16 and 16 s, about 80 s of AWS time in all.
const visibilityAttempts = 8

// findRecorded is Find, asked again while a young recorded resource is not
// visible yet.
func (e *Engine) findRecorded(ctx context.Context, k Kind, n *Node, rec *state.Resource) (*Observed, error) {
	obs, err := k.Find(ctx, e.Env, n, rec)
	if err != nil || obs != nil || rec == nil || rec.ID == "" || rec.CreatedAt.IsZero() ||
		e.Env.Clock.expired(rec.CreatedAt, ConsistencyGrace) {
		return obs, err
	}
	return e.awaitVisible(ctx, k, n, rec, fmt.Sprintf("%s recorded in state is not visible to describe yet", rec.ID))
}

// confirmCreated waits until Find sees what Create just made. When it never
// does within the attempts, the run goes on: Create's answer is authoritative
// and the record is in state.
func (e *Engine) confirmCreated(ctx context.Context, k Kind, n *Node, obs *Observed) error {
	rec := obs.Rec
	seen, err := k.Find(ctx, e.Env, n, &rec)
	if err != nil || seen != nil {
		return err
	}
	_, err = e.awaitVisible(ctx, k, n, &rec, fmt.Sprintf("new %s is not visible to describe yet", rec.ID))
	return err
}

// awaitVisible re-runs Find with backoff until it sees the resource, at most
// visibilityAttempts times; nil, nil when it never does.
func (e *Engine) awaitVisible(ctx context.Context, k Kind, n *Node, rec *state.Resource, why string) (*Observed, error) {
	return AwaitVisible(ctx, e.Env, n.Name, why, func(ctx context.Context) (*Observed, error) { return k.Find(ctx, e.Env, n, rec) })
}

// AwaitVisible calls find with backoff (through env.Clock) until it returns
// something, at most visibilityAttempts times, reporting why it waits for
// node; nil, nil when the resource never shows. For a Kind that reads back
// what it just created.
func AwaitVisible(ctx context.Context, env *Env, node, why string, find func(ctx context.Context) (*Observed, error)) (*Observed, error) {
	delay := time.Second
	var waited time.Duration
	for i := 0; i < visibilityAttempts; i++ {
		env.Progress(node, fmt.Sprintf("%s (AWS is eventually consistent); checking again in %s", why, delay), waited)
		if err := env.Clock.Sleep(ctx, delay); err != nil {
			return nil, err
		}
		waited += delay
		obs, err := find(ctx)
		if err != nil || obs != nil {
			return obs, err
		}
		delay = min(2*delay, 16*time.Second)
	}
	return nil, nil
}
