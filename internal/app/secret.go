package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
	"golang.org/x/term"
)

// maxSecretBytes is Secrets Manager's limit on a secret value (SecretString:
// "Length Constraints: Maximum length of 65536").
const maxSecretBytes = 65536

// SecretDocument is `secret set`'s JSON output (schema wbo-deploy.secret/v1):
// where the value went, never the value.
type SecretDocument struct {
	Schema  string `json:"schema"`
	Stack   string `json:"stack"`
	Name    string `json:"name"`
	Secret  string `json:"secret"`
	Version string `json:"version"`
}

// SecretSet stores the value of the stack-owned secret name, read from
// standard input (a prompt without echo on a terminal; never from the
// command line, where it would sit in the shell history and the process
// list). The shards get it at the next up.
func SecretSet(ctx context.Context, g *Globals, name string) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	if _, ok := cfg.App.Secrets[name]; !ok {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s is not in app.secrets: add `%s: stack` under app.secrets in %s first", name, name, g.ConfigFile)}
	}
	if cfg.App.Secrets[name] != config.SecretStack {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("app.secrets.%s names %s: change its value where it lives; wbo-deploy stores only secrets marked \"stack\"", name, cfg.App.Secrets[name])}
	}
	value, err := readSecret(g.IO, name)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	r, err := g.startRun(ctx, "secret set")
	if err != nil {
		return err
	}
	defer r.st.Close()
	version, err := provision.SetSecret(ctx, r.env, name, value)
	if err != nil {
		return err
	}
	doc := SecretDocument{Schema: "wbo-deploy.secret/v1", Stack: cfg.Stack, Name: name, Secret: cfg.SecretName(name), Version: version}
	if g.JSON() {
		return ui.JSON(g.IO.Out, doc)
	}
	fmt.Fprintf(g.IO.Out, "Stored %s in Secrets Manager secret %s (version %s).\nRun `wbo-deploy up` to roll the shards to it.\n", name, doc.Secret, version)
	return nil
}

// readSecret reads one value: on a terminal, a line typed without echo;
// otherwise all of standard input, without its final line break.
func readSecret(s *ui.Streams, name string) (string, error) {
	var data []byte
	if f, ok := s.In.(*os.File); ok && s.InTTY && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(s.Err, "Value of %s (not shown): ", name)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(s.Err)
		if err != nil {
			return "", fmt.Errorf("read the value: %w", err)
		}
		data = b
	} else {
		if s.InTTY {
			return "", errors.New("standard input is a terminal that cannot hide input: pipe the value in instead (wbo-deploy secret set NAME < file)")
		}
		b, err := io.ReadAll(io.LimitReader(bufio.NewReader(s.In), maxSecretBytes+3))
		if err != nil {
			return "", fmt.Errorf("read the value from standard input: %w", err)
		}
		data = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
	}
	switch {
	case len(data) == 0:
		return "", errors.New("the value is empty: give it on standard input (for a new sign-in key: openssl rand -hex 32 | wbo-deploy secret set AUTH_SECRET_KEY)")
	case len(data) > maxSecretBytes:
		return "", fmt.Errorf("the value is longer than %d bytes, Secrets Manager's limit", maxSecretBytes)
	}
	return string(data), nil
}
