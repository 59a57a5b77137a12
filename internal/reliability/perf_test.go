package reliability

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// Performance on a virtual clock.
//
// Every run here happens inside a testing/synctest bubble: time is virtual
// and advances only when every goroutine of the bubble is blocked, so the
// simulated cloud's durations (awssim.RealisticTiming, the duration model)
// and the tool's own waiting (polls, retry backoff, SDK waiters, the SDK
// retryer) run unscaled (scale 1) and a run's duration is exact: the same
// on every run and on every machine, however slow. Nothing in these runs
// leaves the bubble: the simulated cloud answers in process under the real
// SDK clients (no network), the state file is local I/O, and the only
// goroutines are the engine's and the SDK's, all started inside.
//
// Each run is compared with the critical path of the dependency graph under
// the same durations (criticalPath): the physical limit, since a resource
// cannot be worked on before what it depends on is done and AWS takes the
// modelled time for each.

// perfScenario is one stack the report covers.
type perfScenario struct{ name, config string }

var perfScenarios = []perfScenario{
	{"default", baseConfig},
	{"redis.mode: none", baseConfig + "redis:\n  mode: none\n"},
	{"3 shards", baseConfig + "app:\n  shards: 3\n"},
	// Shared mode needs an image that shares board state; such an image
	// uses Redis, so it gets the endpoint (and its tasks wait for it).
	{"shared mode (Redis passed)", baseConfig + "app:\n  mode: shared\n  shares_state: true\n  image: example/wbo-redis:1\nredis:\n  pass_url: true\n"},
	// Your own domain, in a Route 53 zone of the account (made before up).
	{"domain, redis.mode: none", baseConfig + "redis:\n  mode: none\ndomain:\n  name: board.example.com\n"},
}

// timeline is what one command run did, in virtual time since its start.
type timeline struct {
	mu      sync.Mutex
	t0      time.Time
	end     time.Duration
	started map[string]time.Duration // first PhaseStart of a node
	done    map[string]time.Duration // its PhaseDone
	ready   map[string]time.Duration // milestones (PhaseReady)
}

func (tl *timeline) observe(ev provision.Event) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	at := ev.Time.Sub(tl.t0)
	switch ev.Phase {
	case provision.PhaseStart:
		if _, ok := tl.started[ev.Node]; !ok {
			tl.started[ev.Node] = at
		}
	case provision.PhaseDone:
		tl.done[ev.Node] = at
	case provision.PhaseReady:
		tl.ready[ev.Node] = at
	}
}

// timed runs one command in w, recording its timeline.
func timed(w *world, run func(*world) error) (*timeline, error) {
	tl := &timeline{t0: time.Now(), started: map[string]time.Duration{}, done: map[string]time.Duration{}, ready: map[string]time.Duration{}}
	w.observe = tl.observe
	defer func() { w.observe = nil }()
	err := run(w)
	tl.end = time.Since(tl.t0)
	return tl, err
}

// ---- The duration model applied to the graph ----

// dagModel is a run's graph (up: dependencies first; destroy: dependents
// first) with the duration model of each node.
type dagModel struct {
	names []string
	kind  map[string]string
	preds map[string][]string // done before the node can start
	dur   func(kind string) time.Duration
	// waits: other nodes that hold this one back beyond the edges (up:
	// the roles its task definition hands to ECS, not assumable until
	// IAMPropagation after their creation; destroy: the load balancers,
	// services and cache groups whose network interfaces must be gone
	// first), and waitAt when node x stops holding back, given when x
	// started and finished.
	waits  map[string][]string
	waitAt func(x string, start, finish map[string]time.Duration) time.Duration
}

// earliest is when n can start at the soonest, given when its predecessors
// started and finished.
func (m *dagModel) earliest(n string, start, finish map[string]time.Duration) time.Duration {
	var at time.Duration
	for _, p := range m.preds[n] {
		at = max(at, finish[p])
	}
	for _, x := range m.waits[n] {
		at = max(at, m.waitAt(x, start, finish))
	}
	return at
}

