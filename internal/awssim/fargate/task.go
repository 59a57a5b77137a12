package fargate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// DefaultStopTimeout is the time Fargate waits after SIGTERM before
// SIGKILL when a container sets no stopTimeout (ContainerDefinition
// .stopTimeout: "For tasks using the Fargate launch type, ... the default
// value is 30 seconds").
const DefaultStopTimeout = 30

// TaskOptions describe a task to run.
type TaskOptions struct {
	Family      string
	Containers  []ecstypes.ContainerDefinition
	Volumes     []ecstypes.Volume
	TaskRoleArn string
	// Images models the images the definitions name (by image reference):
	// a definition naming no modelled image fails like a pull error.
	Images map[string]Image
	// S3 issues the task role's credentials (nil: the task gets none).
	S3      *S3
	Region  string // default us-east-1
	Account string // default 123456789012
	Cluster string // default "default"
	// Clock is the time of stopTimeout, startTimeout and the health
	// checks' interval and startPeriod (nil: real time). With a test Clock
	// they pass only when the test advances it (a health probe's own
	// timeout stays real: it bounds a real process).
	Clock Timers
}

// Timers is a source of time for the runner; *Clock is one.
type Timers interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realTimers struct{}

func (realTimers) Now() time.Time { return time.Now() }
func (realTimers) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// FromDefinition copies what the runner needs from a RegisterTaskDefinition
// call, so a test runs exactly what the tool registers.
func FromDefinition(in *ecs.RegisterTaskDefinitionInput) TaskOptions {
	return TaskOptions{Family: aws.ToString(in.Family), Containers: in.ContainerDefinitions, Volumes: in.Volumes,
		TaskRoleArn: aws.ToString(in.TaskRoleArn)}
}

// Event is one thing that happened to a container.
type Event struct {
	Container string
	What      string // "start", "exit", "SIGTERM", "SIGKILL", "not started", "healthy", "unhealthy"
	Detail    string
}

func (e Event) String() string {
	if e.Detail == "" {
		return e.Container + " " + e.What
	}
	return e.Container + " " + e.What + " (" + e.Detail + ")"
}

type ctrState int

const (
	pending ctrState = iota
	running
	exited
	skipped // never started
)

// Container is one container of a running task.
type Container struct {
	Name      string
	Def       ecstypes.ContainerDefinition
	essential bool
	img       Image

	state    ctrState
	exitCode int
	killed   bool // got SIGKILL after its stopTimeout
	termSent bool
	health   string // "", "HEALTHY", "UNHEALTHY"
	pid      int
	proc     *exec.Cmd
	out      *LineLog
	stopHC   chan struct{}
}

// Task is a running (or stopped) task.
type Task struct {
	t    testing.TB
	o    TaskOptions
	ARN  string
	id   string
	vols map[string]string
	ctrs []*Container
	by   map[string]*Container
	meta *endpoints

	mu         sync.Mutex
	events     []Event
	stopping   bool
	reason     string
	poke       chan struct{}
	done       chan struct{}
	started    time.Time
	finishOnce sync.Once
}

