package security

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

func checkLogsAndSNS(t *testing.T, d *deployment, _ variant) {
	ctx := context.Background()

	t.Run("CloudWatch.16", func(t *testing.T) {
		groups, err := d.sdk.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
		mustNoErr(t, "describe log groups", err)
		if len(groups.LogGroups) == 0 {
			t.Fatal("the stack has no log group")
		}
		for _, g := range groups.LogGroups {
			// logs.retention_days, 30 by default; never "never expire".
			if n := aws.ToInt32(g.RetentionInDays); n != 30 {
				t.Fatalf("log group %s retention %d days, want the configured 30", aws.ToString(g.LogGroupName), n)
			}
		}
		exception(t, "CloudWatch.16", "retention is set (30 days by default, logs.retention_days); Security Hub's default parameter "+
			"asks for 365 days, which this NIST-only control lets an account lower; set logs.retention_days: 365 to meet the default")
	})

	topics, err := d.sdk.SNS.ListTopics(ctx, &sns.ListTopicsInput{})
	mustNoErr(t, "list topics", err)
	if len(topics.Topics) != 1 {
		t.Fatalf("the account has %d SNS topics, want the alarm topic", len(topics.Topics))
	}
	attrs, err := d.sdk.SNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: topics.Topics[0].TopicArn})
	mustNoErr(t, "get topic attributes", err)

	t.Run("SNS.1", func(t *testing.T) {
		// NIST 800-53 only, not in FSBP. Encrypting needs a customer
		// managed key: CloudWatch alarms cannot publish to a topic
		// encrypted with the AWS managed alias/aws/sns (SNS Developer
		// Guide, "Enable compatibility between event sources from AWS
		// services and encrypted topics").
		if k := attrs.Attributes["KmsMasterKeyId"]; k != "" {
			t.Fatalf("the alarm topic is encrypted with %s; docs/security.md says it is not", k)
		}
		exception(t, "SNS.1", "the alarm topic is not KMS-encrypted: it carries alarm names and states, no user data, and "+
			"CloudWatch can only publish to an encrypted topic whose customer managed key ($1/month) grants cloudwatch.amazonaws.com")
	})
	t.Run("SNS.4", func(t *testing.T) {
		// wbo-deploy never sets a topic policy, so the topic keeps SNS's
		// default (owner account only). If one is there, nothing in it
		// may be open to everyone without an account condition.
		pol, ok := attrs.Attributes["Policy"]
		if !ok {
			return
		}
		stmts, err := parsePolicy(pol)
		mustNoErr(t, "topic policy", err)
		for _, s := range stmts {
			if s.Effect != "Allow" || !s.public() {
				continue
			}
			owner := false
			for _, cond := range s.Condition {
				for _, key := range []string{"AWS:SourceOwner", "aws:SourceOwner", "aws:SourceAccount", "aws:PrincipalAccount"} {
					owner = owner || (len(cond[key]) == 1 && cond[key][0] == simAccount)
				}
			}
			if !owner {
				t.Fatalf("the topic policy allows everyone without an account condition: %+v", s)
			}
		}
	})
}
