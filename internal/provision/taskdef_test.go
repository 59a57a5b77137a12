package provision

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/shard"
	"github.com/wbo-deploy/wbo-deploy/internal/sidecar"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

func cmpEnv(kv []ecstypes.KeyValuePair) map[string]string {
	m := map[string]string{}
	for _, p := range kv {
		m[aws.ToString(p.Name)] = aws.ToString(p.Value)
	}
	return m
}

func cmpContainer(t *testing.T, td *ecstypes.TaskDefinition, name string) ecstypes.ContainerDefinition {
	t.Helper()
	for _, c := range td.ContainerDefinitions {
		if aws.ToString(c.Name) == name {
			return c
		}
	}
	t.Fatalf("no container %s in %s", name, aws.ToString(td.TaskDefinitionArn))
	return ecstypes.ContainerDefinition{}
}

func cmpDeps(c ecstypes.ContainerDefinition) map[string]ecstypes.ContainerCondition {
	m := map[string]ecstypes.ContainerCondition{}
	for _, d := range c.DependsOn {
		m[aws.ToString(d.ContainerName)] = d.Condition
	}
	return m
}

func cmpRec(t *testing.T, r *rig, name string) state.Resource {
	t.Helper()
	for _, rec := range r.records() {
		if rec.Name == name {
			return rec
		}
	}
	t.Fatalf("no record %s", name)
	return state.Resource{}
}

