package awssim

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	et "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

type ecsTask struct {
	arn, id, cluster, service, deployment, taskDef, family string
	cpu, memory                                            string
	containers                                             []et.ContainerDefinition
	createdAt, runAt, healthyAt                            time.Time
	stopAt, stoppedAt                                      time.Time // zero while the task should run
	started, healthyDone, released                         bool
	healthy                                                bool
	broken                                                 string // name of the container that exits at start
	reason                                                 string
	stopCode                                               et.TaskStopCode
	eni, subnet, ip, az                                    string
	targets                                                []et.LoadBalancer
	registered                                             bool
	owner                                                  *ecsService
	tags                                                   map[string]string
}

// lastStatus follows the Fargate task lifecycle (Developer Guide, "Amazon ECS
// task lifecycle"): PENDING until started, RUNNING, DEPROVISIONING while
// stopping, STOPPED.
func (t *ecsTask) lastStatus(now time.Time) string {
	switch {
	case !t.stoppedAt.IsZero() && !now.Before(t.stoppedAt):
		return "STOPPED"
	case !t.stopAt.IsZero():
		return "DEPROVISIONING"
	case !t.started:
		return "PENDING"
	}
	return "RUNNING"
}

func (t *ecsTask) live() bool { return t.stopAt.IsZero() }

func (t *ecsTask) isHealthy() bool { return t.live() && t.started && t.healthy }

// ---- Time ----

// advance plays every event due by now, earliest first; after each one the
// schedulers run at that event's time, so chained events (a failing task
// replaced by another that fails too) unfold as they would have.
func (s *ecsSim) advance(now time.Time) {
	for i := 0; i < 100000; i++ {
		at, apply := s.nextEvent(now)
		if apply == nil {
			break
		}
		apply()
		for _, key := range sortedKeys(s.services) {
			s.schedule(s.services[key], at)
		}
	}
	for _, key := range sortedKeys(s.services) {
		s.schedule(s.services[key], now)
	}
	keep := s.c.wall(time.Hour)
	for arn, t := range s.tasks {
		if t.released && now.Sub(t.stoppedAt) > keep {
			delete(s.tasks, arn)
		}
	}
}

func (s *ecsSim) nextEvent(now time.Time) (time.Time, func()) {
	var best time.Time
	var apply func()
	consider := func(at time.Time, fn func()) {
		if at.After(now) {
			return
		}
		if apply == nil || at.Before(best) {
			best, apply = at, fn
		}
	}
	for _, arn := range sortedKeys(s.tasks) {
		t := s.tasks[arn]
		switch {
		case !t.stopAt.IsZero() && !t.released:
			consider(t.stoppedAt, func() { s.released(t) })
		case t.live() && !t.started:
			at := t.runAt
			consider(at, func() { s.started(t, at) })
		case t.live() && !t.healthyDone:
			consider(t.healthyAt, func() { s.becameHealthy(t) })
		}
	}
	for _, key := range sortedKeys(s.services) {
		sv := s.services[key]
		if sv.status != "DRAINING" {
			continue
		}
		at := sv.inactiveAt
		drained := true
		for _, t := range s.tasks {
			if t.owner == sv {
				if !t.released {
					drained = false
				} else if t.stoppedAt.After(at) {
					at = t.stoppedAt
				}
			}
		}
		if drained {
			consider(at, func() { sv.status = "INACTIVE" })
		}
	}
	return best, apply
}

func (s *ecsSim) started(t *ecsTask, at time.Time) {
	t.started = true
	if t.broken != "" {
		if sv := t.owner; sv != nil {
			for _, d := range sv.deployments {
				if d.id == t.deployment {
					d.failed++
					d.updated = at
				}
			}
		}
		s.stopTask(t, at, "Essential container in task exited", et.TaskStopCodeEssentialContainerExited)
		return
	}
	if lb := s.lb(); lb != nil {
		for _, l := range t.targets {
			if err := lb.registerTask(aws.ToString(l.TargetGroupArn), t.ip, aws.ToInt32(l.ContainerPort)); err == nil {
				t.registered = true
			}
		}
	}
}