// criticalPath is the earliest every node can finish when each starts the
// moment it can (unbounded concurrency, no polling delay): the physical
// limit of a run. It returns the finish times and the run's total.
func (m *dagModel) criticalPath() (map[string]time.Duration, time.Duration) {
	start, finish := map[string]time.Duration{}, map[string]time.Duration{}
	var visit func(n string)
	visit = func(n string) {
		if _, ok := finish[n]; ok {
			return
		}
		for _, p := range m.preds[n] {
			visit(p)
		}
		for _, x := range m.waits[n] {
			visit(x)
		}
		start[n] = m.earliest(n, start, finish)
		finish[n] = start[n] + m.dur(m.kind[n])
	}
	var total time.Duration
	for _, n := range m.names {
		visit(n)
		total = max(total, finish[n])
	}
	return finish, total
}

// overshoot is the largest time a resource was ready (per the model, given
// when it actually started and when what it waited for actually finished)
// before the tool noticed it was done, the awaited time then and the node.
func (m *dagModel) overshoot(tl *timeline) (worst, awaited time.Duration, node string) {
	for _, n := range m.names {
		s, ok1 := tl.started[n]
		d, ok2 := tl.done[n]
		if !ok1 || !ok2 {
			continue
		}
		readyAt := max(s, m.earliest(n, tl.started, tl.done)) + m.dur(m.kind[n])
		if over := d - readyAt; over > worst || node == "" {
			worst, awaited, node = over, readyAt-s, n
		}
	}
	return worst, awaited, node
}

// upModel: a node starts when its dependencies are done; AWS then takes
// the Timing figure of its kind.
func upModel(g *provision.Graph, t awssim.Timing) *dagModel {
	m := &dagModel{kind: map[string]string{}, preds: map[string][]string{}, waits: map[string][]string{}}
	for _, n := range g.Nodes() {
		m.names = append(m.names, n.Name)
		m.kind[n.Name] = n.Kind
		m.preds[n.Name] = n.Deps
	}
	// ECS refuses a task definition (RegisterTaskDefinition "Role is not
	// valid") until it can assume its new roles, and a service
	// (CreateService) until it can assume those of its task definition.
	for _, n := range g.Nodes() {
		if n.Kind == "ecs.task-definition" {
			for _, r := range n.Deps {
				if m.kind[r] == "iam.role" {
					m.waits[n.Name] = append(m.waits[n.Name], r)
				}
			}
			continue
		}
		if n.Kind != "ecs.service" {
			continue
		}
		for _, d := range n.Deps {
			if m.kind[d] != "ecs.task-definition" {
				continue
			}
			for _, r := range m.preds[d] {
				if m.kind[r] == "iam.role" {
					m.waits[n.Name] = append(m.waits[n.Name], r)
				}
			}
		}
	}
	m.waitAt = func(x string, _, finish map[string]time.Duration) time.Duration {
		return finish[x] + t.IAMPropagation
	}
	m.dur = func(kind string) time.Duration {
		switch kind {
		case "ec2.vpc":
			return t.VPCPending
		case "elbv2.load-balancer":
			return t.LoadBalancerActive
		case "elasticache.replication-group":
			return t.ReplicationGroup
		case "ecs.service":
			return t.TaskStart + t.TargetHealthy // the deployment completes when its tasks are healthy
		case "acm.certificate":
			return t.ACMRecord // until ACM shows the validation record
		case "route53.record":
			return t.Route53Propagation // until the change is INSYNC
		case "acm.certificate-validation":
			return t.ACMValidation // once the record resolves
		}
		return 0 // one or a few API calls: no modelled wait
	}
	return m
}

