package awssim

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ect "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/smithy-go"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
)

// ecRig is an account with a VPC, two subnets in two zones and a security
// group, reached through real SDK clients.
type ecRig struct {
	t       *testing.T
	c       *Cloud
	cl      *awsclients.Clients
	ctx     context.Context
	vpc     string
	subnets []string
	sg      string
}

func newECRig(t *testing.T) *ecRig {
	t.Helper()
	c := New(Options{ConsistencyMisses: -1, NoThrottling: true})
	cl, err := awsclients.New(context.Background(), awsclients.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATED", "secret", ""),
		APIOptions:  c.APIOptions(),
		RetryMode:   "standard",
		MaxAttempts: 3,
		MaxBackoff:  time.Millisecond,
		Getenv:      func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &ecRig{t: t, c: c, cl: cl, ctx: context.Background()}
	v, err := cl.EC2.CreateVpc(r.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	r.vpc = aws.ToString(v.Vpc.VpcId)
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		s, err := cl.EC2.CreateSubnet(r.ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, AvailabilityZone: aws.String(az),
			CidrBlock: aws.String([]string{"10.0.10.0/24", "10.0.11.0/24"}[i])})
		if err != nil {
			t.Fatal(err)
		}
		r.subnets = append(r.subnets, aws.ToString(s.Subnet.SubnetId))
	}
	g, err := cl.EC2.CreateSecurityGroup(r.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("redis"), Description: aws.String("redis"), VpcId: v.Vpc.VpcId})
	if err != nil {
		t.Fatal(err)
	}
	r.sg = aws.ToString(g.GroupId)
	return r
}

func ecCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func (r *ecRig) wantCode(err error, code string) {
	r.t.Helper()
	if ecCode(err) != code {
		r.t.Fatalf("want error %s, got %v", code, err)
	}
}

// finish ends the group's current transition now (white box: no sleeping).
func (r *ecRig) finish(id string) {
	r.c.lock()
	defer r.c.unlock()
	s := r.c.elasticache()
	if g := s.groups[id]; g != nil {
		g.until = time.Now().Add(-time.Millisecond)
	}
}

// finishNodes makes every node's own creation end now.
func (r *ecRig) finishNodes(id string) {
	r.c.lock()
	defer r.c.unlock()
	if g := r.c.elasticache().groups[id]; g != nil {
		for _, m := range g.members {
			m.readyAt = time.Now().Add(-time.Millisecond)
		}
	}
}

