package awssim

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

type stsSim struct{ c *Cloud }

func init() { register("STS", func(c *Cloud) any { return &stsSim{c} }) }

// GetCallerIdentity answers who signed the request: a registered identity's
// ARN, else (an account used with its root credentials) the root user.
func (s *stsSim) GetCallerIdentity(ctx context.Context, _ *sts.GetCallerIdentityInput) (*sts.GetCallerIdentityOutput, error) {
	arn := callerARN(ctx)
	if arn == "" {
		arn = "arn:" + partitionOf(s.c.Region) + ":iam::" + s.c.Account + ":root"
	}
	return &sts.GetCallerIdentityOutput{
		Account: aws.String(s.c.Account),
		Arn:     aws.String(arn),
		UserId:  aws.String("AIDASIMULATED"),
	}, nil
}
