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
	root := newRootCmd(g, func() *ui.Streams { return ui.System(g.NoColor(), os.Getenv) })
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return report(g, err)
}

func report(g *app.Globals, err error) int {
	code := app.ExitCode(err)
	// cobra's own usage errors (unknown command) are usage errors too.
	if err != nil && code == app.ExitFailure && strings.HasPrefix(err.Error(), "unknown command") {
		code = app.ExitUsage
	}
	if err != nil {
		var ee *app.ExitError
		if !(errors.As(err, &ee) && ee.Err == nil) {
			var w io.Writer = os.Stderr
			if g.IO != nil && g.IO.Err != nil {
				w = g.IO.Err
			}
			fmt.Fprintln(w, "Error: "+err.Error())
			var d interface{ Detail() string }
			if g.Verbose && errors.As(err, &d) {
				fmt.Fprintln(w, "  detail: "+d.Detail())
			}
		}
	}
	return code
}
