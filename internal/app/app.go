// Package app carries out wbo-deploy's commands: it loads and validates the
// configuration, opens the state, connects to AWS and runs the engine. The
// cobra commands in cmd/wbo-deploy only parse flags and call these functions,
// which tests call directly.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// Exit codes (documented in the README).
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2 // invalid usage, configuration or state file
	ExitDegraded    = 3 // status: deployed but degraded or drifted
	ExitNotDeployed = 4 // status: nothing deployed
	ExitInterrupted = 130
)

// ExitError carries an exit code.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	var re *provision.RunError
	if errors.As(err, &re) && re.Interrupted {
		return ExitInterrupted
	}
	if errors.Is(err, provision.ErrInterrupted) || errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	return ExitFailure
}

// Globals are the global flags and the process context of a command.
type Globals struct {
	ConfigFile  string
	StateFile   string
	Profile     string
	EndpointURL string
	Output      string // text | json
	Yes         bool
	Verbose     bool
	NoColorFlag bool
	// Overrides are the config keys set by flags the user gave ("stack", "region").
	Overrides map[string]any
	// Env is the environment (nil = the process's).
	Env []string

	IO      *ui.Streams
	Version string

	// AWS lets tests (and future flags) shape the clients: the simulated
	// cloud goes in AWS.APIOptions.
	AWS awsclients.Options
	// ClockScale is wall seconds per AWS second (0 = 1).
	ClockScale float64
	// Stop is closed on the first Ctrl-C: no new work starts, waits end.
	Stop <-chan struct{}
	// ClockSeed, when not 0, seeds the retry jitter (a repeatable run:
	// benchmarks on a virtual clock); 0 draws a random seed.
	ClockSeed uint64
	// Concurrency bounds how many resources the engine works on at once
	// (0 = the engine's default).
	Concurrency int
	// Observe, when set, receives every progress event as well (benchmarks
	// build their timeline from it).
	Observe provision.Sink
	// BeforeRun is called once the streams are set, before the command runs.
	BeforeRun func()
}

// NoColor reports whether colour is turned off by flag.
func (g *Globals) NoColor() bool { return g.NoColorFlag }

// JSON reports whether -o json was asked for.
func (g *Globals) JSON() bool { return g.Output == "json" }

func (g *Globals) getenv(key string) string {
	if g.Env == nil {
		return os.Getenv(key)
	}
	prefix := key + "="
	for _, kv := range g.Env {
		if strings.HasPrefix(kv, prefix) {
			return kv[len(prefix):]
		}
	}
	return ""
}

// CheckOutput validates -o.
func (g *Globals) CheckOutput() error {
	if g.Output != "" && g.Output != "text" && g.Output != "json" {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--output: %q is not one of text, json", g.Output)}
	}
	return nil
}

// LoadConfig loads and validates the configuration; every problem is
// reported at once, before any AWS call.
func (g *Globals) LoadConfig() (*config.Config, error) {
	if err := g.CheckOutput(); err != nil {
		return nil, err
	}
	cfg, err := config.Load(config.LoadOptions{ConfigFile: g.ConfigFile, SearchDefault: true, Env: g.Env, Overrides: g.Overrides})
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if g.IO != nil && g.IO.Err != nil {
		for _, w := range cfg.Warnings() {
			fmt.Fprintln(g.IO.Err, g.IO.E().Warn("Warning: ")+w)
		}
	}
	return cfg, nil
}

// StatePath is --state or .wbo-deploy/<stack>.json.
func (g *Globals) StatePath(cfg *config.Config) string {
	if g.StateFile != "" {
		return g.StateFile
	}
	return filepath.Join(".wbo-deploy", cfg.Stack+".json")
}