func (r *ecRig) subnetGroup(name string) {
	r.t.Helper()
	_, err := r.cl.ElastiCache.CreateCacheSubnetGroup(r.ctx, &elasticache.CreateCacheSubnetGroupInput{
		CacheSubnetGroupName: aws.String(name), CacheSubnetGroupDescription: aws.String("d"), SubnetIds: r.subnets,
		Tags: []ect.Tag{{Key: aws.String("wbo-deploy:stack"), Value: aws.String("s")}},
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *ecRig) createInput(id string, clusters int32) *elasticache.CreateReplicationGroupInput {
	return &elasticache.CreateReplicationGroupInput{
		ReplicationGroupId: aws.String(id), ReplicationGroupDescription: aws.String("d"),
		Engine: aws.String("redis"), EngineVersion: aws.String("7.1"), CacheParameterGroupName: aws.String("default.redis7"),
		CacheNodeType: aws.String("cache.t3.micro"), NumCacheClusters: aws.Int32(clusters),
		AutomaticFailoverEnabled: aws.Bool(clusters > 1), MultiAZEnabled: aws.Bool(clusters > 1),
		AtRestEncryptionEnabled: aws.Bool(true), CacheSubnetGroupName: aws.String("sub"),
		SecurityGroupIds: []string{r.sg}, SnapshotRetentionLimit: aws.Int32(1),
		Tags: []ect.Tag{{Key: aws.String("wbo-deploy:stack"), Value: aws.String("s")}},
	}
}

func (r *ecRig) group(id string) ect.ReplicationGroup {
	r.t.Helper()
	out, err := r.cl.ElastiCache.DescribeReplicationGroups(r.ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(id)})
	if err != nil {
		r.t.Fatal(err)
	}
	return out.ReplicationGroups[0]
}

func (r *ecRig) nodeStatus(id string) string {
	r.t.Helper()
	out, err := r.cl.ElastiCache.DescribeCacheClusters(r.ctx, &elasticache.DescribeCacheClustersInput{CacheClusterId: aws.String(id)})
	if err != nil {
		r.t.Fatal(err)
	}
	return aws.ToString(out.CacheClusters[0].CacheClusterStatus)
}

func (r *ecRig) enis(subnet string) int {
	r.t.Helper()
	out, err := r.cl.EC2.DescribeNetworkInterfaces(r.ctx, &ec2.DescribeNetworkInterfacesInput{
		Filters: []ec2types.Filter{{Name: aws.String("subnet-id"), Values: []string{subnet}}}})
	if err != nil {
		r.t.Fatal(err)
	}
	return len(out.NetworkInterfaces)
}

func TestElastiCacheSubnetGroups(t *testing.T) {
	r := newECRig(t)
	ec := r.cl.ElastiCache
	r.subnetGroup("Sub")
	_, err := ec.CreateCacheSubnetGroup(r.ctx, &elasticache.CreateCacheSubnetGroupInput{
		CacheSubnetGroupName: aws.String("sub"), CacheSubnetGroupDescription: aws.String("d"), SubnetIds: r.subnets})
	r.wantCode(err, "CacheSubnetGroupAlreadyExists")
	_, err = ec.CreateCacheSubnetGroup(r.ctx, &elasticache.CreateCacheSubnetGroupInput{
		CacheSubnetGroupName: aws.String("other"), CacheSubnetGroupDescription: aws.String("d"), SubnetIds: []string{"subnet-nope"}})
	r.wantCode(err, "InvalidSubnet")
	_, err = ec.DescribeCacheSubnetGroups(r.ctx, &elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String("missing")})
	r.wantCode(err, "CacheSubnetGroupNotFoundFault")

	// Names are stored lowercase.
	out, err := ec.DescribeCacheSubnetGroups(r.ctx, &elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String("SUB")})
	if err != nil {
		t.Fatal(err)
	}
	g := out.CacheSubnetGroups[0]
	if aws.ToString(g.CacheSubnetGroupName) != "sub" || aws.ToString(g.VpcId) != r.vpc || len(g.Subnets) != 2 ||
		aws.ToString(g.Subnets[1].SubnetAvailabilityZone.Name) != "us-east-1b" {
		t.Fatalf("described %+v", g)
	}
	if aws.ToString(g.ARN) != "arn:aws:elasticache:us-east-1:123456789012:subnetgroup:sub" {
		t.Fatalf("ARN %s", aws.ToString(g.ARN))
	}
	tags, err := ec.ListTagsForResource(r.ctx, &elasticache.ListTagsForResourceInput{ResourceName: g.ARN})
	if err != nil || len(tags.TagList) != 1 || aws.ToString(tags.TagList[0].Value) != "s" {
		t.Fatalf("tags %+v, %v", tags, err)
	}
	_, err = ec.ListTagsForResource(r.ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String("sub")})
	r.wantCode(err, "InvalidARN")

	mod, err := ec.ModifyCacheSubnetGroup(r.ctx, &elasticache.ModifyCacheSubnetGroupInput{CacheSubnetGroupName: aws.String("sub"), SubnetIds: r.subnets[:1]})
	if err != nil || len(mod.CacheSubnetGroup.Subnets) != 1 {
		t.Fatalf("modify: %+v, %v", mod, err)
	}
	if _, err := ec.DeleteCacheSubnetGroup(r.ctx, &elasticache.DeleteCacheSubnetGroupInput{CacheSubnetGroupName: aws.String("sub")}); err != nil {
		t.Fatal(err)
	}
	_, err = ec.DeleteCacheSubnetGroup(r.ctx, &elasticache.DeleteCacheSubnetGroupInput{CacheSubnetGroupName: aws.String("sub")})
	r.wantCode(err, "CacheSubnetGroupNotFoundFault")
	if inv := r.c.Inventory(); len(inv) != 4 { // vpc, 2 subnets, security group
		t.Fatalf("inventory %v", inv)
	}
}

