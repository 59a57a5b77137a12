package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/wbo-deploy/wbo-deploy/internal/app"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/iampolicy"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// cli runs wbo-deploy commands in-process against a simulated account.
type cli struct {
	t     *testing.T
	cloud *awssim.Cloud
	dir   string
	env   []string
	tty   bool
	stdin string
	// noStateFlag leaves out --state (the state.backend: s3 runs).
	noStateFlag bool
	creds       bool // static simulated credentials (default); false: the default chain
	// http replaces the simulated internet the probe uses (nil: cloud.PublicHTTP()).
	http http.RoundTripper
	// editPolicy, when set, changes the operator's iam-policy output before
	// it is registered (a policy an administrator trimmed).
	editPolicy func(*iampolicy.Document)
	noSim      bool // no simulated cloud: real HTTP (tests point it at loopback only)
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	cloud := awssim.New(awssim.Options{})
	if err := cloud.SetIdentityPolicy(adminKey, awssim.AdministratorAccess); err != nil {
		t.Fatal(err)
	}
	return &cli{t: t, cloud: cloud, dir: t.TempDir(), env: []string{"AWS_REGION=us-east-1"}, creds: true}
}

// wbo-deploy signs its calls with operatorKey; before each command the
// operator is given exactly the iam-policy output for the configuration
// that command will load (same flags, files and environment), and the
// simulated account authorizes every call against it. adminKey is the
// test's own identity, for changes behind the tool's back.
const (
	operatorKey = "AKIDOPERATOR"
	adminKey    = "AKIDADMIN"
)

// asOperator resolves the configuration args select, as the command will,
// and registers its operator policy. A command whose configuration does not
// load fails before any AWS call, so nothing is registered for it.
func (c *cli) asOperator(args []string) {
	c.t.Helper()
	if err := registerOperator(c.cloud, c.env, args, c.editPolicy); err != nil {
		c.t.Fatal(err)
	}
}

// registerOperator gives operatorKey exactly the iam-policy output for the
// configuration args (and env, and the working directory) select, edited by
// edit when not nil.
func registerOperator(cloud *awssim.Cloud, env, args []string, edit func(*iampolicy.Document)) error {
	g := &app.Globals{Version: "test", Env: env}
	root := newRootCmd(g, func() *ui.Streams { return &ui.Streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard} })
	cmd, rest, err := root.Find(args)
	if err != nil || cmd.ParseFlags(rest) != nil || root.PersistentPreRunE(cmd, nil) != nil {
		return nil
	}
	cfg, err := g.LoadConfig()
	if err != nil {
		return nil
	}
	doc := iampolicy.Build(cfg, "aws", cloud.Account, cloud.Region, iampolicy.Options{})
	if edit != nil {
		edit(doc)
	}
	return cloud.SetIdentityPolicy(operatorKey, doc.String())
}

type result struct {
	out, err string
	code     int
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	g := &app.Globals{Version: "test", Env: c.env, ClockScale: 1e-4, HTTP: c.transport(),
		AWS: awsclients.Options{
			Credentials: credentials.NewStaticCredentialsProvider(operatorKey, "secret", ""),
			APIOptions:  c.cloud.APIOptions(), RetryMode: "standard", MaxAttempts: 20, MaxBackoff: time.Millisecond,
		}}
	if !c.creds {
		g.AWS.Credentials = nil
	}
	if c.noSim {
		g.AWS.APIOptions, g.AWS.MaxAttempts = nil, 2
	}
	streams := &ui.Streams{In: strings.NewReader(c.stdin), Out: &out, Err: &errb, InTTY: c.tty, ErrTTY: false}
	root := newRootCmd(g, func() *ui.Streams { return streams })
	full := append([]string{"--state", filepath.Join(c.dir, "state.json")}, args...)
	if c.noStateFlag {
		full = args
	}
	root.SetArgs(full)
	wd, _ := os.Getwd()
	if err := os.Chdir(c.dir); err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = os.Chdir(wd) }()
	c.asOperator(full)
	code := execute(context.Background(), g, root, func() *ui.Streams { return streams })
	return result{out: out.String(), err: errb.String(), code: code}
}

func (c *cli) transport() http.RoundTripper {
	if c.http != nil {
		return c.http
	}
	return c.cloud.PublicHTTP()
}

func (c *cli) mustCode(want int, args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != want {
		c.t.Fatalf("wbo-deploy %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.out, r.err)
	}
	return r
}

func TestPlanWorksOfflineWithoutConfig(t *testing.T) {
	c := newCLI(t)
	c.env = nil // no region, no credentials
	c.env = []string{}
	r := c.mustCode(0, "plan")
	if !strings.Contains(r.out, "vpc") || !strings.Contains(r.out, "to create") {
		t.Fatalf("plan output lacks the stack:\n%s", r.out)
	}
	if n := len(c.cloud.Calls()); n != 0 {
		t.Fatalf("offline plan made %d AWS calls", n)
	}
}
