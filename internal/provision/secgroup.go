package provision

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// secGroupKind provisions one security group of the chain
// load balancer → tasks → Redis. Node.Role is "alb", "tasks" or "redis".
// Ingress rules are converged exactly: missing ones are added, any other is
// revoked. Egress keeps AWS's default allow-all (tasks pull images over the
// internet gateway; the load balancer reaches targets).
type secGroupKind struct{}

func init() { Register(secGroupKind{}) }

func (secGroupKind) Type() string { return "ec2.security-group" }

type ingress struct {
	proto    string
	from, to int32
	cidr     string
	group    string
}

func (r ingress) String() string {
	src := r.cidr
	if r.group != "" {
		src = r.group
	}
	if r.from == r.to {
		return fmt.Sprintf("ingress %s/%d from %s", r.proto, r.from, src)
	}
	return fmt.Sprintf("ingress %s/%d-%d from %s", r.proto, r.from, r.to, src)
}

type sgObs struct {
	name    string
	ingress []ingress
}

// GroupName is the deterministic name of the stack's group for a role.
func sgName(env *Env, role string) string { return env.Stack() + "-" + role }

func sgDescription(role string) string {
	switch role {
	case "alb":
		return "wbo-deploy load balancer: HTTP and HTTPS from anywhere"
	case "tasks":
		return "wbo-deploy WBO tasks: app port from the load balancer only"
	case "redis":
		return "wbo-deploy Redis: 6379 from the tasks only"
	}
	return "wbo-deploy " + role
}

func (k secGroupKind) want(env *Env, n *Node) ([]ingress, error) {
	switch n.Role {
	case "alb":
		return []ingress{{proto: "tcp", from: 80, to: 80, cidr: "0.0.0.0/0"}, {proto: "tcp", from: 443, to: 443, cidr: "0.0.0.0/0"}}, nil
	case "tasks":
		id, err := env.RefID("sg-alb")
		port := int32(env.Cfg.App.Port)
		return []ingress{{proto: "tcp", from: port, to: port, group: id}}, err
	case "redis":
		id, err := env.RefID("sg-tasks")
		return []ingress{{proto: "tcp", from: 6379, to: 6379, group: id}}, err
	}
	return nil, fmt.Errorf("unknown security group role %q", n.Role)
}

func (k secGroupKind) observe(n *Node, g ec2types.SecurityGroup) *Observed {
	raw := &sgObs{name: aws.ToString(g.GroupName)}
	for _, p := range g.IpPermissions {
		base := ingress{proto: aws.ToString(p.IpProtocol), from: aws.ToInt32(p.FromPort), to: aws.ToInt32(p.ToPort)}
		for _, r := range p.IpRanges {
			x := base
			x.cidr = aws.ToString(r.CidrIp)
			raw.ingress = append(raw.ingress, x)
		}
		for _, pair := range p.UserIdGroupPairs {
			x := base
			x.group = aws.ToString(pair.GroupId)
			raw.ingress = append(raw.ingress, x)
		}
		for _, r := range p.Ipv6Ranges {
			x := base
			x.cidr = aws.ToString(r.CidrIpv6)
			raw.ingress = append(raw.ingress, x)
		}
	}
	obs := &Observed{Rec: NewRecord(n, aws.ToString(g.GroupId)), State: "available", Raw: raw}
	obs.Rec.Attrs["name"] = raw.name
	return obs
}

func (k secGroupKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	if rec != nil && rec.ID != "" {
		out, err := env.AWS.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{rec.ID}})
		if err != nil && !awserr.IsNotFound(err) {
			return nil, fmt.Errorf("describe security group %s: %w", rec.ID, err)
		}
		if err == nil && len(out.SecurityGroups) == 1 {
			return k.observe(n, out.SecurityGroups[0]), nil
		}
	}
	filters := ownFilters(env, n.Name)
	out, err := env.AWS.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: filters})
	if err != nil {
		return nil, fmt.Errorf("find security group %s by tags: %w", n.Name, err)
	}
	if len(out.SecurityGroups) == 0 {
		// The name is unique in the VPC, and the VPC is the stack's own.
		if vpcID, err := env.RefID("vpc"); err == nil {
			out, err = env.AWS.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
				{Name: aws.String("vpc-id"), Values: []string{vpcID}},
				{Name: aws.String("group-name"), Values: []string{sgName(env, n.Role)}},
			}})
			if err != nil {
				return nil, fmt.Errorf("find security group %s by name: %w", sgName(env, n.Role), err)
			}
		}
	}
	var ids []string
	for _, g := range out.SecurityGroups {
		ids = append(ids, aws.ToString(g.GroupId))
	}
	ids, err = stillThere(ctx, "security group", ids, func(ctx context.Context, id string) error {
		_, err := env.AWS.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
		return err
	})
	if err != nil {
		return nil, err
	}
	id, _ := pickOne(ids)
	for _, g := range out.SecurityGroups {
		if aws.ToString(g.GroupId) == id {
			return k.observe(n, g), nil
		}
	}
	return nil, nil
}