func (s *ecsSim) becameHealthy(t *ecsTask) {
	t.healthyDone = true
	if len(t.targets) > 0 && !t.registered {
		return // not in its target group (deleted?): never healthy
	}
	t.healthy = true
	if lb := s.lb(); lb != nil {
		for _, l := range t.targets {
			lb.setTaskHealthy(aws.ToString(l.TargetGroupArn), t.ip, true)
		}
	}
}

func (s *ecsSim) released(t *ecsTask) {
	t.released = true
	s.c.ec2().releaseENIsAt(t.arn, t.stoppedAt)
}

// stopTask sets the task's desired status to STOPPED at time at: it leaves
// its target groups at once and is STOPPED (its ENI released, to linger)
// TaskStop later.
func (s *ecsSim) stopTask(t *ecsTask, at time.Time, reason string, code et.TaskStopCode) {
	if !t.stopAt.IsZero() {
		return
	}
	t.stopAt, t.stoppedAt = at, at.Add(s.c.wall(s.c.Timing.TaskStop))
	t.reason, t.stopCode, t.healthy = reason, code, false
	if lb := s.lb(); lb != nil && t.registered {
		for _, l := range t.targets {
			lb.deregisterTask(aws.ToString(l.TargetGroupArn), t.ip)
		}
	}
}

// ---- The service scheduler ----

// schedule moves a service towards its primary deployment at time at, as the
// ECS rolling-update scheduler does (DeploymentConfiguration API reference):
// at most maximumPercent of the desired count (rounded down) PENDING or
// RUNNING, at least minimumHealthyPercent (rounded up) healthy; old
// deployments' tasks stop once that allows; a deployment is COMPLETED when
// its tasks are all healthy and no older task remains; the circuit breaker
// fails it after the failed-task threshold and, with rollback, starts a new
// deployment of the last completed revision.
func (s *ecsSim) schedule(sv *ecsService, at time.Time) {
	var own []*ecsTask
	for _, arn := range sortedKeys(s.tasks) {
		if t := s.tasks[arn]; t.owner == sv {
			own = append(own, t)
		}
	}
	if sv.status != "ACTIVE" {
		for _, t := range own {
			if t.live() {
				s.stopTask(t, at, "Scaling activity initiated by (deployment "+sv.deployments[0].id+")", et.TaskStopCodeServiceSchedulerInitiated)
			}
		}
		return
	}
	primary := sv.deployments[0]
	if cb := sv.deployCfg.DeploymentCircuitBreaker; cb != nil && cb.Enable && primary.rollout == et.DeploymentRolloutStateInProgress &&
		primary.failed >= circuitThreshold(primary.desired) {
		primary.rollout, primary.updated = et.DeploymentRolloutStateFailed, at
		primary.reason = "ECS deployment circuit breaker: tasks failed to start."
		s.event(sv, at, "(deployment %s) deployment failed: tasks failed to start.", primary.id)
		if cb.Rollback && sv.lastGood != "" && sv.lastGood != primary.taskDef {
			sv.taskDef = sv.lastGood
			nd := s.newDeployment(sv, at)
			nd.reason = "ECS deployment circuit breaker: rolling back to deploymentId " + primary.id + "."
			for _, d := range sv.deployments {
				d.status = "ACTIVE"
			}
			sv.deployments = append([]*ecsDeployment{nd}, sv.deployments...)
			s.event(sv, at, "rolling back to deployment %s.", nd.id)
			primary = nd
		}
	}
	desired := sv.desired
	maxTotal := int(desired) * int(aws.ToInt32(sv.deployCfg.MaximumPercent)) / 100
	minHealthy := (int(desired)*int(aws.ToInt32(sv.deployCfg.MinimumHealthyPercent)) + 99) / 100
	healthy := 0
	for _, t := range own {
		if t.isHealthy() {
			healthy++
		}
	}
	var stopped []string
	// Old deployments' tasks, unhealthy ones first, while enough stay healthy.
	sort.SliceStable(own, func(i, j int) bool { return !own[i].isHealthy() && own[j].isHealthy() })
	for _, t := range own {
		if !t.live() || t.deployment == primary.id {
			continue
		}
		if !t.isHealthy() || healthy-1 >= minHealthy {
			if t.isHealthy() {
				healthy--
			}
			s.stopTask(t, at, "Scaling activity initiated by (deployment "+primary.id+")", et.TaskStopCodeServiceSchedulerInitiated)
			stopped = append(stopped, t.id)
		}
	}
	var prim []*ecsTask
	active := 0
	for _, t := range own {
		if t.live() {
			active++
			if t.deployment == primary.id {
				prim = append(prim, t)
			}
		}
	}
	for len(prim) > int(desired) { // scale in: unhealthy ones first
		t := prim[0]
		prim = prim[1:]
		s.stopTask(t, at, "Scaling activity initiated by (deployment "+primary.id+")", et.TaskStopCodeServiceSchedulerInitiated)
		stopped = append(stopped, t.id)
		active--
	}
	if len(stopped) > 0 {
		s.event(sv, at, "has stopped %d running tasks: %s.", len(stopped), taskList(stopped))
	}
	if primary.rollout != et.DeploymentRolloutStateFailed {
		var started []string
		for n := min(int(desired)-len(prim), maxTotal-active); n > 0; n-- {
			t := s.launch(sv, primary, at)
			prim = append(prim, t)
			started = append(started, t.id)
		}
		if len(started) > 0 {
			s.event(sv, at, "has started %d tasks: %s.", len(started), taskList(started))
		}
	}
	// Drained older deployments disappear.
	keep := sv.deployments[:1]
	for _, d := range sv.deployments[1:] {
		for _, t := range own {
			if t.deployment == d.id && !t.released {
				keep = append(keep, d)
				break
			}
		}
	}
	sv.deployments = keep
	if primary.rollout == et.DeploymentRolloutStateInProgress && len(sv.deployments) == 1 {
		ok := 0
		for _, t := range prim {
			if t.isHealthy() {
				ok++
			}
		}
		if ok == int(desired) && len(prim) == int(desired) {
			primary.rollout, primary.updated = et.DeploymentRolloutStateCompleted, at
			primary.reason = "ECS deployment " + primary.id + " completed."
			sv.lastGood = primary.taskDef
			s.event(sv, at, "(deployment %s) deployment completed.", primary.id)
			s.event(sv, at, "has reached a steady state.")
		}
	}
}

