package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// exclLock is the lock used where flock(2) is not available: the lock file is
// created with O_EXCL and removed on release. A crashed holder leaves the file
// behind, so a file whose recorded PID is dead on this host is taken over.
// This is best effort (two runs taking over the same dead lock at the same
// instant can race), which is why flock is used wherever it exists. Read-only
// runs are exclusive here too.
type exclLock struct {
	f    *os.File
	path string
}

func acquireExcl(lockPath, statePath string, me Holder) (locker, *Holder, error) {
	var stale *Holder
	for range 3 {
		f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			if _, err := f.Write(encodeHolder(me)); err != nil {
				_ = f.Close()
				_ = os.Remove(lockPath)
				return nil, nil, fmt.Errorf("record lock holder in %s: %w", lockPath, err)
			}
			if err := f.Sync(); err != nil {
				_ = f.Close()
				_ = os.Remove(lockPath)
				return nil, nil, fmt.Errorf("record lock holder in %s: %w", lockPath, err)
			}
			return &exclLock{f: f, path: lockPath}, stale, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, nil, fmt.Errorf("create lock %s: %w", lockPath, err)
		}
		data, err := os.ReadFile(lockPath)
		if errors.Is(err, fs.ErrNotExist) {
			continue // released meanwhile
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read lock %s: %w", lockPath, err)
		}
		h := parseHolder(data)
		if h == nil || !holderGone(h) {
			// A live holder, one on another host, or a file that records no
			// holder (its creator may be writing it right now): locked.
			return nil, nil, &LockedError{Path: statePath, LockPath: lockPath, Holder: h}
		}
		// The recorded process is dead: take its lock over.
		if err := os.Remove(lockPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("remove stale lock %s (pid %d is gone): %w", lockPath, h.PID, err)
		}
		stale = h
	}
	return nil, nil, fmt.Errorf("lock %s: the lock file kept being replaced while locking it", lockPath)
}

func (l *exclLock) release() error {
	cerr := l.f.Close()
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove lock %s: %w", l.path, err)
	}
	if cerr != nil {
		return fmt.Errorf("release lock %s: %w", l.path, cerr)
	}
	return nil
}
