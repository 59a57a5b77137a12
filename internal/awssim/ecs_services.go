package awssim

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	et "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

type ecsService struct {
	name, arn, cluster string
	status             string // ACTIVE, DRAINING, INACTIVE
	desired            int32
	taskDef            string // ARN of the primary deployment's revision
	launchType         et.LaunchType
	platform           string
	network            *et.NetworkConfiguration
	lbs                []et.LoadBalancer
	grace              *int32
	deployCfg          et.DeploymentConfiguration
	propagate          et.PropagateTags
	managedTags        bool
	tags               map[string]string
	token              string
	createdAt          time.Time
	deployments        []*ecsDeployment // [0] is PRIMARY
	events             []et.ServiceEvent
	inactiveAt         time.Time // DRAINING: earliest time it becomes INACTIVE
	lastGood           string    // revision of the last COMPLETED deployment (rollback target)
	nextSubnet         int
}

type ecsDeployment struct {
	id, status string // PRIMARY, ACTIVE
	taskDef    string
	desired    int32
	failed     int32
	rollout    et.DeploymentRolloutState
	reason     string
	created    time.Time
	updated    time.Time
	network    *et.NetworkConfiguration
	platform   string
}

func (s *ecsSim) serviceKey(cluster, name string) string { return cluster + "/" + name }

// findService resolves a service name or ARN in a cluster.
func (s *ecsSim) findService(cluster, ref string) *ecsService {
	return s.services[s.serviceKey(cluster, lastSegment(ref))]
}

func (s *ecsSim) newDeploymentID() string {
	s.seq++
	return fmt.Sprintf("ecs-svc/%019d", 1000000000000000000+uint64(s.seq)*7919)
}

func (s *ecsSim) event(sv *ecsService, at time.Time, format string, args ...any) {
	s.seq++
	ev := et.ServiceEvent{Id: aws.String(fmt.Sprintf("%08x-sim", s.seq)), CreatedAt: aws.Time(at),
		Message: aws.String(fmt.Sprintf("(service %s) ", sv.name) + fmt.Sprintf(format, args...))}
	sv.events = append([]et.ServiceEvent{ev}, sv.events...)
	if len(sv.events) > 100 {
		sv.events = sv.events[:100]
	}
}

// deploymentDefaults fills what AWS reports when a field is left out:
// maximumPercent 200, minimumHealthyPercent 100, circuit breaker off
// (DeploymentConfiguration API reference).
func deploymentDefaults(in *et.DeploymentConfiguration) et.DeploymentConfiguration {
	out := et.DeploymentConfiguration{MaximumPercent: aws.Int32(200), MinimumHealthyPercent: aws.Int32(100),
		DeploymentCircuitBreaker: &et.DeploymentCircuitBreaker{}}
	if in == nil {
		return out
	}
	if in.MaximumPercent != nil {
		out.MaximumPercent = aws.Int32(*in.MaximumPercent)
	}
	if in.MinimumHealthyPercent != nil {
		out.MinimumHealthyPercent = aws.Int32(*in.MinimumHealthyPercent)
	}
	if cb := in.DeploymentCircuitBreaker; cb != nil {
		out.DeploymentCircuitBreaker = &et.DeploymentCircuitBreaker{Enable: cb.Enable, Rollback: cb.Rollback}
	}
	return out
}

func validateDeploymentConfig(c et.DeploymentConfiguration) error {
	mx, mn := aws.ToInt32(c.MaximumPercent), aws.ToInt32(c.MinimumHealthyPercent)
	if mn < 0 || mx <= 0 {
		return apiError("InvalidParameterException", "Invalid deployment configuration: minimumHealthyPercent %d, maximumPercent %d", mn, mx)
	}
	return nil
}

