package provision

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/shard"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// reshardKind is the re-shard gate, node "reshard" (sharded and single
// mode). Every shard service depends on it, and so do the routing rules.
//
// Changing app.shards moves board ownership, and two tasks must never serve
// or store one board: a board whose old owner still runs would be restored
// by its new owner before the old one's final backup, and edits would be
// lost. The gate observes, for every live shard service of the cluster
// (desired count above zero, or tasks not yet STOPPED), the board keys its
// task definitions give the sidecars (WBO_SHARD_KEYS). When a live service
// owns keys other than the configuration gives it (a different shard count,
// or a shard that is no longer configured), the gate scales every such
// service to 0 and waits until their tasks have STOPPED, so their final
// backups are in S3. Only then do the rules and the services move on: each
// service converges to one task of its new task definition (new keys), and
// the engine deletes the services and target groups of removed shards once
// the graph has succeeded.
//
// A shard whose keys do not change keeps running (with a change of shard
// count, Partition gives every shard a new key set, so all stop). Diff
// reports a change with Field "re-shard" (Disruptive), which up asks to
// confirm (see ReshardPending); the decision rests on what runs in AWS, not
// on state, so an interrupted re-shard is finished by the next up.
type reshardKind struct{}

func init() { Register(reshardKind{}) }

func (reshardKind) Type() string { return "ecs.reshard" }

// ReshardNode is the gate's node name.
const ReshardNode = "reshard"

// reshardStopTimeout bounds the wait for stopped tasks (AWS time): target
// deregistration, WBO's 30 s flush, the backup's final sync (at most 120 s)
// and deprovisioning.
const reshardStopTimeout = 20 * time.Minute

// shardService is a live WBO service of the stack, as the gate sees it.
type shardService struct {
	name    string
	desired int32
	alive   int    // tasks not yet STOPPED
	keys    []byte // keys its live deployments own (union); all keys for "every board"
	known   bool   // keys could be read
	want    []byte // keys the configuration gives it; nil when it is not configured
}

func (s shardService) live() bool { return s.desired > 0 || s.alive > 0 }

// moves reports whether the service owns boards the configuration gives to
// another shard (or to none of its own).
func (s shardService) moves() bool {
	return !s.known || s.want == nil || !slices.Equal(s.keys, s.want)
}

type reshardObs struct {
	cluster  string
	services []shardService
}

// moving lists the live services that must stop before ownership moves.
func (o *reshardObs) moving() []shardService {
	var out []shardService
	for _, s := range o.services {
		if s.live() && s.moves() {
			out = append(out, s)
		}
	}
	return out
}

// wantedKeys maps each configured shard service to the keys it owns.
func wantedKeys(cfg *config.Config) map[string][]byte {
	out := map[string][]byte{}
	names := cfg.ServiceNames()
	if cfg.App.Mode == config.ModeShared {
		return out
	}
	parts := shard.Partition(len(names))
	for i, name := range names {
		if i < len(parts) {
			out[name] = parts[i]
		}
	}
	return out
}

// isBoardService reports whether an ECS service name is one of the stack's
// WBO services (any shard, or the shared-mode service).
func isBoardService(cfg *config.Config, name string) bool {
	if name == cfg.SharedName() {
		return true
	}
	rest, ok := strings.CutPrefix(name, cfg.Stack+"-shard-")
	if !ok {
		return false
	}
	_, err := strconv.Atoi(rest)
	return err == nil
}

func (k reshardKind) clusterName(env *Env) string {
	if id, err := env.RefID("cluster"); err == nil && id != "" {
		return id
	}
	return env.Cfg.Names().Cluster
}