func TestElastiCacheCreateValidation(t *testing.T) {
	r := newECRig(t)
	ec := r.cl.ElastiCache
	r.subnetGroup("sub")
	cases := []struct {
		name string
		mod  func(in *elasticache.CreateReplicationGroupInput)
		code string
	}{
		{"failover with one node", func(in *elasticache.CreateReplicationGroupInput) {
			in.NumCacheClusters, in.AutomaticFailoverEnabled = aws.Int32(1), aws.Bool(true)
		}, "InvalidParameterCombination"},
		{"multi-az without failover", func(in *elasticache.CreateReplicationGroupInput) {
			in.AutomaticFailoverEnabled, in.MultiAZEnabled = aws.Bool(false), aws.Bool(true)
		}, "InvalidParameterCombination"},
		{"unknown node type", func(in *elasticache.CreateReplicationGroupInput) { in.CacheNodeType = aws.String("cache.t3.huge") }, "InvalidParameterValue"},
		{"previous generation", func(in *elasticache.CreateReplicationGroupInput) { in.CacheNodeType = aws.String("cache.t1.micro") }, "InvalidParameterValue"},
		{"seven nodes", func(in *elasticache.CreateReplicationGroupInput) { in.NumCacheClusters = aws.Int32(7) }, "InvalidParameterValue"},
		{"bad id", func(in *elasticache.CreateReplicationGroupInput) { in.ReplicationGroupId = aws.String("a--b") }, "InvalidParameterValue"},
		{"unknown version", func(in *elasticache.CreateReplicationGroupInput) { in.EngineVersion = aws.String("7.3") }, "InvalidParameterCombination"},
		{"wrong parameter family", func(in *elasticache.CreateReplicationGroupInput) {
			in.Engine, in.EngineVersion = aws.String("valkey"), aws.String("8.0")
		}, "InvalidParameterCombination"},
		{"missing subnet group", func(in *elasticache.CreateReplicationGroupInput) { in.CacheSubnetGroupName = aws.String("nope") }, "CacheSubnetGroupNotFoundFault"},
		{"zones do not match count", func(in *elasticache.CreateReplicationGroupInput) {
			in.PreferredCacheClusterAZs = []string{"us-east-1a"}
		}, "InvalidParameterValue"},
		{"zone outside subnet group", func(in *elasticache.CreateReplicationGroupInput) {
			in.PreferredCacheClusterAZs = []string{"us-east-1a", "us-east-1c"}
		}, "InvalidParameterValue"},
	}
	for _, tc := range cases {
		in := r.createInput("rg", 2)
		tc.mod(in)
		_, err := ec.CreateReplicationGroup(r.ctx, in)
		if ecCode(err) != tc.code {
			t.Errorf("%s: want %s, got %v", tc.name, tc.code, err)
		}
	}
	if _, ok := r.c.elasticache().groups["rg"]; ok {
		t.Fatal("a failed create left a group")
	}
	if n := r.enis(r.subnets[0]) + r.enis(r.subnets[1]); n != 0 {
		t.Fatalf("failed creates left %d ENIs", n)
	}
	// Valkey defaults to encryption at rest, Redis OSS does not.
	in := r.createInput("vk", 1)
	in.Engine, in.EngineVersion, in.CacheParameterGroupName, in.AtRestEncryptionEnabled = aws.String("valkey"), aws.String("8.0"), nil, nil
	out, err := ec.CreateReplicationGroup(r.ctx, in)
	if err != nil || !aws.ToBool(out.ReplicationGroup.AtRestEncryptionEnabled) {
		t.Fatalf("valkey: %+v %v", out, err)
	}
	in = r.createInput("rd", 1)
	in.AtRestEncryptionEnabled = nil
	out, err = ec.CreateReplicationGroup(r.ctx, in)
	if err != nil || aws.ToBool(out.ReplicationGroup.AtRestEncryptionEnabled) {
		t.Fatalf("redis: %+v %v", out, err)
	}
}

