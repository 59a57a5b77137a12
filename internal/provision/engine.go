package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// Engine runs the graph.
type Engine struct {
	Graph *Graph
	Env   *Env
	// Concurrency bounds how many resources are worked on at once (default 8).
	Concurrency int
	// Stop, when closed, stops starting new work (Ctrl-C); in-flight calls finish.
	Stop <-chan struct{}
	// DeleteTimeout bounds retries of deletions blocked by dependencies that
	// go away by themselves (lingering ENIs), in AWS time (default 30 min).
	DeleteTimeout time.Duration

	planMu  sync.Mutex
	planObs map[string]*Observed // Plan's observations of unchanged resources
}

// Action is what happens (or would happen) to one resource.
type Action string

// Actions, as plan and up report them.
const (
	ActCreate  Action = "create"
	ActAdopt   Action = "adopt"
	ActUpdate  Action = "update"
	ActReplace Action = "replace"
	ActNoop    Action = "no-op"
	ActDelete  Action = "delete"
	ActKeep    Action = "keep"
)

// NodeResult is the outcome for one resource.
type NodeResult struct {
	Name    string
	Kind    string
	ID      string
	Action  Action
	Changes []Change
	Note    string
	Err     error
}

// Result is the outcome of a run.
type Result struct {
	Nodes []NodeResult
}

// Failed returns the results that ended in an error.
func (r *Result) Failed() []NodeResult {
	var out []NodeResult
	for _, n := range r.Nodes {
		if n.Err != nil {
			out = append(out, n)
		}
	}
	return out
}

// Err summarises the failures, or nil.
func (r *Result) Err() error {
	f := r.Failed()
	if len(f) == 0 {
		return nil
	}
	var root []string
	var nodes []NodeResult
	skipped := 0
	interrupted := false
	for _, n := range f {
		if errors.Is(n.Err, ErrSkipped) {
			skipped++
			continue
		}
		if errors.Is(n.Err, ErrInterrupted) || errors.Is(n.Err, context.Canceled) {
			interrupted = true
		}
		root = append(root, fmt.Sprintf("%s (%s): %v", n.Name, n.Kind, n.Err))
		nodes = append(nodes, n)
	}
	if len(root) == 0 && skipped > 0 {
		return &RunError{Msg: fmt.Sprintf("interrupted: %d resources not processed", skipped), Interrupted: true}
	}
	msg := strings.Join(root, "\n  ")
	if skipped > 0 {
		msg += fmt.Sprintf("\n  (%d dependent resources skipped)", skipped)
	}
	return &RunError{Msg: msg, Interrupted: interrupted, Nodes: nodes, Skipped: skipped}
}

// RunError is a run that did not complete.
type RunError struct {
	Msg         string
	Interrupted bool
	Nodes       []NodeResult // the resources that failed (not those skipped)
	Skipped     int
}

func (e *RunError) Error() string { return e.Msg }

// Unwrap gives the failed resources' errors, so errors.As finds an AWS error
// in a run that failed on it.
func (e *RunError) Unwrap() []error {
	var out []error
	for _, n := range e.Nodes {
		out = append(out, n.Err)
	}
	return out
}

func (e *Engine) limit() int {
	if e.Concurrency <= 0 {
		return 8
	}
	return e.Concurrency
}

func (e *Engine) deps(nodes []*Node) ([]string, map[string][]string) {
	names := make([]string, 0, len(nodes))
	deps := map[string][]string{}
	for _, n := range nodes {
		names = append(names, n.Name)
		deps[n.Name] = n.Deps
	}
	return names, deps
}

func (e *Engine) kind(n *Node) (Kind, error) {
	k, ok := KindOf(n.Kind)
	if !ok {
		return nil, fmt.Errorf("no provisioner for kind %s", n.Kind)
	}
	return k, nil
}

