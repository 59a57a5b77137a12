package security

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// stackVPC returns the account's one VPC (the stack's).
func stackVPC(t *testing.T, d *deployment) ec2types.Vpc {
	t.Helper()
	out, err := d.sdk.EC2.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{})
	mustNoErr(t, "describe vpcs", err)
	if len(out.Vpcs) != 1 {
		t.Fatalf("the account has %d VPCs, want the stack's one", len(out.Vpcs))
	}
	return out.Vpcs[0]
}

// privateSubnetIDs are the stack's subnets whose route table has no route
// to an internet gateway.
func privateSubnetIDs(t *testing.T, d *deployment) map[string]bool {
	t.Helper()
	ctx, vpc := context.Background(), stackVPC(t, d)
	filter := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{aws.ToString(vpc.VpcId)}}}
	subnets, err := d.sdk.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: filter})
	mustNoErr(t, "describe subnets", err)
	rts, err := d.sdk.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: filter})
	mustNoErr(t, "describe route tables", err)
	toIGW := map[string]bool{} // subnet -> has a route to an internet gateway
	for _, rt := range rts.RouteTables {
		igw := false
		for _, r := range rt.Routes {
			igw = igw || strings.HasPrefix(aws.ToString(r.GatewayId), "igw-")
		}
		for _, a := range rt.Associations {
			if a.SubnetId != nil {
				toIGW[aws.ToString(a.SubnetId)] = igw
			}
		}
	}
	out := map[string]bool{}
	for _, s := range subnets.Subnets {
		if id := aws.ToString(s.SubnetId); !toIGW[id] {
			out[id] = true
		}
	}
	if len(out) < 2 {
		t.Fatalf("the VPC has %d private subnets, want 2", len(out))
	}
	return out
}

func securityGroup(t *testing.T, d *deployment, id string) ec2types.SecurityGroup {
	t.Helper()
	out, err := d.sdk.EC2.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	mustNoErr(t, "describe security group "+id, err)
	if len(out.SecurityGroups) != 1 {
		t.Fatalf("security group %s: %d found", id, len(out.SecurityGroups))
	}
	return out.SecurityGroups[0]
}

// albSecurityGroup is the load balancer's one security group.
func albSecurityGroup(t *testing.T, d *deployment) string {
	t.Helper()
	lbs, err := d.sdk.ELB.DescribeLoadBalancers(context.Background(), &elbv2.DescribeLoadBalancersInput{})
	mustNoErr(t, "describe load balancers", err)
	if len(lbs.LoadBalancers) != 1 || len(lbs.LoadBalancers[0].SecurityGroups) != 1 {
		t.Fatalf("want one load balancer with one security group: %+v", lbs.LoadBalancers)
	}
	return lbs.LoadBalancers[0].SecurityGroups[0]
}

// assertOnlyFromGroup asserts that a security group admits exactly one
// thing: TCP on port from the group src, and nothing from any address
// range or prefix list.
func assertOnlyFromGroup(t *testing.T, g ec2types.SecurityGroup, port int32, src string) {
	t.Helper()
	if len(g.IpPermissions) != 1 {
		t.Fatalf("security group %s has %d ingress permissions, want 1: %+v", aws.ToString(g.GroupId), len(g.IpPermissions), g.IpPermissions)
	}
	p := g.IpPermissions[0]
	if aws.ToString(p.IpProtocol) != "tcp" || aws.ToInt32(p.FromPort) != port || aws.ToInt32(p.ToPort) != port {
		t.Fatalf("security group %s admits %s %d-%d, want tcp %d only", aws.ToString(g.GroupId), aws.ToString(p.IpProtocol),
			aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort), port)
	}
	if len(p.IpRanges) != 0 || len(p.Ipv6Ranges) != 0 || len(p.PrefixListIds) != 0 ||
		len(p.UserIdGroupPairs) != 1 || aws.ToString(p.UserIdGroupPairs[0].GroupId) != src {
		t.Fatalf("security group %s admits port %d from %+v, want only from group %s", aws.ToString(g.GroupId), port, p, src)
	}
}

