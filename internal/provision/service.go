package provision

import (
	"context"
	"fmt"
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

// serviceKind provisions one Fargate service: "service-shard-<i>" (one task
// owning shard i's boards) or "service-app" (shared mode, autoscaled). It
// runs the revision its task definition node chose, in the public subnets
// with public IPs and the tasks' security group, registered with its target
// group, with the deployment circuit breaker and rollback. Create and Update
// wait for the deployment (unless --no-wait) and fail with the stopped
// tasks' reasons when it is rolled back; after a deployment completes the
// family's older ACTIVE revisions are deregistered.
type serviceKind struct{}

func init() { Register(serviceKind{}) }

func (serviceKind) Type() string { return "ecs.service" }

// Waits, in AWS time.
const (
	deploymentTimeout = 30 * time.Minute
	drainTimeout      = 20 * time.Minute
)

func (k serviceKind) describe(ctx context.Context, env *Env, cluster, name string) (*ecstypes.Service, error) {
	out, err := env.AWS.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{
		Cluster: aws.String(cluster), Services: []string{name}, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags},
	})
	if err != nil {
		if awserr.IsNotFound(err) { // the cluster is gone
			return nil, nil
		}
		return nil, fmt.Errorf("describe ecs service %s: %w", name, err)
	}
	// A missing service is reported in Failures (reason MISSING), not as an
	// error (DescribeServices API reference).
	if len(out.Services) == 0 {
		return nil, nil
	}
	return &out.Services[0], nil
}

func (k serviceKind) observe(ctx context.Context, env *Env, n *Node, s *ecstypes.Service) (*Observed, error) {
	o := observeService(s)
	obs := &Observed{Rec: NewRecord(n, o.arn), State: o.status, Raw: o}
	obs.Rec.ARN = o.arn
	obs.Rec.Attrs["name"] = o.name
	obs.Rec.Attrs["cluster"] = o.cluster
	obs.Info = map[string]string{
		"tasks":           fmt.Sprintf("%d/%d running", o.running, o.desired),
		"task definition": revisionName(o.taskDef),
	}
	if r := o.rollout(); r != "" {
		obs.Info["deployment"] = r
	}
	if n.Role != "app" && env.Cfg.App.Mode != config.ModeShared {
		if keys, err := shardKeysFor(env.Cfg, n); err == nil {
			if keys == nil {
				obs.Info["boards"] = "all"
			} else {
				obs.Info["boards"] = shard.Describe(keys)
			}
		}
	}
	switch {
	case o.primary != nil && o.primary.RolloutState == ecstypes.DeploymentRolloutStateFailed:
		obs.Health = &Health{Reason: "last deployment failed: " + aws.ToString(o.primary.RolloutStateReason)}
	case o.running < o.desired:
		obs.Health = &Health{Reason: fmt.Sprintf("%d/%d tasks running", o.running, o.desired)}
	default:
		obs.Health = &Health{OK: true}
	}
	obs.Pending = o.primary != nil && o.primary.RolloutState == ecstypes.DeploymentRolloutStateInProgress
	if obs.Pending {
		obs.State = "deploying"
	}
	// Revisions left ACTIVE by an interrupted run (or a rolled-back
	// deployment), once the service is steady on the wanted one.
	if want, err := env.RefID(taskDefNodeOf(n)); err == nil && o.taskDef == want && o.deployments == 1 &&
		o.rollout() == string(ecstypes.DeploymentRolloutStateCompleted) {
		if fam, _, ok := parseTaskDefARN(want); ok {
			revs, err := activeRevisions(ctx, env, fam)
			if err != nil {
				return nil, err
			}
			for _, r := range revs {
				if r != want {
					o.stale = append(o.stale, r)
				}
			}
		}
	}
	return obs, nil
}

func (k serviceKind) names(env *Env, n *Node, rec *state.Resource) (cluster, name string) {
	cluster, name = env.Cfg.Names().Cluster, familyOf(env.Cfg, n)
	if id, err := env.RefID("cluster"); err == nil && id != "" {
		cluster = id
	}
	if rec != nil {
		if rec.Attrs["cluster"] != "" {
			cluster = rec.Attrs["cluster"]
		}
		if rec.Attrs["name"] != "" {
			name = rec.Attrs["name"]
		}
	}
	return cluster, name
}

