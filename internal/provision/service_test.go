package provision

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// TestServiceMatchesTheBrief checks the services of both topologies field by
// field: Fargate in the public subnets with public IPs and the tasks'
// security group, the target group, grace period, circuit breaker with
// rollback, tag propagation, and the deployment percentages of the mode.
func TestServiceMatchesTheBrief(t *testing.T) {
	for _, mode := range []string{config.ModeSharded, config.ModeShared} {
		c := cmpSmallConfig(mode)
		c.App.HealthCheckGracePeriod = 90
		c.Tags = map[string]string{"team": "boards"}
		r := newRig(t, c)
		cmpUp(t, r)
		names := []string{"shard-0", "shard-1"}
		if mode == config.ModeShared {
			names = []string{"app"}
		}
		for _, suffix := range names {
			s := cmpService(t, r, "wbo-"+suffix)
			check := func(what string, got, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s %s: got %v, want %v", suffix, what, got, want)
				}
			}
			check("launch type", s.LaunchType, ecstypes.LaunchTypeFargate)
			check("platform version", aws.ToString(s.PlatformVersion), "LATEST")
			check("task definition", aws.ToString(s.TaskDefinition), cmpRecord(t, r, "taskdef-"+suffix))
			a := s.NetworkConfiguration.AwsvpcConfiguration
			subnets := append([]string(nil), a.Subnets...)
			sort.Strings(subnets)
			want := []string{cmpRecord(t, r, "subnet-public-0"), cmpRecord(t, r, "subnet-public-1")}
			sort.Strings(want)
			check("subnets", subnets, want)
			check("security groups", a.SecurityGroups, []string{cmpRecord(t, r, "sg-tasks")})
			check("public IP", a.AssignPublicIp, ecstypes.AssignPublicIpEnabled)
			check("load balancers", len(s.LoadBalancers), 1)
			check("target group", aws.ToString(s.LoadBalancers[0].TargetGroupArn), cmpRecord(t, r, "tg-"+suffix))
			check("container", aws.ToString(s.LoadBalancers[0].ContainerName), "wbo")
			check("container port", aws.ToInt32(s.LoadBalancers[0].ContainerPort), int32(80))
			check("grace period", aws.ToInt32(s.HealthCheckGracePeriodSeconds), int32(90))
			dc := s.DeploymentConfiguration
			check("circuit breaker", *dc.DeploymentCircuitBreaker, ecstypes.DeploymentCircuitBreaker{Enable: true, Rollback: true})
			check("propagate tags", s.PropagateTags, ecstypes.PropagateTagsService)
			check("ECS managed tags", s.EnableECSManagedTags, true)
			tags := ecsTagMap(s.Tags)
			check("tags", []string{tags["team"], tags[TagStack], tags[TagResource]}, []string{"boards", "wbo", "service-" + suffix})
			if mode == config.ModeShared {
				check("desired count", s.DesiredCount, int32(2))
				check("deployment", []int32{aws.ToInt32(dc.MinimumHealthyPercent), aws.ToInt32(dc.MaximumPercent)}, []int32{100, 200})
			} else {
				check("desired count", s.DesiredCount, int32(1))
				// Two tasks must never own the same boards.
				check("deployment", []int32{aws.ToInt32(dc.MinimumHealthyPercent), aws.ToInt32(dc.MaximumPercent)}, []int32{0, 100})
			}
			check("running", s.RunningCount, s.DesiredCount)
		}
	}
}

func TestServiceClientToken(t *testing.T) {
	a := serviceSpec{name: "wbo-shard-0", taskDef: "arn:aws:ecs:us-east-1:1:task-definition/wbo-shard-0:1"}
	b := a
	b.taskDef = "arn:aws:ecs:us-east-1:1:task-definition/wbo-shard-0:2"
	ta := a.clientToken("wbo")
	if len(ta) == 0 || len(ta) > 36 {
		t.Fatalf("token %q: ECS allows at most 36 characters", ta)
	}
	if ta != a.clientToken("wbo") {
		t.Fatal("the token must be deterministic, so a retried create is idempotent")
	}
	if ta == b.clientToken("wbo") || ta == a.clientToken("other") {
		t.Fatal("another revision or stack must give another token")
	}
}

