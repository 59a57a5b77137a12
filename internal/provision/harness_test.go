package provision

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/iampolicy"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// rig is one test deployment: a simulated account, a config, a state path.
type rig struct {
	t     *testing.T
	cloud *awssim.Cloud
	cfg   *config.Config
	path  string
	scale float64
}

func newRig(t *testing.T, cfg *config.Config) *rig {
	t.Helper()
	if cfg == nil {
		c := config.Default()
		cfg = &c
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return &rig{t: t, cloud: awssim.New(awssim.Options{Region: cfg.Region}), cfg: cfg,
		path: filepath.Join(rigDir(t), cfg.Stack+".json"), scale: 1e-4}
}

// rigDir holds a rig's state file, in memory where the system has a tmpfs
// at /dev/shm: the state is written with an fsync of the file and its
// directory after every resource, which on a disk costs the crash sweeps
// more than their computing, and which these tests do not exercise (a
// simulated crash stops the AWS calls; the machine stays up).
// internal/state's own tests cover the writes on disk.
func rigDir(t *testing.T) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "wbo-provision-"); err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// The tool runs as an operator holding exactly the iam-policy output for
// the configuration under test (the simulated account authorizes every
// call); the test's own doings (setting up the world, sabotage, checks) use
// an administrator.
const (
	operatorKey = "AKIDOPERATOR"
	adminKey    = "AKIDADMIN"
)

// clients are the administrator's: the test's own doing.
func (r *rig) clients() *awsclients.Clients { return r.clientsAs(adminKey) }

// operator returns the tool's clients, after giving the operator exactly
// the policy iam-policy writes for r.cfg as it is now.
func (r *rig) operator() *awsclients.Clients {
	r.t.Helper()
	pol := iampolicy.Build(r.cfg, "aws", r.cloud.Account, r.cfg.Region, iampolicy.Options{}).String()
	if err := r.cloud.SetIdentityPolicy(operatorKey, pol); err != nil {
		r.t.Fatal(err)
	}
	return r.clientsAs(operatorKey)
}

func (r *rig) clientsAs(key string) *awsclients.Clients {
	r.t.Helper()
	if err := r.cloud.SetIdentityPolicy(adminKey, awssim.AdministratorAccess); err != nil {
		r.t.Fatal(err)
	}
	c, err := awsclients.New(context.Background(), awsclients.Options{
		Region:      r.cfg.Region,
		Credentials: credentials.NewStaticCredentialsProvider(key, "secret", ""),
		APIOptions:  r.cloud.APIOptions(),
		RetryMode:   "standard",
		MaxAttempts: 20,
		MaxBackoff:  time.Millisecond,
		Getenv:      func(string) string { return "" },
	})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := c.Identify(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	return c
}

// engine opens the state and returns an engine; call done() to close.
func (r *rig) engine(g *Graph) (*Engine, func()) {
	r.t.Helper()
	st, err := state.Open(r.path, r.cfg.Stack, state.Options{ToolVersion: "test"})
	if err != nil {
		r.t.Fatal(err)
	}
	c := r.operator()
	if err := st.Bind(c.Account, c.Region); err != nil {
		r.t.Fatal(err)
	}
	env := NewEnv(c, r.cfg, st, &Clock{Scale: r.scale}, nil)
	return &Engine{Graph: g, Env: env}, func() { _ = st.Close() }
}

func (r *rig) up(g *Graph) *Result {
	e, done := r.engine(g)
	defer done()
	return e.Up(context.Background())
}

func (r *rig) records() []state.Resource {
	st, err := state.Open(r.path, r.cfg.Stack, state.Options{ReadOnly: true})
	if err != nil {
		r.t.Fatal(err)
	}
	defer st.Close()
	return st.All()
}

func (r *rig) destroy(g *Graph) *Result {
	e, done := r.engine(g)
	defer done()
	return e.Destroy(context.Background(), e.Env.store.All())
}

// owned lists the live resources tagged for the stack, as "kind name".
func (r *rig) owned() []string {
	var out []string
	for _, res := range r.cloud.Inventory() {
		if res.Tags[TagStack] == r.cfg.Stack {
			out = append(out, res.Kind+" "+res.Tags[TagResource])
		}
	}
	sort.Strings(out)
	return out
}

func removeFile(path string) error { return os.Remove(path) }
