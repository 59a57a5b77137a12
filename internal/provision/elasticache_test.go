package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ect "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// redisGraph is the network tier with the ElastiCache nodes.
func redisGraph(cfg *config.Config) *Graph {
	return kindGraph(cfg, func(k string) bool { return strings.HasPrefix(k, "ec2.") || strings.HasPrefix(k, "elasticache.") })
}

// redisNetGraph is the network tier with the subnet group but no replication group.
func redisNetGraph(cfg *config.Config) *Graph {
	return kindGraph(cfg, func(k string) bool { return strings.HasPrefix(k, "ec2.") || k == "elasticache.subnet-group" })
}

func kindGraph(cfg *config.Config, keep func(string) bool) *Graph {
	g := NewGraph()
	for _, n := range Build(cfg).Nodes() {
		// The flow log needs the data tier's log bucket (flowlog_test.go).
		if keep(n.Kind) && n.Kind != "ec2.flow-log" {
			g.Add(n)
		}
	}
	return g
}

// newFastRig is newRig with an ElastiCache that creates a group in one
// minute instead of ten, for tests that run many full cycles.
func newFastRig(t *testing.T, cfg *config.Config) *rig {
	r := newRig(t, cfg)
	tm := awssim.RealisticTiming()
	tm.ReplicationGroup, tm.ReplicationDeleting, tm.ReplicationModify, tm.ENILinger = time.Minute, 30*time.Second, 30*time.Second, 30*time.Second
	r.cloud = awssim.New(awssim.Options{Region: r.cfg.Region, Timing: &tm})
	return r
}

// eventLog collects engine events.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) sink(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) of(node string, phase Phase) []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Event
	for _, e := range l.events {
		if e.Node == node && e.Phase == phase {
			out = append(out, e)
		}
	}
	return out
}

// engineWith is rig.engine with an event sink.
func (r *rig) engineWith(g *Graph, sink Sink) (*Engine, func()) {
	r.t.Helper()
	st, err := state.Open(r.path, r.cfg.Stack, state.Options{ToolVersion: "test"})
	if err != nil {
		r.t.Fatal(err)
	}
	c := r.clients()
	if err := st.Bind(c.Account, c.Region); err != nil {
		r.t.Fatal(err)
	}
	return &Engine{Graph: g, Env: NewEnv(c, r.cfg, st, &Clock{Scale: r.scale}, sink)}, func() { _ = st.Close() }
}

func (r *rig) record(name string) (state.Resource, bool) {
	for _, rec := range r.records() {
		if rec.Name == name {
			return rec, true
		}
	}
	return state.Resource{}, false
}

func (r *rig) describeRG(id string) ect.ReplicationGroup {
	r.t.Helper()
	out, err := r.clients().ElastiCache.DescribeReplicationGroups(context.Background(), &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(id)})
	if err != nil {
		r.t.Fatal(err)
	}
	return out.ReplicationGroups[0]
}

// ecMutating is the ElastiCache part of the mutating calls.
func (r *rig) ecMutating() []string {
	var out []string
	for _, c := range r.cloud.MutatingCalls() {
		if strings.HasPrefix(c, "ElastiCache.") {
			out = append(out, c)
		}
	}
	return out
}

func mustUp(t *testing.T, r *rig, g *Graph) {
	t.Helper()
	if err := r.up(g).Err(); err != nil {
		t.Fatalf("up: %v", err)
	}
}

// stateMatchesAccount asserts that every stack resource in the account is in
// state under its logical name with the same ID, and vice versa.
func stateMatchesAccount(t *testing.T, r *rig) {
	t.Helper()
	inState := map[string]string{}
	for _, rec := range r.records() {
		inState[rec.Name] = rec.ID
	}
	live := map[string]bool{}
	for _, res := range r.cloud.Inventory() {
		if res.Tags[TagStack] != r.cfg.Stack {
			continue
		}
		name := res.Tags[TagResource]
		if live[name] {
			t.Fatalf("two resources named %s", name)
		}
		live[name] = true
		if id, ok := inState[name]; !ok || id != res.ID {
			t.Fatalf("%s: state has %q, the account has %s", name, id, res.ID)
		}
	}
	for name := range inState {
		if !live[name] {
			t.Fatalf("state has %s, the account does not", name)
		}
	}
}

