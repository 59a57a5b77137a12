// Command wbo-deploy stands up, operates and tears down a production WBO
// deployment on AWS. The commands here only parse flags and render; the work
// is done in internal/app.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/wbo-deploy/wbo-deploy/internal/app"
	"github.com/wbo-deploy/wbo-deploy/internal/ui"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int { return runWith(args, nil) }

// runWith runs the command line; setup (tests) may adjust the globals, e.g.
// to point the AWS clients at a simulated cloud.
func runWith(args []string, setup func(*app.Globals)) int {
	// First Ctrl-C: stop starting new work, let in-flight calls finish, save
	// state, exit 130. Second Ctrl-C: cancel in-flight calls too.
	stop := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		n := 0
		for range sigs {
			n++
			if n == 1 {
				fmt.Fprintln(os.Stderr, "\ninterrupted: finishing calls in flight and saving state (Ctrl-C again to abort them)")
				close(stop)
				continue
			}
			cancel()
			return
		}
	}()
	g := &app.Globals{Version: version, Stop: stop}
	if setup != nil {
		setup(g)
	}
	streams := func() *ui.Streams { return ui.System(g.NoColor(), os.Getenv) }
	root := newRootCmd(g, streams)
	root.SetArgs(args)
	return execute(ctx, g, root, streams)
}

// execute runs the command tree and reports its error: tests call it too.
func execute(ctx context.Context, g *app.Globals, root *cobra.Command, streams func() *ui.Streams) int {
	var doc docWatch
	g.BeforeRun = func() { doc.wrap(g) }
	// cobra's own output (help, --version, completion scripts) goes to the
	// same streams; it is never coloured, so flags need not be parsed yet.
	if s := streams(); s != nil {
		root.SetOut(s.Out)
		root.SetErr(s.Err)
	}
	strictCompletion(root)
	err := root.ExecuteContext(ctx)
	if g.IO == nil {
		g.IO = streams() // the command line did not parse: no command ran
	}
	return report(g, err, doc.written)
}

// docWatch notes whether a command wrote anything to stdout, so a failing
// `-o json` command that wrote no document of its own still leaves exactly
// one on stdout: the error's.
type docWatch struct{ written bool }

func (d *docWatch) wrap(g *app.Globals) {
	if g.IO == nil || g.IO.Out == nil {
		return
	}
	g.IO.Out = &watchWriter{w: g.IO.Out, seen: &d.written}
}

type watchWriter struct {
	w    io.Writer
	seen *bool
}

func (w *watchWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		*w.seen = true
	}
	return w.w.Write(p)
}

func report(g *app.Globals, err error, wroteStdout bool) int {
	code := app.ExitCode(err)
	// cobra's own usage errors (unknown command or flag) are usage errors too.
	if err != nil && code == app.ExitFailure && isCobraUsage(err) {
		code = app.ExitUsage
	}
	if err == nil {
		return code
	}
	var ee *app.ExitError
	if errors.As(err, &ee) && ee.Err == nil {
		return code
	}
	var w io.Writer = os.Stderr
	if g.IO != nil && g.IO.Err != nil {
		w = g.IO.Err
	}
	fmt.Fprintln(w, "Error: "+app.Explain(err))
	if hint := hintFor(err); hint != "" {
		fmt.Fprintln(w, hint)
	}
	if g.Verbose {
		fmt.Fprintln(w, "  detail: "+app.Detail(err))
	}
	if g.JSON() && !wroteStdout && g.IO != nil && g.IO.Out != nil {
		_ = ui.JSON(g.IO.Out, app.NewErrorDocument(err, code))
	}
	return code
}

func isCobraUsage(err error) bool {
	m := err.Error()
	return strings.HasPrefix(m, "unknown command") || strings.HasPrefix(m, "unknown flag") ||
		strings.HasPrefix(m, "unknown shorthand flag") || strings.HasPrefix(m, "invalid argument")
}

// hintFor points users of other tools to ours.
func hintFor(err error) string {
	m := err.Error()
	switch {
	case strings.Contains(m, "-auto-approve") || strings.Contains(m, "'a' in -a"):
		return "Hint: wbo-deploy's consent flag is --yes (also -y or --auto-approve, with two dashes)."
	case strings.HasPrefix(m, "unknown command \"apply\"") || strings.HasPrefix(m, "unknown command \"deploy\""):
		return "Hint: `wbo-deploy up` creates or updates the stack (it shows the plan and asks first)."
	case strings.HasPrefix(m, "unknown command \"delete\"") || strings.HasPrefix(m, "unknown command \"down\""):
		return "Hint: `wbo-deploy destroy` deletes the stack."
	case strings.HasPrefix(m, "unknown command \"show\""):
		return "Hint: `wbo-deploy status` shows every resource; `wbo-deploy plan` what up would do."
	}
	return ""
}
