package awssim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	it "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// IAM error codes and limits: IAM API reference, "Common Errors" and each
// operation's Errors section (https://docs.aws.amazon.com/IAM/latest/APIReference/),
// and "IAM and AWS STS quotas" (10 managed policies per role by default,
// 50 tags per role, role names 1-64 of [\w+=,.@-], paths /.../ up to 512).
//
// IAM is global: one namespace of roles per account, whatever the region of
// the client. Policy documents come back URL-encoded (RFC 3986) from GetRole,
// ListRoles, CreateRole and GetRolePolicy, as the API reference says of
// AssumeRolePolicyDocument and PolicyDocument.

type iamRole struct {
	name, path, id, desc string
	trust                string // as given, JSON
	created              time.Time
	trustChanged         time.Time // last UpdateAssumeRolePolicy (propagates like a new role)
	policyChanged        time.Time // last change to its permissions (inline or managed policies)
	tags                 map[string]string
	inline               map[string]string // policy name -> JSON
	attached             []string          // managed policy ARNs, in attach order
}

type iamSim struct {
	c     *Cloud
	roles map[string]*iamRole // by lower-cased name: IAM names are case-insensitive
	// conflicts makes the next n DeleteRole calls of a role answer
	// DeleteConflict (ConflictRoleDeletes).
	conflicts map[string]int
}

func init() {
	register("IAM", func(c *Cloud) any {
		return &iamSim{c: c, roles: map[string]*iamRole{}, conflicts: map[string]int{}}
	})
}

func (c *Cloud) iam() *iamSim { return c.services["IAM"].(*iamSim) }

// awsManagedPolicies are the AWS managed policies the simulation knows, by
// the part of the ARN after "arn:<partition>:iam::aws:policy".
var awsManagedPolicies = map[string]bool{
	"/service-role/AmazonECSTaskExecutionRolePolicy": true,
	"/AmazonS3ReadOnlyAccess":                        true,
	"/CloudWatchLogsFullAccess":                      true,
}

const (
	iamMaxManagedPerRole = 10
	iamMaxTags           = 50
	iamMaxInlineBytes    = 10240 // aggregate inline policy size of a role
)

var (
	iamNameRE       = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	iamPolicyNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	iamPathRE       = regexp.MustCompile(`^/([\x21-\x7E]*/)?$`)
)

func (s *iamSim) arn(r *iamRole) string {
	return "arn:" + partitionOf(s.c.Region) + ":iam::" + s.c.Account + ":role" + r.path + r.name
}

