//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package state

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// flockLock is a flock(2) lock on <path>.lock held through an open file.
type flockLock struct {
	f      *os.File
	path   string
	shared bool
}

// maxLockAttempts bounds the retries when the lock file is replaced between
// open and flock (its previous holder removed it on Close).
const maxLockAttempts = 20

// acquireLock takes the lock of statePath at lockPath: shared for read-only
// runs, exclusive otherwise, never waiting. It returns the held lock (nil when
// a read-only run could not create the lock file and reads without one) and
// the leftover holder of a lock that was taken over, if any.
func acquireLock(lockPath, statePath string, shared bool, me Holder) (locker, *Holder, error) {
	for range maxLockAttempts {
		f, err := openLockFile(lockPath, shared)
		if err != nil {
			return nil, nil, err
		}
		if f == nil {
			return nil, nil, nil // read-only, nowhere to put a lock: read unlocked
		}
		how := syscall.LOCK_EX
		if shared {
			how = syscall.LOCK_SH
		}
		if err := flock(f, how|syscall.LOCK_NB); err != nil {
			if errors.Is(err, syscall.EWOULDBLOCK) {
				lerr := lockedError(f, lockPath, statePath)
				_ = f.Close()
				return nil, nil, lerr
			}
			_ = f.Close()
			return nil, nil, fmt.Errorf("lock %s: %w", lockPath, err)
		}
		// The previous holder may have removed the file between our open and
		// flock: then we locked an orphan inode and must start again.
		if !stillAt(f, lockPath) {
			_ = f.Close()
			continue
		}
		prev, err := io.ReadAll(f)
		if err != nil {
			_ = f.Close()
			return nil, nil, fmt.Errorf("read lock %s: %w", lockPath, err)
		}
		// Whatever the file says, nobody holds it in a conflicting mode: any
		// content left there is from a holder that is gone.
		stale := staleHolder(prev)
		if !shared {
			if err := writeHolder(f, me); err != nil {
				_ = f.Close()
				return nil, nil, fmt.Errorf("record lock holder in %s: %w", lockPath, err)
			}
		}
		return &flockLock{f: f, path: lockPath, shared: shared}, stale, nil
	}
	return nil, nil, fmt.Errorf("lock %s: the lock file kept being replaced while locking it", lockPath)
}

// openLockFile opens (creating) the lock file. A read-only run that may not
// create it (missing directory, read-only directory) gets nil, nil when the
// file does not exist, or a read-only handle when it does (flock needs no
// write access).
func openLockFile(lockPath string, shared bool) (*os.File, error) {
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err == nil {
		return f, nil
	}
	if !shared {
		return nil, fmt.Errorf("open lock %s: %w", lockPath, err)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // directory missing: no state to read
	}
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		f, rerr := os.Open(lockPath)
		if rerr == nil {
			return f, nil
		}
		if errors.Is(rerr, fs.ErrNotExist) {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("open lock %s: %w", lockPath, err)
}

// lockedError describes who holds the lock we could not get. It tells an
// exclusive holder (a writing run, whose details are in the file) from
// shared holders (read-only runs, which record nothing) by probing for a
// shared lock.
func lockedError(f *os.File, lockPath, statePath string) error {
	e := &LockedError{Path: statePath, LockPath: lockPath}
	if flock(f, syscall.LOCK_SH|syscall.LOCK_NB) == nil {
		_ = flock(f, syscall.LOCK_UN)
		e.Readers = true
		return e
	}
	data, _ := io.ReadAll(f)
	if h := parseHolder(data); h != nil && !holderGone(h) {
		e.Holder = h // otherwise: the new holder has not written itself yet
	}
	return e
}

func writeHolder(f *os.File, h Holder) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(encodeHolder(h), 0); err != nil {
		return err
	}
	return f.Sync()
}

// stillAt reports whether f is the file now at path.
func stillAt(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// release removes the lock file if no one else holds it, then unlocks. The
// removal happens while holding the lock exclusively; anyone who opened the
// old inode meanwhile finds it gone after locking it (stillAt) and retries.
func (l *flockLock) release() error {
	if flock(l.f, syscall.LOCK_EX|syscall.LOCK_NB) == nil && stillAt(l.f, l.path) {
		if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) && !l.shared {
			_ = l.f.Close()
			return fmt.Errorf("remove lock %s: %w", l.path, err)
		}
	}
	// Closing the last descriptor releases the flock.
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("release lock %s: %w", l.path, err)
	}
	return nil
}

// flock calls flock(2) on f, retrying when interrupted by a signal.
func flock(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	cerr := rc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Flock(int(fd), how)
			if !errors.Is(ferr, syscall.EINTR) {
				return
			}
		}
	})
	if cerr != nil {
		return cerr
	}
	return ferr
}