// observe lists the stack's WBO services and what they own (read-only calls).
func (k reshardKind) observe(ctx context.Context, env *Env) (*reshardObs, error) {
	o := &reshardObs{cluster: k.clusterName(env)}
	var arns []string
	p := ecs.NewListServicesPaginator(env.AWS.ECS, &ecs.ListServicesInput{Cluster: aws.String(o.cluster)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if awserr.IsNotFound(err) {
			return o, nil // no cluster yet: nothing runs
		}
		if err != nil {
			return nil, fmt.Errorf("list ecs services of %s: %w", o.cluster, err)
		}
		arns = append(arns, page.ServiceArns...)
	}
	want := wantedKeys(env.Cfg)
	keysOf := map[string][]byte{} // task definition ARN -> keys (nil: unreadable)
	for len(arns) > 0 {
		batch := arns[:min(10, len(arns))]
		arns = arns[len(batch):]
		out, err := env.AWS.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(o.cluster), Services: batch,
			Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
		if err != nil {
			return nil, fmt.Errorf("describe ecs services of %s: %w", o.cluster, err)
		}
		for _, s := range out.Services {
			name := aws.ToString(s.ServiceName)
			if aws.ToString(s.Status) != "ACTIVE" || ecsTagMap(s.Tags)[TagStack] != env.Stack() || !isBoardService(env.Cfg, name) {
				continue
			}
			ss := shardService{name: name, desired: s.DesiredCount, alive: int(s.RunningCount + s.PendingCount), known: true}
			if w, ok := want[name]; ok {
				ss.want = w
			}
			// The keys of every deployment that may still have tasks.
			tds := []string{aws.ToString(s.TaskDefinition)}
			for _, d := range s.Deployments {
				if d.RunningCount+d.PendingCount > 0 || aws.ToString(d.Status) == "PRIMARY" {
					tds = append(tds, aws.ToString(d.TaskDefinition))
				}
			}
			var union []byte
			for _, td := range sortedUnique(tds) {
				if td == "" {
					continue
				}
				keys, ok := keysOf[td]
				if !ok {
					keys, err = k.taskDefKeys(ctx, env, td)
					if err != nil {
						return nil, err
					}
					keysOf[td] = keys
				}
				if keys == nil {
					ss.known = false
				}
				union = append(union, keys...)
			}
			ss.keys = uniqueKeys(union)
			if ss.desired == 0 && ss.alive == 0 {
				if ss.alive, err = k.unstoppedTasks(ctx, env, o.cluster, name); err != nil {
					return nil, err
				}
			}
			o.services = append(o.services, ss)
		}
	}
	sort.Slice(o.services, func(i, j int) bool { return o.services[i].name < o.services[j].name })
	return o, nil
}

func uniqueKeys(in []byte) []byte {
	seen := [256]bool{}
	var out []byte
	for _, k := range in {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// taskDefKeys returns the keys a task definition's sidecars own: their
// WBO_SHARD_KEYS, every key when it is absent or empty; nil when the value
// cannot be parsed (the gate then treats the service as moving).
func (k reshardKind) taskDefKeys(ctx context.Context, env *Env, arn string) ([]byte, error) {
	out, err := env.AWS.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)})
	if err != nil {
		if awserr.HasCode(err, "ClientException") { // deleted revision
			return nil, nil
		}
		return nil, fmt.Errorf("describe task definition %s: %w", revisionName(arn), err)
	}
	value := ""
	for _, c := range out.TaskDefinition.ContainerDefinitions {
		for _, kv := range c.Environment {
			if aws.ToString(kv.Name) == "WBO_SHARD_KEYS" {
				value = aws.ToString(kv.Value)
			}
		}
	}
	keys, err := shard.ParseKeys(value)
	if err != nil {
		return nil, nil
	}
	if keys == nil {
		return shard.AllKeys(), nil
	}
	return keys, nil
}

// unstoppedTasks counts a service's tasks that have not reached STOPPED
// (still running, or stopping: their final backup may still be running).
func (k reshardKind) unstoppedTasks(ctx context.Context, env *Env, cluster, service string) (int, error) {
	n := 0
	for _, st := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
		var arns []string
		p := ecs.NewListTasksPaginator(env.AWS.ECS, &ecs.ListTasksInput{Cluster: aws.String(cluster), ServiceName: aws.String(service), DesiredStatus: st})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if awserr.IsNotFound(err) {
				return 0, nil
			}
			if err != nil {
				return 0, fmt.Errorf("list tasks of ecs service %s: %w", service, err)
			}
			arns = append(arns, page.TaskArns...)
		}
		if st == ecstypes.DesiredStatusRunning {
			n += len(arns)
			continue
		}
		for len(arns) > 0 {
			batch := arns[:min(100, len(arns))]
			arns = arns[len(batch):]
			out, err := env.AWS.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: batch})
			if err != nil {
				return 0, fmt.Errorf("describe tasks of ecs service %s: %w", service, err)
			}
			for _, t := range out.Tasks {
				if aws.ToString(t.LastStatus) != "STOPPED" {
					n++
				}
			}
		}
	}
	return n, nil
}

