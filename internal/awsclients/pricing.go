// The pricing calls wbo-deploy makes. Add a call to PricingAPI here
// when a provisioner starts using it; *pricing.Client satisfies the interface.

package awsclients

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/pricing"
)

// PricingAPI lists the calls wbo-deploy makes on pricing.
type PricingAPI interface {
	GetProducts(ctx context.Context, in *pricing.GetProductsInput, optFns ...func(*pricing.Options)) (*pricing.GetProductsOutput, error)
}

var _ PricingAPI = (*pricing.Client)(nil)