// partitionOf maps a region to its partition (endpoints.json partitions).
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// iamEncode URL-encodes a policy document as IAM returns it (RFC 3986:
// everything but unreserved characters is percent-encoded, spaces as %20).
func iamEncode(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

func (s *iamSim) role(name *string) (*iamRole, error) {
	n := aws.ToString(name)
	r, ok := s.roles[strings.ToLower(n)]
	if !ok {
		return nil, apiError("NoSuchEntity", "The role with name %s cannot be found.", n)
	}
	return r, nil
}

func (s *iamSim) roleOut(r *iamRole, withTags bool) *it.Role {
	out := &it.Role{
		Arn: aws.String(s.arn(r)), RoleName: aws.String(r.name), RoleId: aws.String(r.id), Path: aws.String(r.path),
		CreateDate: aws.Time(r.created), AssumeRolePolicyDocument: aws.String(iamEncode(r.trust)),
		MaxSessionDuration: aws.Int32(3600),
	}
	if r.desc != "" {
		out.Description = aws.String(r.desc)
	}
	if withTags {
		out.Tags = iamTags(r.tags)
	}
	return out
}

func iamTags(m map[string]string) []it.Tag {
	var out []it.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, it.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func iamTagMap(tags []it.Tag) (map[string]string, error) {
	m := map[string]string{}
	for _, t := range tags {
		k, v := aws.ToString(t.Key), aws.ToString(t.Value)
		if k == "" || len(k) > 128 || len(v) > 256 {
			return nil, apiError("InvalidInput", "Tag keys must be 1-128 characters and values at most 256.")
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, apiError("InvalidInput", "User-defined tag keys can't start with aws:.")
		}
		if _, dup := m[k]; dup {
			return nil, apiError("InvalidInput", "Duplicate tag key %s.", k)
		}
		m[k] = v
	}
	return m, nil
}

// ---- policy documents ----

// policyProblem checks the grammar of an IAM policy document ("IAM JSON
// policy element reference"): a JSON object with a Statement (one object or a
// list), each with Effect Allow or Deny and Action or NotAction. Trust
// policies need a Principal; identity policies must not have one. Bucket
// policies (S3) need a Principal and a Resource. It returns "" when the
// document is acceptable.
func policyProblem(doc string, kind string) string {
	var raw map[string]any
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return "Syntax errors in policy."
	}
	if v, ok := raw["Version"]; ok && v != "2012-10-17" && v != "2008-10-17" {
		return "The policy must contain a valid version string"
	}
	var stmts []any
	switch st := raw["Statement"].(type) {
	case []any:
		stmts = st
	case map[string]any:
		stmts = []any{st}
	default:
		return "Policy document must contain a Statement."
	}
	if len(stmts) == 0 {
		return "Policy document must contain at least one Statement."
	}
	for _, x := range stmts {
		st, ok := x.(map[string]any)
		if !ok {
			return "Syntax errors in policy."
		}
		if e := st["Effect"]; e != "Allow" && e != "Deny" {
			return "Invalid effect: " + fmt.Sprint(e)
		}
		_, hasA := st["Action"]
		_, hasNA := st["NotAction"]
		if !hasA && !hasNA {
			return "Policy statement must contain actions."
		}
		_, hasP := st["Principal"]
		_, hasNP := st["NotPrincipal"]
		_, hasR := st["Resource"]
		_, hasNR := st["NotResource"]
		switch kind {
		case "trust":
			if !hasP && !hasNP {
				return "AssumeRolepolicy contained an invalid principal: missing Principal."
			}
		case "identity":
			if hasP || hasNP {
				return "Policy document should not specify a principal."
			}
			if !hasR && !hasNR {
				return "Policy statement must contain resources."
			}
		case "bucket":
			if !hasP && !hasNP {
				return "Missing required field Principal"
			}
			if !hasR && !hasNR {
				return "Missing required field Resource"
			}
		}
	}
	return ""
}

// ---- roles ----

func (s *iamSim) CreateRole(_ context.Context, in *iam.CreateRoleInput) (*iam.CreateRoleOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	name := aws.ToString(in.RoleName)
	if !iamNameRE.MatchString(name) {
		return nil, apiError("ValidationError", "1 validation error detected: Value '%s' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name)
	}
	path := aws.ToString(in.Path)
	if path == "" {
		path = "/"
	}
	if len(path) > 512 || !iamPathRE.MatchString(path) {
		return nil, apiError("ValidationError", "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	if _, dup := s.roles[strings.ToLower(name)]; dup {
		return nil, apiError("EntityAlreadyExists", "Role with name %s already exists.", name)
	}
	trust := aws.ToString(in.AssumeRolePolicyDocument)
	if msg := policyProblem(trust, "trust"); msg != "" {
		return nil, apiError("MalformedPolicyDocument", "%s", msg)
	}
	tags, err := iamTagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	if len(tags) > iamMaxTags {
		return nil, apiError("LimitExceeded", "Cannot exceed quota for TagsPerRole: %d.", iamMaxTags)
	}
	now := s.c.now().UTC()
	s.c.seq++
	r := &iamRole{name: name, path: path, desc: aws.ToString(in.Description), trust: trust, created: now,
		id: fmt.Sprintf("AROA%017X", uint64(s.c.seq)*0x9e3779b97f4a7c15>>4), tags: tags, inline: map[string]string{}}
	s.roles[strings.ToLower(name)] = r
	return &iam.CreateRoleOutput{Role: s.roleOut(r, true)}, nil
}

func (s *iamSim) GetRole(_ context.Context, in *iam.GetRoleInput) (*iam.GetRoleOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	r, err := s.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	return &iam.GetRoleOutput{Role: s.roleOut(r, true)}, nil
}

func (s *iamSim) UpdateAssumeRolePolicy(_ context.Context, in *iam.UpdateAssumeRolePolicyInput) (*iam.UpdateAssumeRolePolicyOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	r, err := s.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	doc := aws.ToString(in.PolicyDocument)
	if msg := policyProblem(doc, "trust"); msg != "" {
		return nil, apiError("MalformedPolicyDocument", "%s", msg)
	}
	r.trust, r.trustChanged = doc, s.c.now()
	return &iam.UpdateAssumeRolePolicyOutput{}, nil
}

func (s *iamSim) DeleteRole(_ context.Context, in *iam.DeleteRoleInput) (*iam.DeleteRoleOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	r, err := s.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	key := strings.ToLower(r.name)
	if s.conflicts[key] > 0 {
		s.conflicts[key]--
		return nil, apiError("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
	}
	if len(r.inline) > 0 {
		return nil, apiError("DeleteConflict", "Cannot delete entity, must delete policies first.")
	}
	if len(r.attached) > 0 {
		return nil, apiError("DeleteConflict", "Cannot delete entity, must detach all policies first.")
	}
	delete(s.roles, key)
	return &iam.DeleteRoleOutput{}, nil
}

// iamPage cuts a page for the IAM Marker/MaxItems pagination (MaxItems
// 1-1000, default 100).
func iamPage[T any](items []T, max *int32, marker *string) ([]T, bool, *string, error) {
	if max != nil && (*max < 1 || *max > 1000) {
		return nil, false, nil, apiError("ValidationError", "1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", *max)
	}
	m := int32(100)
	if max != nil {
		m = *max
	}
	page, next := paginate(items, &m, marker)
	return page, next != nil, next, nil
}

func (s *iamSim) ListRoles(_ context.Context, in *iam.ListRolesInput) (*iam.ListRolesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	prefix := aws.ToString(in.PathPrefix)
	if prefix == "" {
		prefix = "/"
	}
	var list []it.Role
	for _, k := range sortedKeys(s.roles) {
		r := s.roles[k]
		if strings.HasPrefix(r.path, prefix) {
			// ListRoles does not return tags (API reference: "Tags" is
			// only in GetRole; use ListRoleTags).
			list = append(list, *s.roleOut(r, false))
		}
	}
	page, trunc, next, err := iamPage(list, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iam.ListRolesOutput{Roles: page, IsTruncated: trunc, Marker: next}, nil
}

func (s *iamSim) ListRoleTags(_ context.Context, in *iam.ListRoleTagsInput) (*iam.ListRoleTagsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	r, err := s.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	page, trunc, next, err := iamPage(iamTags(r.tags), in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iam.ListRoleTagsOutput{Tags: page, IsTruncated: trunc, Marker: next}, nil
}

func (s *iamSim) TagRole(_ context.Context, in *iam.TagRoleInput) (*iam.TagRoleOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	r, err := s.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	add, err := iamTagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	merged := copyTags(r.tags)
	for k, v := range add {
		merged[k] = v
	}
	if len(merged) > iamMaxTags {
		return nil, apiError("LimitExceeded", "Cannot exceed quota for TagsPerRole: %d.", iamMaxTags)
	}
	r.tags = merged
	return &iam.TagRoleOutput{}, nil
}

func (s *iamSim) UntagRole(_ context.Context, in *iam.UntagRoleInput) (*iam.UntagRoleOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	r, err := s.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(r.tags, k)
	}
	return &iam.UntagRoleOutput{}, nil
}

// ---- inline policies ----

func (s *iamSim) PutRolePolicy(_ context.Context, in *iam.PutRolePolicyInput) (*iam.PutRolePolicyOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	r, err := s.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.PolicyName)
	if !iamPolicyNameRE.MatchString(name) {
		return nil, apiError("ValidationError", "1 validation error detected: Value '%s' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name)
	}
	doc := aws.ToString(in.PolicyDocument)
	if msg := policyProblem(doc, "identity"); msg != "" {
		return nil, apiError("MalformedPolicyDocument", "%s", msg)
	}
	size := len(doc)
	for n, d := range r.inline {
		if n != name {
			size += len(d)
		}
	}
	if size > iamMaxInlineBytes {
		return nil, apiError("LimitExceeded", "Maximum policy size of %d bytes exceeded for role %s", iamMaxInlineBytes, r.name)
	}
	r.inline[name] = doc
	r.policyChanged = s.c.now()
	return &iam.PutRolePolicyOutput{}, nil
}

func (s *iamSim) GetRolePolicy(_ context.Context, in *iam.GetRolePolicyInput) (*iam.GetRolePolicyOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	r, err := s.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	doc, ok := r.inline[aws.ToString(in.PolicyName)]
	if !ok {
		return nil, apiError("NoSuchEntity", "The role policy with name %s cannot be found.", aws.ToString(in.PolicyName))
	}
	return &iam.GetRolePolicyOutput{RoleName: aws.String(r.name), PolicyName: in.PolicyName, PolicyDocument: aws.String(iamEncode(doc))}, nil
}

func (s *iamSim) DeleteRolePolicy(_ context.Context, in *iam.DeleteRolePolicyInput) (*iam.DeleteRolePolicyOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	r, err := s.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.PolicyName)
	if _, ok := r.inline[name]; !ok {
		return nil, apiError("NoSuchEntity", "The role policy with name %s cannot be found.", name)
	}
	delete(r.inline, name)
	r.policyChanged = s.c.now()
	return &iam.DeleteRolePolicyOutput{}, nil
}

func (s *iamSim) ListRolePolicies(_ context.Context, in *iam.ListRolePoliciesInput) (*iam.ListRolePoliciesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	r, err := s.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	page, trunc, next, err := iamPage(sortedKeys(r.inline), in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iam.ListRolePoliciesOutput{PolicyNames: page, IsTruncated: trunc, Marker: next}, nil
}

// ---- managed policies ----

// managedPolicy checks that arn names an AWS managed policy of this
// partition the simulation knows.
func (s *iamSim) managedPolicy(arn string) error {
	prefix := "arn:" + partitionOf(s.c.Region) + ":iam::aws:policy"
	if !strings.HasPrefix(arn, "arn:") || strings.Count(arn, ":") < 5 {
		return apiError("InvalidInput", "ARN %s is not valid.", arn)
	}
	if !strings.HasPrefix(arn, prefix) || !awsManagedPolicies[strings.TrimPrefix(arn, prefix)] {
		return apiError("NoSuchEntity", "Policy %s does not exist or is not attachable.", arn)
	}
	return nil
}

func (s *iamSim) AttachRolePolicy(_ context.Context, in *iam.AttachRolePolicyInput) (*iam.AttachRolePolicyOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	r, err := s.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	arn := aws.ToString(in.PolicyArn)
	if err := s.managedPolicy(arn); err != nil {
		return nil, err
	}
	if contains(r.attached, arn) {
		return &iam.AttachRolePolicyOutput{}, nil // attaching twice is a no-op
	}
	if len(r.attached) >= iamMaxManagedPerRole {
		return nil, apiError("LimitExceeded", "Cannot exceed quota for PoliciesPerRole: %d.", iamMaxManagedPerRole)
	}
	r.attached = append(r.attached, arn)
	r.policyChanged = s.c.now()
	return &iam.AttachRolePolicyOutput{}, nil
}

func (s *iamSim) DetachRolePolicy(_ context.Context, in *iam.DetachRolePolicyInput) (*iam.DetachRolePolicyOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	r, err := s.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	arn := aws.ToString(in.PolicyArn)
	for i, a := range r.attached {
		if a == arn {
			r.attached = append(r.attached[:i], r.attached[i+1:]...)
			r.policyChanged = s.c.now()
			return &iam.DetachRolePolicyOutput{}, nil
		}
	}
	return nil, apiError("NoSuchEntity", "Policy %s was not found.", arn)
}

func (s *iamSim) ListAttachedRolePolicies(_ context.Context, in *iam.ListAttachedRolePoliciesInput) (*iam.ListAttachedRolePoliciesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	r, err := s.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	var list []it.AttachedPolicy
	for _, a := range r.attached {
		name := a[strings.LastIndex(a, "/")+1:]
		list = append(list, it.AttachedPolicy{PolicyArn: aws.String(a), PolicyName: aws.String(name)})
	}
	page, trunc, next, err := iamPage(list, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iam.ListAttachedRolePoliciesOutput{AttachedPolicies: page, IsTruncated: trunc, Marker: next}, nil
}

func (s *iamSim) inventory() []Resource {
	var out []Resource
	for _, k := range sortedKeys(s.roles) {
		r := s.roles[k]
		out = append(out, Resource{"IAM", "role", r.name, copyTags(r.tags)})
	}
	return out
}

// ---- hooks for tests and other simulated services ----

// roleUsable reports whether another service (the simulated ECS) can assume
// the role with this ARN yet: the role exists, its trust policy allows
// ecs-tasks.amazonaws.com to call sts:AssumeRole, and Timing.IAMPropagation
// (scaled) has passed since it was created or its trust policy last changed.
// IAM is eventually consistent ("Changes that I make are not always
// immediately visible", IAM User Guide, Troubleshooting): until then ECS
// answers as AWS does for a role it cannot assume yet, for example
// CreateService InvalidParameterException "Unable to assume role and validate
// the specified targetGroupArn. Please verify that the ECS service role being
// passed has the proper permissions." or a task stopped with "ECS was unable
// to assume the role '...' that was provided for this task."
// (awserr.IsRoleNotPropagated recognises both). Called with c.mu held.
func (c *Cloud) roleUsable(arn string) bool { return c.roleUsableAt(arn, c.now()) }

// roleUsableAt is roleUsable at time at (a task starting in the past of a
// lazily computed schedule).
func (c *Cloud) roleUsableAt(arn string, at time.Time) bool {
	s, ok := c.services["IAM"].(*iamSim)
	if !ok {
		return true
	}
	r := s.roleByARN(arn)
	if r == nil {
		return false
	}
	since := r.created
	if r.trustChanged.After(since) {
		since = r.trustChanged
	}
	if at.Before(since.Add(c.wall(c.Timing.IAMPropagation))) {
		return false
	}
	return trustsService(r.trust, "ecs-tasks.amazonaws.com")
}

// rolePermissionsSettled reports whether the last change to the role's
// policies (PutRolePolicy, AttachRolePolicy, their removals) has reached
// other services by time at: the same IAM propagation delay applies to
// permissions as to new roles ("Changes that I make are not always
// immediately visible", IAM User Guide). A Fargate task whose execution role
// got its logs permissions a moment ago stops with "ResourceInitializationError:
// failed to validate logger args: ... AccessDeniedException", as reported in
// aws/containers-roadmap and re:Post threads. Called with c.mu held.
func (c *Cloud) rolePermissionsSettled(arn string, at time.Time) bool {
	s, ok := c.services["IAM"].(*iamSim)
	if !ok {
		return true
	}
	r := s.roleByARN(arn)
	return r == nil || r.policyChanged.IsZero() || !at.Before(r.policyChanged.Add(c.wall(c.Timing.IAMPropagation)))
}

func (s *iamSim) roleByARN(arn string) *iamRole {
	for _, x := range s.roles {
		if s.arn(x) == arn {
			return x
		}
	}
	return nil
}

// trustsService reports whether a trust policy has an Allow statement for
// sts:AssumeRole by the given service principal (conditions are not
// evaluated: the simulated ECS always calls from this account).
func trustsService(doc, service string) bool {
	var raw struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &raw) != nil {
		return false
	}
	var stmts []map[string]any
	if json.Unmarshal(raw.Statement, &stmts) != nil {
		var one map[string]any
		if json.Unmarshal(raw.Statement, &one) != nil {
			return false
		}
		stmts = []map[string]any{one}
	}
	for _, st := range stmts {
		if st["Effect"] != "Allow" || !anyString(st["Action"], "sts:AssumeRole") {
			continue
		}
		if p, ok := st["Principal"].(map[string]any); ok && anyString(p["Service"], service) {
			return true
		}
	}
	return false
}

// anyString reports whether v (a string or a list of strings) holds want.
func anyString(v any, want string) bool {
	switch x := v.(type) {
	case string:
		return x == want
	case []any:
		for _, e := range x {
			if e == want {
				return true
			}
		}
	}
	return false
}

// ConflictRoleDeletes makes the next n DeleteRole calls for the role answer
// DeleteConflict, as IAM does while the role is still in an instance profile
// that someone else is about to remove.
func (c *Cloud) ConflictRoleDeletes(role string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.iam().conflicts[strings.ToLower(role)] = n
}
