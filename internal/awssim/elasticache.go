package awssim

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ect "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
)

// ElastiCache: cache subnet groups and Valkey/Redis OSS replication groups
// with cluster mode disabled (one node group, "0001").
//
// Error codes are those of the SDK's typed errors (aws-sdk-go-v2
// service/elasticache v1.65.0 types/errors.go, ErrorCode()), and the
// simulation answers the typed errors themselves, as the SDK's awsquery
// deserializer would: ReplicationGroupNotFoundFault,
// ReplicationGroupAlreadyExists, InvalidReplicationGroupState,
// CacheSubnetGroupNotFoundFault, CacheSubnetGroupAlreadyExists,
// CacheSubnetGroupInUse, CacheClusterNotFound, InvalidParameterValue,
// InvalidParameterCombination, InvalidSubnet, SubnetInUse, InvalidARN,
// CacheParameterGroupNotFound.
//
// Behaviour (ElastiCache API reference and user guide; see also
// ../shared/reference/aws-behaviour.md):
//   - a replication group is "creating" for Timing.ReplicationGroup, then
//     "available"; its primary endpoint appears only once it has been
//     available; "modifying" lasts Timing.ReplicationModify and "deleting"
//     Timing.ReplicationDeleting, after which describes answer
//     ReplicationGroupNotFoundFault;
//   - modify, replica-count changes and delete need status "available"
//     ("InvalidReplicationGroupState: Replication group must be in available
//     state to modify", as quoted in umotif-public/terraform-aws-elasticache-redis#54);
//   - automatic failover needs at least two cache clusters ("When using
//     automatic failover, there must be at least 2 cache clusters in the
//     replication group.", InvalidParameterCombination, hashicorp/terraform#25077),
//     and DecreaseReplicaCount cannot go below one replica while failover or
//     Multi-AZ is on ("Must have at least 1 replica when cluster mode is
//     disabled with auto failover enabled.", InvalidParameterValue,
//     hashicorp/terraform-provider-aws#24244; DecreaseReplicaCount API
//     reference: minimum 1 with Multi-AZ);
//   - replicas added by IncreaseReplicaCount are still "creating" for a while
//     after the group is "available" again (hashicorp/terraform-provider-aws#50096);
//   - node type, engine, engine version, failover, Multi-AZ and transit
//     encryption changes take effect when "modifying" ends (with
//     ApplyImmediately; without it node type and engine changes wait for a
//     maintenance window, which never comes here); snapshot retention,
//     security groups, description and auto minor upgrade apply at once;
//   - Redis OSS can be upgraded in place to Valkey (ModifyReplicationGroup
//     Engine=valkey, EngineVersion; user guide "How to upgrade from Redis OSS
//     to Valkey"); engine versions never go down, and Valkey never goes back
//     to Redis OSS;
//   - in-transit encryption is turned on in two steps: enabled with mode
//     "preferred", then mode "required" (user guide "Enabling in-transit
//     encryption"); at-rest encryption cannot be modified after creation
//     (CreateReplicationGroup API reference);
//   - every cache node has an ENI in its subnet with the group's security
//     groups; the ENIs are released when the node goes and then linger
//     (Timing.ENILinger) like other service-managed ENIs;
//   - a subnet group used by any replication group (even one being deleted)
//     cannot be deleted: CacheSubnetGroupInUse.

type cacheSubnetGroup struct {
	name, desc, vpc string
	subnets         []string
	tags            map[string]string
}

type cacheNode struct {
	id, az, subnet, eni string
	status              string // creating, available, deleting
	readyAt             time.Time
	created             time.Time
}

// rgPending holds the changes applied when "modifying" ends.
type rgPending struct {
	nodeType, engine, version, paramGroup *string
	failover, multiAZ, transit            *bool
	transitMode                           *string
	remove                                []string // member clusters leaving
}

type replicationGroup struct {
	id, desc                              string
	engine, version, paramGroup, nodeType string
	subnetGroup                           string
	sgs                                   []string
	port                                  int32
	atRest, transit                       bool
	transitMode                           string // "" when transit is off, else preferred|required
	failover, multiAZ, autoMinor          bool
	retention                             int32
	snapshotWindow                        string
	members                               []*cacheNode // first is the primary
	nextMember                            int
	status                                string // creating, available, modifying, deleting
	until                                 time.Time
	everAvailable                         bool
	pending                               *rgPending
	tags                                  map[string]string
	created                               time.Time
	dnsPart                               string
}

type elastiCacheSim struct {
	c            *Cloud
	subnetGroups map[string]*cacheSubnetGroup
	groups       map[string]*replicationGroup
	held         map[string]bool // groups whose transitions are paused
}

func init() {
	register("ElastiCache", func(c *Cloud) any {
		return &elastiCacheSim{c: c, subnetGroups: map[string]*cacheSubnetGroup{}, groups: map[string]*replicationGroup{}, held: map[string]bool{}}
	})
}

func (c *Cloud) elasticache() *elastiCacheSim { return c.services["ElastiCache"].(*elastiCacheSim) }

// HoldReplicationGroup keeps replication group id (existing or not yet
// created) in whatever transition it is in (creating, modifying, deleting)
// until release is called, so a test can act while AWS is still busy
// without relying on how fast it runs.
func (c *Cloud) HoldReplicationGroup(id string) (release func()) {
	c.lock()
	defer c.unlock()
	s := c.elasticache()
	id = strings.ToLower(id)
	s.held[id] = true
	return func() {
		c.lock()
		defer c.unlock()
		delete(s.held, id)
	}
}

// ---- errors ----

func ecErr(code, format string, args ...any) error {
	m := aws.String(fmt.Sprintf(format, args...))
	switch code {
	case "ReplicationGroupNotFoundFault":
		return &ect.ReplicationGroupNotFoundFault{Message: m}
	case "ReplicationGroupAlreadyExists":
		return &ect.ReplicationGroupAlreadyExistsFault{Message: m}
	case "InvalidReplicationGroupState":
		return &ect.InvalidReplicationGroupStateFault{Message: m}
	case "CacheSubnetGroupNotFoundFault":
		return &ect.CacheSubnetGroupNotFoundFault{Message: m}
	case "CacheSubnetGroupAlreadyExists":
		return &ect.CacheSubnetGroupAlreadyExistsFault{Message: m}
	case "CacheSubnetGroupInUse":
		return &ect.CacheSubnetGroupInUse{Message: m}
	case "CacheClusterNotFound":
		return &ect.CacheClusterNotFoundFault{Message: m}
	case "InvalidParameterValue":
		return &ect.InvalidParameterValueException{Message: m}
	case "InvalidParameterCombination":
		return &ect.InvalidParameterCombinationException{Message: m}
	case "InvalidSubnet":
		return &ect.InvalidSubnet{Message: m}
	case "SubnetInUse":
		return &ect.SubnetInUse{Message: m}
	case "InvalidARN":
		return &ect.InvalidARNFault{Message: m}
	case "CacheParameterGroupNotFound":
		return &ect.CacheParameterGroupNotFoundFault{Message: m}
	}
	return apiError(code, format, args...)
}

