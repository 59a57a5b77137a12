package app

import (
	"errors"
	"fmt"
	"net"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
)

// ErrorDocument is what a failing command writes to stdout with -o json
// when it wrote no document of its own (schema wbo-deploy.error/v1).
type ErrorDocument struct {
	Schema   string     `json:"schema"`
	ExitCode int        `json:"exit_code"`
	Error    ErrorEntry `json:"error"`
}

// ErrorEntry is one error: a stable code, the sentence a person reads, and
// the resource or AWS call it concerns when known.
type ErrorEntry struct {
	Code      string       `json:"code"`
	Message   string       `json:"message"`
	Resource  string       `json:"resource,omitempty"`
	Operation string       `json:"operation,omitempty"`
	Errors    []ErrorEntry `json:"errors,omitempty"`
}

// NewErrorDocument builds the JSON error document for err.
func NewErrorDocument(err error, code int) ErrorDocument {
	e := entry(err)
	var re *provision.RunError
	if errors.As(err, &re) {
		for _, n := range re.Nodes {
			sub := entry(n.Err)
			sub.Resource = n.Name
			e.Errors = append(e.Errors, sub)
		}
		if len(e.Errors) == 1 {
			e = e.Errors[0]
		}
	}
	return ErrorDocument{Schema: "wbo-deploy.error/v1", ExitCode: code, Error: e}
}

func entry(err error) ErrorEntry {
	e := ErrorEntry{Code: errorCode(err), Message: Explain(err)}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		e.Operation = oe.Service() + "." + oe.Operation()
	}
	return e
}

// errorCode is a stable, machine-readable name for err: the AWS error code
// when AWS answered one, else a class of our own.
func errorCode(err error) string {
	var ee *ExitError
	switch {
	case errors.As(err, &ee) && ee.Code == ExitUsage:
		return "usage"
	case awserr.Code(err) != "":
		return awserr.Code(err)
	case errors.As(err, new(*awsclients.CredentialsError)):
		return "credentials"
	case errors.Is(err, awsclients.ErrNoRegion):
		return "no_region"
	case isUnreachable(err):
		return "endpoint_unreachable"
	case errors.Is(err, provision.ErrInterrupted):
		return "interrupted"
	}
	return "failure"
}

// Explain turns the errors people meet most into one sentence they can act
// on; the SDK's own text is kept for -v (Detail).
func Explain(err error) string {
	var re *provision.RunError
	if errors.As(err, &re) && len(re.Nodes) > 0 {
		var lines []string
		for _, n := range re.Nodes {
			lines = append(lines, fmt.Sprintf("%s (%s): %s", n.Name, n.Kind, explainOne(n.Err)))
		}
		msg := strings.Join(lines, "\n  ")
		if re.Skipped > 0 {
			msg += fmt.Sprintf("\n  (%d dependent resources skipped)", re.Skipped)
		}
		return msg
	}
	return explainOne(err)
}

func explainOne(err error) string {
	var oe *smithy.OperationError
	call := ""
	if errors.As(err, &oe) {
		call = oe.Service() + " " + oe.Operation()
	}
	var prof awsconfig.SharedConfigProfileNotExistError
	switch {
	case errors.As(err, &prof):
		return fmt.Sprintf("AWS profile %q does not exist in the shared config or credentials file (check --profile, AWS_PROFILE, `aws configure list-profiles`)", prof.Profile)
	case isSSOExpired(err):
		return "your AWS SSO session has expired or is not signed in: run `aws sso login` (with --profile if you use one), then run this again"
	case awserr.IsAccessDenied(err) && call != "":
		return fmt.Sprintf("AWS denied %s (%s): %s. `wbo-deploy iam-policy` prints the policy this configuration needs; attach it to your identity",
			call, awserr.Code(err), awserr.Message(err))
	case isThrottleExhausted(err) && call != "":
		return fmt.Sprintf("AWS kept throttling %s after every retry: wait a minute and run again (state is saved, the next run continues)", call)
	case isUnreachable(err):
		host := ""
		var dnsErr *net.DNSError
		var opErr *net.OpError
		if errors.As(err, &dnsErr) {
			host = dnsErr.Name
		} else if errors.As(err, &opErr) && opErr.Addr != nil {
			host = opErr.Addr.String()
		}
		where := "the AWS endpoint"
		if host != "" {
			where += " " + host
		}
		if call != "" {
			where += " (" + call + ")"
		}
		return fmt.Sprintf("cannot reach %s: check the network, a proxy, the region, and --endpoint-url / AWS_ENDPOINT_URL if you use an emulator", where)
	}
	return err.Error()
}

// Detail is the full error text, for -v.
func Detail(err error) string {
	var d interface{ Detail() string }
	if errors.As(err, &d) {
		return d.Detail()
	}
	return err.Error()
}

func isUnreachable(err error) bool {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	return errors.As(err, &dnsErr) || (errors.As(err, &opErr) && opErr.Op == "dial")
}

// isThrottleExhausted: a throttling answer reaching us has outlasted the
// SDK's retries (the retryer retries every throttling code itself).
func isThrottleExhausted(err error) bool { return awserr.IsThrottle(err) }

// isSSOExpired recognises the SSO credential provider's errors for an
// expired or missing token (ssocreds and the SSO OIDC token cache).
func isSSOExpired(err error) bool {
	if !errors.As(err, new(*awsclients.CredentialsError)) {
		return false
	}
	m := strings.ToLower(err.Error())
	var ce *awsclients.CredentialsError
	errors.As(err, &ce)
	if ce.Err != nil {
		m = strings.ToLower(ce.Err.Error())
	}
	return strings.Contains(m, "sso") && (strings.Contains(m, "expired") || strings.Contains(m, "refresh cached sso token") ||
		strings.Contains(m, "invalidgrant") || strings.Contains(m, "read cached sso token"))
}