// destroyModel: a resource is deleted once what depends on it is; subnets,
// security groups and the internet gateway also wait until the network
// interfaces of every load balancer, task and cache node above them are
// gone (ENILinger after their owner went).
func destroyModel(recs []state.Resource, t awssim.Timing) *dagModel {
	m := &dagModel{kind: map[string]string{}, preds: map[string][]string{}, waits: map[string][]string{}}
	known := map[string]bool{}
	for _, r := range recs {
		known[r.Name] = true
	}
	for _, r := range recs {
		m.names = append(m.names, r.Name)
		m.kind[r.Name] = r.Kind
		for _, d := range r.Deps {
			if known[d] && d != r.Name {
				m.preds[d] = append(m.preds[d], r.Name)
			}
		}
	}
	sort.Strings(m.names)
	m.dur = func(kind string) time.Duration {
		switch kind {
		case "ecs.service":
			return t.ServiceDrain // DRAINING → INACTIVE
		case "elasticache.replication-group":
			return t.ReplicationDeleting
		}
		return 0
	}
	eniGone := func(kind string) time.Duration {
		switch kind {
		case "ecs.service": // its tasks stop when it is deleted
			return t.TaskStop + t.ENILinger
		case "elbv2.load-balancer":
			return t.ENILinger
		case "elasticache.replication-group":
			return t.ReplicationDeleting + t.ENILinger
		}
		return 0
	}
	m.waitAt = func(x string, start, _ map[string]time.Duration) time.Duration {
		return start[x] + eniGone(m.kind[x])
	}
	holds := func(kind string) bool { return eniGone(kind) > 0 }
	blocked := func(kind string) bool {
		return kind == "ec2.subnet" || kind == "ec2.security-group" || kind == "ec2.internet-gateway"
	}
	for _, n := range m.names {
		if !blocked(m.kind[n]) {
			continue
		}
		seen := map[string]bool{}
		var walk func(x string)
		walk = func(x string) {
			for _, up := range m.preds[x] {
				if seen[up] {
					continue
				}
				seen[up] = true
				if holds(m.kind[up]) {
					m.waits[n] = append(m.waits[n], up)
				}
				walk(up)
			}
		}
		walk(n)
		sort.Strings(m.waits[n])
	}
	return m
}

// ---- The figures ----

// runFigures are one run's measurements.
type runFigures struct {
	took, critical     time.Duration
	serving, servingCP time.Duration // up: the whiteboard milestone
	over, awaited      time.Duration // poll overshoot and the wait it ended
	overNode           string
	calls, mutating    int
}

func (f runFigures) ratio() float64 { return float64(f.took) / float64(f.critical) }

// overshootOK is the goal: at most max(5 s, 5 % of the awaited time).
func (f runFigures) overshootOK() bool {
	return f.over <= max(5*time.Second, f.awaited/20)
}

// stackFigures are every figure of one scenario.
type stackFigures struct {
	name                string
	up, destroy         runFigures
	up1, destroy1       runFigures // engine concurrency 1
	noop, status        runFigures // calls only
	statusTook, slowest time.Duration
	slowestNode         string
	resources           int
}

// measure runs a scenario's cycles in synctest bubbles.
func measure(t *testing.T, sc perfScenario, withSerial bool) stackFigures {
	t.Helper()
	f := stackFigures{name: sc.name}
	synctest.Test(t, func(t *testing.T) {
		w := perfWorld(t, sc.config, 0)
		f.up = w.measureUp(t)
		recs := w.records()
		f.resources = len(recs)

		w.cloud.ResetCalls()
		if err := w.up(); err != nil {
			t.Fatal(err)
		}
		f.noop.calls, f.noop.mutating = len(w.cloud.Calls()), len(w.cloud.MutatingCalls())

		w.cloud.ResetCalls()
		g, _, _ := w.globals(nil)
		if err := statusRun(g); err != nil {
			t.Fatal(err)
		}
		f.status.calls, f.status.mutating = len(w.cloud.Calls()), len(w.cloud.MutatingCalls())
		f.statusTook, f.slowest, f.slowestNode = w.statusLatency(t, 50*time.Millisecond)
		f.destroy = w.measureDestroy(t)
	})
	if withSerial {
		synctest.Test(t, func(t *testing.T) {
			w := perfWorld(t, sc.config, 1)
			f.up1 = w.measureUp(t)
			f.destroy1 = w.measureDestroy(t)
		})
	}
	return f
}

