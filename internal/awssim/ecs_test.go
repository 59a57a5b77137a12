package awssim

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2t "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	et "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
)

func ecsTestClients(t *testing.T, timing *Timing) (*Cloud, *awsclients.Clients) {
	t.Helper()
	c := New(Options{Timing: timing, ConsistencyMisses: -1, NoThrottling: true})
	cl, err := awsclients.New(context.Background(), awsclients.Options{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATED", "secret", ""),
		APIOptions: c.APIOptions(), RetryMode: "standard", MaxAttempts: 5, MaxBackoff: time.Millisecond,
		Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, cl
}

func ecsCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// ecsNet makes a VPC with two subnets and a security group.
func ecsNet(t *testing.T, cl *awsclients.Clients) (subnets []string, sg string) {
	t.Helper()
	ctx := context.Background()
	v, err := cl.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	for i, cidr := range []string{"10.0.1.0/24", "10.0.2.0/24"} {
		s, err := cl.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String(cidr),
			AvailabilityZone: aws.String([]string{"us-east-1a", "us-east-1b"}[i])})
		if err != nil {
			t.Fatal(err)
		}
		subnets = append(subnets, aws.ToString(s.Subnet.SubnetId))
	}
	g, err := cl.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: v.Vpc.VpcId, GroupName: aws.String("tasks"), Description: aws.String("tasks")})
	if err != nil {
		t.Fatal(err)
	}
	return subnets, aws.ToString(g.GroupId)
}

func ecsTaskDefInput(family, image string) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), RequiresCompatibilities: []et.Compatibility{et.CompatibilityFargate},
		NetworkMode: et.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		Volumes: []et.Volume{{Name: aws.String("boards")}},
		ContainerDefinitions: []et.ContainerDefinition{
			{Name: aws.String("app"), Image: aws.String(image), PortMappings: []et.PortMapping{{ContainerPort: aws.Int32(80)}},
				DependsOn:   []et.ContainerDependency{{ContainerName: aws.String("init"), Condition: et.ContainerConditionSuccess}},
				MountPoints: []et.MountPoint{{SourceVolume: aws.String("boards"), ContainerPath: aws.String("/data")}}},
			{Name: aws.String("init"), Image: aws.String("busybox"), Essential: aws.Bool(false)},
		},
	}
}

func ecsServiceInput(cluster, name, td string, subnets []string, sg string, desired int32) *ecs.CreateServiceInput {
	return &ecs.CreateServiceInput{
		Cluster: aws.String(cluster), ServiceName: aws.String(name), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(desired),
		LaunchType: et.LaunchTypeFargate,
		NetworkConfiguration: &et.NetworkConfiguration{AwsvpcConfiguration: &et.AwsVpcConfiguration{
			Subnets: subnets, SecurityGroups: []string{sg}, AssignPublicIp: et.AssignPublicIpEnabled}},
		DeploymentConfiguration: &et.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(0), MaximumPercent: aws.Int32(100),
			DeploymentCircuitBreaker: &et.DeploymentCircuitBreaker{Enable: true, Rollback: true}},
		PropagateTags: et.PropagateTagsService, Tags: []et.Tag{{Key: aws.String("team"), Value: aws.String("boards")}},
	}
}

// ecsWait polls DescribeServices until cond holds (the simulated clock runs
// at 1e-4: a few AWS minutes are a few tens of milliseconds).
func ecsWait(t *testing.T, cl *awsclients.Clients, cluster, name string, cond func(et.Service) bool) et.Service {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := cl.ECS.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Services) == 1 && cond(out.Services[0]) {
			return out.Services[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("service %s never reached the state; last %+v", name, out)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func primaryOf(s et.Service) et.Deployment {
	for _, d := range s.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			return d
		}
	}
	return et.Deployment{}
}

