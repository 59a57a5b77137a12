package fargate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

const waitLong = 120 * time.Second

func ctr(name, image string, essential bool, cmd ...string) ecstypes.ContainerDefinition {
	d := ecstypes.ContainerDefinition{Name: aws.String(name), Image: aws.String(image), Essential: aws.Bool(essential)}
	if len(cmd) > 0 {
		d.EntryPoint, d.Command = []string{"/bin/sh", "-c"}, []string{strings.Join(cmd, "\n")}
	}
	return d
}

func dep(name string, c ecstypes.ContainerCondition) ecstypes.ContainerDependency {
	return ecstypes.ContainerDependency{ContainerName: aws.String(name), Condition: c}
}

func shellImages(t *testing.T) map[string]Image {
	return map[string]Image{"shell": {Entrypoint: []string{"/bin/sh"}}, "app": ScriptImage(t, "1000:1000", "echo app-entrypoint \"$@\"; id -u\n")}
}

func start(t *testing.T, o TaskOptions) *Task {
	t.Helper()
	task, err := Start(t, o)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

// index returns the position of the event "container what" (-1 if none).
func index(evs []Event, container, what string) int {
	return slices.IndexFunc(evs, func(e Event) bool { return e.Container == container && e.What == what })
}

// TestReadOnlyRootOnlyMountsWritable: with readonlyRootFilesystem only the
// declared mount points take writes; a read-only mount point refuses them;
// without it the root is writable.
func TestReadOnlyRootOnlyMountsWritable(t *testing.T) {
	RequireSandbox(t)
	probe := `for p in /data/f /scratch/f /etc/f /f /usr/f /tmp/f; do if ( : > "$p" ) 2>/dev/null; then echo "writable $p"; else echo "readonly $p"; fi; done`
	ro := ctr("ro", "shell", true, probe)
	ro.ReadonlyRootFilesystem = aws.Bool(true)
	ro.MountPoints = []ecstypes.MountPoint{
		{SourceVolume: aws.String("data"), ContainerPath: aws.String("/data")},
		{SourceVolume: aws.String("scratch"), ContainerPath: aws.String("/scratch"), ReadOnly: aws.Bool(true)},
	}
	task := start(t, TaskOptions{Family: "fs", Containers: []ecstypes.ContainerDefinition{ro},
		Volumes: []ecstypes.Volume{{Name: aws.String("data")}, {Name: aws.String("scratch")}}, Images: shellImages(t)})
	task.Wait(waitLong)
	out := task.Output("ro")
	for _, want := range []string{"writable /data/f", "readonly /scratch/f", "readonly /etc/f", "readonly /f", "readonly /usr/f", "readonly /tmp/f"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q; output:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(task.Volume("data"), "f")); err != nil {
		t.Errorf("the write to /data did not reach the task volume: %v", err)
	}
	if fi, err := os.Stat(task.Volume("data")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("a task volume starts as root's 0755 directory: %v %v", fi.Mode(), err)
	}

	rw := ctr("rw", "shell", true, probe)
	task = start(t, TaskOptions{Family: "fs", Containers: []ecstypes.ContainerDefinition{rw}, Images: shellImages(t)})
	task.Wait(waitLong)
	if out := task.Output("rw"); !strings.Contains(out, "writable /f") {
		t.Errorf("without readonlyRootFilesystem the root takes writes; output:\n%s", out)
	}
}

// TestCommandUserAndEnvironment: the image's entry point runs with the
// definition's command, as the image's user; the environment is the
// image's, ECS's and the definition's, nothing of the test process.
func TestCommandUserAndEnvironment(t *testing.T) {
	RequireSandbox(t)
	t.Setenv("WBO_LEAK_CHECK", "leaked")
	app := ctr("app", "app", true)
	app.Command = []string{"one", "two"}
	app.Environment = []ecstypes.KeyValuePair{{Name: aws.String("FOO"), Value: aws.String("bar")}}
	env := ctr("env", "shell", false, "id -u; id -g; pwd; env | sort")
	env.User = aws.String("1234:4321")
	env.WorkingDirectory = aws.String("/work")
	env.Environment = []ecstypes.KeyValuePair{{Name: aws.String("AWS_REGION"), Value: aws.String("eu-west-1")}}
	task := start(t, TaskOptions{Family: "cmd", Containers: []ecstypes.ContainerDefinition{app, env}, Images: shellImages(t)})
	task.Wait(waitLong)
	if out := task.Output("app"); !strings.Contains(out, "app-entrypoint one two") || !strings.Contains(out, "\n1000") {
		t.Errorf("app: want the image's entry point with the command, as uid 1000; output:\n%s", out)
	}
	out := task.Output("env")
	lines := strings.Split(out, "\n")
	if len(lines) < 3 || lines[0] != "1234" || lines[1] != "4321" || lines[2] != "/work" {
		t.Fatalf("env: want uid 1234, gid 4321 in /work; output:\n%s", out)
	}
	var names []string
	for _, l := range lines[3:] {
		k, v, _ := strings.Cut(l, "=")
		names = append(names, k)
		if k == "AWS_REGION" && v != "eu-west-1" {
			t.Errorf("the definition's AWS_REGION must win over ECS's: %s", l)
		}
		if k == "HOME" && v != "/" {
			t.Errorf("a uid without passwd entry gets HOME=/ as from Docker: %s", l)
		}
	}
	want := []string{"AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "AWS_REGION", "ECS_CONTAINER_METADATA_URI",
		"ECS_CONTAINER_METADATA_URI_V4", "HOME", "HOSTNAME", "PATH", "PWD"}
	if !slices.Equal(names, want) {
		t.Errorf("environment names %v, want exactly %v", names, want)
	}
}

// TestCommandWithoutEntryPointRunsTheImagesEntryPoint: a definition that
// sets only command hands it to the image's ENTRYPOINT (for the AWS CLI
// image, aws), so "sh -c script" style commands must set entryPoint.
func TestCommandWithoutEntryPointRunsTheImagesEntryPoint(t *testing.T) {
	RequireSandbox(t)
	c := ecstypes.ContainerDefinition{Name: aws.String("cli"), Image: aws.String("cli"), Command: []string{"echo hello"}}
	img := Image{Entrypoint: []string{"/bin/echo", "entrypoint:"}}
	task := start(t, TaskOptions{Family: "ep", Containers: []ecstypes.ContainerDefinition{c}, Images: map[string]Image{"cli": img}})
	task.Wait(waitLong)
	if out := task.Output("cli"); out != "entrypoint: echo hello" {
		t.Fatalf("output %q, want the image's entry point with the command as its argument", out)
	}
}

// TestStopOrderAndStopTimeout: stopping runs in the reverse order of the
// dependencies; a container that handles SIGTERM exits, one that ignores
// it (a shell as PID 1 without a trap) is killed after its stopTimeout.
func TestStopOrderAndStopTimeout(t *testing.T) {
	RequireSandbox(t)
	backend := ctr("backend", "shell", true, `trap 'echo backend got TERM; exit 0' TERM`, `echo backend up`, `while :; do sleep 1 & wait $!; done`)
	front := ctr("front", "shell", true, `trap 'echo front got TERM; exit 0' TERM`, `echo front up`, `while :; do sleep 1 & wait $!; done`)
	front.DependsOn = []ecstypes.ContainerDependency{dep("backend", ecstypes.ContainerConditionStart)}
	stubborn := ctr("stubborn", "shell", true, `echo stubborn up`, `while :; do sleep 1; done`)
	stubborn.StopTimeout = aws.Int32(1)
	stubborn.DependsOn = []ecstypes.ContainerDependency{dep("front", ecstypes.ContainerConditionStart)}
	task := start(t, TaskOptions{Family: "stop", Containers: []ecstypes.ContainerDefinition{backend, front, stubborn}, Images: shellImages(t)})
	task.WaitOutput("stubborn", "stubborn up", waitLong)
	task.WaitOutput("front", "front up", waitLong)
	task.WaitOutput("backend", "backend up", waitLong)
	task.Stop("test")
	task.Wait(waitLong)
	evs := task.Events()
	order := []int{index(evs, "stubborn", "SIGTERM"), index(evs, "stubborn", "SIGKILL"), index(evs, "stubborn", "exit"),
		index(evs, "front", "SIGTERM"), index(evs, "front", "exit"), index(evs, "backend", "SIGTERM"), index(evs, "backend", "exit")}
	if slices.Contains(order, -1) || !slices.IsSorted(order) {
		t.Fatalf("want stubborn TERM, KILL, exit, then front, then backend; events: %v", evs)
	}
	if code, _ := task.ExitCode("stubborn"); code != 137 || !task.Killed("stubborn") {
		t.Errorf("stubborn: exit %d (killed %v), want 137 after SIGKILL", code, task.Killed("stubborn"))
	}
	for _, n := range []string{"front", "backend"} {
		if code, _ := task.ExitCode(n); code != 0 || task.Killed(n) {
			t.Errorf("%s: exit %d (killed %v), want 0 from its TERM trap", n, code, task.Killed(n))
		}
	}
}

// TestDependencyConditions: SUCCESS waits for a zero exit and, after a
// failure, keeps the dependent from starting (which stops the task when
// it is essential); COMPLETE accepts any exit; HEALTHY waits for the
// health check.
func TestDependencyConditions(t *testing.T) {
	RequireSandbox(t)
	t.Run("success", func(t *testing.T) {
		first := ctr("first", "shell", false, "echo first; exit 3")
		after := ctr("after", "shell", false, "echo after")
		after.DependsOn = []ecstypes.ContainerDependency{dep("first", ecstypes.ContainerConditionComplete)}
		main := ctr("main", "shell", true, "echo main")
		main.DependsOn = []ecstypes.ContainerDependency{dep("first", ecstypes.ContainerConditionSuccess)}
		task := start(t, TaskOptions{Family: "deps", Containers: []ecstypes.ContainerDefinition{main, first, after}, Images: shellImages(t)})
		task.Wait(waitLong)
		evs := task.Events()
		if index(evs, "main", "start") != -1 || index(evs, "main", "not started") == -1 {
			t.Errorf("main must not start after first exited 3; events: %v", evs)
		}
		if i := index(evs, "after", "start"); i == -1 || i < index(evs, "first", "exit") {
			t.Errorf("after (COMPLETE) must start once first exited; events: %v", evs)
		}
		if r := task.StoppedReason(); !strings.Contains(r, "essential container main did not start") {
			t.Errorf("stopped reason %q", r)
		}
	})
	t.Run("healthy", func(t *testing.T) {
		db := ctr("db", "shell", false, "sleep 1; : > /data/ready; echo ready", "while :; do sleep 1; done")
		db.MountPoints = []ecstypes.MountPoint{{SourceVolume: aws.String("data"), ContainerPath: aws.String("/data")}}
		db.StopTimeout = aws.Int32(2)
		db.HealthCheck = &ecstypes.HealthCheck{Command: []string{"CMD-SHELL", "test -f /data/ready"}, Interval: aws.Int32(5), Retries: aws.Int32(10)}
		app := ctr("app", "shell", true, "test -f /data/ready && echo saw ready")
		app.MountPoints = db.MountPoints
		app.DependsOn = []ecstypes.ContainerDependency{dep("db", ecstypes.ContainerConditionHealthy)}
		task := start(t, TaskOptions{Family: "health", Containers: []ecstypes.ContainerDefinition{db, app},
			Volumes: []ecstypes.Volume{{Name: aws.String("data")}}, Images: shellImages(t)})
		task.Wait(waitLong)
		evs := task.Events()
		if i := index(evs, "app", "start"); i == -1 || i < index(evs, "db", "healthy") {
			t.Fatalf("app must start after db became HEALTHY; events: %v", evs)
		}
		if !strings.Contains(task.Output("app"), "saw ready") {
			t.Errorf("app output: %s", task.Output("app"))
		}
		if code, _ := task.ExitCode("db"); code != 137 {
			t.Errorf("db (no TERM trap, PID 1) exit %d, want 137 after its stopTimeout", code)
		}
	})
}

// TestDefinitionRules: what RegisterTaskDefinition refuses is refused.
func TestDefinitionRules(t *testing.T) {
	RequireSandbox(t)
	a, b := ctr("a", "shell", true, "true"), ctr("b", "shell", true, "true")
	b.DependsOn = []ecstypes.ContainerDependency{dep("a", ecstypes.ContainerConditionSuccess)}
	if _, err := Start(t, TaskOptions{Containers: []ecstypes.ContainerDefinition{a, b}, Images: shellImages(t)}); err == nil ||
		!strings.Contains(err.Error(), "essential") {
		t.Errorf("SUCCESS on an essential container: %v", err)
	}
	b.DependsOn = []ecstypes.ContainerDependency{dep("a", ecstypes.ContainerConditionHealthy)}
	if _, err := Start(t, TaskOptions{Containers: []ecstypes.ContainerDefinition{a, b}, Images: shellImages(t)}); err == nil ||
		!strings.Contains(err.Error(), "health check") {
		t.Errorf("HEALTHY without a health check: %v", err)
	}
	a.DependsOn = []ecstypes.ContainerDependency{dep("b", ecstypes.ContainerConditionStart)}
	b.DependsOn = []ecstypes.ContainerDependency{dep("a", ecstypes.ContainerConditionStart)}
	if _, err := Start(t, TaskOptions{Containers: []ecstypes.ContainerDefinition{a, b}, Images: shellImages(t)}); err == nil ||
		!strings.Contains(err.Error(), "cycle") {
		t.Errorf("a dependency cycle: %v", err)
	}
	c := ctr("c", "missing", true, "true")
	if _, err := Start(t, TaskOptions{Containers: []ecstypes.ContainerDefinition{c}, Images: shellImages(t)}); err == nil ||
		!strings.Contains(err.Error(), "CannotPullContainerError") {
		t.Errorf("an unknown image: %v", err)
	}
}
