package config

import (
	"regexp"
	"strings"
)

// DNS name limits: labels of at most 63 octets (RFC 1035 section 2.3.4), and
// ACM's for the certificate's name: "The first domain name you enter cannot
// exceed 64 octets, including periods" (ACM API reference,
// RequestCertificate, DomainName).
const (
	maxDomainLength = 64
	maxLabelLength  = 63
)

var (
	// A hostname label (RFC 1123): letters, digits and inner hyphens.
	labelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	// Route 53 hosted zone IDs: "Z" then upper-case letters and digits
	// (Route 53 API reference, HostedZone.Id, "Maximum length of 32").
	zoneIDRE = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
)

func (c *Config) validateDomain(p *problems) {
	d := c.Domain
	if d.Name == "" {
		if d.HostedZoneID != "" {
			p.add("domain.hosted_zone_id", d.HostedZoneID, "is set without domain.name: set domain.name to the name the whiteboard should answer on")
		}
		return
	}
	name := c.DomainName()
	switch labels := strings.Split(name, "."); {
	case strings.HasPrefix(name, "*."):
		p.add("domain.name", d.Name, "%s is a wildcard; give the one name the whiteboard answers on, such as board.example.com", show(d.Name))
	case strings.Contains(name, "://") || strings.ContainsAny(name, "/:"):
		p.add("domain.name", d.Name, "%s is not a DNS name: give the name alone, such as board.example.com, without scheme, port or path", show(d.Name))
	case len(labels) < 2:
		p.add("domain.name", d.Name, "%s is not a fully qualified name: give the whole name, such as board.example.com", show(d.Name))
	case len(name) > maxDomainLength:
		p.add("domain.name", d.Name, "is %d characters long; an ACM certificate's name can have at most %d", len(name), maxDomainLength)
	default:
		for _, l := range labels {
			if len(l) > maxLabelLength || !labelRE.MatchString(l) {
				p.add("domain.name", d.Name, "%s is not a valid DNS name: the label %s must be 1-63 letters, digits and inner hyphens", show(d.Name), show(l))
				break
			}
		}
	}
	if d.HostedZoneID != "" && !zoneIDRE.MatchString(c.HostedZoneID()) {
		p.add("domain.hosted_zone_id", d.HostedZoneID, "%s is not a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ", show(d.HostedZoneID))
	}
	if c.LoadBalancer.CertificateARN != "" {
		p.add("domain.name", d.Name, "is set together with load_balancer.certificate_arn: wbo-deploy requests and renews the certificate for domain.name itself; remove one of them")
	}
}
