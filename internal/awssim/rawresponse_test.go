package awssim

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
)

func attempts(c *Cloud, op string) int {
	n := 0
	for _, k := range c.Calls() {
		if k.Operation == op {
			n++
		}
	}
	return n
}

// A raw answer goes through the SDK's real deserializer and retryer: an AWS
// error document becomes the typed error with its code, a gateway error
// page is retried, an HTML 500 is not, and the answer stops after times.
func TestRawAnswersGoThroughTheSDK(t *testing.T) {
	c := New(Options{})
	cl := simClientsIn(t, c, "us-east-1") // 3 attempts per call
	ctx := context.Background()
	describe := func() error {
		_, err := cl.ELB.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
		return err
	}

	c.AnswerRaw("Elastic Load Balancing v2", "DescribeLoadBalancers", RawResponse{Status: 400, Header: http.Header{"Content-Type": {"text/xml"}},
		Body: `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>LoadBalancerNotFound</Code><Message>One or more load balancers not found</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`}, 1)
	if err := describe(); apiCodeOf(err) != "LoadBalancerNotFound" || awserr.IsEndpointError(err) {
		t.Fatalf("an AWS error document through the real deserializer: %v", err)
	}
	if err := describe(); err != nil {
		t.Fatalf("times=1: the second call must reach the simulation again: %v", err)
	}

	c.ResetCalls()
	c.AnswerRaw("Elastic Load Balancing v2", "DescribeLoadBalancers", RawResponse{Status: 503, Header: http.Header{"Content-Type": {"text/html"}},
		Body: "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"}, 0)
	err := describe()
	if !awserr.IsEndpointError(err) || !strings.Contains(err.Error(), "HTTP 503") || !strings.Contains(err.Error(), "503 Service Temporarily Unavailable") {
		t.Fatalf("HTML 503: %v", err)
	}
	if n := attempts(c, "DescribeLoadBalancers"); n != 3 {
		t.Fatalf("a gateway's 503 page was attempted %d times, want 3 (retried)", n)
	}

	c.ResetCalls()
	c.AnswerRaw("Elastic Load Balancing v2", "DescribeLoadBalancers", RawResponse{Status: 500, Body: "<html>oops</html>"}, 0)
	if err := describe(); !awserr.IsEndpointError(err) || awserr.Code(err) != "" {
		t.Fatalf("HTML 500: %v", err)
	}
	if n := attempts(c, "DescribeLoadBalancers"); n != 1 {
		t.Fatalf("an HTML 500 was attempted %d times, want 1", n)
	}
	c.ClearRaw()
	if err := describe(); err != nil {
		t.Fatalf("after ClearRaw: %v", err)
	}

	// A service the endpoint does not speak (CloudWatch's RPC v2 CBOR).
	c.UnsupportedService("CloudWatch")
	_, err = cl.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{MaxRecords: aws.Int32(10)})
	if !awserr.IsEndpointError(err) || !strings.Contains(err.Error(), "may not support CloudWatch DescribeAlarms") || !strings.Contains(err.Error(), "HTTP 404") {
		t.Fatalf("unsupported CloudWatch: %v", err)
	}
	for _, k := range c.Calls() {
		if k.Service == "CloudWatch" && k.Performed {
			t.Fatalf("a raw answer must not perform the call: %+v", k)
		}
	}
}
