package provision

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// routeTableKind provisions a route table with its routes and subnet
// associations. Role "public" adds 0.0.0.0/0 through the internet gateway
// (node "igw"); the subnets to associate are the node's subnet dependencies.
type routeTableKind struct{}

func init() { Register(routeTableKind{}) }

func (routeTableKind) Type() string { return "ec2.route-table" }

type rtObs struct {
	defaultRoute string            // gateway of 0.0.0.0/0, "" if none
	assocs       map[string]string // subnet ID -> association ID
}

func (k routeTableKind) observe(n *Node, rt ec2types.RouteTable) *Observed {
	raw := &rtObs{assocs: map[string]string{}}
	for _, r := range rt.Routes {
		if aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" {
			raw.defaultRoute = aws.ToString(r.GatewayId)
			if r.State == ec2types.RouteStateBlackhole {
				raw.defaultRoute = "blackhole:" + raw.defaultRoute
			}
		}
	}
	for _, a := range rt.Associations {
		if s := aws.ToString(a.SubnetId); s != "" {
			raw.assocs[s] = aws.ToString(a.RouteTableAssociationId)
		}
	}
	return &Observed{Rec: NewRecord(n, aws.ToString(rt.RouteTableId)), State: "available", Raw: raw}
}

func (k routeTableKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	if rec != nil && rec.ID != "" {
		out, err := env.AWS.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{rec.ID}})
		if err != nil && !awserr.IsNotFound(err) {
			return nil, fmt.Errorf("describe route table %s: %w", rec.ID, err)
		}
		if err == nil && len(out.RouteTables) == 1 {
			return k.observe(n, out.RouteTables[0]), nil
		}
	}
	out, err := env.AWS.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: ownFilters(env, n.Name)})
	if err != nil {
		return nil, fmt.Errorf("find route table %s by tags: %w", n.Name, err)
	}
	var ids []string
	for _, rt := range out.RouteTables {
		ids = append(ids, aws.ToString(rt.RouteTableId))
	}
	id, _ := pickOne(ids)
	for _, rt := range out.RouteTables {
		if aws.ToString(rt.RouteTableId) == id {
			return k.observe(n, rt), nil
		}
	}
	return nil, nil
}

func (k routeTableKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	vpcID, err := env.RefID("vpc")
	if err != nil {
		return nil, err
	}
	out, err := env.AWS.EC2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{
		VpcId: aws.String(vpcID), TagSpecifications: ec2TagSpec(env, n.Name, ec2types.ResourceTypeRouteTable),
	})
	if err != nil {
		return nil, fmt.Errorf("create route table: %w", err)
	}
	obs := k.observe(n, *out.RouteTable)
	if err := env.Record(obs.Rec); err != nil {
		return nil, err
	}
	return obs, nil
}

// wantSubnets returns the subnet IDs this table must be associated with.
func (k routeTableKind) wantSubnets(env *Env, n *Node) []string {
	var ids []string
	for _, d := range n.Deps {
		if strings.HasPrefix(d, "subnet-") {
			if id, err := env.RefID(d); err == nil {
				ids = append(ids, id)
			}
		}
	}
	sort.Strings(ids)
	return ids
}

func (k routeTableKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	raw := obs.Raw.(*rtObs)
	var cs []Change
	if n.Role == "public" {
		igwID, _ := env.RefID("igw")
		if raw.defaultRoute != igwID {
			cs = append(cs, Change{Field: "route 0.0.0.0/0", Old: orNone(raw.defaultRoute), New: igwID})
		}
	}
	for _, s := range k.wantSubnets(env, n) {
		if _, ok := raw.assocs[s]; !ok {
			cs = append(cs, Change{Field: "association " + s, Old: "(none)", New: "associated"})
		}
	}
	return cs
}

func (k routeTableKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	raw := obs.Raw.(*rtObs)
	for _, c := range changes {
		switch {
		case c.Field == "route 0.0.0.0/0":
			in := &ec2.CreateRouteInput{RouteTableId: aws.String(obs.Rec.ID), DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(c.New)}
			var err error
			if raw.defaultRoute == "" {
				_, err = env.AWS.EC2.CreateRoute(ctx, in)
			}
			if raw.defaultRoute != "" || awserr.HasCode(err, "RouteAlreadyExists") {
				_, err = env.AWS.EC2.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: in.RouteTableId,
					DestinationCidrBlock: in.DestinationCidrBlock, GatewayId: in.GatewayId})
			}
			if err != nil {
				return fmt.Errorf("route 0.0.0.0/0 of %s via %s: %w", obs.Rec.ID, c.New, err)
			}
			raw.defaultRoute = c.New
		case strings.HasPrefix(c.Field, "association "):
			subnetID := strings.TrimPrefix(c.Field, "association ")
			if err := k.associate(ctx, env, obs.Rec.ID, subnetID); err != nil {
				return err
			}
			raw.assocs[subnetID] = "new"
		}
	}
	return nil
}

// associate links a subnet; if the subnet is explicitly associated with
// another table (left behind by hand), that association is replaced.
func (k routeTableKind) associate(ctx context.Context, env *Env, rtID, subnetID string) error {
	_, err := env.AWS.EC2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(rtID), SubnetId: aws.String(subnetID)})
	if !awserr.HasCode(err, "Resource.AlreadyAssociated") {
		if err != nil {
			return fmt.Errorf("associate route table %s with %s: %w", rtID, subnetID, err)
		}
		return nil
	}
	out, derr := env.AWS.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{
		{Name: aws.String("association.subnet-id"), Values: []string{subnetID}}}})
	if derr != nil {
		return fmt.Errorf("find route table of %s: %w", subnetID, derr)
	}
	for _, rt := range out.RouteTables {
		for _, a := range rt.Associations {
			if aws.ToString(a.SubnetId) == subnetID && aws.ToString(rt.RouteTableId) != rtID {
				if _, err := env.AWS.EC2.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: a.RouteTableAssociationId}); err != nil {
					return fmt.Errorf("disassociate %s: %w", aws.ToString(a.RouteTableAssociationId), err)
				}
			}
		}
	}
	if _, err := env.AWS.EC2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(rtID), SubnetId: aws.String(subnetID)}); err != nil {
		return fmt.Errorf("associate route table %s with %s: %w", rtID, subnetID, err)
	}
	return nil
}

func (k routeTableKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	out, err := env.AWS.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{rec.ID}})
	if awserr.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("describe route table %s: %w", rec.ID, err)
	}
	for _, rt := range out.RouteTables {
		for _, a := range rt.Associations {
			if aws.ToBool(a.Main) {
				continue
			}
			_, err := env.AWS.EC2.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: a.RouteTableAssociationId})
			if err != nil && !awserr.IsNotFound(err) {
				return fmt.Errorf("disassociate %s: %w", aws.ToString(a.RouteTableAssociationId), err)
			}
		}
	}
	_, err = env.AWS.EC2.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(rec.ID)})
	if err != nil && !awserr.IsNotFound(err) {
		return fmt.Errorf("delete route table %s: %w", rec.ID, err)
	}
	return nil
}

func (k routeTableKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var out []state.Resource
	p := ec2.NewDescribeRouteTablesPaginator(env.AWS.EC2, &ec2.DescribeRouteTablesInput{Filters: stackFilters(env)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe route tables: %w", err)
		}
		for _, rt := range page.RouteTables {
			out = append(out, state.Resource{Name: ec2TagValue(rt.Tags, TagResource), Kind: k.Type(), ID: aws.ToString(rt.RouteTableId)})
		}
	}
	return out, nil
}