func TestElastiCacheReplicationGroupLifecycle(t *testing.T) {
	r := newECRig(t)
	ec := r.cl.ElastiCache
	r.subnetGroup("sub")
	in := r.createInput("RG", 2)
	in.PreferredCacheClusterAZs = []string{"us-east-1a", "us-east-1b"}
	out, err := ec.CreateReplicationGroup(r.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.ReplicationGroup.ReplicationGroupId) != "rg" || aws.ToString(out.ReplicationGroup.Status) != "creating" {
		t.Fatalf("created %+v", out.ReplicationGroup)
	}
	_, err = ec.CreateReplicationGroup(r.ctx, r.createInput("rg", 2))
	r.wantCode(err, "ReplicationGroupAlreadyExists")

	g := r.group("rg")
	if g.NodeGroups[0].PrimaryEndpoint != nil {
		t.Fatal("primary endpoint while creating")
	}
	if strings.Join(g.MemberClusters, ",") != "rg-001,rg-002" {
		t.Fatalf("members %v", g.MemberClusters)
	}
	if r.enis(r.subnets[0]) != 1 || r.enis(r.subnets[1]) != 1 {
		t.Fatal("want one node ENI in each subnet")
	}
	_, err = ec.DeleteReplicationGroup(r.ctx, &elasticache.DeleteReplicationGroupInput{ReplicationGroupId: aws.String("rg")})
	r.wantCode(err, "InvalidReplicationGroupState")
	_, err = ec.ModifyReplicationGroup(r.ctx, &elasticache.ModifyReplicationGroupInput{ReplicationGroupId: aws.String("rg"), SnapshotRetentionLimit: aws.Int32(2)})
	r.wantCode(err, "InvalidReplicationGroupState")
	_, err = ec.DeleteCacheSubnetGroup(r.ctx, &elasticache.DeleteCacheSubnetGroupInput{CacheSubnetGroupName: aws.String("sub")})
	r.wantCode(err, "CacheSubnetGroupInUse")
	_, err = ec.ModifyCacheSubnetGroup(r.ctx, &elasticache.ModifyCacheSubnetGroupInput{CacheSubnetGroupName: aws.String("sub"), SubnetIds: r.subnets[:1]})
	r.wantCode(err, "SubnetInUse")

	// A held group stays in its transition.
	release := r.c.HoldReplicationGroup("RG")
	r.finish("rg")
	if st := aws.ToString(r.group("rg").Status); st != "creating" {
		t.Fatalf("held group is %s", st)
	}
	release()
	g = r.group("rg")
	ng := g.NodeGroups[0]
	if aws.ToString(g.Status) != "available" || ng.PrimaryEndpoint == nil || aws.ToInt32(ng.PrimaryEndpoint.Port) != 6379 {
		t.Fatalf("after creation: %+v", g)
	}
	if aws.ToString(ng.NodeGroupMembers[0].CurrentRole) != "primary" || aws.ToString(ng.NodeGroupMembers[0].PreferredAvailabilityZone) != "us-east-1a" ||
		aws.ToString(ng.NodeGroupMembers[1].PreferredAvailabilityZone) != "us-east-1b" {
		t.Fatalf("members %+v", ng.NodeGroupMembers)
	}
	if g.AutomaticFailover != ect.AutomaticFailoverStatusEnabled || g.MultiAZ != ect.MultiAZStatusEnabled {
		t.Fatalf("failover %s multi-az %s", g.AutomaticFailover, g.MultiAZ)
	}
	if st := r.nodeStatus("rg-002"); st != "available" {
		t.Fatalf("node %s", st)
	}
	arn := aws.ToString(g.ARN)
	if arn != "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:rg" {
		t.Fatalf("ARN %s", arn)
	}
	if _, err := ec.(*elasticache.Client).AddTagsToResource(r.ctx, &elasticache.AddTagsToResourceInput{ResourceName: aws.String(arn),
		Tags: []ect.Tag{{Key: aws.String("team"), Value: aws.String("x")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := ec.ListTagsForResource(r.ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String(arn)})
	if err != nil || len(tags.TagList) != 2 {
		t.Fatalf("tags %+v %v", tags, err)
	}

	// Node type: the old type is reported until the modification ends.
	_, err = ec.ModifyReplicationGroup(r.ctx, &elasticache.ModifyReplicationGroupInput{ReplicationGroupId: aws.String("rg"),
		CacheNodeType: aws.String("cache.t3.small"), ApplyImmediately: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if g = r.group("rg"); aws.ToString(g.Status) != "modifying" || aws.ToString(g.CacheNodeType) != "cache.t3.micro" {
		t.Fatalf("while modifying: %s %s", aws.ToString(g.Status), aws.ToString(g.CacheNodeType))
	}
	_, err = ec.IncreaseReplicaCount(r.ctx, &elasticache.IncreaseReplicaCountInput{ReplicationGroupId: aws.String("rg"), NewReplicaCount: aws.Int32(2), ApplyImmediately: aws.Bool(true)})
	r.wantCode(err, "InvalidReplicationGroupState")
	r.finish("rg")
	if g = r.group("rg"); aws.ToString(g.CacheNodeType) != "cache.t3.small" || aws.ToString(g.Status) != "available" {
		t.Fatalf("after modifying: %s %s", aws.ToString(g.Status), aws.ToString(g.CacheNodeType))
	}

	// A replica added is still being created after the group is available.
	if _, err := ec.IncreaseReplicaCount(r.ctx, &elasticache.IncreaseReplicaCountInput{ReplicationGroupId: aws.String("rg"),
		NewReplicaCount: aws.Int32(2), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	r.finish("rg")
	if g = r.group("rg"); aws.ToString(g.Status) != "available" || len(g.MemberClusters) != 3 {
		t.Fatalf("after increase: %s %v", aws.ToString(g.Status), g.MemberClusters)
	}
	if st := r.nodeStatus("rg-003"); st != "creating" {
		t.Fatalf("new replica %s, want creating", st)
	}
	r.finishNodes("rg")
	if st := r.nodeStatus("rg-003"); st != "available" {
		t.Fatalf("new replica %s, want available", st)
	}

	// The last replica cannot go while failover is on.
	if _, err := ec.DecreaseReplicaCount(r.ctx, &elasticache.DecreaseReplicaCountInput{ReplicationGroupId: aws.String("rg"),
		NewReplicaCount: aws.Int32(1), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	r.finish("rg")
	if g = r.group("rg"); len(g.MemberClusters) != 2 {
		t.Fatalf("after decrease %v", g.MemberClusters)
	}
	_, err = ec.DecreaseReplicaCount(r.ctx, &elasticache.DecreaseReplicaCountInput{ReplicationGroupId: aws.String("rg"),
		NewReplicaCount: aws.Int32(0), ApplyImmediately: aws.Bool(true)})
	r.wantCode(err, "InvalidParameterValue")

	// Redis OSS → Valkey in place; never back.
	_, err = ec.ModifyReplicationGroup(r.ctx, &elasticache.ModifyReplicationGroupInput{ReplicationGroupId: aws.String("rg"),
		Engine: aws.String("valkey"), EngineVersion: aws.String("8.0"), ApplyImmediately: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	r.finish("rg")
	if g = r.group("rg"); aws.ToString(g.Engine) != "valkey" {
		t.Fatalf("engine %s", aws.ToString(g.Engine))
	}
	_, err = ec.ModifyReplicationGroup(r.ctx, &elasticache.ModifyReplicationGroupInput{ReplicationGroupId: aws.String("rg"),
		Engine: aws.String("redis"), EngineVersion: aws.String("7.1"), ApplyImmediately: aws.Bool(true)})
	r.wantCode(err, "InvalidParameterCombination")

	// In-transit encryption: preferred first, then required.
	_, err = ec.ModifyReplicationGroup(r.ctx, &elasticache.ModifyReplicationGroupInput{ReplicationGroupId: aws.String("rg"),
		TransitEncryptionEnabled: aws.Bool(true), TransitEncryptionMode: ect.TransitEncryptionModeRequired, ApplyImmediately: aws.Bool(true)})
	r.wantCode(err, "InvalidParameterCombination")
	for _, mode := range []ect.TransitEncryptionMode{ect.TransitEncryptionModePreferred, ect.TransitEncryptionModeRequired} {
		if _, err := ec.ModifyReplicationGroup(r.ctx, &elasticache.ModifyReplicationGroupInput{ReplicationGroupId: aws.String("rg"),
			TransitEncryptionEnabled: aws.Bool(true), TransitEncryptionMode: mode, ApplyImmediately: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		r.finish("rg")
	}
	if g = r.group("rg"); !aws.ToBool(g.TransitEncryptionEnabled) || g.TransitEncryptionMode != ect.TransitEncryptionModeRequired ||
		!strings.HasPrefix(aws.ToString(g.NodeGroups[0].PrimaryEndpoint.Address), "master.rg.") {
		t.Fatalf("transit %v %s %s", aws.ToBool(g.TransitEncryptionEnabled), g.TransitEncryptionMode, aws.ToString(g.NodeGroups[0].PrimaryEndpoint.Address))
	}

	// Delete: the group is "deleting", then gone; its ENIs linger.
	del, err := ec.DeleteReplicationGroup(r.ctx, &elasticache.DeleteReplicationGroupInput{ReplicationGroupId: aws.String("rg")})
	if err != nil || aws.ToString(del.ReplicationGroup.Status) != "deleting" {
		t.Fatalf("delete: %+v %v", del, err)
	}
	_, err = ec.DeleteCacheSubnetGroup(r.ctx, &elasticache.DeleteCacheSubnetGroupInput{CacheSubnetGroupName: aws.String("sub")})
	r.wantCode(err, "CacheSubnetGroupInUse")
	r.finish("rg")
	_, err = ec.DescribeReplicationGroups(r.ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("rg")})
	r.wantCode(err, "ReplicationGroupNotFoundFault")
	_, err = ec.DescribeCacheClusters(r.ctx, &elasticache.DescribeCacheClustersInput{CacheClusterId: aws.String("rg-001")})
	r.wantCode(err, "CacheClusterNotFound")
	if r.enis(r.subnets[0]) == 0 {
		t.Fatal("node ENIs should linger after the group is gone")
	}
	_, err = r.cl.EC2.DeleteSubnet(r.ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(r.subnets[0])})
	if ecCode(err) != "DependencyViolation" {
		t.Fatalf("subnet with lingering ENI: %v", err)
	}
	if _, err := ec.DeleteCacheSubnetGroup(r.ctx, &elasticache.DeleteCacheSubnetGroupInput{CacheSubnetGroupName: aws.String("sub")}); err != nil {
		t.Fatal(err)
	}
	for _, res := range r.c.Inventory() {
		if res.Service == "ElastiCache" {
			t.Fatalf("left: %+v", res)
		}
	}
}