// measureUp runs a first up and measures it against the critical path,
// with the time the whiteboard served.
func (w *world) measureUp(t *testing.T) runFigures {
	cfg, err := w.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	g := provision.Build(cfg)
	m := upModel(g, awssim.RealisticTiming())
	finish, total := m.criticalPath()
	tl, err := timed(w, (*world).up)
	if err != nil {
		t.Fatal(err)
	}
	f := w.figures(tl, m, total)
	for _, ms := range g.Milestones() {
		if ms.Name == provision.MilestoneServing {
			for _, n := range ms.Nodes {
				f.servingCP = max(f.servingCP, finish[n])
			}
		}
	}
	f.serving = tl.ready[provision.MilestoneServing]
	return f
}

// measureDestroy runs destroy and measures it against the critical path.
func (w *world) measureDestroy(t *testing.T) runFigures {
	m := destroyModel(w.records(), awssim.RealisticTiming())
	_, total := m.criticalPath()
	w.cloud.ResetCalls()
	tl, err := timed(w, func(w *world) error { return w.destroy(false) })
	if err != nil {
		t.Fatal(err)
	}
	return w.figures(tl, m, total)
}

// perfWorld is a world on the virtual clock: scale 1, a fixed jitter seed.
func perfWorld(t *testing.T, config string, concurrency int) *world {
	w := newWorldScaled(t, config, 1)
	// The duration model only: no consistency windows and no throttling.
	// Both make a run wait for what no virtual clock makes exact (a window
	// drawn per resource ID, and IDs follow the order concurrent creates
	// reach AWS; the SDK retryer's random jitter), and the fault suites and
	// internal/provision run with them on.
	w.cloud = awssim.New(awssim.Options{Scale: 1, ConsistencyMisses: -1, NoThrottling: true})
	w.seed, w.concurrency = 1, concurrency
	if strings.Contains(config, "domain:") {
		w.cloud.CreateZone("example.com") // the domain owner's zone
	}
	return w
}

func (w *world) loadConfig() (*config.Config, error) {
	g, _, _ := w.globals(nil)
	return g.LoadConfig()
}

func (w *world) records() []state.Resource {
	st, err := state.Open(w.statePath(), w.stack, state.Options{ReadOnly: true})
	if err != nil {
		w.t.Fatal(err)
	}
	defer st.Close()
	return st.All()
}

func (w *world) figures(tl *timeline, m *dagModel, critical time.Duration) runFigures {
	f := runFigures{took: tl.end, critical: critical}
	f.over, f.awaited, f.overNode = m.overshoot(tl)
	f.calls, f.mutating = len(w.cloud.Calls()), len(w.cloud.MutatingCalls())
	return f
}

