// Package state is wbo-deploy's record of the AWS resources it created: one
// JSON document per stack, in a local file (Open; by default
// .wbo-deploy/<stack>.json, the caller chooses the path) or an S3 object
// (OpenS3, for teams: see backend_s3.go for its lock object and conditional
// writes). Both backends share the Store, hence the format, the serial, the
// binding and the refusals below; what follows about writes and locking
// describes the local file.
//
// # File format
//
// The file is a single JSON object (see File) with a schema version, a serial
// number incremented on every write, the account and region the stack belongs
// to, and one entry per resource (logical name, provisioner kind, ID, ARN,
// attributes later steps need, the logical names it depended on), kept sorted
// by name. Only identifiers and the attributes handed to Put are stored, never
// credentials; Put refuses attribute keys that name a secret (see
// sensitiveAttrKey).
//
// # Writes
//
// Every Put and Remove writes the whole file at once, atomically: a temporary
// file in the same directory (mode 0600), fsync, rename over the state file,
// fsync of the directory. A reader, or a crash at any instant, sees either the
// previous file or the new one, never a torn one. Writes are serialized by a
// mutex, so a Store can be shared by the engine's goroutines. If a write fails
// the in-memory state is left as it was, so memory never claims more than the
// disk does.
//
// # Refusing bad files
//
// A file that is empty, not valid JSON, truncated, has unknown fields, names
// another stack, has a resource without name, kind or ID, or two resources
// with one name, is refused with *CorruptError; a file written by a newer
// wbo-deploy (higher schema_version) with *SchemaError; a file bound to another
// account or region (see Store.Bind) with *IdentityError. In every case the
// file is never written: it stays byte-for-byte as the user left it.
//
// # Locking
//
// Open takes a lock on <path>.lock with flock(2) for the lifetime of the Store:
//
//   - A writable Open takes LOCK_EX|LOCK_NB and then writes its PID, host and
//     start time into the lock file. A second run (another process, or another
//     Open in this process) fails at once with *LockedError naming that PID and
//     start time.
//   - A read-only Open (status, plan) takes LOCK_SH|LOCK_NB: any number of
//     readers run side by side, but a reader never overlaps a writer, so it
//     never sees a run's half-applied set of changes; each side fails fast with
//     *LockedError. Readers do not write their details into the lock file (they
//     would overwrite each other); a writer blocked by readers says so.
//
// Stale locks: a flock belongs to an open file description, so the kernel
// releases it when its holder dies however it dies (kill -9, crash, power
// loss ends every process anyway). A lock file whose recorded holder is dead is
// therefore simply not locked, and the next Open takes it over: the previous
// holder's details are left in the file by a dead process, and Store.StaleLock
// reports them (with whether that PID is still alive on this host) so the CLI
// can say "took over the lock of pid N, which is gone". Because the flock, not
// the file's content, is authoritative, a lock file written by something that
// does not use flock, or whose PID now belongs to an unrelated process, never
// blocks a run.
//
// The lock file is removed by the last holder on Close (only while holding it
// exclusively, and every Open checks after locking that the inode it locked is
// still the one at <path>.lock, retrying otherwise), so a finished run leaves
// no lock file behind and no two runs can ever hold locks on different inodes.
//
// On platforms without flock(2) the lock falls back to creating <path>.lock
// with O_EXCL; a lock file whose PID is dead on this host is taken over, and
// read-only opens are exclusive too.
//
// A read-only Open of a path whose directory does not exist takes no lock and
// reports an empty state (there is nothing to read, and a status or plan must
// not create directories). If the lock file cannot be created because the
// directory is read-only, a read-only Open reads without a lock: the atomic
// rename means it still sees a complete file.
package state
