package main

import (
	"encoding/json"
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
	outs = append(outs, c.mustCode(0, "--config", cfg, "up"))
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
	outs = append(outs, c.mustCode(0, "--config", cfg, "up"))
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
