package provision

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
)

// Clock is the one place all waiting goes through: polling, backoff between
// retries and the delays handed to SDK waiters. Durations are given in AWS
// time; Scale maps them to wall time, so tests against the simulated cloud run
// in milliseconds and a benchmark can replay realistic durations faster.
type Clock struct {
	// Scale is wall seconds per AWS second (1 for real use).
	Scale float64
	// stop is closed when the user interrupts: waits end at once.
	stop <-chan struct{}
	// seed makes Retry's jitter (see jitter).
	seed uint64
}

// MinTimeout is the least wall time any wait gives up after. Timeouts exist
// so that a run never hangs; with a scaled clock (tests, benchmarks) a scaled
// timeout of milliseconds would fail on a busy machine while AWS (or the
// simulation) is still making progress, so they are floored in real time.
const MinTimeout = 30 * time.Second

// WaitTimeout converts a timeout in AWS time to the wall-clock bound an SDK
// waiter's maxWaitDur gets: scaled, but never below MinTimeout.
func (c *Clock) WaitTimeout(d time.Duration) time.Duration {
	w := c.Wall(d)
	if w < MinTimeout && d >= MinTimeout {
		return MinTimeout
	}
	if w < MinTimeout {
		return max(w, d)
	}
	return w
}

// expired reports whether a wait that started at start with an AWS-time
// timeout is over: both the AWS time and the floor in real time have passed.
func (c *Clock) expired(start time.Time, timeout time.Duration) bool {
	return c.awsSince(start) > timeout && time.Since(start) > c.WaitTimeout(timeout)
}

// ErrInterrupted ends a wait when the user pressed Ctrl-C.
var ErrInterrupted = errors.New("interrupted")

// RealClock waits in real time.
func RealClock() *Clock { return &Clock{Scale: 1} }

// Wall converts an AWS duration to wall time.
func (c *Clock) Wall(d time.Duration) time.Duration {
	if c == nil || c.Scale == 0 {
		return d
	}
	w := time.Duration(float64(d) * c.Scale)
	if w <= 0 && d > 0 {
		w = time.Microsecond
	}
	return w
}

// Sleep waits d (AWS time), or until ctx ends or the user interrupts.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(c.Wall(d))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.stop:
		return ErrInterrupted
	}
}

// WaiterDelays returns the min and max delays to give an SDK waiter, scaled.
// Both are min: the SDK doubles its delay up to max with a random jitter
// (smithy-go waiter.ComputeDelay, crypto/rand), so a resource that is ready
// just after a check is noticed up to max later, and differently on every
// run. A fixed delay of min bounds that overshoot by min and is repeatable.
// max documents the caller's longest acceptable delay.
func (c *Clock) WaiterDelays(min, max time.Duration) (time.Duration, time.Duration) {
	return c.Wall(min), c.Wall(min)
}

// PollFunc reports whether the awaited condition holds, and a short status
// for progress ("creating", "1/2 tasks running").
type PollFunc func(ctx context.Context) (done bool, status string, err error)

// Poll calls fn until it is done, fails, or timeout (AWS time) passes.
// Every status is reported to progress with the elapsed AWS time.
//
// The delay before the next attempt is pollDelay(elapsed): a twentieth of
// the time waited so far, kept within [min, max]. So a condition that
// becomes true after d is noticed at most max(min, d/20) later (5 % of the
// wait, never less than min), and a long wait costs calls growing only
// with the logarithm of its length. Fixed-ratio backoff (the SDK waiters'
// doubling) overshoots by up to the whole last delay instead.
func (c *Clock) Poll(ctx context.Context, timeout, min, max time.Duration, progress func(status string, elapsed time.Duration), fn PollFunc) error {
	start := time.Now()
	for {
		done, status, err := fn(ctx)
		if err != nil || done {
			return err
		}
		elapsed := c.awsSince(start)
		if progress != nil {
			progress(status, elapsed)
		}
		if c.expired(start, timeout) {
			return &TimeoutError{What: status, After: timeout}
		}
		if err := c.Sleep(ctx, pollDelay(elapsed, min, max)); err != nil {
			return err
		}
	}
}

