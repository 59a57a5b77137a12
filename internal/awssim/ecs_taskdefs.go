package awssim

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	et "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

type ecsTaskDef struct {
	arn, family string
	revision    int32
	status      string // ACTIVE, INACTIVE, DELETE_IN_PROGRESS
	def         et.TaskDefinition
	tags        map[string]string
}

// fargateSizes is the table of valid Fargate task sizes (Amazon ECS Developer
// Guide, "Task CPU and memory" / RegisterTaskDefinition "memory"): CPU units
// to the allowed memory in MiB.
var fargateSizes = map[int]func(mem int) bool{
	256:   func(m int) bool { return m == 512 || m == 1024 || m == 2048 },
	512:   func(m int) bool { return m >= 1024 && m <= 4096 && m%1024 == 0 },
	1024:  func(m int) bool { return m >= 2048 && m <= 8192 && m%1024 == 0 },
	2048:  func(m int) bool { return m >= 4096 && m <= 16384 && m%1024 == 0 },
	4096:  func(m int) bool { return m >= 8192 && m <= 30720 && m%1024 == 0 },
	8192:  func(m int) bool { return m >= 16384 && m <= 61440 && m%4096 == 0 },
	16384: func(m int) bool { return m >= 32768 && m <= 122880 && m%8192 == 0 },
}

// parseUnits reads a task cpu or memory value: an integer ("256", "512"), or
// with a unit ("0.25 vCPU", "1 GB"), as RegisterTaskDefinition accepts.
func parseUnits(v string, unit string, perUnit float64) (int, bool) {
	v = strings.TrimSpace(v)
	if n, err := strconv.Atoi(v); err == nil {
		return n, true
	}
	if i := strings.Index(strings.ToLower(v), strings.ToLower(unit)); i > 0 {
		f, err := strconv.ParseFloat(strings.TrimSpace(v[:i]), 64)
		if err == nil {
			return int(f * perUnit), true
		}
	}
	return 0, false
}

// findTD resolves "family", "family:revision" or a task definition ARN. A
// bare family means its latest ACTIVE revision.
func (s *ecsSim) findTD(ref string) *ecsTaskDef {
	if i := strings.Index(ref, ":task-definition/"); i >= 0 {
		ref = ref[i+len(":task-definition/"):]
	}
	fam, rev, hasRev := strings.Cut(ref, ":")
	revs := s.tds[fam]
	if !hasRev {
		for i := len(revs) - 1; i >= 0; i-- {
			if revs[i].status == "ACTIVE" {
				return revs[i]
			}
		}
		return nil
	}
	n, err := strconv.Atoi(rev)
	if err != nil || n < 1 || n > len(revs) || revs[n-1].status == "DELETE_IN_PROGRESS" {
		return nil
	}
	return revs[n-1]
}

