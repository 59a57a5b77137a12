package provision

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// A poll looks again after a twentieth of the time waited, within its
// bounds: readiness is noticed at most 5 % (or min) late.
func TestPollDelayIsATwentiethOfTheWait(t *testing.T) {
	for _, c := range []struct{ elapsed, want time.Duration }{
		{0, 5 * time.Second}, {60 * time.Second, 5 * time.Second}, {200 * time.Second, 10 * time.Second},
		{10 * time.Minute, 20 * time.Second}, {time.Hour, 20 * time.Second},
	} {
		if got := pollDelay(c.elapsed, 5*time.Second, 20*time.Second); got != c.want {
			t.Errorf("pollDelay(%s) = %s, want %s", c.elapsed, got, c.want)
		}
	}
}

// Retry jitter is a function of the seed, the node and the attempt: the same
// on every run with one seed, different across nodes and seeds.
func TestRetryJitterIsRepeatable(t *testing.T) {
	a, b := NewSeededClock(1, nil, 7), NewSeededClock(1, nil, 7)
	ctxX, ctxY := withNode(context.Background(), "subnet-public-0"), withNode(context.Background(), "sg-tasks")
	span := 10 * time.Second
	same, differ := true, false
	for i := uint64(0); i < 20; i++ {
		jx := a.jitter(ctxX, i, span)
		if jx < 0 || jx >= span {
			t.Fatalf("jitter %s outside [0, %s)", jx, span)
		}
		same = same && jx == b.jitter(ctxX, i, span)
		differ = differ || jx != a.jitter(ctxY, i, span) || jx != NewSeededClock(1, nil, 8).jitter(ctxX, i, span)
	}
	if !same || !differ {
		t.Fatalf("same seed and node repeat: %v; other node or seed differ: %v", same, differ)
	}
}

// With one slot, the order is fixed: the node with the longest chain of
// dependents first, ties by name; a failed node's dependents are skipped.
func TestRunDAGOrderIsDeterministic(t *testing.T) {
	deps := map[string][]string{"b": {"a"}, "c": {"b"}, "x": nil, "y": {"x"}, "a": nil, "z": {"boom"}, "boom": nil}
	names := []string{"x", "y", "a", "b", "c", "z", "boom"}
	var mu sync.Mutex
	var order []string
	errs := runDAG(context.Background(), names, deps, 1, nil, func(_ context.Context, n string) error {
		mu.Lock()
		order = append(order, n)
		mu.Unlock()
		if n == "boom" {
			return errors.New("failed")
		}
		return nil
	})
	// a (chain a→b→c: height 3) first; then the height-2 nodes b, boom, x
	// by name; then c and y.
	want := []string{"a", "b", "boom", "x", "c", "y"}
	if !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	if !errors.Is(errs["z"], ErrSkipped) || errs["c"] != nil {
		t.Fatalf("results %v", errs)
	}
}