// ---- reference data ----

// cacheNodeTypes are the node types CreateReplicationGroup accepts for new
// groups: the current generation and T2, from the CacheNodeType doc comment
// of CreateReplicationGroupInput (aws-sdk-go-v2 service/elasticache v1.65.0).
// Previous-generation types (T1, M1, M2, M3, C1, R3) cannot create new
// clusters.
var cacheNodeTypes = func() map[string]bool {
	m := map[string]bool{}
	add := func(family string, sizes ...string) {
		for _, s := range sizes {
			m["cache."+family+"."+s] = true
		}
	}
	big7 := []string{"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"}
	add("m7g", big7...)
	add("m6g", big7...)
	add("r7g", big7...)
	add("r6g", big7...)
	add("m5", "large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge")
	add("r5", "large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge")
	add("m4", "large", "xlarge", "2xlarge", "4xlarge", "10xlarge")
	add("r4", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge")
	for _, f := range []string{"t4g", "t3", "t2"} {
		add(f, "micro", "small", "medium")
	}
	return m
}()

// cacheEngineVersions maps the versions a request may name to the version
// ElastiCache runs (the latest patch of that major.minor). From the user
// guide, "Supported engines and versions".
var cacheEngineVersions = map[string]map[string]string{
	"redis": {
		"5.0.6": "5.0.6", "6.0": "6.0.5", "6.2": "6.2.6", "6.2.6": "6.2.6",
		"7.0": "7.0.7", "7.0.7": "7.0.7", "7.1": "7.1.0", "7.1.0": "7.1.0",
	},
	"valkey": {
		"7.2": "7.2.6", "7.2.6": "7.2.6", "8.0": "8.0.1", "8.0.1": "8.0.1",
		"8.1": "8.1.0", "8.1.0": "8.1.0", "8.2": "8.2.0", "8.2.0": "8.2.0",
	},
}

var cacheDefaultVersion = map[string]string{"redis": "7.1", "valkey": "8.0"}

// paramFamily is the parameter group family of an engine version
// (user guide, "Engine specific parameters": redis7, valkey7, valkey8...).
func paramFamily(engine, version string) string {
	major, _, _ := strings.Cut(version, ".")
	switch {
	case engine == "valkey":
		return "valkey" + major
	case major == "5":
		return "redis5.0"
	case major == "6":
		return "redis6.x"
	}
	return "redis" + major
}

// compareVersions compares dotted numeric versions.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

var cacheIDRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)
var cacheSubnetGroupRE = regexp.MustCompile(`^[a-z0-9-]{1,255}$`)

func (s *elastiCacheSim) arn(kind, name string) string {
	return fmt.Sprintf("arn:aws:elasticache:%s:%s:%s:%s", s.c.Region, s.c.Account, kind, name)
}

// ---- lazy state machine ----

// tick advances every group's asynchronous state (c.mu held).
func (s *elastiCacheSim) tick() {
	now := time.Now()
	for _, id := range sortedKeys(s.groups) {
		g := s.groups[id]
		if s.held[id] {
			continue
		}
		if now.Before(g.until) {
			s.tickMembers(g, now)
			continue
		}
		switch g.status {
		case "creating":
			g.status, g.everAvailable = "available", true
			for _, m := range g.members {
				m.status = "available" // created with the group
			}
		case "modifying":
			s.applyPending(g)
			g.status = "available"
		case "deleting":
			for _, m := range g.members {
				s.c.ec2().releaseENIsAt(s.arn("cluster", m.id), g.until)
			}
			delete(s.groups, id)
			continue
		}
		s.tickMembers(g, now)
	}
}

func (s *elastiCacheSim) tickMembers(g *replicationGroup, now time.Time) {
	for _, m := range g.members {
		if m.status == "creating" && !now.Before(m.readyAt) && g.status != "creating" {
			m.status = "available"
		}
	}
}

func (s *elastiCacheSim) applyPending(g *replicationGroup) {
	p := g.pending
	g.pending = nil
	if p == nil {
		return
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&g.nodeType, p.nodeType)
	set(&g.engine, p.engine)
	set(&g.version, p.version)
	set(&g.paramGroup, p.paramGroup)
	if p.failover != nil {
		g.failover = *p.failover
	}
	if p.multiAZ != nil {
		g.multiAZ = *p.multiAZ
	}
	if p.transit != nil {
		g.transit = *p.transit
		if !g.transit {
			g.transitMode = ""
		}
	}
	set(&g.transitMode, p.transitMode)
	if len(p.remove) > 0 {
		var keep []*cacheNode
		for _, m := range g.members {
			if contains(p.remove, m.id) {
				s.c.ec2().releaseENIs(s.arn("cluster", m.id))
				continue
			}
			keep = append(keep, m)
		}
		g.members = keep
	}
}

// ---- output ----

func (s *elastiCacheSim) subnetGroupOut(sg *cacheSubnetGroup) *ect.CacheSubnetGroup {
	out := &ect.CacheSubnetGroup{
		ARN: aws.String(s.arn("subnetgroup", sg.name)), CacheSubnetGroupName: aws.String(sg.name),
		CacheSubnetGroupDescription: aws.String(sg.desc), VpcId: aws.String(sg.vpc),
		SupportedNetworkTypes: []ect.NetworkType{ect.NetworkTypeIpv4},
	}
	for _, id := range sg.subnets {
		az := ""
		if sn := s.c.ec2().subnets[id]; sn != nil {
			az = sn.az
		}
		out.Subnets = append(out.Subnets, ect.Subnet{SubnetIdentifier: aws.String(id),
			SubnetAvailabilityZone: &ect.AvailabilityZone{Name: aws.String(az)},
			SupportedNetworkTypes:  []ect.NetworkType{ect.NetworkTypeIpv4}})
	}
	return out
}

