package provision

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/sidecar"
)

// The WBO task: three containers sharing one task volume mounted at
// BoardDir.
//
//   - restore (AWS CLI image, essential=false) copies this task's boards from
//     S3 into BoardDir and gives them to WBO's uid 1000, then exits 0.
//   - backup (AWS CLI image, essential=true) syncs changed board files to S3
//     every storage.sync_interval seconds and once more when stopped. It is
//     essential: a task whose backups died must be replaced, not keep serving
//     edits that never reach S3. stopTimeout 120 s (the Fargate maximum) so
//     its final sync completes. It depends on restore SUCCESS: it starts
//     from the restored directory, with the task's lease token restore left
//     there.
//   - restore and backup of a shard's task (not in shared mode, whose tasks
//     run side by side) hand the shard over through a lease named after the
//     service (sidecar.Config.LeaseName, WBO_LEASE_NAME): restore waits until
//     the previous task's backup has made its final sync. The shard services'
//     maximumPercent 100 does not prevent the overlap: it counts only tasks
//     in the RUNNING or PENDING state (DeploymentConfiguration.maximumPercent,
//     Amazon ECS API reference), so ECS starts the new task while the old one
//     is still stopping. No startTimeout is set on restore: the API reference
//     describes a time limit on resolving a dependency only when one is set
//     (ContainerDefinition.startTimeout), so wbo waits out restore's wait
//     (at most sidecar.DefaultLeaseWait).
//   - wbo (app.image) depends on restore SUCCESS (never start on a half
//     restored directory: WBO would serve empty boards and the next backup
//     would delete their objects) and on backup START. ECS stops containers
//     in the reverse order of their dependencies (ContainerDependency, ECS API
//     reference), so wbo gets SIGTERM first and flushes its boards, and backup
//     is stopped only after wbo has exited: its final sync carries that flush.
//
// wbo runs with a read-only root file system: the image writes nothing
// outside its board directory (board files and their .tmp/.bak/.quarantine
// companions live beside each other, ../shared/reference/wbo.md "Boards on
// disk"), and WBO_HISTORY_DIR points at the task volume. It runs as the
// image's user 1000:1000 (not privileged; Fargate refuses privileged
// containers anyway). The sidecars keep a writable root: the backup script
// keeps its state under $TMPDIR and the AWS CLI may cache there. There is no
// container health check: the image has none and no shell-free probe; the
// target group's health check is what ECS uses.

// AWSCLIImage is the pinned AWS CLI v2 image of the sidecars (official,
// public.ecr.aws/aws-cli/aws-cli). Pinned so a re-run never changes the
// task definition by itself. 2.27.50 is the last release on the Amazon Linux
// 2 base (github.com/aws/aws-cli/issues/9599: 2.27.51 moved to Amazon Linux
// 2023 and dropped find/xargs); the scripts need only sh and coreutils.
const AWSCLIImage = "public.ecr.aws/aws-cli/aws-cli:2.27.50"

// Task layout constants.
const (
	BoardDir          = "/data"   // the shared task volume, WBO_HISTORY_DIR
	boardVolume       = "boards"  // its name in the task definition
	scratchVolume     = "scratch" // the sidecars' /tmp (their root filesystems are read-only)
	wboContainer      = "wbo"
	restoreContainer  = "restore"
	backupContainer   = "backup"
	wboStopTimeout    = 30  // seconds for WBO to save its boards after SIGTERM
	backupStopTimeout = 120 // the Fargate maximum, for the final sync
	// leaseTTL: a stopping task's lease must not go stale during its final
	// sync, which starts with a heartbeat and lasts at most backupStopTimeout.
	leaseTTL = backupStopTimeout + 30
)

// TaskLogPrefix is the awslogs stream prefix of a task family's containers:
// streams are <prefix>/<container>/<task-id>, prefix "shard-<i>" for a shard
// and "app" in shared mode.
func TaskLogPrefix(cfg *config.Config, index int) string {
	if cfg.App.Mode == config.ModeShared {
		return "app"
	}
	return "shard-" + strconv.Itoa(index)
}

