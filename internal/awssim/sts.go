package awssim

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

type stsSim struct{ c *Cloud }

func init() { register("STS", func(c *Cloud) any { return &stsSim{c} }) }

func (s *stsSim) GetCallerIdentity(_ context.Context, _ *sts.GetCallerIdentityInput) (*sts.GetCallerIdentityOutput, error) {
	return &sts.GetCallerIdentityOutput{
		Account: aws.String(s.c.Account),
		Arn:     aws.String("arn:aws:iam::" + s.c.Account + ":user/wbo-deploy-test"),
		UserId:  aws.String("AIDASIMULATED"),
	}, nil
}
