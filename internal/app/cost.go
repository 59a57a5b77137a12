package app

import (
	"context"
	"fmt"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/cost"
)

// CostOptions are cost's own flags.
type CostOptions struct {
	Compare    bool
	LivePrices bool
}

// costRegion is the region whose prices apply: the configured one, else
// us-east-1 (said in the output).
func costRegion(cfg *config.Config) (string, bool) {
	if cfg.Region != "" {
		return cfg.Region, false
	}
	return "us-east-1", true
}

// Cost prints the monthly estimate of the configured stack, offline.
func Cost(ctx context.Context, g *Globals, o CostOptions) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	table, err := cost.LoadTable()
	if err != nil {
		return err
	}
	c := *cfg
	region, assumed := costRegion(cfg)
	c.Region = region
	if assumed && !g.JSON() {
		fmt.Fprintln(g.IO.Err, "note: no region configured; showing us-east-1 prices (set --region for another)")
	}
	switch {
	case o.LivePrices:
		clients, err := g.Connect(ctx, &c)
		if err != nil {
			return fmt.Errorf("--live-prices needs AWS credentials: %w", err)
		}
		rep, err := cost.LivePrices(ctx, clients.Pricing, region, table)
		if err != nil {
			return err
		}
		if g.JSON() {
			return cost.WriteLiveJSON(g.IO.Out, rep)
		}
		return cost.RenderLiveText(g.IO.Out, rep)
	case o.Compare:
		variants, err := cost.Compare(&c, table)
		if err != nil {
			return err
		}
		if g.JSON() {
			return cost.WriteCompareJSON(g.IO.Out, variants)
		}
		return cost.RenderCompareText(g.IO.Out, variants)
	}
	est, err := cost.Compute(&c, table)
	if err != nil {
		return err
	}
	if g.JSON() {
		return cost.WriteJSON(g.IO.Out, est)
	}
	return cost.RenderText(g.IO.Out, est)
}

// costSummary is the one line plan and up print; "" when it cannot be
// computed (an unknown region says so itself).
func costSummary(cfg *config.Config) string {
	table, err := cost.LoadTable()
	if err != nil {
		return ""
	}
	c := *cfg
	c.Region, _ = costRegion(cfg)
	est, err := cost.Compute(&c, table)
	if err != nil {
		return "Estimated cost: unavailable (" + err.Error() + ")"
	}
	return cost.Summary(est)
}