func taskList(ids []string) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = "(task " + id + ")"
	}
	return strings.Join(parts, " ")
}

// launch starts a task of deployment d: it gets an ENI in the next subnet at
// once (PENDING), runs after Timing.TaskStart and is healthy in its target
// groups Timing.TargetHealthy later.
func (s *ecsSim) launch(sv *ecsService, d *ecsDeployment, at time.Time) *ecsTask {
	s.seq++
	id := fmt.Sprintf("%032x", uint64(s.seq)*0x9e3779b97f4a7c15)
	arn := s.arn("task", sv.cluster+"/"+id)
	td := s.findTD(d.taskDef)
	t := &ecsTask{arn: arn, id: id, cluster: sv.cluster, service: sv.name, deployment: d.id, taskDef: d.taskDef,
		createdAt: at, runAt: at.Add(s.c.wall(s.c.Timing.TaskStart)), targets: deepCopyJSON(sv.lbs), tags: map[string]string{},
		owner: sv}
	t.healthyAt = t.runAt
	if len(t.targets) > 0 {
		t.healthyAt = t.runAt.Add(s.c.wall(s.c.Timing.TargetHealthy))
	}
	if td != nil {
		t.family, t.cpu, t.memory = td.family, aws.ToString(td.def.Cpu), aws.ToString(td.def.Memory)
		t.containers = td.def.ContainerDefinitions
		for _, c := range td.def.ContainerDefinitions {
			if strings.Contains(aws.ToString(c.Image), BrokenImageMarker) && t.broken == "" {
				t.broken = aws.ToString(c.Name)
			}
		}
		if sv.propagate == et.PropagateTagsTaskDefinition {
			t.tags = copyTags(td.tags)
		}
	}
	if sv.propagate == et.PropagateTagsService {
		t.tags = copyTags(sv.tags)
	}
	if sv.managedTags {
		t.tags["aws:ecs:clusterName"] = sv.cluster
		t.tags["aws:ecs:serviceName"] = sv.name
	}
	if nc := d.network; nc != nil && nc.AwsvpcConfiguration != nil && len(nc.AwsvpcConfiguration.Subnets) > 0 {
		a := nc.AwsvpcConfiguration
		t.subnet = a.Subnets[sv.nextSubnet%len(a.Subnets)]
		sv.nextSubnet++
		ec := s.c.ec2()
		s.seq++
		t.eni = ec.attachENI(t.subnet, a.SecurityGroups, fmt.Sprintf("arn:aws:ecs:%s:%s:attachment/%08x-sim", s.c.Region, s.c.Account, s.seq),
			arn, a.AssignPublicIp == et.AssignPublicIpEnabled)
		if sn := ec.subnets[t.subnet]; sn != nil {
			t.az = sn.az
			t.ip = s.addressIn(sn.cidr)
		}
	}
	s.tasks[arn] = t
	return t
}

