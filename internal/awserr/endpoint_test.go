package awserr

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func responseError(status int, err error) error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}
}

func TestFromEndpoint(t *testing.T) {
	undecodable := responseError(500, &smithy.DeserializationError{Err: errors.New("XML syntax error on line 1")})
	err := FromEndpoint("Elastic Load Balancing v2", "CreateRule", "<html>\n  <body>Internal   Server Error</body></html>", undecodable)
	if !IsEndpointError(err) || Code(err) != "" {
		t.Fatalf("an undecodable 500 is not an EndpointError: %v", err)
	}
	for _, want := range []string{"HTTP 500", "not an AWS error document", `"<html> <body>Internal Server Error</body></html>"`, "may not support Elastic Load Balancing v2 CreateRule"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if !errors.Is(err, undecodable) {
		t.Fatal("the SDK's error is not wrapped")
	}
	if err := FromEndpoint("S3", "ListBuckets", "", responseError(200, &smithy.DeserializationError{Err: errors.New("EOF")})); !strings.Contains(err.Error(), "HTTP 200 with a body that is not an AWS response") {
		t.Fatalf("2xx: %v", err)
	}
	// An AWS error document and a network error are left alone.
	api := responseError(400, &smithy.GenericAPIError{Code: "ValidationError", Message: "bad"})
	if err := FromEndpoint("x", "y", "", api); err != api || IsEndpointError(err) {
		t.Fatalf("an AWS error became %v", err)
	}
	net := &smithy.DeserializationError{Err: errors.New("connection reset")}
	if err := FromEndpoint("x", "y", "", net); err != error(net) {
		t.Fatalf("an error without a status became %v", err)
	}
	if RetryNotAWSAnswer(500) || !RetryNotAWSAnswer(503) {
		t.Fatal("only gateway statuses are retried")
	}
}
