package provision

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
)

// kmsIsAlias reports whether storage.kms_key_id names an alias (alias/NAME
// or an alias ARN) rather than a key.
func kmsIsAlias(k string) bool {
	if strings.HasPrefix(k, "arn:") {
		parts := strings.SplitN(k, ":", 6)
		return len(parts) == 6 && strings.HasPrefix(parts[5], "alias/")
	}
	return strings.HasPrefix(k, "alias/")
}

// resolveKMSAlias returns the ARN of the key that storage.kms_key_id names
// when it is an alias, and "" when it is a key ID or key ARN (or unset). An
// alias cannot stand for its key in a policy ("These features do not allow
// you to identify a KMS key by using an alias in the resource element of a
// policy statement", KMS Developer Guide, "Use aliases to control access to
// KMS keys"), and a key/* Resource narrowed by a kms:ResourceAliases
// condition fails FSBP KMS.2, which does not evaluate conditions. DescribeKey
// takes the alias name or alias ARN as KeyId and returns the key's ARN (KMS
// API reference, DescribeKey). One read call; plan offline never gets here
// (it calls no Find).
func resolveKMSAlias(ctx context.Context, env *Env) (string, error) {
	k := env.Cfg.Storage.KMSKeyID
	if !kmsIsAlias(k) {
		return "", nil
	}
	if env.AWS == nil || env.AWS.KMS == nil {
		return "", fmt.Errorf("storage.kms_key_id %s: resolving the alias to its key needs AWS access", k)
	}
	out, err := env.AWS.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(k)})
	if awserr.IsNotFound(err) {
		return "", fmt.Errorf("storage.kms_key_id %s: no such KMS alias in account %s, region %s (create the alias or give the key ARN): %w",
			k, env.Account(), env.Region(), err)
	}
	if err != nil {
		return "", fmt.Errorf("storage.kms_key_id %s: describe key: %w", k, err)
	}
	if out.KeyMetadata == nil || aws.ToString(out.KeyMetadata.Arn) == "" {
		return "", fmt.Errorf("storage.kms_key_id %s: DescribeKey returned no key ARN", k)
	}
	return aws.ToString(out.KeyMetadata.Arn), nil
}
