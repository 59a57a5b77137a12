package sidecar

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// LeaseKey is the object key of a shard's lease: under the board prefix,
// never a board (see the package doc).
func LeaseKey(prefix, leaseName string) string { return prefix + ".leases/" + leaseName }

// Lease is what a shard's lease object says: its holder, the holder's last
// heartbeat and the recovery point the holder's backup published with it.
type Lease struct {
	Owner     string    // the holder's owner token (the ECS task ARN on ECS)
	Heartbeat time.Time // the holder's last heartbeat (its own clock)
	// LastBackup is the time of the last successful backup sync (zero when
	// none yet, or a lease written by an older backup): the recovery point.
	// Every board change WBO had saved before it is in S3.
	LastBackup time.Time
	Boards     int   // board files that sync saw
	Bytes      int64 // their total size
}

// ParseLease reads "<owner> <heartbeat> [<last backup> <boards> <bytes>]"
// (unix seconds), as backup.sh writes it.
func ParseLease(body string) (Lease, error) {
	f := strings.Fields(body)
	if len(f) != 2 && len(f) != 5 {
		return Lease{}, fmt.Errorf("lease %q: want \"<owner> <time>\" or \"<owner> <time> <last backup> <boards> <bytes>\"", body)
	}
	nums := make([]int64, len(f)-1)
	for i, s := range f[1:] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return Lease{}, fmt.Errorf("lease %q: field %d is not a whole number", body, i+2)
		}
		nums[i] = n
	}
	l := Lease{Owner: f[0], Heartbeat: time.Unix(nums[0], 0)}
	if len(nums) == 4 {
		if nums[1] > 0 {
			l.LastBackup = time.Unix(nums[1], 0)
		}
		l.Boards, l.Bytes = int(nums[2]), nums[3]
	}
	return l, nil
}

// RecoveryPointMaxAge is how old a shard's recovery point may look before
// it is a problem: the backup publishes it with each heartbeat (every
// leaseTTL/3 s) and refreshes it every sync, so a healthy shard's shows at
// most about leaseTTL/3 + syncSeconds; past leaseTTL + 2 syncs its backups
// have been failing (or its heartbeat stopped) for minutes.
func RecoveryPointMaxAge(leaseTTL, syncSeconds int) time.Duration {
	if leaseTTL == 0 {
		leaseTTL = DefaultLeaseTTL
	}
	return time.Duration(leaseTTL+2*syncSeconds) * time.Second
}
