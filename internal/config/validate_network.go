package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// VPC and subnet sizes: AWS allows IPv4 blocks from /16 to /28 for both
// (Amazon VPC User Guide, "VPC CIDR blocks"). An Application Load Balancer's
// subnets need at least a /27 with 8 free addresses (ELB User Guide,
// "Subnets for your load balancer"), so public subnets are /27 or larger.
const (
	minPrefixBits       = 16
	maxPrefixBits       = 28
	maxPublicSubnetBits = 27
)

// Address ranges that can never hold a VPC.
var unusableRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("127.0.0.0/8"),    // loopback
	netip.MustParsePrefix("169.254.0.0/16"), // link-local (instance metadata)
	netip.MustParsePrefix("224.0.0.0/4"),    // multicast
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved and broadcast
}

// An Availability Zone name: the region code plus one letter (us-east-1a).
var azRE = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+){1,2}-[0-9]{1,2}[a-z]$`)

func (c *Config) validateNetwork(p *problems) {
	n := c.Network
	vpc, vpcOK := parseCIDR(p, "network.vpc_cidr", n.VPCCIDR, false)
	if vpcOK {
		for _, r := range unusableRanges {
			if vpc.Overlaps(r) {
				p.add("network.vpc_cidr", n.VPCCIDR, "%s overlaps %s, which cannot be used in a VPC; use a private range such as 10.0.0.0/16", n.VPCCIDR, r)
				vpcOK = false
				break
			}
		}
	}

	type subnet struct {
		field string
		text  string
		pfx   netip.Prefix
	}
	var good []subnet
	for _, group := range []struct {
		key    string
		list   []string
		public bool
	}{
		{"network.public_subnets", n.PublicSubnets, true},
		{"network.private_subnets", n.PrivateSubnets, false},
	} {
		if len(group.list) != 2 {
			p.add(group.key, fmt.Sprint(len(group.list)), "needs exactly two subnets, one per availability zone, got %d", len(group.list))
		}
		for i, s := range group.list {
			if i >= 16 {
				break // the count is already reported; don't check a thousand entries
			}
			f := indexField(group.key, i)
			pfx, ok := parseCIDR(p, f, s, group.public)
			if !ok {
				continue
			}
			if vpcOK && !(vpc.Contains(pfx.Addr()) && pfx.Bits() >= vpc.Bits()) {
				p.add(f, s, "%s is outside network.vpc_cidr %s", s, n.VPCCIDR)
				continue
			}
			good = append(good, subnet{f, s, pfx})
		}
	}
	for i := range good {
		for j := 0; j < i; j++ {
			if good[i].pfx.Overlaps(good[j].pfx) {
				p.add(good[i].field, good[i].text, "%s overlaps %s %s", good[i].text, good[j].field, good[j].text)
				break
			}
		}
	}

	c.validateAZs(p)
}

// parseCIDR parses an IPv4 network in CIDR notation within the sizes AWS
// allows, recording a problem naming field otherwise.
func parseCIDR(p *problems, field, s string, public bool) (netip.Prefix, bool) {
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		p.add(field, s, "%s is not an IPv4 network in CIDR notation such as 10.0.0.0/16", show(s))
		return netip.Prefix{}, false
	}
	if !pfx.Addr().Is4() {
		p.add(field, s, "%s is not an IPv4 network; wbo-deploy builds IPv4 VPCs", show(s))
		return netip.Prefix{}, false
	}
	if pfx.Masked() != pfx {
		p.add(field, s, "%s is not a network address: did you mean %s?", s, pfx.Masked())
		return netip.Prefix{}, false
	}
	maxBits := maxPrefixBits
	if public {
		maxBits = maxPublicSubnetBits
	}
	if pfx.Bits() < minPrefixBits || pfx.Bits() > maxBits {
		why := ""
		if public && pfx.Bits() > maxPublicSubnetBits && pfx.Bits() <= maxPrefixBits {
			why = " (the load balancer needs at least a /27 in each public subnet)"
		}
		p.add(field, s, "%s has a /%d mask; AWS allows /%d to /%d here%s", s, pfx.Bits(), minPrefixBits, maxBits, why)
		return netip.Prefix{}, false
	}
	return pfx, true
}

func (c *Config) validateAZs(p *problems) {
	azs := c.Network.AvailabilityZones
	if len(azs) == 0 {
		return // the first two of the region
	}
	if len(azs) != 2 {
		p.add("network.availability_zones", fmt.Sprint(len(azs)), "must list exactly two availability zones (or none, for the first two of the region), got %d", len(azs))
		return
	}
	for i, az := range azs {
		f := indexField("network.availability_zones", i)
		switch {
		case !azRE.MatchString(az):
			p.add(f, az, "%s is not an availability zone name such as us-east-1a", show(az))
		case c.Region != "" && regionRE.MatchString(c.Region) && !(strings.HasPrefix(az, c.Region) && len(az) == len(c.Region)+1):
			p.add(f, az, "%s is not in region %s", az, c.Region)
		case i == 1 && az == azs[0]:
			p.add(f, az, "%s is listed twice; the two zones must differ", az)
		}
	}
}
