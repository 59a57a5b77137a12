package provision

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// pinnedRig is the whole stack (Redis, alarms, access logs included) in an
// account where every consistency window misses exactly misses reads, with
// no time bound: each window is met whatever the machine's speed.
func pinnedRig(t *testing.T, misses int) *rig {
	r := newRig(t, cmpConfig(config.ModeSharded))
	r.cloud = awssim.New(awssim.Options{Region: r.cfg.Region, ConsistencyMisses: misses})
	return r
}

// Every describe-after-create window, the log bucket policy window and the
// listener/target-group window at once: up succeeds, creates nothing twice,
// and a second up makes no call that changes anything (the first up waited
// until AWS was consistent). Without the engine's read-back after create, the
// second up's describes would miss and create duplicates; without the
// access-log and target-group retries, up would fail.
func TestConsistencyWindowsMetByAFullUp(t *testing.T) {
	r := pinnedRig(t, 3)
	cmpUp(t, r)
	if d := duplicateKinds(r.cloud.Inventory()); len(d) > 0 {
		t.Fatalf("duplicates after up: %v", d)
	}
	for op, code := range map[string]string{
		"Elastic Load Balancing v2.ModifyLoadBalancerAttributes": "InvalidConfigurationRequest", // log bucket policy
		"ECS.CreateService": "InvalidParameterException", // target group's new listener
	} {
		if cmpFailed(r, op, code) == 0 {
			t.Errorf("%s never answered %s: the window was not exercised", op, code)
		}
	}
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}
	if d := duplicateKinds(r.cloud.Inventory()); len(d) > 0 {
		t.Fatalf("duplicates after the second up: %v", d)
	}
	if err := cmpStateAgrees(r); err != nil {
		t.Fatal(err)
	}
}

// Deleted VPCs, subnets and security groups are still listed by tag filters
// for a while: an up right after a destroy must not adopt them.
func TestConsistencyUpRightAfterDestroyAdoptsNoDeletedResource(t *testing.T) {
	r := newRig(t, cmpSmallConfig(config.ModeSingle))
	r.cloud = awssim.New(awssim.Options{Region: r.cfg.Region, ConsistencyMisses: -1})
	cmpUp(t, r)
	r.cloud.PinWindow(awssim.WinDeletedListed, 1) // the windows open at deletion
	if err := r.destroy(computeGraph(r.cfg)).Err(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	cmpUp(t, r)
	if err := cmpStateAgrees(r); err != nil {
		t.Fatalf("state after up over deleted-but-listed resources: %v", err)
	}
	if d := duplicateKinds(r.cloud.Inventory()); len(d) > 0 {
		t.Fatalf("duplicates: %v", d)
	}
}

// duplicateKinds lists "kind resource" pairs owned twice by the stack.
func duplicateKinds(inv []awssim.Resource) []string {
	seen := map[string]int{}
	for _, res := range inv {
		if name := res.Tags[TagResource]; name != "" {
			seen[res.Kind+" "+name]++
		}
	}
	var out []string
	for k, n := range seen {
		if n > 1 {
			out = append(out, k)
		}
	}
	return out
}

// fakeKind is a Kind whose Find misses a recorded ID a number of times, as a
// lagging describe does, and counts Creates.
type fakeKind struct {
	misses  atomic.Int32
	creates atomic.Int32
}

func (k *fakeKind) Type() string { return "test.lagging" }
func (k *fakeKind) Find(_ context.Context, _ *Env, n *Node, rec *state.Resource) (*Observed, error) {
	if rec == nil || rec.ID == "" {
		return nil, nil
	}
	if k.misses.Add(-1) >= 0 {
		return nil, nil
	}
	return &Observed{Rec: *rec}, nil
}
func (k *fakeKind) Create(_ context.Context, env *Env, n *Node) (*Observed, error) {
	k.creates.Add(1)
	rec := NewRecord(n, "new-id")
	return &Observed{Rec: rec}, env.Record(rec)
}
func (k *fakeKind) Diff(*Env, *Node, *Observed) []Change { return nil }
func (k *fakeKind) Update(context.Context, *Env, *Node, *Observed, []Change) error {
	return nil
}
func (k *fakeKind) Delete(context.Context, *Env, state.Resource) error { return nil }
func (k *fakeKind) Discover(context.Context, *Env) ([]state.Resource, error) {
	return nil, nil
}

var (
	laggingOnce sync.Once
	lagging     = &fakeKind{}
)

func laggingKind() *fakeKind {
	laggingOnce.Do(func() { Register(lagging) })
	return lagging
}

// A young recorded ID wins over describes that miss it; an old one that is
// not found is created again at once (deleted outside the tool).
func TestConsistencyRecordedIDWinsOverALaggingDescribe(t *testing.T) {
	k := laggingKind()
	for _, tc := range []struct {
		name    string
		age     time.Duration
		misses  int32
		creates int32
	}{
		{"young record, describe misses it 3 times", 0, 3, 0},
		{"record an hour old, not found", time.Hour, 1 << 20, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k.misses.Store(tc.misses)
			k.creates.Store(0)
			r := newRig(t, nil)
			g := NewGraph()
			g.Add(&Node{Name: "thing", Kind: k.Type()})
			e, done := r.engine(g)
			defer done()
			rec := state.Resource{Name: "thing", Kind: k.Type(), ID: "recorded-id", CreatedAt: time.Now().Add(-tc.age)}
			if err := e.Env.Record(rec); err != nil {
				t.Fatal(err)
			}
			var waits []string
			e.Env.sink = func(ev Event) {
				if ev.Phase == PhaseWait {
					waits = append(waits, ev.Message)
				}
			}
			if err := e.Up(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
			if got := k.creates.Load(); got != tc.creates {
				t.Fatalf("%d creates, want %d", got, tc.creates)
			}
			if tc.creates == 0 && (len(waits) == 0 || !strings.Contains(waits[0], "eventually consistent")) {
				t.Fatalf("progress does not say why it waits: %q", waits)
			}
		})
	}
}
