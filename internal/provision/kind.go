// Package provision turns the configuration into AWS resources.
//
// Each kind of AWS resource has one provisioner (a Kind) in its own file:
// find (adopt by recorded ID, tags or deterministic name), create (tags in the
// create call, state recorded at once), diff against the configuration,
// update in place, delete. graph.go declares every node of the stack and its
// dependencies in one place; engine.go runs them as a graph, in parallel where
// independent. Adding a resource means writing a Kind and adding its node to
// graph.go; the engine does not change.
package provision

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// Kind is the provisioner of one kind of AWS resource.
type Kind interface {
	// Type is the kind's stable name, recorded in state ("ec2.vpc").
	Type() string
	// Find returns the live resource for node n, or nil when it does not
	// exist. rec is the state record when there is one; without it Find looks
	// the resource up by its tags or deterministic name (adoption). Find makes
	// read-only calls only.
	Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error)
	// Create makes the resource, with its tags in the create call, and calls
	// env.Record as soon as AWS has answered with its ID. It returns the
	// resource as created; the engine then diffs and updates the rest.
	Create(ctx context.Context, env *Env, n *Node) (*Observed, error)
	// Diff lists what differs between the configuration and obs.
	Diff(env *Env, n *Node, obs *Observed) []Change
	// Update applies changes (none of which is a replacement).
	Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error
	// Delete removes the resource recorded in rec. A resource that is already
	// gone is not an error. Deletions that AWS refuses because of a dependency
	// that goes away by itself (DependencyViolation, ResourceInUse...) return
	// that error: the engine retries them with backoff.
	Delete(ctx context.Context, env *Env, rec state.Resource) error
}

// Discoverer is implemented by kinds whose resources can be found by the
// stack tag alone, for destroy without a state file.
type Discoverer interface {
	Discover(ctx context.Context, env *Env) ([]state.Resource, error)
}

// Planner is implemented by kinds that describe what creating them involves
// beyond "create" (for example the expected wait), for `plan`.
type Planner interface {
	PlanNote(env *Env, n *Node) string
}

// Node is one resource of the stack.
type Node struct {
	Name  string   // logical name, unique in the stack, recorded in state and in the wbo-deploy:resource tag
	Kind  string   // Kind.Type()
	Deps  []string // logical names that must exist first (and be deleted after)
	Index int      // which one of several (subnet index, shard number)
	Role  string   // kind-specific role ("public", "private", "alb", ...)
}

// Observed is a live resource as AWS describes it.
type Observed struct {
	Rec state.Resource // ID, ARN and the attributes dependents need
	// State is AWS's lifecycle state ("available", "creating", "active"...).
	State string
	// Pending is true while the resource is not usable yet (creating).
	Pending bool
	// Health is set by kinds that can tell whether the resource works.
	Health *Health
	// Info is shown by status (endpoint, URL, counts).
	Info map[string]string
	// Raw is the kind's own description, for its Diff and Update.
	Raw any
}

// Health is a resource's own view of whether it works.
type Health struct {
	OK     bool
	Reason string // why not, for status
}

// Change is one difference between the configuration and AWS.
type Change struct {
	Field   string
	Old     string
	New     string
	Replace bool // cannot be changed in place
	// Disruptive marks an in-place change that interrupts service (a
	// re-shard stops every shard): up asks for confirmation.
	Disruptive bool
	Why        string // explanation shown by plan (for replacements)
}

func (c Change) String() string {
	if c.Replace {
		return fmt.Sprintf("%s: %s → %s (replace: %s)", c.Field, c.Old, c.New, c.Why)
	}
	return fmt.Sprintf("%s: %s → %s", c.Field, c.Old, c.New)
}

var (
	kindsMu sync.RWMutex
	kinds   = map[string]Kind{}
)

// Register makes a kind known to the engine (from its file's init).
func Register(k Kind) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if _, dup := kinds[k.Type()]; dup {
		panic("provision: kind registered twice: " + k.Type())
	}
	kinds[k.Type()] = k
}

// KindOf returns the registered kind.
func KindOf(t string) (Kind, bool) {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	k, ok := kinds[t]
	return k, ok
}

// Kinds lists the registered kind names, sorted.
func Kinds() []string {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Keeper is implemented by kinds that keep some resources on destroy (the
// board bucket without --delete-data, logs with --keep-logs). Keeps returns
// the reason when rec would be kept under env.Destroy, "" otherwise; destroy
// shows it before asking for confirmation.
type Keeper interface {
	Keeps(env *Env, rec state.Resource) string
}

// OrphanNoter is implemented by kinds whose removal from the configuration
// deserves a word in the plan: when it happens (up deletes what the
// configuration no longer has after everything else is done) and why.
type OrphanNoter interface {
	OrphanNote(rec state.Resource) string
}
