package reliability

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
)

// baseConfig is the default stack (sharded, 2 shards, Redis, alarms).
const baseConfig = "stack: wbo\nregion: us-east-1\n"

// changedConfig changes things that converge in place (image, thresholds,
// retention) and the shard count (a re-shard).
const changedConfig = baseConfig + `app:
  image: lovasoa/wbo:v2.16.0
  shards: 3
alarms:
  cpu_threshold: 80
logs:
  retention_days: 14
`

type step func(w *world) error

// crashSweep runs prepare, counts the mutating calls of act on a fresh
// world, then for every k and both modes crashes act at its k-th mutating
// call, re-runs act, and checks the account.
func crashSweep(t *testing.T, name string, prepare, act step, check func(w *world) error, f *figures) {
	t.Helper()
	crashSweepIn(t, newWorld, name, prepare, act, check, f)
}

// crashSweepIn is crashSweep in worlds made by mk (local or remote state).
func crashSweepIn(t *testing.T, mk func(*testing.T, string) *world, name string, prepare, act step, check func(w *world) error, f *figures) {
	t.Helper()
	probe := mk(t, baseConfig)
	if err := prepare(probe); err != nil {
		t.Fatalf("%s: prepare: %v", name, err)
	}
	probe.cloud.ResetCalls()
	if err := act(probe); err != nil {
		t.Fatalf("%s: clean run: %v", name, err)
	}
	total := len(probe.cloud.MutatingCalls())
	want := probe.owned()
	if total == 0 {
		t.Fatalf("%s: no mutating calls", name)
	}
	for _, mode := range []awssim.CrashMode{awssim.CrashBefore, awssim.CrashAfter} {
		for k := 1; k <= total; k++ {
			w := mk(t, baseConfig)
			if err := prepare(w); err != nil {
				t.Fatalf("%s: prepare: %v", name, err)
			}
			w.cloud.CrashAt(k, mode)
			_ = act(w) // fails: the process "died"
			w.cloud.Revive()
			failed := false
			if err := w.afterCrash(); err != nil {
				t.Errorf("%s mode %d k=%d: recovering the lock: %v", name, mode, k, err)
			}
			if err := act(w); err != nil {
				t.Errorf("%s mode %d k=%d: re-run failed: %v", name, mode, k, err)
				failed = true
			}
			got := w.owned()
			leaked := len(got) - len(want)
			if leaked < 0 {
				leaked = 0
			}
			dups := duplicates(got)
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("%s mode %d k=%d: account differs from the intended stack:\n got %v\nwant %v", name, mode, k, got, want)
				failed = true
			}
			if err := check(w); err != nil {
				t.Errorf("%s mode %d k=%d: %v", name, mode, k, err)
				failed = true
			}
			f.add(leaked, len(dups), failed)
			if t.Failed() {
				return
			}
		}
	}
}

func nothing(*world) error { return nil }

func stateAgrees(w *world) error { return w.checkState() }

func destroyed(w *world) error {
	for _, r := range w.owned() {
		if !keptAfterDestroy(r) {
			return fmt.Errorf("left after destroy: %s", r)
		}
	}
	return nil
}

func TestReliabilityCrashDuringUp(t *testing.T) {
	var f figures
	crashSweep(t, "up", nothing, (*world).up, stateAgrees, &f)
	f.report(t, "crash at every mutating call of up")
}

func TestReliabilityCrashDuringConfigChange(t *testing.T) {
	var f figures
	prepare := func(w *world) error { return w.up() }
	act := func(w *world) error { w.writeConfig(changedConfig); return w.up() }
	crashSweep(t, "config-change up", prepare, act, stateAgrees, &f)
	f.report(t, "crash at every mutating call of a config-change up (incl. re-shard 2→3)")
}

func TestReliabilityCrashDuringDestroy(t *testing.T) {
	var f figures
	prepare := func(w *world) error { return w.up() }
	act := func(w *world) error { return w.destroy(false) }
	crashSweep(t, "destroy", prepare, act, destroyed, &f)
	f.report(t, "crash at every mutating call of destroy")
}

// The same sweeps with the state in S3: a crash at any call, the state and
// lock writes included, leaves an account and a remote state that `state
// unlock` and a re-run bring to exactly the intended stack.
func TestReliabilityCrashDuringUpS3State(t *testing.T) {
	var f figures
	crashSweepIn(t, newRemoteWorld, "up (S3 state)", nothing, (*world).up, stateAgrees, &f)
	f.report(t, "crash at every mutating call of up, state in S3")
}

func TestReliabilityCrashDuringDestroyS3State(t *testing.T) {
	var f figures
	prepare := func(w *world) error { return w.up() }
	act := func(w *world) error { return w.destroy(false) }
	crashSweepIn(t, newRemoteWorld, "destroy (S3 state)", prepare, act, destroyedS3, &f)
	f.report(t, "crash at every mutating call of destroy, state in S3")
}

// destroyedS3 is destroyed, plus: the state bucket outlives the stack, and
// neither the state object nor its lock is left.
func destroyedS3(w *world) error {
	if err := destroyed(w); err != nil {
		return err
	}
	found := false
	for _, r := range w.cloud.Inventory() {
		if r.ID == stateBucket {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("destroy deleted the state bucket %s", stateBucket)
	}
	st, err := w.openState()
	if err != nil {
		return err
	}
	defer st.Close()
	if st.Exists() {
		return fmt.Errorf("a complete destroy left the remote state (%d resources)", len(st.All()))
	}
	return nil
}