func TestECSClusterLifecycle(t *testing.T) {
	_, cl := ecsTestClients(t, nil)
	ctx := context.Background()
	a, err := cl.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("wbo"),
		Settings: []et.ClusterSetting{{Name: et.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cl.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("wbo")})
	if err != nil || aws.ToString(a.Cluster.ClusterArn) != aws.ToString(b.Cluster.ClusterArn) {
		t.Fatalf("CreateCluster on an active name must return that cluster: %v %v", b, err)
	}
	d, err := cl.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"wbo", "nope"}, Include: []et.ClusterField{et.ClusterFieldSettings}})
	if err != nil || len(d.Clusters) != 1 || len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" {
		t.Fatalf("describe: %+v %v", d, err)
	}
	if v := aws.ToString(d.Clusters[0].Settings[0].Value); v != "enabled" {
		t.Fatalf("container insights %q", v)
	}
	if _, err := cl.ECS.UpdateClusterSettings(ctx, &ecs.UpdateClusterSettingsInput{Cluster: aws.String("wbo"),
		Settings: []et.ClusterSetting{{Name: et.ClusterSettingNameContainerInsights, Value: aws.String("sometimes")}}}); ecsCode(err) != "InvalidParameterException" {
		t.Fatalf("bad setting: %v", err)
	}
	if _, err := cl.ECS.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("wbo")}); err != nil {
		t.Fatal(err)
	}
	d, _ = cl.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"wbo"}})
	if aws.ToString(d.Clusters[0].Status) != "INACTIVE" {
		t.Fatalf("deleted cluster is %s", aws.ToString(d.Clusters[0].Status))
	}
	if _, err := cl.ECS.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("wbo")}); ecsCode(err) != "ClusterNotFoundException" {
		t.Fatalf("second delete: %v", err)
	}
}

func TestECSTaskDefinitionValidation(t *testing.T) {
	_, cl := ecsTestClients(t, nil)
	ctx := context.Background()
	cases := []struct {
		name string
		mod  func(*ecs.RegisterTaskDefinitionInput)
	}{
		{"invalid fargate size", func(in *ecs.RegisterTaskDefinitionInput) { in.Memory = aws.String("4096") }},
		{"not awsvpc", func(in *ecs.RegisterTaskDefinitionInput) { in.NetworkMode = et.NetworkModeBridge }},
		{"unknown dependency", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[0].DependsOn[0].ContainerName = aws.String("ghost")
		}},
		{"SUCCESS on an essential container", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[1].Essential = aws.Bool(true)
		}},
		{"dependency cycle", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[1].DependsOn = []et.ContainerDependency{{ContainerName: aws.String("app"), Condition: et.ContainerConditionStart}}
		}},
		{"HEALTHY without health check", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[0].DependsOn[0].Condition = et.ContainerConditionHealthy
		}},
		{"stop timeout above 120", func(in *ecs.RegisterTaskDefinitionInput) { in.ContainerDefinitions[0].StopTimeout = aws.Int32(121) }},
		{"unknown volume", func(in *ecs.RegisterTaskDefinitionInput) { in.Volumes = nil }},
		{"awslogs without execution role", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[0].LogConfiguration = &et.LogConfiguration{LogDriver: et.LogDriverAwslogs,
				Options: map[string]string{"awslogs-group": "g", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "p"}}
		}},
		{"ephemeral storage 20", func(in *ecs.RegisterTaskDefinitionInput) { in.EphemeralStorage = &et.EphemeralStorage{SizeInGiB: 20} }},
	}
	for _, c := range cases {
		in := ecsTaskDefInput("fam", "img")
		c.mod(in)
		if _, err := cl.ECS.RegisterTaskDefinition(ctx, in); ecsCode(err) != "ClientException" {
			t.Errorf("%s: got %v, want ClientException", c.name, err)
		}
	}
	// Every registration is a new revision, with AWS's defaults filled in.
	for rev := int32(1); rev <= 2; rev++ {
		out, err := cl.ECS.RegisterTaskDefinition(ctx, ecsTaskDefInput("fam", "img"))
		if err != nil || out.TaskDefinition.Revision != rev {
			t.Fatalf("revision %d: %+v %v", rev, out, err)
		}
		app := out.TaskDefinition.ContainerDefinitions[0]
		if !aws.ToBool(app.Essential) || aws.ToInt32(app.PortMappings[0].HostPort) != 80 || app.PortMappings[0].Protocol != et.TransportProtocolTcp {
			t.Fatalf("defaults not filled: %+v", app)
		}
	}
	l, _ := cl.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("fam"), Sort: et.SortOrderDesc})
	if len(l.TaskDefinitionArns) != 2 || !strings.HasSuffix(l.TaskDefinitionArns[0], "fam:2") {
		t.Fatalf("list: %v", l.TaskDefinitionArns)
	}
	if _, err := cl.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("fam")}); ecsCode(err) != "ClientException" {
		t.Fatalf("deregister without a revision: %v", err)
	}
	if _, err := cl.ECS.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"fam:1"}}); err != nil {
		t.Fatal(err)
	}
	d, _ := cl.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("fam:1")})
	if d.TaskDefinition.Status != et.TaskDefinitionStatusActive {
		t.Fatal("DeleteTaskDefinitions must refuse (in Failures) an ACTIVE revision")
	}
	if _, err := cl.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("fam:2")}); err != nil {
		t.Fatal(err)
	}
	d, _ = cl.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("fam")})
	if d.TaskDefinition.Revision != 1 {
		t.Fatalf("a family names its latest ACTIVE revision, got %d", d.TaskDefinition.Revision)
	}
	f, _ := cl.ECS.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{FamilyPrefix: aws.String("fa")})
	if len(f.Families) != 1 || f.Families[0] != "fam" {
		t.Fatalf("families: %v", f.Families)
	}
}