// assertAdmitsOnlyALB is ECS.2's compensating control: the tasks' group
// admits the app port from the load balancer's group and nothing else, and
// that port is the one the wbo container listens on.
func assertAdmitsOnlyALB(t *testing.T, d *deployment, tasksSG string) {
	t.Helper()
	v := stackECS(t, d)
	var port int32
	for _, td := range v.taskDefs {
		for _, c := range td.ContainerDefinitions {
			for _, pm := range c.PortMappings {
				if aws.ToString(c.Name) != "wbo" {
					t.Fatalf("container %s publishes port %d; only wbo should listen", aws.ToString(c.Name), aws.ToInt32(pm.ContainerPort))
				}
				if port != 0 && port != aws.ToInt32(pm.ContainerPort) {
					t.Fatalf("wbo containers listen on %d and %d", port, aws.ToInt32(pm.ContainerPort))
				}
				port = aws.ToInt32(pm.ContainerPort)
			}
		}
	}
	if port == 0 {
		t.Fatal("the wbo container publishes no port")
	}
	assertOnlyFromGroup(t, securityGroup(t, d, tasksSG), port, albSecurityGroup(t, d))
}

func checkNetwork(t *testing.T, d *deployment, _ variant) {
	ctx := context.Background()
	vpc := stackVPC(t, d)
	vpcFilter := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{aws.ToString(vpc.VpcId)}}}
	sgs, err := d.sdk.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: vpcFilter})
	mustNoErr(t, "describe security groups", err)

	t.Run("EC2.2", func(t *testing.T) {
		var def *ec2types.SecurityGroup
		for i, g := range sgs.SecurityGroups {
			if aws.ToString(g.GroupName) == "default" {
				def = &sgs.SecurityGroups[i]
			}
		}
		if def == nil {
			t.Fatal("the VPC has no default security group")
		}
		// AWS creates it with inbound from itself and outbound to
		// anywhere (VPC User Guide, "Default security groups").
		if len(def.IpPermissions) != 0 || len(def.IpPermissionsEgress) != 0 {
			t.Fatalf("EC2.2: the VPC's default security group still has rules: %d inbound, %d outbound", len(def.IpPermissions), len(def.IpPermissionsEgress))
		}
	})

	t.Run("EC2.6", func(t *testing.T) {
		// The control's default parameter is trafficType REJECT: a flow
		// log of REJECT or ALL traffic on the VPC passes.
		fls, err := d.sdk.EC2.DescribeFlowLogs(ctx, &ec2.DescribeFlowLogsInput{Filter: []ec2types.Filter{
			{Name: aws.String("resource-id"), Values: []string{aws.ToString(vpc.VpcId)}}}})
		mustNoErr(t, "describe flow logs", err)
		logs := stackBuckets(t, d)["bucket-logs"]
		dest := "arn:aws:s3:::" + logs.name + "/vpc-flow-logs/"
		var found *ec2types.FlowLog
		for i, f := range fls.FlowLogs {
			if (f.TrafficType == ec2types.TrafficTypeReject || f.TrafficType == ec2types.TrafficTypeAll) &&
				f.LogDestinationType == ec2types.LogDestinationTypeS3 && aws.ToString(f.LogDestination) == dest {
				found = &fls.FlowLogs[i]
			}
		}
		if found == nil {
			t.Fatalf("EC2.6: VPC %s has no flow log of rejected traffic to %s: %+v", aws.ToString(vpc.VpcId), dest, fls.FlowLogs)
		}
		// Delivery must be allowed by the bucket policy (VPC User Guide,
		// "Amazon S3 bucket permissions for flow logs"), for this account.
		write, acl := false, false
		for _, st := range logs.policy {
			if st.Effect != "Allow" || !contains(st.Principals["Service"], "delivery.logs.amazonaws.com") ||
				!contains(st.Condition["StringEquals"]["aws:SourceAccount"], simAccount) {
				continue
			}
			if contains(st.Actions, "s3:PutObject") && contains(st.Resources, "arn:aws:s3:::"+logs.name+"/vpc-flow-logs/AWSLogs/"+simAccount+"/*") {
				write = true
			}
			if contains(st.Actions, "s3:GetBucketAcl") && contains(st.Resources, "arn:aws:s3:::"+logs.name) {
				acl = true
			}
		}
		if !write || !acl {
			t.Fatalf("EC2.6: the log bucket's policy does not let delivery.logs.amazonaws.com deliver flow logs (PutObject %v, GetBucketAcl %v)", write, acl)
		}
	})

	t.Run("EC2.15", func(t *testing.T) {
		subnets, err := d.sdk.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: vpcFilter})
		mustNoErr(t, "describe subnets", err)
		var mapping []string
		for _, s := range subnets.Subnets {
			if aws.ToBool(s.MapPublicIpOnLaunch) {
				mapping = append(mapping, aws.ToString(s.SubnetId))
			}
		}
		finding(t, "EC2.15", len(mapping) == 0,
			"the public subnets "+strings.Join(mapping, ", ")+" assign public IPv4 addresses on launch",
			"internal/provision/subnet.go Diff/Create: want map_public_ip_on_launch false for every subnet; the Fargate tasks get "+
				"their public IP from the service's awsvpcConfiguration.assignPublicIp (ENABLED, see ECS.2) and the internet-facing "+
				"ALB allocates its own, so neither needs the subnet default")
	})

	t.Run("EC2.18-EC2.19", func(t *testing.T) {
		// Only the load balancer's group admits anything from the
		// internet, and only 80 and 443 (EC2.18's default authorized
		// ports); no group admits a high-risk port from anywhere.
		alb := albSecurityGroup(t, d)
		for _, g := range sgs.SecurityGroups {
			for _, p := range g.IpPermissions {
				open := false
				for _, r := range p.IpRanges {
					open = open || aws.ToString(r.CidrIp) == "0.0.0.0/0"
				}
				for _, r := range p.Ipv6Ranges {
					open = open || aws.ToString(r.CidrIpv6) == "::/0"
				}
				if !open {
					continue
				}
				from, to := aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort)
				if aws.ToString(g.GroupId) != alb || aws.ToString(p.IpProtocol) != "tcp" || from != to || (from != 80 && from != 443) {
					t.Fatalf("security group %s (%s) admits %s %d-%d from anywhere", aws.ToString(g.GroupId), aws.ToString(g.GroupName),
						aws.ToString(p.IpProtocol), from, to)
				}
			}
		}
	})

	t.Run("EC2.10-EC2.55-EC2.60", func(t *testing.T) {
		// The simulated EC2 has no VPC endpoint API: what proves the state
		// is that wbo-deploy never created one.
		if d.called("EC2", "CreateVpcEndpoint") {
			t.Fatal("wbo-deploy created a VPC endpoint; docs/security.md says it creates none")
		}
		exception(t, "EC2.10/EC2.55-EC2.58/EC2.60", "no interface endpoints (EC2, ECR API, Docker registry, SSM, Incident Manager): "+
			"nothing in the VPC calls those services (images come from Docker Hub and public.ecr.aws) and each endpoint costs about "+
			"$7.30/month per AZ")
	})

	t.Run("sg-redis", func(t *testing.T) {
		// Not an FSBP control: the Redis nodes are reachable from the
		// tasks only (what makes ElastiCache.6 moot in practice).
		var redisSG, tasksSG string
		for _, g := range sgs.SecurityGroups {
			switch {
			case strings.HasSuffix(aws.ToString(g.GroupName), "-redis"):
				redisSG = aws.ToString(g.GroupId)
			case strings.HasSuffix(aws.ToString(g.GroupName), "-tasks"):
				tasksSG = aws.ToString(g.GroupId)
			}
		}
		if redisSG == "" || tasksSG == "" {
			t.Fatalf("no redis or tasks security group among %d groups", len(sgs.SecurityGroups))
		}
		assertOnlyFromGroup(t, securityGroup(t, d, redisSG), 6379, tasksSG)
	})
}