// PollOvershoot is the fraction of the time already waited that a poll may
// let pass before looking again (see Poll).
const PollOvershoot = 20

// pollDelay is the delay after having waited elapsed: elapsed/PollOvershoot
// within [min, max].
func pollDelay(elapsed, min, max time.Duration) time.Duration {
	d := elapsed / PollOvershoot
	if d < min {
		d = min
	}
	if max > 0 && d > max {
		d = max
	}
	return d
}

func (c *Clock) awsSince(t time.Time) time.Duration {
	w := time.Since(t)
	if c == nil || c.Scale == 0 {
		return w
	}
	return time.Duration(float64(w) / c.Scale)
}

// TimeoutError says a wait gave up.
type TimeoutError struct {
	What  string
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("still %s after %s", e.What, e.After.Round(time.Second))
}

// RetryDependency runs fn until it succeeds, retrying errors that say another
// resource still depends on this one (DependencyViolation, ResourceInUse...)
// with jittered exponential backoff, for at most timeout (AWS time). The last
// error is returned when time runs out, so it names the blocker.
func (c *Clock) RetryDependency(ctx context.Context, timeout time.Duration, progress func(status string, elapsed time.Duration), fn func(ctx context.Context) error) error {
	return c.Retry(ctx, timeout, awserr.IsDependency, progress, fn)
}

// Retry is RetryDependency with a caller-chosen predicate. The delay before
// the next attempt follows Poll's rule (a twentieth of the time waited,
// within 5–30 s), jittered down by up to half so that resources blocked on
// one dependency do not retry in lockstep. The jitter is a hash of the
// clock's seed, the node being worked on (withNode) and the attempt: as
// decorrelated as random draws, yet the same on every run with the same
// seed, so a benchmark's timeline is exactly repeatable.
func (c *Clock) Retry(ctx context.Context, timeout time.Duration, retryable func(error) bool, progress func(status string, elapsed time.Duration), fn func(ctx context.Context) error) error {
	start := time.Now()
	for attempt := uint64(0); ; attempt++ {
		err := fn(ctx)
		if err == nil || !retryable(err) {
			return err
		}
		elapsed := c.awsSince(start)
		if c.expired(start, timeout) {
			return err
		}
		if progress != nil {
			progress(fmt.Sprintf("blocked: %s", awserr.Message(err)), elapsed)
		}
		delay := pollDelay(elapsed, 5*time.Second, 30*time.Second)
		if err := c.Sleep(ctx, delay-c.jitter(ctx, attempt, delay/2)); err != nil {
			return err
		}
	}
}

// jitter returns a duration in [0, span) derived from the clock's seed, the
// node of ctx and the attempt number.
func (c *Clock) jitter(ctx context.Context, attempt uint64, span time.Duration) time.Duration {
	if span <= 0 {
		return 0
	}
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], c.seed)
	binary.LittleEndian.PutUint64(b[8:], attempt)
	_, _ = h.Write(b[:])
	node, _ := ctx.Value(nodeKey{}).(string)
	_, _ = h.Write([]byte(node))
	return time.Duration(h.Sum64() % uint64(span))
}

type nodeKey struct{}

// withNode marks ctx as the work of one node (the engine does it), which
// decorrelates the jitter of nodes retrying at once.
func withNode(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, nodeKey{}, name)
}

// NewClock makes a clock at the given scale whose waits end when stop
// closes, with a random jitter seed.
func NewClock(scale float64, stop <-chan struct{}) *Clock {
	return &Clock{Scale: scale, stop: stop, seed: rand.Uint64()}
}

// NewSeededClock is NewClock with a given jitter seed: the same seed gives
// the same retry delays (benchmarks on a virtual clock).
func NewSeededClock(scale float64, stop <-chan struct{}, seed uint64) *Clock {
	return &Clock{Scale: scale, stop: stop, seed: seed}
}