// TestServiceRetriesWhileTheRoleIsPropagating: the task definition and the
// service come before IAM has propagated the new roles. The roles are made in the first seconds,
// the load balancer is active about 60 s later and the roles propagate after
// 200 s, so the first CreateService (after about 115 s) is refused and a
// retry within the 2-minute window succeeds. It runs in a testing/synctest
// bubble: the simulated cloud's durations and the engine's waits are on the
// virtual clock, which advances only when every goroutine of the run is
// blocked, so those AWS times hold exactly however busy the machine is (on
// the scaled wall clock a slow run could reach CreateService after the
// roles had propagated and never meet the refusal).
func TestServiceRetriesWhileTheRoleIsPropagating(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, cmpSmallConfig(config.ModeSingle))
		tm := awssim.RealisticTiming()
		tm.IAMPropagation, tm.LoadBalancerActive = 200*time.Second, 60*time.Second
		r.cloud = awssim.New(awssim.Options{Region: r.cfg.Region, Timing: &tm, Scale: 1e-3})
		r.scale = 1e-3
		cmpUp(t, r)
		// ECS refuses the role at RegisterTaskDefinition ("Role is not valid")
		// or at CreateService ("unable to assume the role"), whichever comes
		// first inside the propagation time.
		if n := cmpFailed(r, "ECS.CreateService", "InvalidParameterException") + cmpFailed(r, "ECS.RegisterTaskDefinition", "ClientException"); n == 0 {
			t.Fatal("ECS never met an unpropagated role: the test does not exercise the retry")
		}
		if n := cmpCount(r, "ECS.CreateService"); n != 1 {
			t.Fatalf("%d services created", n)
		}
	})
}

// TestServiceRecreatedAfterDeletionOutside: a service deleted by hand is
// DRAINING for a while; up waits for it to be INACTIVE before creating the
// new one (creating earlier fails with "Creation of service was not
// idempotent").
func TestServiceRecreatedAfterDeletionOutside(t *testing.T) {
	r := newRig(t, cmpSmallConfig(config.ModeSingle))
	cmpUp(t, r)
	ctx := context.Background()
	e := r.clients().ECS
	if _, err := e.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("wbo"), Service: aws.String("wbo-shard-0"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if s := cmpStatus(t, r)["service-shard-0"]; s.Status != StatusMissing {
		t.Fatalf("status of a deleted service: %s", s.Status)
	}
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if n := cmpFailed(r, "ECS.CreateService", "InvalidParameterException"); n != 0 {
		t.Fatalf("CreateService was tried while the old service drained (%d times)", n)
	}
	s := cmpService(t, r, "wbo-shard-0")
	if aws.ToString(s.Status) != "ACTIVE" || s.RunningCount != 1 {
		t.Fatalf("re-created service: %s, %d running", aws.ToString(s.Status), s.RunningCount)
	}
}

// TestServiceConvergesSettingsInOneUpdate changes settings by hand and
// checks that up restores them with one UpdateService.
func TestServiceConvergesSettingsInOneUpdate(t *testing.T) {
	r := newRig(t, cmpSmallConfig(config.ModeSingle))
	cmpUp(t, r)
	ctx := context.Background()
	e := r.clients().ECS
	if _, err := e.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("wbo"), Service: aws.String("wbo-shard-0"),
		HealthCheckGracePeriodSeconds: aws.Int32(5), DeploymentConfiguration: &ecstypes.DeploymentConfiguration{
			MinimumHealthyPercent: aws.Int32(100), MaximumPercent: aws.Int32(200)}}); err != nil {
		t.Fatal(err)
	}
	st := cmpStatus(t, r)["service-shard-0"]
	for _, want := range []string{"health_check_grace_period: 5 → 60", "deployment_minimum_healthy_percent: 100 → 0",
		"deployment_maximum_percent: 200 → 100", "circuit_breaker: enable=false rollback=false → enable=true rollback=true"} {
		if !strings.Contains(st.Reason, want) {
			t.Errorf("drift %q not reported: %s", want, st.Reason)
		}
	}
	r.cloud.ResetCalls()
	cmpUp(t, r)
	if got := r.cloud.MutatingCalls(); strings.Join(got, ",") != "ECS.UpdateService" {
		t.Fatalf("converging made %v", got)
	}
	if st := cmpStatus(t, r)["service-shard-0"]; st.Status != StatusOK {
		t.Fatalf("after up: %s %s", st.Status, st.Reason)
	}
}