func TestRedisUpIdempotentStatusDestroy(t *testing.T) {
	r := newRig(t, nil)
	g := redisGraph(r.cfg)
	mustUp(t, r, g)
	owned := strings.Join(r.owned(), ",")
	for _, want := range []string{"cache-subnet-group redis-subnets", "replication-group redis", "security-group sg-redis"} {
		if !strings.Contains(owned, want) {
			t.Fatalf("missing %s in %s", want, owned)
		}
	}
	// Tags go in the create calls: no tagging call afterwards.
	if got := strings.Join(r.ecMutating(), ","); got != "ElastiCache.CreateCacheSubnetGroup,ElastiCache.CreateReplicationGroup" {
		t.Fatalf("ElastiCache calls: %s", got)
	}
	rec, ok := r.record("redis")
	if !ok || rec.ID != "wbo-redis" || rec.Attrs["endpoint"] == "" || rec.Attrs["port"] != "6379" ||
		rec.Attrs["url"] != "rediss://"+rec.Attrs["endpoint"]+":6379" || !strings.HasPrefix(rec.ARN, "arn:aws:elasticache:") {
		t.Fatalf("redis record %+v", rec)
	}
	if sub, ok := r.record("redis-subnets"); !ok || sub.ID != "wbo-redis" {
		t.Fatalf("subnet group record %+v", sub)
	}

	// What was created.
	rg := r.describeRG("wbo-redis")
	ng := rg.NodeGroups[0]
	if aws.ToString(rg.Engine) != "redis" || aws.ToString(rg.CacheNodeType) != "cache.t3.micro" || len(rg.MemberClusters) != 2 ||
		rg.AutomaticFailover != ect.AutomaticFailoverStatusEnabled || rg.MultiAZ != ect.MultiAZStatusEnabled ||
		!aws.ToBool(rg.AtRestEncryptionEnabled) || rg.TransitEncryptionMode != ect.TransitEncryptionModeRequired ||
		aws.ToInt32(rg.SnapshotRetentionLimit) != 1 || !aws.ToBool(rg.AutoMinorVersionUpgrade) {
		t.Fatalf("replication group %+v", rg)
	}
	if aws.ToString(ng.NodeGroupMembers[0].CurrentRole) != "primary" || aws.ToString(ng.NodeGroupMembers[0].PreferredAvailabilityZone) != "us-east-1a" ||
		aws.ToString(ng.NodeGroupMembers[1].PreferredAvailabilityZone) != "us-east-1b" {
		t.Fatalf("placement %+v", ng.NodeGroupMembers)
	}
	sgRec, _ := r.record("sg-redis")
	cl, err := r.clients().ElastiCache.DescribeCacheClusters(context.Background(), &elasticache.DescribeCacheClustersInput{CacheClusterId: aws.String(rg.MemberClusters[0])})
	if err != nil || aws.ToString(cl.CacheClusters[0].EngineVersion) != "7.1.0" || aws.ToString(cl.CacheClusters[0].CacheSubnetGroupName) != "wbo-redis" ||
		aws.ToString(cl.CacheClusters[0].SecurityGroups[0].SecurityGroupId) != sgRec.ID ||
		aws.ToString(cl.CacheClusters[0].CacheParameterGroup.CacheParameterGroupName) != "default.redis7" {
		t.Fatalf("node %+v %v", cl, err)
	}

	r.cloud.ResetCalls()
	mustUp(t, r, g)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}

	e, done := r.engine(g)
	statuses := e.Status(context.Background(), e.Env.store.All())
	done()
	for _, s := range statuses {
		if s.Status != StatusOK {
			t.Fatalf("status of %s: %s (%s)", s.Name, s.Status, s.Reason)
		}
		if s.Name == "redis" && (s.Info["endpoint"] != rec.Attrs["endpoint"]+":6379" || s.Info["status"] != "available" || s.Info["engine"] != "redis 7.1.0") {
			t.Fatalf("redis status info %v", s.Info)
		}
	}

	if err := r.destroy(g).Err(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if got := r.owned(); len(got) != 0 {
		t.Fatalf("left after destroy: %v", got)
	}
	if n := len(r.records()); n != 0 {
		t.Fatalf("state still has %d records", n)
	}
	for _, res := range r.cloud.Inventory() {
		t.Fatalf("left in the account: %+v", res)
	}
	r.cloud.ResetCalls()
	if err := r.destroy(g).Err(); err != nil {
		t.Fatalf("second destroy: %v", err)
	}
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second destroy made mutating calls: %v", m)
	}
}