func (k reshardKind) observed(env *Env, n *Node, o *reshardObs, rec *state.Resource) *Observed {
	obs := &Observed{Rec: NewRecord(n, "reshard/"+o.cluster), State: "active", Raw: o}
	if rec != nil {
		for key, v := range rec.Attrs {
			obs.Rec.Attrs[key] = v
		}
	}
	running := 0
	for _, s := range o.services {
		if s.live() {
			running++
		}
	}
	obs.Info = map[string]string{"shards": fmt.Sprintf("%d configured, %d running", len(wantedKeys(env.Cfg)), running)}
	if m := o.moving(); len(m) > 0 {
		obs.Health = &Health{Reason: fmt.Sprintf("re-shard pending: %s run%s with other board ranges than configured", serviceList(m), plural(len(m) == 1, "s", ""))}
	} else {
		obs.Health = &Health{OK: true}
	}
	return obs
}

func plural(one bool, singular, many string) string {
	if one {
		return singular
	}
	return many
}

func serviceList(ss []shardService) string {
	var names []string
	for _, s := range ss {
		names = append(names, s.name)
	}
	return strings.Join(names, ", ")
}

func (k reshardKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	o, err := k.observe(ctx, env)
	if err != nil {
		return nil, err
	}
	if rec == nil && len(o.services) == 0 {
		return nil, nil // a new stack: Create records the gate
	}
	return k.observed(env, n, o, rec), nil
}

func (k reshardKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	o, err := k.observe(ctx, env)
	if err != nil {
		return nil, err
	}
	obs := k.observed(env, n, o, nil)
	if err := env.Record(obs.Rec); err != nil {
		return nil, err
	}
	if err := k.stop(ctx, env, n, obs); err != nil {
		return nil, err
	}
	return obs, nil
}

func (k reshardKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	o := obs.Raw.(*reshardObs)
	m := o.moving()
	if len(m) == 0 {
		return nil
	}
	live := 0
	for _, s := range o.services {
		if s.live() {
			live++
		}
	}
	lo, hi := ReshardDowntime(env.Cfg)
	return []Change{{
		Field:      "re-shard",
		Old:        fmt.Sprintf("%d shard%s running", live, plural(live == 1, "", "s")),
		New:        fmt.Sprintf("%d shard%s: stop %s (final backups), then restart with the new board ranges; %s to %s without service", len(wantedKeys(env.Cfg)), plural(len(wantedKeys(env.Cfg)) == 1, "", "s"), serviceList(m), minutes(lo), minutes(hi)),
		Disruptive: true,
	}}
}

func minutes(d time.Duration) string {
	return fmt.Sprintf("about %d min", int((d+30*time.Second)/time.Minute))
}

func (k reshardKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, _ []Change) error {
	return k.stop(ctx, env, n, obs)
}

