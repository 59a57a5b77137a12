package awssim

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53t "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// Public DNS as resolvers on the internet see it: the account's public
// Route 53 zones (a record counts once its change is INSYNC), the load
// balancers' own names, and records a test publishes at "another DNS
// provider" (PublishExternalDNS). ACM's DNS validation and PublicHTTP
// resolve names through it.
//
// Kinder than the internet: every public zone of the account is taken as
// delegated (a zone whose registrar points elsewhere is not visible to ACM
// in AWS); resolvers cache nothing (a record deleted or replaced is gone
// once its change is INSYNC, where resolvers keep it for its TTL); an
// external record is visible the moment
// it is published (the other provider's propagation is the test's to model
// by publishing later).

// elbZoneIDs are the Route 53 hosted zone IDs of Application (and Classic)
// Load Balancers per region: the "Route 53 Hosted Zone ID (Application Load
// Balancers, Classic Load Balancers)" column of "Elastic Load Balancing
// endpoints and quotas" (AWS General Reference). DescribeLoadBalancers
// answers it as CanonicalHostedZoneId and Route 53 alias records name it as
// AliasTarget.HostedZoneId ("AliasTarget", Route 53 API reference: "ELB load
// balancer: Specify the value of the hosted zone ID for the load balancer").
var elbZoneIDs = map[string]string{
	"us-east-1":      "Z35SXDOTRQ7X7K",
	"us-east-2":      "Z3AADJGX6KTTL2",
	"us-west-1":      "Z368ELLRRE2KJ0",
	"us-west-2":      "Z1H1FL5HABSF5",
	"af-south-1":     "Z268VQBMOI5EKX",
	"ap-east-1":      "Z3DQVH9N71FHZ0",
	"ap-south-1":     "ZP97RAFLXTNZK",
	"ap-south-2":     "Z0173938T07WNTVAEPZN",
	"ap-southeast-1": "Z1LMS91P8CMLE5",
	"ap-southeast-2": "Z1GM3OXH4ZPM65",
	"ap-southeast-3": "Z08888821HLRG5A9ZRTER",
	"ap-northeast-1": "Z14GRHDCWA56QT",
	"ap-northeast-2": "ZWKZPGTI48KDX",
	"eu-central-1":   "Z215JYRZR1TBD5",
	"eu-west-1":      "Z32O12XQLNTSW2",
}

// elbZoneID is the region's ALB hosted zone ID; a region missing from the
// table gets an ID that names it, so an alias built from
// DescribeLoadBalancers still matches.
func elbZoneID(region string) string {
	if id, ok := elbZoneIDs[region]; ok {
		return id
	}
	return "ZSIMELB" + strings.ToUpper(strings.ReplaceAll(region, "-", ""))
}

type extRecord struct{ name, typ, value string }

// PublishExternalDNS makes a record visible to public resolvers as if it had
// been created at another DNS provider (the domain's zone is not in Route
// 53): name and value are compared case-insensitively, with or without the
// trailing dot. It is visible at once; ACM's DNS validation and PublicHTTP
// see it. rrtype is "CNAME", "TXT", "A", ...
func (c *Cloud) PublishExternalDNS(name, rrtype, value string) {
	c.lock()
	defer c.unlock()
	s := c.route53()
	s.external = append(s.external, extRecord{fqdn(name), strings.ToUpper(rrtype), value})
}

// RemoveExternalDNS deletes the external records of that name and type.
func (c *Cloud) RemoveExternalDNS(name, rrtype string) {
	c.lock()
	defer c.unlock()
	s := c.route53()
	kept := s.external[:0]
	for _, r := range s.external {
		if r.name != fqdn(name) || r.typ != strings.ToUpper(rrtype) {
			kept = append(kept, r)
		}
	}
	s.external = kept
}

func sameName(a, b string) bool { return fqdn(a) == fqdn(b) }

// dnsHas reports whether public resolvers see name/typ with value: in a
// public Route 53 zone of the account whose change is INSYNC, or published
// externally (c.mu held).
func (c *Cloud) dnsHas(name string, typ r53t.RRType, value string) bool {
	for _, v := range c.dnsValues(name, typ) {
		if sameName(v, value) {
			return true
		}
	}
	return false
}

// dnsValues are the values resolvers see for name/typ (c.mu held).
func (c *Cloud) dnsValues(name string, typ r53t.RRType) []string {
	s := c.route53()
	now := c.now()
	var out []string
	for _, z := range s.zones {
		if z.private {
			continue
		}
		r := z.seen(fqdn(name)+"|"+string(typ), now)
		if r == nil || r.set.AliasTarget != nil {
			continue
		}
		for _, v := range r.set.ResourceRecords {
			out = append(out, aws.ToString(v.Value))
		}
	}
	for _, r := range s.external {
		if r.name == fqdn(name) && r.typ == string(typ) {
			out = append(out, r.value)
		}
	}
	return out
}

// visibleAlias is the alias target of a visible A record of name in a public
// zone, "" if none (c.mu held).
func (c *Cloud) visibleAlias(name string) string {
	now := c.now()
	for _, z := range c.route53().zones {
		if z.private {
			continue
		}
		if r := z.seen(fqdn(name)+"|A", now); r != nil && r.set.AliasTarget != nil {
			return aws.ToString(r.set.AliasTarget.DNSName)
		}
	}
	return ""
}

// lbByDNSName finds the load balancer whose DNS name is name (case-
// insensitive, with or without the "dualstack." prefix Route 53 aliases
// may use; c.mu held).
func (c *Cloud) lbByDNSName(name string) *elbLB {
	n := strings.TrimPrefix(fqdn(name), "dualstack.")
	for _, lb := range c.elbv2().lbs {
		if fqdn(lb.dns) == n {
			return lb
		}
	}
	return nil
}

// resolveLB follows public DNS from name (alias A records, CNAME chains,
// external records) to a load balancer; nil when the name does not lead to
// one (c.mu held). Resolvers give up on long chains; so does this, after 8
// steps.
func (c *Cloud) resolveLB(name string) *elbLB {
	for i := 0; i < 8 && name != ""; i++ {
		if lb := c.lbByDNSName(name); lb != nil {
			return lb
		}
		if a := c.visibleAlias(name); a != "" {
			name = a
			continue
		}
		cn := c.dnsValues(name, r53t.RRTypeCname)
		if len(cn) == 0 {
			return nil
		}
		name = cn[0]
	}
	return nil
}
