package reliability

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/app"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// A throttling storm, server errors and latency: a full cycle completes.
func TestReliabilityTransientFailures(t *testing.T) {
	var f figures
	for seed := int64(1); seed <= 3; seed++ {
		w := newWorld(t, baseConfig)
		// A storm: every API's bucket refuses its next 3 attempts whatever
		// the time, then holds a tenth of its published size and rate.
		w.cloud.ThrottleNext(3)
		w.cloud.ScaleBuckets(0.1)
		w.cloud.SetServerErrors(0.05)
		w.cloud.SetLatency(200 * time.Microsecond)
		failed := false
		if err := w.up(); err != nil {
			t.Errorf("seed %d: up: %v", seed, err)
			failed = true
		}
		if err := w.up(); err != nil {
			t.Errorf("seed %d: second up: %v", seed, err)
			failed = true
		}
		dups := duplicates(w.owned())
		if len(dups) > 0 {
			t.Errorf("seed %d: duplicates %v", seed, dups)
		}
		if err := w.checkState(); err != nil {
			t.Errorf("seed %d: %v", seed, err)
			failed = true
		}
		if err := w.destroy(true); err != nil {
			t.Errorf("seed %d: destroy: %v", seed, err)
			failed = true
		}
		left := w.owned()
		if len(left) > 0 {
			t.Errorf("seed %d: left after destroy --delete-data: %v", seed, left)
		}
		f.add(len(left), len(dups), failed)
	}
	f.report(t, "throttling storm (token buckets at a tenth, 3 refusals each), 5% HTTP 500, random latency")
}

// A call AWS performed whose response was lost (client-side timeout): the
// run fails, the next one finishes without a duplicate.
func TestReliabilityLostResponse(t *testing.T) {
	var f figures
	probe := newWorld(t, baseConfig)
	if err := probe.up(); err != nil {
		t.Fatal(err)
	}
	total := len(probe.cloud.MutatingCalls())
	want := probe.owned()
	// The cases are parallel subtests, as the crash sweeps' (runSweeps).
	t.Run("cases", func(t *testing.T) {
		for k := 1; k <= total; k += 3 {
			t.Run(fmt.Sprintf("k%d", k), func(t *testing.T) {
				t.Parallel()
				w := newWorld(t, baseConfig)
				w.cloud.LoseResponseAt(k)
				_ = w.up()
				failed := false
				if err := w.up(); err != nil {
					t.Errorf("k=%d: re-run: %v", k, err)
					failed = true
				}
				got := w.owned()
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("k=%d: got %v want %v", k, got, want)
					failed = true
				}
				f.add(max(len(got)-len(want), 0), len(duplicates(got)), failed)
			})
		}
	})
	f.report(t, "response lost after AWS acted")
}

// Ctrl-C at random points of up and destroy: exit 130, state saved, the next
// run completes.
func TestReliabilityInterrupt(t *testing.T) {
	var f figures
	rnd := rand.New(rand.NewSource(7))
	probe := newWorld(t, baseConfig)
	if err := probe.up(); err != nil {
		t.Fatal(err)
	}
	total := len(probe.cloud.MutatingCalls())
	for i := 0; i < 6; i++ {
		w := newWorld(t, baseConfig)
		stop := make(chan struct{})
		at := 1 + rnd.Intn(total)
		go func() {
			for len(w.cloud.MutatingCalls()) < at {
				time.Sleep(50 * time.Microsecond)
			}
			close(stop)
		}()
		g, _, _ := w.globals(stop)
		err := app.Up(context.Background(), g, app.UpOptions{})
		failed := false
		if code := app.ExitCode(err); err != nil && code != app.ExitInterrupted {
			t.Errorf("interrupted up at %d: exit %d (%v), want 130", at, code, err)
			failed = true
		}
		if err := w.up(); err != nil {
			t.Errorf("up after interrupt: %v", err)
			failed = true
		}
		if err := w.checkState(); err != nil {
			t.Errorf("after interrupt at %d: %v", at, err)
			failed = true
		}
		// Interrupt destroy too.
		stop2 := make(chan struct{})
		w.cloud.ResetCalls()
		at2 := 1 + rnd.Intn(10)
		go func() {
			for len(w.cloud.MutatingCalls()) < at2 {
				time.Sleep(50 * time.Microsecond)
			}
			close(stop2)
		}()
		g2, _, _ := w.globals(stop2)
		err = app.Destroy(context.Background(), g2, app.DestroyOptions{})
		if code := app.ExitCode(err); err != nil && code != app.ExitInterrupted {
			t.Errorf("interrupted destroy: exit %d (%v), want 130", code, err)
			failed = true
		}
		if err := w.destroy(false); err != nil {
			t.Errorf("destroy after interrupt: %v", err)
			failed = true
		}
		left := 0
		for _, r := range w.owned() {
			if !keptAfterDestroy(r) {
				left++
			}
		}
		f.add(left, len(duplicates(w.owned())), failed)
	}
	f.report(t, "Ctrl-C at random points of up and destroy")
}

