package awssim

// Authorization: every simulated call is evaluated against the caller's
// identity policies before it acts, as AWS does ("Policy evaluation logic",
// IAM User Guide). The caller is identified as AWS identifies it: by the
// access key ID in the Credential= part of the SigV4 Authorization header of
// the signed request ("Authenticating Requests (AWS Signature Version 4)").
//
// Identities:
//   - An account in which no identity was registered (SetIdentityPolicy) is
//     used with its root user's credentials: every key is the root user,
//     whom identity policies do not restrict ("AWS account root user", IAM
//     User Guide). This keeps unit tests of single services simple; every
//     whole-stack test registers the operator and runs as it.
//   - Once an identity is registered, an access key that is not registered
//     is unknown to AWS and every call with it fails authentication with the
//     service's code (InvalidClientTokenId, AuthFailure, InvalidAccessKeyId,
//     UnrecognizedClientException), before any authorization.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// AdministratorAccess is the AWS managed policy of that name: every action
// on every resource. Use it for the identity that sets up the world "as
// someone else" in tests.
const AdministratorAccess = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// identity is an IAM user with one access key.
type identity struct {
	key      string
	arn      string
	policies []*Policy
}

// SetIdentityPolicy registers (or replaces) the IAM user whose access key is
// accessKeyID with exactly these identity policies (none: a user that may do
// nothing). Its ARN is arn:aws:iam::ACCOUNT:user/<accessKeyID>. A malformed
// document is an error, as IAM answers MalformedPolicyDocument.
func (c *Cloud) SetIdentityPolicy(accessKeyID string, policyDocs ...string) error {
	var ps []*Policy
	for i, d := range policyDocs {
		p, err := ParsePolicy(d)
		if err != nil {
			return fmt.Errorf("policy %d of %s: %w", i+1, accessKeyID, err)
		}
		ps = append(ps, p)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.identities == nil {
		c.identities = map[string]*identity{}
	}
	c.identities[accessKeyID] = &identity{key: accessKeyID, arn: "arn:" + partitionOf(c.Region) + ":iam::" + c.Account + ":user/" + accessKeyID, policies: ps}
	return nil
}

// IdentityARN returns the ARN of the identity of accessKeyID ("" if none).
func (c *Cloud) IdentityARN(accessKeyID string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id := c.identities[accessKeyID]; id != nil {
		return id.arn
	}
	return ""
}

// Authorize evaluates one request as the identity of accessKeyID would be
// evaluated (for tests and for simulated proxies that authorize on a
// caller's behalf). An unknown key is an implicit deny.
func (c *Cloud) Authorize(accessKeyID string, r AuthzRequest) Decision {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.identities) == 0 {
		return Allowed // the root user
	}
	id := c.identities[accessKeyID]
	if id == nil {
		return ImplicitDeny
	}
	return Evaluate(id.policies, c.withGlobalKeys(id, r))
}

// HasServiceLinkedRole reports whether AWS created the service-linked role
// of service (e.g. "ecs.amazonaws.com") in the account.
func (c *Cloud) HasServiceLinkedRole(service string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slr[service]
}

// CreateServiceLinkedRoleFor makes the account start with the service-linked
// role of service (an account where the service was used before).
func (c *Cloud) CreateServiceLinkedRoleFor(service string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.slr == nil {
		c.slr = map[string]bool{}
	}
	c.slr[service] = true
}

type callerKey struct{}

// caller is who signed a request.
type caller struct {
	key string
	id  *identity // nil: the root user
}

// accessKeyOf reads the access key ID from a SigV4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, ...".
func accessKeyOf(req any) string {
	r, ok := req.(*smithyhttp.Request)
	if !ok {
		return ""
	}
	h := r.Header.Get("Authorization")
	_, cred, ok := strings.Cut(h, "Credential=")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(cred, "/")
	return key
}

