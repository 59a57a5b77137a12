package security

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ect "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
)

func checkElastiCache(t *testing.T, d *deployment, _ variant) {
	ctx, c := context.Background(), d.sdk.ElastiCache
	groups, err := c.DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{})
	mustNoErr(t, "describe replication groups", err)
	if len(groups.ReplicationGroups) != 1 {
		t.Fatalf("the account has %d replication groups, want 1 (redis.mode elasticache is the default)", len(groups.ReplicationGroups))
	}
	g := groups.ReplicationGroups[0]
	nodes, err := c.DescribeCacheClusters(ctx, &elasticache.DescribeCacheClustersInput{})
	mustNoErr(t, "describe cache clusters", err)
	var members []ect.CacheCluster
	for _, n := range nodes.CacheClusters {
		if aws.ToString(n.ReplicationGroupId) == aws.ToString(g.ReplicationGroupId) {
			members = append(members, n)
		}
	}
	if len(members) < 2 {
		t.Fatalf("replication group %s has %d nodes, want a primary and a replica", aws.ToString(g.ReplicationGroupId), len(members))
	}

	t.Run("ElastiCache.1", func(t *testing.T) {
		if n := aws.ToInt32(g.SnapshotRetentionLimit); n < 1 {
			t.Fatalf("replication group SnapshotRetentionLimit = %d", n)
		}
		for _, m := range members {
			if n := aws.ToInt32(m.SnapshotRetentionLimit); n < 1 && m.SnapshotRetentionLimit != nil {
				t.Fatalf("node %s SnapshotRetentionLimit = %d", aws.ToString(m.CacheClusterId), n)
			}
		}
	})
	t.Run("ElastiCache.2", func(t *testing.T) {
		if !aws.ToBool(g.AutoMinorVersionUpgrade) {
			t.Fatal("replication group AutoMinorVersionUpgrade is off")
		}
		for _, m := range members {
			if !aws.ToBool(m.AutoMinorVersionUpgrade) {
				t.Fatalf("node %s AutoMinorVersionUpgrade is off", aws.ToString(m.CacheClusterId))
			}
		}
	})
	t.Run("ElastiCache.3", func(t *testing.T) {
		if g.AutomaticFailover != ect.AutomaticFailoverStatusEnabled || g.MultiAZ != ect.MultiAZStatusEnabled {
			t.Fatalf("automatic failover %s, Multi-AZ %s", g.AutomaticFailover, g.MultiAZ)
		}
		zones := map[string]bool{}
		for _, m := range members {
			zones[aws.ToString(m.PreferredAvailabilityZone)] = true
		}
		if len(zones) < 2 {
			t.Fatalf("the nodes are in %d Availability Zone(s)", len(zones))
		}
	})
	t.Run("ElastiCache.4", func(t *testing.T) {
		if !aws.ToBool(g.AtRestEncryptionEnabled) {
			t.Fatal("at-rest encryption is off")
		}
	})
	t.Run("ElastiCache.5", func(t *testing.T) {
		if !aws.ToBool(g.TransitEncryptionEnabled) || (g.TransitEncryptionMode != "" && g.TransitEncryptionMode != ect.TransitEncryptionModeRequired) {
			t.Fatalf("in-transit encryption %v mode %q, want on and required", aws.ToBool(g.TransitEncryptionEnabled), g.TransitEncryptionMode)
		}
	})
	t.Run("ElastiCache.6", func(t *testing.T) {
		// Applies to Redis OSS before 6.0 only; the nodes are newer, so
		// AUTH is not required (the group is reachable from the tasks'
		// security group only, see ElastiCache.7 and sg-redis below).
		for _, m := range members {
			ver := aws.ToString(m.EngineVersion)
			major, err := strconv.Atoi(strings.SplitN(ver, ".", 2)[0])
			if err != nil || major < 6 {
				t.Fatalf("node %s runs %s %s: ElastiCache.6 would apply and AUTH is not configured", aws.ToString(m.CacheClusterId), aws.ToString(m.Engine), ver)
			}
		}
		t.Skip("n/a: engine version 6 or later")
	})
	t.Run("ElastiCache.7", func(t *testing.T) {
		for _, m := range members {
			if name := aws.ToString(m.CacheSubnetGroupName); name == "" || name == "default" {
				t.Fatalf("node %s uses subnet group %q", aws.ToString(m.CacheClusterId), name)
			}
		}
		sg, err := c.DescribeCacheSubnetGroups(ctx, &elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: members[0].CacheSubnetGroupName})
		mustNoErr(t, "describe cache subnet group", err)
		private := privateSubnetIDs(t, d)
		for _, s := range sg.CacheSubnetGroups[0].Subnets {
			if !private[aws.ToString(s.SubnetIdentifier)] {
				t.Fatalf("cache subnet group has subnet %s, which is not one of the stack's private subnets", aws.ToString(s.SubnetIdentifier))
			}
		}
	})
}
