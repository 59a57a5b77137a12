package reliability

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/middleware"
	"github.com/wbo-deploy/wbo-deploy/internal/app"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/iampolicy"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// world is one simulated account with one working directory.
type world struct {
	t      testing.TB
	cloud  *awssim.Cloud
	dir    string
	config string // config file contents
	stack  string
	scale  float64
	// perf runs (perf_test.go): a fixed jitter seed, the engine's
	// concurrency (0 = default) and an observer of every progress event.
	seed        uint64
	concurrency int
	observe     provision.Sink
	// remote keeps the state in S3 (state.backend: s3, bucket stateBucket)
	// instead of the local file.
	remote bool
	// crash, when set, is on the SDK clients of the next command runs
	// (crashpoint_test.go).
	crash *crashPoint
	admin *awsclients.Clients // sdk(), made once
}

// stateBucket is the remote state's bucket in remote worlds.
const stateBucket = "team-state"

// stateConfig is what a remote world appends to every configuration.
const stateConfig = "\nstate:\n  backend: s3\n  bucket: " + stateBucket + "\n"

// newRemoteWorld is newWorld with the state in S3 (the bucket made
// beforehand, as `state init-backend` would).
func newRemoteWorld(t *testing.T, config string) *world {
	t.Helper()
	w := newWorld(t, config)
	w.remote = true
	w.cloud.AddBucket(stateBucket, "", "", nil)
	w.writeConfig(config)
	return w
}

func newWorld(t *testing.T, config string) *world {
	t.Helper()
	if os.Getenv("WBO_RELIABILITY") != "1" {
		t.Skip("whole-stack fault injection runs in `make reliability` (WBO_RELIABILITY=1)")
	}
	return newWorldScaled(t, config, 2e-5)
}

// newWorldScaled makes a world whose simulated AWS runs at scale (wall
// seconds per AWS second).
func newWorldScaled(t testing.TB, config string, scale float64) *world {
	w := &world{t: t, cloud: awssim.New(awssim.Options{Scale: scale, Seed: worldSeed(t.Name())}), dir: worldDir(t), config: config, stack: "wbo", scale: scale}
	w.writeConfig(config)
	return w
}

// worldSeed gives each world its own seed for its consistency windows, so
// the suite meets them in different orders: a hash of the test's name and
// the number of worlds that test made before. It is the same on every run,
// whatever -run selects and however the crash cases (subtests run in
// parallel) are scheduled.
var worldSeeds = struct {
	sync.Mutex
	made map[string]int64
}{made: map[string]int64{}}

func worldSeed(test string) int64 {
	worldSeeds.Lock()
	defer worldSeeds.Unlock()
	n := worldSeeds.made[test]
	worldSeeds.made[test] = n + 1
	h := fnv.New64a()
	_, _ = h.Write([]byte(test))
	return int64(h.Sum64()&(1<<62-1)) + n
}

// worldDir is the world's working directory (configuration and local
// state file), in memory where the system has a tmpfs at /dev/shm: the
// local state is written with an fsync of the file and of its directory
// after every resource, which on a disk cost the crash sweeps more than all
// their computing (a minute of the local up sweep), and which these tests
// do not exercise (a simulated crash stops the process's AWS calls; the
// machine stays up). internal/state's own tests cover the writes on disk.
func worldDir(t testing.TB) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "wbo-reliability-"); err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

