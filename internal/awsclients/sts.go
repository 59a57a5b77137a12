// The sts calls wbo-deploy makes. Add a call to STSAPI here
// when a provisioner starts using it; *sts.Client satisfies the interface.

package awsclients

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// STSAPI lists the calls wbo-deploy makes on sts.
type STSAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

var _ STSAPI = (*sts.Client)(nil)
