package provision

import (
	"net/http"
	"strings"
	"testing"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
)

// A load balancer endpoint answering CreateRule with an HTML 500 (through
// the SDK's real deserializer and retryer): one attempt, and an error that
// names the call, the status, that the endpoint may not support it, and
// what board routing needs.
func TestCreateRuleHTMLErrorIsExplained(t *testing.T) {
	r := newRig(t, shardConfig(2))
	// The endpoint fails on the rules with regex path values only.
	r.cloud.AnswerRawWhen("Elastic Load Balancing v2", "CreateRule", func(in any) bool {
		return usesRegex(in.(*elbv2.CreateRuleInput).Conditions)
	}, awssim.RawResponse{Status: http.StatusInternalServerError,
		Header: http.Header{"Content-Type": {"text/html"}}, Body: "<html><body><h1>500 Internal Server Error</h1></body></html>"})
	err := r.up(computeGraph(r.cfg)).Err()
	if err == nil {
		t.Fatal("up succeeded although CreateRule always fails")
	}
	msg := err.Error()
	for _, want := range []string{"HTTP 500", "not an AWS error document", "may not support Elastic Load Balancing v2 CreateRule",
		"board routing needs path-pattern regex values", "500 Internal Server Error"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "deserialization failed") {
		t.Errorf("the SDK's deserializer message reaches the user:\n%s", msg)
	}
	attempts := 0
	for _, c := range r.cloud.Calls() {
		if c.Operation == "CreateRule" && c.Err == "HTTP 500" {
			attempts++
		}
	}
	if attempts != 1 {
		t.Fatalf("CreateRule answered with an HTML 500 was attempted %d times, want 1 (not retried)", attempts)
	}
}
