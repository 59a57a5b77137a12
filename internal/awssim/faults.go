package awssim

import "time"

// CrashMode says how a crash at the k-th mutating call happens.
type CrashMode int

const (
	// CrashBefore: the call fails before AWS acts; the process dies.
	CrashBefore CrashMode = iota + 1
	// CrashAfter: AWS performs the call, the response never arrives and the
	// process dies (kill -9, laptop lid, dropped connection).
	CrashAfter
)

type action int

const (
	actNone action = iota
	actThrottle
	actServerError
	actCrashBefore
	actCrashAfter
	actLoseResponse
)

type faults struct {
	crashAt     int // 1-based index of the mutating call to crash at; 0 = never
	crashMode   CrashMode
	loseAt      int // lose the response of this mutating call, without crashing
	mutSeen     int
	throttle    float64
	serverError float64
	latencyMax  time.Duration
	// latencyFixed, when set, is every call's latency (SetCallLatency).
	latencyFixed time.Duration
}

// decide is called with c.mu held.
func (f *faults) decide(c *Cloud, mutating bool) action {
	if mutating {
		f.mutSeen++
		if f.crashAt > 0 && f.mutSeen == f.crashAt {
			if f.crashMode == CrashAfter {
				return actCrashAfter
			}
			return actCrashBefore
		}
		if f.loseAt > 0 && f.mutSeen == f.loseAt {
			return actLoseResponse
		}
	}
	if f.throttle > 0 && c.rnd.Float64() < f.throttle {
		return actThrottle
	}
	if f.serverError > 0 && c.rnd.Float64() < f.serverError {
		return actServerError
	}
	return actNone
}

func (f *faults) latency(c *Cloud) time.Duration {
	if f.latencyFixed > 0 {
		return f.latencyFixed
	}
	if f.latencyMax <= 0 {
		return 0
	}
	return time.Duration(c.rnd.Int63n(int64(f.latencyMax)))
}

// CrashAt makes the k-th mutating call (counted from now, 1-based) crash the
// process in the given mode. Every later call fails with ErrCrashed until Revive.
func (c *Cloud) CrashAt(k int, mode CrashMode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults.crashAt, c.faults.crashMode, c.faults.mutSeen = k, mode, 0
}

// LoseResponseAt makes the k-th mutating call from now take effect but answer
// an error, as a client-side timeout after AWS acted does.
func (c *Cloud) LoseResponseAt(k int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults.loseAt, c.faults.mutSeen = k, 0
}

// SetThrottling answers the given fraction of calls with the service's
// throttling error code.
func (c *Cloud) SetThrottling(fraction float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults.throttle = fraction
}

// SetServerErrors answers the given fraction of calls with HTTP 500.
func (c *Cloud) SetServerErrors(fraction float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults.serverError = fraction
}

// SetCallLatency makes every call take exactly d (wall clock; virtual time in
// a synctest bubble): the status benchmark's 50 ms per call.
func (c *Cloud) SetCallLatency(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults.latencyFixed = d
}

// SetLatency adds a random wall-clock delay up to max to each call.
func (c *Cloud) SetLatency(max time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults.latencyMax = max
}