// TestTaskDefinitionMatchesTheBrief registers the stack's task definitions
// and checks shard 1's field by field against issue 5 and the sidecar
// contract.
func TestTaskDefinitionMatchesTheBrief(t *testing.T) {
	c := cmpConfig(config.ModeSharded)
	c.App.Architecture = "arm64"
	c.App.EphemeralStorageGB = 30
	c.App.Port = 8080
	c.App.CPU, c.App.Memory = 512, 2048
	c.App.Env = map[string]string{"LOG_LEVEL": "debug", "WBO_TRUST_PROXY_HOPS": "2"}
	c.Storage.SyncInterval = 15
	c.Redis.PassURL = true // an image that uses Redis
	c.Alarms.Enabled, c.Dashboard.Enabled = false, false
	r := newRig(t, c)
	cmpUp(t, r)

	out, err := r.clients().ECS.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String("wbo-shard-1"), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	td := out.TaskDefinition
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}
	check("family", aws.ToString(td.Family), "wbo-shard-1")
	check("compatibilities", td.RequiresCompatibilities, []ecstypes.Compatibility{ecstypes.CompatibilityFargate})
	check("network mode", td.NetworkMode, ecstypes.NetworkModeAwsvpc)
	check("cpu", aws.ToString(td.Cpu), "512")
	check("memory", aws.ToString(td.Memory), "2048")
	check("os", td.RuntimePlatform.OperatingSystemFamily, ecstypes.OSFamilyLinux)
	check("architecture", td.RuntimePlatform.CpuArchitecture, ecstypes.CPUArchitectureArm64)
	check("ephemeral storage", td.EphemeralStorage.SizeInGiB, int32(30))
	check("execution role", aws.ToString(td.ExecutionRoleArn), cmpRec(t, r, "role-execution").ARN)
	check("task role", aws.ToString(td.TaskRoleArn), cmpRec(t, r, "role-task").ARN)
	check("volumes", len(td.Volumes), 2)
	check("volume", aws.ToString(td.Volumes[0].Name), "boards")
	check("scratch volume", aws.ToString(td.Volumes[1].Name), "scratch")
	check("containers", len(td.ContainerDefinitions), 3)
	check("tags", ecsTagMap(out.Tags)[TagResource], "taskdef-shard-1")

	logs := func(c ecstypes.ContainerDefinition) {
		t.Helper()
		lc := c.LogConfiguration
		if lc == nil {
			t.Fatalf("%s has no log configuration", aws.ToString(c.Name))
		}
		check(aws.ToString(c.Name)+" log driver", lc.LogDriver, ecstypes.LogDriverAwslogs)
		check(aws.ToString(c.Name)+" log options", lc.Options, map[string]string{
			"awslogs-group": "/wbo-deploy/wbo", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "shard-1"})
	}
	mount := []ecstypes.MountPoint{{SourceVolume: aws.String("boards"), ContainerPath: aws.String("/data"), ReadOnly: aws.Bool(false)}}
	// The sidecars' root filesystems are read-only (FSBP ECS.5): they write
	// to the board volume and to their scratch volume at /tmp only.
	sidecarMounts := append(append([]ecstypes.MountPoint(nil), mount...),
		ecstypes.MountPoint{SourceVolume: aws.String("scratch"), ContainerPath: aws.String("/tmp"), ReadOnly: aws.Bool(false)})

	wbo := cmpContainer(t, td, "wbo")
	check("wbo image", aws.ToString(wbo.Image), config.DefaultImage)
	check("wbo essential", aws.ToBool(wbo.Essential), true)
	check("wbo ports", len(wbo.PortMappings), 1)
	check("wbo port", aws.ToInt32(wbo.PortMappings[0].ContainerPort), int32(8080))
	check("wbo protocol", wbo.PortMappings[0].Protocol, ecstypes.TransportProtocolTcp)
	redis := cmpRec(t, r, "redis")
	check("wbo env", cmpEnv(wbo.Environment), map[string]string{
		"NODE_ENV": "production", "WBO_IP_SOURCE": "X-Forwarded-For", "WBO_TRUST_PROXY_HOPS": "2", "LOG_LEVEL": "debug",
		"PORT": "8080", "WBO_HISTORY_DIR": "/data", "REDIS_URL": redis.Attrs["url"],
		// storage.sync_interval 15: WBO saves at the latest 15 s after a change.
		"WBO_SAVE_INTERVAL": "2000", "WBO_MAX_SAVE_DELAY": "15000"})
	if !strings.HasPrefix(redis.Attrs["url"], "redis") {
		t.Errorf("Redis URL %q", redis.Attrs["url"])
	}
	check("wbo depends on", cmpDeps(wbo), map[string]ecstypes.ContainerCondition{
		"restore": ecstypes.ContainerConditionSuccess, "backup": ecstypes.ContainerConditionStart})
	check("wbo stop timeout", aws.ToInt32(wbo.StopTimeout), int32(30))
	check("wbo read-only root", aws.ToBool(wbo.ReadonlyRootFilesystem), true)
	check("wbo privileged", aws.ToBool(wbo.Privileged), false)
	check("wbo user (the image's 1000:1000)", wbo.User, (*string)(nil))
	check("wbo health check (the load balancer's)", wbo.HealthCheck, (*ecstypes.HealthCheck)(nil))
	check("wbo mounts", wbo.MountPoints, mount)
	logs(wbo)

	sc := sidecar.Config{Bucket: cmpRec(t, r, "bucket-boards").ID, Prefix: "boards/", DataDir: "/data", SyncInterval: 15,
		Keys: shard.Partition(2)[1], Region: "us-east-1", LeaseName: "wbo-shard-1", LeaseTTL: 150, Cluster: "wbo"}
	wantEnv, err := sc.Env()
	if err != nil {
		t.Fatal(err)
	}
	sidecarEnv := cmpEnv(wantEnv)
	sidecarEnv["HOME"], sidecarEnv["TMPDIR"] = "/tmp", "/tmp"
	restore := cmpContainer(t, td, "restore")
	check("restore image", aws.ToString(restore.Image), AWSCLIImage)
	if !strings.HasPrefix(AWSCLIImage, "public.ecr.aws/aws-cli/aws-cli:2.") {
		t.Errorf("sidecar image %s is not a pinned AWS CLI v2 image", AWSCLIImage)
	}
	check("restore essential", aws.ToBool(restore.Essential), false)
	check("restore entry point", restore.EntryPoint, sidecar.EntryPoint)
	check("restore command", restore.Command, []string{sidecar.RestoreScript})
	check("restore env", cmpEnv(restore.Environment), sidecarEnv)
	check("restore shard keys", cmpEnv(restore.Environment)["WBO_SHARD_KEYS"], shard.FormatKeys(shard.Partition(2)[1]))
	// The lease hands the shard from a stopping task to its replacement: it
	// is named after the service, and it must not go stale during the final
	// sync (which starts with a heartbeat and lasts at most the backup's
	// stopTimeout); restore waits at least one TTL.
	check("restore lease name", cmpEnv(restore.Environment)["WBO_LEASE_NAME"], "wbo-shard-1")
	ttl, _ := strconv.Atoi(cmpEnv(restore.Environment)["WBO_LEASE_TTL"])
	wait, _ := strconv.Atoi(cmpEnv(restore.Environment)["WBO_LEASE_WAIT"])
	if ttl <= backupStopTimeout || wait < ttl {
		t.Errorf("lease TTL %d s, wait %d s: want TTL > the backup's stop timeout (%d s) and wait >= TTL", ttl, wait, backupStopTimeout)
	}
	check("restore depends on", len(restore.DependsOn), 0)
	check("restore mounts", restore.MountPoints, sidecarMounts)
	check("restore read-only root", aws.ToBool(restore.ReadonlyRootFilesystem), true)
	logs(restore)

	backup := cmpContainer(t, td, "backup")
	check("backup image", aws.ToString(backup.Image), AWSCLIImage)
	check("backup essential", aws.ToBool(backup.Essential), true)
	check("backup entry point", backup.EntryPoint, sidecar.EntryPoint)
	check("backup command", backup.Command, []string{sidecar.BackupScript})
	check("backup env", cmpEnv(backup.Environment), sidecarEnv)
	check("backup lease name", cmpEnv(backup.Environment)["WBO_LEASE_NAME"], "wbo-shard-1")
	check("backup depends on", cmpDeps(backup), map[string]ecstypes.ContainerCondition{"restore": ecstypes.ContainerConditionSuccess})
	check("backup stop timeout", aws.ToInt32(backup.StopTimeout), int32(120))
	check("backup mounts", backup.MountPoints, sidecarMounts)
	check("backup read-only root", aws.ToBool(backup.ReadonlyRootFilesystem), true)
	logs(backup)

	// Shard 0 owns the other keys; together they cover every board once.
	out0, _ := r.clients().ECS.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("wbo-shard-0")})
	k0 := cmpEnv(cmpContainer(t, out0.TaskDefinition, "backup").Environment)["WBO_SHARD_KEYS"]
	check("shard 0 keys", k0, shard.FormatKeys(shard.Partition(2)[0]))
	if n := len(strings.Fields(k0)) + len(strings.Fields(cmpEnv(backup.Environment)["WBO_SHARD_KEYS"])); n != len(shard.AllKeys()) {
		t.Errorf("the shards own %d keys in all, want %d", n, len(shard.AllKeys()))
	}
}

