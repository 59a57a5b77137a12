package provision

import "github.com/wbo-deploy/wbo-deploy/internal/state"

// What destroy keeps, said before it asks (the Delete methods of these kinds
// return the matching KeptError when the time comes).

// Keeps: the board bucket stays unless --delete-data; the access-log bucket
// goes unless --keep-logs.
func (bucketKind) Keeps(env *Env, rec state.Resource) string {
	if bucketRoleOf(rec) == bucketRoleLogs {
		if env.Destroy.KeepLogs {
			return "access-log bucket kept (--keep-logs)"
		}
		return ""
	}
	if env.Destroy.DeleteData {
		return ""
	}
	return "board bucket kept with every board; --delete-data deletes it"
}

// Keeps: the log group stays with --keep-logs.
func (logGroupKind) Keeps(env *Env, rec state.Resource) string {
	if env.Destroy.KeepLogs {
		return "log group kept (--keep-logs)"
	}
	return ""
}
