package security

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// elb17Policies is the sslPolicies parameter of ELB.17 (not customizable),
// from the Security Hub user guide, "[ELB.17] Application and Network Load
// Balancers with listeners should use recommended security policies"
// (https://docs.aws.amazon.com/securityhub/latest/userguide/elb-controls.html#elb-17).
var elb17Policies = []string{
	"ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
	"ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
	"ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
	"ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
}

func checkELB(t *testing.T, d *deployment, v variant) {
	ctx, c := context.Background(), d.sdk.ELB
	lbs, err := c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	mustNoErr(t, "describe load balancers", err)
	if len(lbs.LoadBalancers) != 1 {
		t.Fatalf("the account has %d load balancers, want 1", len(lbs.LoadBalancers))
	}
	lb := lbs.LoadBalancers[0]
	attrsOut, err := c.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: lb.LoadBalancerArn})
	mustNoErr(t, "describe load balancer attributes", err)
	attrs := map[string]string{}
	for _, a := range attrsOut.Attributes {
		attrs[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	ls, err := c.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn})
	mustNoErr(t, "describe listeners", err)
	byPort := map[int32]lbt.Listener{}
	for _, l := range ls.Listeners {
		byPort[aws.ToInt32(l.Port)] = l
	}

	t.Run("ELB.4", func(t *testing.T) {
		if got := attrs["routing.http.drop_invalid_header_fields.enabled"]; got != "true" {
			t.Fatalf("routing.http.drop_invalid_header_fields.enabled = %q", got)
		}
	})
	t.Run("ELB.12", func(t *testing.T) {
		// wbo-deploy leaves desync mitigation at AWS's default, defensive.
		if got := attrs["routing.http.desync_mitigation_mode"]; got != "defensive" && got != "strictest" {
			t.Fatalf("routing.http.desync_mitigation_mode = %q", got)
		}
	})
	t.Run("ELB.5", func(t *testing.T) {
		buckets := stackBuckets(t, d)
		if attrs["access_logs.s3.enabled"] != "true" || attrs["access_logs.s3.bucket"] != buckets["bucket-logs"].name {
			t.Fatalf("access logs: enabled %q bucket %q, want true and %s", attrs["access_logs.s3.enabled"],
				attrs["access_logs.s3.bucket"], buckets["bucket-logs"].name)
		}
	})
	t.Run("ELB.6", func(t *testing.T) {
		got := attrs["deletion_protection.enabled"]
		if v.deletionProtection {
			if got != "true" {
				t.Fatalf("load_balancer.deletion_protection: true, but deletion_protection.enabled = %q", got)
			}
			return
		}
		if got != "false" {
			t.Fatalf("deletion_protection.enabled = %q by default; docs/security.md says false", got)
		}
		exception(t, "ELB.6", "off by default so that destroy can delete the stack; load_balancer.deletion_protection: true turns it on (variant https)")
	})
	t.Run("ELB.13", func(t *testing.T) {
		zones := map[string]bool{}
		for _, z := range lb.AvailabilityZones {
			zones[aws.ToString(z.ZoneName)] = true
		}
		if len(zones) < 2 {
			t.Fatalf("the load balancer spans %d Availability Zones: %+v", len(zones), lb.AvailabilityZones)
		}
	})

	http, hasHTTP := byPort[80]
	https, hasHTTPS := byPort[443]
	if !hasHTTP || http.Protocol != lbt.ProtocolEnumHttp {
		t.Fatalf("no HTTP listener on port 80: %+v", ls.Listeners)
	}
	if hasHTTPS != (v.certificate != "") || len(ls.Listeners) != map[bool]int{false: 1, true: 2}[hasHTTPS] {
		t.Fatalf("listeners %+v with certificate %q", ls.Listeners, v.certificate)
	}

	t.Run("ELB.1", func(t *testing.T) {
		redirects := len(http.DefaultActions) == 1 && http.DefaultActions[0].Type == lbt.ActionTypeEnumRedirect &&
			aws.ToString(http.DefaultActions[0].RedirectConfig.Protocol) == "HTTPS" &&
			aws.ToString(http.DefaultActions[0].RedirectConfig.Port) == "443" &&
			http.DefaultActions[0].RedirectConfig.StatusCode == lbt.RedirectActionStatusCodeEnumHttp301
		rules, err := c.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: http.ListenerArn})
		mustNoErr(t, "describe rules of the HTTP listener", err)
		for _, r := range rules.Rules {
			for _, a := range r.Actions {
				if a.Type != lbt.ActionTypeEnumRedirect {
					redirects = false // a rule that serves over HTTP
				}
			}
		}
		if v.certificate != "" {
			if !redirects {
				t.Fatalf("with a certificate, the HTTP listener does not only redirect to HTTPS:443: %+v, rules %+v", http.DefaultActions, rules.Rules)
			}
			return
		}
		if redirects {
			t.Fatal("without a certificate the HTTP listener redirects; docs/security.md says it serves the app")
		}
		exception(t, "ELB.1", "no certificate is configured, so there is no HTTPS to redirect to; load_balancer.certificate_arn turns the redirect on (variant https)")
	})
	t.Run("ELB.17/tls13", func(t *testing.T) {
		// What the issue asks whatever ELB.17's list says: a TLS 1.3
		// policy whose minimum is TLS 1.2 (ALB policy names encode both,
		// ELBSecurityPolicy-TLS13-<min major>-<min minor>-...; user guide
		// "Security policies for your Application Load Balancer").
		if !hasHTTPS {
			t.Skip("n/a: no HTTPS listener without a certificate")
		}
		pol := aws.ToString(https.SslPolicy)
		if !strings.HasPrefix(pol, "ELBSecurityPolicy-TLS13-1-2-") && !strings.HasPrefix(pol, "ELBSecurityPolicy-TLS13-1-3-") {
			t.Fatalf("HTTPS listener policy %q is not a TLS 1.3 policy with TLS 1.2 as the minimum", pol)
		}
	})
	t.Run("ELB.17", func(t *testing.T) {
		if !hasHTTPS {
			t.Skip("n/a: no HTTPS listener without a certificate")
		}
		pol := aws.ToString(https.SslPolicy)
		if len(https.Certificates) != 1 || aws.ToString(https.Certificates[0].CertificateArn) != d.certARN {
			t.Fatalf("HTTPS listener certificates %+v, want %s", https.Certificates, d.certARN)
		}
		if !contains(elb17Policies, pol) {
			t.Fatalf("ELB.17: the HTTPS listener uses %s, which is not on the control's list of recommended policies", pol)
		}
	})
	t.Run("ELB.18", func(t *testing.T) {
		// Every ALB keeps an HTTP listener on port 80: with a certificate
		// it only redirects (ELB.1), without one it is the only listener.
		if http.Protocol != lbt.ProtocolEnumHttp {
			t.Fatalf("port 80 listener protocol %s", http.Protocol)
		}
		if hasHTTPS && https.Protocol != lbt.ProtocolEnumHttps {
			t.Fatalf("port 443 listener protocol %s", https.Protocol)
		}
		exception(t, "ELB.18", "the port 80 listener is HTTP: it only redirects to HTTPS when a certificate exists (ELB.1), and is the only way in without one")
	})
}