// Start validates the definition as RegisterTaskDefinition would, then
// starts the task: containers start as their dependencies allow.
func Start(t testing.TB, o TaskOptions) (*Task, error) {
	t.Helper()
	RequireSandbox(t)
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Account == "" {
		o.Account = "123456789012"
	}
	if o.Cluster == "" {
		o.Cluster = "default"
	}
	if o.Clock == nil {
		o.Clock = realTimers{}
	}
	if err := validate(o); err != nil {
		return nil, err
	}
	id := fmt.Sprintf("%032x", time.Now().UnixNano())
	task := &Task{t: t, o: o, id: id, vols: map[string]string{}, by: map[string]*Container{},
		ARN:  "arn:aws:ecs:" + o.Region + ":" + o.Account + ":task/" + o.Cluster + "/" + id,
		poke: make(chan struct{}, 1), done: make(chan struct{}), started: o.Clock.Now()}
	for _, v := range o.Volumes {
		if v.Host != nil && aws.ToString(v.Host.SourcePath) != "" {
			return nil, fmt.Errorf("volume %s: Fargate does not support a host sourcePath", aws.ToString(v.Name))
		}
		if v.EfsVolumeConfiguration != nil || v.DockerVolumeConfiguration != nil || v.FsxWindowsFileServerVolumeConfiguration != nil {
			return nil, fmt.Errorf("volume %s: only bind mount volumes are modelled", aws.ToString(v.Name))
		}
		task.vols[aws.ToString(v.Name)] = newVolume(t, aws.ToString(v.Name))
	}
	for _, d := range o.Containers {
		img, ok := o.Images[aws.ToString(d.Image)]
		if !ok {
			return nil, fmt.Errorf("container %s: CannotPullContainerError: no model of image %s", aws.ToString(d.Name), aws.ToString(d.Image))
		}
		c := &Container{Name: aws.ToString(d.Name), Def: d, essential: d.Essential == nil || *d.Essential, img: img,
			out: NewLineLog()}
		task.ctrs = append(task.ctrs, c)
		task.by[c.Name] = c
	}
	meta, err := newEndpoints(task)
	if err != nil {
		return nil, err
	}
	task.meta = meta
	t.Cleanup(task.cleanup)
	for _, c := range task.ctrs {
		if st := aws.ToInt32(c.Def.StartTimeout); st > 0 {
			o.Clock.AfterFunc(time.Duration(st)*time.Second, task.wake)
		}
	}
	go task.supervise()
	return task, nil
}

// validate applies RegisterTaskDefinition's rules on what the runner uses
// (Amazon ECS API reference, ContainerDependency and ContainerDefinition).
func validate(o TaskOptions) error {
	byName := map[string]ecstypes.ContainerDefinition{}
	essential := 0
	for _, d := range o.Containers {
		n := aws.ToString(d.Name)
		if _, dup := byName[n]; dup {
			return fmt.Errorf("ClientException: container name %s is used twice", n)
		}
		byName[n] = d
		if d.Essential == nil || *d.Essential {
			essential++
		}
		if len(d.VolumesFrom) > 0 {
			return fmt.Errorf("container %s: volumesFrom is not modelled", n)
		}
	}
	if essential == 0 {
		return errors.New("ClientException: a task definition must have at least one essential container")
	}
	vols := map[string]bool{}
	for _, v := range o.Volumes {
		vols[aws.ToString(v.Name)] = true
	}
	for _, d := range o.Containers {
		n := aws.ToString(d.Name)
		for _, m := range d.MountPoints {
			if !vols[aws.ToString(m.SourceVolume)] {
				return fmt.Errorf("ClientException: container %s mounts unknown volume %s", n, aws.ToString(m.SourceVolume))
			}
			if !strings.HasPrefix(aws.ToString(m.ContainerPath), "/") {
				return fmt.Errorf("ClientException: container %s: containerPath %q is not absolute", n, aws.ToString(m.ContainerPath))
			}
		}
		if st := aws.ToInt32(d.StopTimeout); st < 0 || st > 120 {
			return fmt.Errorf("ClientException: container %s: stopTimeout %d is outside 0..120 (the Fargate maximum)", n, st)
		}
		for _, dep := range d.DependsOn {
			dn := aws.ToString(dep.ContainerName)
			target, ok := byName[dn]
			if !ok {
				return fmt.Errorf("ClientException: container %s depends on unknown container %s", n, dn)
			}
			switch dep.Condition {
			case ecstypes.ContainerConditionStart:
			case ecstypes.ContainerConditionComplete, ecstypes.ContainerConditionSuccess:
				// "This condition can't be set on an essential container."
				if target.Essential == nil || *target.Essential {
					return fmt.Errorf("ClientException: container %s: condition %s cannot be set on the essential container %s", n, dep.Condition, dn)
				}
			case ecstypes.ContainerConditionHealthy:
				if target.HealthCheck == nil {
					return fmt.Errorf("ClientException: container %s: condition HEALTHY on %s, which has no health check", n, dn)
				}
			default:
				return fmt.Errorf("ClientException: container %s: unknown dependency condition %q", n, dep.Condition)
			}
		}
	}
	// No cycles.
	seen, stack := map[string]bool{}, map[string]bool{}
	var visit func(string) error
	visit = func(n string) error {
		if stack[n] {
			return fmt.Errorf("ClientException: the container dependencies of %s form a cycle", n)
		}
		if seen[n] {
			return nil
		}
		seen[n], stack[n] = true, true
		for _, dep := range byName[n].DependsOn {
			if err := visit(aws.ToString(dep.ContainerName)); err != nil {
				return err
			}
		}
		stack[n] = false
		return nil
	}
	for n := range byName {
		if err := visit(n); err != nil {
			return err
		}
	}
	return nil
}