// Find returns the ACTIVE service. A DRAINING or INACTIVE one is gone (its
// name is taken until it is INACTIVE; Create waits for that).
func (k serviceKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	cluster, name := k.names(env, n, rec)
	s, err := k.describe(ctx, env, cluster, name)
	if err != nil || s == nil || aws.ToString(s.Status) != "ACTIVE" {
		return nil, err
	}
	return k.observe(ctx, env, n, s)
}

func (k serviceKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	sp, err := desiredService(env, n)
	if err != nil {
		return nil, fmt.Errorf("ecs service %s: %w", familyOf(env.Cfg, n), err)
	}
	if err := k.waitNotDraining(ctx, env, n, sp.cluster, sp.name); err != nil {
		return nil, err
	}
	in := &ecs.CreateServiceInput{
		ServiceName: aws.String(sp.name), Cluster: aws.String(sp.cluster), TaskDefinition: aws.String(sp.taskDef),
		DesiredCount: aws.Int32(sp.desired), LaunchType: ecstypes.LaunchTypeFargate, PlatformVersion: aws.String("LATEST"),
		NetworkConfiguration: sp.network(), LoadBalancers: sp.loadBalancers(),
		HealthCheckGracePeriodSeconds: aws.Int32(sp.grace), DeploymentConfiguration: sp.deployment(),
		SchedulingStrategy: ecstypes.SchedulingStrategyReplica,
		PropagateTags:      ecstypes.PropagateTagsService, EnableECSManagedTags: true,
		Tags: ecsTags(env, n.Name), ClientToken: aws.String(sp.clientToken(env.Stack())),
	}
	var out *ecs.CreateServiceOutput
	err = RetryIAMPropagation(ctx, env, n.Name, func(ctx context.Context) error {
		var err error
		out, err = env.AWS.ECS.CreateService(ctx, in)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create ecs service %s: %w", sp.name, err)
	}
	o := observeService(out.Service)
	rec := NewRecord(n, o.arn)
	rec.ARN = o.arn
	rec.Attrs["name"], rec.Attrs["cluster"] = sp.name, sp.cluster
	if err := env.Record(rec); err != nil {
		return nil, err
	}
	if !env.NoWait && o.primary != nil {
		if err := k.waitDeployment(ctx, env, n, sp, aws.ToString(o.primary.Id)); err != nil {
			return nil, err
		}
	}
	obs, err := k.Find(ctx, env, n, &rec)
	if err != nil {
		return nil, err
	}
	if obs == nil {
		obs, err = AwaitVisible(ctx, env, n.Name, fmt.Sprintf("new ecs service %s is not visible to DescribeServices yet", sp.name),
			func(ctx context.Context) (*Observed, error) { return k.Find(ctx, env, n, &rec) })
		if err != nil {
			return nil, err
		}
	}
	if obs == nil {
		return nil, fmt.Errorf("create ecs service %s: not found after creation", sp.name)
	}
	return obs, nil
}

// waitNotDraining waits until no DRAINING service holds the name: creating
// one then fails with InvalidParameterException "Creation of service was not
// idempotent." (aws-behaviour.md; hashicorp/terraform-provider-aws#2283).
func (k serviceKind) waitNotDraining(ctx context.Context, env *Env, n *Node, cluster, name string) error {
	return env.Clock.Poll(ctx, drainTimeout, 5*time.Second, 15*time.Second,
		func(status string, elapsed time.Duration) { env.Progress(n.Name, status, elapsed) },
		func(ctx context.Context) (bool, string, error) {
			s, err := k.describe(ctx, env, cluster, name)
			if err != nil {
				return false, "", err
			}
			if s == nil || aws.ToString(s.Status) != "DRAINING" {
				return true, "", nil
			}
			return false, "waiting for the deleted service " + name + " to finish draining", nil
		})
}

func (k serviceKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	sp, err := desiredService(env, n)
	if err != nil {
		return []Change{{Field: "configuration", Old: "", New: err.Error()}}
	}
	return serviceChanges(env, n, sp, obs.Raw.(*serviceObs))
}

// Update applies the changes with one UpdateService call (plus tag calls),
// waits for the deployment it starts, then deregisters the revisions the
// service no longer uses.
func (k serviceKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	sp, err := desiredService(env, n)
	if err != nil {
		return err
	}
	o := obs.Raw.(*serviceObs)
	in := &ecs.UpdateServiceInput{Cluster: aws.String(sp.cluster), Service: aws.String(o.name)}
	call, wait, scaled := false, false, false
	for _, c := range changes {
		switch c.Field {
		case "task_definition":
			in.TaskDefinition, call, wait = aws.String(sp.taskDef), true, true
		case "desired_count":
			want := sp.desired
			if sp.scaled {
				want = min(max(o.desired, sp.minCap), sp.maxCap)
			}
			in.DesiredCount, call, scaled = aws.Int32(want), true, want > o.running
		case "subnets", "security_groups", "assign_public_ip":
			in.NetworkConfiguration, call, wait = sp.network(), true, true
		case "load_balancer":
			in.LoadBalancers, call, wait = sp.loadBalancers(), true, true
		case "health_check_grace_period":
			in.HealthCheckGracePeriodSeconds, call = aws.Int32(sp.grace), true
		case "deployment_minimum_healthy_percent", "deployment_maximum_percent", "circuit_breaker":
			in.DeploymentConfiguration, call = sp.deployment(), true
		case "platform_version":
			in.PlatformVersion, call, wait = aws.String("LATEST"), true, true
		case "propagate_tags":
			in.PropagateTags, call = ecstypes.PropagateTagsService, true
		case "ecs_managed_tags":
			in.EnableECSManagedTags, call = aws.Bool(true), true
		case "rollout":
			if c.Old == "FAILED" {
				in.ForceNewDeployment, call = true, true
			}
			wait = true
		case "tags":
			if err := syncECSTags(ctx, env, o.arn, o.tags, env.Tags(n.Name)); err != nil {
				return err
			}
		}
	}
	deployment := ""
	if o.primary != nil {
		deployment = aws.ToString(o.primary.Id)
	}
	if call {
		var out *ecs.UpdateServiceOutput
		err := RetryIAMPropagation(ctx, env, n.Name, func(ctx context.Context) error {
			var err error
			out, err = env.AWS.ECS.UpdateService(ctx, in)
			return err
		})
		if err != nil {
			return fmt.Errorf("update ecs service %s: %w", o.name, err)
		}
		if p := observeService(out.Service).primary; p != nil {
			deployment = aws.ToString(p.Id)
		}
	}
	if wait {
		if env.NoWait {
			return nil
		}
		if err := k.waitDeployment(ctx, env, n, sp, deployment); err != nil {
			return err
		}
	} else if scaled && !env.NoWait {
		// A desired count change starts no deployment (after a re-shard
		// stopped the shard, for example): wait for the tasks themselves.
		if err := k.waitRunning(ctx, env, n, sp, aws.ToInt32(in.DesiredCount)); err != nil {
			return err
		}
	}
	if !wait && !hasChange(changes, "old_task_definition_revisions") {
		return nil
	}
	// Steady on the wanted revision: the others are no longer needed.
	fresh, err := k.Find(ctx, env, n, &obs.Rec)
	if err != nil || fresh == nil {
		return err
	}
	for _, arn := range fresh.Raw.(*serviceObs).stale {
		if _, err := env.AWS.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)}); err != nil && !awserr.HasCode(err, "ClientException") {
			return fmt.Errorf("deregister task definition %s: %w", revisionName(arn), err)
		}
	}
	fresh.Raw.(*serviceObs).stale = nil
	*obs = *fresh
	return nil
}