func TestTaskDefinitionOneShardOwnsEverything(t *testing.T) {
	for _, mode := range []string{config.ModeSingle, config.ModeShared} {
		c := cmpSmallConfig(mode)
		c.App.EphemeralStorageGB = 20
		r := newRig(t, c)
		cmpUp(t, r)
		family := "wbo-shard-0"
		if mode == config.ModeShared {
			family = "wbo-app"
		}
		out, err := r.clients().ECS.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(family)})
		if err != nil {
			t.Fatal(err)
		}
		td := out.TaskDefinition
		env := cmpEnv(cmpContainer(t, td, "restore").Environment)
		if _, ok := env["WBO_SHARD_KEYS"]; ok {
			t.Errorf("%s: WBO_SHARD_KEYS set (%q); one task owns every board", mode, env["WBO_SHARD_KEYS"])
		}
		// Single mode's one task hands over through the lease; shared
		// mode's tasks run side by side and have none.
		for _, ctr := range []string{"restore", "backup"} {
			lease, ok := cmpEnv(cmpContainer(t, td, ctr).Environment)["WBO_LEASE_NAME"]
			if mode == config.ModeShared && ok {
				t.Errorf("shared: %s has WBO_LEASE_NAME %q; its tasks run side by side", ctr, lease)
			}
			if mode == config.ModeSingle && lease != family {
				t.Errorf("single: %s WBO_LEASE_NAME %q, want the service name %q", ctr, lease, family)
			}
		}
		if td.EphemeralStorage != nil {
			t.Errorf("%s: ephemeral storage set at the included 20 GiB", mode)
		}
		if td.RuntimePlatform.CpuArchitecture != ecstypes.CPUArchitectureX8664 {
			t.Errorf("%s: architecture %s", mode, td.RuntimePlatform.CpuArchitecture)
		}
		wbo := cmpEnv(cmpContainer(t, td, "wbo").Environment)
		if _, ok := wbo["REDIS_URL"]; ok || wbo["PORT"] != "80" {
			t.Errorf("%s: wbo env %v (no Redis: no REDIS_URL; PORT always set)", mode, wbo)
		}
		prefix := cmpContainer(t, td, "wbo").LogConfiguration.Options["awslogs-stream-prefix"]
		if want := TaskLogPrefix(r.cfg, 0); prefix != want || (mode == config.ModeShared) != (prefix == "app") {
			t.Errorf("%s: log prefix %q", mode, prefix)
		}
	}
}

// TestTaskDefinitionChangesAreListed checks what plan shows for changes of
// the task definition: one entry per changed field.
func TestTaskDefinitionChangesAreListed(t *testing.T) {
	in := taskInputs{family: "wbo-shard-0", execRole: "arn:e", taskRole: "arn:t", logGroup: "/wbo-deploy/wbo", bucket: "wbo-boards-1-us-east-1",
		region: "us-east-1", logPrefix: "shard-0"}
	c := cmpConfig(config.ModeSingle)
	before, err := taskDefinitionInput(c, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.App.Image = "lovasoa/wbo:v2.16.0"
	c.App.Memory = 1024
	c.App.Env = map[string]string{"LOG_LEVEL": "warn"}
	c.Storage.SyncInterval = 30
	after, err := taskDefinitionInput(c, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ch := range specChanges(specOfInput(before), specOfInput(after)) {
		got = append(got, ch.String())
	}
	want := []string{
		"memory: 512 → 1024",
		"container backup env WBO_SYNC_INTERVAL: 10 → 30",
		"container restore env WBO_SYNC_INTERVAL: 10 → 30",
		"container wbo image: " + config.DefaultImage + " → lovasoa/wbo:v2.16.0",
		"container wbo env LOG_LEVEL: (unset) → warn",
		"container wbo env WBO_MAX_SAVE_DELAY: 10000 → 30000", // follows the sync interval
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if cs := specChanges(specOfInput(after), specOfInput(after)); len(cs) != 0 {
		t.Fatalf("identical definitions differ: %v", cs)
	}
}