// On the virtual clock (a synctest bubble): the ENI linger after the
// service is INACTIVE must not run out while a busy machine polls.
func TestECSServiceDeploymentsAndENIs(t *testing.T) {
	synctest.Test(t, testECSServiceDeploymentsAndENIs)
}

func testECSServiceDeploymentsAndENIs(t *testing.T) {
	c, cl := ecsTestClients(t, nil)
	ctx := context.Background()
	subnets, sg := ecsNet(t, cl)
	if _, err := cl.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("wbo")}); err != nil {
		t.Fatal(err)
	}
	td1, _ := cl.ECS.RegisterTaskDefinition(ctx, ecsTaskDefInput("svc", "app:v1"))
	in := ecsServiceInput("wbo", "svc", aws.ToString(td1.TaskDefinition.TaskDefinitionArn), subnets, sg, 1)
	in.ClientToken = aws.String("token-1")
	created, err := cl.ECS.CreateService(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := cl.ECS.CreateService(ctx, in)
	if err != nil || aws.ToString(again.Service.ServiceArn) != aws.ToString(created.Service.ServiceArn) {
		t.Fatalf("a create retried with the same clientToken must return the service: %v", err)
	}
	in2 := *in
	in2.ClientToken = aws.String("token-2")
	if _, err := cl.ECS.CreateService(ctx, &in2); ecsCode(err) != "InvalidParameterException" {
		t.Fatalf("a second create of an active name: %v", err)
	}
	// The task gets an ENI at once; the deployment completes when it runs.
	if got := c.Inventory(); !hasKind(got, "network-interface") {
		t.Fatal("a starting task must hold an ENI")
	}
	s := ecsWait(t, cl, "wbo", "svc", func(s et.Service) bool {
		return primaryOf(s).RolloutState == et.DeploymentRolloutStateCompleted
	})
	if s.RunningCount != 1 || len(s.Deployments) != 1 {
		t.Fatalf("steady service: %+v", s)
	}
	tasks, _ := cl.ECS.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("wbo"), ServiceName: aws.String("svc")})
	dt, _ := cl.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("wbo"), Tasks: tasks.TaskArns, Include: []et.TaskField{et.TaskFieldTags}})
	if len(dt.Tasks) != 1 || aws.ToString(dt.Tasks[0].LastStatus) != "RUNNING" || len(dt.Tasks[0].Tags) != 1 {
		t.Fatalf("running task with the service's tags (propagateTags SERVICE): %+v", dt.Tasks)
	}
	first := aws.ToString(dt.Tasks[0].TaskArn)

	// A broken image: three failed tasks trip the circuit breaker, which
	// rolls back to the last completed revision.
	td2, _ := cl.ECS.RegisterTaskDefinition(ctx, ecsTaskDefInput("svc", "app:"+BrokenImageMarker))
	up, err := cl.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("wbo"), Service: aws.String("svc"), TaskDefinition: td2.TaskDefinition.TaskDefinitionArn})
	if err != nil {
		t.Fatal(err)
	}
	failedID := aws.ToString(primaryOf(*up.Service).Id)
	s = ecsWait(t, cl, "wbo", "svc", func(s et.Service) bool {
		p := primaryOf(s)
		return aws.ToString(p.Id) != failedID && p.RolloutState == et.DeploymentRolloutStateCompleted
	})
	if aws.ToString(s.TaskDefinition) != aws.ToString(td1.TaskDefinition.TaskDefinitionArn) {
		t.Fatalf("rolled back to %s", aws.ToString(s.TaskDefinition))
	}
	stopped, _ := cl.ECS.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("wbo"), ServiceName: aws.String("svc"), DesiredStatus: et.DesiredStatusStopped})
	dt, _ = cl.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("wbo"), Tasks: stopped.TaskArns})
	broken := 0
	for _, task := range dt.Tasks {
		if aws.ToString(task.StartedBy) == failedID {
			broken++
			if aws.ToString(task.StoppedReason) != "Essential container in task exited" || task.StopCode != et.TaskStopCodeEssentialContainerExited {
				t.Fatalf("failed task: %s %s", aws.ToString(task.StoppedReason), task.StopCode)
			}
		}
	}
	if broken != 3 {
		t.Fatalf("%d failed tasks, want the circuit breaker threshold 3", broken)
	}
	// min 0 % / max 100 %: the first task was stopped before any new one ran.
	if !contains(stopped.TaskArns, first) {
		t.Fatal("the old task must stop during the deployment")
	}

	// Delete needs desired count 0 or force; the service then drains, its
	// name cannot be reused until it is INACTIVE, and its tasks' ENIs
	// linger and block the subnet.
	if _, err := cl.ECS.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("wbo"), Service: aws.String("svc")}); ecsCode(err) != "InvalidParameterException" {
		t.Fatalf("delete of a scaled service: %v", err)
	}
	if _, err := cl.ECS.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("wbo")}); ecsCode(err) != "ClusterContainsServicesException" {
		t.Fatalf("delete of a cluster with a service: %v", err)
	}
	del, err := cl.ECS.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("wbo"), Service: aws.String("svc"), Force: aws.Bool(true)})
	if err != nil || aws.ToString(del.Service.Status) != "DRAINING" {
		t.Fatalf("forced delete: %v %v", del, err)
	}
	in3 := *in
	in3.ClientToken = nil
	if _, err := cl.ECS.CreateService(ctx, &in3); ecsCode(err) != "InvalidParameterException" || !strings.Contains(err.Error(), "not idempotent") {
		t.Fatalf("re-create while draining: %v", err)
	}
	ecsWait(t, cl, "wbo", "svc", func(s et.Service) bool { return aws.ToString(s.Status) == "INACTIVE" })
	if _, err := cl.EC2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(subnets[0])}); ecsCode(err) != "DependencyViolation" {
		t.Fatalf("a stopped task's ENI must linger and block its subnet: %v", err)
	}
	d, _ := cl.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("wbo"), Services: []string{"ghost"}})
	if len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" {
		t.Fatalf("unknown service: %+v", d)
	}
	if _, err := cl.ECS.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("wbo")}); err != nil {
		t.Fatalf("delete cluster after the service is inactive: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for hasKind(c.Inventory(), "network-interface") {
		if time.Now().After(deadline) {
			t.Fatal("task ENIs never went away")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := cl.EC2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(subnets[0])}); err != nil {
		t.Fatalf("subnet after the ENIs are gone: %v", err)
	}
}