// Crash at every ElastiCache mutating call, in both modes, while creating
// the stack's Redis and while converging it, then run up again: exactly one
// of each resource, state agrees with the account, and no call is repeated
// (a modification already made is waited for, not made again). The network
// tier is provisioned first (its own crash points are the network tests').
func TestRedisCrashAtEveryMutatingCall(t *testing.T) {
	type phase struct {
		name  string
		setup func(t *testing.T, r *rig) // before the crashing run
		check func(t *testing.T, r *rig)
	}
	phases := []phase{
		{"create", func(t *testing.T, r *rig) { mustUp(t, r, networkGraph(r.cfg)) }, func(t *testing.T, r *rig) {}},
		{"converge", func(t *testing.T, r *rig) {
			mustUp(t, r, redisGraph(r.cfg))
			r.cfg.Redis.Replicas, r.cfg.Redis.NodeType = 0, "cache.t3.small"
		}, func(t *testing.T, r *rig) {
			rg := r.describeRG("wbo-redis")
			if len(rg.MemberClusters) != 1 || aws.ToString(rg.CacheNodeType) != "cache.t3.small" || rg.AutomaticFailover != ect.AutomaticFailoverStatusDisabled {
				t.Fatalf("not converged: %v %s %s", rg.MemberClusters, aws.ToString(rg.CacheNodeType), rg.AutomaticFailover)
			}
		}},
	}
	for _, ph := range phases {
		probe := newFastRig(t, nil)
		ph.setup(t, probe)
		probe.cloud.ResetCalls()
		mustUp(t, probe, redisGraph(probe.cfg))
		calls := probe.cloud.MutatingCalls()
		want := probe.owned()
		if len(calls) < 2 {
			t.Fatalf("%s: only %v", ph.name, calls)
		}
		for _, mode := range []awssim.CrashMode{awssim.CrashBefore, awssim.CrashAfter} {
			for k := 1; k <= len(calls); k++ {
				t.Run(fmt.Sprintf("%s-mode%d-k%d-%s", ph.name, mode, k, calls[k-1]), func(t *testing.T) {
					t.Parallel()
					r := newFastRig(t, nil)
					ph.setup(t, r)
					r.cloud.ResetCalls()
					r.cloud.CrashAt(k, mode)
					if err := r.up(redisGraph(r.cfg)).Err(); err == nil {
						t.Fatal("up succeeded through a crash")
					}
					if !r.cloud.Crashed() {
						t.Fatal("the crash never happened")
					}
					r.cloud.Revive()
					mustUp(t, r, redisGraph(r.cfg))
					if got := strings.Join(r.cloud.MutatingCalls(), ","); got != strings.Join(calls, ",") {
						t.Fatalf("calls performed across both runs\n got %s\nwant %s", got, strings.Join(calls, ","))
					}
					if got := r.owned(); strings.Join(got, "|") != strings.Join(want, "|") {
						t.Fatalf("after re-run\n got %v\nwant %v", got, want)
					}
					stateMatchesAccount(t, r)
					ph.check(t, r)
					if rec, _ := r.record("redis"); rec.Attrs["endpoint"] == "" {
						t.Fatalf("redis endpoint not recorded: %+v", rec)
					}
					r.cloud.ResetCalls()
					mustUp(t, r, redisGraph(r.cfg))
					if m := r.cloud.MutatingCalls(); len(m) != 0 {
						t.Fatalf("third up made mutating calls: %v", m)
					}
					if err := r.destroy(redisGraph(r.cfg)).Err(); err != nil {
						t.Fatalf("destroy: %v", err)
					}
					if left := r.owned(); len(left) != 0 {
						t.Fatalf("left after destroy: %v", left)
					}
				})
			}
		}
	}
}

