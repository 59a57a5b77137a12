package reliability

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/wbo-deploy/wbo-deploy/internal/app"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
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
	w := &world{t: t, cloud: awssim.New(awssim.Options{Scale: scale}), dir: t.TempDir(), config: config, stack: "wbo", scale: scale}
	w.writeConfig(config)
	return w
}

func (w *world) writeConfig(cfg string) {
	w.config = cfg
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
		StateFile:  w.statePath(),
		Yes:        true,
		Env:        []string{"AWS_REGION=us-east-1"},
		ClockScale: w.scale,
		Stop:       stop,
		Overrides:  map[string]any{},
		IO:         &ui.Streams{In: strings.NewReader(""), Out: &out, Err: &errb},
		AWS: awsclients.Options{
			Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATED", "secret", ""),
			APIOptions:  w.cloud.APIOptions(), RetryMode: "standard", MaxAttempts: 25, MaxBackoff: time.Millisecond,
		},
	}
	g.ClockSeed, g.Concurrency, g.Observe = w.seed, w.concurrency, w.observe
	return g, &out, &errb
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
	st, err := state.Open(w.statePath(), w.stack, state.Options{ReadOnly: true})
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
