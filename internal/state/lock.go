package state

import (
	"encoding/json"
	"os"
	"time"
)

// Holder is who holds (or last held) a stack's lock, as recorded in <path>.lock.
type Holder struct {
	// ID names a remote lock (state unlock LOCK_ID); empty for local locks.
	ID          string    `json:"id,omitempty"`
	PID         int       `json:"pid"`
	Host        string    `json:"host"`
	Started     time.Time `json:"started"`
	ToolVersion string    `json:"tool_version,omitempty"`
	// Operation is the command holding the lock (up, destroy, state migrate...).
	Operation string `json:"operation,omitempty"`
	// Who is the operator: the OS user, and the AWS caller when known.
	Who string `json:"who,omitempty"`
	// Path is where the locked state lives (remote locks).
	Path string `json:"path,omitempty"`
	// Alive says, for a stale holder reported by Store.StaleLock, whether a
	// process with that PID exists on this host now (if it does, it is not a
	// wbo-deploy run holding the lock: the PID was reused or the file was
	// written by something that does not use flock). Not stored.
	Alive bool `json:"-"`
}

// locker is a held lock; release gives it up.
type locker interface {
	release() error
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown"
	}
	return h
}

func encodeHolder(h Holder) []byte {
	b, _ := json.Marshal(h) // a struct of plain fields cannot fail to marshal
	return append(b, '\n')
}

// parseHolder reads a lock file's content; nil when it records no holder
// (empty, or not ours).
func parseHolder(data []byte) *Holder {
	var h Holder
	if len(data) == 0 || json.Unmarshal(data, &h) != nil || h.PID <= 0 {
		return nil
	}
	return &h
}

// holderGone reports whether h is certainly dead: recorded on this host and
// no process has its PID. A holder on another host cannot be checked.
func holderGone(h *Holder) bool {
	return h.Host == hostname() && !pidAlive(h.PID)
}

// staleHolder turns a lock file's leftover content into the report of the
// lock that was taken over.
func staleHolder(data []byte) *Holder {
	h := parseHolder(data)
	if h == nil {
		return nil
	}
	h.Alive = h.Host == hostname() && pidAlive(h.PID)
	return h
}
