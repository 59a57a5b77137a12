// Package sidecar holds the restore and backup scripts that persist WBO's
// boards to S3 with the stock AWS CLI image, and the container settings that
// run them.
//
// In a WBO task the three containers share one task volume mounted at the
// board directory:
//   - restore (essential=false) runs RestoreScript and exits; wbo depends on
//     it with condition SUCCESS, so WBO never starts on a half-restored
//     directory.
//   - backup runs BackupScript for the task's whole life; it should depend on
//     restore SUCCESS (so it starts from the restored directory) and wbo
//     depends on it with condition START, which makes ECS stop wbo first and
//     backup last: backup's final sync then carries WBO's SIGTERM flush to S3.
//     Its stopTimeout must cover one sync (the scripts use at most a few
//     aws invocations per sync).
//
// # Lease hand-over between the tasks of one shard
//
// A shard's service runs one task with minimumHealthyPercent 0 and
// maximumPercent 100, yet ECS may start the new task while the old one is
// still stopping: maximumPercent limits only the tasks in the RUNNING or
// PENDING state (DeploymentConfiguration.maximumPercent, Amazon ECS API
// reference: "an upper limit on the number of your service's tasks that are
// allowed in the RUNNING or PENDING state during a deployment"), and a
// stopping task is in neither while it drains, WBO flushes and the backup
// makes its final sync. Without a hand-over the new task's restore would copy
// the boards before that final sync and miss the old task's last edits.
//
// So, with WBO_LEASE_NAME set (Config.LeaseName: the service name), the
// object s3://$WBO_BUCKET/${WBO_PREFIX}.leases/$WBO_LEASE_NAME holds
// "<owner token> <unix time>":
//   - backup writes it when it starts, again every WBO_LEASE_TTL/3 seconds
//     (a heartbeat, independent of the sync interval), once more on SIGTERM
//     before its final sync, and deletes it after that sync if it still
//     names this task;
//   - restore, before copying, waits while the lease names another owner and
//     its heartbeat is younger than WBO_LEASE_TTL, polling every
//     WBO_LEASE_POLL (5) seconds for at most WBO_LEASE_WAIT seconds, then
//     copies and logs why it went on (free, released, stale, own, or the
//     wait ran out).
//
// The owner token is the task's: restore writes it to .wbo-lease-owner in the
// board directory (WBO reads only board-* files there) and backup reads it,
// so a restarted restore of the same task is never blocked by its own lease.
// It is the ECS task ARN when the task metadata endpoint and curl are
// available, else host name, pid, time and random bytes. Ages are computed
// from the time written in the object and the reader's clock, never from S3's
// LastModified. The lease key is under the board prefix (the task role may
// only write there) but never a board: both scripts only take board-* names
// directly under the prefix, so it is neither restored nor counted by the
// deletion guard. S3 is strongly consistent for PUT, DELETE and LIST (S3 User
// Guide, "Amazon S3 data consistency model"), so restore sees a release at
// its next poll; it lists before it reads, because a GET of a missing key
// answers 403, not 404, to a role without s3:ListBucket on it (S3 API
// reference, GetObject), and the task role's s3:ListBucket carries an
// s3:prefix condition. The lease costs one PUT per
// heartbeat (WBO_LEASE_TTL 150: about 52,600 a month per shard) and, on a
// task start, one LIST and GET per poll. It is not a lock against two live
// tasks: a restore that gives up waiting goes on, and both backups would then
// write the lease; it only orders a normal hand-over.
//
// Both scripts are POSIX sh using coreutils only (the AWS CLI image is Amazon
// Linux 2023 based since 2.27.51 and has no find or xargs:
// github.com/aws/aws-cli/issues/9599); they run under dash and bash alike.
package sidecar

import (
	_ "embed"
	"strings"
)

//go:embed lib.sh
var libSource string

//go:embed restore.sh
var restoreSource string

//go:embed list.sh
var listSource string

//go:embed backup.sh
var backupSource string

// RestoreScript and BackupScript are the shell programs to pass as the
// container command after EntryPoint: lib.sh followed by the script (and,
// for backup, list.sh in between), with
// comment lines, blank lines and indentation removed to keep the task
// definition small (see Compact).
var (
	RestoreScript = Compact(libSource + restoreSource)
	BackupScript  = Compact(libSource + listSource + backupSource)
)

// EntryPoint replaces the AWS CLI image's entry point (aws) with a shell that
// runs its one command argument as a script.
var EntryPoint = []string{"/bin/sh", "-c"}

// RestoreCommand is the container command of the restore container.
func RestoreCommand() []string { return []string{RestoreScript} }

// BackupCommand is the container command of the backup container.
func BackupCommand() []string { return []string{BackupScript} }

// Compact removes whole-line comments, blank lines and leading indentation
// from a shell script. It is only safe for scripts without here-documents or
// quoted strings spanning lines, which the embedded scripts never use (the
// tests run the compacted form).
func Compact(script string) string {
	var b strings.Builder
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimLeft(line, " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}
