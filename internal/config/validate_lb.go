package config

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Load balancer limits (ELBv2 ModifyLoadBalancerAttributes /
// ModifyTargetGroupAttributes and CreateTargetGroup documentation).
const (
	MaxIdleTimeout         = 4000   // idle_timeout.timeout_seconds: 1-4000
	MaxStickinessDuration  = 604800 // stickiness.lb_cookie.duration_seconds: 1 s to 7 days
	MaxDeregistrationDelay = 3600   // deregistration_delay.timeout_seconds: 0-3600
	maxHealthCheckPath     = 1024   // HealthCheckPath: 1-1024 characters
)

var (
	acmARNRE    = regexp.MustCompile(`^arn:aws(-[a-z]+)*:acm:([a-z0-9-]+):([0-9]{12}):certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	sslPolicyRE = regexp.MustCompile(`^ELBSecurityPolicy-TLS13-[A-Za-z0-9-]+$`)
)

func (c *Config) validateLoadBalancer(p *problems) {
	lb := c.LoadBalancer
	intRange(p, "load_balancer.idle_timeout", lb.IdleTimeout, 1, MaxIdleTimeout)
	switch hc := lb.HealthCheckPath; {
	case !strings.HasPrefix(hc, "/"):
		p.add("load_balancer.health_check_path", hc, "%s must start with \"/\"", show(hc))
	case len(hc) > maxHealthCheckPath:
		p.add("load_balancer.health_check_path", hc, "is %d characters long; AWS allows %d", len(hc), maxHealthCheckPath)
	case hasSpaceOrControl(hc):
		p.add("load_balancer.health_check_path", hc, "%s must not contain spaces or control characters (percent-encode them)", show(hc))
	}
	intRange(p, "load_balancer.stickiness_duration", lb.StickinessDuration, 1, MaxStickinessDuration)
	if arn := lb.CertificateARN; arn != "" {
		m := acmARNRE.FindStringSubmatch(arn)
		switch {
		case m == nil:
			p.add("load_balancer.certificate_arn", arn, "%s is not an ACM certificate ARN such as arn:aws:acm:us-east-1:123456789012:certificate/<id>", show(arn))
		case c.Region != "" && m[2] != c.Region:
			p.add("load_balancer.certificate_arn", arn, "the certificate is in region %s but the load balancer is in %s; request or import it in %s", m[2], c.Region, c.Region)
		}
	}
	// A modern policy (issue 9): TLS 1.3 capable, TLS 1.2 at the least. The
	// TLS13-1-0 and TLS13-1-1 policies still accept TLS 1.0 and 1.1.
	switch pol := lb.SSLPolicy; {
	case !sslPolicyRE.MatchString(pol):
		p.add("load_balancer.ssl_policy", pol, "%s is not a TLS 1.3 ELB security policy such as ELBSecurityPolicy-TLS13-1-2-Res-2021-06", show(pol))
	case strings.HasPrefix(pol, "ELBSecurityPolicy-TLS13-1-0-") || strings.HasPrefix(pol, "ELBSecurityPolicy-TLS13-1-1-"):
		p.add("load_balancer.ssl_policy", pol, "%s still accepts TLS 1.0/1.1; use a policy with TLS 1.2 as the minimum, such as ELBSecurityPolicy-TLS13-1-2-Res-2021-06", pol)
	}
	intRange(p, "load_balancer.deregistration_delay", lb.DeregistrationDelay, 0, MaxDeregistrationDelay)
}

// MaxAllowedCIDRs bounds load_balancer.allowed_cidrs: each network is two
// inbound rules (80 and 443) and a security group has at most 60 inbound
// rules by default (Amazon VPC User Guide, "Amazon VPC quotas": inbound or
// outbound rules per security group, 60).
const MaxAllowedCIDRs = 30

func (c *Config) validateAllowedCIDRs(p *problems) {
	list := c.LoadBalancer.AllowedCIDRs
	if len(list) == 0 {
		p.add("load_balancer.allowed_cidrs", "", "must list at least one network; [0.0.0.0/0] lets anyone reach the load balancer")
		return
	}
	if len(list) > MaxAllowedCIDRs {
		p.add("load_balancer.allowed_cidrs", strconv.Itoa(len(list)), "lists %d networks; at most %d fit the security group's 60 inbound rules (two per network)", len(list), MaxAllowedCIDRs)
	}
	seen := map[netip.Prefix]bool{}
	for i, s := range list {
		f := indexField("load_balancer.allowed_cidrs", i)
		pfx, err := netip.ParsePrefix(s)
		switch {
		case err != nil:
			p.add(f, s, "%s is not a network in CIDR notation such as 203.0.113.0/24 or 2001:db8::/32", show(s))
		case pfx.Masked() != pfx:
			p.add(f, s, "%s has host bits set; the network is %s", s, pfx.Masked())
		case pfx.Addr().Is4In6():
			p.add(f, s, "%s is an IPv4-mapped IPv6 network; write it as IPv4", s)
		case seen[pfx]:
			p.add(f, s, "%s is already listed", s)
		}
		if err == nil {
			seen[pfx] = true
		}
	}
}
