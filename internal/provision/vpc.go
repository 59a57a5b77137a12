package provision

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// vpcKind provisions the VPC, with DNS support and DNS hostnames on.
type vpcKind struct{}

func init() { Register(vpcKind{}) }

func (vpcKind) Type() string { return "ec2.vpc" }

type vpcObs struct {
	cidr              string
	dnsSupport, dnsHN bool
	// The VPC's default security group keeps no rules (FSBP EC2.2): nothing
	// of the stack uses it, and an empty group cannot expose what someone
	// later attaches to it by mistake. known is false until described.
	defaultSG     string
	defIn, defOut []ec2types.IpPermission
	defaultKnown  bool
}

func (k vpcKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	var v *ec2types.Vpc
	if rec != nil && rec.ID != "" {
		out, err := env.AWS.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{rec.ID}})
		if err != nil && !awserr.IsNotFound(err) {
			return nil, fmt.Errorf("describe vpc %s: %w", rec.ID, err)
		}
		if err == nil && len(out.Vpcs) == 1 {
			v = &out.Vpcs[0]
		}
	}
	if v == nil {
		out, err := env.AWS.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: ownFilters(env, n.Name)})
		if err != nil {
			return nil, fmt.Errorf("find vpc by tags: %w", err)
		}
		var ids []string
		for _, x := range out.Vpcs {
			ids = append(ids, aws.ToString(x.VpcId))
		}
		ids, err = stillThere(ctx, "vpc", ids, func(ctx context.Context, id string) error {
			_, err := env.AWS.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
			return err
		})
		if err != nil {
			return nil, err
		}
		id, _ := pickOne(ids)
		for i := range out.Vpcs {
			if aws.ToString(out.Vpcs[i].VpcId) == id {
				v = &out.Vpcs[i]
			}
		}
	}
	if v == nil {
		return nil, nil
	}
	id := aws.ToString(v.VpcId)
	obs := &Observed{Rec: NewRecord(n, id), State: string(v.State), Pending: v.State != ec2types.VpcStateAvailable}
	obs.Rec.Attrs["cidr"] = aws.ToString(v.CidrBlock)
	raw := &vpcObs{cidr: aws.ToString(v.CidrBlock)}
	for _, attr := range []ec2types.VpcAttributeName{ec2types.VpcAttributeNameEnableDnsSupport, ec2types.VpcAttributeNameEnableDnsHostnames} {
		a, err := env.AWS.EC2.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: aws.String(id), Attribute: attr})
		if err != nil {
			return nil, fmt.Errorf("describe vpc %s attribute %s: %w", id, attr, err)
		}
		if a.EnableDnsSupport != nil {
			raw.dnsSupport = aws.ToBool(a.EnableDnsSupport.Value)
		}
		if a.EnableDnsHostnames != nil {
			raw.dnsHN = aws.ToBool(a.EnableDnsHostnames.Value)
		}
	}
	if err := describeDefaultSG(ctx, env, id, raw); err != nil {
		return nil, err
	}
	obs.Raw = raw
	return obs, nil
}

// describeDefaultSG observes the VPC's default security group and its rules.
func describeDefaultSG(ctx context.Context, env *Env, vpcID string, raw *vpcObs) error {
	out, err := env.AWS.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpcID}},
		{Name: aws.String("group-name"), Values: []string{"default"}},
	}})
	if err != nil {
		return fmt.Errorf("describe the default security group of %s: %w", vpcID, err)
	}
	for _, g := range out.SecurityGroups {
		raw.defaultSG, raw.defIn, raw.defOut = aws.ToString(g.GroupId), g.IpPermissions, g.IpPermissionsEgress
		raw.defaultKnown = true
	}
	return nil
}

func (k vpcKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	out, err := env.AWS.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{
		CidrBlock:         aws.String(env.Cfg.Network.VPCCIDR),
		TagSpecifications: ec2TagSpec(env, n.Name, ec2types.ResourceTypeVpc),
	})
	if err != nil {
		return nil, fmt.Errorf("create vpc %s: %w", env.Cfg.Network.VPCCIDR, err)
	}
	id := aws.ToString(out.Vpc.VpcId)
	rec := NewRecord(n, id)
	rec.Attrs["cidr"] = aws.ToString(out.Vpc.CidrBlock)
	if err := env.Record(rec); err != nil {
		return nil, err
	}
	// A new VPC is briefly invisible (eventual consistency) and then pending:
	// the SDK's VpcExists waiter retries InvalidVpcID.NotFound, then
	// VpcAvailable waits for the state.
	minD, maxD := env.Clock.WaiterDelays(time.Second, 5*time.Second)
	in := &ec2.DescribeVpcsInput{VpcIds: []string{id}}
	if err := ec2.NewVpcExistsWaiter(env.AWS.EC2, func(o *ec2.VpcExistsWaiterOptions) { o.MinDelay, o.MaxDelay = minD, maxD }).
		Wait(ctx, in, env.Clock.WaitTimeout(2*time.Minute)); err != nil {
		return nil, fmt.Errorf("wait for vpc %s to exist: %w", id, err)
	}
	if err := ec2.NewVpcAvailableWaiter(env.AWS.EC2, func(o *ec2.VpcAvailableWaiterOptions) { o.MinDelay, o.MaxDelay = minD, maxD }).
		Wait(ctx, in, env.Clock.WaitTimeout(5*time.Minute)); err != nil {
		return nil, fmt.Errorf("wait for vpc %s to be available: %w", id, err)
	}
	// CreateVpc turns DNS support on and DNS hostnames off (EC2 API reference).
	return &Observed{Rec: rec, State: "available", Raw: &vpcObs{cidr: rec.Attrs["cidr"], dnsSupport: true, dnsHN: false}}, nil
}

