package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/wbo-deploy/wbo-deploy/internal/logs"
)

// LogsOptions are logs' own flags.
type LogsOptions struct {
	Since  string
	Follow bool
	Filter string
	Task   string
	Shard  int // -1 = all
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
		JSON: g.JSON(), Out: g.IO.Out}
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
