package fargate

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Clock is a test clock that only moves when the test calls Advance. It
// drives the sidecar scripts, whose time source WBO_TEST_CLOCK names (see
// internal/sidecar lib.sh: called as date and sleep are, "$WBO_TEST_CLOCK
// +%s" prints the time in unix seconds and "$WBO_TEST_CLOCK N" returns
// once the clock has moved N seconds), and the task runner's timers (TaskOptions.Clock: stopTimeout,
// startTimeout, health checks). So a test sets the order of events itself
// (the script sleeps, the test sees it asleep, moves the clock, the script
// goes on) instead of racing real seconds on a busy machine.
//
// The command is a shell script running curl against a loopback server of
// the test (the network namespace of a sandboxed container is the host's,
// so it works inside a task too). Each caller names itself with
// WBO_TEST_CLOCK_WHO, so a test can wait for one given script to sleep.
type Clock struct {
	t        testing.TB
	mu       sync.Mutex
	now      time.Time
	sleepers []*sleeper
	sleeps   map[string]int // sleeps begun, by caller
	timers   []*clockTimer
	changed  chan struct{} // closed and replaced on every change
	closed   chan struct{}
	url      string
	dir      string
}

type sleeper struct {
	who   string
	until time.Time
	wake  chan struct{}
}

type clockTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

// ClockMount is where AddTo binds the clock command in a container.
const ClockMount = "/opt/wbo-test-clock"

// NewClock starts a clock at start (whole seconds, as the scripts read it).
func NewClock(t testing.TB, start time.Time) *Clock {
	t.Helper()
	c := &Clock{t: t, now: start.Truncate(time.Second), sleeps: map[string]int{}, changed: make(chan struct{}),
		closed: make(chan struct{}), dir: filepath.Join(t.TempDir(), "clock")}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.url = "http://" + l.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /now", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintln(w, c.Now().Unix())
	})
	mux.HandleFunc("GET /sleep", c.serveSleep)
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		close(c.closed) // wakes the sleepers still blocked, so Close returns
		_ = srv.Close()
	})
	// curl, not the proxy the test environment may name; -f: an unknown
	// command is an error, as it would be for date or sleep.
	script := "#!/bin/sh\n# The test clock (internal/awssim/fargate Clock), as date +%s or sleep N.\n" +
		"case $1 in +%s) q='now?';; *) q=\"sleep?s=$1\";; esac\n" +
		"exec curl -fsS --noproxy '*' \"" + c.url + "/$q&who=${WBO_TEST_CLOCK_WHO-}\"\n"
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, "clock"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// Readable and runnable by a container's non-root user whatever the umask.
	for _, p := range []string{c.dir, filepath.Join(c.dir, "clock")} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// Command is the host path of the clock command.
func (c *Clock) Command() string { return filepath.Join(c.dir, "clock") }

// Vars is the environment of a script run on this clock as who (letters,
// digits and -_.).
func (c *Clock) Vars(who string) []string {
	if strings.Trim(who, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != "" {
		c.t.Fatalf("clock caller %q: only letters, digits and -_. are allowed", who)
	}
	return []string{"WBO_TEST_CLOCK", c.Command(), "WBO_TEST_CLOCK_WHO", who}
}

// AddTo returns img with the clock command bound at ClockMount/clock.
func (c *Clock) AddTo(img Image) Image {
	files := map[string]string{ClockMount: c.dir}
	for k, v := range img.Files {
		files[k] = v
	}
	img.Files = files
	return img
}

func (c *Clock) serveSleep(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.URL.Query().Get("s"))
	if err != nil || n < 0 {
		http.Error(w, "sleep: want a whole number of seconds", http.StatusBadRequest)
		return
	}
	s := &sleeper{who: r.URL.Query().Get("who"), wake: make(chan struct{})}
	c.mu.Lock()
	s.until = c.now.Add(time.Duration(n) * time.Second)
	c.sleeps[s.who]++
	if n == 0 {
		c.mu.Unlock()
		return
	}
	c.sleepers = append(c.sleepers, s)
	c.notify()
	c.mu.Unlock()
	select {
	case <-s.wake:
	case <-c.closed:
		http.Error(w, "the test ended", http.StatusServiceUnavailable)
	case <-r.Context().Done(): // the sleep was killed
		c.mu.Lock()
		c.sleepers = slices.DeleteFunc(c.sleepers, func(o *sleeper) bool { return o == s })
		c.notify()
		c.mu.Unlock()
	}
}

// notify wakes the waiters of a change (c.mu held).
func (c *Clock) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d, ending the sleeps and firing the timers due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var fire []func()
	c.sleepers = slices.DeleteFunc(c.sleepers, func(s *sleeper) bool {
		if s.until.After(c.now) {
			return false
		}
		close(s.wake)
		return true
	})
	c.timers = slices.DeleteFunc(c.timers, func(tm *clockTimer) bool {
		if tm.stopped {
			return true
		}
		if tm.at.After(c.now) {
			return false
		}
		fire = append(fire, tm.f)
		return true
	})
	c.notify()
	c.mu.Unlock()
	for _, f := range fire {
		f()
	}
}

// Wake ends who's sleeps now without moving the clock. It is for a script
// stopped by a signal: backup.sh's loop starts a sleep, then waits for it,
// and a signal that arrives in between does not end the wait, so the final
// sync starts when that sleep ends (at most a second later on a real
// clock, never on a test clock that stands still). Waking a sleep the
// script has already killed does nothing.
func (c *Clock) Wake(who string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleepers = slices.DeleteFunc(c.sleepers, func(s *sleeper) bool {
		if s.who != who {
			return false
		}
		close(s.wake)
		return true
	})
	c.notify()
}

// AfterFunc calls f once the clock has moved d (in Advance's goroutine);
// stop cancels it and reports whether it had not fired yet.
func (c *Clock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &clockTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, tm)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		pending := !tm.stopped && slices.Contains(c.timers, tm)
		tm.stopped = true
		return pending
	}
}

// Asleep reports whether who is sleeping on the clock now.
func (c *Clock) Asleep(who string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.ContainsFunc(c.sleepers, func(s *sleeper) bool { return s.who == who })
}

// Sleeps is the number of sleeps who has begun.
func (c *Clock) Sleeps(who string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sleeps[who]
}

// WaitAsleep waits until every one of who sleeps on the clock (true), or
// until done is closed first (false). It asserts no timing: a test that
// hangs is stopped by hang, a generous bound, with a failure.
func (c *Clock) WaitAsleep(t testing.TB, hang time.Duration, done <-chan struct{}, who ...string) bool {
	t.Helper()
	deadline := time.After(hang)
	for {
		c.mu.Lock()
		all := true
		for _, w := range who {
			all = all && slices.ContainsFunc(c.sleepers, func(s *sleeper) bool { return s.who == w })
		}
		changed := c.changed
		c.mu.Unlock()
		if all {
			return true
		}
		select {
		case <-changed:
		case <-done:
			return false
		case <-deadline:
			t.Fatalf("%s never fell asleep on the test clock within %v (asleep: %s)", strings.Join(who, ", "), hang, c.asleep())
			return false
		}
	}
}

func (c *Clock) asleep() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, s := range c.sleepers {
		out = append(out, s.who+" until "+strconv.FormatInt(s.until.Unix(), 10))
	}
	if len(out) == 0 {
		return "nobody"
	}
	return strings.Join(out, ", ")
}
