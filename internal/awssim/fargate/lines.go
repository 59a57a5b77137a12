package fargate

import (
	"bufio"
	"io"
	"strings"
	"sync"
	"time"
)

// LineLog collects the output of a process line by line and lets a test
// wait for a line (a container's output here, a script's in the sidecar
// tests).
type LineLog struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced on every line
}

// NewLineLog returns an empty log.
func NewLineLog() *LineLog { return &LineLog{changed: make(chan struct{})} }

// Add appends one line.
func (l *LineLog) Add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
	close(l.changed)
	l.changed = make(chan struct{})
}

// Scan adds the lines read from r (up to 1 MiB each) until it ends, then
// drains r so that the writer never blocks.
func (l *LineLog) Scan(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		l.Add(sc.Text())
	}
	_, _ = io.Copy(io.Discard, r)
}

// String is the log so far, lines joined by newlines.
func (l *LineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// WaitFor waits until the log contains sub (true). It gives up (false)
// when done is closed (nil: never) without sub in the log, or after
// timeout, which only bounds a hung test: no assertion depends on it.
func (l *LineLog) WaitFor(sub string, timeout time.Duration, done <-chan struct{}) bool {
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		found := strings.Contains(strings.Join(l.lines, "\n"), sub)
		changed := l.changed
		l.mu.Unlock()
		if found {
			return true
		}
		select {
		case <-changed:
		case <-done:
			return strings.Contains(l.String(), sub)
		case <-deadline:
			return false
		}
	}
}
