package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/app"
	"github.com/wbo-deploy/wbo-deploy/internal/signin"
)

// scanForSecrets fails when one of values appears in any output or in any
// file of the test's directory (state, config, backups).
func scanForSecrets(t *testing.T, c *cli, outputs []result, values ...string) {
	t.Helper()
	for _, r := range outputs {
		for _, v := range values {
			if strings.Contains(r.out, v) || strings.Contains(r.err, v) {
				t.Fatalf("a secret value appears in command output")
			}
		}
	}
	err := filepath.Walk(c.dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, v := range values {
			if strings.Contains(string(data), v) {
				t.Fatalf("a secret value is in %s", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Sign-in through the CLI: the key is stored from standard input, up
// deploys with it, status says sign-in is on, token mints a JWT WBO accepts
// for the board it names, a new key rolls the shards; the key is in no
// output and no file.
func TestSignInCycleThroughTheCLI(t *testing.T) {
	const key1, key2 = "0f2b9c1d8e7a6b5c4d3e2f1a0b9c8d7e", "ffeeddccbbaa99887766554433221100"
	c := newCLI(t)
	c.env = append(c.env, "WBO_DEPLOY_REDIS_MODE=none")
	cfg := filepath.Join(c.dir, "signin.yaml")
	if err := os.WriteFile(cfg, []byte("app:\n  secrets:\n    AUTH_SECRET_KEY: stack\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var outs []result
	// token before anything is deployed: exit 4, naming up.
	outs = append(outs, c.mustCode(4, "--config", cfg, "token"))
	// The value is never an argument.
	outs = append(outs, c.mustCode(2, "--config", cfg, "secret", "set", "AUTH_SECRET_KEY", key1))
	c.stdin = ""
	outs = append(outs, c.mustCode(2, "--config", cfg, "secret", "set", "AUTH_SECRET_KEY"))
	c.stdin = key1 + "\n"
	r := c.mustCode(0, "--config", cfg, "secret", "set", "AUTH_SECRET_KEY")
	outs = append(outs, r)
	if !strings.Contains(r.out, "wbo-deploy/wbo/AUTH_SECRET_KEY") || !strings.Contains(r.out, "wbo-deploy up") {
		t.Fatalf("secret set output:\n%s", r.out)
	}
	c.stdin = ""
	outs = append(outs, c.mustCode(0, "--config", cfg, "up", "--yes"))
	doc, code := c.statusWith(cfg)
	if code != 0 {
		t.Fatalf("status exit %d", code)
	}
	found := false
	for _, n := range doc.Notes {
		found = found || strings.Contains(n, "sign-in is on")
	}
	if !found {
		t.Fatalf("status does not say sign-in is on: %v", doc.Notes)
	}
	outs = append(outs, c.mustCode(0, "--config", cfg, "status"), c.mustCode(0, "--config", cfg, "plan", "-o", "json"))

	// A reader of one board: WBO grants reader there and nothing on other boards.
	r = c.mustCode(0, "--config", cfg, "token", "--role", "reader", "--board", "maths", "--ttl", "2h")
	outs = append(outs, r)
	u, err := url.Parse(strings.TrimSpace(r.out))
	if err != nil || u.Path != "/boards/maths" || !strings.HasPrefix(u.Scheme, "http") {
		t.Fatalf("sign-in URL %q: %v", r.out, err)
	}
	claims, err := signin.Verify([]byte(key1), u.Query().Get("token"), time.Now())
	if err != nil {
		t.Fatalf("WBO would refuse the token: %v", err)
	}
	if signin.RoleInBoard(claims.Roles, "maths") != signin.Reader || signin.RoleInBoard(claims.Roles, "physics") != signin.Forbidden {
		t.Fatalf("roles %v", claims.Roles)
	}
	if d := time.Unix(claims.EXP, 0).Sub(time.Unix(claims.IAT, 0)); d != 2*time.Hour {
		t.Fatalf("ttl %s", d)
	}
	c.mustCode(2, "--config", cfg, "token", "--role", "reader") // reader of every board is an editor in WBO
	r = c.mustCode(0, "--config", cfg, "token", "--role", "moderator", "-o", "json")
	var td struct{ URL, Token string }
	if err := json.Unmarshal([]byte(r.out), &td); err != nil || !strings.Contains(td.URL, "/?token=") {
		t.Fatalf("token -o json: %v %s", err, r.out)
	}

	// A new key: the shards roll, and the old tokens stop working.
	c.stdin = key2
	outs = append(outs, c.mustCode(0, "--config", cfg, "secret", "set", "AUTH_SECRET_KEY"))
	c.stdin = ""
	c.cloud.ResetCalls()
	outs = append(outs, c.mustCode(0, "--config", cfg, "up", "--yes"))
	rolled := 0
	for _, m := range c.cloud.MutatingCalls() {
		if m == "ECS.UpdateService" {
			rolled++
		}
	}
	if rolled != 2 {
		t.Fatalf("a new key rolled %d shards, want 2: %v", rolled, c.cloud.MutatingCalls())
	}
	r = c.mustCode(0, "--config", cfg, "token", "--role", "editor")
	if _, err := signin.Verify([]byte(key2), mustQuery(t, r.out), time.Now()); err != nil {
		t.Fatalf("token after rotation: %v", err)
	}
	outs = append(outs, c.mustCode(0, "--config", cfg, "destroy", "--yes", "--delete-data", "-o", "json"))
	scanForSecrets(t, c, outs, key1, key2)
	for _, res := range c.cloud.Inventory() {
		if res.Service == "Secrets Manager" {
			t.Fatalf("destroy left %v", res)
		}
	}
}

func mustQuery(t *testing.T, s string) string {
	t.Helper()
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

func (c *cli) statusWith(cfg string) (app.StatusDocument, int) {
	c.t.Helper()
	r := c.run("--config", cfg, "status", "-o", "json")
	var doc app.StatusDocument
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		c.t.Fatalf("status -o json: %v\n%s\nstderr:\n%s", err, r.out, r.err)
	}
	return doc, r.code
}

// status probes every shard through the load balancer's URL: a shard whose
// task does not answer fails the probe (exit 3, naming the shard), and
// --no-probe leaves the probe out. The simulated internet (PublicHTTP)
// routes by the listener rules to the targets ECS registered.
func TestStatusProbesEveryShard(t *testing.T) {
	c := newCLI(t)
	c.env = append(c.env, "WBO_DEPLOY_REDIS_MODE=none", "WBO_DEPLOY_APP_SHARDS=3")
	r := c.mustCode(0, "up", "--yes")
	if !strings.Contains(r.out, "Probe of http://") || strings.Count(r.out, "board ") < 3 {
		t.Fatalf("up does not end with the probe:\n%s", r.out)
	}
	doc, code := c.status()
	if code != 0 || doc.Probe == nil || !doc.Probe.OK || len(doc.Probe.Shards) != 3 {
		t.Fatalf("status probe: exit %d %+v", code, doc.Probe)
	}
	if !c.cloud.SetTargetsFailing("wbo-shard-1", true) {
		t.Fatal("no target group wbo-shard-1")
	}
	r = c.mustCode(3, "status")
	if !strings.Contains(r.err, "shard 1 (board") || !strings.Contains(r.err, "HTTP 503") {
		t.Fatalf("failing shard not named:\n%s", r.err)
	}
	lines := 0
	for _, l := range strings.Split(r.out, "\n") {
		if strings.Contains(l, " shard ") && strings.Contains(l, " board ") {
			lines++
		}
	}
	if lines != 3 {
		t.Fatalf("want one probe line per shard, got %d:\n%s", lines, r.out)
	}
	doc, code = c.status()
	if code != 3 || doc.Probe.OK || doc.Probe.Shards[1].OK || !doc.Probe.Shards[0].OK {
		t.Fatalf("json: exit %d %+v", code, doc.Probe)
	}
	r = c.mustCode(3, "status", "--no-probe") // the target group is still unhealthy
	if strings.Contains(r.out, "Probe of") {
		t.Fatalf("--no-probe probed:\n%s", r.out)
	}
	c.cloud.SetTargetsFailing("wbo-shard-1", false)
	c.mustCode(0, "status", "--wait-healthy", "10m")
}

// With sign-in on, the probe signs in with a short reader token per board;
// a key the tasks do not run with is refused with 403.
func TestProbeSignsIn(t *testing.T) {
	c := newCLI(t)
	c.env = append(c.env, "WBO_DEPLOY_REDIS_MODE=none")
	cfg := filepath.Join(c.dir, "signin.yaml")
	if err := os.WriteFile(cfg, []byte("app:\n  secrets:\n    AUTH_SECRET_KEY: stack\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.stdin = "first-key"
	c.mustCode(0, "--config", cfg, "secret", "set", "AUTH_SECRET_KEY")
	c.stdin = ""
	c.mustCode(0, "--config", cfg, "up", "--yes")
	c.mustCode(0, "--config", cfg, "status")
	// A new key not yet rolled out: tokens signed with it are refused.
	c.stdin = "second-key"
	c.mustCode(0, "--config", cfg, "secret", "set", "AUTH_SECRET_KEY")
	r := c.mustCode(3, "--config", cfg, "status")
	if !strings.Contains(r.err, "403") {
		t.Fatalf("stale key not reported:\n%s", r.err)
	}
	c.stdin = ""
	c.mustCode(0, "--config", cfg, "up", "--yes")
	c.mustCode(0, "--config", cfg, "status")
}

// flaky fails the first n requests as an unresolved name does, then
// delegates: a new load balancer's DNS name is not resolvable at once.
type flaky struct {
	n    int
	next http.RoundTripper
}

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.n > 0 {
		f.n--
		return nil, &net.DNSError{Err: "no such host", Name: r.URL.Hostname(), IsNotFound: true}
	}
	return f.next.RoundTrip(r)
}

// The end of up waits (bounded) for the whiteboard to answer, and exits 3
// with the reason when it never does.
func TestUpWaitsForTheWhiteboard(t *testing.T) {
	c := newCLI(t)
	c.env = append(c.env, "WBO_DEPLOY_REDIS_MODE=none", "WBO_DEPLOY_APP_SHARDS=1")
	c.http = &flaky{n: 2, next: c.cloud.PublicHTTP()}
	r := c.mustCode(0, "up", "--yes")
	if !strings.Contains(r.err, "waiting for the whiteboard to answer") || !strings.Contains(r.err, "no such host") {
		t.Fatalf("no wait for the whiteboard:\n%s", r.err)
	}
	c.http = &flaky{n: 1 << 30}
	c.cloud.ResetCalls()
	r = c.mustCode(3, "up", "--yes")
	if !strings.Contains(r.err, "the whiteboard does not answer as it should") || len(c.cloud.MutatingCalls()) != 0 {
		t.Fatalf("up with an unreachable whiteboard:\n%s", r.err)
	}
	c.mustCode(0, "up", "--yes", "--no-probe")
}
