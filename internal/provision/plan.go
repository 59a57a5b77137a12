package provision

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// Plan computes what Up would do without changing anything. With offline
// set (no AWS access, or --offline) every node is a create and no AWS call
// is made.
//
// Online, the nodes are looked up in dependency order, each with the
// records its dependencies were just found with: a resource is found by its
// recorded ID, else by its tags or name, exactly as Up finds it, so a stack
// whose state file is missing plans as adopted and unchanged, not as
// created.
func (e *Engine) Plan(ctx context.Context, offline bool) *Result {
	res := &Result{}
	if err := e.Graph.Check(); err != nil {
		res.Nodes = append(res.Nodes, NodeResult{Name: "graph", Err: err})
		return res
	}
	nodes := e.Graph.Nodes()
	out := make([]NodeResult, len(nodes))
	index := map[string]int{}
	kinds := map[string]Kind{}
	for i, n := range nodes {
		index[n.Name] = i
		out[i] = NodeResult{Name: n.Name, Kind: n.Kind, Action: ActCreate}
		k, err := e.kind(n)
		if err != nil {
			out[i].Err = err
			continue
		}
		kinds[n.Name] = k
		if p, ok := k.(Planner); ok {
			out[i].Note = p.PlanNote(e.Env, n)
		}
	}
	if offline {
		res.Nodes = out
		return res
	}
	e.observe(ctx, func(n *Node, k Kind, rec *state.Resource, obs *Observed, err error) {
		i := index[n.Name]
		switch {
		case err != nil:
			out[i].Err = err
			return
		case obs == nil:
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
	})
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
	for _, r := range e.orphans() {
		note := "no longer in the configuration"
		if k, ok := KindOf(r.Kind); ok {
			if on, ok := k.(OrphanNoter); ok {
				note += ": " + on.OrphanNote(r)
			}
		}
		res.Nodes = append(res.Nodes, NodeResult{Name: r.Name, Kind: r.Kind, ID: r.ID, Action: ActDelete, Note: note})
	}
	return res
}

// observe runs Find for every node of the graph in dependency order (read-only
// calls only), independent nodes in parallel. A node that is found is
// remembered for this run (not in state), so its dependents find theirs with
// its real IDs and attributes; a node whose dependencies were not all found
// does not exist (its dependents would have been created after it) and is not
// looked up. seen is called once per node looked up (rec is its state
// record, nil without one; obs nil when absent).
func (e *Engine) observe(ctx context.Context, seen func(n *Node, k Kind, rec *state.Resource, obs *Observed, err error)) {
	nodes := e.Graph.Nodes()
	names, deps := e.deps(nodes)
	var mu sync.Mutex
	found := map[string]bool{}
	runDAG(ctx, names, deps, e.limit(), e.Stop, func(ctx context.Context, name string) error {
		n, _ := e.Graph.Node(name)
		k, err := e.kind(n)
		if err != nil {
			return err
		}
		var rec *state.Resource
		if e.Env.store != nil {
			if s, ok := e.Env.store.Get(n.Name); ok {
				rec = &s
			}
		}
		mu.Lock()
		known := true
		for _, d := range n.Deps {
			known = known && found[d]
		}
		mu.Unlock()
		if rec == nil && !known {
			return nil // its dependencies do not exist: it will be created
		}
		obs, err := k.Find(ctx, e.Env, n, rec)
		if err != nil {
			err = fmt.Errorf("find: %w", err)
			seen(n, k, rec, nil, err)
			return err
		}
		if obs != nil {
			obs.Rec.Name, obs.Rec.Kind = n.Name, n.Kind
			if len(obs.Rec.Deps) == 0 {
				obs.Rec.Deps = append([]string(nil), n.Deps...)
			}
			if rec != nil && obs.Rec.CreatedAt.IsZero() {
				obs.Rec.CreatedAt = rec.CreatedAt
			}
			e.Env.remember(obs.Rec)
			mu.Lock()
			found[n.Name] = true
			mu.Unlock()
		}
		seen(n, k, rec, obs, nil)
		return nil
	})
}

// Observe finds the configured stack's resources without a state file (by
// tags and deterministic names, as Up would adopt them), in dependency
// order, and returns their records: what the state would hold. Read-only.
func (e *Engine) Observe(ctx context.Context) ([]state.Resource, error) {
	if err := e.Graph.Check(); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var recs []state.Resource
	var unchecked []UncheckedKind
	seen := map[string]bool{}
	e.observe(ctx, func(n *Node, _ Kind, _ *state.Resource, obs *Observed, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			// As Discover: a kind that cannot be looked up (denied, an
			// endpoint that does not support the call) is reported, and the
			// rest of the stack is still found.
			if !seen[n.Kind] {
				seen[n.Kind] = true
				unchecked = append(unchecked, UncheckedKind{Kind: n.Kind, Err: fmt.Errorf("%s: %w", n.Name, err)})
			}
		case obs != nil:
			recs = append(recs, obs.Rec)
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(unchecked) > 0 {
		sort.Slice(unchecked, func(i, j int) bool { return unchecked[i].Kind < unchecked[j].Kind })
		return recs, &UncheckedError{Stack: e.Env.Stack(), Kinds: unchecked}
	}
	return recs, nil
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
