package provision

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// Tag keys every resource carries; find-or-create and state-less destroy rely
// on them.
const (
	TagStack    = "wbo-deploy:stack"
	TagResource = "wbo-deploy:resource"
)

// DestroyOptions change what destroy removes.
type DestroyOptions struct {
	DeleteData bool // empty and delete the board bucket
	KeepLogs   bool // keep the log group and the access-log bucket
	Force      bool // override deletion protection
}

// Env is what a provisioner works with during one run.
type Env struct {
	AWS     *awsclients.Clients
	Cfg     *config.Config
	Clock   *Clock
	Destroy DestroyOptions
	// AllowReplace lets up replace resources that cannot change in place.
	AllowReplace bool
	// NoWait returns after update calls without waiting for deployments.
	NoWait bool

	store *state.Store
	sink  Sink

	mu   sync.Mutex
	refs map[string]state.Resource // nodes completed in this run
	azs  *azCache                  // the region's zones, looked up once per run
}

// NewEnv prepares an environment; store may be nil for offline plans.
func NewEnv(aws *awsclients.Clients, cfg *config.Config, store *state.Store, clock *Clock, sink Sink) *Env {
	if clock == nil {
		clock = RealClock()
	}
	if sink == nil {
		sink = func(Event) {}
	}
	return &Env{AWS: aws, Cfg: cfg, Clock: clock, store: store, sink: sink, refs: map[string]state.Resource{}}
}

// Stack is the stack name.
func (e *Env) Stack() string { return e.Cfg.Stack }

// Account is the AWS account of this run.
func (e *Env) Account() string {
	if e.AWS == nil {
		return ""
	}
	return e.AWS.Account
}

// Region is the region of this run.
func (e *Env) Region() string {
	if e.AWS != nil && e.AWS.Region != "" {
		return e.AWS.Region
	}
	return e.Cfg.Region
}

// Tags returns the tags for the resource with logical name: the user's tags,
// then the two wbo-deploy tags (which the user cannot override).
func (e *Env) Tags(logical string) map[string]string {
	m := map[string]string{}
	for k, v := range e.Cfg.Tags {
		m[k] = v
	}
	m[TagStack] = e.Cfg.Stack
	m[TagResource] = logical
	return m
}

// SortedTags returns Tags as sorted key/value pairs (for building SDK tag lists).
func (e *Env) SortedTags(logical string) [][2]string {
	m := e.Tags(logical)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][2]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, [2]string{k, m[k]})
	}
	return out
}

// Ref returns the record of a dependency completed in this run (or recorded
// in state). Provisioners call it for the IDs of the nodes they depend on.
func (e *Env) Ref(name string) (state.Resource, error) {
	e.mu.Lock()
	r, ok := e.refs[name]
	e.mu.Unlock()
	if ok {
		return r, nil
	}
	if e.store != nil {
		if r, ok := e.store.Get(name); ok {
			return r, nil
		}
	}
	return state.Resource{}, fmt.Errorf("dependency %q is not available", name)
}

// RefID is Ref(name).ID, for the common case.
func (e *Env) RefID(name string) (string, error) {
	r, err := e.Ref(name)
	return r.ID, err
}

// Record saves a resource in state at once (called by Create as soon as AWS
// returned the ID, and by the engine after adoption or update).
func (e *Env) Record(r state.Resource) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now().UTC()
	}
	e.mu.Lock()
	e.refs[r.Name] = r
	e.mu.Unlock()
	if e.store == nil {
		return nil
	}
	if old, ok := e.store.Get(r.Name); ok && sameRecord(old, r) {
		return nil
	}
	if err := e.store.Put(r); err != nil {
		return fmt.Errorf("save state for %s: %w", r.Name, err)
	}
	return nil
}

// remember makes r available to Ref for the rest of this run without
// writing it to state (plan and status observe; only up records).
func (e *Env) remember(r state.Resource) {
	e.mu.Lock()
	e.refs[r.Name] = r
	e.mu.Unlock()
}

func sameRecord(a, b state.Resource) bool {
	if a.Name != b.Name || a.Kind != b.Kind || a.ID != b.ID || a.ARN != b.ARN || len(a.Attrs) != len(b.Attrs) || len(a.Deps) != len(b.Deps) {
		return false
	}
	for k, v := range a.Attrs {
		if b.Attrs[k] != v {
			return false
		}
	}
	for i := range a.Deps {
		if a.Deps[i] != b.Deps[i] {
			return false
		}
	}
	return true
}

// Forget removes a resource from state (after deletion, or when kept).
func (e *Env) Forget(name string) error {
	e.mu.Lock()
	delete(e.refs, name)
	e.mu.Unlock()
	if e.store == nil {
		return nil
	}
	if _, ok := e.store.Get(name); !ok {
		return nil
	}
	return e.store.Remove(name)
}

// Progress reports a waiting status for the node being worked on.
func (e *Env) Progress(node, status string, elapsed time.Duration) {
	e.sink(Event{Time: time.Now(), Node: node, Phase: PhaseWait, Message: status, Elapsed: elapsed})
}

// Emit sends an event.
func (e *Env) Emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	e.sink(ev)
}

// NewRecord starts a state record for node n.
func NewRecord(n *Node, id string) state.Resource {
	return state.Resource{Name: n.Name, Kind: n.Kind, ID: id, Deps: append([]string(nil), n.Deps...), Attrs: map[string]string{}}
}
