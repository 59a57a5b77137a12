package app

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
	"github.com/wbo-deploy/wbo-deploy/internal/shard"
	"github.com/wbo-deploy/wbo-deploy/internal/signin"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// TokenOptions are token's flags.
type TokenOptions struct {
	Role  string
	Board string
	TTL   time.Duration
}

// TokenDocument is token's JSON output (schema wbo-deploy.token/v1).
type TokenDocument struct {
	Schema  string    `json:"schema"`
	Stack   string    `json:"stack"`
	Role    string    `json:"role"`
	Board   string    `json:"board,omitempty"`
	Expires time.Time `json:"expires"`
	URL     string    `json:"url"`
	Token   string    `json:"token"`
}

// Token mints a JWT the deployed WBO accepts, signed with the stack's
// AUTH_SECRET_KEY, and prints the sign-in URL.
func Token(ctx context.Context, g *Globals, o TokenOptions) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	if !cfg.SignIn() {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("sign-in is off: add %s to app.secrets (`%s: stack`, then `wbo-deploy secret set %s` and `wbo-deploy up`)", config.AuthSecretKey, config.AuthSecretKey, config.AuthSecretKey)}
	}
	t := signin.Token{Role: o.Role, Board: o.Board, TTL: o.TTL}
	if err := t.Check(); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	base, err := g.baseURL(ctx, cfg)
	if err != nil {
		return err
	}
	clients, err := g.Connect(ctx, cfg)
	if err != nil {
		return err
	}
	env := provision.NewEnv(clients, cfg, nil, g.clock(), nil)
	key, err := provision.ReadSecretValue(ctx, env, config.AuthSecretKey)
	if err != nil {
		return err
	}
	now := time.Now()
	tok, err := signin.Mint([]byte(key), t, now)
	if err != nil {
		return err
	}
	doc := TokenDocument{Schema: "wbo-deploy.token/v1", Stack: cfg.Stack, Role: o.Role, Board: o.Board,
		Expires: now.Add(o.TTL).UTC().Truncate(time.Second), Token: tok, URL: SignInURL(base, o.Board, tok)}
	if g.JSON() {
		return ui.JSON(g.IO.Out, doc)
	}
	fmt.Fprintln(g.IO.Out, doc.URL)
	what := "every board"
	if o.Board != "" {
		what = "board " + o.Board
	}
	fmt.Fprintf(g.IO.Err, "%s on %s until %s. Anyone with this URL has that access: share it like a password.\n", o.Role, what, doc.Expires.Format(time.RFC3339))
	return nil
}

// SignInURL is the page a token opens: the board, or the index page.
func SignInURL(base, board, token string) string {
	q := "?token=" + url.QueryEscape(token)
	if board == "" {
		return base + "/" + q
	}
	return base + "/boards/" + shard.EncodeURIComponent(board) + q
}

// baseURL is the stack's public URL from its state file (up records the
// load balancer's name), or an error saying to run up.
func (g *Globals) baseURL(ctx context.Context, cfg *config.Config) (string, error) {
	st, err := g.readState(ctx, cfg, "token")
	if err != nil {
		return "", err
	}
	if st == nil {
		return "", &ExitError{Code: ExitNotDeployed, Err: fmt.Errorf("stack %s is not deployed (no state): run `wbo-deploy up` first", cfg.Stack)}
	}
	defer st.Close()
	u := stackURL(cfg, st.All())
	if u == "" {
		return "", &ExitError{Code: ExitNotDeployed, Err: fmt.Errorf("stack %s has no load balancer yet: run `wbo-deploy up`", cfg.Stack)}
	}
	return u, nil
}
