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

// A sweep is one command run crashed, case after case, at each of a set of
// its calls; each case then recovers as the operator would (the remote
// lock removed, the command run again) and checks the account.
type sweep struct {
	id, name string // id names the subtests, name the messages and figures
	act      step
	check    func(w *world) error
	// cases makes the crash cases from the probe's clean run of act: the
	// mutating calls it made and how many of those were the state's own
	// (S3-state worlds; 0 with the local state).
	cases func(t *testing.T, mutating, stateCalls int) []crashCase
	want  []string // the account after act
	list  []crashCase
	f     figures
}

// A crashCase is one crash of a sweep: arm sets it up before the run that
// crashes.
type crashCase struct {
	name string
	arm  func(w *world)
}

var modes = []awssim.CrashMode{awssim.CrashBefore, awssim.CrashAfter}

func modeName(m awssim.CrashMode) string {
	if m == awssim.CrashAfter {
		return "after"
	}
	return "before"
}

// everyCall crashes at every mutating call, in both modes: at the k-th,
// for every k up to as many as the clean run made.
func everyCall(_ *testing.T, mutating, _ int) []crashCase {
	var cases []crashCase
	for _, mode := range modes {
		for k := 1; k <= mutating; k++ {
			cases = append(cases, crashCase{fmt.Sprintf("%s-k%d", modeName(mode), k), func(w *world) { w.cloud.CrashAt(k, mode) }})
		}
	}
	return cases
}

// otherCallStride is how the S3-state sweeps sample the calls that are not
// the state's own: every otherCallStride-th of them by rank, from the 1st in
// mode CrashBefore and from the 3rd in mode CrashAfter (1, 5, 9, … and 3, 7,
// 11, …: a fixed stride, so the same cases on every run, spread over the
// whole command). Those calls are the local-state sweeps' too, which crash
// at every one of them; what the S3 backend changes around them (the state
// written to S3 after each, the lock left behind by the dead run) is the
// same for neighbouring calls, and is crashed at call by call below.
const otherCallStride = 4

// stateCallsAndSample crashes, in both modes, at every one of the state's
// own mutating calls (the lock's creation, each state write, the state's
// deletion, the lock's release), by its rank among them, and at the
// otherCallStride sample of the other mutating calls, by rank among those
// (crashpoint_test.go: the rank holds whatever order the engine's
// concurrency gave the other calls in that run).
func stateCallsAndSample(t *testing.T, mutating, stateCalls int) []crashCase {
	if stateCalls == 0 {
		t.Fatal("no state write or lock call in a run with the state in S3")
	}
	// The other calls are sampled among as many as took effect: a run makes
	// at least that many attempts (it also retries some, such as a subnet
	// deletion an ENI still blocks, as often as timing makes it).
	others := mutating - stateCalls
	var cases []crashCase
	point := func(kind string, match func(string, string, any) bool, n int, mode awssim.CrashMode) {
		cases = append(cases, crashCase{fmt.Sprintf("%s-%s%d", modeName(mode), kind, n), func(w *world) {
			w.crash = &crashPoint{match: match, n: n, mode: mode}
		}})
	}
	for _, mode := range modes {
		for n := 1; n <= stateCalls; n++ {
			point("state", stateOp, n, mode)
		}
		first := 1
		if mode == awssim.CrashAfter {
			first = 3
		}
		for n := first; n <= others; n += otherCallStride {
			point("other", notStateOp, n, mode)
		}
	}
	t.Logf("%d state calls (all crashed at), %d other mutating calls (every %dth crashed at)", stateCalls, others, otherCallStride)
	return cases
}

