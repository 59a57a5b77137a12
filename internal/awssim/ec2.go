package awssim

import (
	"context"
	"net/netip"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	t "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2 error codes: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html

type vpc struct {
	id, cidr            string
	tags                map[string]string
	readyAt             time.Time
	dnsSupport, dnsHost bool
	defaultSG, mainRT   string
}

type subnet struct {
	id, vpc, cidr, az string
	mapPublicIP       bool
	tags              map[string]string
}

type igw struct {
	id, vpc string // vpc empty = detached
	tags    map[string]string
}

type route struct{ dest, gateway string }

type routeTable struct {
	id, vpc string
	main    bool
	routes  []route
	assocs  map[string]string // association ID -> subnet ID
	tags    map[string]string
}

type sgRule struct {
	id, proto string
	from, to  int32
	cidr, src string // one of them
	desc      string
}

type securityGroup struct {
	id, vpc, name, desc string
	isDefault           bool
	ingress, egress     []sgRule
	tags                map[string]string
}

type eni struct {
	id, subnet, vpc, desc string
	groups                []string
	publicIP              bool
	owner                 string    // what holds it, e.g. an ALB ARN or task ARN
	goneAt                time.Time // zero while the owner lives
	requesterManaged      bool
	tags                  map[string]string
}

type ec2Sim struct {
	c       *Cloud
	vpcs    map[string]*vpc
	subnets map[string]*subnet
	igws    map[string]*igw
	rts     map[string]*routeTable
	sgs     map[string]*securityGroup
	enis    map[string]*eni
	flows   map[string]*flowLog
}

func init() {
	register("EC2", func(c *Cloud) any {
		return &ec2Sim{c: c, vpcs: map[string]*vpc{}, subnets: map[string]*subnet{}, igws: map[string]*igw{},
			rts: map[string]*routeTable{}, sgs: map[string]*securityGroup{}, enis: map[string]*eni{},
			flows: map[string]*flowLog{}}
	})
}

func (c *Cloud) ec2() *ec2Sim { return c.services["EC2"].(*ec2Sim) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---- ENIs, used by other services (ELBv2, ECS) ----

// AttachENI creates an ENI in a subnet for an owner (c.mu held by caller).
func (s *ec2Sim) attachENI(subnetID string, groups []string, desc, owner string, publicIP bool) string {
	sn := s.subnets[subnetID]
	id := s.c.newID("eni")
	v := ""
	if sn != nil {
		v = sn.vpc
	}
	s.enis[id] = &eni{id: id, subnet: subnetID, vpc: v, desc: desc, groups: append([]string(nil), groups...),
		publicIP: publicIP, owner: owner, requesterManaged: true, tags: map[string]string{}}
	return id
}

// releaseENIs marks the owner's ENIs to disappear after the linger time
// (c.mu held). AWS releases ALB and Fargate ENIs minutes after their owner goes.
func (s *ec2Sim) releaseENIs(owner string) { s.releaseENIsAt(owner, time.Now()) }

// releaseENIsAt is releaseENIs for an owner that went at gone: states
// computed lazily (a task STOPPED, a group deleted, noticed at the next
// call) start the linger when the owner went, not when someone looked.
func (s *ec2Sim) releaseENIsAt(owner string, gone time.Time) {
	at := gone.Add(s.c.wall(s.c.Timing.ENILinger))
	for _, e := range s.enis {
		if e.owner == owner && e.goneAt.IsZero() {
			e.goneAt = at
		}
	}
}

// reap drops ENIs whose linger time is over (c.mu held).
func (s *ec2Sim) reap() {
	now := time.Now()
	for id, e := range s.enis {
		if !e.goneAt.IsZero() && now.After(e.goneAt) {
			delete(s.enis, id)
		}
	}
}

func (s *ec2Sim) inventory() []Resource {
	s.reap()
	var out []Resource
	for _, id := range sortedKeys(s.vpcs) {
		out = append(out, Resource{"EC2", "vpc", id, copyTags(s.vpcs[id].tags)})
	}
	for _, id := range sortedKeys(s.subnets) {
		out = append(out, Resource{"EC2", "subnet", id, copyTags(s.subnets[id].tags)})
	}
	for _, id := range sortedKeys(s.igws) {
		out = append(out, Resource{"EC2", "internet-gateway", id, copyTags(s.igws[id].tags)})
	}
	for _, id := range sortedKeys(s.rts) {
		if !s.rts[id].main {
			out = append(out, Resource{"EC2", "route-table", id, copyTags(s.rts[id].tags)})
		}
	}
	for _, id := range sortedKeys(s.sgs) {
		if !s.sgs[id].isDefault {
			out = append(out, Resource{"EC2", "security-group", id, copyTags(s.sgs[id].tags)})
		}
	}
	for _, id := range sortedKeys(s.enis) {
		out = append(out, Resource{"EC2", "network-interface", id, copyTags(s.enis[id].tags)})
	}
	for _, id := range sortedKeys(s.flows) {
		out = append(out, Resource{"EC2", "flow-log", id, copyTags(s.flows[id].tags)})
	}
	return out
}

// ---- AZs ----

func (s *ec2Sim) DescribeAvailabilityZones(_ context.Context, in *ec2.DescribeAvailabilityZonesInput) (*ec2.DescribeAvailabilityZonesOutput, error) {
	out := &ec2.DescribeAvailabilityZonesOutput{}
	// An opted-in Local Zone is listed too (its name sorts before the
	// region's own zones); subnets for the stack must not land there.
	out.AvailabilityZones = append(out.AvailabilityZones, t.AvailabilityZone{
		ZoneName: aws.String(s.c.Region + "-bos-1a"), ZoneId: aws.String("use1-bos1-az1"), State: t.AvailabilityZoneStateAvailable,
		RegionName: aws.String(s.c.Region), ZoneType: aws.String("local-zone"), OptInStatus: t.AvailabilityZoneOptInStatusOptedIn,
	})
	for i, l := range []string{"a", "b", "c"} {
		out.AvailabilityZones = append(out.AvailabilityZones, t.AvailabilityZone{
			ZoneName: aws.String(s.c.Region + l), ZoneId: aws.String("use1-az" + strconv.Itoa(i+1)),
			State: t.AvailabilityZoneStateAvailable, RegionName: aws.String(s.c.Region), ZoneType: aws.String("availability-zone"),
		})
	}
	return out, nil
}

// ---- VPC ----

func (s *ec2Sim) CreateVpc(_ context.Context, in *ec2.CreateVpcInput) (*ec2.CreateVpcOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	p, err := netip.ParsePrefix(aws.ToString(in.CidrBlock))
	if err != nil || !p.Addr().Is4() || p.Bits() < 16 || p.Bits() > 28 || p.Masked() != p {
		return nil, apiError("InvalidVpc.Range", "The CIDR '%s' is invalid.", aws.ToString(in.CidrBlock))
	}
	v := &vpc{id: s.c.newID("vpc"), cidr: p.String(), tags: ec2TagsFromSpecs(in.TagSpecifications, t.ResourceTypeVpc),
		readyAt: s.c.deadline(s.c.Timing.VPCPending), dnsSupport: true}
	s.vpcs[v.id] = v
	s.c.created(v.id)
	// Every VPC comes with a default security group and a main route table.
	sg := &securityGroup{id: s.c.newID("sg"), vpc: v.id, name: "default", desc: "default VPC security group", isDefault: true, tags: map[string]string{}}
	// AWS's default group allows all inbound traffic from itself and all
	// outbound traffic (VPC user guide, "Default security groups").
	sg.egress = []sgRule{{id: s.c.newID("sgr"), proto: "-1", cidr: "0.0.0.0/0"}}
	sg.ingress = []sgRule{{id: s.c.newID("sgr"), proto: "-1", src: sg.id}}
	s.sgs[sg.id] = sg
	rt := &routeTable{id: s.c.newID("rtb"), vpc: v.id, main: true, routes: []route{{v.cidr, "local"}}, assocs: map[string]string{}, tags: map[string]string{}}
	s.rts[rt.id] = rt
	v.defaultSG, v.mainRT = sg.id, rt.id
	return &ec2.CreateVpcOutput{Vpc: s.vpcOut(v)}, nil
}

func (s *ec2Sim) vpcOut(v *vpc) *t.Vpc {
	st := t.VpcStateAvailable
	if time.Now().Before(v.readyAt) {
		st = t.VpcStatePending
	}
	return &t.Vpc{VpcId: aws.String(v.id), CidrBlock: aws.String(v.cidr), State: st, Tags: ec2Tags(v.tags),
		IsDefault: aws.Bool(false), OwnerId: aws.String(s.c.Account), InstanceTenancy: t.TenancyDefault}
}

func (s *ec2Sim) DescribeVpcs(_ context.Context, in *ec2.DescribeVpcsInput) (*ec2.DescribeVpcsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	var list []t.Vpc
	for _, id := range in.VpcIds {
		v, ok := s.vpcs[id]
		if !ok || s.c.hidden(id) {
			return nil, apiError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
		}
		list = append(list, *s.vpcOut(v))
	}
	if len(in.VpcIds) == 0 {
		for _, id := range sortedKeys(s.vpcs) {
			v := s.vpcs[id]
			if s.c.isFresh(id) && s.c.hidden(id) {
				continue
			}
			if matchFilters(in.Filters, v.tags, func(n string) []string {
				switch n {
				case "vpc-id":
					return []string{v.id}
				case "cidr", "cidr-block", "cidr-block-association.cidr-block":
					return []string{v.cidr}
				case "state":
					return []string{string(s.vpcOut(v).State)}
				}
				return nil
			}) {
				list = append(list, *s.vpcOut(v))
			}
		}
	}
	page, next := paginate(list, in.MaxResults, in.NextToken)
	return &ec2.DescribeVpcsOutput{Vpcs: page, NextToken: next}, nil
}

func (s *ec2Sim) ModifyVpcAttribute(_ context.Context, in *ec2.ModifyVpcAttributeInput) (*ec2.ModifyVpcAttributeOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	v, ok := s.vpcs[aws.ToString(in.VpcId)]
	if !ok {
		return nil, apiError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", aws.ToString(in.VpcId))
	}
	// One attribute per call (EC2 API reference, ModifyVpcAttribute).
	if (in.EnableDnsHostnames != nil) == (in.EnableDnsSupport != nil) {
		return nil, apiError("InvalidParameterCombination", "Exactly one attribute may be modified per request")
	}
	if in.EnableDnsHostnames != nil {
		val := aws.ToBool(in.EnableDnsHostnames.Value)
		if val && !v.dnsSupport {
			return nil, apiError("InvalidParameterValue", "DNS hostnames need DNS support")
		}
		v.dnsHost = val
	}
	if in.EnableDnsSupport != nil {
		v.dnsSupport = aws.ToBool(in.EnableDnsSupport.Value)
	}
	return &ec2.ModifyVpcAttributeOutput{}, nil
}

func (s *ec2Sim) DescribeVpcAttribute(_ context.Context, in *ec2.DescribeVpcAttributeInput) (*ec2.DescribeVpcAttributeOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	v, ok := s.vpcs[aws.ToString(in.VpcId)]
	if !ok {
		return nil, apiError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", aws.ToString(in.VpcId))
	}
	out := &ec2.DescribeVpcAttributeOutput{VpcId: in.VpcId}
	switch in.Attribute {
	case t.VpcAttributeNameEnableDnsHostnames:
		out.EnableDnsHostnames = &t.AttributeBooleanValue{Value: aws.Bool(v.dnsHost)}
	case t.VpcAttributeNameEnableDnsSupport:
		out.EnableDnsSupport = &t.AttributeBooleanValue{Value: aws.Bool(v.dnsSupport)}
	default:
		return nil, apiError("InvalidParameterValue", "unsupported attribute %s", in.Attribute)
	}
	return out, nil
}

func (s *ec2Sim) DeleteVpc(_ context.Context, in *ec2.DeleteVpcInput) (*ec2.DeleteVpcOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.reap()
	id := aws.ToString(in.VpcId)
	v, ok := s.vpcs[id]
	if !ok {
		return nil, apiError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
	}
	dep := func(what string) error {
		return apiError("DependencyViolation", "The vpc '%s' has dependencies and cannot be deleted (%s).", id, what)
	}
	for _, sn := range s.subnets {
		if sn.vpc == id {
			return nil, dep("subnet " + sn.id)
		}
	}
	for _, g := range s.igws {
		if g.vpc == id {
			return nil, dep("internet gateway " + g.id)
		}
	}
	for _, rt := range s.rts {
		if rt.vpc == id && !rt.main {
			return nil, dep("route table " + rt.id)
		}
	}
	for _, sg := range s.sgs {
		if sg.vpc == id && !sg.isDefault {
			return nil, dep("security group " + sg.id)
		}
	}
	for _, e := range s.enis {
		if e.vpc == id {
			return nil, dep("network interface " + e.id)
		}
	}
	delete(s.sgs, v.defaultSG)
	delete(s.rts, v.mainRT)
	delete(s.vpcs, id)
	s.dropFlowLogsOf(id)
	return &ec2.DeleteVpcOutput{}, nil
}

// ---- Subnets ----

func (s *ec2Sim) CreateSubnet(_ context.Context, in *ec2.CreateSubnetInput) (*ec2.CreateSubnetOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	v, ok := s.vpcs[aws.ToString(in.VpcId)]
	if !ok {
		return nil, apiError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", aws.ToString(in.VpcId))
	}
	p, err := netip.ParsePrefix(aws.ToString(in.CidrBlock))
	if err != nil || p.Masked() != p {
		return nil, apiError("InvalidParameterValue", "Value (%s) for parameter cidrBlock is invalid.", aws.ToString(in.CidrBlock))
	}
	vp := netip.MustParsePrefix(v.cidr)
	if !vp.Contains(p.Addr()) || p.Bits() < vp.Bits() || p.Bits() > 28 {
		return nil, apiError("InvalidSubnet.Range", "The CIDR '%s' is invalid.", p)
	}
	for _, o := range s.subnets {
		if o.vpc == v.id && netip.MustParsePrefix(o.cidr).Overlaps(p) {
			return nil, apiError("InvalidSubnet.Conflict", "The CIDR '%s' conflicts with another subnet", p)
		}
	}
	az := aws.ToString(in.AvailabilityZone)
	if az == "" {
		az = s.c.Region + "a"
	}
	if len(az) != len(s.c.Region)+1 || az[:len(s.c.Region)] != s.c.Region || az[len(az)-1] < 'a' || az[len(az)-1] > 'c' {
		return nil, apiError("InvalidParameterValue", "Value (%s) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: %sa, %sb, %sc.", az, s.c.Region, s.c.Region, s.c.Region)
	}
	sn := &subnet{id: s.c.newID("subnet"), vpc: v.id, cidr: p.String(), az: az, tags: ec2TagsFromSpecs(in.TagSpecifications, t.ResourceTypeSubnet)}
	s.subnets[sn.id] = sn
	s.c.created(sn.id)
	return &ec2.CreateSubnetOutput{Subnet: s.subnetOut(sn)}, nil
}

func (s *ec2Sim) subnetOut(sn *subnet) *t.Subnet {
	return &t.Subnet{SubnetId: aws.String(sn.id), VpcId: aws.String(sn.vpc), CidrBlock: aws.String(sn.cidr),
		AvailabilityZone: aws.String(sn.az), MapPublicIpOnLaunch: aws.Bool(sn.mapPublicIP), State: t.SubnetStateAvailable,
		Tags: ec2Tags(sn.tags), OwnerId: aws.String(s.c.Account)}
}

func (s *ec2Sim) DescribeSubnets(_ context.Context, in *ec2.DescribeSubnetsInput) (*ec2.DescribeSubnetsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	var list []t.Subnet
	for _, id := range in.SubnetIds {
		sn, ok := s.subnets[id]
		if !ok || s.c.hidden(id) {
			return nil, apiError("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
		}
		list = append(list, *s.subnetOut(sn))
	}
	if len(in.SubnetIds) == 0 {
		for _, id := range sortedKeys(s.subnets) {
			sn := s.subnets[id]
			if s.c.isFresh(id) && s.c.hidden(id) {
				continue
			}
			if matchFilters(in.Filters, sn.tags, func(n string) []string {
				switch n {
				case "vpc-id":
					return []string{sn.vpc}
				case "subnet-id":
					return []string{sn.id}
				case "cidr-block", "cidr":
					return []string{sn.cidr}
				case "availability-zone":
					return []string{sn.az}
				}
				return nil
			}) {
				list = append(list, *s.subnetOut(sn))
			}
		}
	}
	page, next := paginate(list, in.MaxResults, in.NextToken)
	return &ec2.DescribeSubnetsOutput{Subnets: page, NextToken: next}, nil
}

func (s *ec2Sim) ModifySubnetAttribute(_ context.Context, in *ec2.ModifySubnetAttributeInput) (*ec2.ModifySubnetAttributeOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	sn, ok := s.subnets[aws.ToString(in.SubnetId)]
	if !ok {
		return nil, apiError("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", aws.ToString(in.SubnetId))
	}
	if in.MapPublicIpOnLaunch != nil {
		sn.mapPublicIP = aws.ToBool(in.MapPublicIpOnLaunch.Value)
	}
	return &ec2.ModifySubnetAttributeOutput{}, nil
}

func (s *ec2Sim) DeleteSubnet(_ context.Context, in *ec2.DeleteSubnetInput) (*ec2.DeleteSubnetOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.reap()
	id := aws.ToString(in.SubnetId)
	if _, ok := s.subnets[id]; !ok {
		return nil, apiError("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
	}
	for _, e := range s.enis {
		if e.subnet == id {
			return nil, apiError("DependencyViolation", "The subnet '%s' has dependencies and cannot be deleted.", id)
		}
	}
	for _, rt := range s.rts {
		for a, sid := range rt.assocs {
			if sid == id {
				delete(rt.assocs, a) // associations go with the subnet
			}
		}
	}
	delete(s.subnets, id)
	return &ec2.DeleteSubnetOutput{}, nil
}

// ---- Internet gateways ----

func (s *ec2Sim) CreateInternetGateway(_ context.Context, in *ec2.CreateInternetGatewayInput) (*ec2.CreateInternetGatewayOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	g := &igw{id: s.c.newID("igw"), tags: ec2TagsFromSpecs(in.TagSpecifications, t.ResourceTypeInternetGateway)}
	s.igws[g.id] = g
	s.c.created(g.id)
	return &ec2.CreateInternetGatewayOutput{InternetGateway: s.igwOut(g)}, nil
}

func (s *ec2Sim) igwOut(g *igw) *t.InternetGateway {
	out := &t.InternetGateway{InternetGatewayId: aws.String(g.id), Tags: ec2Tags(g.tags), OwnerId: aws.String(s.c.Account)}
	if g.vpc != "" {
		out.Attachments = []t.InternetGatewayAttachment{{VpcId: aws.String(g.vpc), State: t.AttachmentStatus("available")}}
	}
	return out
}

func (s *ec2Sim) DescribeInternetGateways(_ context.Context, in *ec2.DescribeInternetGatewaysInput) (*ec2.DescribeInternetGatewaysOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	var list []t.InternetGateway
	for _, id := range in.InternetGatewayIds {
		g, ok := s.igws[id]
		if !ok || s.c.hidden(id) {
			return nil, apiError("InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist", id)
		}
		list = append(list, *s.igwOut(g))
	}
	if len(in.InternetGatewayIds) == 0 {
		for _, id := range sortedKeys(s.igws) {
			g := s.igws[id]
			if s.c.isFresh(id) && s.c.hidden(id) {
				continue
			}
			if matchFilters(in.Filters, g.tags, func(n string) []string {
				switch n {
				case "attachment.vpc-id":
					if g.vpc != "" {
						return []string{g.vpc}
					}
				case "internet-gateway-id":
					return []string{g.id}
				}
				return nil
			}) {
				list = append(list, *s.igwOut(g))
			}
		}
	}
	page, next := paginate(list, in.MaxResults, in.NextToken)
	return &ec2.DescribeInternetGatewaysOutput{InternetGateways: page, NextToken: next}, nil
}

func (s *ec2Sim) AttachInternetGateway(_ context.Context, in *ec2.AttachInternetGatewayInput) (*ec2.AttachInternetGatewayOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	g, ok := s.igws[aws.ToString(in.InternetGatewayId)]
	if !ok {
		return nil, apiError("InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist", aws.ToString(in.InternetGatewayId))
	}
	vid := aws.ToString(in.VpcId)
	if _, ok := s.vpcs[vid]; !ok {
		return nil, apiError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vid)
	}
	if g.vpc != "" {
		return nil, apiError("Resource.AlreadyAssociated", "resource %s is already attached to network %s", g.id, g.vpc)
	}
	for _, o := range s.igws {
		if o.vpc == vid {
			return nil, apiError("Resource.AlreadyAssociated", "network %s already has an internet gateway attached", vid)
		}
	}
	g.vpc = vid
	return &ec2.AttachInternetGatewayOutput{}, nil
}

func (s *ec2Sim) DetachInternetGateway(_ context.Context, in *ec2.DetachInternetGatewayInput) (*ec2.DetachInternetGatewayOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.reap()
	g, ok := s.igws[aws.ToString(in.InternetGatewayId)]
	if !ok {
		return nil, apiError("InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist", aws.ToString(in.InternetGatewayId))
	}
	if g.vpc == "" || g.vpc != aws.ToString(in.VpcId) {
		return nil, apiError("Gateway.NotAttached", "resource %s is not attached to network %s", g.id, aws.ToString(in.VpcId))
	}
	for _, e := range s.enis {
		if e.vpc == g.vpc && e.publicIP {
			return nil, apiError("DependencyViolation", "Network %s has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.", g.vpc)
		}
	}
	g.vpc = ""
	return &ec2.DetachInternetGatewayOutput{}, nil
}

func (s *ec2Sim) DeleteInternetGateway(_ context.Context, in *ec2.DeleteInternetGatewayInput) (*ec2.DeleteInternetGatewayOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	id := aws.ToString(in.InternetGatewayId)
	g, ok := s.igws[id]
	if !ok {
		return nil, apiError("InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist", id)
	}
	if g.vpc != "" {
		return nil, apiError("DependencyViolation", "The internetGateway '%s' has dependencies and cannot be deleted.", id)
	}
	delete(s.igws, id)
	return &ec2.DeleteInternetGatewayOutput{}, nil
}

// ---- Route tables ----

func (s *ec2Sim) CreateRouteTable(_ context.Context, in *ec2.CreateRouteTableInput) (*ec2.CreateRouteTableOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	v, ok := s.vpcs[aws.ToString(in.VpcId)]
	if !ok {
		return nil, apiError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", aws.ToString(in.VpcId))
	}
	rt := &routeTable{id: s.c.newID("rtb"), vpc: v.id, routes: []route{{v.cidr, "local"}}, assocs: map[string]string{},
		tags: ec2TagsFromSpecs(in.TagSpecifications, t.ResourceTypeRouteTable)}
	s.rts[rt.id] = rt
	s.c.created(rt.id)
	return &ec2.CreateRouteTableOutput{RouteTable: s.rtOut(rt)}, nil
}

func (s *ec2Sim) rtOut(rt *routeTable) *t.RouteTable {
	out := &t.RouteTable{RouteTableId: aws.String(rt.id), VpcId: aws.String(rt.vpc), Tags: ec2Tags(rt.tags), OwnerId: aws.String(s.c.Account)}
	for _, r := range rt.routes {
		tr := t.Route{DestinationCidrBlock: aws.String(r.dest), GatewayId: aws.String(r.gateway), State: t.RouteStateActive}
		if r.gateway != "local" {
			if _, ok := s.igws[r.gateway]; !ok {
				tr.State = t.RouteStateBlackhole
			}
		}
		out.Routes = append(out.Routes, tr)
	}
	if rt.main {
		out.Associations = append(out.Associations, t.RouteTableAssociation{Main: aws.Bool(true), RouteTableId: aws.String(rt.id),
			RouteTableAssociationId: aws.String("rtbassoc-main" + rt.id[4:])})
	}
	for _, a := range sortedKeys(rt.assocs) {
		out.Associations = append(out.Associations, t.RouteTableAssociation{Main: aws.Bool(false), RouteTableId: aws.String(rt.id),
			RouteTableAssociationId: aws.String(a), SubnetId: aws.String(rt.assocs[a]),
			AssociationState: &t.RouteTableAssociationState{State: t.RouteTableAssociationStateCodeAssociated}})
	}
	return out
}

func (s *ec2Sim) DescribeRouteTables(_ context.Context, in *ec2.DescribeRouteTablesInput) (*ec2.DescribeRouteTablesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	var list []t.RouteTable
	for _, id := range in.RouteTableIds {
		rt, ok := s.rts[id]
		if !ok || s.c.hidden(id) {
			return nil, apiError("InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist", id)
		}
		list = append(list, *s.rtOut(rt))
	}
	if len(in.RouteTableIds) == 0 {
		for _, id := range sortedKeys(s.rts) {
			rt := s.rts[id]
			if s.c.isFresh(id) && s.c.hidden(id) {
				continue
			}
			if matchFilters(in.Filters, rt.tags, func(n string) []string {
				switch n {
				case "vpc-id":
					return []string{rt.vpc}
				case "route-table-id":
					return []string{rt.id}
				case "association.main":
					return []string{strconv.FormatBool(rt.main)}
				case "association.subnet-id":
					var out []string
					for _, sid := range rt.assocs {
						out = append(out, sid)
					}
					return out
				}
				return nil
			}) {
				list = append(list, *s.rtOut(rt))
			}
		}
	}
	page, next := paginate(list, in.MaxResults, in.NextToken)
	return &ec2.DescribeRouteTablesOutput{RouteTables: page, NextToken: next}, nil
}

func (s *ec2Sim) CreateRoute(_ context.Context, in *ec2.CreateRouteInput) (*ec2.CreateRouteOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	rt, ok := s.rts[aws.ToString(in.RouteTableId)]
	if !ok {
		return nil, apiError("InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist", aws.ToString(in.RouteTableId))
	}
	dest := aws.ToString(in.DestinationCidrBlock)
	for _, r := range rt.routes {
		if r.dest == dest {
			return nil, apiError("RouteAlreadyExists", "The route identified by %s already exists.", dest)
		}
	}
	gw := aws.ToString(in.GatewayId)
	g, ok := s.igws[gw]
	if !ok {
		return nil, apiError("InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist", gw)
	}
	if g.vpc != rt.vpc {
		return nil, apiError("InvalidParameterValue", "route table %s and network gateway %s belong to different networks", rt.id, gw)
	}
	rt.routes = append(rt.routes, route{dest, gw})
	return &ec2.CreateRouteOutput{Return: aws.Bool(true)}, nil
}

func (s *ec2Sim) ReplaceRoute(_ context.Context, in *ec2.ReplaceRouteInput) (*ec2.ReplaceRouteOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	rt, ok := s.rts[aws.ToString(in.RouteTableId)]
	if !ok {
		return nil, apiError("InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist", aws.ToString(in.RouteTableId))
	}
	for i, r := range rt.routes {
		if r.dest == aws.ToString(in.DestinationCidrBlock) {
			rt.routes[i].gateway = aws.ToString(in.GatewayId)
			return &ec2.ReplaceRouteOutput{}, nil
		}
	}
	return nil, apiError("InvalidRoute.NotFound", "no route with destination-cidr-block %s in route table %s", aws.ToString(in.DestinationCidrBlock), rt.id)
}

func (s *ec2Sim) AssociateRouteTable(_ context.Context, in *ec2.AssociateRouteTableInput) (*ec2.AssociateRouteTableOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	rt, ok := s.rts[aws.ToString(in.RouteTableId)]
	if !ok {
		return nil, apiError("InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist", aws.ToString(in.RouteTableId))
	}
	sid := aws.ToString(in.SubnetId)
	sn, ok := s.subnets[sid]
	if !ok {
		return nil, apiError("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", sid)
	}
	if sn.vpc != rt.vpc {
		return nil, apiError("InvalidParameterValue", "route table %s and subnet %s belong to different networks", rt.id, sid)
	}
	for _, o := range s.rts {
		for a, x := range o.assocs {
			if x == sid {
				if o == rt {
					return &ec2.AssociateRouteTableOutput{AssociationId: aws.String(a)}, nil
				}
				return nil, apiError("Resource.AlreadyAssociated", "the specified association for route table %s conflicts with an existing association", o.id)
			}
		}
	}
	a := s.c.newID("rtbassoc")
	rt.assocs[a] = sid
	return &ec2.AssociateRouteTableOutput{AssociationId: aws.String(a),
		AssociationState: &t.RouteTableAssociationState{State: t.RouteTableAssociationStateCodeAssociated}}, nil
}

func (s *ec2Sim) DisassociateRouteTable(_ context.Context, in *ec2.DisassociateRouteTableInput) (*ec2.DisassociateRouteTableOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	a := aws.ToString(in.AssociationId)
	for _, rt := range s.rts {
		if _, ok := rt.assocs[a]; ok {
			delete(rt.assocs, a)
			return &ec2.DisassociateRouteTableOutput{}, nil
		}
	}
	return nil, apiError("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", a)
}

func (s *ec2Sim) DeleteRouteTable(_ context.Context, in *ec2.DeleteRouteTableInput) (*ec2.DeleteRouteTableOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	id := aws.ToString(in.RouteTableId)
	rt, ok := s.rts[id]
	if !ok {
		return nil, apiError("InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist", id)
	}
	if rt.main || len(rt.assocs) > 0 {
		return nil, apiError("DependencyViolation", "The routeTable '%s' has dependencies and cannot be deleted.", id)
	}
	delete(s.rts, id)
	return &ec2.DeleteRouteTableOutput{}, nil
}

// ---- Security groups ----

func (s *ec2Sim) CreateSecurityGroup(_ context.Context, in *ec2.CreateSecurityGroupInput) (*ec2.CreateSecurityGroupOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	vid := aws.ToString(in.VpcId)
	if _, ok := s.vpcs[vid]; !ok {
		return nil, apiError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vid)
	}
	name := aws.ToString(in.GroupName)
	for _, g := range s.sgs {
		if g.vpc == vid && g.name == name {
			return nil, apiError("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vid)
		}
	}
	g := &securityGroup{id: s.c.newID("sg"), vpc: vid, name: name, desc: aws.ToString(in.Description),
		tags: ec2TagsFromSpecs(in.TagSpecifications, t.ResourceTypeSecurityGroup)}
	g.egress = []sgRule{{id: s.c.newID("sgr"), proto: "-1", cidr: "0.0.0.0/0"}}
	s.sgs[g.id] = g
	s.c.created(g.id)
	return &ec2.CreateSecurityGroupOutput{GroupId: aws.String(g.id), SecurityGroupArn: aws.String("arn:aws:ec2:" + s.c.Region + ":" + s.c.Account + ":security-group/" + g.id)}, nil
}

func rulesOut(rules []sgRule) []t.IpPermission {
	var out []t.IpPermission
	for _, r := range rules {
		p := t.IpPermission{IpProtocol: aws.String(r.proto)}
		if r.proto != "-1" {
			p.FromPort, p.ToPort = aws.Int32(r.from), aws.Int32(r.to)
		}
		if r.cidr != "" {
			p.IpRanges = []t.IpRange{{CidrIp: aws.String(r.cidr), Description: nilIfEmpty(r.desc)}}
		} else {
			p.UserIdGroupPairs = []t.UserIdGroupPair{{GroupId: aws.String(r.src), Description: nilIfEmpty(r.desc)}}
		}
		out = append(out, p)
	}
	return out
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func (s *ec2Sim) sgOut(g *securityGroup) t.SecurityGroup {
	return t.SecurityGroup{GroupId: aws.String(g.id), GroupName: aws.String(g.name), Description: aws.String(g.desc),
		VpcId: aws.String(g.vpc), Tags: ec2Tags(g.tags), OwnerId: aws.String(s.c.Account),
		IpPermissions: rulesOut(g.ingress), IpPermissionsEgress: rulesOut(g.egress)}
}

func (s *ec2Sim) DescribeSecurityGroups(_ context.Context, in *ec2.DescribeSecurityGroupsInput) (*ec2.DescribeSecurityGroupsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	var list []t.SecurityGroup
	for _, id := range in.GroupIds {
		g, ok := s.sgs[id]
		if !ok || s.c.hidden(id) {
			return nil, apiError("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
		list = append(list, s.sgOut(g))
	}
	if len(in.GroupIds) == 0 {
		for _, id := range sortedKeys(s.sgs) {
			g := s.sgs[id]
			if s.c.isFresh(id) && s.c.hidden(id) {
				continue
			}
			if matchFilters(in.Filters, g.tags, func(n string) []string {
				switch n {
				case "vpc-id":
					return []string{g.vpc}
				case "group-name":
					return []string{g.name}
				case "group-id":
					return []string{g.id}
				}
				return nil
			}) {
				list = append(list, s.sgOut(g))
			}
		}
	}
	page, next := paginate(list, in.MaxResults, in.NextToken)
	return &ec2.DescribeSecurityGroupsOutput{SecurityGroups: page, NextToken: next}, nil
}

func (s *ec2Sim) DescribeSecurityGroupRules(_ context.Context, in *ec2.DescribeSecurityGroupRulesInput) (*ec2.DescribeSecurityGroupRulesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	var list []t.SecurityGroupRule
	for _, id := range sortedKeys(s.sgs) {
		g := s.sgs[id]
		emit := func(r sgRule, egress bool) {
			sr := t.SecurityGroupRule{SecurityGroupRuleId: aws.String(r.id), GroupId: aws.String(g.id), IsEgress: aws.Bool(egress),
				IpProtocol: aws.String(r.proto), FromPort: aws.Int32(r.from), ToPort: aws.Int32(r.to), Description: nilIfEmpty(r.desc)}
			if r.proto == "-1" {
				sr.FromPort, sr.ToPort = aws.Int32(-1), aws.Int32(-1)
			}
			if r.cidr != "" {
				sr.CidrIpv4 = aws.String(r.cidr)
			} else {
				sr.ReferencedGroupInfo = &t.ReferencedSecurityGroup{GroupId: aws.String(r.src)}
			}
			if matchFilters(in.Filters, nil, func(n string) []string {
				switch n {
				case "group-id":
					return []string{g.id}
				case "security-group-rule-id":
					return []string{r.id}
				}
				return nil
			}) {
				list = append(list, sr)
			}
		}
		for _, r := range g.ingress {
			emit(r, false)
		}
		for _, r := range g.egress {
			emit(r, true)
		}
	}
	page, next := paginate(list, in.MaxResults, in.NextToken)
	return &ec2.DescribeSecurityGroupRulesOutput{SecurityGroupRules: page, NextToken: next}, nil
}

// expandPerms flattens IpPermissions into single rules.
func (s *ec2Sim) expandPerms(perms []t.IpPermission) ([]sgRule, error) {
	var out []sgRule
	for _, p := range perms {
		proto := aws.ToString(p.IpProtocol)
		if proto != "tcp" && proto != "udp" && proto != "icmp" && proto != "-1" {
			return nil, apiError("InvalidParameterValue", "Invalid value '%s' for IP protocol.", proto)
		}
		r := sgRule{proto: proto, from: aws.ToInt32(p.FromPort), to: aws.ToInt32(p.ToPort)}
		if proto == "-1" {
			r.from, r.to = 0, 0
		} else if r.from > r.to || r.from < 0 || r.to > 65535 {
			return nil, apiError("InvalidParameterValue", "Invalid port range %d-%d", r.from, r.to)
		}
		for _, ipr := range p.IpRanges {
			rr := r
			rr.cidr, rr.desc = aws.ToString(ipr.CidrIp), aws.ToString(ipr.Description)
			if _, err := netip.ParsePrefix(rr.cidr); err != nil {
				return nil, apiError("InvalidParameterValue", "CIDR block %s is malformed", rr.cidr)
			}
			out = append(out, rr)
		}
		for _, pair := range p.UserIdGroupPairs {
			rr := r
			rr.src, rr.desc = aws.ToString(pair.GroupId), aws.ToString(pair.Description)
			if _, ok := s.sgs[rr.src]; !ok {
				return nil, apiError("InvalidGroup.NotFound", "The security group '%s' does not exist", rr.src)
			}
			out = append(out, rr)
		}
		if len(p.IpRanges) == 0 && len(p.UserIdGroupPairs) == 0 {
			return nil, apiError("InvalidParameterValue", "a rule needs a CIDR or a source group")
		}
	}
	return out, nil
}

func sameRule(a, b sgRule) bool {
	return a.proto == b.proto && a.from == b.from && a.to == b.to && a.cidr == b.cidr && a.src == b.src
}

func (s *ec2Sim) AuthorizeSecurityGroupIngress(_ context.Context, in *ec2.AuthorizeSecurityGroupIngressInput) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	g, ok := s.sgs[aws.ToString(in.GroupId)]
	if !ok {
		return nil, apiError("InvalidGroup.NotFound", "The security group '%s' does not exist", aws.ToString(in.GroupId))
	}
	rules, err := s.expandPerms(in.IpPermissions)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		for _, e := range g.ingress {
			if sameRule(r, e) {
				return nil, apiError("InvalidPermission.Duplicate", "the specified rule \"peer: %s%s, %s, from port: %d, to port: %d, ALLOW\" already exists", r.cidr, r.src, r.proto, r.from, r.to)
			}
		}
	}
	out := &ec2.AuthorizeSecurityGroupIngressOutput{Return: aws.Bool(true)}
	for _, r := range rules {
		r.id = s.c.newID("sgr")
		g.ingress = append(g.ingress, r)
		out.SecurityGroupRules = append(out.SecurityGroupRules, t.SecurityGroupRule{SecurityGroupRuleId: aws.String(r.id), GroupId: aws.String(g.id)})
	}
	return out, nil
}

func (s *ec2Sim) RevokeSecurityGroupIngress(_ context.Context, in *ec2.RevokeSecurityGroupIngressInput) (*ec2.RevokeSecurityGroupIngressOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	g, ok := s.sgs[aws.ToString(in.GroupId)]
	if !ok {
		return nil, apiError("InvalidGroup.NotFound", "The security group '%s' does not exist", aws.ToString(in.GroupId))
	}
	g.ingress, ok = s.revoke(g.ingress, in.IpPermissions, in.SecurityGroupRuleIds)
	if !ok {
		return nil, apiError("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
	}
	return &ec2.RevokeSecurityGroupIngressOutput{Return: aws.Bool(true)}, nil
}

func (s *ec2Sim) RevokeSecurityGroupEgress(_ context.Context, in *ec2.RevokeSecurityGroupEgressInput) (*ec2.RevokeSecurityGroupEgressOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	g, ok := s.sgs[aws.ToString(in.GroupId)]
	if !ok {
		return nil, apiError("InvalidGroup.NotFound", "The security group '%s' does not exist", aws.ToString(in.GroupId))
	}
	g.egress, ok = s.revoke(g.egress, in.IpPermissions, in.SecurityGroupRuleIds)
	if !ok {
		return nil, apiError("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
	}
	return &ec2.RevokeSecurityGroupEgressOutput{Return: aws.Bool(true)}, nil
}

func (s *ec2Sim) revoke(have []sgRule, perms []t.IpPermission, ids []string) ([]sgRule, bool) {
	var drop []sgRule
	if len(ids) > 0 {
		for _, id := range ids {
			found := false
			for _, r := range have {
				if r.id == id {
					drop, found = append(drop, r), true
				}
			}
			if !found {
				return have, false
			}
		}
	} else {
		rules, err := s.expandPerms(perms)
		if err != nil {
			return have, false
		}
		for _, want := range rules {
			found := false
			for _, r := range have {
				if sameRule(r, want) {
					drop, found = append(drop, r), true
				}
			}
			if !found {
				return have, false
			}
		}
	}
	var keep []sgRule
	for _, r := range have {
		gone := false
		for _, d := range drop {
			if d.id == r.id {
				gone = true
			}
		}
		if !gone {
			keep = append(keep, r)
		}
	}
	return keep, true
}

func (s *ec2Sim) DeleteSecurityGroup(_ context.Context, in *ec2.DeleteSecurityGroupInput) (*ec2.DeleteSecurityGroupOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.reap()
	id := aws.ToString(in.GroupId)
	g, ok := s.sgs[id]
	if !ok {
		return nil, apiError("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	}
	if g.isDefault {
		return nil, apiError("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", id)
	}
	for _, o := range s.sgs {
		if o.id == id {
			continue
		}
		for _, r := range append(append([]sgRule(nil), o.ingress...), o.egress...) {
			if r.src == id {
				return nil, apiError("DependencyViolation", "resource %s has a dependent object", id)
			}
		}
	}
	for _, e := range s.enis {
		if contains(e.groups, id) {
			return nil, apiError("DependencyViolation", "resource %s has a dependent object", id)
		}
	}
	delete(s.sgs, id)
	return &ec2.DeleteSecurityGroupOutput{Return: aws.Bool(true), GroupId: aws.String(id)}, nil
}

// ---- Network interfaces ----

func (s *ec2Sim) eniOut(e *eni) t.NetworkInterface {
	st := t.NetworkInterfaceStatusInUse
	out := t.NetworkInterface{NetworkInterfaceId: aws.String(e.id), SubnetId: aws.String(e.subnet), VpcId: aws.String(e.vpc),
		Description: aws.String(e.desc), Status: st, RequesterManaged: aws.Bool(e.requesterManaged), TagSet: ec2Tags(e.tags),
		Attachment: &t.NetworkInterfaceAttachment{Status: t.AttachmentStatusAttached}}
	for _, g := range e.groups {
		out.Groups = append(out.Groups, t.GroupIdentifier{GroupId: aws.String(g)})
	}
	return out
}

func (s *ec2Sim) DescribeNetworkInterfaces(_ context.Context, in *ec2.DescribeNetworkInterfacesInput) (*ec2.DescribeNetworkInterfacesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.reap()
	var list []t.NetworkInterface
	for _, id := range in.NetworkInterfaceIds {
		e, ok := s.enis[id]
		if !ok {
			return nil, apiError("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", id)
		}
		list = append(list, s.eniOut(e))
	}
	if len(in.NetworkInterfaceIds) == 0 {
		for _, id := range sortedKeys(s.enis) {
			e := s.enis[id]
			if matchFilters(in.Filters, e.tags, func(n string) []string {
				switch n {
				case "vpc-id":
					return []string{e.vpc}
				case "subnet-id":
					return []string{e.subnet}
				case "group-id":
					return e.groups
				case "description":
					return []string{e.desc}
				case "requester-managed":
					return []string{strconv.FormatBool(e.requesterManaged)}
				case "status":
					return []string{"in-use"}
				}
				return nil
			}) {
				list = append(list, s.eniOut(e))
			}
		}
	}
	page, next := paginate(list, in.MaxResults, in.NextToken)
	return &ec2.DescribeNetworkInterfacesOutput{NetworkInterfaces: page, NextToken: next}, nil
}

func (s *ec2Sim) DeleteNetworkInterface(_ context.Context, in *ec2.DeleteNetworkInterfaceInput) (*ec2.DeleteNetworkInterfaceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.reap()
	id := aws.ToString(in.NetworkInterfaceId)
	e, ok := s.enis[id]
	if !ok {
		return nil, apiError("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", id)
	}
	if e.requesterManaged {
		// ENIs that AWS services manage cannot be deleted by the account.
		return nil, apiError("OperationNotPermitted", "You are not allowed to manage '%s' attachments.", id)
	}
	delete(s.enis, id)
	return &ec2.DeleteNetworkInterfaceOutput{}, nil
}

func (s *ec2Sim) CreateTags(_ context.Context, in *ec2.CreateTagsInput) (*ec2.CreateTagsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	for _, id := range in.Resources {
		var m map[string]string
		switch {
		case s.vpcs[id] != nil:
			m = s.vpcs[id].tags
		case s.subnets[id] != nil:
			m = s.subnets[id].tags
		case s.igws[id] != nil:
			m = s.igws[id].tags
		case s.rts[id] != nil:
			m = s.rts[id].tags
		case s.sgs[id] != nil:
			m = s.sgs[id].tags
		case s.enis[id] != nil:
			m = s.enis[id].tags
		case s.flows[id] != nil:
			m = s.flows[id].tags
		default:
			return nil, apiError("InvalidID", "The ID '%s' is not valid", id)
		}
		for _, tg := range in.Tags {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
	}
	return &ec2.CreateTagsOutput{}, nil
}