func hasKind(list []Resource, kind string) bool {
	for _, r := range list {
		if r.Kind == kind {
			return true
		}
	}
	return false
}

func TestECSFirstDeploymentFailsWithoutRollbackTarget(t *testing.T) {
	c, cl := ecsTestClients(t, nil)
	ctx := context.Background()
	subnets, sg := ecsNet(t, cl)
	cl.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("wbo")})
	td, _ := cl.ECS.RegisterTaskDefinition(ctx, ecsTaskDefInput("svc", "app:"+BrokenImageMarker))
	if _, err := cl.ECS.CreateService(ctx, ecsServiceInput("wbo", "svc", aws.ToString(td.TaskDefinition.TaskDefinitionArn), subnets, sg, 1)); err != nil {
		t.Fatal(err)
	}
	s := ecsWait(t, cl, "wbo", "svc", func(s et.Service) bool { return primaryOf(s).RolloutState == et.DeploymentRolloutStateFailed })
	if p := primaryOf(s); p.FailedTasks != 3 || !strings.Contains(aws.ToString(p.RolloutStateReason), "circuit breaker") {
		t.Fatalf("failed deployment: %+v", p)
	}
	// An hour later (played directly, no sleeping) no new task has started.
	c.lock()
	c.ecs().advance(time.Now().Add(c.wall(time.Hour)))
	c.unlock()
	s = ecsWait(t, cl, "wbo", "svc", func(et.Service) bool { return true })
	if p := primaryOf(s); p.FailedTasks != 3 || s.RunningCount+s.PendingCount != 0 {
		t.Fatalf("a FAILED deployment must stop launching tasks: %+v", p)
	}
}

