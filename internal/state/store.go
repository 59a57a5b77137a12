package state

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Store is an open state: the local file or the remote object of one stack.
// It holds the stack's lock until Close. All methods are safe for concurrent
// use.
type Store struct {
	be       backend
	stack    string
	readOnly bool
	tool     string
	now      func() time.Time

	mu     sync.Mutex
	file   File // Resources sorted by Name
	exists bool
	closed bool
	stale  *Holder // leftover holder of a lock this Store took over
	// bindErr is set when Bind found another account or region: from then
	// on every write is refused, so a caller that ignores the error still
	// cannot overwrite another account's state.
	bindErr error
}

// Open locks the state of stack at path and loads it if the file exists.
// A writable Open takes the lock exclusively and creates the directory (mode
// 0700) if needed; a read-only Open takes a shared lock (see the package
// documentation). A second run on the same path gets *LockedError; a bad file
// gets *CorruptError or *SchemaError and is left untouched.
func Open(path, stack string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("open state: path is empty")
	}
	return open(&localBackend{path: path}, stack, opts)
}

// open locks the state in be and loads it.
func open(be backend, stack string, opts Options) (*Store, error) {
	if stack == "" {
		return nil, fmt.Errorf("open state %s: stack name is empty", be.where())
	}
	if opts.Peek {
		opts.ReadOnly = true
	}
	if opts.Overwrite && opts.ReadOnly {
		return nil, fmt.Errorf("open state %s: Overwrite needs the lock (not ReadOnly)", be.where())
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Store{be: be, stack: stack, readOnly: opts.ReadOnly, tool: opts.ToolVersion, now: now}
	me := Holder{PID: os.Getpid(), Host: hostname(), Started: now().UTC(), ToolVersion: opts.ToolVersion,
		Operation: opts.Operation, Who: opts.Who}
	if !opts.Peek {
		stale, err := be.lock(me, opts.ReadOnly)
		if err != nil {
			return nil, err
		}
		s.stale = stale
	}
	data, exists, err := be.read()
	var f File
	if err == nil && exists {
		if opts.Overwrite {
			f = File{SchemaVersion: SchemaVersion, Stack: stack}
		} else {
			f, err = decode(be.where(), stack, data)
		}
	}
	if err != nil {
		_ = be.unlock()
		return nil, err
	}
	if !exists {
		f = File{SchemaVersion: SchemaVersion, Stack: stack}
	}
	s.file, s.exists = f, exists

	if !opts.ReadOnly {
		if err := be.cleanup(); err != nil {
			_ = be.unlock()
			return nil, fmt.Errorf("open state %s: %w", be.where(), err)
		}
	}
	return s, nil
}

// Get returns the resource recorded under name.
func (s *Store) Get(name string) (Resource, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.index(name); ok {
		return s.file.Resources[i].clone(), true
	}
	return Resource{}, false
}

// All returns every recorded resource, sorted by name. The slice and its
// contents are copies.
func (s *Store) All() []Resource {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Resource, len(s.file.Resources))
	for i, r := range s.file.Resources {
		out[i] = r.clone()
	}
	return out
}

// Put records r (replacing an entry with the same name) and writes the file
// before returning. A zero CreatedAt is set to now, or kept from the entry it
// replaces. On error nothing changes, in memory or on disk.
func (s *Store) Put(r Resource) error {
	if err := checkResource(r); err != nil {
		return fmt.Errorf("record %q in state %s: %w", r.Name, s.be.where(), err)
	}
	r = r.clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return fmt.Errorf("record %q in state %s: %w", r.Name, s.be.where(), err)
	}
	i, found := s.index(r.Name) // i is the insertion point when not found
	if r.CreatedAt.IsZero() {
		if found {
			r.CreatedAt = s.file.Resources[i].CreatedAt
		} else {
			r.CreatedAt = s.now().UTC()
		}
	}
	rs := make([]Resource, 0, len(s.file.Resources)+1)
	if found {
		rs = append(rs, s.file.Resources...)
		rs[i] = r
	} else {
		rs = append(rs, s.file.Resources[:i]...)
		rs = append(rs, r)
		rs = append(rs, s.file.Resources[i:]...)
	}
	if err := s.commit(rs); err != nil {
		return fmt.Errorf("record %q in state %s: %w", r.Name, s.be.where(), err)
	}
	return nil
}

