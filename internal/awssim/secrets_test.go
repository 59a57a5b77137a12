package awssim

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmt "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func TestSecretsManagerVersionsAndDeletion(t *testing.T) {
	_, cl := obsClients(t)
	ctx := context.Background()
	sm := cl.Secrets
	empty, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("wbo-deploy/wbo/KEY")})
	if err != nil || empty.VersionId != nil {
		t.Fatalf("create without a value: %v %v", empty, err)
	}
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: empty.ARN}); errCode(err) != "ResourceNotFoundException" {
		t.Fatalf("no AWSCURRENT yet: %v", err)
	}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("wbo-deploy/wbo/KEY")}); errCode(err) != "ResourceExistsException" {
		t.Fatalf("same name: %v", err)
	}
	v1, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("wbo-deploy/wbo/KEY"), SecretString: aws.String("one")})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: empty.ARN, SecretString: aws.String("two")})
	if err != nil || aws.ToString(v2.VersionId) == aws.ToString(v1.VersionId) {
		t.Fatalf("second version: %v %v", v2, err)
	}
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: empty.ARN})
	if err != nil || !contains(d.VersionIdsToStages[aws.ToString(v2.VersionId)], "AWSCURRENT") || !contains(d.VersionIdsToStages[aws.ToString(v1.VersionId)], "AWSPREVIOUS") {
		t.Fatalf("staging labels: %v %v", d.VersionIdsToStages, err)
	}
	got, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: empty.ARN})
	if err != nil || aws.ToString(got.SecretString) != "two" {
		t.Fatalf("current value: %v", err)
	}
	// Scheduled deletion keeps the name taken and the value unreadable.
	if _, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: empty.ARN, RecoveryWindowInDays: aws.Int64(3)}); errCode(err) != "InvalidParameterException" {
		t.Fatalf("window of 3 days: %v", err)
	}
	if _, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: empty.ARN}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: empty.ARN}); errCode(err) != "InvalidRequestException" {
		t.Fatalf("read while scheduled for deletion: %v", err)
	}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("wbo-deploy/wbo/KEY")}); errCode(err) != "InvalidRequestException" {
		t.Fatalf("re-create while scheduled for deletion: %v", err)
	}
	if d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: empty.ARN}); err != nil || d.DeletedDate == nil {
		t.Fatalf("describe while scheduled: %v %v", d, err)
	}
	if l, _ := sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{}); len(l.SecretList) != 0 {
		t.Fatalf("listed while scheduled for deletion: %v", l.SecretList)
	}
	// Forced deletion frees the name at once.
	other, _ := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("x"), SecretString: aws.String("v")})
	if _, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: other.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("x")}); err != nil {
		t.Fatalf("name after forced deletion: %v", err)
	}
	if _, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("nope")}); errCode(err) != "ResourceNotFoundException" {
		t.Fatalf("delete missing: %v", err)
	}
}

func TestSSMParameters(t *testing.T) {
	_, cl := obsClients(t)
	ctx := context.Background()
	c := cl.SSM.(*ssm.Client)
	put := func(v string, overwrite bool, tags bool) error {
		in := &ssm.PutParameterInput{Name: aws.String("/team/key"), Value: aws.String(v), Type: ssmt.ParameterTypeSecureString, Overwrite: aws.Bool(overwrite)}
		if tags {
			in.Tags = []ssmt.Tag{{Key: aws.String("k"), Value: aws.String("v")}}
		}
		_, err := c.PutParameter(ctx, in)
		return err
	}
	if err := put("a", false, true); err != nil {
		t.Fatal(err)
	}
	if errCode(put("b", false, false)) != "ParameterAlreadyExists" {
		t.Fatal("put without overwrite")
	}
	if errCode(put("b", true, true)) != "ValidationException" {
		t.Fatal("tags with overwrite")
	}
	if err := put("b", true, false); err != nil {
		t.Fatal(err)
	}
	d, err := cl.SSM.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []ssmt.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"/team/key"}}}})
	if err != nil || len(d.Parameters) != 1 || d.Parameters[0].Version != 2 || aws.ToString(d.Parameters[0].KeyId) != "alias/aws/ssm" {
		t.Fatalf("describe: %+v %v", d, err)
	}
	enc, _ := cl.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("arn:aws:ssm:us-east-1:123456789012:parameter/team/key")})
	dec, _ := cl.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/team/key"), WithDecryption: aws.Bool(true)})
	if aws.ToString(enc.Parameter.Value) == "b" || aws.ToString(dec.Parameter.Value) != "b" {
		t.Fatal("SecureString must be encrypted without WithDecryption")
	}
	if _, err := cl.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/nope")}); errCode(err) != "ParameterNotFound" {
		t.Fatalf("missing: %v", err)
	}
}