// An up interrupted while the group is being created leaves it "creating";
// destroy waits until it can be deleted, deletes it, then the subnet group.
func TestRedisDestroyWhileCreating(t *testing.T) {
	r := newRig(t, nil)
	g := redisGraph(r.cfg)
	mustUp(t, r, redisNetGraph(r.cfg))                   // only the replication group is in flight when the user interrupts
	release := r.cloud.HoldReplicationGroup("wbo-redis") // still creating whatever the machine's speed
	var once sync.Once
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &eventLog{}
	e, done := r.engineWith(g, func(ev Event) {
		log.sink(ev)
		if ev.Node == "redis" && ev.Phase == PhaseWait {
			cancel() // Ctrl-C while ElastiCache creates the group
		}
	})
	res := e.Up(ctx)
	done()
	if res.Err() == nil {
		t.Fatal("interrupted up succeeded")
	}
	if st := aws.ToString(r.describeRG("wbo-redis").Status); st != "creating" {
		t.Fatalf("group is %s, want creating", st)
	}
	rec, ok := r.record("redis")
	if !ok || rec.ID != "wbo-redis" || rec.Attrs["endpoint"] != "" {
		t.Fatalf("state after interruption: %+v (recorded %v)", rec, ok)
	}

	e, done = r.engine(g)
	for _, s := range e.Status(context.Background(), e.Env.store.All()) {
		if s.Name == "redis" && (s.Status != StatusCreating || s.Reason != "creating") {
			t.Fatalf("status of a creating group: %+v", s)
		}
	}
	done()

	r.cloud.ResetCalls()
	log = &eventLog{}
	e, done = r.engineWith(g, func(ev Event) {
		log.sink(ev)
		if ev.Node == "redis" && ev.Phase == PhaseWait && strings.HasPrefix(ev.Message, "waiting to delete: creating") {
			once.Do(release) // ElastiCache finishes creating while destroy waits
		}
	})
	res = e.Destroy(context.Background(), e.Env.store.All())
	done()
	if err := res.Err(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	var order []string
	for _, c := range r.cloud.Calls() {
		if c.Operation == "DeleteReplicationGroup" && !c.Performed {
			t.Fatalf("DeleteReplicationGroup attempted before the group could be deleted: %+v", c)
		}
		if c.Performed && (c.Operation == "DeleteReplicationGroup" || c.Operation == "DeleteCacheSubnetGroup") {
			order = append(order, c.Operation)
		}
	}
	if strings.Join(order, ",") != "DeleteReplicationGroup,DeleteCacheSubnetGroup" {
		t.Fatalf("deletions %v", order)
	}
	waited := false
	for _, ev := range log.of("redis", PhaseWait) {
		waited = waited || strings.HasPrefix(ev.Message, "waiting to delete: creating")
	}
	if !waited {
		t.Fatalf("no progress while waiting for creation to end: %+v", log.of("redis", PhaseWait))
	}
	if got := r.owned(); len(got) != 0 {
		t.Fatalf("left after destroy: %v", got)
	}
}

// A crash right after CreateReplicationGroup loses the group's ID; destroy
// without state finds it by its tags and still waits for it.
func TestRedisDiscoverDestroyWhileCreating(t *testing.T) {
	r := newRig(t, nil)
	mustUp(t, r, redisNetGraph(r.cfg))
	release := r.cloud.HoldReplicationGroup("wbo-redis")
	r.cloud.CrashAt(1, awssim.CrashAfter)
	if err := r.up(redisGraph(r.cfg)).Err(); err == nil {
		t.Fatal("up succeeded through a crash")
	}
	r.cloud.Revive()
	if _, ok := r.record("redis"); ok {
		t.Fatal("the lost response was recorded")
	}
	if st := aws.ToString(r.describeRG("wbo-redis").Status); st != "creating" {
		t.Fatalf("group is %s, want creating", st)
	}
	release()
	e, done := r.engine(redisGraph(r.cfg))
	defer done()
	// The ElastiCache kinds find their resources by the stack tag; the
	// network comes from state.
	found := e.Env.store.All()
	var names []string
	for _, kind := range []string{"elasticache.subnet-group", "elasticache.replication-group"} {
		k, _ := KindOf(kind)
		recs, err := k.(Discoverer).Discover(context.Background(), e.Env)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			names = append(names, rec.Name+"="+rec.ID)
			if rec.Name == "redis" {
				found = append(found, rec)
			}
		}
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "redis-subnets=wbo-redis,redis=wbo-redis" {
		t.Fatalf("discovered %v", names)
	}
	if err := e.Destroy(context.Background(), found).Err(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if got := r.owned(); len(got) != 0 {
		t.Fatalf("left after destroy: %v", got)
	}
}

// The subnet group is deleted only once no replication group uses it: while
// one is still being deleted AWS answers CacheSubnetGroupInUse and destroy
// retries.
func TestRedisSubnetGroupInUse(t *testing.T) {
	r := newRig(t, nil)
	g := redisGraph(r.cfg)
	mustUp(t, r, g)
	release := r.cloud.HoldReplicationGroup("wbo-redis") // stays "deleting" until released
	var once sync.Once
	if _, err := r.clients().ElastiCache.DeleteReplicationGroup(context.Background(),
		&elasticache.DeleteReplicationGroupInput{ReplicationGroupId: aws.String("wbo-redis")}); err != nil {
		t.Fatal(err)
	}
	sub, _ := r.record("redis-subnets")
	r.cloud.ResetCalls()
	e, done := r.engineWith(g, func(ev Event) {
		if ev.Node == "redis-subnets" && ev.Phase == PhaseWait && strings.Contains(ev.Message, "in use") {
			once.Do(release) // the replication group finishes deleting meanwhile
		}
	})
	res := e.Destroy(context.Background(), []state.Resource{sub})
	done()
	if err := res.Err(); err != nil {
		t.Fatalf("destroy subnet group: %v", err)
	}
	var attempts []string
	for _, c := range r.cloud.Calls() {
		if c.Operation == "DeleteCacheSubnetGroup" {
			attempts = append(attempts, c.Err)
		}
	}
	if len(attempts) < 2 || attempts[0] != "CacheSubnetGroupInUse" || attempts[len(attempts)-1] != "" {
		t.Fatalf("DeleteCacheSubnetGroup attempts: %q", attempts)
	}
	for _, o := range r.owned() {
		if strings.HasPrefix(o, "cache-subnet-group") || strings.HasPrefix(o, "replication-group") {
			t.Fatalf("left: %s", o)
		}
	}
}

func TestRedisConvergesInPlace(t *testing.T) {
	cases := []struct {
		name   string
		before func(*config.Config)
		change func(*config.Config)
		calls  string
		check  func(t *testing.T, rg ect.ReplicationGroup, r *rig)
	}{
		{"add a replica", nil, func(c *config.Config) { c.Redis.Replicas = 2 }, "ElastiCache.IncreaseReplicaCount",
			func(t *testing.T, rg ect.ReplicationGroup, r *rig) {
				if len(rg.MemberClusters) != 3 {
					t.Fatalf("members %v", rg.MemberClusters)
				}
				// The new node was awaited, not just the group.
				out, err := r.clients().ElastiCache.DescribeCacheClusters(context.Background(), &elasticache.DescribeCacheClustersInput{CacheClusterId: aws.String(rg.MemberClusters[2])})
				if err != nil || aws.ToString(out.CacheClusters[0].CacheClusterStatus) != "available" {
					t.Fatalf("new replica %+v %v", out, err)
				}
			}},
		{"remove the last replica", nil, func(c *config.Config) { c.Redis.Replicas = 0 },
			"ElastiCache.ModifyReplicationGroup,ElastiCache.DecreaseReplicaCount",
			func(t *testing.T, rg ect.ReplicationGroup, _ *rig) {
				if len(rg.MemberClusters) != 1 || rg.AutomaticFailover != ect.AutomaticFailoverStatusDisabled || rg.MultiAZ != ect.MultiAZStatusDisabled {
					t.Fatalf("group %+v", rg)
				}
			}},
		{"first replica", func(c *config.Config) { c.Redis.Replicas = 0 }, func(c *config.Config) { c.Redis.Replicas = 1 },
			"ElastiCache.IncreaseReplicaCount,ElastiCache.ModifyReplicationGroup",
			func(t *testing.T, rg ect.ReplicationGroup, _ *rig) {
				if len(rg.MemberClusters) != 2 || rg.AutomaticFailover != ect.AutomaticFailoverStatusEnabled || rg.MultiAZ != ect.MultiAZStatusEnabled {
					t.Fatalf("group %+v", rg)
				}
			}},
		{"node type", nil, func(c *config.Config) { c.Redis.NodeType = "cache.t4g.small" }, "ElastiCache.ModifyReplicationGroup",
			func(t *testing.T, rg ect.ReplicationGroup, _ *rig) {
				if aws.ToString(rg.CacheNodeType) != "cache.t4g.small" {
					t.Fatalf("node type %s", aws.ToString(rg.CacheNodeType))
				}
			}},
		{"snapshot retention", nil, func(c *config.Config) { c.Redis.SnapshotRetentionDays = 7 }, "ElastiCache.ModifyReplicationGroup",
			func(t *testing.T, rg ect.ReplicationGroup, _ *rig) {
				if aws.ToInt32(rg.SnapshotRetentionLimit) != 7 {
					t.Fatalf("retention %d", aws.ToInt32(rg.SnapshotRetentionLimit))
				}
			}},
		{"redis to valkey", nil, func(c *config.Config) { c.Redis.Engine = "valkey" }, "ElastiCache.ModifyReplicationGroup",
			func(t *testing.T, rg ect.ReplicationGroup, _ *rig) {
				if aws.ToString(rg.Engine) != "valkey" {
					t.Fatalf("engine %s", aws.ToString(rg.Engine))
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, nil)
			if tc.before != nil {
				tc.before(r.cfg)
			}
			mustUp(t, r, redisGraph(r.cfg))
			tc.change(r.cfg)
			g := redisGraph(r.cfg)

			e, done := r.engine(g)
			plan := e.Plan(context.Background(), false)
			done()
			for _, n := range plan.Nodes {
				want := ActNoop
				if n.Name == "redis" {
					want = ActUpdate
				}
				if n.Action != want || n.Err != nil {
					t.Fatalf("plan for %s: %s %v %v, want %s", n.Name, n.Action, n.Changes, n.Err, want)
				}
			}

			r.cloud.ResetCalls()
			mustUp(t, r, g)
			if got := strings.Join(r.cloud.MutatingCalls(), ","); got != tc.calls {
				t.Fatalf("mutating calls %s, want %s", got, tc.calls)
			}
			tc.check(t, r.describeRG("wbo-redis"), r)
			if rec, _ := r.record("redis"); rec.ID != "wbo-redis" || rec.Attrs["endpoint"] == "" {
				t.Fatalf("record %+v", rec)
			}
			r.cloud.ResetCalls()
			mustUp(t, r, g)
			if m := r.cloud.MutatingCalls(); len(m) != 0 {
				t.Fatalf("up after converging made mutating calls: %v", m)
			}
		})
	}
}

// A change AWS cannot make in place is a replacement: plan says so and up
// refuses without --allow-replace.
func TestRedisReplacements(t *testing.T) {
	cases := []struct {
		name   string
		create func(in *elasticache.CreateReplicationGroupInput)
		cfg    func(*config.Config)
		field  string
	}{
		{"at-rest encryption off", func(in *elasticache.CreateReplicationGroupInput) { in.AtRestEncryptionEnabled = aws.Bool(false) }, nil, "at_rest_encryption"},
		{"valkey back to redis", func(in *elasticache.CreateReplicationGroupInput) {
			in.Engine, in.EngineVersion, in.CacheParameterGroupName = aws.String("valkey"), aws.String("8.0"), aws.String("default.valkey8")
		}, nil, "engine"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, nil)
			mustUp(t, r, redisNetGraph(r.cfg))
			sub, _ := r.record("redis-subnets")
			sg, _ := r.record("sg-redis")
			in := &elasticache.CreateReplicationGroupInput{
				ReplicationGroupId: aws.String("wbo-redis"), ReplicationGroupDescription: aws.String("made elsewhere"),
				Engine: aws.String("redis"), EngineVersion: aws.String("7.1"), CacheNodeType: aws.String("cache.t3.micro"),
				NumCacheClusters: aws.Int32(2), AutomaticFailoverEnabled: aws.Bool(true), MultiAZEnabled: aws.Bool(true),
				AtRestEncryptionEnabled: aws.Bool(true), TransitEncryptionEnabled: aws.Bool(true), SnapshotRetentionLimit: aws.Int32(1),
				CacheSubnetGroupName: aws.String(sub.ID), SecurityGroupIds: []string{sg.ID},
				Tags: []ect.Tag{{Key: aws.String(TagStack), Value: aws.String("wbo")}, {Key: aws.String(TagResource), Value: aws.String("redis")}},
			}
			tc.create(in)
			if _, err := r.clients().ElastiCache.CreateReplicationGroup(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			g := redisGraph(r.cfg)
			e, done := r.engine(g)
			plan := e.Plan(context.Background(), false)
			done()
			found := false
			for _, n := range plan.Nodes {
				if n.Name != "redis" {
					continue
				}
				found = true
				if n.Action != ActReplace {
					t.Fatalf("plan: %s %v", n.Action, n.Changes)
				}
				var fields []string
				for _, c := range n.Changes {
					if c.Replace {
						fields = append(fields, c.Field)
					}
				}
				if strings.Join(fields, ",") != tc.field {
					t.Fatalf("replacements %v, want %s", fields, tc.field)
				}
			}
			if !found {
				t.Fatal("no plan for redis")
			}
			r.cloud.ResetCalls()
			res := r.up(g)
			var re *ReplaceError
			if !errors.As(res.Err(), &re) && !strings.Contains(fmt.Sprint(res.Err()), "--allow-replace") {
				t.Fatalf("up did not refuse: %v", res.Err())
			}
			for _, n := range res.Nodes {
				if n.Name == "redis" && !errors.As(n.Err, &re) {
					t.Fatalf("redis: %v", n.Err)
				}
			}
			if m := r.ecMutating(); len(m) != 0 {
				t.Fatalf("up changed ElastiCache: %v", m)
			}
		})
	}
}

// A group with the stack's deterministic name that is not tagged for the
// stack is not adopted.
func TestRedisForeignGroupNotAdopted(t *testing.T) {
	r := newRig(t, nil)
	mustUp(t, r, redisNetGraph(r.cfg))
	sub, _ := r.record("redis-subnets")
	if _, err := r.clients().ElastiCache.CreateReplicationGroup(context.Background(), &elasticache.CreateReplicationGroupInput{
		ReplicationGroupId: aws.String("wbo-redis"), ReplicationGroupDescription: aws.String("someone's"),
		CacheNodeType: aws.String("cache.t3.micro"), CacheSubnetGroupName: aws.String(sub.ID),
		Tags: []ect.Tag{{Key: aws.String(TagStack), Value: aws.String("other")}},
	}); err != nil {
		t.Fatal(err)
	}
	res := r.up(redisGraph(r.cfg))
	var fe *ForeignResourceError
	for _, n := range res.Nodes {
		if n.Name == "redis" && !errors.As(n.Err, &fe) {
			t.Fatalf("redis: %v", n.Err)
		}
	}
	if fe == nil || fe.Owner != "other" || !strings.Contains(fe.Error(), "choose another stack name") {
		t.Fatalf("error %v", fe)
	}
}

func TestRedisProgressReportsElapsedTime(t *testing.T) {
	r := newRig(t, nil)
	log := &eventLog{}
	e, done := r.engineWith(redisGraph(r.cfg), log.sink)
	res := e.Up(context.Background())
	done()
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	waits := log.of("redis", PhaseWait)
	if len(waits) < 2 {
		t.Fatalf("only %d progress events while creating", len(waits))
	}
	var prev float64
	for i, ev := range waits {
		if !strings.HasPrefix(ev.Message, "creating") || !strings.Contains(ev.Message, "elapsed)") {
			t.Fatalf("progress message %q", ev.Message)
		}
		if ev.Elapsed.Seconds() < prev {
			t.Fatalf("elapsed went back: %v", waits)
		}
		prev = ev.Elapsed.Seconds()
		if i > 0 && ev.Elapsed <= 0 {
			t.Fatalf("event %d has no elapsed time: %+v", i, ev)
		}
	}
	if waits[len(waits)-1].Elapsed <= waits[0].Elapsed {
		t.Fatalf("elapsed time does not advance: %+v", waits)
	}
}

func TestRedisModeNone(t *testing.T) {
	cfg := config.Default()
	cfg.Redis.Mode = "none"
	for _, n := range Build(&cfg).Nodes() {
		if strings.HasPrefix(n.Kind, "elasticache.") {
			t.Fatalf("redis.mode none still has %s (%s)", n.Name, n.Kind)
		}
	}
	note := RedisNote(&cfg)
	if !strings.Contains(note, "nothing is provisioned") || !strings.Contains(note, "does not use Redis") {
		t.Fatalf("note %q", note)
	}

	def := config.Default()
	if n := Build(&def); func() bool { _, ok := n.Node("redis"); _, ok2 := n.Node("redis-subnets"); return !ok || !ok2 }() {
		t.Fatal("default config has no redis nodes")
	}
	note = RedisNote(&def)
	if !strings.Contains(note, "does not use Redis") || !strings.Contains(note, "redis.mode: none") || !strings.Contains(note, "2 × cache.t3.micro") {
		t.Fatalf("stock image note %q", note)
	}
	if !strings.Contains(note, "not passed to the app") {
		t.Fatalf("default note %q does not say REDIS_URL is not passed", note)
	}
	// Without redis.pass_url nothing waits for the group: the task
	// definitions (and so the services, the whiteboard) do not depend on it.
	g := Build(&def)
	for _, n := range g.Nodes() {
		if n.Kind == "ecs.task-definition" && slices.Contains(n.Deps, "redis") {
			t.Fatalf("%s waits for redis without redis.pass_url", n.Name)
		}
	}
	def.Redis.PassURL = true
	if td, _ := Build(&def).Node("taskdef-shard-0"); !slices.Contains(td.Deps, "redis") {
		t.Fatal("with redis.pass_url the task definition does not wait for the endpoint it embeds")
	}
	if note = RedisNote(&def); !strings.Contains(note, "passed to the app as REDIS_URL") {
		t.Fatalf("pass_url note %q", note)
	}
	def.App.Image = "example/wbo-redis:1"
	if note = RedisNote(&def); strings.Contains(note, "billed without being used") || !strings.Contains(note, "example/wbo-redis:1") {
		t.Fatalf("custom image note %q", note)
	}
	k, _ := KindOf("elasticache.replication-group")
	if p := k.(Planner).PlanNote(&Env{Cfg: &def}, &Node{Name: "redis"}); !strings.Contains(p, "5–15 minutes") {
		t.Fatalf("plan note %q", p)
	}

	// Up with redis.mode none touches no ElastiCache API.
	r := newRig(t, &cfg)
	mustUp(t, r, redisGraph(r.cfg))
	for _, c := range r.cloud.Calls() {
		if c.Service == "ElastiCache" {
			t.Fatalf("ElastiCache called: %+v", c)
		}
	}
}