// authenticate resolves the key of a request; an error is the service's
// answer to an unknown key. c.mu held.
func (c *Cloud) authenticate(service, key string) (caller, error) {
	if len(c.identities) == 0 {
		return caller{key: key}, nil
	}
	id := c.identities[key]
	if id == nil {
		code, status := unknownKeyCode(service)
		return caller{}, &authzError{code: code, status: status,
			msg: "The security token included in the request is invalid."}
	}
	return caller{key: key, id: id}, nil
}

// unknownKeyCode is each service's answer to an access key AWS does not
// know: EC2 AuthFailure ("EC2 API reference, Common client errors"), S3
// InvalidAccessKeyId ("The AWS access key ID you provided does not exist in
// our records", S3 Error responses), the Query services InvalidClientTokenId
// (IAM/STS/ELB/CloudWatch/ElastiCache/SNS "Common Errors"), the JSON services
// UnrecognizedClientException (ECS, Logs, Application Auto Scaling, KMS
// "Common Errors").
func unknownKeyCode(service string) (string, int) {
	switch service {
	case "EC2":
		return "AuthFailure", 401
	case "S3":
		return "InvalidAccessKeyId", 403
	case "IAM", "STS", "Elastic Load Balancing v2", "CloudWatch", "ElastiCache", "SNS", "Route 53":
		return "InvalidClientTokenId", 403
	}
	return "UnrecognizedClientException", 400
}

// authzError is an authentication or authorization failure, with the HTTP
// status each service answers it with.
type authzError struct {
	code, msg string
	status    int
}

func (e *authzError) Error() string                 { return fmt.Sprintf("api error %s: %s", e.code, e.msg) }
func (e *authzError) ErrorCode() string             { return e.code }
func (e *authzError) ErrorMessage() string          { return e.msg }
func (e *authzError) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }
func (e *authzError) HTTPStatusCode() int           { return e.status }

// deniedCode is the error each service answers a denied call with:
//   - EC2 UnauthorizedOperation, 403, with an encoded authorization message
//     (EC2 API reference, "Common client errors");
//   - S3 AccessDenied, 403 (S3 API reference, "Error responses");
//   - IAM, ELBv2, CloudWatch, ElastiCache AccessDenied, 403 (their "Common
//     Errors": "You do not have sufficient access to perform this action");
//   - SNS AuthorizationError, 403 (SNS API reference, each action's Errors);
//   - ECS, CloudWatch Logs, Application Auto Scaling, KMS, STS and the other
//     JSON services AccessDeniedException, 400 ("Common Errors").
func deniedCode(service string) (string, int) {
	switch service {
	case "EC2":
		return "UnauthorizedOperation", 403
	case "S3", "IAM", "Elastic Load Balancing v2", "CloudWatch", "ElastiCache", "Route 53":
		return "AccessDenied", 403
	case "SNS":
		return "AuthorizationError", 403
	}
	return "AccessDeniedException", 400
}

// deniedError words the refusal as AWS does: "User: ARN is not authorized to
// perform: ACTION on resource: RES because no identity-based policy allows
// the ACTION action" (or "with an explicit deny in an identity-based
// policy"); EC2 appends an encoded authorization failure message.
func deniedError(service string, who *identity, chk authzCheck, d Decision) error {
	code, status := deniedCode(service)
	why := "because no identity-based policy allows the " + chk.action + " action"
	if d == ExplicitDeny {
		why = "with an explicit deny in an identity-based policy"
	}
	action := chk.action
	if service == "SNS" { // SNS spells its prefix in capitals in these messages
		action = "SNS:" + strings.TrimPrefix(action, "sns:")
	}
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", who.arn, action, chk.resource, why)
	if service == "EC2" {
		// The real message is encrypted and decoded with
		// sts:DecodeAuthorizationMessage; this one is base64 of the same
		// decoded document's fields.
		doc, _ := json.Marshal(map[string]any{"allowed": false, "explicitDeny": d == ExplicitDeny,
			"context": map[string]any{"principal": map[string]string{"arn": who.arn}, "action": chk.action, "resource": chk.resource, "conditions": chk.ctx}})
		msg = "You are not authorized to perform this operation. " + msg + ". Encoded authorization failure message: " + base64.RawURLEncoding.EncodeToString(doc)
	}
	return &authzError{code: code, msg: msg, status: status}
}

