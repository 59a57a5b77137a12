package app

import (
	"context"
	"fmt"
	"os"
	"os/user"

	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// remoteState reports whether the configuration keeps the state in S3.
func remoteState(cfg *config.Config) bool { return cfg.State.Backend == config.StateS3 }

// stateLocation is the S3 location of the configured remote state.
func stateLocation(cfg *config.Config) state.S3Location {
	return state.S3Location{Bucket: cfg.State.Bucket, Key: cfg.StateKey()}
}

// checkStateFlags refuses --state with the S3 backend: it names a file the
// run would not use.
func (g *Globals) checkStateFlags(cfg *config.Config) error {
	if g.StateFile != "" && remoteState(cfg) {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--state: %q is a local state file, but state.backend is s3 (the state is %s); drop --state, or set state.backend: local",
			g.StateFile, stateLocation(cfg).URL())}
	}
	return nil
}

// stateClients connects to the state bucket: its own region (state.region,
// else the stack's) and credentials (state.profile, else the stack's), so a
// team can keep every stack's state in one bucket of one account.
func (g *Globals) stateClients(ctx context.Context, cfg *config.Config) (*awsclients.Clients, error) {
	region := cfg.State.Region
	if region == "" {
		region = cfg.Region
	}
	c, err := awsclients.New(ctx, g.awsOptions(region, cfg.State.Profile))
	if err != nil {
		return nil, fmt.Errorf("connect to the state bucket %s: %w", cfg.State.Bucket, err)
	}
	if err := c.CheckCredentials(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// operator names who runs this command, for the lock.
func operator() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if n := os.Getenv("USER"); n != "" {
		return n
	}
	return "unknown"
}

// openState opens the stack's state with the run lock: the local file, or
// the S3 object of state.backend: s3. op is the command, recorded with the
// lock.
func (g *Globals) openState(ctx context.Context, cfg *config.Config, readOnly bool, op string) (*state.Store, error) {
	if err := g.checkStateFlags(cfg); err != nil {
		return nil, err
	}
	opts := state.Options{ToolVersion: g.Version, ReadOnly: readOnly, Operation: op, Who: operator()}
	if remoteState(cfg) {
		sc, err := g.stateClients(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return state.OpenS3(ctx, sc.S3State, stateLocation(cfg), cfg.Stack, opts)
	}
	st, err := state.Open(g.StatePath(cfg), cfg.Stack, opts)
	if err != nil {
		return nil, err
	}
	if h := st.StaleLock(); h != nil && !readOnly {
		fmt.Fprintf(g.IO.Err, "note: took over a stale lock left by pid %d (no longer running)\n", h.PID)
	}
	return st, nil
}

// readState opens the state read-only for status and plan; nil (and no
// error) when there is none. A local state whose file does not exist is not
// opened at all (no lock file, no directory is created).
func (g *Globals) readState(ctx context.Context, cfg *config.Config, op string) (*state.Store, error) {
	if err := g.checkStateFlags(cfg); err != nil {
		return nil, err
	}
	if !remoteState(cfg) {
		if _, err := os.Stat(g.StatePath(cfg)); err != nil {
			return nil, nil
		}
	}
	st, err := g.openState(ctx, cfg, true, op)
	if err != nil {
		return nil, err
	}
	if !st.Exists() {
		_ = st.Close()
		return nil, nil
	}
	return st, nil
}
