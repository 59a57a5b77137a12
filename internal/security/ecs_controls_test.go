package security

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// The cluster is named after the stack (README, "What gets created").
const clusterName = "wbo"

// ecsView is what ECS reports about the stack's services and the task
// definitions they run.
type ecsView struct {
	cluster  ecstypes.Cluster
	services []ecstypes.Service
	taskDefs map[string]*ecstypes.TaskDefinition // by ARN
}

func stackECS(t *testing.T, d *deployment) *ecsView {
	t.Helper()
	ctx, c := context.Background(), d.sdk.ECS
	cl, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{clusterName},
		Include: []ecstypes.ClusterField{ecstypes.ClusterFieldSettings}})
	mustNoErr(t, "describe cluster", err)
	if len(cl.Clusters) != 1 {
		t.Fatalf("no cluster %s: %+v", clusterName, cl.Failures)
	}
	v := &ecsView{cluster: cl.Clusters[0], taskDefs: map[string]*ecstypes.TaskDefinition{}}
	arns, err := c.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String(clusterName)})
	mustNoErr(t, "list services", err)
	if len(arns.ServiceArns) == 0 {
		t.Fatal("the cluster has no services")
	}
	svcs, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(clusterName), Services: arns.ServiceArns})
	mustNoErr(t, "describe services", err)
	v.services = svcs.Services
	for _, s := range v.services {
		arn := aws.ToString(s.TaskDefinition)
		if v.taskDefs[arn] != nil {
			continue
		}
		td, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)})
		mustNoErr(t, "describe task definition "+arn, err)
		v.taskDefs[arn] = td.TaskDefinition
	}
	return v
}

// secretEnvName matches environment variable names that carry credentials:
// the ones ECS.8 looks for (its secretKeys parameter) and the usual
// spellings of passwords, tokens and private keys.
var secretEnvName = regexp.MustCompile(`(?i)^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|ECS_ENGINE_AUTH_DATA)$|SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE_KEY|API_KEY`)