// taskInputs are the values of other resources a task definition embeds.
type taskInputs struct {
	family, execRole, taskRole, logGroup, bucket, region string
	redisURL                                             string
	keys                                                 []byte
	logPrefix                                            string
}

// wboEnv is the wbo container's environment: wbo-deploy's defaults for
// running behind the load balancer, app.env on top, then the variables
// app.env may not set (config.ReservedAppEnv). The image sets PORT=80; PORT
// is set always so the container listens where the target group sends.
func wboEnv(cfg *config.Config, in taskInputs) map[string]string {
	env := config.DefaultAppEnv()
	for k, v := range cfg.App.Env {
		env[k] = v
	}
	env["PORT"] = strconv.Itoa(cfg.App.Port)
	env["WBO_HISTORY_DIR"] = BoardDir
	// WBO's save delays follow storage.sync_interval so that the documented
	// loss window (sidecar.LossWindow) holds.
	for k, v := range sidecar.SaveEnv(cfg.Storage.SyncInterval) {
		env[k] = v
	}
	if in.redisURL != "" {
		env["REDIS_URL"] = in.redisURL
	}
	return env
}

func kvList(m map[string]string) []ecstypes.KeyValuePair {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]ecstypes.KeyValuePair, len(keys))
	for i, k := range keys {
		out[i] = ecstypes.KeyValuePair{Name: aws.String(k), Value: aws.String(m[k])}
	}
	return out
}