// validateTaskDef applies the RegisterTaskDefinition rules AWS enforces for
// Fargate task definitions (API reference, RegisterTaskDefinition and
// ContainerDefinition; Developer Guide "Fargate task definition
// considerations").
func validateTaskDef(in *ecs.RegisterTaskDefinitionInput) error {
	fam := aws.ToString(in.Family)
	if !ecsNameOK(fam) {
		return apiError("ClientException", "Family contains invalid characters or is longer than 255: %q", fam)
	}
	if len(in.ContainerDefinitions) == 0 {
		return apiError("ClientException", "Container list cannot be empty.")
	}
	if err := validateECSTags(in.Tags); err != nil {
		return err
	}
	fargate := false
	for _, c := range in.RequiresCompatibilities {
		if c == et.CompatibilityFargate {
			fargate = true
		}
	}
	if fargate {
		if in.NetworkMode != et.NetworkModeAwsvpc {
			return apiError("ClientException", "Fargate only supports network mode ‘awsvpc’.")
		}
		cpu, ok1 := parseUnits(aws.ToString(in.Cpu), "vcpu", 1024)
		mem, ok2 := parseUnits(aws.ToString(in.Memory), "gb", 1024)
		if !ok1 || !ok2 {
			return apiError("ClientException", "Fargate requires that 'cpu' be defined at the task level.")
		}
		if ok := fargateSizes[cpu]; ok == nil || !ok(mem) {
			return apiError("ClientException", "No Fargate configuration exists for given values: %s CPU, %s memory. See the Amazon ECS documentation for the valid values.",
				aws.ToString(in.Cpu), aws.ToString(in.Memory))
		}
	}
	if e := in.EphemeralStorage; e != nil && (e.SizeInGiB < 21 || e.SizeInGiB > 200) {
		return apiError("ClientException", "The ephemeral storage size must be between 21 and 200 GiB.")
	}
	if rp := in.RuntimePlatform; rp != nil {
		switch rp.CpuArchitecture {
		case "", et.CPUArchitectureX8664, et.CPUArchitectureArm64:
		default:
			return apiError("ClientException", "Invalid cpuArchitecture %q", rp.CpuArchitecture)
		}
	}
	volumes := map[string]bool{}
	for _, v := range in.Volumes {
		volumes[aws.ToString(v.Name)] = true
	}
	byName := map[string]*et.ContainerDefinition{}
	for i := range in.ContainerDefinitions {
		c := &in.ContainerDefinitions[i]
		name := aws.ToString(c.Name)
		if name == "" || aws.ToString(c.Image) == "" {
			return apiError("ClientException", "Container.name and Container.image should not be null or empty.")
		}
		if byName[name] != nil {
			return apiError("ClientException", "Duplicate container name %q.", name)
		}
		byName[name] = c
		if fargate && c.StopTimeout != nil && (*c.StopTimeout < 0 || *c.StopTimeout > 120) {
			return apiError("ClientException", "Container %s: stopTimeout must be between 0 and 120 seconds on Fargate.", name)
		}
		if fargate && aws.ToBool(c.Privileged) {
			return apiError("ClientException", "Privileged containers are not supported on Fargate.")
		}
		for _, m := range c.MountPoints {
			if !volumes[aws.ToString(m.SourceVolume)] {
				return apiError("ClientException", "Invalid 'mountPoints' setting for container '%s': sourceVolume '%s' does not exist.", name, aws.ToString(m.SourceVolume))
			}
		}
		for _, p := range c.PortMappings {
			if in.NetworkMode == et.NetworkModeAwsvpc && p.HostPort != nil && p.ContainerPort != nil && *p.HostPort != *p.ContainerPort {
				return apiError("ClientException", "When networkMode=awsvpc, the host ports and container ports in port mappings must match.")
			}
		}
		if lc := c.LogConfiguration; lc != nil && lc.LogDriver == et.LogDriverAwslogs {
			if lc.Options["awslogs-group"] == "" || lc.Options["awslogs-region"] == "" {
				return apiError("ClientException", "Log driver awslogs requires options awslogs-group and awslogs-region.")
			}
			if fargate && lc.Options["awslogs-stream-prefix"] == "" {
				return apiError("ClientException", "Log driver awslogs requires option awslogs-stream-prefix on Fargate.")
			}
			if fargate && aws.ToString(in.ExecutionRoleArn) == "" {
				return apiError("ClientException", "Fargate requires task definition to have execution role ARN to support log driver awslogs.")
			}
		}
	}
	essentials := 0
	for _, c := range byName {
		if c.Essential == nil || *c.Essential {
			essentials++
		}
	}
	if essentials == 0 {
		return apiError("ClientException", "A task definition must have at least one essential container.")
	}
	// ContainerDependency (API reference): the container must exist; COMPLETE
	// and SUCCESS can't be set on an essential container; HEALTHY needs a
	// health check on the dependency; the graph must not have cycles.
	for name, c := range byName {
		for _, d := range c.DependsOn {
			dep := aws.ToString(d.ContainerName)
			target := byName[dep]
			switch {
			case target == nil:
				return apiError("ClientException", "Container %s depends on container %s which does not exist in the task definition.", name, dep)
			case dep == name:
				return apiError("ClientException", "Container %s cannot depend on itself.", name)
			}
			switch d.Condition {
			case et.ContainerConditionStart:
			case et.ContainerConditionComplete, et.ContainerConditionSuccess:
				if target.Essential == nil || *target.Essential {
					return apiError("ClientException", "Container %s: dependency condition %s can't be set on the essential container %s.", name, d.Condition, dep)
				}
			case et.ContainerConditionHealthy:
				if target.HealthCheck == nil {
					return apiError("ClientException", "Container %s: dependency condition HEALTHY requires a health check on container %s.", name, dep)
				}
			default:
				return apiError("ClientException", "Invalid dependency condition %q.", d.Condition)
			}
		}
	}
	state := map[string]int{}
	var visit func(string) bool
	visit = func(n string) bool {
		switch state[n] {
		case 1:
			return false
		case 2:
			return true
		}
		state[n] = 1
		for _, d := range byName[n].DependsOn {
			if !visit(aws.ToString(d.ContainerName)) {
				return false
			}
		}
		state[n] = 2
		return true
	}
	for _, n := range sortedKeys(byName) {
		if !visit(n) {
			return apiError("ClientException", "Container dependencies form a cycle through %s.", n)
		}
	}
	// The whole task definition is limited to 64 KiB (service quota).
	if b, _ := json.Marshal(in.ContainerDefinitions); len(b) > 64*1024 {
		return apiError("ClientException", "Actual length: '%d'. Max allowed length is '65536' bytes.", len(b))
	}
	return nil
}

