//go:build !unix

package state

import "os"

// pidAlive reports whether a process with this PID exists. On Windows
// os.FindProcess opens the process and fails when there is none; where it
// cannot tell, it reports alive, so a lock is never taken over wrongly.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}