// Remove forgets name and writes the file before returning. Removing a name
// that is not recorded is a no-op (destroy is re-runnable).
func (s *Store) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return fmt.Errorf("remove %q from state %s: %w", name, s.be.where(), err)
	}
	i, ok := s.index(name)
	if !ok {
		return nil
	}
	rs := make([]Resource, 0, len(s.file.Resources)-1)
	rs = append(rs, s.file.Resources[:i]...)
	rs = append(rs, s.file.Resources[i+1:]...)
	if err := s.commit(rs); err != nil {
		return fmt.Errorf("remove %q from state %s: %w", name, s.be.where(), err)
	}
	return nil
}

// Bind ties the state to the run's account and region. The first Bind of a
// state records them (in memory; they are written with the next Put or
// Remove, so a run that creates nothing leaves no file). Afterwards, a state
// recorded for another account or region returns *IdentityError and is never
// changed, in memory or on disk: every later Put, Remove and Delete of this
// Store returns that error too.
func (s *Store) Bind(account, region string) error {
	if account == "" || region == "" {
		return fmt.Errorf("bind state %s: account (%q) and region (%q) must both be set", s.be.where(), account, region)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("bind state %s: %w", s.be.where(), ErrClosed)
	}
	ra, rr := s.file.Account, s.file.Region
	if (ra != "" && ra != account) || (rr != "" && rr != region) {
		s.bindErr = &IdentityError{Path: s.be.where(), RecordedAccount: orNone(ra), RecordedRegion: orNone(rr), Account: account, Region: region}
		return s.bindErr
	}
	s.file.Account, s.file.Region = account, region
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Exists reports whether the state file is on disk: it was there at Open or
// has been written since (and not deleted).
func (s *Store) Exists() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exists
}

// Delete removes the state file at the end of a destroy. It refuses while
// resources are still recorded: their IDs would be lost.
func (s *Store) Delete() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return fmt.Errorf("delete state %s: %w", s.be.where(), err)
	}
	if n := len(s.file.Resources); n > 0 {
		names := make([]string, 0, n)
		for _, r := range s.file.Resources {
			names = append(names, r.Name)
		}
		return fmt.Errorf("delete state %s: it still records %d resource(s) (%s); remove them first",
			s.be.where(), n, strings.Join(names, ", "))
	}
	if err := s.be.remove(); err != nil {
		return fmt.Errorf("delete state %s: %w", s.be.where(), err)
	}
	s.exists = false
	return nil
}

// Serial is the serial number of the last write (0 before the first).
func (s *Store) Serial() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.file.Serial
}

// Account is the bound or recorded account ("" if none yet).
func (s *Store) Account() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.file.Account
}

// Region is the bound or recorded region ("" if none yet).
func (s *Store) Region() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.file.Region
}

// Path is where the state lives: the state file's path, or s3://bucket/key.
func (s *Store) Path() string { return s.be.where() }

// Stack is the stack this state belongs to.
func (s *Store) Stack() string { return s.stack }

// StaleLock reports the holder recorded in a lock file this Store took over
// (its process had died without releasing it), or nil. The CLI prints it.
func (s *Store) StaleLock() *Holder {
	if s.stale == nil {
		return nil
	}
	h := *s.stale
	return &h
}

// Close releases the lock. Later calls of writing methods return ErrClosed;
// closing twice is a no-op.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.be.unlock()
}

func (s *Store) writable() error {
	if s.closed {
		return ErrClosed
	}
	if s.readOnly {
		return ErrReadOnly
	}
	return s.bindErr
}

// commit writes the file with resources rs and, only if that succeeded,
// adopts it in memory. Called with s.mu held.
func (s *Store) commit(rs []Resource) error {
	next := s.file
	next.SchemaVersion = SchemaVersion
	next.Serial++
	next.Stack = s.stack
	if s.tool != "" {
		next.ToolVersion = s.tool
	}
	next.UpdatedAt = s.now().UTC()
	next.Resources = rs
	data, err := encode(next)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if err := s.be.write(data); err != nil {
		return err
	}
	s.file, s.exists = next, true
	return nil
}

