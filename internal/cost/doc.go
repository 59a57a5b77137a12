// Package cost estimates what a wbo-deploy stack costs per month, offline,
// from a price table embedded in the binary (prices.json), before anything is
// created. It backs `wbo-deploy cost`, the summary line of `plan` and `up`,
// `cost --compare` and `cost --live-prices`.
//
// API:
//
//	table, err := cost.LoadTable()          // the embedded prices.json, checked
//	est, err := cost.Compute(cfg, table)    // *Estimate: lines, total, assumptions, notes
//	line := cost.Summary(est)               // "Estimated cost: $97.68/month (us-east-1, …)"
//	cost.RenderText(w, est)                 // the table with each line's arithmetic
//	cost.WriteJSON(w, est)                  // schema "wbo-deploy.cost/v1"
//	variants, err := cost.Compare(cfg, table)
//	cost.RenderCompareText(w, variants)     // or WriteCompareJSON: "wbo-deploy.cost-compare/v1"
//	rep, err := cost.LivePrices(ctx, pricingClient, cfg.Region, table)
//	cost.RenderLiveText(w, rep)             // or WriteLiveJSON: "wbo-deploy.cost-live/v1"
//
// Errors callers act on are typed: *UnknownRegionError when the table has no
// prices for the region (the estimate never borrows another region's prices)
// and *MissingPriceError when the region lacks a price the configuration needs
// (an ElastiCache node type the table does not carry). Bad configuration
// values give an error naming the field.
//
// The model: a month is 730 hours and every resource runs all month. Prices are
// on-demand list prices in USD; no free tier is assumed (the estimate lists
// what a new account's free tier may cover). The only account-wide allowances
// applied are the three free CloudWatch dashboards and the first 100 GB of data
// transfer out, each said on its line. Traffic comes from cost.assumptions.*
// in the configuration. docs/cost.md documents the line items, the JSON
// schemas and the figures for the default and the cheapest sensible stack.
//
// Every figure of prices.json carries its value, the date it was recorded, the
// AWS pricing page that publishes it and how it is known (reference,
// corroborated, derived or recalled, with a note). --live-prices asks the AWS
// Price List API (GetProducts, all pages) for each item and reports every
// difference; it never changes the table.
package cost
