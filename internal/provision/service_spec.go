package provision

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// serviceSpec is what the configuration wants of one ECS service.
type serviceSpec struct {
	name, cluster string
	taskDef       string // revision ARN from the task definition node
	desired       int32
	// scaled: desired count belongs to Application Auto Scaling within
	// [minCap, maxCap] (shared mode).
	scaled         bool
	minCap, maxCap int32
	minPct, maxPct int32
	subnets        []string
	groups         []string
	targetGroup    string
	port           int32
	grace          int32
}

// serviceNodeSuffix is "shard-<i>" or "app" from "service-shard-<i>".
func serviceNodeSuffix(n *Node) string { return strings.TrimPrefix(n.Name, "service-") }

// taskDefNodeOf and targetGroupNodeOf name a service's sibling nodes.
func taskDefNodeOf(n *Node) string     { return "taskdef-" + serviceNodeSuffix(n) }
func targetGroupNodeOf(n *Node) string { return "tg-" + serviceNodeSuffix(n) }

// serviceDeployment is the deployment configuration of a mode. A shard has
// one task that owns its boards alone: minimum healthy 0 %, maximum 100 %
// stop the old task before the new one starts (about a minute of downtime
// per deployment, which plan says). Shared mode rolls: 100 % / 200 %.
func serviceDeployment(cfg *config.Config, n *Node) (minPct, maxPct int32) {
	if n.Role == "app" {
		return 100, 200
	}
	return 0, 100
}

func desiredService(env *Env, n *Node) (serviceSpec, error) {
	cfg := env.Cfg
	sp := serviceSpec{name: familyOf(cfg, n), port: int32(cfg.App.Port), grace: int32(cfg.App.HealthCheckGracePeriod), desired: 1}
	sp.minPct, sp.maxPct = serviceDeployment(cfg, n)
	if n.Role == "app" {
		sp.desired = int32(cfg.App.DesiredCount)
		sp.scaled = true
		sp.minCap, sp.maxCap = int32(cfg.Autoscaling.MinCapacity), int32(cfg.Autoscaling.MaxCapacity)
	}
	var errs []error
	id := func(name string) string {
		r, err := env.Ref(name)
		if err != nil {
			errs = append(errs, err)
		}
		return r.ID
	}
	sp.cluster = id("cluster")
	sp.taskDef = id(taskDefNodeOf(n))
	sp.targetGroup = id(targetGroupNodeOf(n))
	sp.groups = []string{id("sg-tasks")}
	for i := range cfg.Network.PublicSubnets {
		sp.subnets = append(sp.subnets, id(fmt.Sprintf("subnet-public-%d", i)))
	}
	sort.Strings(sp.subnets)
	return sp, errors.Join(errs...)
}

func (sp serviceSpec) network() *ecstypes.NetworkConfiguration {
	return &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
		Subnets: append([]string(nil), sp.subnets...), SecurityGroups: append([]string(nil), sp.groups...),
		AssignPublicIp: ecstypes.AssignPublicIpEnabled,
	}}
}

func (sp serviceSpec) loadBalancers() []ecstypes.LoadBalancer {
	return []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(sp.targetGroup), ContainerName: aws.String(wboContainer), ContainerPort: aws.Int32(sp.port)}}
}

func (sp serviceSpec) deployment() *ecstypes.DeploymentConfiguration {
	return &ecstypes.DeploymentConfiguration{
		MinimumHealthyPercent: aws.Int32(sp.minPct), MaximumPercent: aws.Int32(sp.maxPct),
		DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true, Rollback: true},
	}
}

// clientToken makes CreateService idempotent (at most 36 characters): the
// same stack, service and task definition revision give the same token, so
// a create retried after a lost response returns the service it made. A
// later re-creation (after destroy) registers a new revision first, so its
// token differs.
func (sp serviceSpec) clientToken(stack string) string {
	h := sha256.Sum256([]byte(stack + "\x00" + sp.name + "\x00" + sp.taskDef))
	return hex.EncodeToString(h[:16])
}

// serviceObs is a service as DescribeServices reports it.
type serviceObs struct {
	arn, name, cluster, status string
	desired, running, pending  int32
	taskDef                    string
	launchType                 string
	platform                   string
	subnets, groups            []string
	publicIP                   string
	lbs                        []string // "<tg>|<container>|<port>"
	grace                      int32
	minPct, maxPct             int32
	breaker, rollback          bool
	propagate                  string
	managedTags                bool
	tags                       map[string]string
	primary                    *ecstypes.Deployment
	deployments                int
	stale                      []string // ACTIVE revisions of the family no deployment uses
	events                     []string // newest first
}

func (o *serviceObs) rollout() string {
	if o.primary == nil {
		return ""
	}
	return string(o.primary.RolloutState)
}

func lbKey(tg, container string, port int32) string {
	return tg + "|" + container + "|" + strconv.Itoa(int(port))
}

