// The kms calls wbo-deploy makes. Add a call to KMSAPI here
// when a provisioner starts using it; *kms.Client satisfies the interface.

package awsclients

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// KMSAPI lists the calls wbo-deploy makes on kms: it manages no key, it only
// resolves an alias given as storage.kms_key_id to the key it names.
type KMSAPI interface {
	DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
}

var _ KMSAPI = (*kms.Client)(nil)