// ecsRoleWorld is an account where IAM takes an hour to propagate, with a
// network, the cluster "wbo" and a new role trusting ECS tasks.
func ecsRoleWorld(t *testing.T, roleName string) (*Cloud, *awsclients.Clients, []string, string, *iam.CreateRoleOutput) {
	t.Helper()
	tm := RealisticTiming()
	tm.IAMPropagation = time.Hour
	c, cl := ecsTestClients(t, &tm)
	subnets, sg := ecsNet(t, cl)
	ctx := context.Background()
	if _, err := cl.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("wbo")}); err != nil {
		t.Fatal(err)
	}
	role, err := cl.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(roleName), AssumeRolePolicyDocument: aws.String(ecsTrust)})
	if err != nil {
		t.Fatal(err)
	}
	return c, cl, subnets, sg, role
}

func TestECSNetworkAndRoleChecks(t *testing.T) {
	c, cl, subnets, sg, role := ecsRoleWorld(t, "task")
	ctx := context.Background()
	in := ecsTaskDefInput("svc", "app:v1")
	in.TaskRoleArn = role.Role.Arn
	if _, err := cl.ECS.RegisterTaskDefinition(ctx, in); ecsCode(err) != "ClientException" || !strings.Contains(err.Error(), "Role is not valid") {
		t.Fatalf("RegisterTaskDefinition with a role IAM has not propagated yet: %v", err)
	}
	// The role propagated (white box: age it), the task definition registers;
	// then its trust policy changes and propagates again.
	c.lock()
	c.iam().roles["task"].created = time.Now().Add(-2 * time.Hour)
	c.unlock()
	td, err := cl.ECS.RegisterTaskDefinition(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("task"), PolicyDocument: aws.String(ecsTrust)}); err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	_, err = cl.ECS.CreateService(ctx, ecsServiceInput("wbo", "svc", arn, subnets, sg, 1))
	if ecsCode(err) != "InvalidParameterException" || !strings.Contains(err.Error(), "unable to assume the role") {
		t.Fatalf("a role IAM has not propagated yet: %v", err)
	}
	plain, _ := cl.ECS.RegisterTaskDefinition(ctx, ecsTaskDefInput("svc", "app:v1"))
	arn = aws.ToString(plain.TaskDefinition.TaskDefinitionArn)
	bad := ecsServiceInput("wbo", "svc2", arn, []string{"subnet-0000000000000dead"}, sg, 1)
	if _, err := cl.ECS.CreateService(ctx, bad); ecsCode(err) != "InvalidParameterException" {
		t.Fatalf("unknown subnet: %v", err)
	}
	other, _ := cl.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	og, _ := cl.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: other.Vpc.VpcId, GroupName: aws.String("x"), Description: aws.String("x"),
		TagSpecifications: []ec2t.TagSpecification{}})
	if _, err := cl.ECS.CreateService(ctx, ecsServiceInput("wbo", "svc3", arn, subnets, aws.ToString(og.GroupId), 1)); ecsCode(err) != "InvalidParameterException" {
		t.Fatalf("security group of another VPC: %v", err)
	}
	lb := ecsServiceInput("wbo", "svc4", arn, subnets, sg, 1)
	lb.LoadBalancers = []et.LoadBalancer{{TargetGroupArn: aws.String("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/1"),
		ContainerName: aws.String("app"), ContainerPort: aws.Int32(80)}}
	if _, err := cl.ECS.CreateService(ctx, lb); ecsCode(err) != "InvalidParameterException" || !strings.Contains(err.Error(), "does not have an associated load balancer") {
		t.Fatalf("target group without a load balancer: %v", err)
	}
	lb.LoadBalancers[0].ContainerPort = aws.Int32(8080)
	if _, err := cl.ECS.CreateService(ctx, lb); ecsCode(err) != "InvalidParameterException" || !strings.Contains(err.Error(), "container port") {
		t.Fatalf("unknown container port: %v", err)
	}
	long := ecsServiceInput("wbo", "svc5", arn, subnets, sg, 1)
	long.ClientToken = aws.String(strings.Repeat("x", 37))
	if _, err := cl.ECS.CreateService(ctx, long); ecsCode(err) != "InvalidParameterException" {
		t.Fatalf("clientToken longer than 36: %v", err)
	}
}