// Up creates, adopts and converges every node, then deletes resources in
// state that the configuration no longer has.
func (e *Engine) Up(ctx context.Context) *Result {
	if err := e.Graph.Check(); err != nil {
		return &Result{Nodes: []NodeResult{{Name: "graph", Err: err}}}
	}
	nodes := e.Graph.Nodes()
	names, deps := e.deps(nodes)
	var mu sync.Mutex
	results := map[string]NodeResult{}
	reached := map[string]bool{}
	errs := runDAG(ctx, names, deps, e.limit(), e.Stop, func(ctx context.Context, name string) error {
		n, _ := e.Graph.Node(name)
		mu.Lock()
		unchanged := true
		for _, d := range n.Deps {
			unchanged = unchanged && results[d].Action == ActNoop
		}
		mu.Unlock()
		r := e.ensure(ctx, n, unchanged)
		mu.Lock()
		results[name] = r
		ready := e.reachedMilestones(results, reached, len(names))
		mu.Unlock()
		for _, ev := range ready {
			e.Env.Emit(ev)
		}
		return r.Err
	})
	res := &Result{}
	for _, n := range nodes {
		r, ok := results[n.Name]
		if !ok {
			r = NodeResult{Name: n.Name, Kind: n.Kind, Err: errs[n.Name]}
			e.Env.Emit(Event{Node: n.Name, Kind: n.Kind, Phase: PhaseSkipped, Message: fmt.Sprint(errs[n.Name])})
		}
		res.Nodes = append(res.Nodes, r)
	}
	if res.Err() != nil {
		return res
	}
	// Resources recorded in state but no longer in the configuration.
	orphans := e.orphans()
	if len(orphans) > 0 {
		d := e.destroy(ctx, orphans)
		res.Nodes = append(res.Nodes, d.Nodes...)
	}
	return res
}

// reachedMilestones returns the events of the milestones whose nodes all
// succeeded and that were not reached before (marked in reached). Called
// with the results' lock held.
func (e *Engine) reachedMilestones(results map[string]NodeResult, reached map[string]bool, total int) []Event {
	var out []Event
	for _, m := range e.Graph.milestones {
		if reached[m.Name] {
			continue
		}
		ok := true
		for _, name := range m.Nodes {
			if r, done := results[name]; !done || r.Err != nil {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		reached[m.Name] = true
		msg := m.Message(e.Env)
		if left := total - len(results); left > 0 {
			msg += fmt.Sprintf(" (%d more resources in progress; up ends when they are done)", left)
		}
		out = append(out, Event{Node: m.Name, Phase: PhaseReady, Message: msg})
	}
	return out
}

// ensure finds, creates or converges n. depsUnchanged says every dependency
// was a no-op in this run: Plan's observation of n, if any, is still valid.
func (e *Engine) ensure(ctx context.Context, n *Node, depsUnchanged bool) NodeResult {
	r := NodeResult{Name: n.Name, Kind: n.Kind}
	k, err := e.kind(n)
	if err != nil {
		r.Err = err
		return r
	}
	var rec *state.Resource
	if e.Env.store != nil {
		if s, ok := e.Env.store.Get(n.Name); ok {
			rec = &s
		}
	}
	e.Env.Emit(Event{Node: n.Name, Kind: n.Kind, Phase: PhaseStart})
	obs := e.planned(n.Name)
	if obs == nil || !depsUnchanged || rec == nil || rec.ID != obs.Rec.ID {
		var err error
		if obs, err = k.Find(ctx, e.Env, n, rec); err != nil {
			return e.fail(r, fmt.Errorf("find: %w", err))
		}
	}
	if obs == nil {
		r.Action = ActCreate
		e.Env.Emit(Event{Node: n.Name, Kind: n.Kind, Phase: PhaseStart, Action: "create"})
		obs, err = k.Create(ctx, e.Env, n)
		if err != nil {
			return e.fail(r, fmt.Errorf("create: %w", err))
		}
	} else {
		r.Action = ActNoop
		if rec == nil || rec.ID != obs.Rec.ID {
			r.Action = ActAdopt
		}
	}
	obs.Rec.Name, obs.Rec.Kind = n.Name, n.Kind
	if len(obs.Rec.Deps) == 0 {
		obs.Rec.Deps = append([]string(nil), n.Deps...)
	}
	if rec != nil && obs.Rec.CreatedAt.IsZero() {
		obs.Rec.CreatedAt = rec.CreatedAt
	}
	if err := e.Env.Record(obs.Rec); err != nil {
		return e.fail(r, err)
	}
	r.ID = obs.Rec.ID
	changes := k.Diff(e.Env, n, obs)
	if len(changes) > 0 {
		for _, c := range changes {
			if c.Replace {
				return e.fail(r, &ReplaceError{Node: n.Name, Change: c})
			}
		}
		// A resource just created converges what its create call cannot
		// set (VPC DNS hostnames, bucket settings...): part of creating it,
		// not a change to report.
		if r.Action != ActCreate {
			r.Changes = changes
			if r.Action == ActNoop {
				r.Action = ActUpdate
			}
			e.Env.Emit(Event{Node: n.Name, Kind: n.Kind, Phase: PhaseStart, Action: "update", Message: changeList(changes)})
		}
		if err := k.Update(ctx, e.Env, n, obs, changes); err != nil {
			return e.fail(r, fmt.Errorf("update: %w", err))
		}
		// Update may have refreshed attributes dependents need.
		if err := e.Env.Record(obs.Rec); err != nil {
			return e.fail(r, err)
		}
	}
	e.Env.Emit(Event{Node: n.Name, Kind: n.Kind, Phase: PhaseDone, Action: string(r.Action), Message: r.ID})
	return r
}

func changeList(cs []Change) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.String())
	}
	return strings.Join(parts, "; ")
}