// Damaged state files: each gives a clear outcome and never destroys what
// it should not.
func TestReliabilityStateDamage(t *testing.T) {
	w := newWorld(t, baseConfig)
	if err := w.up(); err != nil {
		t.Fatal(err)
	}
	want := w.owned()
	orig, err := os.ReadFile(w.statePath())
	if err != nil {
		t.Fatal(err)
	}
	restore := func() {
		if err := os.WriteFile(w.statePath(), orig, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Truncated: refused with exit 2, left byte-for-byte, nothing touched.
	if err := os.WriteFile(w.statePath(), orig[:len(orig)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	w.cloud.ResetCalls()
	for _, run := range []func() error{w.up, func() error { return w.destroy(true) }} {
		err := run()
		if code := app.ExitCode(err); code != app.ExitUsage {
			t.Fatalf("truncated state: exit %d (%v), want 2", code, err)
		}
	}
	if got, _ := os.ReadFile(w.statePath()); string(got) != string(orig[:len(orig)/2]) {
		t.Fatal("the truncated state file was modified")
	}
	if m := w.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("mutating calls with a corrupt state: %v", m)
	}
	// Another account's state: refused, nothing touched.
	other := strings.Replace(string(orig), `"account": "123456789012"`, `"account": "210987654321"`, 1)
	if other == string(orig) {
		t.Fatal("could not find the account in the state file")
	}
	if err := os.WriteFile(w.statePath(), []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	err = w.destroy(true)
	var ie *state.IdentityError
	if !errors.As(err, &ie) || app.ExitCode(err) != app.ExitUsage {
		t.Fatalf("foreign state: %v (exit %d), want an identity error, exit 2", err, app.ExitCode(err))
	}
	if m := w.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("mutating calls with a foreign state: %v", m)
	}
	// Deleted: up adopts everything, no duplicate.
	if err := os.Remove(w.statePath()); err != nil {
		t.Fatal(err)
	}
	if err := w.up(); err != nil {
		t.Fatalf("up without state: %v", err)
	}
	if got := w.owned(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("after adopting: %v", got)
	}
	// Hand-edited to point at missing IDs: up recreates what is missing,
	// finds the rest by tags.
	restore()
	edited := strings.Replace(string(orig), `"id": "vpc-`, `"id": "vpc-0000000000`, 1)
	if err := os.WriteFile(w.statePath(), []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.up(); err != nil {
		t.Fatalf("up with a stale ID: %v", err)
	}
	if got := w.owned(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("after a stale ID: %v", got)
	}
	if err := w.checkState(); err != nil {
		t.Fatal(err)
	}
	fmtFigure(t, "state damage: truncated, foreign account, deleted, stale IDs: 4 cases, 0 leaked, 0 duplicates")
}

// Two runs on one stack: the second fails fast with the lock message.
func TestReliabilityConcurrentRuns(t *testing.T) {
	w := newWorld(t, baseConfig)
	st, err := state.Open(w.statePath(), w.stack, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	err = w.up()
	var le *state.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second run: %v, want a lock error", err)
	}
	if !strings.Contains(err.Error(), "pid") {
		t.Fatalf("lock message does not name the holder: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("second run took %s to fail", d)
	}
	if n := len(w.cloud.Calls()); n != 0 {
		t.Fatalf("the locked run made %d AWS calls", n)
	}
}

func fmtFigure(t *testing.T, s string) {
	t.Log("reliability: " + s)
	println("reliability: " + s)
}
