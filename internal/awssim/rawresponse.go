package awssim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Raw responses: the rest of the simulated cloud answers from the Finalize
// step with typed outputs, so the SDK's deserializers never run. An endpoint
// that is not AWS (an emulator, an S3- or ELB-compatible service, a proxy in
// between) answers things no typed output can express: HTML error pages, a
// protocol the SDK does not expect (CloudWatch speaks Smithy RPC v2 CBOR
// since aws-sdk-go-v2 service/cloudwatch v1.53.0; an endpoint still on the
// Query protocol answers XML or a 404), a 200 with a body that does not parse.
//
// AnswerRaw lets one operation (or every operation of a service) continue
// past the simulated dispatch into the SDK's real Deserialize step, where an
// innermost middleware stands in for the HTTP transport and returns the
// canned response. The SDK's own deserializer parses it, the SDK's error
// wrapping and retryer (which sit above, in Finalize) see the result exactly
// as over the wire: a 5xx is retried, the final error is what a user sees.

// RawResponse is an HTTP answer given to the SDK as is.
type RawResponse struct {
	Status int
	Header http.Header // Content-Type and friends; nil is none
	Body   string
}

type rawRule struct {
	service, op string // op "" = every operation of the service
	when        func(input any) bool
	resp        RawResponse
	left        int // answers left; <0 = for good
}

type rawCtxKey struct{}

// AnswerRaw makes calls of op on service (the SDK ServiceID, e.g. "Elastic
// Load Balancing v2"; op "" = every operation of the service) answer r
// through the SDK's real deserializer and retryer. times > 0 answers only the
// next times attempts (each retry is an attempt); times <= 0 answers them all
// until ClearRaw. A later rule for the same service and operation replaces an
// earlier one. Raw answers describe the endpoint, not a transient fault, so
// Revive keeps them.
func (c *Cloud) AnswerRaw(service, op string, r RawResponse, times int) {
	c.addRaw(rawRule{service: service, op: op, resp: r, left: times})
}

// AnswerRawWhen is AnswerRaw for the calls whose input (the operation's
// *XInput) when accepts, for good: an endpoint that fails on one feature of
// a call only (ALB regex path values in CreateRule, say).
func (c *Cloud) AnswerRawWhen(service, op string, when func(input any) bool, r RawResponse) {
	c.addRaw(rawRule{service: service, op: op, when: when, resp: r})
}

func (c *Cloud) addRaw(x rawRule) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if x.left <= 0 {
		x.left = -1
	}
	rules := c.raw[:0]
	for _, o := range c.raw {
		if o.service != x.service || o.op != x.op {
			rules = append(rules, o)
		}
	}
	c.raw = append(rules, x)
}

// UnsupportedService makes every operation of service answer as an endpoint
// that does not implement it: HTTP 404 with an HTML page, what a generic web
// server or an emulator without that service answers an unknown request.
func (c *Cloud) UnsupportedService(service string) {
	c.AnswerRaw(service, "", RawResponse{Status: http.StatusNotFound,
		Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}},
		Body:   "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>\n"}, 0)
}

// ClearRaw removes every raw answer.
func (c *Cloud) ClearRaw() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.raw = nil
}

// rawAnswer returns the raw answer for this attempt, if any, and records the
// call (the operation did not take effect). Not while crashed: a dead
// process gets ErrCrashed from dispatch.
func (c *Cloud) rawAnswer(service, op string, input any) (RawResponse, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.crashed {
		return RawResponse{}, false
	}
	for i := len(c.raw) - 1; i >= 0; i-- {
		x := &c.raw[i]
		if x.service != service || (x.op != "" && x.op != op) || x.left == 0 || (x.when != nil && !x.when(input)) {
			continue
		}
		if x.left > 0 {
			x.left--
		}
		c.calls = append(c.calls, Call{Service: service, Operation: op, Mutating: IsMutating(op), Err: "HTTP " + strconv.Itoa(x.resp.Status)})
		return x.resp, true
	}
	return RawResponse{}, false
}

// rawTransport is the innermost Deserialize middleware: it answers the
// canned response the Finalize step put in the context, in place of the
// HTTP client. Any other request reaching it is a bug of the simulation
// (nothing may leave the process), never a network call.
func rawTransport() middleware.DeserializeMiddleware {
	return middleware.DeserializeMiddlewareFunc("awssim.rawTransport",
		func(ctx context.Context, in middleware.DeserializeInput, _ middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			r, ok := ctx.Value(rawCtxKey{}).(RawResponse)
			if !ok {
				return middleware.DeserializeOutput{}, middleware.Metadata{}, fmt.Errorf("awssim: a request reached the transport without a raw answer")
			}
			req, _ := in.Request.(*smithyhttp.Request)
			h := r.Header.Clone()
			if h == nil {
				h = http.Header{}
			}
			resp := &http.Response{StatusCode: r.Status, Status: fmt.Sprintf("%d %s", r.Status, http.StatusText(r.Status)),
				Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h,
				Body: io.NopCloser(strings.NewReader(r.Body)), ContentLength: int64(len(r.Body))}
			if req != nil {
				resp.Request = req.Request
			}
			return middleware.DeserializeOutput{RawResponse: &smithyhttp.Response{Response: resp}}, middleware.Metadata{}, nil
		})
}
