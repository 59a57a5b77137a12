package reliability

import (
	"testing"
	"time"
)

// Benchmarks of whole-stack runs against the simulated cloud with AWS's
// realistic durations (awssim.RealisticTiming: Redis 10 min, ALB 2 min,
// tasks 45 s...) on a clock scaled 1:1000. Reported per run:
//   - aws-min/op: the run's duration in AWS minutes (wall time × 1000),
//     what a user would wait;
//   - calls/op and mutating/op: the AWS API calls made (the call budget);
// Run with `make bench`.

const benchScale = 1e-3

func benchRun(b *testing.B, prepare func(w *world), run func(w *world) error) {
	b.Helper()
	var calls, mutating int
	var aws time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w := newWorldScaled(b, baseConfig, benchScale)
		if prepare != nil {
			prepare(w)
		}
		w.cloud.ResetCalls()
		b.StartTimer()
		start := time.Now()
		if err := run(w); err != nil {
			b.Fatal(err)
		}
		aws += time.Duration(float64(time.Since(start)) / benchScale)
		b.StopTimer()
		calls += len(w.cloud.Calls())
		mutating += len(w.cloud.MutatingCalls())
	}
	b.ReportMetric(aws.Minutes()/float64(b.N), "aws-min/op")
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
	b.ReportMetric(float64(mutating)/float64(b.N), "mutating/op")
}

func mustUp(w *world) {
	if err := w.up(); err != nil {
		w.t.Fatal(err)
	}
}

// BenchmarkUpFromScratch: a first up of the default stack.
func BenchmarkUpFromScratch(b *testing.B) { benchRun(b, nil, (*world).up) }

// BenchmarkUpNoChange: a second up: read-only, the budget of a CI drift check.
func BenchmarkUpNoChange(b *testing.B) { benchRun(b, mustUp, (*world).up) }

// BenchmarkStatus: status of a deployed stack.
func BenchmarkStatus(b *testing.B) {
	benchRun(b, mustUp, func(w *world) error {
		g, _, _ := w.globals(nil)
		return statusRun(g)
	})
}

// BenchmarkDestroy: destroy of a deployed stack (ENIs linger 5 AWS minutes).
func BenchmarkDestroy(b *testing.B) {
	benchRun(b, mustUp, func(w *world) error { return w.destroy(false) })
}
