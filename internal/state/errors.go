package state

import (
	"errors"
	"fmt"
	"time"
)

// Exit codes the CLI maps typed errors to.
const (
	exitFailure  = 1 // the run failed (e.g. another run holds the lock)
	exitBadInput = 2 // invalid usage, config or state file
)

// ErrReadOnly is returned by writing methods of a Store opened with ReadOnly.
var ErrReadOnly = errors.New("state opened read-only")

// ErrClosed is returned by methods of a closed Store.
var ErrClosed = errors.New("state store is closed")

// CorruptError: the state file cannot be used as it is. The file is left untouched.
type CorruptError struct {
	Path    string
	Problem string // what is wrong, e.g. `resources[2]: id is empty`
	Err     error  // underlying decode error, if any
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("state file %s is corrupt: %s (it was not modified; fix it or move it aside)", e.Path, e.Problem)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// ExitCode is 2: bad input.
func (e *CorruptError) ExitCode() int { return exitBadInput }

// SchemaError: the file was written by a newer wbo-deploy. The file is left untouched.
type SchemaError struct {
	Path      string
	Found     int
	Supported int
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("state file %s has schema version %d, newer than this wbo-deploy supports (%d): upgrade wbo-deploy (the file was not modified)",
		e.Path, e.Found, e.Supported)
}

// ExitCode is 2: bad input.
func (e *SchemaError) ExitCode() int { return exitBadInput }

// IdentityError: the state belongs to another account or region than the
// current run's. The file is left untouched.
type IdentityError struct {
	Path                            string
	RecordedAccount, RecordedRegion string
	Account, Region                 string // what the run is using
}

func (e *IdentityError) Error() string {
	return fmt.Sprintf("state file %s belongs to account %s region %s, but this run uses account %s region %s: refusing to use it (check --profile/--region or --state)",
		e.Path, e.RecordedAccount, e.RecordedRegion, e.Account, e.Region)
}

// ExitCode is 2: bad input.
func (e *IdentityError) ExitCode() int { return exitBadInput }

// LockedError: another run holds the stack's lock.
type LockedError struct {
	Path     string // state file
	LockPath string
	// Holder is the recorded holder of an exclusive lock; nil when the lock is
	// held by read-only runs or the holder has not recorded itself yet.
	Holder *Holder
	// Readers is true when only read-only runs (status, plan) hold the lock.
	Readers bool
	// Remote: the lock is an S3 object (never taken over automatically).
	Remote bool
}

func (e *LockedError) Error() string {
	switch {
	case e.Remote && e.Holder != nil:
		h := e.Holder
		what := "a wbo-deploy run"
		if h.Operation != "" {
			what = "`wbo-deploy " + h.Operation + "`"
		}
		who := h.Who
		if who == "" {
			who = "(unknown user)"
		}
		return fmt.Sprintf("state %s is locked (lock ID %s) by %s of %s on host %s, pid %d, since %s: another run is using this stack; if that run is dead, remove its lock with `wbo-deploy state unlock %s`",
			e.Path, h.ID, what, who, h.Host, h.PID, h.Started.UTC().Format(time.RFC3339), h.ID)
	case e.Holder != nil:
		return fmt.Sprintf("state %s is locked by pid %d (started %s on host %s): another wbo-deploy run is using this stack",
			e.Path, e.Holder.PID, e.Holder.Started.UTC().Format(time.RFC3339), e.Holder.Host)
	case e.Readers:
		return fmt.Sprintf("state %s is locked by a read-only wbo-deploy run (status or plan): try again when it has finished", e.Path)
	default:
		return fmt.Sprintf("state %s is locked by another process (holder not recorded in %s): another wbo-deploy run is using this stack", e.Path, e.LockPath)
	}
}

// ExitCode is 1: the run failed, the input was fine.
func (e *LockedError) ExitCode() int { return exitFailure }

// ConflictError: a remote state was changed by someone else since this run
// read it (its lock was broken with `state unlock` while it ran, or a tool
// wrote it without the lock). The change was not written: writing it would
// have lost the other one.
type ConflictError struct {
	Path            string
	Expected, Found string // ETags: the version this run knew, and the one there now ("" = none)
}

func (e *ConflictError) Error() string {
	found := e.Found
	if found == "" {
		found = "none (deleted)"
	}
	return fmt.Sprintf("state %s was changed by another run since this run read it (version %s expected, %s found; was its lock removed with `state unlock` while this run held it?): this run's change was not written, so the other one is not lost; run the command again to continue from the current state",
		e.Path, orNone(e.Expected), found)
}

// ExitCode is 1.
func (e *ConflictError) ExitCode() int { return exitFailure }

// LockIDError: `state unlock` was given another ID than the lock's.
type LockIDError struct {
	Path   string
	Given  string
	Holder *Holder
}

func (e *LockIDError) Error() string {
	return fmt.Sprintf("state %s is locked with ID %s (by %s of %s since %s), not %s: not unlocked (the run you meant may have finished, and this lock may be a live run's)",
		e.Path, e.Holder.ID, orNone(e.Holder.Operation), orNone(e.Holder.Who), e.Holder.Started.UTC().Format(time.RFC3339), e.Given)
}

// ExitCode is 2: bad input.
func (e *LockIDError) ExitCode() int { return exitBadInput }
