package provision

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
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

// WaiterDelays returns min and max delays for an SDK waiter, scaled.
func (c *Clock) WaiterDelays(min, max time.Duration) (time.Duration, time.Duration) {
	return c.Wall(min), c.Wall(max)
}

// PollFunc reports whether the awaited condition holds, and a short status
// for progress ("creating", "1/2 tasks running").
type PollFunc func(ctx context.Context) (done bool, status string, err error)

// Poll calls fn until it is done, fails, or timeout (AWS time) passes. Delays
// grow from min to max (capped, so readiness is noticed promptly). Every
// status is reported to progress with the elapsed AWS time.
func (c *Clock) Poll(ctx context.Context, timeout, min, max time.Duration, progress func(status string, elapsed time.Duration), fn PollFunc) error {
	start := time.Now()
	delay := min
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
		if err := c.Sleep(ctx, delay); err != nil {
			return err
		}
		delay = delay * 3 / 2
		if delay > max {
			delay = max
		}
	}
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

// Retry is RetryDependency with a caller-chosen predicate.
func (c *Clock) Retry(ctx context.Context, timeout time.Duration, retryable func(error) bool, progress func(status string, elapsed time.Duration), fn func(ctx context.Context) error) error {
	start := time.Now()
	delay := 2 * time.Second
	for {
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
		jitter := time.Duration(rand.Int63n(int64(delay)/2 + 1))
		if err := c.Sleep(ctx, delay/2+jitter); err != nil {
			return err
		}
		if delay < 30*time.Second {
			delay *= 2
		}
	}
}

// NewClock makes a clock at the given scale whose waits end when stop closes.
func NewClock(scale float64, stop <-chan struct{}) *Clock {
	return &Clock{Scale: scale, stop: stop}
}
