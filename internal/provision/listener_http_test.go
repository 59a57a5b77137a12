package provision

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// An endpoint that reports an SslPolicy on an HTTP listener: status must not
// call that drift, and a second up must not modify the listener.
func TestHTTPListenerIgnoresReportedSSLPolicy(t *testing.T) {
	r := newRig(t, lbConfig())
	r.cloud.ReportSSLPolicyOnHTTPListeners("ELBSecurityPolicy-2016-08")
	g := lbGraph(r.cfg)
	lbUp(t, r, g)
	if got := aws.ToString(lbListeners(t, r)[80].SslPolicy); got != "ELBSecurityPolicy-2016-08" {
		t.Fatalf("the quirk is off: HTTP listener reports SslPolicy %q", got)
	}
	r.cloud.ResetCalls()
	lbUp(t, r, g)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("second up made mutating calls: %v", m)
	}
	if s := lbStatus(r, g)["listener-http"]; s.Status == StatusDrifted {
		t.Fatalf("listener-http drifted: %s", s.Reason)
	}
}