// taskDefinitionInput builds the RegisterTaskDefinition call for a task
// family from the configuration and the other resources' IDs.
func taskDefinitionInput(cfg *config.Config, in taskInputs, tags []ecstypes.Tag) (*ecs.RegisterTaskDefinitionInput, error) {
	sc := sidecar.Config{Bucket: in.bucket, Prefix: cfg.Storage.Prefix, DataDir: BoardDir,
		SyncInterval: cfg.Storage.SyncInterval, Keys: in.keys, Region: in.region}
	if cfg.App.Mode != config.ModeShared {
		sc.LeaseName, sc.LeaseTTL = in.family, leaseTTL // the family is the service name (familyOf)
		sc.Cluster = cfg.Names().Cluster                // restore asks whether the lease holder stopped
	}
	scEnv, err := sc.Env()
	if err != nil {
		return nil, fmt.Errorf("sidecar settings: %w", err)
	}
	logs := func() *ecstypes.LogConfiguration {
		return &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
			"awslogs-group": in.logGroup, "awslogs-region": in.region, "awslogs-stream-prefix": in.logPrefix,
		}}
	}
	mount := func() []ecstypes.MountPoint {
		return []ecstypes.MountPoint{{SourceVolume: aws.String(boardVolume), ContainerPath: aws.String(BoardDir), ReadOnly: aws.Bool(false)}}
	}
	port := int32(cfg.App.Port)
	wbo := ecstypes.ContainerDefinition{
		Name: aws.String(wboContainer), Image: aws.String(cfg.App.Image), Essential: aws.Bool(true),
		PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(port), HostPort: aws.Int32(port), Protocol: ecstypes.TransportProtocolTcp}},
		Environment:  kvList(wboEnv(cfg, in)),
		MountPoints:  mount(),
		DependsOn: []ecstypes.ContainerDependency{
			{ContainerName: aws.String(restoreContainer), Condition: ecstypes.ContainerConditionSuccess},
			{ContainerName: aws.String(backupContainer), Condition: ecstypes.ContainerConditionStart},
		},
		StopTimeout:            aws.Int32(wboStopTimeout),
		ReadonlyRootFilesystem: aws.Bool(true),
		LogConfiguration:       logs(),
	}
	// The sidecars run with a read-only root filesystem (FSBP ECS.5) and
	// write only to the board volume and their own scratch volume at /tmp
	// (backup's staging and change list; HOME for the AWS CLI).
	scratch := func(m []ecstypes.MountPoint) []ecstypes.MountPoint {
		return append(m, ecstypes.MountPoint{SourceVolume: aws.String(scratchVolume), ContainerPath: aws.String("/tmp"), ReadOnly: aws.Bool(false)})
	}
	scEnvTmp := append(append([]ecstypes.KeyValuePair(nil), scEnv...),
		ecstypes.KeyValuePair{Name: aws.String("HOME"), Value: aws.String("/tmp")},
		ecstypes.KeyValuePair{Name: aws.String("TMPDIR"), Value: aws.String("/tmp")})
	sort.Slice(scEnvTmp, func(i, j int) bool { return aws.ToString(scEnvTmp[i].Name) < aws.ToString(scEnvTmp[j].Name) })
	restore := ecstypes.ContainerDefinition{
		Name: aws.String(restoreContainer), Image: aws.String(AWSCLIImage), Essential: aws.Bool(false),
		EntryPoint: append([]string(nil), sidecar.EntryPoint...), Command: sidecar.RestoreCommand(),
		Environment: scEnvTmp, MountPoints: scratch(mount()), LogConfiguration: logs(),
		ReadonlyRootFilesystem: aws.Bool(true),
	}
	backup := ecstypes.ContainerDefinition{
		Name: aws.String(backupContainer), Image: aws.String(AWSCLIImage), Essential: aws.Bool(true),
		EntryPoint: append([]string(nil), sidecar.EntryPoint...), Command: sidecar.BackupCommand(),
		Environment: scEnvTmp, MountPoints: scratch(mount()), LogConfiguration: logs(),
		DependsOn:              []ecstypes.ContainerDependency{{ContainerName: aws.String(restoreContainer), Condition: ecstypes.ContainerConditionSuccess}},
		StopTimeout:            aws.Int32(backupStopTimeout),
		ReadonlyRootFilesystem: aws.Bool(true),
	}
	arch := ecstypes.CPUArchitectureX8664
	if cfg.App.Architecture == "arm64" {
		arch = ecstypes.CPUArchitectureArm64
	}
	out := &ecs.RegisterTaskDefinitionInput{
		Family:                  aws.String(in.family),
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		NetworkMode:             ecstypes.NetworkModeAwsvpc,
		Cpu:                     aws.String(strconv.Itoa(cfg.App.CPU)),
		Memory:                  aws.String(strconv.Itoa(cfg.App.Memory)),
		RuntimePlatform:         &ecstypes.RuntimePlatform{OperatingSystemFamily: ecstypes.OSFamilyLinux, CpuArchitecture: arch},
		ExecutionRoleArn:        aws.String(in.execRole),
		TaskRoleArn:             aws.String(in.taskRole),
		Volumes:                 []ecstypes.Volume{{Name: aws.String(boardVolume)}, {Name: aws.String(scratchVolume)}},
		ContainerDefinitions:    []ecstypes.ContainerDefinition{wbo, restore, backup},
		Tags:                    tags,
	}
	// Fargate includes 20 GiB; a larger size is set explicitly (21-200 GiB).
	if cfg.App.EphemeralStorageGB > 20 {
		out.EphemeralStorage = &ecstypes.EphemeralStorage{SizeInGiB: int32(cfg.App.EphemeralStorageGB)}
	}
	return out, nil
}

// tdSpec is a task definition reduced to what wbo-deploy sets, with AWS's
// defaults applied, so a registered revision and a desired one compare
// equal exactly when nothing that matters differs.
type tdSpec struct {
	cpu, memory, network, os, arch string
	compat                         string
	ephemeral                      int32
	execRole, taskRole             string
	volumes                        string
	containers                     map[string]ctrSpec
}

type ctrSpec struct {
	image        string
	essential    bool
	entryPoint   string
	command      string
	env          map[string]string
	ports        string
	dependsOn    string
	mounts       string
	stopTimeout  int32
	readOnlyRoot bool
	user         string
	privileged   bool
	logs         string
	healthCheck  bool
}

