package provision

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// subnetKind provisions one subnet. Node.Role is "public" (tasks and the load
// balancer; public IPs on launch) or "private" (Redis); Node.Index picks the
// CIDR from network.public_subnets / private_subnets and the AZ.
type subnetKind struct{}

func init() { Register(subnetKind{}) }

func (subnetKind) Type() string { return "ec2.subnet" }

type subnetObs struct {
	cidr, az string
	mapIP    bool
}

func (k subnetKind) want(ctx context.Context, env *Env, n *Node) (cidr, az string, public bool, err error) {
	list := env.Cfg.Network.PrivateSubnets
	public = n.Role == "public"
	if public {
		list = env.Cfg.Network.PublicSubnets
	}
	if n.Index >= len(list) {
		return "", "", false, fmt.Errorf("no %s subnet %d in the configuration", n.Role, n.Index)
	}
	if env.AWS == nil && len(env.Cfg.Network.AvailabilityZones) != 2 {
		return list[n.Index], "", public, nil
	}
	zs, err := env.AZs(ctx)
	if err != nil {
		return "", "", false, err
	}
	return list[n.Index], zs[n.Index%len(zs)], public, nil
}

func (k subnetKind) observe(n *Node, s ec2types.Subnet) *Observed {
	obs := &Observed{Rec: NewRecord(n, aws.ToString(s.SubnetId)), State: string(s.State)}
	obs.Rec.Attrs["cidr"] = aws.ToString(s.CidrBlock)
	obs.Rec.Attrs["az"] = aws.ToString(s.AvailabilityZone)
	obs.Raw = &subnetObs{cidr: aws.ToString(s.CidrBlock), az: aws.ToString(s.AvailabilityZone), mapIP: aws.ToBool(s.MapPublicIpOnLaunch)}
	return obs
}

func (k subnetKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	if rec != nil && rec.ID != "" {
		out, err := env.AWS.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{rec.ID}})
		if err != nil && !awserr.IsNotFound(err) {
			return nil, fmt.Errorf("describe subnet %s: %w", rec.ID, err)
		}
		if err == nil && len(out.Subnets) == 1 {
			return k.observe(n, out.Subnets[0]), nil
		}
	}
	out, err := env.AWS.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: ownFilters(env, n.Name)})
	if err != nil {
		return nil, fmt.Errorf("find subnet %s by tags: %w", n.Name, err)
	}
	var ids []string
	for _, s := range out.Subnets {
		ids = append(ids, aws.ToString(s.SubnetId))
	}
	ids, err = stillThere(ctx, "subnet", ids, func(ctx context.Context, id string) error {
		_, err := env.AWS.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})
		return err
	})
	if err != nil {
		return nil, err
	}
	id, _ := pickOne(ids)
	for _, s := range out.Subnets {
		if aws.ToString(s.SubnetId) == id {
			return k.observe(n, s), nil
		}
	}
	return nil, nil
}

func (k subnetKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	cidr, az, _, err := k.want(ctx, env, n)
	if err != nil {
		return nil, err
	}
	vpcID, err := env.RefID("vpc")
	if err != nil {
		return nil, err
	}
	out, err := env.AWS.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{
		VpcId: aws.String(vpcID), CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(az),
		TagSpecifications: ec2TagSpec(env, n.Name, ec2types.ResourceTypeSubnet),
	})
	if err != nil {
		return nil, fmt.Errorf("create subnet %s in %s: %w", cidr, az, err)
	}
	obs := k.observe(n, *out.Subnet)
	if err := env.Record(obs.Rec); err != nil {
		return nil, err
	}
	return obs, nil
}

func (k subnetKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	raw := obs.Raw.(*subnetObs)
	var cs []Change
	cidr, az, public, err := k.want(context.Background(), env, n)
	if err != nil {
		return []Change{{Field: "configuration", Old: "", New: err.Error()}}
	}
	if raw.cidr != cidr {
		cs = append(cs, Change{Field: "cidr", Old: raw.cidr, New: cidr, Replace: true, Why: "a subnet's CIDR cannot change"})
	}
	if az != "" && raw.az != az {
		cs = append(cs, Change{Field: "availability_zone", Old: raw.az, New: az, Replace: true, Why: "a subnet cannot move between zones"})
	}
	if raw.mapIP != public {
		cs = append(cs, Change{Field: "map_public_ip_on_launch", Old: strconv.FormatBool(raw.mapIP), New: strconv.FormatBool(public)})
	}
	return cs
}

func (k subnetKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	for _, c := range changes {
		if c.Field == "map_public_ip_on_launch" {
			_, err := env.AWS.EC2.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{
				SubnetId:            aws.String(obs.Rec.ID),
				MapPublicIpOnLaunch: &ec2types.AttributeBooleanValue{Value: aws.Bool(c.New == "true")},
			})
			if err != nil {
				return fmt.Errorf("modify subnet %s: %w", obs.Rec.ID, err)
			}
		}
	}
	return nil
}

func (k subnetKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	_, err := env.AWS.EC2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(rec.ID)})
	if err != nil && !awserr.IsNotFound(err) {
		if awserr.IsDependency(err) {
			reapDetachedENIs(ctx, env, "subnet-id", rec.ID)
		}
		return fmt.Errorf("delete subnet %s: %w", rec.ID, err)
	}
	return nil
}

func (k subnetKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var out []state.Resource
	p := ec2.NewDescribeSubnetsPaginator(env.AWS.EC2, &ec2.DescribeSubnetsInput{Filters: stackFilters(env)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe subnets: %w", err)
		}
		for _, s := range page.Subnets {
			out = append(out, state.Resource{Name: ec2TagValue(s.Tags, TagResource), Kind: k.Type(), ID: aws.ToString(s.SubnetId)})
		}
	}
	return out, nil
}

// reapDetachedENIs deletes network interfaces that block a subnet or
// security group deletion when they are detached ("available") and not
// managed by an AWS service: leftovers of our own tasks. Requester-managed
// ENIs (ALB, Fargate) are released by AWS itself minutes after their owner
// is gone; the engine's retry waits for those. Errors are ignored: the
// deletion is retried anyway.
func reapDetachedENIs(ctx context.Context, env *Env, filter, id string) {
	out, err := env.AWS.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{
		Filters: []ec2types.Filter{
			{Name: aws.String(filter), Values: []string{id}},
			{Name: aws.String("status"), Values: []string{"available"}},
		},
	})
	if err != nil {
		return
	}
	for _, e := range out.NetworkInterfaces {
		if aws.ToBool(e.RequesterManaged) {
			continue
		}
		_, _ = env.AWS.EC2.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: e.NetworkInterfaceId})
	}
}
