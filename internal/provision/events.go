package provision

import "time"

// Phase of a progress event.
type Phase string

// Progress phases.
const (
	PhaseStart   Phase = "start"
	PhaseWait    Phase = "wait"
	PhaseDone    Phase = "done"
	PhaseFailed  Phase = "failed"
	PhaseSkipped Phase = "skipped"
	PhaseInfo    Phase = "info"
	// PhaseReady: a milestone of the graph is reached (Node is its name).
	PhaseReady Phase = "ready"
)

// Event is one progress report; the CLI renders them (live lines on a TTY,
// timestamped plain lines otherwise).
type Event struct {
	Time    time.Time
	Node    string
	Kind    string
	Phase   Phase
	Action  string        // "create", "update", "adopt", "delete", "no-op", "keep"
	Message string        // what is awaited, or the error
	Elapsed time.Duration // AWS time spent waiting so far
}

// Sink receives events; it must be safe for concurrent use.
type Sink func(Event)