func (w *world) writeConfig(cfg string) {
	w.config = cfg
	if w.remote {
		cfg += stateConfig
	}
	if err := os.WriteFile(filepath.Join(w.dir, "wbo-deploy.yaml"), []byte(cfg), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) statePath() string { return filepath.Join(w.dir, ".wbo-deploy", w.stack+".json") }

// globals builds the process context of one command run.
func (w *world) globals(stop <-chan struct{}) (*app.Globals, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	g := &app.Globals{
		Version:    "test",
		ConfigFile: filepath.Join(w.dir, "wbo-deploy.yaml"),
		Yes:        true,
		Env:        []string{"AWS_REGION=us-east-1"},
		ClockScale: w.scale,
		HTTP:       w.cloud.PublicHTTP(),
		Stop:       stop,
		Overrides:  map[string]any{},
		IO:         &ui.Streams{In: strings.NewReader(""), Out: &out, Err: &errb},
		AWS: awsclients.Options{
			Credentials: credentials.NewStaticCredentialsProvider(operatorKey, "secret", ""),
			// The SDK's backoff (20 s at most) on the world's clock: a
			// throttled bucket refills in AWS time while the retryer waits.
			APIOptions: w.apiOptions(), RetryMode: "standard", MaxAttempts: 25,
			MaxBackoff: max(time.Millisecond, time.Duration(float64(20*time.Second)*w.scale)),
		},
	}
	g.ClockSeed, g.Concurrency, g.Observe = w.seed, w.concurrency, w.observe
	if !w.remote {
		g.StateFile = w.statePath()
	}
	w.asOperator(g)
	return g, &out, &errb
}

// apiOptions puts the SDK clients of a command run on the world's cloud,
// through the crash point if one is set.
func (w *world) apiOptions() []func(*middleware.Stack) error {
	opts := w.cloud.APIOptions()
	if w.crash != nil {
		opts = append(opts, w.crash.option(w.cloud))
	}
	return opts
}

// operatorKey signs wbo-deploy's calls: the simulated account authorizes
// them against exactly the policy iam-policy writes for the configuration
// of the run.
const operatorKey = "AKIDOPERATOR"

// asOperator gives the operator the iam-policy output for g's configuration
// (a configuration that does not load fails the command before any call).
func (w *world) asOperator(g *app.Globals) {
	cfg, err := g.LoadConfig()
	if err != nil {
		return
	}
	pol := iampolicy.Build(cfg, "aws", w.cloud.Account, w.cloud.Region, iampolicy.Options{}).String()
	if err := w.cloud.SetIdentityPolicy(operatorKey, pol); err != nil {
		w.t.Fatal(err)
	}
}

// adminKey signs what the test does by hand (an administrator, not the
// operator whose policy is under test).
const adminKey = "AKIDADMIN"

// sdk is a client on the world's account, for what an operator does by hand
// (with an administrator's key: `state unlock` after a crash is the person's
// doing, not the run's).
func (w *world) sdk() *awsclients.Clients {
	if w.admin != nil {
		return w.admin
	}
	if err := w.cloud.SetIdentityPolicy(adminKey, awssim.AdministratorAccess); err != nil {
		w.t.Fatal(err)
	}
	cl, err := awsclients.New(context.Background(), awsclients.Options{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(adminKey, "secret", ""),
		APIOptions:  w.cloud.APIOptions(), RetryMode: "standard", MaxBackoff: time.Millisecond, Getenv: func(string) string { return "" }})
	if err != nil {
		w.t.Fatal(err)
	}
	w.admin = cl
	return cl
}

var remoteLoc = state.S3Location{Bucket: stateBucket, Key: "wbo-deploy/wbo.json"}

// afterCrash is what the operator does once the crashed process is gone: a
// remote lock is never taken over automatically, so its leftover lock is
// removed as `wbo-deploy state unlock LOCK_ID` does (the local flock went
// with the process).
func (w *world) afterCrash() error {
	if !w.remote {
		return nil
	}
	h, err := state.ReadS3Lock(context.Background(), w.sdk().S3State, remoteLoc)
	if err != nil || h == nil {
		return err
	}
	_, err = state.ForceUnlock(context.Background(), w.sdk().S3State, remoteLoc, h.ID)
	return err
}

// openState opens the world's state read-only.
func (w *world) openState() (*state.Store, error) {
	if w.remote {
		return state.OpenS3(context.Background(), w.sdk().S3State, remoteLoc, w.stack, state.Options{ReadOnly: true})
	}
	return state.Open(w.statePath(), w.stack, state.Options{ReadOnly: true})
}

func (w *world) up() error {
	g, _, errb := w.globals(nil)
	err := app.Up(context.Background(), g, app.UpOptions{AllowReplace: true})
	if err != nil {
		return fmt.Errorf("%w\n%s", err, tail(errb.String(), 30))
	}
	return nil
}

func (w *world) destroy(deleteData bool) error {
	g, _, errb := w.globals(nil)
	err := app.Destroy(context.Background(), g, app.DestroyOptions{DeleteData: deleteData})
	if err != nil {
		return fmt.Errorf("%w\n%s", err, tail(errb.String(), 30))
	}
	return nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// owned lists the account's live resources tagged for the stack, as
// "kind logical-name" (a name twice = a duplicate).
func (w *world) owned() []string {
	var out []string
	for _, r := range w.cloud.Inventory() {
		if r.Tags[provision.TagStack] == w.stack {
			out = append(out, r.Kind+" "+r.Tags[provision.TagResource])
		}
	}
	sort.Strings(out)
	return out
}

func duplicates(list []string) []string {
	seen := map[string]int{}
	var d []string
	for _, x := range list {
		seen[x]++
		if seen[x] == 2 {
			d = append(d, x)
		}
	}
	return d
}

// checkState asserts that the state file names exactly the stack's live
// resources with their IDs.
func (w *world) checkState() error {
	st, err := w.openState()
	if err != nil {
		return err
	}
	defer st.Close()
	ids := map[string]string{}
	for _, r := range st.All() {
		if aggregateKinds[r.Kind] {
			continue
		}
		ids[r.Name] = r.ID + " " + r.ARN
	}
	live := 0
	liveNames := map[string]bool{}
	for _, r := range w.cloud.Inventory() {
		if r.Tags[provision.TagStack] != w.stack {
			continue
		}
		live++
		name := r.Tags[provision.TagResource]
		liveNames[name] = true
		rec, ok := ids[name]
		if !ok {
			return fmt.Errorf("%s %s (%s) is live but not in state", r.Kind, name, r.ID)
		}
		if !strings.Contains(rec, r.ID) {
			return fmt.Errorf("state has %s = %s but the account has %s", name, rec, r.ID)
		}
	}
	if live != len(ids) {
		var missing []string
		for n := range ids {
			if !liveNames[n] {
				missing = append(missing, n)
			}
		}
		sort.Strings(missing)
		return fmt.Errorf("state has %d resources, the account %d; in state but not live: %v", len(ids), live, missing)
	}
	return nil
}

// aggregateKinds are state records that stand for a set of AWS objects or
// for bookkeeping, not for one tagged resource; their own tests check them.
var aggregateKinds = map[string]bool{"elbv2.routing-rules": true, "ecs.reshard": true}

// figures collects what the README publishes.
type figures struct {
	mu                      sync.Mutex
	cases, leaked, dup, bad int
}

func (f *figures) add(leaked, dup int, failed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cases++
	f.leaked += leaked
	f.dup += dup
	if failed {
		f.bad++
	}
}

func (f *figures) report(t *testing.T, name string) {
	t.Logf("reliability: %s: cases run %d, failed %d, resources leaked %d, duplicates %d", name, f.cases, f.bad, f.leaked, f.dup)
	fmt.Printf("reliability: %s: cases run %d, failed %d, resources leaked %d, duplicates %d\n", name, f.cases, f.bad, f.leaked, f.dup)
}

// keptAfterDestroy is what a default destroy leaves on purpose.
func keptAfterDestroy(kind string) bool { return kind == "bucket bucket-boards" }

func statusRun(g *app.Globals) error {
	err := app.Status(context.Background(), g, app.StatusOptions{})
	if app.ExitCode(err) == app.ExitOK {
		return nil
	}
	return err
}