// stop scales the moving services to 0 and waits until their tasks have
// stopped, then records the shard count the gate has let through.
func (k reshardKind) stop(ctx context.Context, env *Env, n *Node, obs *Observed) error {
	o := obs.Raw.(*reshardObs)
	moving := o.moving()
	for _, s := range moving {
		if s.desired == 0 {
			continue
		}
		env.Progress(n.Name, "re-shard: scaling "+s.name+" to 0", 0)
		_, err := env.AWS.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(o.cluster), Service: aws.String(s.name), DesiredCount: aws.Int32(0)})
		if err != nil && !awserr.IsNotFound(err) && !awserr.HasCode(err, "ServiceNotActiveException") {
			return fmt.Errorf("re-shard: scale ecs service %s to 0: %w", s.name, err)
		}
	}
	if len(moving) > 0 {
		err := env.Clock.Poll(ctx, reshardStopTimeout, 5*time.Second, 15*time.Second,
			func(status string, elapsed time.Duration) { env.Progress(n.Name, status, elapsed) },
			func(ctx context.Context) (bool, string, error) {
				left := 0
				for _, s := range moving {
					c, err := k.unstoppedTasks(ctx, env, o.cluster, s.name)
					if err != nil {
						return false, "", err
					}
					left += c
				}
				return left == 0, fmt.Sprintf("re-shard: waiting for %d task%s to stop (final backups)", left, plural(left == 1, "", "s")), nil
			})
		if err != nil {
			return fmt.Errorf("re-shard: %w", err)
		}
	}
	fresh, err := k.observe(ctx, env)
	if err != nil {
		return err
	}
	if left := fresh.moving(); len(left) > 0 {
		return fmt.Errorf("re-shard: %s still run%s after being scaled to 0 (did something scale %s up?)",
			serviceList(left), plural(len(left) == 1, "s", ""), plural(len(left) == 1, "it", "them"))
	}
	rec := obs.Rec
	*obs = *k.observed(env, n, fresh, &rec)
	obs.Rec.Attrs["shards"] = strconv.Itoa(len(wantedKeys(env.Cfg)))
	return nil
}

// Delete has nothing to delete: the gate is no AWS resource.
func (reshardKind) Delete(context.Context, *Env, state.Resource) error { return nil }

func (reshardKind) PlanNote(env *Env, n *Node) string {
	lo, hi := ReshardDowntime(env.Cfg)
	return fmt.Sprintf("re-shard gate for %d shard%s: when board ownership changes (app.shards), every shard whose boards move is stopped and its final backup awaited before the rules and task definitions change; %s to %s without service",
		len(wantedKeys(env.Cfg)), plural(len(wantedKeys(env.Cfg)) == 1, "", "s"), minutes(lo), minutes(hi))
}

// ReshardDowntime estimates how long boards are unavailable during a
// re-shard, from the stop of the first shard to the new shards serving:
// target deregistration (load_balancer.deregistration_delay), WBO's flush
// (up to 30 s), the backup's final sync (seconds, up to 120 s), Fargate
// deprovisioning (~30 s); then a new task's start (image pulls and the
// restore from S3, ~45-90 s) and its first passing health checks (~30 s, up
// to the grace period).
func ReshardDowntime(cfg *config.Config) (lo, hi time.Duration) {
	dereg := time.Duration(cfg.LoadBalancer.DeregistrationDelay) * time.Second
	grace := time.Duration(cfg.App.HealthCheckGracePeriod) * time.Second
	lo = dereg + 10*time.Second + 5*time.Second + 30*time.Second + 45*time.Second + 30*time.Second
	hi = dereg + wboStopTimeout*time.Second + backupStopTimeout*time.Second + 60*time.Second + 90*time.Second + max(grace, 60*time.Second)
	return lo, hi
}

// ReshardPending reports whether a plan (or up's dry run) includes a
// re-shard, which stops every shard whose boards move: up must ask for
// confirmation (or --yes) before running it.
func ReshardPending(plan *Result) bool {
	if plan == nil {
		return false
	}
	for _, r := range plan.Nodes {
		if r.Kind != "ecs.reshard" {
			continue
		}
		for _, c := range r.Changes {
			if c.Field == "re-shard" {
				return true
			}
		}
	}
	return false
}

// gateShardServices makes every shard service of g wait for the re-shard
// gate (graph.go calls it once the compute tier has declared them).
func gateShardServices(g *Graph) {
	if _, ok := g.Node(ReshardNode); !ok {
		return
	}
	for _, n := range g.nodes {
		if n.Kind == "ecs.service" && strings.HasPrefix(n.Name, "service-shard-") && !slices.Contains(n.Deps, ReshardNode) {
			n.Deps = append(n.Deps, ReshardNode)
		}
	}
}
