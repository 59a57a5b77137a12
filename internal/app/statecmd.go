package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// StateDocument is `state show -o json` (schema wbo-deploy.state/v1,
// docs/json.md).
type StateDocument struct {
	Schema      string          `json:"schema"`
	Stack       string          `json:"stack"`
	Backend     string          `json:"backend"`  // local | s3
	Location    string          `json:"location"` // path or s3://bucket/key
	Exists      bool            `json:"exists"`
	Serial      int64           `json:"serial"`
	Account     string          `json:"account,omitempty"`
	Region      string          `json:"region,omitempty"`
	ToolVersion string          `json:"tool_version,omitempty"`
	UpdatedAt   *time.Time      `json:"updated_at,omitempty"`
	Lock        *StateLock      `json:"lock"` // the S3 lock object, when held; null otherwise (and for local state)
	Resources   []StateResource `json:"resources"`
}

// StateLock is who holds a remote state's lock.
type StateLock struct {
	ID        string    `json:"id"`
	Operation string    `json:"operation,omitempty"`
	Who       string    `json:"who,omitempty"`
	Host      string    `json:"host,omitempty"`
	PID       int       `json:"pid,omitempty"`
	Started   time.Time `json:"started"`
}

// StateResource is one recorded resource.
type StateResource struct {
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	ID        string    `json:"id"`
	ARN       string    `json:"arn,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// StateShow prints the state: where it lives, its serial, who holds its
// lock, and every recorded resource. It reads the last complete write
// without taking the lock, so it works while another run holds it.
func StateShow(ctx context.Context, g *Globals) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	if err := g.checkStateFlags(cfg); err != nil {
		return err
	}
	doc := StateDocument{Schema: "wbo-deploy.state/v1", Stack: cfg.Stack, Backend: cfg.State.Backend, Resources: []StateResource{}}
	var st *state.Store
	if remoteState(cfg) {
		loc := stateLocation(cfg)
		doc.Location = loc.URL()
		sc, h, err := g.remoteLock(ctx, cfg)
		if err != nil {
			return err
		}
		if h != nil {
			doc.Lock = &StateLock{ID: h.ID, Operation: h.Operation, Who: h.Who, Host: h.Host, PID: h.PID, Started: h.Started}
		}
		if st, err = state.OpenS3(ctx, sc.S3State, loc, cfg.Stack, state.Options{Peek: true}); err != nil {
			return err
		}
	} else {
		doc.Location = g.StatePath(cfg)
		if st, err = state.Open(doc.Location, cfg.Stack, state.Options{Peek: true}); err != nil {
			return err
		}
	}
	defer st.Close()
	f := st.Snapshot()
	doc.Exists, doc.Serial, doc.Account, doc.Region, doc.ToolVersion = st.Exists(), f.Serial, f.Account, f.Region, f.ToolVersion
	if !f.UpdatedAt.IsZero() {
		t := f.UpdatedAt
		doc.UpdatedAt = &t
	}
	for _, r := range f.Resources {
		doc.Resources = append(doc.Resources, StateResource{Name: r.Name, Kind: r.Kind, ID: r.ID, ARN: r.ARN, CreatedAt: r.CreatedAt})
	}
	if g.JSON() {
		return ui.JSON(g.IO.Out, doc)
	}
	w := g.IO.Out
	if !doc.Exists {
		fmt.Fprintf(w, "No state for stack %s at %s (%s backend).\n", doc.Stack, doc.Location, doc.Backend)
	} else {
		fmt.Fprintf(w, "State of stack %s: %s (%s backend), serial %d, account %s, region %s, %d resources, written %s by wbo-deploy %s\n",
			doc.Stack, doc.Location, doc.Backend, doc.Serial, orDash(doc.Account), orDash(doc.Region), len(doc.Resources),
			f.UpdatedAt.UTC().Format(time.RFC3339), orDash(doc.ToolVersion))
	}
	if h := doc.Lock; h != nil {
		fmt.Fprintf(w, "Locked: ID %s, `%s` by %s on host %s (pid %d) since %s\n", h.ID, orDash(h.Operation), orDash(h.Who), orDash(h.Host), h.PID, h.Started.UTC().Format(time.RFC3339))
	}
	if len(doc.Resources) > 0 {
		var rows [][]string
		for _, r := range doc.Resources {
			rows = append(rows, []string{r.Name, r.Kind, ui.ShortID(r.ID)})
		}
		ui.Table(w, []string{"RESOURCE", "KIND", "ID"}, rows)
	}
	return nil
}

// remoteLock connects to the state bucket and reads who holds the lock
// (nil: nobody).
func (g *Globals) remoteLock(ctx context.Context, cfg *config.Config) (*awsclients.Clients, *state.Holder, error) {
	sc, err := g.stateClients(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	h, err := state.ReadS3Lock(ctx, sc.S3State, stateLocation(cfg))
	return sc, h, err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// StateUnlockDocument is `state unlock -o json` (schema wbo-deploy.state-unlock/v1).
type StateUnlockDocument struct {
	Schema   string    `json:"schema"`
	Location string    `json:"location"`
	Removed  StateLock `json:"removed"`
}

// StateUnlock removes the lock of a remote state whose holder died, after
// confirmation. The lock ID must be the one the lock holds (the locked
// error and `state show` print it), so a lock taken meanwhile by a live run
// is never removed by mistake.
func StateUnlock(ctx context.Context, g *Globals, lockID string) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	if err := g.checkStateFlags(cfg); err != nil {
		return err
	}
	if !remoteState(cfg) {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("state unlock: the state is the local file %s, whose lock (flock) the system releases when its holder exits, however it exits; there is no lock to remove (state unlock is for state.backend: s3)", g.StatePath(cfg))}
	}
	loc := stateLocation(cfg)
	sc, h, err := g.remoteLock(ctx, cfg)
	if err != nil {
		return err
	}
	if h == nil {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("state %s is not locked: nothing to unlock", loc.URL())}
	}
	if h.ID != lockID {
		return &state.LockIDError{Path: loc.URL(), Given: lockID, Holder: h}
	}
	if err := confirm(g, fmt.Sprintf("Remove lock %s of state %s, held by `%s` of %s on host %s (pid %d) since %s? Do this only if that run is no longer running: two runs at once can damage the stack.",
		h.ID, loc.URL(), orDash(h.Operation), orDash(h.Who), orDash(h.Host), h.PID, h.Started.UTC().Format(time.RFC3339))); err != nil {
		return err
	}
	removed, err := state.ForceUnlock(ctx, sc.S3State, loc, lockID)
	if err != nil {
		return err
	}
	if g.JSON() {
		return ui.JSON(g.IO.Out, StateUnlockDocument{Schema: "wbo-deploy.state-unlock/v1", Location: loc.URL(),
			Removed: StateLock{ID: removed.ID, Operation: removed.Operation, Who: removed.Who, Host: removed.Host, PID: removed.PID, Started: removed.Started}})
	}
	fmt.Fprintf(g.IO.Out, "Unlocked %s (removed lock %s of `%s` by %s).\n", loc.URL(), removed.ID, orDash(removed.Operation), orDash(removed.Who))
	return nil
}

// StateMigrateOptions are `state migrate`'s flags.
type StateMigrateOptions struct {
	To    string // s3 | local
	Force bool   // overwrite a destination holding another state
}

// StateMigrateDocument is `state migrate -o json` (schema wbo-deploy.state-migrate/v1).
type StateMigrateDocument struct {
	Schema    string `json:"schema"`
	From      string `json:"from"`
	To        string `json:"to"`
	Serial    int64  `json:"serial"`
	Resources int    `json:"resources"`
	Source    string `json:"source"` // what became of the source
}

// StateMigrate moves the stack's state between the local file (--state or
// .wbo-deploy/<stack>.json) and the S3 location of state.bucket/state.key,
// holding both locks: write the destination, read it back and compare,
// only then retire the source. A destination that already holds a state (of
// this stack or another) is refused unless Force; one that already holds an
// equivalent state (a migration interrupted after its write) is accepted.
func StateMigrate(ctx context.Context, g *Globals, o StateMigrateOptions) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	if o.To != config.StateS3 && o.To != config.StateLocal {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--to: %q is not a state backend; use s3 or local", o.To)}
	}
	if cfg.State.Bucket == "" {
		return &ExitError{Code: ExitUsage, Err: errors.New("state.bucket: is required to migrate between the local file and S3 (set state.bucket, and state.key / state.region if not the defaults)")}
	}
	// --state names the local side of the migration, whatever the backend.
	loc := stateLocation(cfg)
	path := g.StatePath(cfg)
	sc, err := g.stateClients(ctx, cfg)
	if err != nil {
		return err
	}
	opts := state.Options{ToolVersion: g.Version, Operation: "state migrate", Who: operator()}
	openLocal := func(o state.Options) (*state.Store, error) { return state.Open(path, cfg.Stack, o) }
	openS3 := func(o state.Options) (*state.Store, error) { return state.OpenS3(ctx, sc.S3State, loc, cfg.Stack, o) }
	openSrc, openDst, from, to := openLocal, openS3, path, loc.URL()
	if o.To == config.StateLocal {
		openSrc, openDst, from, to = openS3, openLocal, loc.URL(), path
	}
	src, err := openSrc(opts)
	if err != nil {
		return err
	}
	defer src.Close()
	if !src.Exists() {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("state migrate: there is no state at %s to move", from)}
	}
	f := src.Snapshot()
	dst, err := openDst(opts)
	var bad interface{ ExitCode() int }
	if err != nil && errors.As(err, &bad) && bad.ExitCode() == ExitUsage {
		// Another stack's, damaged or newer: never overwritten by default.
		if !o.Force {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("state migrate: refusing to overwrite %s, which holds a state this run cannot use (%v); pass --force to replace it (S3 versioning keeps its old version)", to, err)}
		}
		dst, err = openDst(state.Options{ToolVersion: g.Version, Operation: "state migrate", Who: operator(), Overwrite: true})
	}
	if err != nil {
		return err
	}
	defer dst.Close()
	if dst.Exists() {
		cur := dst.Snapshot()
		switch {
		case state.Equivalent(cur, f):
			// Written by an interrupted migration: only the source is left.
		case !o.Force:
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("state migrate: %s already holds a state of stack %s (serial %d, %d resources, account %s): refusing to overwrite it; pass --force to replace it",
				to, cur.Stack, cur.Serial, len(cur.Resources), orDash(cur.Account))}
		}
	}
	if err := dst.Import(f); err != nil {
		return err
	}
	// Read the destination back, as a new run would, before giving up the source.
	check, err := openDst(state.Options{Peek: true})
	if err != nil {
		return fmt.Errorf("state migrate: read back %s: %w (the source %s is untouched)", to, err, from)
	}
	got := check.Snapshot()
	_ = check.Close()
	if !state.Equivalent(got, f) {
		return fmt.Errorf("state migrate: %s does not read back as the state written (the source %s is untouched)", to, from)
	}
	kept, err := src.Retire()
	if err != nil {
		return fmt.Errorf("state migrate: the state is at %s now, but the old copy could not be retired: %w; remove %s by hand so that no run uses it", to, err, from)
	}
	if g.JSON() {
		return ui.JSON(g.IO.Out, StateMigrateDocument{Schema: "wbo-deploy.state-migrate/v1", From: from, To: to, Serial: got.Serial, Resources: len(got.Resources), Source: kept})
	}
	fmt.Fprintf(g.IO.Out, "Moved the state of stack %s (%d resources) from %s to %s (serial %d). The old copy: %s.\n", cfg.Stack, len(got.Resources), from, to, got.Serial, kept)
	if cfg.State.Backend != o.To {
		fmt.Fprintf(g.IO.Out, "Now set `state.backend: %s` in the configuration: runs use the backend it names.\n", o.To)
	}
	return nil
}

// StateInitBackendDocument is `state init-backend -o json` (schema wbo-deploy.state-init-backend/v1).
type StateInitBackendDocument struct {
	Schema string   `json:"schema"`
	Bucket string   `json:"bucket"`
	Region string   `json:"region"`
	Steps  []string `json:"steps"`
}

// StateInitBackend creates and hardens the state bucket (state.bucket).
// The bucket belongs to no stack: destroy never touches it.
func StateInitBackend(ctx context.Context, g *Globals) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	if cfg.State.Bucket == "" {
		return &ExitError{Code: ExitUsage, Err: errors.New("state.bucket: is required for state init-backend (the name of the bucket to create)")}
	}
	sc, err := g.stateClients(ctx, cfg)
	if err != nil {
		return err
	}
	if err := sc.Identify(ctx); err != nil {
		return err
	}
	steps, err := state.InitS3Bucket(ctx, sc.S3StateBucket, cfg.State.Bucket, sc.Region, sc.Partition)
	if err != nil {
		return err
	}
	if g.JSON() {
		return ui.JSON(g.IO.Out, StateInitBackendDocument{Schema: "wbo-deploy.state-init-backend/v1", Bucket: cfg.State.Bucket, Region: sc.Region, Steps: steps})
	}
	fmt.Fprintf(g.IO.Out, "State bucket %s (%s, account %s) is ready:\n", cfg.State.Bucket, sc.Region, sc.Account)
	for _, s := range steps {
		fmt.Fprintln(g.IO.Out, "  "+s)
	}
	if !remoteState(cfg) {
		fmt.Fprintln(g.IO.Out, "Next: `wbo-deploy state migrate --to s3` moves the local state there; then set `state.backend: s3`.")
	}
	return nil
}
