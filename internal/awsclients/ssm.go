// The SSM Parameter Store calls wbo-deploy makes: lookups of the SecureString
// parameters app.secrets names by ARN (never their values, except for
// `token`, which signs with AUTH_SECRET_KEY). *ssm.Client satisfies the
// interface.

package awsclients

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// SSMAPI lists the calls wbo-deploy makes on SSM.
type SSMAPI interface {
	DescribeParameters(ctx context.Context, in *ssm.DescribeParametersInput, optFns ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error)
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

var _ SSMAPI = (*ssm.Client)(nil)
