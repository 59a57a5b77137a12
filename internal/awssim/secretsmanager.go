package awssim

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smt "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Secrets Manager secrets, as the Secrets Manager API reference describes
// them. Error codes (each action's "Errors"): ResourceNotFoundException,
// ResourceExistsException, InvalidRequestException, InvalidParameterException.
//
// Behaviour simulated:
//   - A secret's ARN is arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6
//     random characters> (User Guide, "Secret ARNs"); SecretId takes the name
//     or the full ARN.
//   - CreateSecret: a name in use answers ResourceExistsException; a name of a
//     secret scheduled for deletion answers InvalidRequestException ("You
//     can't create this secret because a secret with this name is already
//     scheduled for deletion"). Without SecretString the secret has no
//     version. Tags in the call need secretsmanager:TagResource (CreateSecret
//     reference, "Required permissions").
//   - Versions carry staging labels: PutSecretValue makes a new version
//     AWSCURRENT and moves AWSPREVIOUS to the version that was current. The
//     ClientRequestToken is idempotent: the same token with the same value
//     makes no new version, with another value it answers
//     ResourceExistsException (PutSecretValue reference).
//   - GetSecretValue without a version answers AWSCURRENT; a secret without
//     one answers ResourceNotFoundException ("Secrets Manager can't find the
//     specified secret value for staging label: AWSCURRENT"). A secret
//     scheduled for deletion answers InvalidRequestException to
//     GetSecretValue and PutSecretValue, but DescribeSecret shows it with its
//     DeletedDate.
//   - DeleteSecret schedules deletion after RecoveryWindowInDays (7-30,
//     default 30); ForceDeleteWithoutRecovery deletes at once. Deleting a
//     secret that does not exist answers ResourceNotFoundException.
//   - ListSecrets lists secrets not scheduled for deletion (IncludePlannedDeletion
//     false), filtered by name prefix and tag key / value.

type smVersion struct {
	id, value, token string
	stages           []string
	created          time.Time
}

type smSecret struct {
	name, arn, kmsKey, desc string
	tags                    map[string]string
	versions                []*smVersion
	deleteAt                time.Time // zero unless scheduled for deletion
	deletedDate             time.Time
	created                 time.Time
}

type smSim struct {
	c       *Cloud
	secrets map[string]*smSecret // by ARN
}

func init() {
	register("Secrets Manager", func(c *Cloud) any { return &smSim{c: c, secrets: map[string]*smSecret{}} })
}

func (c *Cloud) secretsManager() *smSim { return c.services["Secrets Manager"].(*smSim) }

func (s *smSim) inventory() []Resource {
	s.expire()
	var out []Resource
	for _, arn := range sortedKeys(s.secrets) {
		out = append(out, Resource{"Secrets Manager", "secret", arn, copyTags(s.secrets[arn].tags)})
	}
	return out
}

// expire removes secrets whose recovery window has passed (c.mu held).
func (s *smSim) expire() {
	now := s.c.now()
	for arn, sec := range s.secrets {
		if !sec.deleteAt.IsZero() && now.After(sec.deleteAt) {
			delete(s.secrets, arn)
		}
	}
}

// Secret names: 1-512 of letters, digits and /_+=.@- (CreateSecret, Name).
var smNameRE = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)