func (task *Task) event(c, what, detail string) {
	task.events = append(task.events, Event{c, what, detail})
}

func (task *Task) wake() {
	select {
	case task.poke <- struct{}{}:
	default:
	}
}

// supervise starts containers whose dependencies are met and, once the
// task stops, stops them in reverse dependency order.
func (task *Task) supervise() {
	for {
		task.mu.Lock()
		task.step()
		finished := true
		for _, c := range task.ctrs {
			if c.state == pending || c.state == running {
				finished = false
			}
		}
		task.mu.Unlock()
		if finished {
			task.finish()
			return
		}
		<-task.poke
	}
}

// step makes every transition possible now; task.mu held.
func (task *Task) step() {
	for changed := true; changed; {
		changed = false
		// Decide every pending container first, then act: the outcome must
		// not depend on the order of the definitions.
		var ready, never []*Container
		var whys []string
		for _, c := range task.ctrs {
			if c.state != pending {
				continue
			}
			if task.stopping {
				never, whys = append(never, c), append(whys, "the task is stopping")
				continue
			}
			ok, why := task.depsMet(c)
			if why == "" && !ok {
				if st := aws.ToInt32(c.Def.StartTimeout); st > 0 && task.o.Clock.Now().Sub(task.started) >= time.Duration(st)*time.Second {
					why = fmt.Sprintf("its dependencies were not resolved within its startTimeout of %d s", st)
				}
			}
			switch {
			case why != "":
				never, whys = append(never, c), append(whys, why)
			case ok:
				ready = append(ready, c)
			}
		}
		for _, c := range ready {
			if err := task.startContainer(c); err != nil {
				never, whys = append(never, c), append(whys, err.Error())
			}
			changed = true
		}
		for i, c := range never {
			c.state = skipped
			task.event(c.Name, "not started", whys[i])
			if c.essential {
				task.beginStop("essential container " + c.Name + " did not start: " + whys[i])
			}
			changed = true
		}
	}
	if !task.stopping {
		return
	}
	// Reverse dependency order: a container is stopped once every
	// container depending on it has stopped.
	for _, c := range task.ctrs {
		if c.state != running || c.termSent {
			continue
		}
		blocked := false
		for _, o := range task.ctrs {
			if o.state != running {
				continue
			}
			for _, dep := range o.Def.DependsOn {
				if aws.ToString(dep.ContainerName) == c.Name {
					blocked = true
				}
			}
		}
		if !blocked {
			task.terminate(c)
		}
	}
}

// depsMet reports whether c may start now, or why it never will.
func (task *Task) depsMet(c *Container) (ok bool, never string) {
	ok = true
	for _, dep := range c.Def.DependsOn {
		d := task.by[aws.ToString(dep.ContainerName)]
		if d.state == skipped {
			return false, "dependency " + d.Name + " never started"
		}
		switch dep.Condition {
		case ecstypes.ContainerConditionStart:
			ok = ok && d.state != pending
		case ecstypes.ContainerConditionComplete:
			ok = ok && d.state == exited
		case ecstypes.ContainerConditionSuccess:
			if d.state == exited && d.exitCode != 0 {
				return false, fmt.Sprintf("dependency %s exited with %d, not SUCCESS", d.Name, d.exitCode)
			}
			ok = ok && d.state == exited
		case ecstypes.ContainerConditionHealthy:
			if d.health == "UNHEALTHY" || d.state == exited {
				return false, "dependency " + d.Name + " did not become HEALTHY"
			}
			ok = ok && d.health == "HEALTHY"
		}
	}
	return ok, ""
}

