package awsclients

import (
	"bytes"
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
)

// Answers that are not AWS's (awserr.EndpointError): every client names the
// call, the HTTP status and the start of the body in one sentence, instead
// of the SDK's "deserialization failed, XML syntax error on line 1", and does
// not retry them unless the status is a gateway's (awserr.RetryNotAWSAnswer).

// bodyStartLen is how much of each response body is kept for the message.
const bodyStartLen = 512

type bodyStartKey struct{}

// bodyStart holds the start of the last attempt's response body.
type bodyStart struct{ buf bytes.Buffer }

func (b *bodyStart) Write(p []byte) (int, error) {
	if room := bodyStartLen - b.buf.Len(); room > 0 {
		if len(p) > room {
			b.buf.Write(p[:room])
		} else {
			b.buf.Write(p)
		}
	}
	return len(p), nil
}

type teeBody struct {
	io.Reader
	io.Closer
}

// endpointErrors installs the two middlewares: in Initialize (outside the
// retryer, so it sees the final error) the conversion to EndpointError; in
// Deserialize, right above the transport, the capture of the body's start.
func endpointErrors(st *middleware.Stack) error {
	if err := st.Initialize.Add(middleware.InitializeMiddlewareFunc("wbo.endpointErrors",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			b := &bodyStart{}
			out, md, err := next.HandleInitialize(context.WithValue(ctx, bodyStartKey{}, b), in)
			if err != nil {
				err = awserr.FromEndpoint(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), b.buf.String(), err)
			}
			return out, md, err
		}), middleware.After); err != nil {
		return err
	}
	return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("wbo.bodyStart",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleDeserialize(ctx, in)
			b, _ := ctx.Value(bodyStartKey{}).(*bodyStart)
			if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && b != nil && resp.Body != nil {
				b.buf.Reset() // a new attempt
				resp.Body = teeBody{Reader: io.TeeReader(resp.Body, b), Closer: resp.Body}
			}
			return out, md, err
		}), middleware.After)
}

// notAWSAnswerRetryable is the retryer's rule for answers that are not AWS's.
var notAWSAnswerRetryable = retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
	if status, ok := awserr.NotAWSAnswer(err); ok && !awserr.RetryNotAWSAnswer(status) {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
})
