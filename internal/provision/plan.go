package provision

import (
	"context"
	"fmt"
	"sync"

	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// Plan computes what Up would do without changing anything. With offline
// set (no state file, or no AWS access) every node is a create and no AWS
// call is made.
func (e *Engine) Plan(ctx context.Context, offline bool) *Result {
	res := &Result{}
	if err := e.Graph.Check(); err != nil {
		res.Nodes = append(res.Nodes, NodeResult{Name: "graph", Err: err})
		return res
	}
	nodes := e.Graph.Nodes()
	out := make([]NodeResult, len(nodes))
	var wg sync.WaitGroup
	sem := make(chan struct{}, e.limit())
	for i, n := range nodes {
		out[i] = NodeResult{Name: n.Name, Kind: n.Kind, Action: ActCreate}
		k, err := e.kind(n)
		if err != nil {
			out[i].Err = err
			continue
		}
		if p, ok := k.(Planner); ok {
			out[i].Note = p.PlanNote(e.Env, n)
		}
		if offline {
			continue
		}
		wg.Add(1)
		go func(i int, n *Node, k Kind) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var rec *state.Resource
			if e.Env.store != nil {
				if s, ok := e.Env.store.Get(n.Name); ok {
					rec = &s
				}
			}
			if rec == nil && !e.depsKnown(n) {
				return // its dependencies do not exist yet: it will be created
			}
			obs, err := k.Find(ctx, e.Env, n, rec)
			if err != nil {
				out[i].Err = fmt.Errorf("find: %w", err)
				return
			}
			if obs == nil {
				return
			}
			out[i].ID = obs.Rec.ID
			out[i].Action = ActNoop
			if rec == nil {
				out[i].Action = ActAdopt
			}
			changes := k.Diff(e.Env, n, obs)
			if len(changes) == 0 {
				if rec != nil && rec.ID == obs.Rec.ID {
					e.remember(n.Name, obs)
				}
				return
			}
			out[i].Changes = changes
			out[i].Action = ActUpdate
			for _, c := range changes {
				if c.Replace {
					out[i].Action = ActReplace
				}
			}
		}(i, n, k)
	}
	wg.Wait()
	// A replacement deletes and recreates everything that depends on the
	// replaced resource (Replace does exactly that): count and show it.
	var replaced []string
	for _, r := range out {
		if r.Action == ActReplace {
			replaced = append(replaced, r.Name)
		}
	}
	if len(replaced) > 0 {
		doomed := e.withDependents(replaced)
		for i := range out {
			if doomed[out[i].Name] && (out[i].Action == ActNoop || out[i].Action == ActUpdate || out[i].Action == ActAdopt) {
				out[i].Action = ActReplace
				out[i].Note = "replaced: it depends on " + replaced[0] + ", which is replaced"
			}
		}
	}
	res.Nodes = out
	if !offline {
		for _, r := range e.orphans() {
			res.Nodes = append(res.Nodes, NodeResult{Name: r.Name, Kind: r.Kind, ID: r.ID, Action: ActDelete,
				Note: "no longer in the configuration"})
		}
	}
	return res
}

// remember keeps what Plan observed of an unchanged resource, for the Up
// that follows (see planned).
func (e *Engine) remember(name string, obs *Observed) {
	e.planMu.Lock()
	defer e.planMu.Unlock()
	if e.planObs == nil {
		e.planObs = map[string]*Observed{}
	}
	e.planObs[name] = obs
}

// planned returns, once, what the preceding Plan observed of an unchanged
// resource. Up uses it instead of describing the resource again when every
// dependency of the node is unchanged in this run too (so nothing the
// observation depends on moved since): a no-op up then reads each resource
// once, not twice.
func (e *Engine) planned(name string) *Observed {
	e.planMu.Lock()
	defer e.planMu.Unlock()
	obs := e.planObs[name]
	delete(e.planObs, name)
	return obs
}

// depsKnown reports whether every dependency of n has a record (so Find can
// resolve the IDs it needs).
func (e *Engine) depsKnown(n *Node) bool {
	for _, d := range n.Deps {
		if _, err := e.Env.Ref(d); err != nil {
			return false
		}
	}
	return true
}