// addressIn returns a fresh private address in a subnet (the first four
// addresses of every subnet are AWS's).
func (s *ecsSim) addressIn(cidr string) string {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return ""
	}
	s.seq++
	a := p.Addr()
	for i := int64(0); i < 4+s.seq%200; i++ {
		a = a.Next()
	}
	return a.String()
}

// ---- Task API ----

func (s *ecsSim) taskOut(t *ecsTask, now time.Time, withTags bool) et.Task {
	st := t.lastStatus(now)
	desired := "RUNNING"
	if !t.live() {
		desired = "STOPPED"
	}
	out := et.Task{TaskArn: aws.String(t.arn), ClusterArn: aws.String(s.arn("cluster", t.cluster)),
		TaskDefinitionArn: aws.String(t.taskDef), Group: aws.String("service:" + t.service), StartedBy: aws.String(t.deployment),
		LastStatus: aws.String(st), DesiredStatus: aws.String(desired), LaunchType: et.LaunchTypeFargate,
		Cpu: aws.String(t.cpu), Memory: aws.String(t.memory), CreatedAt: aws.Time(t.createdAt),
		AvailabilityZone: aws.String(t.az), PlatformVersion: aws.String("1.4.0"), PlatformFamily: aws.String("Linux")}
	if t.started && t.broken == "" {
		out.StartedAt = aws.Time(t.runAt)
	}
	switch {
	case t.isHealthy():
		out.HealthStatus = et.HealthStatusHealthy
	case t.started && t.live():
		out.HealthStatus = et.HealthStatusUnknown
	}
	if !t.live() {
		out.StoppingAt = aws.Time(t.stopAt)
		out.StoppedReason = aws.String(t.reason)
		out.StopCode = t.stopCode
		if st == "STOPPED" {
			out.StoppedAt = aws.Time(t.stoppedAt)
			out.ExecutionStoppedAt = aws.Time(t.stoppedAt)
		}
	}
	if t.eni != "" {
		out.Attachments = []et.Attachment{{Id: aws.String(t.eni + "-attachment"), Type: aws.String("ElasticNetworkInterface"),
			Status: aws.String(map[bool]string{true: "DELETED", false: "ATTACHED"}[st == "STOPPED"]),
			Details: []et.KeyValuePair{
				{Name: aws.String("subnetId"), Value: aws.String(t.subnet)},
				{Name: aws.String("networkInterfaceId"), Value: aws.String(t.eni)},
				{Name: aws.String("privateIPv4Address"), Value: aws.String(t.ip)},
			}}}
	}
	for _, c := range t.containers {
		name := aws.ToString(c.Name)
		co := et.Container{Name: aws.String(name), Image: aws.String(aws.ToString(c.Image)), TaskArn: aws.String(t.arn)}
		switch {
		case name == t.broken && t.started:
			co.LastStatus, co.ExitCode = aws.String("STOPPED"), aws.Int32(1)
		case st == "STOPPED":
			co.LastStatus, co.ExitCode = aws.String("STOPPED"), aws.Int32(0)
		case !aws.ToBool(c.Essential) && t.started:
			co.LastStatus, co.ExitCode = aws.String("STOPPED"), aws.Int32(0) // ran to completion
		case t.started:
			co.LastStatus = aws.String("RUNNING")
		default:
			co.LastStatus = aws.String("PENDING")
		}
		out.Containers = append(out.Containers, co)
	}
	if withTags {
		out.Tags = ecsTagList(t.tags)
	}
	return out
}