// beginStop stops the task (task.mu held).
func (task *Task) beginStop(reason string) {
	if task.stopping {
		return
	}
	task.stopping = true
	task.reason = reason
}

// terminate sends SIGTERM and arms the SIGKILL (task.mu held).
func (task *Task) terminate(c *Container) {
	c.termSent = true
	timeout := DefaultStopTimeout
	if c.Def.StopTimeout != nil {
		timeout = int(*c.Def.StopTimeout)
	}
	task.event(c.Name, "SIGTERM", "stopTimeout "+strconv.Itoa(timeout)+" s")
	_ = syscall.Kill(c.pid, syscall.SIGTERM)
	pid := c.pid
	task.o.Clock.AfterFunc(time.Duration(timeout)*time.Second, func() {
		task.mu.Lock()
		defer task.mu.Unlock()
		if c.state == running && c.pid == pid {
			c.killed = true
			task.event(c.Name, "SIGKILL", "still running "+strconv.Itoa(timeout)+" s after SIGTERM")
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// status is the task's lastStatus and desiredStatus as ECS reports them.
func (task *Task) status() (last, desired string) {
	select {
	case <-task.done:
		return "STOPPED", "STOPPED"
	default:
	}
	task.mu.Lock()
	defer task.mu.Unlock()
	if task.stopping {
		return "STOPPING", "STOPPED"
	}
	return "RUNNING", "RUNNING"
}

// Stop stops the task as StopTask does (the reason is recorded).
func (task *Task) Stop(reason string) {
	task.mu.Lock()
	task.beginStop(reason)
	task.mu.Unlock()
	task.wake()
}

// Wait waits for the task to stop, failing the test after timeout.
func (task *Task) Wait(timeout time.Duration) {
	task.t.Helper()
	select {
	case <-task.done:
	case <-time.After(timeout):
		task.t.Fatalf("task %s still running after %v; events: %v\n%s", task.o.Family, timeout, task.Events(), task.Logs())
	}
}

// Done is closed when the task has stopped.
func (task *Task) Done() <-chan struct{} { return task.done }

// StoppedReason says why the task stopped ("" while it runs).
func (task *Task) StoppedReason() string {
	task.mu.Lock()
	defer task.mu.Unlock()
	return task.reason
}

// Events returns what happened so far, in order.
func (task *Task) Events() []Event {
	task.mu.Lock()
	defer task.mu.Unlock()
	return append([]Event(nil), task.events...)
}

// Volume is the host directory of a task volume.
func (task *Task) Volume(name string) string { return task.vols[name] }

// Container returns the named container.
func (task *Task) Container(name string) *Container {
	task.t.Helper()
	c, ok := task.by[name]
	if !ok {
		task.t.Fatalf("task %s has no container %s", task.o.Family, name)
	}
	return c
}

// ExitCode returns the container's exit code and whether it ran and
// exited (128+n for a process killed by signal n, as Docker reports).
func (task *Task) ExitCode(name string) (code int, ok bool) {
	c := task.Container(name)
	task.mu.Lock()
	defer task.mu.Unlock()
	return c.exitCode, c.state == exited
}

// Killed reports whether the container got SIGKILL after its stopTimeout.
func (task *Task) Killed(name string) bool {
	c := task.Container(name)
	task.mu.Lock()
	defer task.mu.Unlock()
	return c.killed
}

// Output is everything the container wrote to stdout and stderr.
func (task *Task) Output(name string) string { return task.Container(name).out.String() }

// WaitOutput waits until a line of the container's output contains sub.
func (task *Task) WaitOutput(name, sub string, timeout time.Duration) {
	task.t.Helper()
	if !task.Container(name).out.WaitFor(sub, timeout, task.done) {
		task.t.Fatalf("container %s never printed %q; events: %v\n%s", name, sub, task.Events(), task.Logs())
	}
}

// Logs is the output of every container, for failure messages.
func (task *Task) Logs() string {
	var b strings.Builder
	for _, c := range task.ctrs {
		fmt.Fprintf(&b, "--- %s:\n%s\n", c.Name, c.out.String())
	}
	return b.String()
}

func (task *Task) finish() {
	task.finishOnce.Do(func() {
		task.meta.close()
		close(task.done)
	})
}

func (task *Task) cleanup() {
	task.Stop("test ended")
	select {
	case <-task.done:
		return
	case <-time.After(150 * time.Second):
	}
	task.mu.Lock()
	for _, c := range task.ctrs {
		if c.state == running {
			_ = syscall.Kill(c.pid, syscall.SIGKILL)
		}
	}
	task.mu.Unlock()
	<-task.done
}

// env is the container's environment: image ENV, what ECS adds, the
// definition's environment, then HOSTNAME and HOME as Docker sets them.
func (task *Task) env(c *Container, id identity, hostname string) []string {
	vals, order := map[string]string{}, []string{}
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	set("PATH", dockerPath)
	for _, kv := range c.img.Env {
		k, v, _ := strings.Cut(kv, "=")
		set(k, v)
	}
	set("HOSTNAME", hostname)
	// Amazon ECS Developer Guide, "Fargate task metadata endpoint v4" and
	// "Amazon ECS task IAM role"; AWS_EXECUTION_ENV, AWS_REGION and
	// AWS_DEFAULT_REGION are set in every Fargate container.
	set("AWS_EXECUTION_ENV", "AWS_ECS_FARGATE")
	set("AWS_REGION", task.o.Region)
	set("AWS_DEFAULT_REGION", task.o.Region)
	set("ECS_CONTAINER_METADATA_URI_V4", task.meta.url+"/v4/"+task.id+"-"+c.Name)
	set("ECS_CONTAINER_METADATA_URI", task.meta.url+"/v3/"+task.id+"-"+c.Name)
	if task.meta.creds != "" {
		set("AWS_CONTAINER_CREDENTIALS_FULL_URI", task.meta.url+task.meta.creds)
	}
	for _, kv := range c.Def.Environment {
		set(aws.ToString(kv.Name), aws.ToString(kv.Value))
	}
	if _, ok := vals["HOME"]; !ok {
		set("HOME", id.home)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vals[k])
	}
	return out
}

// argv is the process Docker starts: entryPoint and command of the
// definition replace the image's; a set entryPoint drops the image's CMD.
func argv(c *Container) []string {
	ep, cmd := c.Def.EntryPoint, c.Def.Command
	if len(ep) == 0 {
		ep = c.img.Entrypoint
		if len(cmd) == 0 {
			cmd = c.img.Cmd
		}
	}
	return append(append([]string(nil), ep...), cmd...)
}

// spec is what a process of container c runs with.
func (task *Task) spec(c *Container) (mounts []mount, id identity, workDir string, err error) {
	user := aws.ToString(c.Def.User)
	if user == "" {
		user = c.img.User
	}
	if id, err = resolveUser(user); err != nil {
		return nil, identity{}, "", err
	}
	for _, m := range c.Def.MountPoints {
		mounts = append(mounts, mount{host: task.vols[aws.ToString(m.SourceVolume)], path: aws.ToString(m.ContainerPath), readOnly: aws.ToBool(m.ReadOnly)})
	}
	workDir = aws.ToString(c.Def.WorkingDirectory)
	if workDir == "" {
		workDir = c.img.WorkingDir
	}
	if workDir == "" {
		workDir = "/"
	}
	return mounts, id, workDir, nil
}

func (task *Task) hostname(c *Container) string {
	return "ip-10-0-" + strconv.Itoa(len(task.o.Family)%250) + "-" + strconv.Itoa(len(c.Name)%250+1) + ".ec2.internal"
}

// startContainer starts c's process (task.mu held).
func (task *Task) startContainer(c *Container) error {
	args := argv(c)
	if len(args) == 0 {
		return errors.New("CannotStartContainerError: no command specified")
	}
	mounts, id, workDir, err := task.spec(c)
	if err != nil {
		return fmt.Errorf("CannotStartContainerError: %v", err)
	}
	infoR, infoW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer func() { _ = infoR.Close() }()
	hostname := task.hostname(c)
	cmd := exec.Command(bwrapPath, sandboxArgs(c.img, mounts, aws.ToBool(c.Def.ReadonlyRootFilesystem), hostname, id, workDir, args, 3)...)
	cmd.Env = task.env(c, id, hostname)
	cmd.ExtraFiles = []*os.File{infoW}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		_ = infoW.Close()
		return err
	}
	_ = infoW.Close()
	var info struct {
		ChildPID int `json:"child-pid"`
	}
	if err := json.NewDecoder(infoR).Decode(&info); err != nil || info.ChildPID == 0 {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = pw.Close()
		return fmt.Errorf("CannotStartContainerError: the sandbox did not start: %v", err)
	}
	c.state, c.pid, c.proc = running, info.ChildPID, cmd
	task.event(c.Name, "start", "")
	go c.out.Scan(pr)
	if hc := c.Def.HealthCheck; hc != nil {
		c.stopHC = make(chan struct{})
		go task.healthLoop(c, hc, mounts, id, workDir, cmd.Env)
	}
	go func() {
		err := cmd.Wait()
		_ = pw.Close()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		} else if err != nil {
			code = -1
		}
		task.mu.Lock()
		c.state, c.exitCode = exited, code
		task.event(c.Name, "exit", strconv.Itoa(code))
		if c.stopHC != nil {
			close(c.stopHC)
		}
		if c.essential {
			task.beginStop(fmt.Sprintf("Essential container in task exited (%s, exit code %d)", c.Name, code))
		}
		task.mu.Unlock()
		task.wake()
	}()
	return nil
}

// healthLoop runs the container's health check as Docker does: every
// interval (default 30 s), each run limited to timeout (default 5 s);
// failures during startPeriod do not count; retries (default 3)
// consecutive failures make it UNHEALTHY, one success HEALTHY
// (ContainerDefinition.healthCheck, HealthCheck in the ECS API reference).
// The check runs in a sibling sandbox with the container's mounts,
// environment and user.
func (task *Task) healthLoop(c *Container, hc *ecstypes.HealthCheck, mounts []mount, id identity, workDir string, env []string) {
	interval := secondsOr(hc.Interval, 30)
	timeout := secondsOr(hc.Timeout, 5)
	retries := int(aws.ToInt32(hc.Retries))
	if hc.Retries == nil {
		retries = 3
	}
	startPeriod := secondsOr(hc.StartPeriod, 0)
	var probe []string
	switch {
	case len(hc.Command) >= 2 && hc.Command[0] == "CMD-SHELL":
		probe = []string{"/bin/sh", "-c", strings.Join(hc.Command[1:], " ")}
	case len(hc.Command) >= 2 && hc.Command[0] == "CMD":
		probe = hc.Command[1:]
	default:
		probe = hc.Command
	}
	begin, failures := task.o.Clock.Now(), 0
	for {
		due := make(chan struct{})
		stop := task.o.Clock.AfterFunc(interval, func() { close(due) })
		select {
		case <-c.stopHC:
			stop()
			return
		case <-due:
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		cmd := exec.CommandContext(ctx, bwrapPath, sandboxArgs(c.img, mounts, aws.ToBool(c.Def.ReadonlyRootFilesystem), task.hostname(c), id, workDir, probe, 0)...)
		cmd.Env = env
		err := cmd.Run()
		cancel()
		task.mu.Lock()
		switch {
		case c.state != running:
		case err == nil:
			failures = 0
			if c.health != "HEALTHY" {
				c.health = "HEALTHY"
				task.event(c.Name, "healthy", "")
			}
		case task.o.Clock.Now().Sub(begin) < startPeriod:
		default:
			failures++
			if failures >= retries && c.health != "UNHEALTHY" {
				c.health = "UNHEALTHY"
				task.event(c.Name, "unhealthy", fmt.Sprintf("%d failed checks", failures))
				if c.essential {
					task.beginStop("Task failed container health checks (" + c.Name + ")")
				}
			}
		}
		task.mu.Unlock()
		task.wake()
	}
}

func secondsOr(v *int32, def int) time.Duration {
	if v == nil || *v == 0 {
		return time.Duration(def) * time.Second
	}
	return time.Duration(*v) * time.Second
}
