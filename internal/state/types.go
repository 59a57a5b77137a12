package state

import "time"

// SchemaVersion is the version of the state file format this package writes.
// Files with a higher version are refused with *SchemaError.
const SchemaVersion = 1

// Resource is one AWS resource wbo-deploy created (or adopted).
type Resource struct {
	Name      string            `json:"name"` // logical name, e.g. "vpc", "subnet-public-0", "service-shard-1"
	Kind      string            `json:"kind"` // provisioner kind, e.g. "ec2.vpc"
	ID        string            `json:"id"`
	ARN       string            `json:"arn,omitempty"`
	Attrs     map[string]string `json:"attrs,omitempty"`
	Deps      []string          `json:"deps,omitempty"` // logical names it depended on when created
	CreatedAt time.Time         `json:"created_at"`
}

// File is the on-disk document.
type File struct {
	SchemaVersion int        `json:"schema_version"`
	Serial        int64      `json:"serial"`
	Stack         string     `json:"stack"`
	Account       string     `json:"account"`
	Region        string     `json:"region"`
	ToolVersion   string     `json:"tool_version"`
	UpdatedAt     time.Time  `json:"updated_at"`
	Resources     []Resource `json:"resources"` // kept sorted by Name
}

// Options tune Open.
type Options struct {
	// ToolVersion is recorded in the file (tool_version) and the lock file.
	ToolVersion string
	// Now is the clock for updated_at, default created_at and the lock's start
	// time. Default time.Now.
	Now func() time.Time
	// ReadOnly opens for status/plan: a shared lock, and Put, Remove and
	// Delete return ErrReadOnly.
	ReadOnly bool
	// Operation and Who are recorded with the lock, so a second run can
	// name what holds it ("up by alice").
	Operation string
	Who       string
	// Overwrite ignores the document found at open, whatever it is (state
	// migrate --force over another stack's state): the next write replaces
	// it. Only with the lock (not ReadOnly).
	Overwrite bool
	// Peek reads without taking or checking the lock (state show: the last
	// complete write, which both backends make atomically). Implies ReadOnly.
	Peek bool
}

// clone returns a deep copy, so callers can never alias the store's maps and slices.
func (r Resource) clone() Resource {
	if r.Attrs != nil {
		m := make(map[string]string, len(r.Attrs))
		for k, v := range r.Attrs {
			m[k] = v
		}
		r.Attrs = m
	}
	if r.Deps != nil {
		r.Deps = append([]string(nil), r.Deps...)
	}
	return r
}
