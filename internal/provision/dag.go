package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
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
func runDAG(ctx context.Context, names []string, deps map[string][]string, limit int, stop <-chan struct{}, fn func(ctx context.Context, name string) error) map[string]error {
	if limit < 1 {
		limit = 1
	}
	results := map[string]error{}
	var mu sync.Mutex
	done := map[string]chan struct{}{}
	for _, n := range names {
		done[n] = make(chan struct{})
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	for _, name := range names {
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			defer close(done[name])
			for _, d := range deps[name] {
				ch, ok := done[d]
				if !ok {
					continue
				}
				<-ch
				mu.Lock()
				derr := results[d]
				mu.Unlock()
				if derr != nil {
					mu.Lock()
					results[name] = fmt.Errorf("%w: %s did not complete", ErrSkipped, d)
					mu.Unlock()
					return
				}
			}
			select {
			case sem <- struct{}{}:
			case <-stop:
				mu.Lock()
				results[name] = fmt.Errorf("%w: interrupted", ErrSkipped)
				mu.Unlock()
				return
			}
			defer func() { <-sem }()
			select {
			case <-stop:
				mu.Lock()
				results[name] = fmt.Errorf("%w: interrupted", ErrSkipped)
				mu.Unlock()
				return
			default:
			}
			err := fn(withNode(ctx, name), name)
			mu.Lock()
			results[name] = err
			mu.Unlock()
		}(name)
	}
	wg.Wait()
	return results
}
