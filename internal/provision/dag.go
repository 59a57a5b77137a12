package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// Graph is the stack's resources and their dependencies.
type Graph struct {
	nodes      []*Node
	byName     map[string]*Node
	milestones []Milestone
}

// Milestone is a point of an up worth telling the user before the run ends:
// when every one of Nodes is done, the engine emits a PhaseReady event named
// Name whose message is Message(env) (for example the whiteboard's URL while
// Redis is still being created).
type Milestone struct {
	Name    string
	Nodes   []string
	Message func(env *Env) string
}

// AddMilestone declares a milestone (graph.go).
func (g *Graph) AddMilestone(m Milestone) { g.milestones = append(g.milestones, m) }

// Milestones returns the declared milestones.
func (g *Graph) Milestones() []Milestone { return append([]Milestone(nil), g.milestones...) }

// NewGraph returns an empty graph.
func NewGraph() *Graph { return &Graph{byName: map[string]*Node{}} }

// Add puts a node in the graph.
func (g *Graph) Add(n *Node) {
	if _, dup := g.byName[n.Name]; dup {
		panic("provision: node declared twice: " + n.Name)
	}
	g.nodes = append(g.nodes, n)
	g.byName[n.Name] = n
}

// Node returns the node with that logical name.
func (g *Graph) Node(name string) (*Node, bool) {
	n, ok := g.byName[name]
	return n, ok
}

// Nodes returns the nodes in a dependency order (dependencies first; ties by
// declaration order).
func (g *Graph) Nodes() []*Node {
	order, _ := g.topo()
	return order
}

// Check verifies that every dependency exists and there is no cycle.
func (g *Graph) Check() error {
	for _, n := range g.nodes {
		for _, d := range n.Deps {
			if _, ok := g.byName[d]; !ok {
				return fmt.Errorf("node %s depends on unknown node %s", n.Name, d)
			}
		}
	}
	_, err := g.topo()
	return err
}

func (g *Graph) topo() ([]*Node, error) {
	var out []*Node
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(n *Node) error
	visit = func(n *Node) error {
		switch state[n.Name] {
		case 1:
			return fmt.Errorf("dependency cycle through %s", n.Name)
		case 2:
			return nil
		}
		state[n.Name] = 1
		for _, d := range n.Deps {
			if dn, ok := g.byName[d]; ok {
				if err := visit(dn); err != nil {
					return err
				}
			}
		}
		state[n.Name] = 2
		out = append(out, n)
		return nil
	}
	for _, n := range g.nodes {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// kindRanks gives each kind in the graph its depth (0 = depends on nothing);
// used to order resources found without a state file.
func (g *Graph) kindRanks() map[string]int {
	depth := map[string]int{}
	var d func(n *Node) int
	d = func(n *Node) int {
		if v, ok := depth[n.Name]; ok {
			return v
		}
		best := 0
		for _, dep := range n.Deps {
			if dn, ok := g.byName[dep]; ok {
				if v := d(dn) + 1; v > best {
					best = v
				}
			}
		}
		depth[n.Name] = best
		return best
	}
	ranks := map[string]int{}
	for _, n := range g.nodes {
		if v := d(n); v > ranks[n.Kind] {
			ranks[n.Kind] = v
		} else if _, ok := ranks[n.Kind]; !ok {
			ranks[n.Kind] = v
		}
	}
	return ranks
}

// ErrSkipped marks a node not run because a dependency failed or the run
// was interrupted.
var ErrSkipped = errors.New("skipped")

// runDAG runs fn for every name once all of its deps have succeeded, at most
// limit at a time. A node whose dependency failed is skipped; independent
// branches go on. When stop is closed no new node starts.
//
// One coordinator (this function) owns the bookkeeping: it learns of each
// completion, makes the dependents whose last dependency it was ready, and
// starts ready nodes while fewer than limit run, the one with the longest
// chain of dependents first (ties by name). Which node gets a free slot is
// thus decided by the order of completions only, not by which goroutine the
// scheduler runs first: with limit 1 a run is the same on every run, and a
// long chain is not queued behind leaves.
func runDAG(ctx context.Context, names []string, deps map[string][]string, limit int, stop <-chan struct{}, fn func(ctx context.Context, name string) error) map[string]error {
	if limit < 1 {
		limit = 1
	}
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	waiting := map[string]int{}
	dependents := map[string][]string{}
	for _, n := range names {
		seen := map[string]bool{}
		for _, d := range deps[n] {
			if !known[d] || seen[d] || d == n {
				continue
			}
			seen[d] = true
			waiting[n]++
			dependents[d] = append(dependents[d], n)
		}
	}
	height := chainHeights(names, dependents)
	results := map[string]error{}
	var ready []string
	push := func(n string) {
		ready = append(ready, n)
		sort.SliceStable(ready, func(i, j int) bool {
			if height[ready[i]] != height[ready[j]] {
				return height[ready[i]] > height[ready[j]]
			}
			return ready[i] < ready[j]
		})
	}
	var finish func(name string, err error)
	finish = func(name string, err error) {
		results[name] = err
		for _, x := range dependents[name] {
			waiting[x]--
			if waiting[x] > 0 {
				continue
			}
			var failed string
			for _, d := range deps[x] {
				if derr, ok := results[d]; ok && known[d] && derr != nil {
					failed = d
					break
				}
			}
			if failed != "" {
				finish(x, fmt.Errorf("%w: %s did not complete", ErrSkipped, failed))
				continue
			}
			push(x)
		}
	}
	for _, n := range names {
		if waiting[n] == 0 {
			push(n)
		}
	}
	type completion struct {
		name string
		err  error
	}
	doneCh := make(chan completion)
	running, stopped := 0, false
	for {
		for !stopped && running < limit && len(ready) > 0 {
			select {
			case <-stop:
				stopped = true
				continue
			default:
			}
			n := ready[0]
			ready = ready[1:]
			running++
			go func(n string) {
				err := fn(withNode(ctx, n), n)
				doneCh <- completion{n, err}
			}(n)
		}
		if running == 0 {
			break
		}
		stopCh := stop
		if stopped {
			stopCh = nil
		}
		select {
		case c := <-doneCh:
			running--
			finish(c.name, c.err)
			// Completions that arrived meanwhile are taken in before the
			// next slot is given.
			for more := true; more; {
				select {
				case c := <-doneCh:
					running--
					finish(c.name, c.err)
				default:
					more = false
				}
			}
		case <-stopCh:
			stopped = true
		}
	}
	for _, n := range names {
		if _, ok := results[n]; !ok {
			why := "interrupted"
			if !stopped {
				why = "dependency cycle"
			}
			results[n] = fmt.Errorf("%w: %s", ErrSkipped, why)
		}
	}
	return results
}

// chainHeights gives each node the length of its longest chain of
// dependents (1 for a node nothing depends on).
func chainHeights(names []string, dependents map[string][]string) map[string]int {
	h := map[string]int{}
	visiting := map[string]bool{}
	var visit func(n string) int
	visit = func(n string) int {
		if v, ok := h[n]; ok {
			return v
		}
		if visiting[n] {
			return 0 // a cycle: runDAG reports it
		}
		visiting[n] = true
		best := 0
		for _, x := range dependents[n] {
			best = max(best, visit(x))
		}
		h[n] = best + 1
		return h[n]
	}
	for _, n := range names {
		visit(n)
	}
	return h
}