// runSweeps probes the sweeps in one world made by mk (prepare, then each
// act in turn, cleanly), then runs the chains of cases: chain i runs, in a
// world of its own, prepare and then the i-th case of each sweep in turn,
// each from the account the one before recovered and checked (a sweep with
// no i-th case runs its act cleanly if a later one has one). So a destroy
// case's stack is one an up case made, instead of a fresh clean up per
// case. The chains are subtests run in parallel (as many at once as
// -parallel allows, GOMAXPROCS by default), each with its own simulated
// account and directory.
func runSweeps(t *testing.T, mk func(*testing.T, string) *world, prepare step, sweeps ...*sweep) {
	t.Helper()
	probe := mk(t, baseConfig)
	if err := prepare(probe); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	chains := 0
	for _, s := range sweeps {
		counter := &crashPoint{match: stateOp}
		probe.crash = counter
		probe.cloud.ResetCalls()
		if err := s.act(probe); err != nil {
			t.Fatalf("%s: clean run: %v", s.name, err)
		}
		probe.crash = nil
		mutating := len(probe.cloud.MutatingCalls())
		if mutating == 0 {
			t.Fatalf("%s: no mutating calls", s.name)
		}
		stateCalls, _, _ := counter.counts()
		s.want = probe.owned()
		s.list = s.cases(t, mutating, stateCalls)
		chains = max(chains, len(s.list))
	}
	t.Run("cases", func(t *testing.T) {
		for i := range chains {
			var names []string
			for _, s := range sweeps {
				if i < len(s.list) {
					names = append(names, s.id+"-"+s.list[i].name)
				}
			}
			t.Run(strings.Join(names, "+"), func(t *testing.T) {
				t.Parallel()
				w := mk(t, baseConfig)
				if err := prepare(w); err != nil {
					t.Fatalf("prepare: %v", err)
				}
				for j, s := range sweeps {
					if i < len(s.list) {
						if !s.crashRun(t, w, s.list[i]) {
							return
						}
						continue
					}
					later := false
					for _, n := range sweeps[j+1:] {
						later = later || i < len(n.list)
					}
					if !later {
						return
					}
					if err := s.act(w); err != nil {
						t.Fatalf("%s: clean run: %v", s.name, err)
					}
				}
			})
		}
	})
	for _, s := range sweeps {
		s.f.report(t, s.name)
	}
}

// crashRun is one case: arm, act (which the crash ends), the operator's
// recovery, act again; then the account must be exactly want, without
// duplicate, and pass check. It reports whether the case passed.
func (s *sweep) crashRun(t *testing.T, w *world, c crashCase) bool {
	t.Helper()
	c.arm(w)
	_ = s.act(w) // fails: the process "died"
	point := w.crash
	w.crash = nil
	failed := false
	if !w.cloud.Crashed() {
		t.Errorf("%s %s: the run never reached the call to crash at", s.name, c.name)
		failed = true
	} else if point != nil {
		if err := point.check(); err != nil {
			t.Errorf("%s %s: %v", s.name, c.name, err)
			failed = true
		}
	}
	w.cloud.Revive()
	if err := w.afterCrash(); err != nil {
		t.Errorf("%s %s: recovering the lock: %v", s.name, c.name, err)
		failed = true
	}
	if err := s.act(w); err != nil {
		t.Errorf("%s %s: re-run failed: %v", s.name, c.name, err)
		failed = true
	}
	got := w.owned()
	dups := duplicates(got)
	if strings.Join(got, "|") != strings.Join(s.want, "|") {
		t.Errorf("%s %s: account differs from the intended stack:\n got %v\nwant %v", s.name, c.name, got, s.want)
		failed = true
	}
	if err := s.check(w); err != nil {
		t.Errorf("%s %s: %v", s.name, c.name, err)
		failed = true
	}
	s.f.add(max(len(got)-len(s.want), 0), len(dups), failed)
	return !failed
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

func up(w *world) error      { return w.up() }
func destroy(w *world) error { return w.destroy(false) }

// Crashes at every mutating call of up, and of destroy: each destroy case
// on the stack an up case recovered (runSweeps).
func TestReliabilityCrashDuringUpAndDestroy(t *testing.T) {
	runSweeps(t, newWorld, nothing,
		&sweep{id: "up", name: "crash at every mutating call of up", act: up, check: stateAgrees, cases: everyCall},
		&sweep{id: "destroy", name: "crash at every mutating call of destroy", act: destroy, check: destroyed, cases: everyCall})
}

func TestReliabilityCrashDuringConfigChange(t *testing.T) {
	act := func(w *world) error { w.writeConfig(changedConfig); return w.up() }
	runSweeps(t, newWorld, up, &sweep{id: "change", name: "crash at every mutating call of a config-change up (incl. re-shard 2→3)",
		act: act, check: stateAgrees, cases: everyCall})
}

// The same sweeps with the state in S3, at every state and lock call and a
// fixed stride of the others (stateCallsAndSample): a crash at any of them
// leaves an account and a remote state that `state unlock` and a re-run
// bring to exactly the intended stack.
func TestReliabilityCrashDuringUpAndDestroyS3State(t *testing.T) {
	sample := fmt.Sprintf("every state write and lock call and every %dth other mutating call", otherCallStride)
	runSweeps(t, newRemoteWorld, nothing,
		&sweep{id: "up", name: "crash at " + sample + " of up, state in S3", act: up, check: stateAgrees, cases: stateCallsAndSample},
		&sweep{id: "destroy", name: "crash at " + sample + " of destroy, state in S3", act: destroy, check: destroyedS3, cases: stateCallsAndSample})
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
