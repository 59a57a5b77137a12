package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/probe"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
	"github.com/wbo-deploy/wbo-deploy/internal/signin"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// probeTTL is how long the probe's own sign-in tokens live.
const probeTTL = 10 * time.Minute

// runProbe checks the whiteboard through its public URL (status and the end
// of up). It returns nil when there is nothing to probe, with the reason as
// a note: no URL yet, --no-probe, or an emulator endpoint (its load
// balancer names are not on the internet).
func (g *Globals) runProbe(ctx context.Context, cfg *config.Config, env *provision.Env, url string) (*probe.Report, string) {
	switch {
	case url == "":
		return nil, ""
	case g.EndpointURL != "" && g.HTTP == nil:
		return nil, "the whiteboard was not probed: --endpoint-url points at an emulator, whose load balancer names are not on the internet"
	}
	n := cfg.App.Shards
	if cfg.App.Mode != config.ModeSharded {
		n = 1
	}
	targets, err := probe.Targets(n)
	if err != nil {
		return &probe.Report{URL: url, Shards: []probe.ShardResult{{Reason: err.Error()}}}, ""
	}
	o := probe.Options{URL: url, Targets: targets, Transport: g.HTTP}
	note := ""
	if d := cfg.DomainName(); d != "" && url == "https://"+d {
		// The user's own name: the certificate must be valid for it and
		// HTTP must redirect to HTTPS there.
		o.Domain, o.HTTPURL = d, "http://"+d
	} else if cfg.HTTPS() && strings.HasPrefix(url, "https://") {
		// The certificate is for the user's own name, which the probe does
		// not know: it reaches the load balancer by its AWS name, so the
		// certificate cannot match and is not checked.
		o.SkipVerify = true
		note = "the probe reached the load balancer by its AWS name, so the certificate of load_balancer.certificate_arn (made for your domain) was not checked"
	}
	if cfg.SignIn() {
		var key string
		var keyErr error
		read := false
		o.Token = func(board string) (string, error) {
			if !read {
				key, keyErr = provision.ReadSecretValue(ctx, env, config.AuthSecretKey)
				read = true
			}
			if keyErr != nil {
				return "", keyErr
			}
			return signin.Mint([]byte(key), signin.Token{Role: signin.Reader, Board: board, TTL: probeTTL}, time.Now())
		}
	}
	rep := probe.Run(ctx, o)
	return &rep, note
}

// upProbeWait bounds how long the end of up waits for the whiteboard to
// answer: a new load balancer's DNS name can take a few minutes to resolve
// everywhere, and a first task to pass its health checks.
const upProbeWait = 5 * time.Minute

// probeAfterUp probes until the whiteboard answers or upProbeWait (AWS
// time, env.Clock) has passed, and returns the last report.
func (g *Globals) probeAfterUp(ctx context.Context, cfg *config.Config, env *provision.Env, url string) *probe.Report {
	deadline := time.Now().Add(env.Clock.Wall(upProbeWait))
	for {
		rep, _ := g.runProbe(ctx, cfg, env, url)
		if rep == nil || rep.OK || time.Now().After(deadline) || g.interrupted() {
			return rep
		}
		fmt.Fprintf(g.IO.Err, "waiting for the whiteboard to answer: %s\n", strings.Join(rep.Failures(), "; "))
		if env.Clock.Sleep(ctx, 15*time.Second) != nil {
			return rep
		}
	}
}

// probeError is the error of a failing probe: exit 3, with the reasons.
func probeError(rep *probe.Report) error {
	if rep == nil || rep.OK {
		return nil
	}
	return &ExitError{Code: ExitDegraded, Err: errors.New("the whiteboard does not answer as it should: " + strings.Join(rep.Failures(), "; "))}
}

// renderProbe prints one line per check.
func renderProbe(s *ui.Streams, w io.Writer, rep *probe.Report) {
	if rep == nil {
		return
	}
	fmt.Fprintf(w, "\nProbe of %s:\n", rep.URL)
	mark := func(ok bool) string {
		if ok {
			return s.Good("ok  ")
		}
		return s.Bad("FAIL")
	}
	if c := rep.Certificate; c != nil {
		fmt.Fprintf(w, "  %s certificate    %s\n", mark(c.OK), c.Detail)
	}
	if c := rep.Redirect; c != nil {
		fmt.Fprintf(w, "  %s http redirect  %s\n", mark(c.OK), c.Detail)
	}
	for _, sh := range rep.Shards {
		detail := sh.Reason
		if sh.OK {
			detail = sh.Page.Detail + "; " + sh.Session.Detail
		}
		fmt.Fprintf(w, "  %s shard %-2d board %s: %s\n", mark(sh.OK), sh.Shard, sh.Board, detail)
	}
}