func specOf(cpu, memory *string, network ecstypes.NetworkMode, rp *ecstypes.RuntimePlatform, compat []ecstypes.Compatibility,
	eph *ecstypes.EphemeralStorage, execRole, taskRole *string, vols []ecstypes.Volume, defs []ecstypes.ContainerDefinition) tdSpec {
	s := tdSpec{cpu: aws.ToString(cpu), memory: aws.ToString(memory), network: string(network),
		execRole: aws.ToString(execRole), taskRole: aws.ToString(taskRole), containers: map[string]ctrSpec{}}
	if rp != nil {
		s.os, s.arch = string(rp.OperatingSystemFamily), string(rp.CpuArchitecture)
	}
	if s.os == "" {
		s.os = string(ecstypes.OSFamilyLinux)
	}
	if s.arch == "" {
		s.arch = string(ecstypes.CPUArchitectureX8664)
	}
	var cs []string
	for _, c := range compat {
		cs = append(cs, string(c))
	}
	sort.Strings(cs)
	s.compat = strings.Join(cs, ",")
	if eph != nil && eph.SizeInGiB > 20 {
		s.ephemeral = eph.SizeInGiB
	}
	var vs []string
	for _, v := range vols {
		vs = append(vs, aws.ToString(v.Name))
	}
	sort.Strings(vs)
	s.volumes = strings.Join(vs, ",")
	for _, d := range defs {
		c := ctrSpec{image: aws.ToString(d.Image), essential: d.Essential == nil || *d.Essential,
			entryPoint: strings.Join(d.EntryPoint, "\x00"), command: strings.Join(d.Command, "\x00"),
			env: map[string]string{}, stopTimeout: aws.ToInt32(d.StopTimeout), readOnlyRoot: aws.ToBool(d.ReadonlyRootFilesystem),
			user: aws.ToString(d.User), privileged: aws.ToBool(d.Privileged), healthCheck: d.HealthCheck != nil}
		for _, kv := range d.Environment {
			c.env[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
		}
		var ps, deps, ms []string
		for _, p := range d.PortMappings {
			proto := string(p.Protocol)
			if proto == "" {
				proto = "tcp"
			}
			ps = append(ps, fmt.Sprintf("%d/%s", aws.ToInt32(p.ContainerPort), proto))
		}
		for _, dep := range d.DependsOn {
			deps = append(deps, aws.ToString(dep.ContainerName)+" "+string(dep.Condition))
		}
		for _, m := range d.MountPoints {
			mode := "rw"
			if aws.ToBool(m.ReadOnly) {
				mode = "ro"
			}
			ms = append(ms, aws.ToString(m.SourceVolume)+":"+aws.ToString(m.ContainerPath)+":"+mode)
		}
		sort.Strings(ps)
		sort.Strings(deps)
		sort.Strings(ms)
		c.ports, c.dependsOn, c.mounts = strings.Join(ps, ", "), strings.Join(deps, ", "), strings.Join(ms, ", ")
		if lc := d.LogConfiguration; lc != nil {
			opts := []string{string(lc.LogDriver)}
			for _, kv := range ecsSortedPairs(lc.Options) {
				opts = append(opts, kv[0]+"="+kv[1])
			}
			c.logs = strings.Join(opts, " ")
		}
		s.containers[aws.ToString(d.Name)] = c
	}
	return s
}

func specOfInput(in *ecs.RegisterTaskDefinitionInput) tdSpec {
	return specOf(in.Cpu, in.Memory, in.NetworkMode, in.RuntimePlatform, in.RequiresCompatibilities, in.EphemeralStorage,
		in.ExecutionRoleArn, in.TaskRoleArn, in.Volumes, in.ContainerDefinitions)
}

func specOfTaskDef(td *ecstypes.TaskDefinition) tdSpec {
	return specOf(td.Cpu, td.Memory, td.NetworkMode, td.RuntimePlatform, td.RequiresCompatibilities, td.EphemeralStorage,
		td.ExecutionRoleArn, td.TaskRoleArn, td.Volumes, td.ContainerDefinitions)
}

// shortHash names a long value (a sidecar script) in a change list.
func shortHash(s string) string {
	if s == "" {
		return "(none)"
	}
	h := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(h[:4])
}

func showValue(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// specChanges lists what differs between a registered revision (have) and
// the desired task definition (want), field by field, for plan and up.
func specChanges(have, want tdSpec) []Change {
	var cs []Change
	add := func(field, old, new string) {
		if old != new {
			cs = append(cs, Change{Field: field, Old: showValue(old), New: showValue(new)})
		}
	}
	add("cpu", have.cpu, want.cpu)
	add("memory", have.memory, want.memory)
	add("network_mode", have.network, want.network)
	add("operating_system", have.os, want.os)
	add("architecture", have.arch, want.arch)
	add("requires_compatibilities", have.compat, want.compat)
	add("ephemeral_storage_gb", itoaOrEmpty(have.ephemeral), itoaOrEmpty(want.ephemeral))
	add("execution_role", have.execRole, want.execRole)
	add("task_role", have.taskRole, want.taskRole)
	add("volumes", have.volumes, want.volumes)
	names := map[string]bool{}
	for n := range have.containers {
		names[n] = true
	}
	for n := range want.containers {
		names[n] = true
	}
	var sorted []string
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		h, hok := have.containers[n]
		w, wok := want.containers[n]
		p := "container " + n + " "
		switch {
		case !hok:
			cs = append(cs, Change{Field: "container " + n, Old: "(none)", New: "added"})
			continue
		case !wok:
			cs = append(cs, Change{Field: "container " + n, Old: "present", New: "removed"})
			continue
		}
		add(p+"image", h.image, w.image)
		add(p+"essential", strconv.FormatBool(h.essential), strconv.FormatBool(w.essential))
		add(p+"entry_point", strings.ReplaceAll(h.entryPoint, "\x00", " "), strings.ReplaceAll(w.entryPoint, "\x00", " "))
		if h.command != w.command {
			cs = append(cs, Change{Field: p + "command", Old: shortHash(h.command), New: shortHash(w.command)})
		}
		for _, kv := range envChanges(h.env, w.env) {
			cs = append(cs, Change{Field: p + "env " + kv[0], Old: kv[1], New: kv[2]})
		}
		add(p+"ports", h.ports, w.ports)
		add(p+"depends_on", h.dependsOn, w.dependsOn)
		add(p+"mounts", h.mounts, w.mounts)
		add(p+"stop_timeout", itoaOrEmpty(h.stopTimeout), itoaOrEmpty(w.stopTimeout))
		add(p+"readonly_root_filesystem", strconv.FormatBool(h.readOnlyRoot), strconv.FormatBool(w.readOnlyRoot))
		add(p+"user", h.user, w.user)
		add(p+"privileged", strconv.FormatBool(h.privileged), strconv.FormatBool(w.privileged))
		add(p+"logs", h.logs, w.logs)
		add(p+"health_check", strconv.FormatBool(h.healthCheck), strconv.FormatBool(w.healthCheck))
	}
	return cs
}

func itoaOrEmpty(v int32) string {
	if v == 0 {
		return ""
	}
	return strconv.Itoa(int(v))
}

// envChanges returns [name, old, new] for every variable that differs.
func envChanges(have, want map[string]string) [][3]string {
	var out [][3]string
	for _, kv := range ecsSortedPairs(want) {
		if old, ok := have[kv[0]]; !ok {
			out = append(out, [3]string{kv[0], "(unset)", kv[1]})
		} else if old != kv[1] {
			out = append(out, [3]string{kv[0], old, kv[1]})
		}
	}
	for _, kv := range ecsSortedPairs(have) {
		if _, ok := want[kv[0]]; !ok {
			out = append(out, [3]string{kv[0], kv[1], "(unset)"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}
