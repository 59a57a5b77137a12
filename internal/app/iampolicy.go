package app

import (
	"context"
	"fmt"

	"github.com/wbo-deploy/wbo-deploy/internal/iampolicy"
)

// IAMPolicyOptions are iam-policy's flags.
type IAMPolicyOptions struct {
	Account    string // scope ARNs to this account ("" = any)
	Partition  string
	LivePrices bool
}

// IAMPolicy prints the least-privilege policy an operator needs to run
// wbo-deploy with this configuration. It makes no AWS call.
func IAMPolicy(_ context.Context, g *Globals, o IAMPolicyOptions) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	if !knownPartitions[o.Partition] {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--partition: %q is not an AWS partition (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc)", o.Partition)}
	}
	if o.Account != "" && !isAccountID(o.Account) {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--account: %q is not a 12-digit AWS account ID", o.Account)}
	}
	doc := iampolicy.Build(cfg, o.Partition, o.Account, cfg.Region, iampolicy.Options{LivePrices: o.LivePrices})
	b, err := doc.JSON()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(g.IO.Out, string(b))
	return err
}

// knownPartitions are the partitions of the AWS SDK's partitions.json.
var knownPartitions = map[string]bool{"aws": true, "aws-cn": true, "aws-us-gov": true, "aws-iso": true,
	"aws-iso-b": true, "aws-iso-e": true, "aws-iso-f": true, "aws-eusc": true}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
