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
}

func (e *LockedError) Error() string {
	switch {
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