// Connect builds the AWS clients, checks credentials and identifies the
// account (one STS call).
func (g *Globals) Connect(ctx context.Context, cfg *config.Config) (*awsclients.Clients, error) {
	c, err := g.credentials(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := c.Identify(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// credentials builds the clients and resolves the credentials (no AWS API
// call for keys in the environment or a profile; SSO and roles fetch theirs),
// without identifying the account.
func (g *Globals) credentials(ctx context.Context, cfg *config.Config) (*awsclients.Clients, error) {
	o := g.AWS
	o.Region = cfg.Region
	if g.Profile != "" {
		o.Profile = g.Profile
	}
	if g.EndpointURL != "" {
		o.EndpointURL = g.EndpointURL
	}
	if o.Version == "" {
		o.Version = g.Version
	}
	if o.Getenv == nil {
		o.Getenv = g.getenv
	}
	if g.Verbose && o.SDKLog == nil {
		o.SDKLog = g.IO.Err
	}
	c, err := awsclients.New(ctx, o)
	if err != nil {
		if errors.Is(err, awsclients.ErrNoRegion) {
			return nil, &ExitError{Code: ExitFailure, Err: err}
		}
		return nil, err
	}
	if err := c.CheckCredentials(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

func (g *Globals) clock() *provision.Clock {
	scale := g.ClockScale
	if scale == 0 {
		scale = 1
	}
	if g.ClockSeed != 0 {
		return provision.NewSeededClock(scale, g.Stop, g.ClockSeed)
	}
	return provision.NewClock(scale, g.Stop)
}

// sink is the progress renderer's sink, teed to Observe when set.
func (g *Globals) sink(p *ui.Progress) provision.Sink {
	s := p.Sink()
	if g.Observe == nil {
		return s
	}
	return func(ev provision.Event) {
		s(ev)
		g.Observe(ev)
	}
}

// openState opens the stack's state with the run lock.
func (g *Globals) openState(cfg *config.Config, readOnly bool) (*state.Store, error) {
	st, err := state.Open(g.StatePath(cfg), cfg.Stack, state.Options{ToolVersion: g.Version, ReadOnly: readOnly})
	if err != nil {
		return nil, err
	}
	if h := st.StaleLock(); h != nil && !readOnly {
		fmt.Fprintf(g.IO.Err, "note: took over a stale lock left by pid %d (no longer running)\n", h.PID)
	}
	return st, nil
}

// interrupted reports whether the user pressed Ctrl-C.
func (g *Globals) interrupted() bool {
	if g.Stop == nil {
		return false
	}
	select {
	case <-g.Stop:
		return true
	default:
		return false
	}
}

// run is one mutating command's context: validated config, locked state
// bound to the account, clients, progress renderer and engine.
type run struct {
	cfg      *config.Config
	st       *state.Store
	clients  *awsclients.Clients
	progress *ui.Progress
	env      *provision.Env
	eng      *provision.Engine
}

// startRun does what up and destroy do first, in this order: validate the
// configuration (no AWS call on bad input), resolve the credentials, take
// the state lock, identify the account, and refuse a state of another
// account or region.
// The caller closes run.st.
func (g *Globals) startRun(ctx context.Context) (*run, error) {
	cfg, err := g.LoadConfig()
	if err != nil {
		return nil, err
	}
	// Credentials first: nothing is written to disk (not even the state
	// directory) for a run that cannot start. Then the lock, before any AWS
	// call: a second run against a locked state makes none.
	clients, err := g.credentials(ctx, cfg)
	if err != nil {
		return nil, err
	}
	st, err := g.openState(cfg, false)
	if err != nil {
		return nil, err
	}
	if err := clients.Identify(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	if err := st.Bind(clients.Account, clients.Region); err != nil {
		_ = st.Close()
		return nil, err
	}
	r := &run{cfg: cfg, st: st, clients: clients, progress: ui.NewProgress(g.IO, g.Verbose)}
	r.env = provision.NewEnv(clients, cfg, st, g.clock(), g.sink(r.progress))
	r.eng = &provision.Engine{Graph: provision.Build(cfg), Env: r.env, Stop: g.Stop, Concurrency: g.Concurrency}
	return r, nil
}

// Validate checks the configuration alone: exit 0, or 2 naming every problem.
// It opens no state and makes no AWS call.
func Validate(_ context.Context, g *Globals) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	if g.JSON() {
		return ui.JSON(g.IO.Out, map[string]any{"schema": "wbo-deploy.validate/v1", "valid": true, "stack": cfg.Stack, "region": cfg.Region})
	}
	src := g.ConfigFile
	if src == "" {
		src = "defaults and environment"
	}
	fmt.Fprintf(g.IO.Out, "Configuration valid (%s): stack %s", src, cfg.Stack)
	if cfg.Region != "" {
		fmt.Fprintf(g.IO.Out, " in %s", cfg.Region)
	}
	fmt.Fprintln(g.IO.Out, ".")
	return nil
}