func (s *ecsSim) findTask(cluster, ref string) *ecsTask {
	if t, ok := s.tasks[ref]; ok && t.cluster == cluster {
		return t
	}
	for _, t := range s.tasks {
		if t.id == ref && t.cluster == cluster {
			return t
		}
	}
	return nil
}

// ListTasks lists task ARNs by desired status (RUNNING by default), service,
// family or startedBy.
func (s *ecsSim) ListTasks(_ context.Context, in *ecs.ListTasksInput) (*ecs.ListTasksOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.advance(time.Now())
	cl, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	want := in.DesiredStatus
	if want == "" {
		want = et.DesiredStatusRunning
	}
	if in.ServiceName != nil && s.findService(cl.name, aws.ToString(in.ServiceName)) == nil {
		return nil, apiError("ServiceNotFoundException", "Service not found.")
	}
	var arns []string
	for _, arn := range sortedKeys(s.tasks) {
		t := s.tasks[arn]
		switch {
		case t.cluster != cl.name,
			in.ServiceName != nil && t.service != lastSegment(aws.ToString(in.ServiceName)),
			in.Family != nil && t.family != aws.ToString(in.Family),
			in.StartedBy != nil && t.deployment != aws.ToString(in.StartedBy),
			(want == et.DesiredStatusRunning) != t.live():
			continue
		}
		arns = append(arns, arn)
	}
	max := in.MaxResults
	if max == nil || *max < 1 || *max > 100 {
		max = aws.Int32(100)
	}
	page, next := paginate(arns, max, in.NextToken)
	return &ecs.ListTasksOutput{TaskArns: page, NextToken: next}, nil
}

func (s *ecsSim) DescribeTasks(_ context.Context, in *ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	now := time.Now()
	s.advance(now)
	cl, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.Tasks) == 0 || len(in.Tasks) > 100 {
		return nil, apiError("InvalidParameterException", "tasks must list 1 to 100 tasks.")
	}
	tags := false
	for _, f := range in.Include {
		tags = tags || f == et.TaskFieldTags
	}
	out := &ecs.DescribeTasksOutput{}
	for _, ref := range in.Tasks {
		t := s.findTask(cl.name, ref)
		if t == nil {
			out.Failures = append(out.Failures, et.Failure{Arn: aws.String(ref), Reason: aws.String("MISSING")})
			continue
		}
		out.Tasks = append(out.Tasks, s.taskOut(t, now, tags))
	}
	return out, nil
}

// StopTask stops a task; a service replaces it.
func (s *ecsSim) StopTask(_ context.Context, in *ecs.StopTaskInput) (*ecs.StopTaskOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	now := time.Now()
	s.advance(now)
	cl, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	t := s.findTask(cl.name, aws.ToString(in.Task))
	if t == nil {
		return nil, apiError("InvalidParameterException", "The referenced task was not found.")
	}
	reason := aws.ToString(in.Reason)
	if reason == "" {
		reason = "Task stopped by user"
	}
	s.stopTask(t, now, reason, et.TaskStopCodeUserInitiated)
	if t.owner != nil {
		s.schedule(t.owner, now)
	}
	out := s.taskOut(t, now, false)
	return &ecs.StopTaskOutput{Task: &out}, nil
}
