package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/logs"
)

// LogsOptions are logs' own flags.
type LogsOptions struct {
	Since  string
	Follow bool
	Filter string
	Task   string
	Shard  int // -1 = all
	// ShardArg is --shard as typed ("" = all); Logs checks and sets Shard.
	ShardArg string
}

// Logs tails the app's log group. Following ends with exit 0 on Ctrl-C.
func Logs(ctx context.Context, g *Globals, o LogsOptions) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	since, err := logs.ParseSince(o.Since)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--since: %w", err)}
	}
	if o.ShardArg != "" {
		n, err := strconv.Atoi(strings.TrimSpace(o.ShardArg))
		if err != nil || n < 0 {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--shard: %q is not a shard number (0 to %d)", o.ShardArg, len(cfg.ServiceNames())-1)}
		}
		o.Shard = n
	}
	if o.Shard >= 0 && o.Shard >= len(cfg.ServiceNames()) {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--shard: %d is not a shard of this stack (it has %d)", o.Shard, len(cfg.ServiceNames()))}
	}
	clients, err := g.Connect(ctx, cfg)
	if err != nil {
		return err
	}
	// The first Ctrl-C ends following cleanly.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if g.Stop != nil {
		go func() {
			select {
			case <-g.Stop:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	lo := logs.Options{Group: cfg.Names().LogGroup, Since: since, Follow: o.Follow, Filter: o.Filter, TaskID: o.Task,
		JSON: g.JSON(), Out: g.IO.Out,
		Empty: func(from, to time.Time) {
			what := "No log events"
			if o.Filter != "" {
				what += fmt.Sprintf(" matching %q", o.Filter)
			}
			if o.Shard >= 0 {
				what += fmt.Sprintf(" from shard %d", o.Shard)
			}
			if o.Task != "" {
				what += " from task " + o.Task
			}
			fmt.Fprintf(g.IO.Err, "%s in %s between %s and %s (--since %s).\n", what, cfg.Names().LogGroup,
				from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), o.Since)
			if o.Follow {
				fmt.Fprintln(g.IO.Err, "Waiting for new events (Ctrl-C to stop)...")
			}
		}}
	if o.Shard >= 0 {
		s := o.Shard
		lo.Shard = &s
	}
	err = logs.Run(ctx, clients.Logs, lo)
	if o.Follow && (errors.Is(err, context.Canceled) || g.interrupted()) {
		return nil
	}
	return err
}
