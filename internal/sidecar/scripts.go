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

//go:embed backup.sh
var backupSource string

// RestoreScript and BackupScript are the shell programs to pass as the
// container command after EntryPoint: lib.sh followed by the script, with
// comment lines, blank lines and indentation removed to keep the task
// definition small (see Compact).
var (
	RestoreScript = Compact(libSource + restoreSource)
	BackupScript  = Compact(libSource + backupSource)
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
