//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package state

// acquireLock uses the O_EXCL lock file where flock(2) does not exist; the
// shared (read-only) mode is exclusive there.
func acquireLock(lockPath, statePath string, _ bool, me Holder) (locker, *Holder, error) {
	return acquireExcl(lockPath, statePath, me)
}