// accessKeyID matches an AWS access key ID in a value.
var accessKeyID = regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`)

func checkECS(t *testing.T, d *deployment, _ variant) {
	v := stackECS(t, d)
	eachContainer := func(f func(td *ecstypes.TaskDefinition, c ecstypes.ContainerDefinition)) {
		for _, td := range v.taskDefs {
			for _, c := range td.ContainerDefinitions {
				f(td, c)
			}
		}
	}

	t.Run("ECS.1", func(t *testing.T) {
		for _, td := range v.taskDefs {
			if td.NetworkMode != ecstypes.NetworkModeAwsvpc {
				t.Fatalf("%s network mode %s, want awsvpc (host mode is what ECS.1 checks)", aws.ToString(td.Family), td.NetworkMode)
			}
		}
	})
	t.Run("ECS.3", func(t *testing.T) {
		for _, td := range v.taskDefs {
			if td.PidMode == ecstypes.PidModeHost {
				t.Fatalf("%s shares the host's process namespace", aws.ToString(td.Family))
			}
		}
	})
	t.Run("ECS.4", func(t *testing.T) {
		eachContainer(func(td *ecstypes.TaskDefinition, c ecstypes.ContainerDefinition) {
			if aws.ToBool(c.Privileged) {
				t.Errorf("%s container %s is privileged", aws.ToString(td.Family), aws.ToString(c.Name))
			}
		})
	})
	t.Run("ECS.5/wbo", func(t *testing.T) {
		n := 0
		eachContainer(func(td *ecstypes.TaskDefinition, c ecstypes.ContainerDefinition) {
			if aws.ToString(c.Name) != "wbo" {
				return
			}
			n++
			if !aws.ToBool(c.ReadonlyRootFilesystem) {
				t.Errorf("%s container wbo has a writable root file system", aws.ToString(td.Family))
			}
		})
		if n != len(v.taskDefs) {
			t.Fatalf("%d wbo containers in %d task definitions", n, len(v.taskDefs))
		}
	})
	t.Run("ECS.5/sidecars", func(t *testing.T) {
		writable := 0
		eachContainer(func(td *ecstypes.TaskDefinition, c ecstypes.ContainerDefinition) {
			if name := aws.ToString(c.Name); name != "wbo" && !aws.ToBool(c.ReadonlyRootFilesystem) {
				if name != "restore" && name != "backup" {
					t.Errorf("%s container %s has a writable root and is not a known sidecar", aws.ToString(td.Family), name)
				}
				writable++
			}
		})
		if writable != 0 {
			t.Fatalf("ECS.5: %d sidecar containers have a writable root file system", writable)
		}
	})
	t.Run("ECS.8", func(t *testing.T) {
		eachContainer(func(td *ecstypes.TaskDefinition, c ecstypes.ContainerDefinition) {
			for _, kv := range c.Environment {
				name, val := aws.ToString(kv.Name), aws.ToString(kv.Value)
				if secretEnvName.MatchString(name) && val != "" {
					t.Errorf("%s container %s: environment variable %s looks like a secret", aws.ToString(td.Family), aws.ToString(c.Name), name)
				}
				if accessKeyID.MatchString(val) || strings.Contains(val, fakeSecretKey) || (strings.Contains(val, "@") && strings.Contains(val, "://")) {
					t.Errorf("%s container %s: the value of %s carries a credential: %q", aws.ToString(td.Family), aws.ToString(c.Name), name, val)
				}
			}
		})
	})
	t.Run("ECS.9", func(t *testing.T) {
		groups, err := d.sdk.Logs.DescribeLogGroups(context.Background(), &cloudwatchlogs.DescribeLogGroupsInput{})
		mustNoErr(t, "describe log groups", err)
		exists := map[string]bool{}
		for _, g := range groups.LogGroups {
			exists[aws.ToString(g.LogGroupName)] = true
		}
		eachContainer(func(td *ecstypes.TaskDefinition, c ecstypes.ContainerDefinition) {
			lc := c.LogConfiguration
			if lc == nil || lc.LogDriver != ecstypes.LogDriverAwslogs || !exists[lc.Options["awslogs-group"]] {
				t.Errorf("%s container %s: log configuration %+v does not send to an existing CloudWatch Logs group", aws.ToString(td.Family), aws.ToString(c.Name), lc)
			}
		})
	})
	t.Run("ECS.10", func(t *testing.T) {
		for _, s := range v.services {
			if pv := aws.ToString(s.PlatformVersion); pv != "" && pv != "LATEST" {
				t.Fatalf("service %s pins Fargate platform version %s", aws.ToString(s.ServiceName), pv)
			}
			if s.LaunchType != ecstypes.LaunchTypeFargate {
				t.Fatalf("service %s launch type %s", aws.ToString(s.ServiceName), s.LaunchType)
			}
		}
	})
	t.Run("ECS.12", func(t *testing.T) {
		for _, s := range v.cluster.Settings {
			if s.Name == ecstypes.ClusterSettingNameContainerInsights && (aws.ToString(s.Value) == "enabled" || aws.ToString(s.Value) == "enhanced") {
				return
			}
		}
		t.Fatalf("cluster settings %+v: Container Insights is off", v.cluster.Settings)
	})
	t.Run("ECS.16", func(t *testing.T) {
		for _, s := range v.services {
			if dc := s.DeploymentController; dc != nil && dc.Type == ecstypes.DeploymentControllerTypeExternal {
				t.Fatalf("service %s uses task sets", aws.ToString(s.ServiceName))
			}
		}
		t.Skip("n/a: the services use the ECS deployment controller, not task sets")
	})
	t.Run("ECS.2", func(t *testing.T) {
		tasksSG := map[string]bool{}
		for _, s := range v.services {
			nc := s.NetworkConfiguration
			if nc == nil || nc.AwsvpcConfiguration == nil {
				t.Fatalf("service %s has no awsvpc configuration", aws.ToString(s.ServiceName))
			}
			a := nc.AwsvpcConfiguration
			if a.AssignPublicIp != ecstypes.AssignPublicIpEnabled {
				t.Fatalf("service %s: AssignPublicIp %s; docs/security.md says the tasks have public IPs (no NAT gateway)", aws.ToString(s.ServiceName), a.AssignPublicIp)
			}
			if len(a.SecurityGroups) != 1 {
				t.Fatalf("service %s has security groups %v, want only the tasks' group", aws.ToString(s.ServiceName), a.SecurityGroups)
			}
			tasksSG[a.SecurityGroups[0]] = true
		}
		if len(tasksSG) != 1 {
			t.Fatalf("the services use different security groups: %v", tasksSG)
		}
		for sg := range tasksSG {
			assertAdmitsOnlyALB(t, d, sg)
		}
		exception(t, "ECS.2", "tasks get public IPs because there is no NAT gateway (about $33/month per AZ plus data processing); "+
			"compensating control, asserted: the tasks' security group admits only the load balancer's group, on the app port")
	})
}
