package awserr

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"
)

// EndpointError is an answer the SDK could not read as AWS's: the status
// line came back, but the body is not an AWS error document (or, for a 2xx,
// not the operation's response). AWS itself always answers in the service's
// protocol (errors included: "Error responses", S3 API reference; "Common
// error types" of each Query/JSON service); an HTML page, a body in another
// protocol (CloudWatch speaks Smithy RPC v2 CBOR in current SDKs, which an
// endpoint still on the Query protocol cannot read) or a truncated body come
// from something else: an emulator, an S3- or ELB-compatible service, a proxy.
// It carries no AWS error code, so every other predicate here is false.
type EndpointError struct {
	Service   string // SDK service ID ("Elastic Load Balancing v2")
	Operation string // "CreateRule"
	Status    int    // HTTP status of the answer
	Body      string // the start of the body, when it was captured
	Err       error  // what the SDK said
}

func (e *EndpointError) Error() string {
	what := "an error body that is not an AWS error document"
	if e.Status < 300 {
		what = "a body that is not an AWS response"
	}
	s := fmt.Sprintf("HTTP %d with %s", e.Status, what)
	if e.Body != "" {
		s += fmt.Sprintf(" (%q)", e.Body)
	}
	return s + fmt.Sprintf(": this endpoint may not support %s %s", e.Service, e.Operation)
}

func (e *EndpointError) Unwrap() error { return e.Err }

// Detail is the SDK's own error, for -v.
func (e *EndpointError) Detail() string { return fmt.Sprint(e.Err) }

// IsEndpointError reports whether err is an answer that is not AWS's
// (EndpointError): the endpoint may not support the call.
func IsEndpointError(err error) bool {
	var ee *EndpointError
	return errors.As(err, &ee)
}

// NotAWSAnswer reports whether err is the SDK failing to read a response
// body (smithy.DeserializationError) of an answer with an HTTP status, and
// that status. Network errors (no status) and AWS error documents (an API
// error with a code) are not.
func NotAWSAnswer(err error) (status int, ok bool) {
	var de *smithy.DeserializationError
	if !errors.As(err, &de) {
		return 0, false
	}
	var hs interface{ HTTPStatusCode() int }
	if !errors.As(err, &hs) {
		return 0, false
	}
	return hs.HTTPStatusCode(), true
}

// FromEndpoint turns err into an *EndpointError naming the call when it is
// an answer that is not AWS's (NotAWSAnswer); other errors are returned as
// they are. body is the start of the response body, "" if unknown.
func FromEndpoint(service, operation, body string, err error) error {
	status, ok := NotAWSAnswer(err)
	if !ok || IsEndpointError(err) {
		return err
	}
	return &EndpointError{Service: service, Operation: operation, Status: status, Body: snippet(body), Err: err}
}

// RetryNotAWSAnswer says whether an answer that is not AWS's is worth
// retrying: only gateway statuses (502, 503, 504) are, which a proxy in
// front of an endpoint gives while it is briefly unreachable. AWS answers
// its own 500s with an error document, so an HTML 500 is an endpoint
// failing on a call it does not support, and retrying it 8 times only
// delays the error.
func RetryNotAWSAnswer(status int) bool {
	return status == 502 || status == 503 || status == 504
}

// snippet is the start of a body on one line, at most 120 characters.
func snippet(body string) string {
	s := strings.Join(strings.Fields(body), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