func (e *Engine) fail(r NodeResult, err error) NodeResult {
	r.Err = err
	e.Env.Emit(Event{Node: r.Name, Kind: r.Kind, Phase: PhaseFailed, Message: err.Error()})
	return r
}

// ReplaceError refuses a replacement that was not allowed.
type ReplaceError struct {
	Node   string
	Change Change
}

func (e *ReplaceError) Error() string {
	return fmt.Sprintf("%s must be replaced to change %s (%s → %s): %s; run `wbo-deploy up --allow-replace` to do it",
		e.Node, e.Change.Field, e.Change.Old, e.Change.New, e.Change.Why)
}

func (e *Engine) orphans() []state.Resource {
	if e.Env.store == nil {
		return nil
	}
	var out []state.Resource
	for _, r := range e.Env.store.All() {
		if _, ok := e.Graph.Node(r.Name); !ok {
			out = append(out, r)
		}
	}
	return out
}

// Destroy deletes the given resources (from state or discovery) in reverse
// dependency order, independent ones in parallel.
func (e *Engine) Destroy(ctx context.Context, recs []state.Resource) *Result {
	return e.destroy(ctx, recs)
}

// KeptError is returned by Delete for a resource deliberately left in place
// (the board bucket without --delete-data). The engine forgets it in state.
type KeptError struct{ Reason string }

func (e *KeptError) Error() string { return "kept: " + e.Reason }

func (e *Engine) destroy(ctx context.Context, recs []state.Resource) *Result {
	byName := map[string]state.Resource{}
	for _, r := range recs {
		byName[r.Name] = r
	}
	ranks := e.Graph.kindRanks()
	// dependents[x] = resources that depend on x: they go first.
	dependents := map[string][]string{}
	for _, r := range recs {
		var ds []string
		switch {
		case len(r.Deps) > 0:
			ds = r.Deps
		default:
			if n, ok := e.Graph.Node(r.Name); ok {
				ds = n.Deps
			} else if rank, ok := ranks[r.Kind]; ok {
				for _, o := range recs {
					if or, ok := ranks[o.Kind]; ok && or < rank {
						ds = append(ds, o.Name)
					}
				}
			}
		}
		for _, d := range ds {
			if _, ok := byName[d]; ok && d != r.Name {
				dependents[d] = append(dependents[d], r.Name)
			}
		}
	}
	names := make([]string, 0, len(recs))
	for _, r := range recs {
		names = append(names, r.Name)
	}
	sort.Strings(names)
	var mu sync.Mutex
	results := map[string]NodeResult{}
	timeout := e.DeleteTimeout
	if timeout == 0 {
		timeout = 30 * time.Minute
	}
	errs := runDAG(ctx, names, dependents, e.limit(), e.Stop, func(ctx context.Context, name string) error {
		rec := byName[name]
		r := NodeResult{Name: name, Kind: rec.Kind, ID: rec.ID, Action: ActDelete}
		defer func() {
			mu.Lock()
			results[name] = r
			mu.Unlock()
		}()
		k, ok := KindOf(rec.Kind)
		if !ok {
			r.Err = fmt.Errorf("no provisioner for kind %s (state written by a newer wbo-deploy?)", rec.Kind)
			return r.Err
		}
		start := "delete"
		if kp, ok := k.(Keeper); ok && kp.Keeps(e.Env, rec) != "" {
			start = "keep" // a kept bucket is never shown as being deleted
		}
		e.Env.Emit(Event{Node: name, Kind: rec.Kind, Phase: PhaseStart, Action: start, Message: rec.ID})
		err := e.Env.Clock.RetryDependency(ctx, timeout, func(status string, elapsed time.Duration) {
			e.Env.Emit(Event{Node: name, Kind: rec.Kind, Phase: PhaseWait, Message: status, Elapsed: elapsed})
		}, func(ctx context.Context) error { return k.Delete(ctx, e.Env, rec) })
		var kept *KeptError
		switch {
		case errors.As(err, &kept):
			r.Action, r.Note = ActKeep, kept.Reason
			err = nil
		case err != nil && awserr.IsNotFound(err):
			err = nil
		}
		if err != nil {
			if awserr.IsDependency(err) {
				err = fmt.Errorf("still blocked after %s: %w (find what uses %s %s in the AWS console or with the AWS CLI and remove it, then run destroy again)",
					timeout, err, rec.Kind, rec.ID)
			}
			r.Err = err
			e.Env.Emit(Event{Node: name, Kind: rec.Kind, Phase: PhaseFailed, Message: err.Error()})
			return err
		}
		if ferr := e.Env.Forget(name); ferr != nil {
			r.Err = ferr
			return ferr
		}
		e.Env.Emit(Event{Node: name, Kind: rec.Kind, Phase: PhaseDone, Action: string(r.Action), Message: r.Note})
		return nil
	})
	res := &Result{}
	for _, name := range names {
		r, ok := results[name]
		if !ok {
			r = NodeResult{Name: name, Kind: byName[name].Kind, ID: byName[name].ID, Action: ActDelete, Err: errs[name]}
		}
		res.Nodes = append(res.Nodes, r)
	}
	return res
}