func hasChange(cs []Change, field string) bool {
	for _, c := range cs {
		if c.Field == field {
			return true
		}
	}
	return false
}

// Delete scales the service to zero, deletes it (force) and waits until it
// is INACTIVE, so its tasks have stopped; their ENIs then linger for minutes
// and the engine retries the subnet and security group deletions.
func (k serviceKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	cluster, name := rec.Attrs["cluster"], rec.Attrs["name"]
	if cluster == "" || name == "" {
		// arn:aws:ecs:<region>:<account>:service/<cluster>/<name>
		parts := strings.Split(rec.ID, "/")
		if len(parts) < 3 {
			return fmt.Errorf("delete ecs service %s: cannot tell its cluster and name", rec.ID)
		}
		cluster, name = parts[len(parts)-2], parts[len(parts)-1]
	}
	s, err := k.describe(ctx, env, cluster, name)
	if err != nil {
		return err
	}
	if s == nil || aws.ToString(s.Status) == "INACTIVE" {
		return nil
	}
	if aws.ToString(s.Status) == "ACTIVE" {
		if s.DesiredCount > 0 {
			_, err := env.AWS.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String(name), DesiredCount: aws.Int32(0)})
			if err != nil && !awserr.IsNotFound(err) && !awserr.HasCode(err, "ServiceNotActiveException") {
				return fmt.Errorf("scale ecs service %s to 0: %w", name, err)
			}
		}
		_, err := env.AWS.ECS.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String(name), Force: aws.Bool(true)})
		if err != nil && !awserr.IsNotFound(err) && !awserr.HasCode(err, "ServiceNotActiveException") {
			return fmt.Errorf("delete ecs service %s: %w", name, err)
		}
	}
	minD, maxD := env.Clock.WaiterDelays(5*time.Second, 15*time.Second)
	w := ecs.NewServicesInactiveWaiter(env.AWS.ECS, func(o *ecs.ServicesInactiveWaiterOptions) { o.MinDelay, o.MaxDelay = minD, maxD })
	err = w.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}}, env.Clock.WaitTimeout(drainTimeout))
	if err != nil {
		// The waiter fails when the service is reported MISSING: gone too.
		if s, derr := k.describe(ctx, env, cluster, name); derr == nil && (s == nil || aws.ToString(s.Status) == "INACTIVE") {
			return nil
		}
		return fmt.Errorf("wait for ecs service %s to drain: %w", name, err)
	}
	return nil
}