func observeService(s *ecstypes.Service) *serviceObs {
	o := &serviceObs{arn: aws.ToString(s.ServiceArn), name: aws.ToString(s.ServiceName), status: aws.ToString(s.Status),
		desired: s.DesiredCount, running: s.RunningCount, pending: s.PendingCount, taskDef: aws.ToString(s.TaskDefinition),
		launchType: string(s.LaunchType), platform: aws.ToString(s.PlatformVersion), grace: aws.ToInt32(s.HealthCheckGracePeriodSeconds),
		propagate: string(s.PropagateTags), managedTags: s.EnableECSManagedTags, tags: ecsTagMap(s.Tags), deployments: len(s.Deployments)}
	if c := aws.ToString(s.ClusterArn); c != "" {
		o.cluster = c[strings.LastIndex(c, "/")+1:]
	}
	if nc := s.NetworkConfiguration; nc != nil && nc.AwsvpcConfiguration != nil {
		a := nc.AwsvpcConfiguration
		o.subnets = append([]string(nil), a.Subnets...)
		o.groups = append([]string(nil), a.SecurityGroups...)
		sort.Strings(o.subnets)
		sort.Strings(o.groups)
		o.publicIP = string(a.AssignPublicIp)
	}
	for _, l := range s.LoadBalancers {
		o.lbs = append(o.lbs, lbKey(aws.ToString(l.TargetGroupArn), aws.ToString(l.ContainerName), aws.ToInt32(l.ContainerPort)))
	}
	sort.Strings(o.lbs)
	if dc := s.DeploymentConfiguration; dc != nil {
		o.minPct, o.maxPct = aws.ToInt32(dc.MinimumHealthyPercent), aws.ToInt32(dc.MaximumPercent)
		if cb := dc.DeploymentCircuitBreaker; cb != nil {
			o.breaker, o.rollback = cb.Enable, cb.Rollback
		}
	}
	for i := range s.Deployments {
		if aws.ToString(s.Deployments[i].Status) == "PRIMARY" {
			d := s.Deployments[i]
			o.primary = &d
		}
	}
	for i, e := range s.Events {
		if i >= 5 {
			break
		}
		o.events = append(o.events, aws.ToString(e.Message))
	}
	return o
}

// serviceChanges lists what differs between the service and the
// configuration.
func serviceChanges(env *Env, n *Node, sp serviceSpec, o *serviceObs) []Change {
	var cs []Change
	add := func(field, old, new string) {
		if old != new {
			cs = append(cs, Change{Field: field, Old: showValue(old), New: showValue(new)})
		}
	}
	if o.launchType != string(ecstypes.LaunchTypeFargate) {
		cs = append(cs, Change{Field: "launch_type", Old: o.launchType, New: "FARGATE", Replace: true,
			Why: "a service's launch type cannot change in place"})
	}
	add("task_definition", revisionName(o.taskDef), revisionName(sp.taskDef))
	switch {
	case !sp.scaled:
		add("desired_count", strconv.Itoa(int(o.desired)), strconv.Itoa(int(sp.desired)))
	case o.desired < sp.minCap || o.desired > sp.maxCap:
		// Application Auto Scaling owns the count inside min..max.
		want := min(max(o.desired, sp.minCap), sp.maxCap)
		cs = append(cs, Change{Field: "desired_count", Old: strconv.Itoa(int(o.desired)),
			New: fmt.Sprintf("%d (autoscaling range %d-%d)", want, sp.minCap, sp.maxCap)})
	}
	add("subnets", strings.Join(o.subnets, ","), strings.Join(sp.subnets, ","))
	add("security_groups", strings.Join(o.groups, ","), strings.Join(sp.groups, ","))
	add("assign_public_ip", o.publicIP, string(ecstypes.AssignPublicIpEnabled))
	add("load_balancer", strings.Join(o.lbs, ","), lbKey(sp.targetGroup, wboContainer, sp.port))
	add("health_check_grace_period", strconv.Itoa(int(o.grace)), strconv.Itoa(int(sp.grace)))
	add("deployment_minimum_healthy_percent", strconv.Itoa(int(o.minPct)), strconv.Itoa(int(sp.minPct)))
	add("deployment_maximum_percent", strconv.Itoa(int(o.maxPct)), strconv.Itoa(int(sp.maxPct)))
	add("circuit_breaker", fmt.Sprintf("enable=%t rollback=%t", o.breaker, o.rollback), "enable=true rollback=true")
	add("platform_version", o.platform, "LATEST")
	add("propagate_tags", o.propagate, string(ecstypes.PropagateTagsService))
	add("ecs_managed_tags", strconv.FormatBool(o.managedTags), "true")
	if c, ok := ecsTagDiff(o.tags, env.Tags(n.Name)); ok {
		cs = append(cs, c)
	}
	if o.primary != nil && o.taskDef == sp.taskDef {
		switch o.primary.RolloutState {
		case ecstypes.DeploymentRolloutStateInProgress:
			cs = append(cs, Change{Field: "rollout", Old: "IN_PROGRESS", New: "COMPLETED (wait)"})
		case ecstypes.DeploymentRolloutStateFailed:
			cs = append(cs, Change{Field: "rollout", Old: "FAILED", New: "redeploy " + revisionName(sp.taskDef)})
		}
	}
	if len(cs) == 0 && len(o.stale) > 0 {
		var names []string
		for _, s := range o.stale {
			names = append(names, revisionName(s))
		}
		cs = append(cs, Change{Field: "old_task_definition_revisions", Old: strings.Join(names, ", ") + " active", New: "deregistered"})
	}
	return cs
}