func (k vpcKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	raw := obs.Raw.(*vpcObs)
	var cs []Change
	if raw.cidr != env.Cfg.Network.VPCCIDR {
		cs = append(cs, Change{Field: "cidr", Old: raw.cidr, New: env.Cfg.Network.VPCCIDR, Replace: true,
			Why: "a VPC's primary CIDR cannot change; every resource in the VPC would be replaced"})
	}
	if !raw.dnsSupport {
		cs = append(cs, Change{Field: "enable_dns_support", Old: "false", New: "true"})
	}
	if !raw.dnsHN {
		cs = append(cs, Change{Field: "enable_dns_hostnames", Old: "false", New: "true"})
	}
	switch {
	case !raw.defaultKnown:
		cs = append(cs, Change{Field: "default security group rules", Old: "AWS defaults", New: "none (FSBP EC2.2)"})
	case len(raw.defIn)+len(raw.defOut) > 0:
		cs = append(cs, Change{Field: "default security group rules",
			Old: fmt.Sprintf("%d inbound, %d outbound", len(raw.defIn), len(raw.defOut)), New: "none (FSBP EC2.2)"})
	}
	return cs
}

func (k vpcKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	// ModifyVpcAttribute takes one attribute per call; support must be on
	// before hostnames.
	for _, c := range changes {
		in := &ec2.ModifyVpcAttributeInput{VpcId: aws.String(obs.Rec.ID)}
		switch c.Field {
		case "enable_dns_support":
			in.EnableDnsSupport = &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}
		case "enable_dns_hostnames":
			in.EnableDnsHostnames = &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}
		case "default security group rules":
			if err := k.emptyDefaultSG(ctx, env, obs.Rec.ID, obs.Raw.(*vpcObs)); err != nil {
				return err
			}
			continue
		default:
			continue
		}
		if _, err := env.AWS.EC2.ModifyVpcAttribute(ctx, in); err != nil {
			return fmt.Errorf("modify vpc %s %s: %w", obs.Rec.ID, c.Field, err)
		}
	}
	return nil
}

func (k vpcKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	_, err := env.AWS.EC2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(rec.ID)})
	if err != nil && !awserr.IsNotFound(err) {
		return fmt.Errorf("delete vpc %s: %w", rec.ID, err)
	}
	return nil
}

func (k vpcKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var out []state.Resource
	p := ec2.NewDescribeVpcsPaginator(env.AWS.EC2, &ec2.DescribeVpcsInput{Filters: stackFilters(env)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe vpcs: %w", err)
		}
		for _, v := range page.Vpcs {
			out = append(out, state.Resource{Name: ec2TagValue(v.Tags, TagResource), Kind: k.Type(), ID: aws.ToString(v.VpcId)})
		}
	}
	return out, nil
}

// emptyDefaultSG revokes every rule of the VPC's default security group.
func (k vpcKind) emptyDefaultSG(ctx context.Context, env *Env, vpcID string, raw *vpcObs) error {
	if !raw.defaultKnown {
		if err := describeDefaultSG(ctx, env, vpcID, raw); err != nil {
			return err
		}
	}
	if raw.defaultSG == "" {
		return nil
	}
	if len(raw.defIn) > 0 {
		_, err := env.AWS.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(raw.defaultSG), IpPermissions: raw.defIn})
		if err != nil && !awserr.HasCode(err, "InvalidPermission.NotFound") {
			return fmt.Errorf("revoke the default security group's inbound rules (%s): %w", raw.defaultSG, err)
		}
	}
	if len(raw.defOut) > 0 {
		_, err := env.AWS.EC2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(raw.defaultSG), IpPermissions: raw.defOut})
		if err != nil && !awserr.HasCode(err, "InvalidPermission.NotFound") {
			return fmt.Errorf("revoke the default security group's outbound rules (%s): %w", raw.defaultSG, err)
		}
	}
	raw.defIn, raw.defOut = nil, nil
	return nil
}
