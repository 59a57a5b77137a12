package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// igwKind provisions the internet gateway and its attachment to the VPC.
type igwKind struct{}

func init() { Register(igwKind{}) }

func (igwKind) Type() string { return "ec2.internet-gateway" }

func (k igwKind) observe(n *Node, g ec2types.InternetGateway) *Observed {
	obs := &Observed{Rec: NewRecord(n, aws.ToString(g.InternetGatewayId)), State: "available"}
	attached := ""
	for _, a := range g.Attachments {
		attached = aws.ToString(a.VpcId)
	}
	obs.Raw = attached
	return obs
}

func (k igwKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	if rec != nil && rec.ID != "" {
		out, err := env.AWS.EC2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{rec.ID}})
		if err != nil && !awserr.IsNotFound(err) {
			return nil, fmt.Errorf("describe internet gateway %s: %w", rec.ID, err)
		}
		if err == nil && len(out.InternetGateways) == 1 {
			return k.observe(n, out.InternetGateways[0]), nil
		}
	}
	out, err := env.AWS.EC2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: ownFilters(env, n.Name)})
	if err != nil {
		return nil, fmt.Errorf("find internet gateway by tags: %w", err)
	}
	var ids []string
	for _, g := range out.InternetGateways {
		ids = append(ids, aws.ToString(g.InternetGatewayId))
	}
	id, _ := pickOne(ids)
	for _, g := range out.InternetGateways {
		if aws.ToString(g.InternetGatewayId) == id {
			return k.observe(n, g), nil
		}
	}
	return nil, nil
}

func (k igwKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	out, err := env.AWS.EC2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{
		TagSpecifications: ec2TagSpec(env, n.Name, ec2types.ResourceTypeInternetGateway),
	})
	if err != nil {
		return nil, fmt.Errorf("create internet gateway: %w", err)
	}
	obs := k.observe(n, *out.InternetGateway)
	if err := env.Record(obs.Rec); err != nil {
		return nil, err
	}
	return obs, nil
}

func (k igwKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	vpcID, _ := env.RefID("vpc")
	if attached := obs.Raw.(string); attached != vpcID {
		return []Change{{Field: "attachment", Old: orNone(attached), New: orNone(vpcID)}}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func (k igwKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	vpcID, err := env.RefID("vpc")
	if err != nil {
		return err
	}
	if attached := obs.Raw.(string); attached != "" {
		if _, err := env.AWS.EC2.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{
			InternetGatewayId: aws.String(obs.Rec.ID), VpcId: aws.String(attached)}); err != nil && !awserr.HasCode(err, "Gateway.NotAttached") {
			return fmt.Errorf("detach internet gateway %s from %s: %w", obs.Rec.ID, attached, err)
		}
	}
	_, err = env.AWS.EC2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{
		InternetGatewayId: aws.String(obs.Rec.ID), VpcId: aws.String(vpcID)})
	if err != nil {
		return fmt.Errorf("attach internet gateway %s to %s: %w", obs.Rec.ID, vpcID, err)
	}
	obs.Raw = vpcID
	return nil
}

func (k igwKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	out, err := env.AWS.EC2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{rec.ID}})
	if awserr.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("describe internet gateway %s: %w", rec.ID, err)
	}
	for _, g := range out.InternetGateways {
		for _, a := range g.Attachments {
			// Detaching fails with DependencyViolation while public
			// addresses (ALB, task ENIs) remain mapped in the VPC; the
			// engine retries until AWS has released them.
			_, err := env.AWS.EC2.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{
				InternetGatewayId: aws.String(rec.ID), VpcId: a.VpcId})
			if err != nil && !awserr.HasCode(err, "Gateway.NotAttached") && !awserr.IsNotFound(err) {
				return fmt.Errorf("detach internet gateway %s: %w", rec.ID, err)
			}
		}
	}
	_, err = env.AWS.EC2.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: aws.String(rec.ID)})
	if err != nil && !awserr.IsNotFound(err) {
		return fmt.Errorf("delete internet gateway %s: %w", rec.ID, err)
	}
	return nil
}

func (k igwKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var out []state.Resource
	p := ec2.NewDescribeInternetGatewaysPaginator(env.AWS.EC2, &ec2.DescribeInternetGatewaysInput{Filters: stackFilters(env)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe internet gateways: %w", err)
		}
		for _, g := range page.InternetGateways {
			out = append(out, state.Resource{Name: ec2TagValue(g.Tags, TagResource), Kind: k.Type(), ID: aws.ToString(g.InternetGatewayId)})
		}
	}
	return out, nil
}