func (g *replicationGroup) primaryHost() string {
	if g.transit {
		return fmt.Sprintf("master.%s.%s.cache.amazonaws.com", g.id, g.dnsPart)
	}
	return fmt.Sprintf("%s.%s.ng.0001.cache.amazonaws.com", g.id, g.dnsPart)
}

func (g *replicationGroup) readerHost() string {
	if g.transit {
		return fmt.Sprintf("replica.%s.%s.cache.amazonaws.com", g.id, g.dnsPart)
	}
	return fmt.Sprintf("%s-ro.%s.ng.0001.cache.amazonaws.com", g.id, g.dnsPart)
}

func onOff(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}

func (s *elastiCacheSim) groupOut(g *replicationGroup) *ect.ReplicationGroup {
	out := &ect.ReplicationGroup{
		ARN: aws.String(s.arn("replicationgroup", g.id)), ReplicationGroupId: aws.String(g.id),
		Description: aws.String(g.desc), Status: aws.String(g.status), Engine: aws.String(g.engine),
		CacheNodeType: aws.String(g.nodeType), ClusterEnabled: aws.Bool(false), ClusterMode: ect.ClusterModeDisabled,
		AutomaticFailover: ect.AutomaticFailoverStatus(onOff(g.failover)), MultiAZ: ect.MultiAZStatus(onOff(g.multiAZ)),
		AtRestEncryptionEnabled: aws.Bool(g.atRest), TransitEncryptionEnabled: aws.Bool(g.transit),
		TransitEncryptionMode: ect.TransitEncryptionMode(g.transitMode), StorageEncryptionType: ect.StorageEncryptionTypeNone,
		SnapshotRetentionLimit: aws.Int32(g.retention), AutoMinorVersionUpgrade: aws.Bool(g.autoMinor),
		ReplicationGroupCreateTime: aws.Time(g.created), NetworkType: ect.NetworkTypeIpv4,
		AuthTokenEnabled: aws.Bool(false),
	}
	if g.atRest {
		out.StorageEncryptionType = ect.StorageEncryptionTypeSseElasticache
	}
	if g.snapshotWindow != "" {
		out.SnapshotWindow = aws.String(g.snapshotWindow)
	}
	if g.retention > 0 && len(g.members) > 0 {
		out.SnapshottingClusterId = aws.String(g.members[len(g.members)-1].id)
	}
	if p := g.pending; p != nil {
		pm := &ect.ReplicationGroupPendingModifiedValues{}
		if p.failover != nil {
			pm.AutomaticFailoverStatus = ect.PendingAutomaticFailoverStatus(onOff(*p.failover))
			if *p.failover != g.failover {
				out.AutomaticFailover = ect.AutomaticFailoverStatusEnabling
				if !*p.failover {
					out.AutomaticFailover = ect.AutomaticFailoverStatusDisabling
				}
			}
		}
		if p.transit != nil {
			pm.TransitEncryptionEnabled = aws.Bool(*p.transit)
		}
		if p.transitMode != nil {
			pm.TransitEncryptionMode = ect.TransitEncryptionMode(*p.transitMode)
		}
		out.PendingModifiedValues = pm
	}
	ng := ect.NodeGroup{NodeGroupId: aws.String("0001"), Status: aws.String(g.status)}
	if g.everAvailable {
		ng.PrimaryEndpoint = &ect.Endpoint{Address: aws.String(g.primaryHost()), Port: aws.Int32(g.port)}
		ng.ReaderEndpoint = &ect.Endpoint{Address: aws.String(g.readerHost()), Port: aws.Int32(g.port)}
	}
	for i, m := range g.members {
		out.MemberClusters = append(out.MemberClusters, m.id)
		role := "replica"
		if i == 0 {
			role = "primary"
		}
		mem := ect.NodeGroupMember{CacheClusterId: aws.String(m.id), CacheNodeId: aws.String("0001"),
			PreferredAvailabilityZone: aws.String(m.az)}
		if g.everAvailable {
			mem.CurrentRole = aws.String(role)
			mem.ReadEndpoint = &ect.Endpoint{Address: aws.String(fmt.Sprintf("%s.%s.0001.cache.amazonaws.com", m.id, g.dnsPart)), Port: aws.Int32(g.port)}
		}
		ng.NodeGroupMembers = append(ng.NodeGroupMembers, mem)
	}
	out.NodeGroups = []ect.NodeGroup{ng}
	return out
}

func (s *elastiCacheSim) clusterOut(g *replicationGroup, m *cacheNode) ect.CacheCluster {
	st := m.status
	if g.status == "deleting" {
		st = "deleting"
	} else if g.status == "modifying" && st == "available" {
		st = "modifying"
	}
	out := ect.CacheCluster{
		ARN: aws.String(s.arn("cluster", m.id)), CacheClusterId: aws.String(m.id), ReplicationGroupId: aws.String(g.id),
		CacheClusterStatus: aws.String(st), CacheNodeType: aws.String(g.nodeType), Engine: aws.String(g.engine),
		EngineVersion: aws.String(g.version), NumCacheNodes: aws.Int32(1), PreferredAvailabilityZone: aws.String(m.az),
		CacheSubnetGroupName: aws.String(g.subnetGroup), AtRestEncryptionEnabled: aws.Bool(g.atRest),
		TransitEncryptionEnabled: aws.Bool(g.transit), TransitEncryptionMode: ect.TransitEncryptionMode(g.transitMode),
		AutoMinorVersionUpgrade: aws.Bool(g.autoMinor), SnapshotRetentionLimit: aws.Int32(g.retention),
		CacheClusterCreateTime: aws.Time(m.created), NetworkType: ect.NetworkTypeIpv4,
		CacheParameterGroup: &ect.CacheParameterGroupStatus{CacheParameterGroupName: aws.String(g.paramGroup), ParameterApplyStatus: aws.String("in-sync")},
	}
	for _, id := range g.sgs {
		out.SecurityGroups = append(out.SecurityGroups, ect.SecurityGroupMembership{SecurityGroupId: aws.String(id), Status: aws.String("active")})
	}
	return out
}

