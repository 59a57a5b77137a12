package awssim

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

func TestKMSDescribeKeyByEveryReference(t *testing.T) {
	c, cl := obsClients(t)
	ctx := context.Background()
	keyARN := c.CreateKMSKey("alias/wbo-boards", "alias/second")
	other := c.CreateKMSKey("alias/other")
	if keyARN == other {
		t.Fatalf("two keys share the ARN %s", keyARN)
	}
	m := regexp.MustCompile(`^arn:aws:kms:us-east-1:123456789012:key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`).FindStringSubmatch(keyARN)
	if m == nil {
		t.Fatalf("key ARN %s is not a KMS key ARN with a key ID", keyARN)
	}
	id := m[1]
	for _, ref := range []string{id, keyARN, "alias/wbo-boards", "alias/second", "arn:aws:kms:us-east-1:123456789012:alias/wbo-boards"} {
		out, err := cl.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref)})
		if err != nil {
			t.Fatalf("DescribeKey %s: %v", ref, err)
		}
		if got := aws.ToString(out.KeyMetadata.Arn); got != keyARN || aws.ToString(out.KeyMetadata.KeyId) != id || !out.KeyMetadata.Enabled {
			t.Fatalf("DescribeKey %s: %s %s enabled %v, want %s", ref, got, aws.ToString(out.KeyMetadata.KeyId), out.KeyMetadata.Enabled, keyARN)
		}
	}
	out, err := cl.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/other")})
	if err != nil || aws.ToString(out.KeyMetadata.Arn) != other {
		t.Fatalf("alias/other: %v %v", out, err)
	}
	for _, ref := range []string{"alias/missing", "arn:aws:kms:us-east-1:123456789012:alias/missing",
		"1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		strings.Replace(keyARN, "us-east-1", "eu-west-1", 1)} {
		if _, err := cl.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref)}); errCode(err) != "NotFoundException" {
			t.Fatalf("DescribeKey %s: %v, want NotFoundException", ref, err)
		}
	}
	if _, err := cl.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("arn:aws:s3:::bucket")}); errCode(err) != "InvalidArnException" {
		t.Fatalf("DescribeKey of an S3 ARN: %v, want InvalidArnException", err)
	}
	// Moving an alias: it names the new key from then on.
	moved := c.CreateKMSKey("alias/second")
	out, err = cl.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/second")})
	if err != nil || aws.ToString(out.KeyMetadata.Arn) != moved {
		t.Fatalf("moved alias: %v %v, want %s", out, err, moved)
	}
	if mut := c.MutatingCalls(); len(mut) != 0 {
		t.Fatalf("DescribeKey counted as mutating: %v", mut)
	}
	if inv := c.Inventory(); len(inv) != 3 || inv[0].Kind != "kms.key" {
		t.Fatalf("inventory %v, want the three keys", inv)
	}
}