// validateNetwork checks an awsvpc configuration against the EC2 simulation:
// 1-16 subnets of one VPC and up to 5 security groups that exist.
func (s *ecsSim) validateNetwork(nc *et.NetworkConfiguration) error {
	if nc == nil || nc.AwsvpcConfiguration == nil {
		return apiError("InvalidParameterException", "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	a := nc.AwsvpcConfiguration
	if len(a.Subnets) == 0 || len(a.Subnets) > 16 {
		return apiError("InvalidParameterException", "subnets can not be empty and can have at most 16 entries.")
	}
	if len(a.SecurityGroups) > 5 {
		return apiError("InvalidParameterException", "At most 5 security groups can be specified.")
	}
	ec := s.c.ec2()
	vpc := ""
	for _, id := range a.Subnets {
		sn, ok := ec.subnets[id]
		if !ok {
			return apiError("InvalidParameterException", "Error retrieving subnet information for [%s]: The subnet ID '%s' does not exist (ErrorCode: InvalidSubnetID.NotFound)", id, id)
		}
		if vpc != "" && sn.vpc != vpc {
			return apiError("InvalidParameterException", "Subnets must all be in the same VPC.")
		}
		vpc = sn.vpc
	}
	for _, id := range a.SecurityGroups {
		g, ok := ec.sgs[id]
		if !ok {
			return apiError("InvalidParameterException", "Error retrieving security group information for [%s]: The security group '%s' does not exist (ErrorCode: InvalidGroup.NotFound)", id, id)
		}
		if g.vpc != vpc {
			return apiError("InvalidParameterException", "Security group %s is not in the VPC of the subnets.", id)
		}
	}
	switch a.AssignPublicIp {
	case "", et.AssignPublicIpEnabled, et.AssignPublicIpDisabled:
	default:
		return apiError("InvalidParameterException", "Invalid assignPublicIp %q", a.AssignPublicIp)
	}
	return nil
}

// usableTD resolves the revision a service runs and checks what CreateService
// and UpdateService check: ACTIVE, Fargate-compatible, roles assumable.
func (s *ecsSim) usableTD(ref string) (*ecsTaskDef, error) {
	td := s.findTD(ref)
	if td == nil {
		return nil, apiError("ClientException", "TaskDefinition not found.")
	}
	if td.status != "ACTIVE" {
		return nil, apiError("InvalidParameterException", "TaskDefinition is inactive")
	}
	fargate := false
	for _, c := range td.def.RequiresCompatibilities {
		fargate = fargate || c == et.CompatibilityFargate
	}
	if !fargate {
		return nil, apiError("InvalidParameterException", "Task definition does not support launch_type FARGATE.")
	}
	// A role IAM has not propagated yet: ECS answers InvalidParameterException
	// "ECS was unable to assume the role ..." (seen when a role is created
	// seconds before the service).
	for _, role := range []string{aws.ToString(td.def.ExecutionRoleArn), aws.ToString(td.def.TaskRoleArn)} {
		if role != "" && !s.roleUsable(role) {
			return nil, apiError("InvalidParameterException", "ECS was unable to assume the role '%s' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.", role)
		}
	}
	return td, nil
}

// validateLBs checks the load balancer blocks: the container and port exist
// in the task definition and the target group is attached to a load balancer.
func (s *ecsSim) validateLBs(lbs []et.LoadBalancer, td *ecsTaskDef) error {
	for _, l := range lbs {
		tg := aws.ToString(l.TargetGroupArn)
		if tg == "" {
			return apiError("InvalidParameterException", "targetGroupArn is required for an Application Load Balancer.")
		}
		name, port := aws.ToString(l.ContainerName), aws.ToInt32(l.ContainerPort)
		found := false
		for _, c := range td.def.ContainerDefinitions {
			if aws.ToString(c.Name) != name {
				continue
			}
			for _, p := range c.PortMappings {
				if aws.ToInt32(p.ContainerPort) == port {
					found = true
				}
			}
		}
		if !found {
			return apiError("InvalidParameterException", "The container %s did not have a container port %d defined.", name, port)
		}
		if lb := s.lb(); lb != nil && !lb.tgHasLoadBalancer(tg) {
			return apiError("InvalidParameterException", "The target group with targetGroupArn %s does not have an associated load balancer.", tg)
		}
	}
	return nil
}

func (s *ecsSim) newDeployment(sv *ecsService, now time.Time) *ecsDeployment {
	return &ecsDeployment{id: s.newDeploymentID(), status: "PRIMARY", taskDef: sv.taskDef, desired: sv.desired,
		rollout: et.DeploymentRolloutStateInProgress, reason: "ECS deployment in progress.", created: now, updated: now,
		network: deepCopyJSON(sv.network), platform: sv.platform}
}

// CreateService: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
// A name in use by an ACTIVE service (other than a retry with the same
// clientToken) or by a DRAINING one fails with "Creation of service was not
// idempotent."
func (s *ecsSim) CreateService(_ context.Context, in *ecs.CreateServiceInput) (*ecs.CreateServiceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	now := s.c.now()
	s.advance(now)
	cl, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.ServiceName)
	if !ecsNameOK(name) {
		return nil, apiError("InvalidParameterException", "Service name %q: up to 255 letters, numbers, underscores and hyphens", name)
	}
	token := aws.ToString(in.ClientToken)
	if len(token) > 36 {
		return nil, apiError("InvalidParameterException", "clientToken can be at most 36 characters long.")
	}
	key := s.serviceKey(cl.name, name)
	if old, ok := s.services[key]; ok && old.status != "INACTIVE" {
		if token != "" && old.token == token && old.status == "ACTIVE" {
			return &ecs.CreateServiceOutput{Service: s.serviceOut(old, now, false)}, nil
		}
		return nil, apiError("InvalidParameterException", "Creation of service was not idempotent.")
	}
	if err := validateECSTags(in.Tags); err != nil {
		return nil, err
	}
	if in.LaunchType != et.LaunchTypeFargate {
		return nil, apiError("InvalidParameterException", "The simulated cloud supports launchType FARGATE only.")
	}
	if in.DesiredCount == nil || *in.DesiredCount < 0 {
		return nil, apiError("InvalidParameterException", "desiredCount is required for the REPLICA scheduling strategy.")
	}
	td, err := s.usableTD(aws.ToString(in.TaskDefinition))
	if err != nil {
		return nil, err
	}
	if err := s.validateNetwork(in.NetworkConfiguration); err != nil {
		return nil, err
	}
	if err := s.validateLBs(in.LoadBalancers, td); err != nil {
		return nil, err
	}
	if in.HealthCheckGracePeriodSeconds != nil && len(in.LoadBalancers) == 0 {
		return nil, apiError("InvalidParameterException", "Health check grace period is only valid for services configured to use load balancers")
	}
	dc := deploymentDefaults(in.DeploymentConfiguration)
	if err := validateDeploymentConfig(dc); err != nil {
		return nil, err
	}
	platform := aws.ToString(in.PlatformVersion)
	if platform == "" {
		platform = "LATEST"
	}
	sv := &ecsService{name: name, arn: s.arn("service", cl.name+"/"+name), cluster: cl.name, status: "ACTIVE",
		desired: *in.DesiredCount, taskDef: td.arn, launchType: in.LaunchType, platform: platform,
		network: deepCopyJSON(in.NetworkConfiguration), lbs: deepCopyJSON(in.LoadBalancers), grace: in.HealthCheckGracePeriodSeconds,
		deployCfg: dc, propagate: in.PropagateTags, managedTags: in.EnableECSManagedTags, tags: ecsTagMap(in.Tags),
		token: token, createdAt: now}
	if sv.propagate == "" {
		sv.propagate = et.PropagateTagsNone
	}
	if sv.network.AwsvpcConfiguration.AssignPublicIp == "" {
		sv.network.AwsvpcConfiguration.AssignPublicIp = et.AssignPublicIpDisabled
	}
	sv.deployments = []*ecsDeployment{s.newDeployment(sv, now)}
	s.services[key] = sv
	s.c.openWindow(WinECSDescribe, sv.arn, nil)
	if token != "" {
		s.tokens[token] = key
	}
	s.schedule(sv, now)
	return &ecs.CreateServiceOutput{Service: s.serviceOut(sv, now, false)}, nil
}

// UpdateService: a new task definition, network configuration, load
// balancers, platform version or forceNewDeployment starts a new deployment;
// a desired count change does not.
func (s *ecsSim) UpdateService(_ context.Context, in *ecs.UpdateServiceInput) (*ecs.UpdateServiceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	now := s.c.now()
	s.advance(now)
	cl, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	sv := s.findService(cl.name, aws.ToString(in.Service))
	if sv == nil {
		return nil, apiError("ServiceNotFoundException", "Service not found.")
	}
	if sv.status != "ACTIVE" {
		return nil, apiError("ServiceNotActiveException", "Service was not ACTIVE.")
	}
	newDeploy := in.ForceNewDeployment
	td := s.findTD(sv.taskDef)
	if in.TaskDefinition != nil {
		if td, err = s.usableTD(aws.ToString(in.TaskDefinition)); err != nil {
			return nil, err
		}
		newDeploy = newDeploy || td.arn != sv.taskDef
	}
	if in.NetworkConfiguration != nil {
		if err := s.validateNetwork(in.NetworkConfiguration); err != nil {
			return nil, err
		}
	}
	lbs := sv.lbs
	if in.LoadBalancers != nil {
		lbs = in.LoadBalancers
	}
	if td != nil && (in.LoadBalancers != nil || in.TaskDefinition != nil) {
		if err := s.validateLBs(lbs, td); err != nil {
			return nil, err
		}
	}
	if in.DesiredCount != nil && *in.DesiredCount < 0 {
		return nil, apiError("InvalidParameterException", "desiredCount must not be negative.")
	}
	dc := sv.deployCfg
	if in.DeploymentConfiguration != nil {
		dc = deploymentDefaults(in.DeploymentConfiguration)
		if err := validateDeploymentConfig(dc); err != nil {
			return nil, err
		}
	}
	if in.HealthCheckGracePeriodSeconds != nil && len(lbs) == 0 {
		return nil, apiError("InvalidParameterException", "Health check grace period is only valid for services configured to use load balancers")
	}
	// Valid: apply.
	sv.deployCfg = dc
	if in.TaskDefinition != nil {
		sv.taskDef = td.arn
	}
	if in.NetworkConfiguration != nil {
		nc := deepCopyJSON(in.NetworkConfiguration)
		if nc.AwsvpcConfiguration.AssignPublicIp == "" {
			nc.AwsvpcConfiguration.AssignPublicIp = et.AssignPublicIpDisabled
		}
		newDeploy = newDeploy || !reflect.DeepEqual(nc, sv.network)
		sv.network = nc
	}
	if in.LoadBalancers != nil {
		newDeploy = newDeploy || !reflect.DeepEqual(deepCopyJSON(in.LoadBalancers), sv.lbs)
		sv.lbs = deepCopyJSON(in.LoadBalancers)
	}
	if p := aws.ToString(in.PlatformVersion); p != "" && p != sv.platform {
		sv.platform, newDeploy = p, true
	}
	if in.HealthCheckGracePeriodSeconds != nil {
		sv.grace = in.HealthCheckGracePeriodSeconds
	}
	if in.PropagateTags != "" {
		sv.propagate = in.PropagateTags
	}
	if in.EnableECSManagedTags != nil {
		sv.managedTags = *in.EnableECSManagedTags
	}
	if in.DesiredCount != nil {
		sv.desired = *in.DesiredCount
		sv.deployments[0].desired = sv.desired
	}
	if newDeploy {
		for _, d := range sv.deployments {
			d.status = "ACTIVE"
		}
		sv.deployments = append([]*ecsDeployment{s.newDeployment(sv, now)}, sv.deployments...)
	}
	s.schedule(sv, now)
	return &ecs.UpdateServiceOutput{Service: s.serviceOut(sv, now, false)}, nil
}

// DeleteService: desired count 0 or force; the service then drains (its
// tasks stop) and becomes INACTIVE.
func (s *ecsSim) DeleteService(_ context.Context, in *ecs.DeleteServiceInput) (*ecs.DeleteServiceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	now := s.c.now()
	s.advance(now)
	cl, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	sv := s.findService(cl.name, aws.ToString(in.Service))
	if sv == nil || sv.status == "INACTIVE" {
		return nil, apiError("ServiceNotFoundException", "Service not found.")
	}
	if sv.status != "ACTIVE" {
		return nil, apiError("ServiceNotActiveException", "Service was not ACTIVE.")
	}
	if sv.desired > 0 && !aws.ToBool(in.Force) {
		return nil, apiError("InvalidParameterException", "The service cannot be stopped while it is scaled above 0.")
	}
	sv.status = "DRAINING"
	sv.desired = 0
	for _, d := range sv.deployments {
		d.desired = 0
	}
	sv.inactiveAt = now.Add(s.c.wall(s.c.Timing.ServiceDrain))
	if sv.token != "" {
		delete(s.tokens, sv.token)
	}
	s.schedule(sv, now)
	return &ecs.DeleteServiceOutput{Service: s.serviceOut(sv, now, false)}, nil
}

// DescribeServices reports unknown services in Failures with reason MISSING
// (not as an error); deleted ones are DRAINING, then INACTIVE.
func (s *ecsSim) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput) (*ecs.DescribeServicesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	now := s.c.now()
	s.advance(now)
	cl, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.Services) == 0 || len(in.Services) > 10 {
		return nil, apiError("InvalidParameterException", "services must list 1 to 10 services.")
	}
	tags := false
	for _, f := range in.Include {
		tags = tags || f == et.ServiceFieldTags
	}
	out := &ecs.DescribeServicesOutput{}
	for _, ref := range in.Services {
		sv := s.findService(cl.name, ref)
		if sv == nil || s.c.inWindow(WinECSDescribe, sv.arn) {
			out.Failures = append(out.Failures, et.Failure{Arn: aws.String(s.arn("service", cl.name+"/"+lastSegment(ref))), Reason: aws.String("MISSING")})
			continue
		}
		out.Services = append(out.Services, *s.serviceOut(sv, now, tags))
	}
	return out, nil
}

