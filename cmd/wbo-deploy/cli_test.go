package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/wbo-deploy/wbo-deploy/internal/app"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
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
	creds bool // static simulated credentials (default); false: the default chain
	noSim bool // no simulated cloud: real HTTP (tests point it at loopback only)
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	return &cli{t: t, cloud: awssim.New(awssim.Options{}), dir: t.TempDir(), env: []string{"AWS_REGION=us-east-1"}, creds: true}
}

type result struct {
	out, err string
	code     int
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	g := &app.Globals{Version: "test", Env: c.env, ClockScale: 1e-4,
		AWS: awsclients.Options{
			Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATED", "secret", ""),
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
	root.SetArgs(full)
	wd, _ := os.Getwd()
	if err := os.Chdir(c.dir); err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = os.Chdir(wd) }()
	code := execute(context.Background(), g, root, func() *ui.Streams { return streams })
	return result{out: out.String(), err: errb.String(), code: code}
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
