package provision

import (
	"sort"
	"strings"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
)

// crashEveryStep runs up on graph g once to count its mutating calls, then,
// for every k and both crash modes, in a fresh account: crash at the k-th
// mutating call, re-run up, and check that the account holds exactly one of
// each resource, that the state agrees with it, and that destroy leaves
// nothing of the stack behind (except what the stack keeps on purpose).
func crashEveryStep(t *testing.T, build func(r *rig) *Graph, kept map[string]bool) {
	t.Helper()
	probe := newRig(t, nil)
	if err := probe.up(build(probe)).Err(); err != nil {
		t.Fatalf("clean up: %v", err)
	}
	want := probe.owned()
	total := len(probe.cloud.MutatingCalls())
	if total == 0 {
		t.Fatal("no mutating calls counted")
	}
	for _, mode := range []awssim.CrashMode{awssim.CrashBefore, awssim.CrashAfter} {
		for k := 1; k <= total; k++ {
			r := newRig(t, nil)
			g := build(r)
			r.cloud.CrashAt(k, mode)
			if err := r.up(g).Err(); err == nil {
				t.Fatalf("mode %d k=%d: up succeeded through a crash", mode, k)
			}
			if !r.cloud.Crashed() {
				t.Fatalf("mode %d k=%d: the crash never happened", mode, k)
			}
			r.cloud.Revive()
			if err := r.up(build(r)).Err(); err != nil {
				t.Fatalf("mode %d k=%d: re-run: %v", mode, k, err)
			}
			if got := r.owned(); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("mode %d k=%d: after re-run\n got %v\nwant %v", mode, k, got, want)
			}
			checkStateMatches(t, r)
			if err := r.destroy(build(r)).Err(); err != nil {
				t.Fatalf("mode %d k=%d: destroy: %v", mode, k, err)
			}
			for _, left := range r.owned() {
				if !kept[left] {
					t.Fatalf("mode %d k=%d: left after destroy: %s", mode, k, left)
				}
			}
		}
	}
}

// checkStateMatches asserts that every stack resource in the account is in
// state under its logical name with the same ID, and vice versa.
func checkStateMatches(t *testing.T, r *rig) {
	t.Helper()
	inState := map[string]string{}
	for _, rec := range r.records() {
		if Untagged(rec.Kind) {
			continue
		}
		inState[rec.Name] = rec.ID
	}
	var live []string
	for _, res := range r.cloud.Inventory() {
		if res.Tags[TagStack] != r.cfg.Stack {
			continue
		}
		name := res.Tags[TagResource]
		live = append(live, name)
		id, ok := inState[name]
		if !ok {
			t.Fatalf("%s (%s) exists but is not in state", name, res.ID)
		}
		if id != res.ID && !strings.HasSuffix(id, res.ID) && !strings.Contains(id, res.ID) {
			t.Fatalf("state has %s = %s, the account has %s", name, id, res.ID)
		}
	}
	sort.Strings(live)
	if len(live) != len(inState) {
		t.Fatalf("state has %d resources, the account %d: %v", len(inState), len(live), live)
	}
}

func TestNetworkCrashAtEveryMutatingCall(t *testing.T) {
	crashEveryStep(t, func(r *rig) *Graph { return networkGraph(r.cfg) }, nil)
}