// RegisterTaskDefinition always registers a new revision of the family
// (RegisterTaskDefinition API reference); AWS fills the defaults it reports
// back (essential true, hostPort = containerPort under awsvpc, protocol tcp).
func (s *ecsSim) RegisterTaskDefinition(_ context.Context, in *ecs.RegisterTaskDefinitionInput) (*ecs.RegisterTaskDefinitionOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.advance(s.c.now())
	if err := validateTaskDef(in); err != nil {
		return nil, err
	}
	// ECS checks that it can assume the roles it is given: a role IAM has not
	// propagated yet answers ClientException "Role is not valid"
	// (terraform-provider-aws retries RegisterTaskDefinition on exactly that,
	// internal/service/ecs/task_definition.go).
	for _, role := range []string{aws.ToString(in.ExecutionRoleArn), aws.ToString(in.TaskRoleArn)} {
		if role != "" && !s.roleUsable(role) {
			return nil, apiError("ClientException", "Role is not valid")
		}
	}
	fam := aws.ToString(in.Family)
	rev := int32(len(s.tds[fam]) + 1)
	arn := s.arn("task-definition", fam+":"+strconv.Itoa(int(rev)))
	def := et.TaskDefinition{
		TaskDefinitionArn: aws.String(arn), Family: aws.String(fam), Revision: rev, Status: et.TaskDefinitionStatusActive,
		Cpu: in.Cpu, Memory: in.Memory, NetworkMode: in.NetworkMode, ExecutionRoleArn: in.ExecutionRoleArn,
		TaskRoleArn: in.TaskRoleArn, RuntimePlatform: in.RuntimePlatform, EphemeralStorage: in.EphemeralStorage,
		RequiresCompatibilities: in.RequiresCompatibilities, Volumes: deepCopyJSON(in.Volumes),
		PidMode: in.PidMode, IpcMode: in.IpcMode, RegisteredAt: aws.Time(s.c.now()),
		RegisteredBy:    aws.String("arn:aws:iam::" + s.c.Account + ":user/simulated"),
		Compatibilities: []et.Compatibility{et.CompatibilityEc2, et.CompatibilityFargate},
	}
	def.ContainerDefinitions = deepCopyJSON(in.ContainerDefinitions)
	for i := range def.ContainerDefinitions {
		c := &def.ContainerDefinitions[i]
		if c.Essential == nil {
			c.Essential = aws.Bool(true)
		}
		for j := range c.PortMappings {
			p := &c.PortMappings[j]
			if p.HostPort == nil && in.NetworkMode == et.NetworkModeAwsvpc {
				p.HostPort = p.ContainerPort
			}
			if p.Protocol == "" {
				p.Protocol = et.TransportProtocolTcp
			}
		}
	}
	for i := range def.Volumes {
		if def.Volumes[i].Host == nil && def.Volumes[i].EfsVolumeConfiguration == nil && def.Volumes[i].DockerVolumeConfiguration == nil {
			def.Volumes[i].Host = &et.HostVolumeProperties{}
		}
	}
	td := &ecsTaskDef{arn: arn, family: fam, revision: rev, status: "ACTIVE", def: def, tags: ecsTagMap(in.Tags)}
	s.tds[fam] = append(s.tds[fam], td)
	out := td.def
	return &ecs.RegisterTaskDefinitionOutput{TaskDefinition: &out, Tags: ecsTagList(td.tags)}, nil
}

// deepCopyJSON copies SDK values so callers cannot alias the sim's state.
func deepCopyJSON[T any](v T) T {
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

func (s *ecsSim) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	td := s.findTD(aws.ToString(in.TaskDefinition))
	if td == nil {
		return nil, apiError("ClientException", "Unable to describe task definition.")
	}
	def := deepCopyJSON(td.def)
	out := &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &def}
	for _, f := range in.Include {
		if f == et.TaskDefinitionFieldTags {
			out.Tags = ecsTagList(td.tags)
		}
	}
	return out, nil
}