// ListServices lists the ACTIVE and DRAINING services of a cluster.
func (s *ecsSim) ListServices(_ context.Context, in *ecs.ListServicesInput) (*ecs.ListServicesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.advance(s.c.now())
	cl, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	var arns []string
	for _, key := range sortedKeys(s.services) {
		if sv := s.services[key]; sv.cluster == cl.name && sv.status != "INACTIVE" &&
			!(s.c.windowOpen(WinECSDescribe, sv.arn) && s.c.inWindow(WinECSDescribe, sv.arn)) {
			arns = append(arns, sv.arn)
		}
	}
	max := in.MaxResults
	if max == nil || *max < 1 || *max > 100 {
		max = aws.Int32(10)
	}
	page, next := paginate(arns, max, in.NextToken)
	return &ecs.ListServicesOutput{ServiceArns: page, NextToken: next}, nil
}

func (s *ecsSim) serviceOut(sv *ecsService, now time.Time, withTags bool) *et.Service {
	out := &et.Service{
		ServiceName: aws.String(sv.name), ServiceArn: aws.String(sv.arn), ClusterArn: aws.String(s.arn("cluster", sv.cluster)),
		Status: aws.String(sv.status), DesiredCount: sv.desired, TaskDefinition: aws.String(sv.taskDef),
		LaunchType: sv.launchType, PlatformVersion: aws.String(sv.platform), PlatformFamily: aws.String("Linux"),
		NetworkConfiguration: deepCopyJSON(sv.network), LoadBalancers: deepCopyJSON(sv.lbs),
		HealthCheckGracePeriodSeconds: sv.grace, PropagateTags: sv.propagate, EnableECSManagedTags: sv.managedTags,
		SchedulingStrategy: et.SchedulingStrategyReplica, CreatedAt: aws.Time(sv.createdAt),
		DeploymentController: &et.DeploymentController{Type: et.DeploymentControllerTypeEcs},
		Events:               append([]et.ServiceEvent(nil), sv.events...),
	}
	dc := deepCopyJSON(sv.deployCfg)
	out.DeploymentConfiguration = &dc
	if sv.grace == nil && len(sv.lbs) > 0 {
		out.HealthCheckGracePeriodSeconds = aws.Int32(0)
	}
	for _, d := range sv.deployments {
		dep := et.Deployment{Id: aws.String(d.id), Status: aws.String(d.status), TaskDefinition: aws.String(d.taskDef),
			DesiredCount: d.desired, FailedTasks: d.failed, RolloutState: d.rollout, RolloutStateReason: aws.String(d.reason),
			CreatedAt: aws.Time(d.created), UpdatedAt: aws.Time(d.updated), LaunchType: sv.launchType,
			NetworkConfiguration: deepCopyJSON(d.network), PlatformVersion: aws.String(d.platform), PlatformFamily: aws.String("Linux")}
		for _, t := range s.tasks {
			if t.deployment != d.id {
				continue
			}
			switch t.lastStatus(now) {
			case "RUNNING":
				dep.RunningCount++
			case "PROVISIONING", "PENDING":
				dep.PendingCount++
			}
		}
		out.RunningCount += dep.RunningCount
		out.PendingCount += dep.PendingCount
		out.Deployments = append(out.Deployments, dep)
	}
	if withTags {
		out.Tags = ecsTagList(sv.tags)
	}
	return out
}

// circuitThreshold is the number of failed tasks after which the deployment
// circuit breaker fails a deployment: 0.5 x desired count, at least 3, at
// most 200 (API reference, ServiceDeploymentCircuitBreaker "threshold").
func circuitThreshold(desired int32) int32 {
	t := (desired + 1) / 2
	return min(max(t, 3), 200)
}