// A task whose execution role's policies changed within the IAM propagation
// time cannot create its log stream yet: it stops, and the deployment counts
// it as failed (the scheduler then starts another).
func TestECSTaskStopsWhileRolePolicyPropagates(t *testing.T) {
	c, cl, subnets, sg, role := ecsRoleWorld(t, "exec")
	ctx := context.Background()
	c.lock()
	c.iam().roles["exec"].created = time.Now().Add(-2 * time.Hour) // the role itself has propagated
	c.unlock()
	if _, err := cl.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("exec"), PolicyName: aws.String("logs"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:CreateLogStream","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	in := ecsTaskDefInput("svc", "app:v1")
	in.ExecutionRoleArn = role.Role.Arn
	td, err := cl.ECS.RegisterTaskDefinition(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.ECS.CreateService(ctx, ecsServiceInput("wbo", "svc", aws.ToString(td.TaskDefinition.TaskDefinitionArn), subnets, sg, 1)); err != nil {
		t.Fatal(err)
	}
	ecsWait(t, cl, "wbo", "svc", func(s et.Service) bool { return primaryOf(s).FailedTasks >= 1 })
	stopped, err := cl.ECS.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("wbo"), DesiredStatus: et.DesiredStatusStopped})
	if err != nil || len(stopped.TaskArns) == 0 {
		t.Fatalf("no stopped task: %v %v", stopped, err)
	}
	out, err := cl.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("wbo"), Tasks: stopped.TaskArns[:1]})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatal(out, err)
	}
	if r := aws.ToString(out.Tasks[0].StoppedReason); !strings.Contains(r, "ResourceInitializationError") || out.Tasks[0].StopCode != et.TaskStopCodeTaskFailedToStart {
		t.Fatalf("stopped reason %q code %s", r, out.Tasks[0].StopCode)
	}
}