func ecTags(m map[string]string) []ect.Tag {
	var out []ect.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, ect.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func ecTagMap(tags []ect.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func (s *elastiCacheSim) inventory() []Resource {
	s.tick()
	var out []Resource
	for _, id := range sortedKeys(s.groups) {
		out = append(out, Resource{"ElastiCache", "replication-group", id, copyTags(s.groups[id].tags)})
	}
	for _, n := range sortedKeys(s.subnetGroups) {
		out = append(out, Resource{"ElastiCache", "cache-subnet-group", n, copyTags(s.subnetGroups[n].tags)})
	}
	return out
}

// ---- cache subnet groups ----

// checkSubnets verifies that the subnets exist and share one VPC; it returns
// that VPC.
func (s *elastiCacheSim) checkSubnets(ids []string) (string, error) {
	if len(ids) == 0 {
		return "", ecErr("InvalidParameterValue", "At least one subnet ID must be specified.")
	}
	vpc := ""
	for _, id := range ids {
		sn := s.c.ec2().subnets[id]
		if sn == nil {
			return "", ecErr("InvalidSubnet", "The subnet ID %s does not exist", id)
		}
		if vpc != "" && sn.vpc != vpc {
			return "", ecErr("InvalidParameterValue", "Subnets must all be in the same VPC (%s is in %s, not %s).", id, sn.vpc, vpc)
		}
		vpc = sn.vpc
	}
	return vpc, nil
}

func dedup(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func (s *elastiCacheSim) CreateCacheSubnetGroup(_ context.Context, in *elasticache.CreateCacheSubnetGroupInput) (*elasticache.CreateCacheSubnetGroupOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.tick()
	// The name is stored lowercase (CreateCacheSubnetGroup API reference).
	name := strings.ToLower(aws.ToString(in.CacheSubnetGroupName))
	if !cacheSubnetGroupRE.MatchString(name) || strings.EqualFold(name, "default") {
		return nil, ecErr("InvalidParameterValue", "Invalid cache subnet group name %q: up to 255 letters, digits or hyphens.", name)
	}
	if _, ok := s.subnetGroups[name]; ok {
		return nil, ecErr("CacheSubnetGroupAlreadyExists", "Cache subnet group %s already exists.", name)
	}
	vpc, err := s.checkSubnets(in.SubnetIds)
	if err != nil {
		return nil, err
	}
	sg := &cacheSubnetGroup{name: name, desc: aws.ToString(in.CacheSubnetGroupDescription), vpc: vpc,
		subnets: dedup(in.SubnetIds), tags: ecTagMap(in.Tags)}
	s.subnetGroups[name] = sg
	return &elasticache.CreateCacheSubnetGroupOutput{CacheSubnetGroup: s.subnetGroupOut(sg)}, nil
}

func (s *elastiCacheSim) DescribeCacheSubnetGroups(_ context.Context, in *elasticache.DescribeCacheSubnetGroupsInput) (*elasticache.DescribeCacheSubnetGroupsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.tick()
	var list []ect.CacheSubnetGroup
	if in.CacheSubnetGroupName != nil {
		name := strings.ToLower(aws.ToString(in.CacheSubnetGroupName))
		sg, ok := s.subnetGroups[name]
		if !ok {
			return nil, ecErr("CacheSubnetGroupNotFoundFault", "Cache subnet group %s not found.", name)
		}
		list = append(list, *s.subnetGroupOut(sg))
	} else {
		for _, n := range sortedKeys(s.subnetGroups) {
			list = append(list, *s.subnetGroupOut(s.subnetGroups[n]))
		}
	}
	page, next := paginate(list, in.MaxRecords, in.Marker)
	return &elasticache.DescribeCacheSubnetGroupsOutput{CacheSubnetGroups: page, Marker: next}, nil
}

func (s *elastiCacheSim) ModifyCacheSubnetGroup(_ context.Context, in *elasticache.ModifyCacheSubnetGroupInput) (*elasticache.ModifyCacheSubnetGroupOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.tick()
	name := strings.ToLower(aws.ToString(in.CacheSubnetGroupName))
	sg, ok := s.subnetGroups[name]
	if !ok {
		return nil, ecErr("CacheSubnetGroupNotFoundFault", "Cache subnet group %s not found.", name)
	}
	if in.SubnetIds != nil {
		vpc, err := s.checkSubnets(in.SubnetIds)
		if err != nil {
			return nil, err
		}
		ids := dedup(in.SubnetIds)
		for _, g := range s.groups {
			if g.subnetGroup != name {
				continue
			}
			if vpc != sg.vpc {
				return nil, ecErr("InvalidParameterValue", "Cannot move cache subnet group %s to another VPC while it is in use.", name)
			}
			for _, m := range g.members {
				if !contains(ids, m.subnet) {
					return nil, ecErr("SubnetInUse", "Subnet %s is in use by cache cluster %s.", m.subnet, m.id)
				}
			}
		}
		sg.subnets, sg.vpc = ids, vpc
	}
	if in.CacheSubnetGroupDescription != nil {
		sg.desc = aws.ToString(in.CacheSubnetGroupDescription)
	}
	return &elasticache.ModifyCacheSubnetGroupOutput{CacheSubnetGroup: s.subnetGroupOut(sg)}, nil
}

func (s *elastiCacheSim) DeleteCacheSubnetGroup(_ context.Context, in *elasticache.DeleteCacheSubnetGroupInput) (*elasticache.DeleteCacheSubnetGroupOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.tick()
	name := strings.ToLower(aws.ToString(in.CacheSubnetGroupName))
	if _, ok := s.subnetGroups[name]; !ok {
		return nil, ecErr("CacheSubnetGroupNotFoundFault", "Cache subnet group %s not found.", name)
	}
	for _, id := range sortedKeys(s.groups) {
		if s.groups[id].subnetGroup == name {
			return nil, ecErr("CacheSubnetGroupInUse", "Cache subnet group %s is currently in use by a cache cluster (%s).", name, id)
		}
	}
	delete(s.subnetGroups, name)
	return &elasticache.DeleteCacheSubnetGroupOutput{}, nil
}

// ---- replication groups ----

// placeNode creates a cache node in az (or, when az is empty, in the zone of
// the subnet group holding the fewest of g's nodes) with its ENI.
func (s *elastiCacheSim) placeNode(g *replicationGroup, az string, ready time.Time) (*cacheNode, error) {
	sg := s.subnetGroups[g.subnetGroup]
	subnetIn := map[string]string{} // az -> subnet
	var zones []string
	for _, id := range sg.subnets {
		if sn := s.c.ec2().subnets[id]; sn != nil {
			if _, ok := subnetIn[sn.az]; !ok {
				subnetIn[sn.az] = id
				zones = append(zones, sn.az)
			}
		}
	}
	sort.Strings(zones)
	if len(zones) == 0 {
		return nil, ecErr("InvalidSubnet", "Cache subnet group %s has no usable subnet.", sg.name)
	}
	if az == "" {
		count := map[string]int{}
		for _, m := range g.members {
			count[m.az]++
		}
		az = zones[0]
		for _, z := range zones {
			if count[z] < count[az] {
				az = z
			}
		}
	}
	subnet, ok := subnetIn[az]
	if !ok {
		return nil, ecErr("InvalidParameterValue", "Availability zone %s is not in cache subnet group %s (zones: %s).", az, sg.name, strings.Join(zones, ", "))
	}
	g.nextMember++
	m := &cacheNode{id: fmt.Sprintf("%s-%03d", g.id, g.nextMember), az: az, subnet: subnet, status: "creating", readyAt: ready, created: time.Now()}
	m.eni = s.c.ec2().attachENI(subnet, g.sgs, "ElastiCache "+m.id, s.arn("cluster", m.id), false)
	return m, nil
}

func (s *elastiCacheSim) checkSecurityGroups(ids []string, vpc string) error {
	for _, id := range ids {
		g := s.c.ec2().sgs[id]
		if g == nil {
			return ecErr("InvalidParameterValue", "Some security group Id not recognized by EC2: %s", id)
		}
		if g.vpc != vpc {
			return ecErr("InvalidParameterValue", "Security group %s is not in the VPC of the cache subnet group (%s).", id, vpc)
		}
	}
	return nil
}

func (s *elastiCacheSim) checkParamGroup(name, engine, version string) error {
	fam := paramFamily(engine, version)
	if name == "" {
		return nil
	}
	fam2, ok := strings.CutPrefix(name, "default.")
	if !ok {
		return ecErr("CacheParameterGroupNotFound", "CacheParameterGroup %s not found.", name)
	}
	if fam2 != fam {
		return ecErr("InvalidParameterCombination", "Expected a parameter group of family %s but found one of family %s", fam, fam2)
	}
	return nil
}

func (s *elastiCacheSim) CreateReplicationGroup(_ context.Context, in *elasticache.CreateReplicationGroupInput) (*elasticache.CreateReplicationGroupOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.tick()
	// The ID is stored lowercase (CreateReplicationGroup API reference).
	id := strings.ToLower(aws.ToString(in.ReplicationGroupId))
	if !cacheIDRE.MatchString(id) || strings.Contains(id, "--") || strings.HasSuffix(id, "-") {
		return nil, ecErr("InvalidParameterValue", "Invalid replication group ID %q: 1 to 40 letters, digits or hyphens; first a letter; no two consecutive hyphens; no trailing hyphen.", id)
	}
	if _, ok := s.groups[id]; ok {
		return nil, ecErr("ReplicationGroupAlreadyExists", "Replication group %s already exists.", id)
	}
	if in.SnapshotName != nil || len(in.SnapshotArns) > 0 || in.GlobalReplicationGroupId != nil || in.PrimaryClusterId != nil {
		return nil, errors.New("awssim: ElastiCache seeding, global datastores and existing primaries are not simulated")
	}
	if in.ClusterMode == ect.ClusterModeEnabled || aws.ToInt32(in.NumNodeGroups) > 1 || len(in.NodeGroupConfiguration) > 0 {
		return nil, errors.New("awssim: ElastiCache cluster mode enabled is not simulated")
	}
	engine := strings.ToLower(aws.ToString(in.Engine))
	if engine == "" {
		engine = "redis"
	}
	versions, ok := cacheEngineVersions[engine]
	if !ok {
		return nil, ecErr("InvalidParameterValue", "Invalid engine %q: must be valkey or redis.", engine)
	}
	reqVersion := aws.ToString(in.EngineVersion)
	if reqVersion == "" {
		reqVersion = cacheDefaultVersion[engine]
	}
	version, ok := versions[reqVersion]
	if !ok {
		return nil, ecErr("InvalidParameterCombination", "Cannot find version %s for %s", reqVersion, engine)
	}
	nodeType := aws.ToString(in.CacheNodeType)
	if !cacheNodeTypes[nodeType] {
		return nil, ecErr("InvalidParameterValue", "Invalid or unsupported cache node type: %s", nodeType)
	}
	pg := aws.ToString(in.CacheParameterGroupName)
	if err := s.checkParamGroup(pg, engine, version); err != nil {
		return nil, err
	}
	if pg == "" {
		pg = "default." + paramFamily(engine, version)
	}
	sgName := strings.ToLower(aws.ToString(in.CacheSubnetGroupName))
	sn, ok := s.subnetGroups[sgName]
	if sgName == "" || !ok {
		return nil, ecErr("CacheSubnetGroupNotFoundFault", "Cache subnet group %s not found.", sgName)
	}
	if err := s.checkSecurityGroups(in.SecurityGroupIds, sn.vpc); err != nil {
		return nil, err
	}
	count := int32(1)
	switch {
	case in.NumCacheClusters != nil && in.ReplicasPerNodeGroup != nil:
		return nil, ecErr("InvalidParameterCombination", "NumCacheClusters and ReplicasPerNodeGroup cannot both be specified.")
	case in.NumCacheClusters != nil:
		count = *in.NumCacheClusters
	case in.ReplicasPerNodeGroup != nil:
		count = 1 + *in.ReplicasPerNodeGroup
	}
	if count < 1 || count > 6 {
		return nil, ecErr("InvalidParameterValue", "NumCacheClusters must be between 1 and 6 (1 primary and up to 5 replicas); got %d.", count)
	}
	failover, multiAZ := aws.ToBool(in.AutomaticFailoverEnabled), aws.ToBool(in.MultiAZEnabled)
	if failover && count < 2 {
		return nil, ecErr("InvalidParameterCombination", "When using automatic failover, there must be at least 2 cache clusters in the replication group.")
	}
	if multiAZ && !failover {
		return nil, ecErr("InvalidParameterCombination", "Multi-AZ requires automatic failover to be enabled.")
	}
	if len(in.PreferredCacheClusterAZs) > 0 && len(in.PreferredCacheClusterAZs) != int(count) {
		return nil, ecErr("InvalidParameterValue", "The number of PreferredCacheClusterAZs (%d) must equal NumCacheClusters (%d).", len(in.PreferredCacheClusterAZs), count)
	}
	transit := aws.ToBool(in.TransitEncryptionEnabled)
	mode := string(in.TransitEncryptionMode)
	switch {
	case mode != "" && !transit:
		return nil, ecErr("InvalidParameterCombination", "TransitEncryptionMode requires TransitEncryptionEnabled.")
	case transit && mode == "":
		mode = "required"
	}
	if in.AuthToken != nil && !transit {
		return nil, ecErr("InvalidParameterCombination", "AuthToken can be specified only when TransitEncryptionEnabled is true.")
	}
	// At-rest encryption defaults to true for Valkey and false for Redis OSS
	// (CreateReplicationGroupInput.AtRestEncryptionEnabled doc comment).
	atRest := engine == "valkey"
	if in.AtRestEncryptionEnabled != nil {
		atRest = *in.AtRestEncryptionEnabled
	}
	retention := aws.ToInt32(in.SnapshotRetentionLimit)
	if retention < 0 || retention > 35 {
		return nil, ecErr("InvalidParameterValue", "SnapshotRetentionLimit must be between 0 and 35.")
	}
	port := aws.ToInt32(in.Port)
	if port == 0 {
		port = 6379
	}
	autoMinor := true
	if in.AutoMinorVersionUpgrade != nil {
		autoMinor = *in.AutoMinorVersionUpgrade
	}
	s.c.seq++
	g := &replicationGroup{
		id: id, desc: aws.ToString(in.ReplicationGroupDescription), engine: engine, version: version, paramGroup: pg,
		nodeType: nodeType, subnetGroup: sgName, sgs: append([]string(nil), in.SecurityGroupIds...), port: port,
		atRest: atRest, transit: transit, transitMode: mode, failover: failover, multiAZ: multiAZ, autoMinor: autoMinor,
		retention: retention, snapshotWindow: aws.ToString(in.SnapshotWindow), status: "creating",
		until: s.c.deadline(s.c.Timing.ReplicationGroup), tags: ecTagMap(in.Tags), created: time.Now(),
		dnsPart: fmt.Sprintf("%06x", uint64(s.c.seq)*0x9e3779b1%0xffffff),
	}
	for i := 0; i < int(count); i++ {
		az := ""
		if len(in.PreferredCacheClusterAZs) > 0 {
			az = in.PreferredCacheClusterAZs[i]
		}
		m, err := s.placeNode(g, az, g.until)
		if err != nil {
			for _, x := range g.members {
				delete(s.c.ec2().enis, x.eni)
			}
			return nil, err
		}
		g.members = append(g.members, m)
	}
	s.groups[id] = g
	return &elasticache.CreateReplicationGroupOutput{ReplicationGroup: s.groupOut(g)}, nil
}

func (s *elastiCacheSim) DescribeReplicationGroups(_ context.Context, in *elasticache.DescribeReplicationGroupsInput) (*elasticache.DescribeReplicationGroupsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.tick()
	var list []ect.ReplicationGroup
	if in.ReplicationGroupId != nil {
		id := strings.ToLower(aws.ToString(in.ReplicationGroupId))
		g, ok := s.groups[id]
		if !ok {
			return nil, ecErr("ReplicationGroupNotFoundFault", "Replication group %s not found.", id)
		}
		list = append(list, *s.groupOut(g))
	} else {
		for _, id := range sortedKeys(s.groups) {
			list = append(list, *s.groupOut(s.groups[id]))
		}
	}
	page, next := paginate(list, in.MaxRecords, in.Marker)
	return &elasticache.DescribeReplicationGroupsOutput{ReplicationGroups: page, Marker: next}, nil
}

func (s *elastiCacheSim) DescribeCacheClusters(_ context.Context, in *elasticache.DescribeCacheClustersInput) (*elasticache.DescribeCacheClustersOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.tick()
	var list []ect.CacheCluster
	want := strings.ToLower(aws.ToString(in.CacheClusterId))
	for _, id := range sortedKeys(s.groups) {
		g := s.groups[id]
		for _, m := range g.members {
			if want == "" || m.id == want {
				list = append(list, s.clusterOut(g, m))
			}
		}
	}
	if want != "" && len(list) == 0 {
		return nil, ecErr("CacheClusterNotFound", "CacheCluster not found: %s", want)
	}
	sort.Slice(list, func(i, j int) bool {
		return aws.ToString(list[i].CacheClusterId) < aws.ToString(list[j].CacheClusterId)
	})
	page, next := paginate(list, in.MaxRecords, in.Marker)
	return &elasticache.DescribeCacheClustersOutput{CacheClusters: page, Marker: next}, nil
}

// available returns the group when it exists and can be changed.
func (s *elastiCacheSim) available(id, what string) (*replicationGroup, error) {
	id = strings.ToLower(id)
	g, ok := s.groups[id]
	if !ok {
		return nil, ecErr("ReplicationGroupNotFoundFault", "Replication group %s not found.", id)
	}
	if g.status != "available" {
		return nil, ecErr("InvalidReplicationGroupState", "Replication group must be in available state to %s (%s is %s).", what, id, g.status)
	}
	return g, nil
}

func (g *replicationGroup) replicas() int { return len(g.members) - 1 }

func (s *elastiCacheSim) ModifyReplicationGroup(_ context.Context, in *elasticache.ModifyReplicationGroupInput) (*elasticache.ModifyReplicationGroupOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.tick()
	g, err := s.available(aws.ToString(in.ReplicationGroupId), "modify")
	if err != nil {
		return nil, err
	}
	now := aws.ToBool(in.ApplyImmediately)
	p := &rgPending{}
	changed := false

	if in.CacheNodeType != nil && *in.CacheNodeType != g.nodeType {
		if !cacheNodeTypes[*in.CacheNodeType] {
			return nil, ecErr("InvalidParameterValue", "Invalid or unsupported cache node type: %s", *in.CacheNodeType)
		}
		if now {
			p.nodeType, changed = in.CacheNodeType, true
		}
	}
	engine, version := g.engine, g.version
	if in.Engine != nil && strings.ToLower(*in.Engine) != g.engine {
		engine = strings.ToLower(*in.Engine)
		if _, ok := cacheEngineVersions[engine]; !ok {
			return nil, ecErr("InvalidParameterValue", "Invalid engine %q: must be valkey or redis.", engine)
		}
		if g.engine == "valkey" && engine == "redis" {
			return nil, ecErr("InvalidParameterCombination", "Cannot change the engine of replication group %s from valkey to redis.", g.id)
		}
		if in.EngineVersion == nil {
			return nil, ecErr("InvalidParameterCombination", "EngineVersion is required to change the engine to %s.", engine)
		}
	}
	if in.EngineVersion != nil {
		v, ok := cacheEngineVersions[engine][*in.EngineVersion]
		if !ok {
			return nil, ecErr("InvalidParameterCombination", "Cannot find version %s for %s", *in.EngineVersion, engine)
		}
		if engine == g.engine && compareVersions(v, g.version) < 0 {
			return nil, ecErr("InvalidParameterCombination", "Cannot downgrade %s from %s to %s.", engine, g.version, v)
		}
		version = v
	}
	pg := aws.ToString(in.CacheParameterGroupName)
	if engine != g.engine || version != g.version || pg != "" {
		if pg == "" && paramFamily(engine, version) != paramFamily(g.engine, g.version) {
			if !strings.HasPrefix(g.paramGroup, "default.") {
				return nil, ecErr("InvalidParameterCombination", "A custom parameter group of family %s must be given for %s %s.", paramFamily(engine, version), engine, version)
			}
			pg = "default." + paramFamily(engine, version)
		}
		if err := s.checkParamGroup(pg, engine, version); err != nil {
			return nil, err
		}
		if now && (engine != g.engine || version != g.version || (pg != "" && pg != g.paramGroup)) {
			e, v := engine, version
			p.engine, p.version, changed = &e, &v, true
			if pg != "" {
				p.paramGroup = &pg
			}
		}
	}

	failover, multiAZ := g.failover, g.multiAZ
	if in.AutomaticFailoverEnabled != nil {
		failover = *in.AutomaticFailoverEnabled
	}
	if in.MultiAZEnabled != nil {
		multiAZ = *in.MultiAZEnabled
	}
	if failover && len(g.members) < 2 {
		return nil, ecErr("InvalidParameterCombination", "When using automatic failover, there must be at least 2 cache clusters in the replication group.")
	}
	if multiAZ && !failover {
		return nil, ecErr("InvalidParameterCombination", "Multi-AZ requires automatic failover to be enabled.")
	}
	if failover != g.failover {
		p.failover, changed = aws.Bool(failover), true
	}
	if multiAZ != g.multiAZ {
		p.multiAZ, changed = aws.Bool(multiAZ), true
	}

	if in.TransitEncryptionEnabled != nil || in.TransitEncryptionMode != "" {
		transit := g.transit
		if in.TransitEncryptionEnabled != nil {
			transit = *in.TransitEncryptionEnabled
		}
		mode := string(in.TransitEncryptionMode)
		if mode == "" {
			mode = g.transitMode
		}
		// In-transit encryption goes none -> preferred -> required and back the
		// same way (user guide, "Enabling in-transit encryption").
		switch {
		case transit && !g.transit && mode != "preferred":
			return nil, ecErr("InvalidParameterCombination", "To enable in-transit encryption on an existing replication group, TransitEncryptionMode must be preferred.")
		case !transit && g.transit && g.transitMode != "preferred":
			return nil, ecErr("InvalidParameterCombination", "TransitEncryptionMode must be preferred before in-transit encryption can be disabled.")
		case !transit && in.TransitEncryptionMode != "":
			return nil, ecErr("InvalidParameterCombination", "TransitEncryptionMode requires TransitEncryptionEnabled.")
		}
		if transit != g.transit {
			p.transit, changed = aws.Bool(transit), true
		}
		if transit && mode != g.transitMode {
			p.transitMode, changed = aws.String(mode), true
		}
	}

	if in.SecurityGroupIds != nil {
		if err := s.checkSecurityGroups(in.SecurityGroupIds, s.subnetGroups[g.subnetGroup].vpc); err != nil {
			return nil, err
		}
		g.sgs = append([]string(nil), in.SecurityGroupIds...)
		for _, m := range g.members {
			if e := s.c.ec2().enis[m.eni]; e != nil {
				e.groups = append([]string(nil), g.sgs...)
			}
		}
		changed = true
	}
	if in.SnapshotRetentionLimit != nil {
		if *in.SnapshotRetentionLimit < 0 || *in.SnapshotRetentionLimit > 35 {
			return nil, ecErr("InvalidParameterValue", "SnapshotRetentionLimit must be between 0 and 35.")
		}
		g.retention, changed = *in.SnapshotRetentionLimit, true
	}
	if in.SnapshotWindow != nil {
		g.snapshotWindow, changed = *in.SnapshotWindow, true
	}
	if in.AutoMinorVersionUpgrade != nil {
		g.autoMinor, changed = *in.AutoMinorVersionUpgrade, true
	}
	if in.ReplicationGroupDescription != nil {
		g.desc, changed = *in.ReplicationGroupDescription, true
	}
	if changed {
		g.pending = p
		g.status, g.until = "modifying", s.c.deadline(s.c.Timing.ReplicationModify)
	}
	return &elasticache.ModifyReplicationGroupOutput{ReplicationGroup: s.groupOut(g)}, nil
}

func replicaTarget(n *int32, conf []ect.ConfigureShard) (int, []string, error) {
	if len(conf) > 1 || (len(conf) == 1 && aws.ToString(conf[0].NodeGroupId) != "0001") {
		return 0, nil, ecErr("InvalidParameterValue", "A replication group with cluster mode disabled has one node group, 0001.")
	}
	if len(conf) == 1 {
		if n != nil {
			return 0, nil, ecErr("InvalidParameterCombination", "NewReplicaCount and ReplicaConfiguration cannot both be specified.")
		}
		return int(aws.ToInt32(conf[0].NewReplicaCount)), conf[0].PreferredAvailabilityZones, nil
	}
	if n == nil {
		return 0, nil, ecErr("InvalidParameterCombination", "Either NewReplicaCount or ReplicaConfiguration must be specified.")
	}
	return int(*n), nil, nil
}

func (s *elastiCacheSim) IncreaseReplicaCount(_ context.Context, in *elasticache.IncreaseReplicaCountInput) (*elasticache.IncreaseReplicaCountOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.tick()
	g, err := s.available(aws.ToString(in.ReplicationGroupId), "modify")
	if err != nil {
		return nil, err
	}
	if !aws.ToBool(in.ApplyImmediately) {
		return nil, ecErr("InvalidParameterValue", "ApplyImmediately=false is not currently supported.")
	}
	n, azs, err := replicaTarget(in.NewReplicaCount, in.ReplicaConfiguration)
	if err != nil {
		return nil, err
	}
	if n <= g.replicas() || n > 5 {
		return nil, ecErr("InvalidParameterValue", "The new replica count (%d) must be greater than the current one (%d) and at most 5.", n, g.replicas())
	}
	if len(azs) > 0 && len(azs) != n+1 {
		return nil, ecErr("InvalidParameterValue", "PreferredAvailabilityZones must list %d zones (the primary and every replica).", n+1)
	}
	g.status, g.until = "modifying", s.c.deadline(s.c.Timing.ReplicationModify)
	// New replicas are still "creating" after the group is available again.
	ready := g.until.Add(s.c.wall(s.c.Timing.ReplicationModify / 4))
	for i := len(g.members); i <= n; i++ {
		az := ""
		if len(azs) > 0 {
			az = azs[i]
		}
		m, err := s.placeNode(g, az, ready)
		if err != nil {
			return nil, err
		}
		g.members = append(g.members, m)
	}
	return &elasticache.IncreaseReplicaCountOutput{ReplicationGroup: s.groupOut(g)}, nil
}

func (s *elastiCacheSim) DecreaseReplicaCount(_ context.Context, in *elasticache.DecreaseReplicaCountInput) (*elasticache.DecreaseReplicaCountOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.tick()
	g, err := s.available(aws.ToString(in.ReplicationGroupId), "modify")
	if err != nil {
		return nil, err
	}
	if !aws.ToBool(in.ApplyImmediately) {
		return nil, ecErr("InvalidParameterValue", "ApplyImmediately=false is not currently supported.")
	}
	var n int
	if len(in.ReplicasToRemove) > 0 && in.NewReplicaCount == nil && len(in.ReplicaConfiguration) == 0 {
		n = g.replicas() - len(in.ReplicasToRemove)
	} else if n, _, err = replicaTarget(in.NewReplicaCount, in.ReplicaConfiguration); err != nil {
		return nil, err
	}
	if n >= g.replicas() || n < 0 {
		return nil, ecErr("InvalidParameterValue", "The new replica count (%d) must be less than the current one (%d) and not negative.", n, g.replicas())
	}
	if n < 1 && (g.failover || g.multiAZ) {
		return nil, ecErr("InvalidParameterValue", "Must have at least 1 replica when cluster mode is disabled with auto failover enabled.")
	}
	remove := in.ReplicasToRemove
	for _, id := range remove {
		ok := false
		for i, m := range g.members {
			ok = ok || (i > 0 && m.id == id)
		}
		if !ok {
			return nil, ecErr("InvalidParameterValue", "%s is not a replica of replication group %s.", id, g.id)
		}
	}
	if len(remove) == 0 {
		for i := len(g.members) - 1; i > n; i-- {
			remove = append(remove, g.members[i].id)
		}
	} else if len(remove) != g.replicas()-n {
		return nil, ecErr("InvalidParameterCombination", "ReplicasToRemove must list %d replicas.", g.replicas()-n)
	}
	for _, m := range g.members {
		if contains(remove, m.id) {
			m.status = "deleting"
		}
	}
	g.pending = &rgPending{remove: append([]string(nil), remove...)}
	g.status, g.until = "modifying", s.c.deadline(s.c.Timing.ReplicationModify)
	return &elasticache.DecreaseReplicaCountOutput{ReplicationGroup: s.groupOut(g)}, nil
}

func (s *elastiCacheSim) DeleteReplicationGroup(_ context.Context, in *elasticache.DeleteReplicationGroupInput) (*elasticache.DeleteReplicationGroupOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.tick()
	if in.FinalSnapshotIdentifier != nil || aws.ToBool(in.RetainPrimaryCluster) {
		return nil, errors.New("awssim: ElastiCache final snapshots and retained primaries are not simulated")
	}
	id := strings.ToLower(aws.ToString(in.ReplicationGroupId))
	g, ok := s.groups[id]
	if !ok {
		return nil, ecErr("ReplicationGroupNotFoundFault", "Replication group %s not found.", id)
	}
	if g.status != "available" && g.status != "create-failed" {
		return nil, ecErr("InvalidReplicationGroupState", "Replication group %s has status %s which is not valid for deletion.", id, g.status)
	}
	g.status, g.until, g.pending = "deleting", s.c.deadline(s.c.Timing.ReplicationDeleting), nil
	for _, m := range g.members {
		m.status = "deleting"
	}
	return &elasticache.DeleteReplicationGroupOutput{ReplicationGroup: s.groupOut(g)}, nil
}

// ---- tags ----

// tagsOf resolves an ElastiCache ARN to the tag map of its resource.
func (s *elastiCacheSim) tagsOf(arn string) (map[string]string, error) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) != 7 || parts[0] != "arn" || parts[2] != "elasticache" {
		return nil, ecErr("InvalidARN", "The ARN %s is not valid.", arn)
	}
	if parts[3] != s.c.Region || parts[4] != s.c.Account {
		return nil, ecErr("InvalidARN", "The ARN %s is not in this account and region.", arn)
	}
	name := parts[6]
	switch parts[5] {
	case "replicationgroup":
		if g, ok := s.groups[name]; ok {
			return g.tags, nil
		}
		return nil, ecErr("ReplicationGroupNotFoundFault", "Replication group %s not found.", name)
	case "subnetgroup":
		if sg, ok := s.subnetGroups[name]; ok {
			return sg.tags, nil
		}
		return nil, ecErr("CacheSubnetGroupNotFoundFault", "Cache subnet group %s not found.", name)
	case "cluster":
		// Tags on a replication group are replicated to its nodes
		// (CreateReplicationGroupInput.Tags doc comment).
		for _, g := range s.groups {
			for _, m := range g.members {
				if m.id == name {
					return g.tags, nil
				}
			}
		}
		return nil, ecErr("CacheClusterNotFound", "CacheCluster not found: %s", name)
	}
	return nil, ecErr("InvalidARN", "The ARN %s is not valid.", arn)
}

func (s *elastiCacheSim) ListTagsForResource(_ context.Context, in *elasticache.ListTagsForResourceInput) (*elasticache.ListTagsForResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.tick()
	tags, err := s.tagsOf(aws.ToString(in.ResourceName))
	if err != nil {
		return nil, err
	}
	return &elasticache.ListTagsForResourceOutput{TagList: ecTags(tags)}, nil
}

func (s *elastiCacheSim) AddTagsToResource(_ context.Context, in *elasticache.AddTagsToResourceInput) (*elasticache.AddTagsToResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.tick()
	tags, err := s.tagsOf(aws.ToString(in.ResourceName))
	if err != nil {
		return nil, err
	}
	for k, v := range ecTagMap(in.Tags) {
		tags[k] = v
	}
	return &elasticache.AddTagsToResourceOutput{TagList: ecTags(tags)}, nil
}