// Discover lists the stack's services in its cluster.
func (k serviceKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	cluster := env.Cfg.Names().Cluster
	var arns []string
	p := ecs.NewListServicesPaginator(env.AWS.ECS, &ecs.ListServicesInput{Cluster: aws.String(cluster)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if awserr.IsNotFound(err) {
				return nil, nil
			}
			return nil, fmt.Errorf("list ecs services of %s: %w", cluster, err)
		}
		arns = append(arns, page.ServiceArns...)
	}
	var out []state.Resource
	for len(arns) > 0 {
		batch := arns[:min(10, len(arns))]
		arns = arns[len(batch):]
		d, err := env.AWS.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: batch,
			Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
		if err != nil {
			return nil, fmt.Errorf("describe ecs services of %s: %w", cluster, err)
		}
		for _, s := range d.Services {
			tags := ecsTagMap(s.Tags)
			if tags[TagStack] != env.Stack() || aws.ToString(s.Status) == "INACTIVE" {
				continue
			}
			out = append(out, state.Resource{Name: tags[TagResource], Kind: k.Type(), ID: aws.ToString(s.ServiceArn), ARN: aws.ToString(s.ServiceArn),
				Attrs: map[string]string{"name": aws.ToString(s.ServiceName), "cluster": cluster}})
		}
	}
	return out, nil
}

func (serviceKind) PlanNote(env *Env, n *Node) string {
	if n.Role == "app" {
		return fmt.Sprintf("%s: %d tasks (autoscaling %d-%d), rolling deployments (100%%/200%%)",
			familyOf(env.Cfg, n), env.Cfg.App.DesiredCount, env.Cfg.Autoscaling.MinCapacity, env.Cfg.Autoscaling.MaxCapacity)
	}
	return fmt.Sprintf("%s: 1 task; a deployment stops it before starting the new one (about a minute of downtime for its boards)",
		familyOf(env.Cfg, n))
}