// DeregisterTaskDefinition needs a revision (family:revision or the ARN).
func (s *ecsSim) DeregisterTaskDefinition(_ context.Context, in *ecs.DeregisterTaskDefinitionInput) (*ecs.DeregisterTaskDefinitionOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	ref := aws.ToString(in.TaskDefinition)
	if !strings.Contains(lastSegment(ref), ":") {
		return nil, apiError("ClientException", "The specified task definition does not include a revision: %s", ref)
	}
	td := s.findTD(ref)
	if td == nil {
		return nil, apiError("ClientException", "The specified task definition does not exist.")
	}
	if td.status == "ACTIVE" {
		td.status = "INACTIVE"
		td.def.Status = et.TaskDefinitionStatusInactive
		td.def.DeregisteredAt = aws.Time(s.c.now())
	}
	def := deepCopyJSON(td.def)
	return &ecs.DeregisterTaskDefinitionOutput{TaskDefinition: &def}, nil
}

// DeleteTaskDefinitions deletes up to 10 INACTIVE revisions; the others are
// reported in Failures (DeleteTaskDefinitions API reference).
func (s *ecsSim) DeleteTaskDefinitions(_ context.Context, in *ecs.DeleteTaskDefinitionsInput) (*ecs.DeleteTaskDefinitionsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	if len(in.TaskDefinitions) == 0 || len(in.TaskDefinitions) > 10 {
		return nil, apiError("InvalidParameterException", "taskDefinitions must list 1 to 10 task definitions")
	}
	out := &ecs.DeleteTaskDefinitionsOutput{}
	for _, ref := range in.TaskDefinitions {
		td := s.findTD(ref)
		switch {
		case td == nil || !strings.Contains(lastSegment(ref), ":"):
			out.Failures = append(out.Failures, et.Failure{Arn: aws.String(ref), Reason: aws.String("The specified task definition does not exist.")})
		case td.status == "ACTIVE":
			out.Failures = append(out.Failures, et.Failure{Arn: aws.String(td.arn), Reason: aws.String("The specified task definition is still in ACTIVE status. Please deregister the target and try again.")})
		default:
			td.status = "DELETE_IN_PROGRESS"
			td.def.Status = et.TaskDefinitionStatusDeleteInProgress
			td.def.DeleteRequestedAt = aws.Time(s.c.now())
			out.TaskDefinitions = append(out.TaskDefinitions, deepCopyJSON(td.def))
		}
	}
	return out, nil
}

// ListTaskDefinitions lists revision ARNs whose family starts with the prefix,
// ACTIVE by default, ascending by family and revision.
func (s *ecsSim) ListTaskDefinitions(_ context.Context, in *ecs.ListTaskDefinitionsInput) (*ecs.ListTaskDefinitionsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	status := string(in.Status)
	if status == "" {
		status = "ACTIVE"
	}
	var arns []string
	for _, fam := range sortedKeys(s.tds) {
		if !strings.HasPrefix(fam, aws.ToString(in.FamilyPrefix)) {
			continue
		}
		for _, td := range s.tds[fam] {
			if td.status == status {
				arns = append(arns, td.arn)
			}
		}
	}
	if in.Sort == et.SortOrderDesc {
		for i, j := 0, len(arns)-1; i < j; i, j = i+1, j-1 {
			arns[i], arns[j] = arns[j], arns[i]
		}
	}
	max := in.MaxResults
	if max == nil || *max > 100 || *max < 1 {
		max = aws.Int32(100)
	}
	page, next := paginate(arns, max, in.NextToken)
	return &ecs.ListTaskDefinitionsOutput{TaskDefinitionArns: page, NextToken: next}, nil
}

// ListTaskDefinitionFamilies: ACTIVE = families with an active revision,
// INACTIVE = families with none, ALL = both.
func (s *ecsSim) ListTaskDefinitionFamilies(_ context.Context, in *ecs.ListTaskDefinitionFamiliesInput) (*ecs.ListTaskDefinitionFamiliesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	status := in.Status
	if status == "" {
		status = et.TaskDefinitionFamilyStatusActive
	}
	var fams []string
	for _, fam := range sortedKeys(s.tds) {
		if !strings.HasPrefix(fam, aws.ToString(in.FamilyPrefix)) {
			continue
		}
		active := false
		for _, td := range s.tds[fam] {
			active = active || td.status == "ACTIVE"
		}
		if status == et.TaskDefinitionFamilyStatusAll || active == (status == et.TaskDefinitionFamilyStatusActive) {
			fams = append(fams, fam)
		}
	}
	max := in.MaxResults
	if max == nil || *max > 100 || *max < 1 {
		max = aws.Int32(100)
	}
	page, next := paginate(fams, max, in.NextToken)
	return &ecs.ListTaskDefinitionFamiliesOutput{Families: page, NextToken: next}, nil
}