// Discover finds the stack's resources by their tags, for destroy without a
// state file. Resources of kinds that cannot be discovered are not listed.
func (e *Engine) Discover(ctx context.Context) ([]state.Resource, error) {
	var out []state.Resource
	for _, t := range Kinds() {
		k, _ := KindOf(t)
		d, ok := k.(Discoverer)
		if !ok {
			continue
		}
		recs, err := d.Discover(ctx, e.Env)
		if err != nil {
			return nil, fmt.Errorf("discover %s: %w", t, err)
		}
		for _, r := range recs {
			if r.Name == "" {
				r.Name = t + ":" + r.ID
			}
			out = append(out, r)
		}
	}
	return Merge(nil, out), nil
}

// Merge adds to recs the resources of found it does not hold yet (same kind
// and ID). Two resources claiming one logical name (a duplicate made by hand,
// or a stale state) are both kept, the later one named "<name>#2", "#3"...
func Merge(recs, found []state.Resource) []state.Resource {
	known := map[string]bool{}
	names := map[string]bool{}
	for _, r := range recs {
		known[r.Kind+"/"+r.ID] = true
		names[r.Name] = true
	}
	for _, r := range found {
		if known[r.Kind+"/"+r.ID] {
			continue
		}
		known[r.Kind+"/"+r.ID] = true
		name := r.Name
		for i := 2; names[name]; i++ {
			name = fmt.Sprintf("%s#%d", r.Name, i)
		}
		r.Name = name
		names[name] = true
		recs = append(recs, r)
	}
	return recs
}

// Replace deletes the named resources and everything that depends on them
// (transitively), so the next Up re-creates them with the new settings. The
// caller has the user's consent (--allow-replace).
func (e *Engine) Replace(ctx context.Context, names []string) *Result {
	doomed := e.withDependents(names)
	var recs []state.Resource
	if e.Env.store != nil {
		for _, r := range e.Env.store.All() {
			if doomed[r.Name] {
				recs = append(recs, r)
			}
		}
	}
	return e.destroy(ctx, recs)
}

// withDependents is names and everything that depends on them, directly or
// not: what a replacement deletes and creates again.
func (e *Engine) withDependents(names []string) map[string]bool {
	doomed := map[string]bool{}
	var mark func(string)
	mark = func(name string) {
		if doomed[name] {
			return
		}
		doomed[name] = true
		for _, n := range e.Graph.Nodes() {
			for _, d := range n.Deps {
				if d == name {
					mark(n.Name)
				}
			}
		}
	}
	for _, n := range names {
		mark(n)
	}
	return doomed
}