func smNotFound() error {
	return apiError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

// lookup finds a secret by name or ARN (c.mu held), including one scheduled
// for deletion.
func (s *smSim) lookup(id string) *smSecret {
	s.expire()
	if sec, ok := s.secrets[id]; ok {
		return sec
	}
	for _, sec := range s.secrets {
		if sec.name == id {
			return sec
		}
	}
	return nil
}

func (s *smSim) current(sec *smSecret) *smVersion {
	for _, v := range sec.versions {
		for _, st := range v.stages {
			if st == "AWSCURRENT" {
				return v
			}
		}
	}
	return nil
}

func (s *smSim) newVersion(sec *smSecret, value, token string) *smVersion {
	if token == "" {
		s.c.seq++
		token = fmt.Sprintf("%08x-0000-4000-8000-%012x", s.c.seq, s.c.seq)
	}
	for _, v := range sec.versions {
		for i := 0; i < len(v.stages); i++ {
			if v.stages[i] == "AWSPREVIOUS" {
				v.stages = append(v.stages[:i], v.stages[i+1:]...)
				i--
			}
		}
	}
	if cur := s.current(sec); cur != nil {
		for i, st := range cur.stages {
			if st == "AWSCURRENT" {
				cur.stages[i] = "AWSPREVIOUS"
			}
		}
	}
	v := &smVersion{id: token, value: value, token: token, stages: []string{"AWSCURRENT"}, created: s.c.now()}
	sec.versions = append(sec.versions, v)
	// Versions without a staging label are deprecated and removed
	// (PutSecretValue reference: "Secrets Manager removes outdated versions
	// when there are more than 100").
	kept := sec.versions[:0]
	for _, x := range sec.versions {
		if len(x.stages) > 0 || len(sec.versions) <= 100 {
			kept = append(kept, x)
		}
	}
	sec.versions = kept
	return v
}

func (s *smSim) CreateSecret(_ context.Context, in *secretsmanager.CreateSecretInput) (*secretsmanager.CreateSecretOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	name := aws.ToString(in.Name)
	if !smNameRE.MatchString(name) {
		return nil, apiError("InvalidParameterException", "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	if in.SecretString != nil && in.SecretBinary != nil {
		return nil, apiError("InvalidParameterException", "You can't specify both a binary secret value and a string secret value in the same secret.")
	}
	if old := s.lookup(name); old != nil {
		if !old.deleteAt.IsZero() {
			return nil, apiError("InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.")
		}
		// The same ClientRequestToken with the same value is the same request.
		if v := s.current(old); v != nil && in.ClientRequestToken != nil && v.token == aws.ToString(in.ClientRequestToken) && v.value == aws.ToString(in.SecretString) {
			return &secretsmanager.CreateSecretOutput{ARN: aws.String(old.arn), Name: aws.String(old.name), VersionId: aws.String(v.id)}, nil
		}
		return nil, apiError("ResourceExistsException", "The operation failed because the secret %s already exists.", name)
	}
	s.c.seq++
	suffix := fmt.Sprintf("%06x", uint64(s.c.seq)*0x9e3779b9)[:6]
	arn := fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", s.c.Region, s.c.Account, name, suffix)
	sec := &smSecret{name: name, arn: arn, kmsKey: aws.ToString(in.KmsKeyId), desc: aws.ToString(in.Description),
		tags: map[string]string{}, created: s.c.now()}
	for _, t := range in.Tags {
		sec.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	s.secrets[arn] = sec
	out := &secretsmanager.CreateSecretOutput{ARN: aws.String(arn), Name: aws.String(name)}
	if in.SecretString != nil {
		v := s.newVersion(sec, aws.ToString(in.SecretString), aws.ToString(in.ClientRequestToken))
		out.VersionId = aws.String(v.id)
	}
	return out, nil
}

func (s *smSim) DescribeSecret(_ context.Context, in *secretsmanager.DescribeSecretInput) (*secretsmanager.DescribeSecretOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	sec := s.lookup(aws.ToString(in.SecretId))
	if sec == nil {
		return nil, smNotFound()
	}
	out := &secretsmanager.DescribeSecretOutput{ARN: aws.String(sec.arn), Name: aws.String(sec.name),
		CreatedDate: aws.Time(sec.created), VersionIdsToStages: map[string][]string{}}
	if sec.desc != "" {
		out.Description = aws.String(sec.desc)
	}
	if sec.kmsKey != "" {
		out.KmsKeyId = aws.String(sec.kmsKey)
	}
	if !sec.deleteAt.IsZero() {
		out.DeletedDate = aws.Time(sec.deletedDate)
	}
	out.VersionIdsToStages, out.Tags = sec.stagesOut(), sec.tagsOut()
	return out, nil
}

func (sec *smSecret) stagesOut() map[string][]string {
	m := map[string][]string{}
	for _, v := range sec.versions {
		m[v.id] = append([]string(nil), v.stages...)
	}
	return m
}

func (sec *smSecret) tagsOut() []smt.Tag {
	var out []smt.Tag
	for _, k := range sortedKeys(sec.tags) {
		out = append(out, smt.Tag{Key: aws.String(k), Value: aws.String(sec.tags[k])})
	}
	return out
}

// usable finds a secret whose value may be read or written: it exists and is
// not scheduled for deletion (c.mu held).
func (s *smSim) usable(id string) (*smSecret, error) {
	sec := s.lookup(id)
	if sec == nil {
		return nil, smNotFound()
	}
	if !sec.deleteAt.IsZero() {
		return nil, apiError("InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.")
	}
	return sec, nil
}

func (s *smSim) PutSecretValue(_ context.Context, in *secretsmanager.PutSecretValueInput) (*secretsmanager.PutSecretValueOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	sec, err := s.usable(aws.ToString(in.SecretId))
	if err != nil {
		return nil, err
	}
	if in.SecretString == nil && in.SecretBinary == nil {
		return nil, apiError("InvalidRequestException", "You must provide either SecretString or SecretBinary.")
	}
	tok := aws.ToString(in.ClientRequestToken)
	for _, v := range sec.versions {
		if tok != "" && v.token == tok {
			if v.value == aws.ToString(in.SecretString) {
				return &secretsmanager.PutSecretValueOutput{ARN: aws.String(sec.arn), Name: aws.String(sec.name), VersionId: aws.String(v.id), VersionStages: append([]string(nil), v.stages...)}, nil
			}
			return nil, apiError("ResourceExistsException", "A version with this ClientRequestToken already exists with a different value.")
		}
	}
	v := s.newVersion(sec, aws.ToString(in.SecretString), tok)
	return &secretsmanager.PutSecretValueOutput{ARN: aws.String(sec.arn), Name: aws.String(sec.name), VersionId: aws.String(v.id), VersionStages: []string{"AWSCURRENT"}}, nil
}

func (s *smSim) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput) (*secretsmanager.GetSecretValueOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	sec, err := s.usable(aws.ToString(in.SecretId))
	if err != nil {
		return nil, err
	}
	stage := aws.ToString(in.VersionStage)
	if stage == "" && in.VersionId == nil {
		stage = "AWSCURRENT"
	}
	for _, v := range sec.versions {
		if in.VersionId != nil && v.id != aws.ToString(in.VersionId) {
			continue
		}
		if stage != "" && !contains(v.stages, stage) {
			continue
		}
		return &secretsmanager.GetSecretValueOutput{ARN: aws.String(sec.arn), Name: aws.String(sec.name), VersionId: aws.String(v.id),
			SecretString: aws.String(v.value), VersionStages: append([]string(nil), v.stages...), CreatedDate: aws.Time(v.created)}, nil
	}
	return nil, apiError("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: %s", stage)
}

func (s *smSim) DeleteSecret(_ context.Context, in *secretsmanager.DeleteSecretInput) (*secretsmanager.DeleteSecretOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	sec := s.lookup(aws.ToString(in.SecretId))
	if sec == nil {
		return nil, smNotFound()
	}
	force := aws.ToBool(in.ForceDeleteWithoutRecovery)
	if force && in.RecoveryWindowInDays != nil {
		return nil, apiError("InvalidParameterException", "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	now := s.c.now()
	if force {
		delete(s.secrets, sec.arn)
		return &secretsmanager.DeleteSecretOutput{ARN: aws.String(sec.arn), Name: aws.String(sec.name), DeletionDate: aws.Time(now)}, nil
	}
	days := int64(30)
	if in.RecoveryWindowInDays != nil {
		days = *in.RecoveryWindowInDays
		if days < 7 || days > 30 {
			return nil, apiError("InvalidParameterException", "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
		}
	}
	if sec.deleteAt.IsZero() {
		sec.deletedDate = now
		sec.deleteAt = s.c.deadline(time.Duration(days) * 24 * time.Hour)
	}
	return &secretsmanager.DeleteSecretOutput{ARN: aws.String(sec.arn), Name: aws.String(sec.name), DeletionDate: aws.Time(sec.deleteAt)}, nil
}

func (s *smSim) ListSecrets(_ context.Context, in *secretsmanager.ListSecretsInput) (*secretsmanager.ListSecretsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.expire()
	out := &secretsmanager.ListSecretsOutput{}
	for _, arn := range sortedKeys(s.secrets) {
		sec := s.secrets[arn]
		if !sec.deleteAt.IsZero() && !aws.ToBool(in.IncludePlannedDeletion) {
			continue
		}
		if !smFiltersMatch(in.Filters, sec) {
			continue
		}
		e := smt.SecretListEntry{ARN: aws.String(sec.arn), Name: aws.String(sec.name), SecretVersionsToStages: sec.stagesOut(), Tags: sec.tagsOut()}
		out.SecretList = append(out.SecretList, e)
	}
	return out, nil
}

// smFiltersMatch: every filter must match; a filter's values are prefixes
// (ListSecrets reference, Filter: "name" and "tag-key"/"tag-value" match by
// prefix, case-sensitive).
func smFiltersMatch(filters []smt.Filter, sec *smSecret) bool {
	for _, f := range filters {
		ok := false
		for _, v := range f.Values {
			switch f.Key {
			case smt.FilterNameStringTypeName:
				ok = ok || strings.HasPrefix(sec.name, v)
			case smt.FilterNameStringTypeTagKey:
				for k := range sec.tags {
					ok = ok || strings.HasPrefix(k, v)
				}
			case smt.FilterNameStringTypeTagValue:
				for _, tv := range sec.tags {
					ok = ok || strings.HasPrefix(tv, v)
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (s *smSim) TagResource(_ context.Context, in *secretsmanager.TagResourceInput) (*secretsmanager.TagResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	sec := s.lookup(aws.ToString(in.SecretId))
	if sec == nil {
		return nil, smNotFound()
	}
	for _, t := range in.Tags {
		sec.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return &secretsmanager.TagResourceOutput{}, nil
}

// secretValue resolves an ECS valueFrom that names a Secrets Manager secret
// (its full ARN) to its AWSCURRENT value, for task start (c.mu held).
func (s *smSim) secretValue(arn string) (string, bool) {
	sec := s.lookup(arn)
	if sec == nil || !sec.deleteAt.IsZero() {
		return "", false
	}
	v := s.current(sec)
	if v == nil {
		return "", false
	}
	return v.value, true
}