// index finds name among the sorted resources; when absent, i is where it
// would be inserted.
func (s *Store) index(name string) (int, bool) {
	rs := s.file.Resources
	i := sort.Search(len(rs), func(j int) bool { return rs[j].Name >= name })
	return i, i < len(rs) && rs[i].Name == name
}

// checkResource validates what Put is given.
func checkResource(r Resource) error {
	var problems []string
	if r.Name == "" {
		problems = append(problems, "name is empty")
	}
	if r.Kind == "" {
		problems = append(problems, "kind is empty")
	}
	if r.ID == "" {
		problems = append(problems, "id is empty")
	}
	for k := range r.Attrs {
		if sensitiveAttrKey(k) {
			problems = append(problems, fmt.Sprintf("attrs[%q] looks like a secret; the state file never stores secrets", k))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// sensitiveAttrKey reports attribute keys that name a secret value. Keys
// naming a reference to a secret (…_arn, …_id, …_name) or a flag (…_enabled)
// are fine: those are not secrets.
func sensitiveAttrKey(k string) bool {
	l := strings.ReplaceAll(strings.ToLower(k), "-", "_")
	for _, ok := range []string{"_arn", "_id", "_name", "_enabled"} {
		if strings.HasSuffix(l, ok) {
			return false
		}
	}
	for _, bad := range []string{"password", "passwd", "secret_access_key", "secretaccesskey", "session_token",
		"sessiontoken", "auth_token", "authtoken", "private_key", "privatekey", "client_secret", "credential"} {
		if strings.Contains(l, bad) {
			return true
		}
	}
	return false
}

// Snapshot returns a deep copy of the whole document as last read or written.
func (s *Store) Snapshot() File {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.file
	f.Resources = make([]Resource, len(s.file.Resources))
	for i, r := range s.file.Resources {
		f.Resources[i] = r.clone()
	}
	return f
}

// Import replaces the whole document with f's resources, account and region
// (state migrate), in one write. The serial continues from the higher of
// f's and this state's, so it never goes backwards at either place. f must be
// a document of this Store's stack.
func (s *Store) Import(f File) error {
	if f.Stack != s.stack {
		return fmt.Errorf("import into state %s: the document is for stack %q, not %q", s.be.where(), f.Stack, s.stack)
	}
	rs := make([]Resource, len(f.Resources))
	for i, r := range f.Resources {
		if err := checkResource(r); err != nil {
			return fmt.Errorf("import into state %s: %s: %w", s.be.where(), r.Name, err)
		}
		rs[i] = r.clone()
	}
	sortResources(rs)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.readOnly {
		return fmt.Errorf("import into state %s: %w", s.be.where(), s.writable())
	}
	prev := s.file
	s.file.Account, s.file.Region = f.Account, f.Region
	s.file.Serial = max(f.Serial, prev.Serial)
	if err := s.commit(rs); err != nil {
		s.file = prev
		return fmt.Errorf("import into state %s: %w", s.be.where(), err)
	}
	s.bindErr = nil
	return nil
}

// Retire takes the document out of use after it was moved elsewhere (state
// migrate), whatever it records: a local file is renamed to <path>.migrated
// (a backup), an S3 object is deleted (the bucket's versioning keeps its
// previous version). It returns where the old copy is.
func (s *Store) Retire() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return "", fmt.Errorf("retire state %s: %w", s.be.where(), err)
	}
	kept, err := s.be.retire()
	if err != nil {
		return "", fmt.Errorf("retire state %s: %w", s.be.where(), err)
	}
	s.exists = false
	return kept, nil
}

// Equivalent reports whether two documents record the same stack, account,
// region and resources (serials and timestamps aside).
func Equivalent(a, b File) bool {
	if a.Stack != b.Stack || a.Account != b.Account || a.Region != b.Region || len(a.Resources) != len(b.Resources) {
		return false
	}
	for i := range a.Resources {
		x, y := a.Resources[i], b.Resources[i]
		if x.Name != y.Name || x.Kind != y.Kind || x.ID != y.ID || x.ARN != y.ARN || !x.CreatedAt.Equal(y.CreatedAt) ||
			len(x.Attrs) != len(y.Attrs) || strings.Join(x.Deps, ",") != strings.Join(y.Deps, ",") {
			return false
		}
		for k, v := range x.Attrs {
			if y.Attrs[k] != v {
				return false
			}
		}
	}
	return true
}