func (k secGroupKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	vpcID, err := env.RefID("vpc")
	if err != nil {
		return nil, err
	}
	name := sgName(env, n.Role)
	out, err := env.AWS.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String(name), Description: aws.String(sgDescription(n.Role)), VpcId: aws.String(vpcID),
		TagSpecifications: ec2TagSpec(env, n.Name, ec2types.ResourceTypeSecurityGroup),
	})
	if err != nil {
		return nil, fmt.Errorf("create security group %s: %w", name, err)
	}
	obs := &Observed{Rec: NewRecord(n, aws.ToString(out.GroupId)), State: "available", Raw: &sgObs{name: name}}
	obs.Rec.Attrs["name"] = name
	if err := env.Record(obs.Rec); err != nil {
		return nil, err
	}
	return obs, nil
}

func (k secGroupKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	raw := obs.Raw.(*sgObs)
	want, err := k.want(env, n)
	if err != nil {
		return []Change{{Field: "ingress", Old: "?", New: err.Error()}}
	}
	var cs []Change
	for _, w := range want {
		if !hasRule(raw.ingress, w) {
			cs = append(cs, Change{Field: w.String(), Old: "missing", New: "allowed"})
		}
	}
	for _, h := range raw.ingress {
		if !hasRule(want, h) {
			cs = append(cs, Change{Field: h.String(), Old: "allowed", New: "revoked (not in the configuration)"})
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Field < cs[j].Field })
	return cs
}

func hasRule(list []ingress, r ingress) bool {
	for _, x := range list {
		if x == r {
			return true
		}
	}
	return false
}

func (r ingress) perm() ec2types.IpPermission {
	p := ec2types.IpPermission{IpProtocol: aws.String(r.proto), FromPort: aws.Int32(r.from), ToPort: aws.Int32(r.to)}
	if r.group != "" {
		p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(r.group)}}
	} else {
		p.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(r.cidr)}}
	}
	return p
}

func (k secGroupKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	raw := obs.Raw.(*sgObs)
	want, err := k.want(env, n)
	if err != nil {
		return err
	}
	var add, revoke []ec2types.IpPermission
	for _, w := range want {
		if !hasRule(raw.ingress, w) {
			add = append(add, w.perm())
		}
	}
	for _, h := range raw.ingress {
		if !hasRule(want, h) {
			revoke = append(revoke, h.perm())
		}
	}
	if len(add) > 0 {
		_, err := env.AWS.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(obs.Rec.ID), IpPermissions: add})
		if err != nil && !awserr.HasCode(err, "InvalidPermission.Duplicate") {
			return fmt.Errorf("authorize ingress on %s: %w", obs.Rec.ID, err)
		}
	}
	if len(revoke) > 0 {
		_, err := env.AWS.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(obs.Rec.ID), IpPermissions: revoke})
		if err != nil && !awserr.HasCode(err, "InvalidPermission.NotFound") {
			return fmt.Errorf("revoke ingress on %s: %w", obs.Rec.ID, err)
		}
	}
	raw.ingress = want
	return nil
}

func (k secGroupKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	_, err := env.AWS.EC2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(rec.ID)})
	if err != nil && !awserr.IsNotFound(err) {
		if awserr.IsDependency(err) {
			reapDetachedENIs(ctx, env, "group-id", rec.ID)
		}
		return fmt.Errorf("delete security group %s: %w", rec.ID, err)
	}
	return nil
}

func (k secGroupKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var out []state.Resource
	p := ec2.NewDescribeSecurityGroupsPaginator(env.AWS.EC2, &ec2.DescribeSecurityGroupsInput{Filters: stackFilters(env)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe security groups: %w", err)
		}
		for _, g := range page.SecurityGroups {
			out = append(out, state.Resource{Name: ec2TagValue(g.Tags, TagResource), Kind: k.Type(), ID: aws.ToString(g.GroupId)})
		}
	}
	return out, nil
}