// withGlobalKeys adds the global condition keys AWS puts in every request
// context ("AWS global condition context keys"). c.mu held.
func (c *Cloud) withGlobalKeys(id *identity, r AuthzRequest) AuthzRequest {
	ctx := make(map[string][]string, len(r.Context)+8)
	for k, v := range r.Context {
		ctx[k] = v
	}
	now := c.now().UTC()
	set := func(k, v string) {
		if _, ok := ctx[k]; !ok {
			ctx[k] = []string{v}
		}
	}
	set("aws:PrincipalArn", id.arn)
	set("aws:PrincipalAccount", c.Account)
	set("aws:PrincipalType", "User")
	set("aws:username", strings.TrimPrefix(id.arn[strings.LastIndex(id.arn, ":")+1:], "user/"))
	set("aws:userid", "AIDA"+strings.ToUpper(id.key))
	set("aws:SecureTransport", "true")
	set("aws:CurrentTime", now.Format(time.RFC3339))
	set("aws:EpochTime", fmt.Sprint(now.Unix()))
	set("aws:RequestedRegion", c.Region)
	r.Context = ctx
	r.Principal = id.arn
	return r
}

// authorize checks a call before the service acts: each check the table
// computes for the operation must be allowed. It returns the actions
// authorized (for Calls) and the error of the first refused check.
func (c *Cloud) authorize(ctx context.Context, service, op string, params any) ([]string, error) {
	c.mu.Lock()
	who, _ := ctx.Value(callerKey{}).(caller)
	checks := authzChecks(c, service, op, params)
	c.mu.Unlock()
	var acts []string
	for _, chk := range checks {
		if chk.slr != "" {
			if c.HasServiceLinkedRole(chk.slr) {
				continue
			}
		}
		if who.id != nil && !chk.perItem {
			r := AuthzRequest{Action: chk.action, Resource: chk.resource, Context: chk.ctx}
			c.mu.Lock()
			d := Evaluate(who.id.policies, c.withGlobalKeys(who.id, r))
			c.mu.Unlock()
			if d != Allowed {
				err := deniedError(service, who.id, chk, d)
				if chk.code != "" {
					err.(*authzError).code, err.(*authzError).status = chk.code, 400
				}
				return acts, err
			}
		}
		acts = append(acts, chk.action)
	}
	// Service-linked roles are created once the call is authorized ("the
	// service creates the service-linked role for you" on first use).
	for _, chk := range checks {
		if chk.slr != "" {
			c.CreateServiceLinkedRoleFor(chk.slr)
		}
	}
	sort.Strings(acts)
	return acts, nil
}

// callerAllowed reports whether the caller of ctx may do action on resource
// (services use it where the answer shapes the response, as S3 GetObject's
// 403-or-404). Call it with c.mu held.
func (c *Cloud) callerAllowed(ctx context.Context, action, resource string, kv map[string][]string) bool {
	who, _ := ctx.Value(callerKey{}).(caller)
	if who.id == nil {
		return true
	}
	return Evaluate(who.id.policies, c.withGlobalKeys(who.id, AuthzRequest{Action: action, Resource: resource, Context: kv})) == Allowed
}

// callerARN is the ARN of who signed the request in ctx ("" for the root
// user).
func callerARN(ctx context.Context) string {
	who, _ := ctx.Value(callerKey{}).(caller)
	if who.id == nil {
		return ""
	}
	return who.id.arn
}

// awsCode is the API error code of err ("" if none).
func awsCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