// statusLatency runs status with every call taking d, and each resource's
// status check alone: the slowest of those is the least any status takes.
func (w *world) statusLatency(t *testing.T, d time.Duration) (took, slowest time.Duration, node string) {
	w.cloud.SetCallLatency(d)
	defer w.cloud.SetCallLatency(0)
	g, _, _ := w.globals(nil)
	start := time.Now()
	if err := statusRun(g); err != nil {
		t.Fatal(err)
	}
	took = time.Since(start)

	ctx := context.Background()
	cfg, err := g.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	clients, err := g.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(w.statePath(), w.stack, state.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng := &provision.Engine{Graph: provision.Build(cfg), Env: provision.NewEnv(clients, cfg, st, provision.NewSeededClock(1, nil, 1), nil)}
	for _, rec := range st.All() {
		start := time.Now()
		eng.Status(ctx, []state.Resource{rec})
		if e := time.Since(start); e > slowest {
			slowest, node = e, rec.Name
		}
	}
	return took, slowest, node
}

// ---- The report ----

func fmtD(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return d.String()
	}
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

func report(figs []stackFigures) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Virtual time (testing/synctest), simulated AWS with awssim.RealisticTiming; ratio = time / critical path.\n\n")
	fmt.Fprintf(&b, "| stack | run | time | critical path | ratio | concurrency 1 (ratio) | whiteboard serves (critical path) | poll overshoot (node, of a wait of) |\n")
	fmt.Fprintf(&b, "|---|---|---:|---:|---:|---:|---:|---|\n")
	for _, f := range figs {
		row := func(run string, r, serial runFigures, serving string) {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %.3f | %s (%.2f) | %s | %s (%s, %s) |\n", f.name, run, fmtD(r.took), fmtD(r.critical), r.ratio(),
				fmtD(serial.took), serial.ratio(), serving, fmtD(r.over), r.overNode, fmtD(r.awaited))
		}
		row("`up` from scratch", f.up, f.up1, fmt.Sprintf("%s (%s)", fmtD(f.up.serving), fmtD(f.up.servingCP)))
		row("`destroy`", f.destroy, f.destroy1, "")
	}
	fmt.Fprintf(&b, "\nAPI calls, total / mutating:\n\n| stack | resources | `up` from scratch | no-op `up` | `status` | `destroy` |\n|---|---:|---:|---:|---:|---:|\n")
	for _, f := range figs {
		fmt.Fprintf(&b, "| %s | %d | %d / %d | %d / %d | %d / %d | %d / %d |\n", f.name, f.resources, f.up.calls, f.up.mutating,
			f.noop.calls, f.noop.mutating, f.status.calls, f.status.mutating, f.destroy.calls, f.destroy.mutating)
	}
	fmt.Fprintf(&b, "\n`status` with 50 ms per call:\n\n| stack | `status` | slowest single resource | ratio |\n|---|---:|---:|---:|\n")
	for _, f := range figs {
		fmt.Fprintf(&b, "| %s | %s | %s (%s) | %.2f |\n", f.name, f.statusTook.Round(time.Millisecond), f.slowest.Round(time.Millisecond), f.slowestNode,
			float64(f.statusTook)/float64(f.slowest))
	}
	return b.String()
}

// checkGoals returns what misses the goals of issue 17.
func checkGoals(f stackFigures) []string {
	var bad []string
	for _, r := range []struct {
		what  string
		f     runFigures
		limit float64
	}{{"up", f.up, 1.05}, {"destroy", f.destroy, 1.10}} {
		if r.f.ratio() < 1 {
			bad = append(bad, fmt.Sprintf("%s: %s took %s, less than its critical path %s: the duration model is wrong", f.name, r.what, r.f.took, r.f.critical))
		}
		if r.f.ratio() > r.limit {
			bad = append(bad, fmt.Sprintf("%s: %s took %s = %.3f × its critical path %s (goal ≤ %.2f)", f.name, r.what, r.f.took, r.f.ratio(), r.f.critical, r.limit))
		}
		if !r.f.overshootOK() {
			bad = append(bad, fmt.Sprintf("%s: %s noticed %s %s late after a wait of %s (goal ≤ max(5 s, 5 %%))", f.name, r.what, r.f.overNode, r.f.over, r.f.awaited))
		}
	}
	if f.noop.mutating != 0 {
		bad = append(bad, fmt.Sprintf("%s: a no-op up made %d mutating calls", f.name, f.noop.mutating))
	}
	if f.status.mutating != 0 {
		bad = append(bad, fmt.Sprintf("%s: status made %d mutating calls", f.name, f.status.mutating))
	}
	if ratio := float64(f.statusTook) / float64(f.slowest); ratio > 1.5 {
		bad = append(bad, fmt.Sprintf("%s: status took %s = %.2f × its slowest resource (%s, %s) (goal ≤ 1.5)", f.name, f.statusTook, ratio, f.slowestNode, f.slowest))
	}
	return bad
}
