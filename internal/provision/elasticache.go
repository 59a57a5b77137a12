package provision

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ect "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// ElastiCache: the cache subnet group over the private subnets
// ("redis-subnets") and a Valkey or Redis OSS replication group with cluster
// mode disabled ("redis").
//
// Choices:
//   - Engine versions are pinned: Redis OSS 7.1 (the last Redis OSS release
//     ElastiCache offers) and Valkey 8.0 (the target of AWS's documented
//     Redis OSS → Valkey upgrade, `modify-replication-group --engine valkey
//     --engine-version 8.0`, user guide "How to upgrade from Redis OSS to
//     Valkey"), each with the default parameter group of its family named
//     explicitly (default.redis7, default.valkey8), as the
//     CacheParameterGroupName doc comment recommends. Minor and patch
//     upgrades are left to AutoMinorVersionUpgrade; a group already on a
//     newer version than the pin is left alone (versions never go down).
//   - In-transit encryption is on (TLS required). The stock WBO image does
//     not talk to Redis at all (../shared/reference/wbo.md: no Redis client
//     or adapter anywhere in its code), so TLS costs it nothing; a custom
//     image that shares state through Redis gets an encrypted connection,
//     which every maintained client supports through a rediss:// URL. The
//     URL is recorded as Attrs["url"] (scheme included) next to
//     Attrs["endpoint"] and Attrs["port"]; use it for REDIS_URL. A group
//     adopted without TLS is moved to it in place, in AWS's two steps
//     (preferred, then required; user guide "Enabling in-transit
//     encryption").
//   - At-rest encryption is on. It cannot be changed after creation
//     (CreateReplicationGroupInput.AtRestEncryptionEnabled doc comment), so
//     a group without it is reported as a replacement.
//   - Destroy takes no final snapshot: WBO keeps its boards in S3, whatever
//     Redis holds is cache and presence that a fresh group rebuilds, and a
//     final snapshot would outlive the stack as a billed, untracked resource.

// Pinned engine versions (see the file comment).
const (
	redisEngineVersion  = "7.1"
	valkeyEngineVersion = "8.0"
	redisPort           = 6379
)

// Waiting. ElastiCache creates a group in 5–15 minutes (aws-behaviour.md);
// node type changes copy the data and can take much longer. Polls start at
// 5 s and never wait more than 20 s, so readiness is noticed promptly.
const (
	cacheCreateTimeout = 60 * time.Minute
	cacheModifyTimeout = 120 * time.Minute
	cacheDeleteTimeout = 45 * time.Minute
	cachePollMin       = 5 * time.Second
	cachePollMax       = 20 * time.Second
)

func cacheEngineVersion(engine string) string {
	if engine == "valkey" {
		return valkeyEngineVersion
	}
	return redisEngineVersion
}

// cacheParamGroup is the default parameter group of the pinned version's
// family (user guide, "Engine specific parameters": families redis7, valkey8).
func cacheParamGroup(engine string) string {
	major, _, _ := strings.Cut(cacheEngineVersion(engine), ".")
	return "default." + engine + major
}

// RedisNote explains what the redis section provisions, and that the stock
// WBO image does not use Redis, for plan and status to print.
func RedisNote(cfg *config.Config) string {
	const unused = "the stock WBO image (lovasoa/wbo) does not use Redis: it has no Redis client or socket.io adapter and keeps each board in one process (see docs/redis.md)"
	if !cfg.RedisEnabled() {
		return "Redis: none (redis.mode: none), nothing is provisioned; " + unused + "."
	}
	passed := "not passed to the app (redis.pass_url: false: the whiteboard does not wait for it)"
	if cfg.Redis.PassURL {
		passed = "passed to the app as REDIS_URL (redis.pass_url: the tasks wait until it is created)"
	}
	what := fmt.Sprintf("Redis: ElastiCache %s %s, %d × %s (%d replica(s)), %s", cfg.Redis.Engine,
		cacheEngineVersion(cfg.Redis.Engine), 1+cfg.Redis.Replicas, cfg.Redis.NodeType, cfg.Redis.Replicas, passed)
	if strings.HasPrefix(cfg.App.Image, "lovasoa/wbo:") || cfg.App.Image == "lovasoa/wbo" {
		return what + ". Note: " + unused + ", so these nodes are billed without being used; set redis.mode: none unless you switch to an image that needs it."
	}
	return what + ". The stock WBO image does not use Redis; it is provisioned for your image " + cfg.App.Image + "."
}

func cacheTags(env *Env, logical string) []ect.Tag {
	var out []ect.Tag
	for _, kv := range env.SortedTags(logical) {
		out = append(out, ect.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
	}
	return out
}

func listCacheTags(ctx context.Context, env *Env, arn string) (map[string]string, error) {
	out, err := env.AWS.ElastiCache.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", arn, err)
	}
	m := map[string]string{}
	for _, t := range out.TagList {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m, nil
}

// ForeignResourceError says a deterministic name is taken by a resource that
// is not this stack's.
type ForeignResourceError struct {
	What, Name, Owner string
}

func (e *ForeignResourceError) Error() string {
	owner := "is not tagged as part of any wbo-deploy stack"
	if e.Owner != "" {
		owner = fmt.Sprintf("belongs to wbo-deploy stack %q", e.Owner)
	}
	return fmt.Sprintf("%s %s already exists and %s; delete or rename it, or choose another stack name", e.What, e.Name, owner)
}

// checkOwner refuses to adopt a resource found by name that is not tagged
// as this stack's node n.
func checkOwner(env *Env, n *Node, what, name string, tags map[string]string) error {
	if tags[TagStack] != env.Stack() || (tags[TagResource] != "" && tags[TagResource] != n.Name) {
		return &ForeignResourceError{What: what, Name: name, Owner: tags[TagStack]}
	}
	return nil
}

// ============================ cache subnet group ============================

// cacheSubnetGroupKind provisions the cache subnet group over the private
// subnets (the node's subnet-private-* dependencies).
type cacheSubnetGroupKind struct{}

func init() { Register(cacheSubnetGroupKind{}) }

func (cacheSubnetGroupKind) Type() string { return "elasticache.subnet-group" }

type cacheSubnetObs struct {
	name, desc, vpc string
	subnets         []string // sorted
}

// ElastiCache stores subnet group names and replication group IDs in
// lowercase (CreateCacheSubnetGroup / CreateReplicationGroup API reference).
func cacheSubnetGroupName(env *Env) string {
	return strings.ToLower(env.Cfg.Names().CacheSubnetGroup)
}

func cacheSubnetDesc(env *Env) string {
	return "wbo-deploy " + env.Stack() + ": Redis nodes in the private subnets"
}

func (k cacheSubnetGroupKind) wantSubnets(env *Env, n *Node) ([]string, error) {
	var ids []string
	for _, d := range n.Deps {
		if !strings.HasPrefix(d, "subnet-private-") {
			continue
		}
		id, err := env.RefID(d)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("cache subnet group %s has no private subnet among its dependencies", n.Name)
	}
	sort.Strings(ids)
	return ids, nil
}

func (k cacheSubnetGroupKind) observe(n *Node, g ect.CacheSubnetGroup) *Observed {
	raw := &cacheSubnetObs{name: aws.ToString(g.CacheSubnetGroupName), desc: aws.ToString(g.CacheSubnetGroupDescription), vpc: aws.ToString(g.VpcId)}
	var zones []string
	for _, s := range g.Subnets {
		raw.subnets = append(raw.subnets, aws.ToString(s.SubnetIdentifier))
		if s.SubnetAvailabilityZone != nil {
			zones = append(zones, aws.ToString(s.SubnetAvailabilityZone.Name))
		}
	}
	sort.Strings(raw.subnets)
	sort.Strings(zones)
	obs := &Observed{Rec: NewRecord(n, raw.name), State: "available", Raw: raw,
		Info: map[string]string{"subnets": strings.Join(raw.subnets, ", "), "zones": strings.Join(zones, ", ")}}
	obs.Rec.ARN = aws.ToString(g.ARN)
	obs.Rec.Attrs["vpc"] = raw.vpc
	return obs
}

func (k cacheSubnetGroupKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	name := cacheSubnetGroupName(env)
	recorded := rec != nil && rec.ID != ""
	if recorded {
		name = rec.ID
	}
	out, err := env.AWS.ElastiCache.DescribeCacheSubnetGroups(ctx, &elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String(name)})
	if awserr.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe cache subnet group %s: %w", name, err)
	}
	if len(out.CacheSubnetGroups) != 1 {
		return nil, nil
	}
	g := out.CacheSubnetGroups[0]
	if !recorded {
		tags, err := listCacheTags(ctx, env, cacheARN(env, "subnetgroup", g.ARN, name))
		if err != nil {
			return nil, err
		}
		if err := checkOwner(env, n, "cache subnet group", name, tags); err != nil {
			return nil, err
		}
	}
	return k.observe(n, g), nil
}

// cacheARN returns the ARN AWS reported, or builds it
// (arn:aws:elasticache:<region>:<account>:<kind>:<name>).
func cacheARN(env *Env, kind string, reported *string, name string) string {
	if a := aws.ToString(reported); a != "" {
		return a
	}
	partition := "aws"
	if env.AWS != nil && env.AWS.Partition != "" {
		partition = env.AWS.Partition
	}
	return fmt.Sprintf("arn:%s:elasticache:%s:%s:%s:%s", partition, env.Region(), env.Account(), kind, name)
}

func (k cacheSubnetGroupKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	subnets, err := k.wantSubnets(env, n)
	if err != nil {
		return nil, err
	}
	name := cacheSubnetGroupName(env)
	out, err := env.AWS.ElastiCache.CreateCacheSubnetGroup(ctx, &elasticache.CreateCacheSubnetGroupInput{
		CacheSubnetGroupName: aws.String(name), CacheSubnetGroupDescription: aws.String(cacheSubnetDesc(env)),
		SubnetIds: subnets, Tags: cacheTags(env, n.Name),
	})
	if err != nil {
		return nil, fmt.Errorf("create cache subnet group %s: %w", name, err)
	}
	obs := k.observe(n, *out.CacheSubnetGroup)
	if err := env.Record(obs.Rec); err != nil {
		return nil, err
	}
	return obs, nil
}

func (k cacheSubnetGroupKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	raw := obs.Raw.(*cacheSubnetObs)
	want, err := k.wantSubnets(env, n)
	if err != nil {
		return []Change{{Field: "subnets", Old: strings.Join(raw.subnets, ","), New: err.Error()}}
	}
	var cs []Change
	if strings.Join(raw.subnets, ",") != strings.Join(want, ",") {
		cs = append(cs, Change{Field: "subnets", Old: strings.Join(raw.subnets, ","), New: strings.Join(want, ",")})
	}
	if raw.desc != cacheSubnetDesc(env) {
		cs = append(cs, Change{Field: "description", Old: raw.desc, New: cacheSubnetDesc(env)})
	}
	return cs
}

func (k cacheSubnetGroupKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	want, err := k.wantSubnets(env, n)
	if err != nil {
		return err
	}
	out, err := env.AWS.ElastiCache.ModifyCacheSubnetGroup(ctx, &elasticache.ModifyCacheSubnetGroupInput{
		CacheSubnetGroupName: aws.String(obs.Rec.ID), SubnetIds: want, CacheSubnetGroupDescription: aws.String(cacheSubnetDesc(env)),
	})
	if err != nil {
		return fmt.Errorf("modify cache subnet group %s: %w", obs.Rec.ID, err)
	}
	fresh := k.observe(n, *out.CacheSubnetGroup)
	obs.Rec, obs.Raw, obs.Info = fresh.Rec, fresh.Raw, fresh.Info
	return nil
}

// Delete removes the group. While a replication group still uses it AWS
// answers CacheSubnetGroupInUse, a dependency error the engine retries: the
// group goes only after the replication group is gone.
func (k cacheSubnetGroupKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	_, err := env.AWS.ElastiCache.DeleteCacheSubnetGroup(ctx, &elasticache.DeleteCacheSubnetGroupInput{CacheSubnetGroupName: aws.String(rec.ID)})
	if err != nil && !awserr.IsNotFound(err) {
		return fmt.Errorf("delete cache subnet group %s: %w", rec.ID, err)
	}
	return nil
}

func (k cacheSubnetGroupKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var out []state.Resource
	p := elasticache.NewDescribeCacheSubnetGroupsPaginator(env.AWS.ElastiCache, &elasticache.DescribeCacheSubnetGroupsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe cache subnet groups: %w", err)
		}
		for _, g := range page.CacheSubnetGroups {
			name := aws.ToString(g.CacheSubnetGroupName)
			arn := cacheARN(env, "subnetgroup", g.ARN, name)
			tags, err := listCacheTags(ctx, env, arn)
			if awserr.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if tags[TagStack] == env.Stack() {
				out = append(out, state.Resource{Name: tags[TagResource], Kind: k.Type(), ID: name, ARN: arn})
			}
		}
	}
	return out, nil
}

// ============================ replication group =============================

// replicationGroupKind provisions the Valkey/Redis OSS replication group:
// 1 + redis.replicas nodes, the primary in the first zone and replicas
// alternating between the two, automatic failover and Multi-AZ with at least
// one replica, encryption at rest and in transit, daily snapshots kept
// redis.snapshot_retention_days.
type replicationGroupKind struct{}

func init() { Register(replicationGroupKind{}) }

func (replicationGroupKind) Type() string { return "elasticache.replication-group" }

// rgObs is a replication group as DescribeReplicationGroups and
// DescribeCacheClusters (for its primary node) report it.
type rgObs struct {
	id, arn, status        string
	engine, version        string // version from the primary node ("7.1.0")
	nodeType, subnetGroup  string
	members                []string
	azs                    []string // per member, in member order
	failover, multiAZ      bool
	atRest, transit        bool
	transitMode            string
	autoMinor, clusterMode bool
	retention              int32
	sgs                    []string // sorted
	host                   string
	port                   int32
}

func (r *rgObs) replicas() int { return len(r.members) - 1 }

func cacheGroupID(env *Env) string { return strings.ToLower(env.Cfg.Names().ReplicationGroup) }

func rgDescription(env *Env) string { return "wbo-deploy " + env.Stack() + ": Redis for WBO" }

// describeGroup reads the replication group alone; nil when it does not exist.
func describeGroup(ctx context.Context, env *Env, id string) (*ect.ReplicationGroup, error) {
	out, err := env.AWS.ElastiCache.DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(id)})
	if awserr.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe replication group %s: %w", id, err)
	}
	if len(out.ReplicationGroups) != 1 {
		return nil, nil
	}
	return &out.ReplicationGroups[0], nil
}

// describeRG reads the group and its primary node (engine version, security
// groups and subnet group live on the nodes); nil when the group does not exist.
func describeRG(ctx context.Context, env *Env, id string) (*rgObs, error) {
	g, err := describeGroup(ctx, env, id)
	if err != nil || g == nil {
		return nil, err
	}
	r := &rgObs{
		id: aws.ToString(g.ReplicationGroupId), arn: aws.ToString(g.ARN), status: aws.ToString(g.Status),
		engine: aws.ToString(g.Engine), nodeType: aws.ToString(g.CacheNodeType), members: g.MemberClusters,
		failover:  g.AutomaticFailover == ect.AutomaticFailoverStatusEnabled || g.AutomaticFailover == ect.AutomaticFailoverStatusEnabling,
		multiAZ:   g.MultiAZ == ect.MultiAZStatusEnabled,
		atRest:    aws.ToBool(g.AtRestEncryptionEnabled),
		transit:   aws.ToBool(g.TransitEncryptionEnabled),
		autoMinor: aws.ToBool(g.AutoMinorVersionUpgrade), retention: aws.ToInt32(g.SnapshotRetentionLimit),
		clusterMode: aws.ToBool(g.ClusterEnabled) || g.ClusterMode == ect.ClusterModeEnabled,
	}
	if r.transit {
		// Groups made before TransitEncryptionMode existed report no mode;
		// their TLS is required.
		r.transitMode = string(g.TransitEncryptionMode)
		if r.transitMode == "" {
			r.transitMode = string(ect.TransitEncryptionModeRequired)
		}
	}
	primary := ""
	azOf := map[string]string{}
	for _, ng := range g.NodeGroups {
		if ng.PrimaryEndpoint != nil && r.host == "" {
			r.host, r.port = aws.ToString(ng.PrimaryEndpoint.Address), aws.ToInt32(ng.PrimaryEndpoint.Port)
		}
		for _, m := range ng.NodeGroupMembers {
			azOf[aws.ToString(m.CacheClusterId)] = aws.ToString(m.PreferredAvailabilityZone)
			if aws.ToString(m.CurrentRole) == "primary" {
				primary = aws.ToString(m.CacheClusterId)
			}
		}
	}
	for _, m := range r.members {
		r.azs = append(r.azs, azOf[m])
	}
	if primary == "" && len(r.members) > 0 {
		primary = r.members[0]
	}
	if primary != "" {
		out, err := env.AWS.ElastiCache.DescribeCacheClusters(ctx, &elasticache.DescribeCacheClustersInput{CacheClusterId: aws.String(primary)})
		if err != nil && !awserr.IsNotFound(err) {
			return nil, fmt.Errorf("describe cache cluster %s: %w", primary, err)
		}
		if err == nil && len(out.CacheClusters) == 1 {
			c := out.CacheClusters[0]
			r.version, r.subnetGroup = aws.ToString(c.EngineVersion), aws.ToString(c.CacheSubnetGroupName)
			for _, sg := range c.SecurityGroups {
				r.sgs = append(r.sgs, aws.ToString(sg.SecurityGroupId))
			}
			sort.Strings(r.sgs)
		}
	}
	return r, nil
}

func rgPending(status string) bool { return status == "creating" || status == "modifying" }

func rgFailed(status string) bool {
	return strings.HasSuffix(status, "-failed") || status == "incompatible-network"
}

func (k replicationGroupKind) observe(n *Node, r *rgObs) *Observed {
	obs := &Observed{Rec: NewRecord(n, r.id), State: r.status, Pending: rgPending(r.status), Raw: r}
	obs.Rec.ARN = r.arn
	obs.Info = map[string]string{
		"status":    r.status,
		"engine":    strings.TrimSpace(r.engine + " " + r.version),
		"node_type": r.nodeType,
		"nodes":     fmt.Sprintf("%d (primary in %s, %d replica(s))", len(r.members), first(r.azs), r.replicas()),
	}
	if r.transit {
		obs.Info["tls"] = r.transitMode
	}
	if r.host != "" {
		port := strconv.Itoa(int(r.port))
		scheme := "redis"
		if r.transit {
			scheme = "rediss"
		}
		obs.Rec.Attrs["endpoint"], obs.Rec.Attrs["port"] = r.host, port
		obs.Rec.Attrs["url"] = scheme + "://" + r.host + ":" + port
		obs.Rec.Attrs["tls"] = strconv.FormatBool(r.transit)
		obs.Info["endpoint"] = r.host + ":" + port
	}
	if rgFailed(r.status) {
		obs.Health = &Health{OK: false, Reason: "replication group status " + r.status}
	}
	return obs
}

func first(s []string) string {
	if len(s) == 0 {
		return "?"
	}
	return s[0]
}

func (k replicationGroupKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	id := cacheGroupID(env)
	recorded := rec != nil && rec.ID != ""
	if recorded {
		id = rec.ID
	}
	r, err := describeRG(ctx, env, id)
	if err != nil {
		return nil, err
	}
	// A group being deleted (an interrupted destroy) is on its way out:
	// Create waits for it to go and makes a new one.
	if r == nil || r.status == "deleting" {
		return nil, nil
	}
	if !recorded {
		tags, err := listCacheTags(ctx, env, cacheARN(env, "replicationgroup", &r.arn, id))
		if err != nil {
			return nil, err
		}
		if err := checkOwner(env, n, "ElastiCache replication group", id, tags); err != nil {
			return nil, err
		}
	}
	return k.observe(n, r), nil
}

// PlanNote says what creating the group involves.
func (k replicationGroupKind) PlanNote(env *Env, n *Node) string {
	// What Redis is for is the plan's Redis note, printed once below the plan.
	return "ElastiCache takes 5–15 minutes to create it (progress shows the time elapsed; the rest of the stack is provisioned meanwhile)"
}

func (k replicationGroupKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	cfg := env.Cfg.Redis
	subnetGroup, err := env.RefID("redis-subnets")
	if err != nil {
		return nil, err
	}
	sg, err := env.RefID("sg-redis")
	if err != nil {
		return nil, err
	}
	zones, err := env.AZs(ctx)
	if err != nil {
		return nil, err
	}
	count := 1 + cfg.Replicas
	// Primary in the first zone, replicas alternating: the first replica in
	// the second zone. The primary is created in the first zone listed
	// (PreferredCacheClusterAZs doc comment).
	azs := make([]string, count)
	for i := range azs {
		azs[i] = zones[i%len(zones)]
	}
	ha := cfg.Replicas >= 1
	id := cacheGroupID(env)
	in := &elasticache.CreateReplicationGroupInput{
		ReplicationGroupId: aws.String(id), ReplicationGroupDescription: aws.String(rgDescription(env)),
		Engine: aws.String(cfg.Engine), EngineVersion: aws.String(cacheEngineVersion(cfg.Engine)),
		CacheParameterGroupName: aws.String(cacheParamGroup(cfg.Engine)), CacheNodeType: aws.String(cfg.NodeType),
		NumCacheClusters: aws.Int32(int32(count)), PreferredCacheClusterAZs: azs,
		AutomaticFailoverEnabled: aws.Bool(ha), MultiAZEnabled: aws.Bool(ha),
		AtRestEncryptionEnabled: aws.Bool(true), TransitEncryptionEnabled: aws.Bool(true),
		SnapshotRetentionLimit: aws.Int32(int32(cfg.SnapshotRetentionDays)), AutoMinorVersionUpgrade: aws.Bool(true),
		SecurityGroupIds: []string{sg}, CacheSubnetGroupName: aws.String(subnetGroup), Port: aws.Int32(redisPort),
		Tags: cacheTags(env, n.Name),
	}
	out, err := env.AWS.ElastiCache.CreateReplicationGroup(ctx, in)
	if awserr.HasCode(err, "ReplicationGroupAlreadyExists") {
		// Find skips a group that is being deleted: wait for it to go, once.
		g, derr := describeGroup(ctx, env, id)
		if derr == nil && g != nil && aws.ToString(g.Status) == "deleting" {
			if werr := k.waitGone(ctx, env, n.Name, id); werr != nil {
				return nil, werr
			}
			out, err = env.AWS.ElastiCache.CreateReplicationGroup(ctx, in)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create replication group %s: %w", id, err)
	}
	rec := NewRecord(n, aws.ToString(out.ReplicationGroup.ReplicationGroupId))
	rec.ARN = aws.ToString(out.ReplicationGroup.ARN)
	if err := env.Record(rec); err != nil {
		return nil, err
	}
	r, err := k.waitAvailable(ctx, env, n.Name, rec.ID, "creating", cacheCreateTimeout)
	if err != nil {
		return nil, err
	}
	obs := k.observe(n, r)
	// The endpoint exists now: dependents need it in state at once.
	if err := env.Record(obs.Rec); err != nil {
		return nil, err
	}
	return obs, nil
}

// wantSGs is the security groups the nodes should have.
func (k replicationGroupKind) wantSGs(env *Env) ([]string, error) {
	id, err := env.RefID("sg-redis")
	if err != nil {
		return nil, err
	}
	return []string{id}, nil
}

// versionBelow reports whether have (e.g. "7.0.7") is older than the pinned
// major.minor want (e.g. "7.1").
func versionBelow(have, want string) bool {
	h, w := strings.Split(have, "."), strings.Split(want, ".")
	for i := 0; i < len(w); i++ {
		var hv, wv int
		if i < len(h) {
			hv, _ = strconv.Atoi(h[i])
		}
		wv, _ = strconv.Atoi(w[i])
		if hv != wv {
			return hv < wv
		}
	}
	return false
}

func onOffStr(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}

func (k replicationGroupKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	r := obs.Raw.(*rgObs)
	return k.diff(env, r)
}

func (k replicationGroupKind) diff(env *Env, r *rgObs) []Change {
	cfg := env.Cfg.Redis
	var cs []Change
	if rgFailed(r.status) {
		return []Change{{Field: "status", Old: r.status, New: "available", Replace: true,
			Why: "the replication group failed (" + r.status + "); it must be deleted and created again"}}
	}
	if rgPending(r.status) {
		// Not a setting: up waits for the group to become available (and
		// records its endpoint) before converging anything.
		cs = append(cs, Change{Field: "status", Old: r.status, New: "available"})
	}
	if r.clusterMode {
		cs = append(cs, Change{Field: "cluster_mode", Old: "enabled", New: "disabled", Replace: true,
			Why: "cluster mode cannot be turned off in place"})
	}
	if sub := cacheSubnetGroupName(env); r.subnetGroup != "" && r.subnetGroup != sub {
		cs = append(cs, Change{Field: "cache_subnet_group", Old: r.subnetGroup, New: sub, Replace: true,
			Why: "a replication group cannot move to another cache subnet group"})
	}
	if r.port != 0 && r.port != redisPort {
		cs = append(cs, Change{Field: "port", Old: strconv.Itoa(int(r.port)), New: strconv.Itoa(redisPort), Replace: true,
			Why: "the port of a replication group is set at creation"})
	}
	if !r.atRest {
		cs = append(cs, Change{Field: "at_rest_encryption", Old: "disabled", New: "enabled", Replace: true,
			Why: "at-rest encryption cannot be changed after a replication group is created (ElastiCache API reference, AtRestEncryptionEnabled)"})
	}
	wantVersion := cacheEngineVersion(cfg.Engine)
	switch {
	case r.engine == "valkey" && cfg.Engine == "redis":
		cs = append(cs, Change{Field: "engine", Old: "valkey " + r.version, New: "redis " + wantVersion, Replace: true,
			Why: "ElastiCache upgrades Redis OSS to Valkey in place but cannot go back from Valkey to Redis OSS"})
	case r.engine != cfg.Engine:
		cs = append(cs, Change{Field: "engine", Old: r.engine + " " + r.version, New: cfg.Engine + " " + wantVersion})
	case r.version != "" && versionBelow(r.version, wantVersion):
		cs = append(cs, Change{Field: "engine_version", Old: r.version, New: wantVersion})
	}
	if r.nodeType != cfg.NodeType {
		cs = append(cs, Change{Field: "node_type", Old: r.nodeType, New: cfg.NodeType})
	}
	if r.replicas() != cfg.Replicas {
		cs = append(cs, Change{Field: "replicas", Old: strconv.Itoa(r.replicas()), New: strconv.Itoa(cfg.Replicas)})
	}
	ha := cfg.Replicas >= 1
	if r.failover != ha {
		cs = append(cs, Change{Field: "automatic_failover", Old: onOffStr(r.failover), New: onOffStr(ha)})
	}
	if r.multiAZ != ha {
		cs = append(cs, Change{Field: "multi_az", Old: onOffStr(r.multiAZ), New: onOffStr(ha)})
	}
	if !r.transit || r.transitMode != string(ect.TransitEncryptionModeRequired) {
		old := "disabled"
		if r.transit {
			old = r.transitMode
		}
		cs = append(cs, Change{Field: "transit_encryption", Old: old, New: "required"})
	}
	if int(r.retention) != cfg.SnapshotRetentionDays {
		cs = append(cs, Change{Field: "snapshot_retention_days", Old: strconv.Itoa(int(r.retention)), New: strconv.Itoa(cfg.SnapshotRetentionDays)})
	}
	if !r.autoMinor {
		cs = append(cs, Change{Field: "auto_minor_version_upgrade", Old: "false", New: "true"})
	}
	if want, err := k.wantSGs(env); err == nil && r.subnetGroup != "" && strings.Join(r.sgs, ",") != strings.Join(want, ",") {
		cs = append(cs, Change{Field: "security_groups", Old: strings.Join(r.sgs, ","), New: strings.Join(want, ",")})
	}
	return cs
}

// cacheStep is one modification call, after which the group is awaited.
type cacheStep struct {
	what string
	call func(ctx context.Context) error
}

// nextStep picks the next call that brings r closer to the configuration,
// or nil when nothing is left. Calls go one at a time: ElastiCache refuses
// any change while the group is not "available".
func (k replicationGroupKind) nextStep(env *Env, r *rgObs) (*cacheStep, error) {
	cfg := env.Cfg.Redis
	ec := env.AWS.ElastiCache
	id := aws.String(r.id)
	now := aws.Bool(true)
	modify := func(what string, in *elasticache.ModifyReplicationGroupInput) *cacheStep {
		in.ReplicationGroupId, in.ApplyImmediately = id, now
		return &cacheStep{what: what, call: func(ctx context.Context) error {
			_, err := ec.ModifyReplicationGroup(ctx, in)
			return err
		}}
	}
	want := cacheEngineVersion(cfg.Engine)
	switch {
	case r.engine != cfg.Engine && r.engine == "redis" && cfg.Engine == "valkey":
		// In-place cross-engine upgrade (user guide, "How to upgrade from
		// Redis OSS to Valkey"); with a default parameter group ElastiCache
		// moves the group to the new family's default.
		return modify("upgrading to valkey "+want, &elasticache.ModifyReplicationGroupInput{Engine: aws.String("valkey"), EngineVersion: aws.String(want)}), nil
	case r.engine != cfg.Engine:
		return nil, fmt.Errorf("replication group %s runs %s and cannot change to %s in place", r.id, r.engine, cfg.Engine)
	case r.version != "" && versionBelow(r.version, want):
		return modify("upgrading to "+cfg.Engine+" "+want, &elasticache.ModifyReplicationGroupInput{EngineVersion: aws.String(want)}), nil
	}
	// In-transit encryption: preferred first, then required (user guide,
	// "Enabling in-transit encryption").
	if !r.transit {
		return modify("enabling in-transit encryption (preferred)", &elasticache.ModifyReplicationGroupInput{
			TransitEncryptionEnabled: aws.Bool(true), TransitEncryptionMode: ect.TransitEncryptionModePreferred}), nil
	}
	if r.transitMode != string(ect.TransitEncryptionModeRequired) {
		return modify("requiring in-transit encryption", &elasticache.ModifyReplicationGroupInput{
			TransitEncryptionEnabled: aws.Bool(true), TransitEncryptionMode: ect.TransitEncryptionModeRequired}), nil
	}
	ha := cfg.Replicas >= 1
	switch have := r.replicas(); {
	case cfg.Replicas > have:
		n := aws.Int32(int32(cfg.Replicas))
		return &cacheStep{what: fmt.Sprintf("adding replicas (%d → %d)", have, cfg.Replicas), call: func(ctx context.Context) error {
			_, err := ec.IncreaseReplicaCount(ctx, &elasticache.IncreaseReplicaCountInput{ReplicationGroupId: id, NewReplicaCount: n, ApplyImmediately: now})
			return err
		}}, nil
	case cfg.Replicas < have && cfg.Replicas == 0 && (r.failover || r.multiAZ):
		// The last replica can go only once failover and Multi-AZ are off
		// (DecreaseReplicaCount API reference: at least 1 replica with Multi-AZ).
		return modify("turning off automatic failover and Multi-AZ", &elasticache.ModifyReplicationGroupInput{
			AutomaticFailoverEnabled: aws.Bool(false), MultiAZEnabled: aws.Bool(false)}), nil
	case cfg.Replicas < have:
		n := aws.Int32(int32(cfg.Replicas))
		return &cacheStep{what: fmt.Sprintf("removing replicas (%d → %d)", have, cfg.Replicas), call: func(ctx context.Context) error {
			_, err := ec.DecreaseReplicaCount(ctx, &elasticache.DecreaseReplicaCountInput{ReplicationGroupId: id, NewReplicaCount: n, ApplyImmediately: now})
			return err
		}}, nil
	}
	if r.failover != ha || r.multiAZ != ha {
		return modify(fmt.Sprintf("setting automatic failover and Multi-AZ %s", onOffStr(ha)), &elasticache.ModifyReplicationGroupInput{
			AutomaticFailoverEnabled: aws.Bool(ha), MultiAZEnabled: aws.Bool(ha)}), nil
	}
	if r.nodeType != cfg.NodeType {
		return modify("changing node type to "+cfg.NodeType, &elasticache.ModifyReplicationGroupInput{CacheNodeType: aws.String(cfg.NodeType)}), nil
	}
	in := &elasticache.ModifyReplicationGroupInput{}
	var what []string
	if int(r.retention) != cfg.SnapshotRetentionDays {
		in.SnapshotRetentionLimit = aws.Int32(int32(cfg.SnapshotRetentionDays))
		what = append(what, "snapshot retention")
	}
	if !r.autoMinor {
		in.AutoMinorVersionUpgrade = aws.Bool(true)
		what = append(what, "auto minor version upgrade")
	}
	if sgs, err := k.wantSGs(env); err == nil && strings.Join(r.sgs, ",") != strings.Join(sgs, ",") {
		in.SecurityGroupIds = sgs
		what = append(what, "security groups")
	}
	if len(what) > 0 {
		return modify("updating "+strings.Join(what, ", "), in), nil
	}
	return nil, nil
}

// Update waits until the group can be changed, then converges it one call
// at a time from fresh descriptions (a modification started by an
// interrupted run is waited for, not repeated).
func (k replicationGroupKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	id := obs.Rec.ID
	r, err := k.waitAvailable(ctx, env, n.Name, id, "waiting", cacheModifyTimeout)
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		for _, c := range k.diff(env, r) {
			if c.Replace {
				return &ReplaceError{Node: n.Name, Change: c}
			}
		}
		step, err := k.nextStep(env, r)
		if err != nil {
			return err
		}
		if step == nil {
			break
		}
		if i >= 10 {
			return fmt.Errorf("replication group %s did not converge after %d modifications (still %s)", id, i, step.what)
		}
		env.Progress(n.Name, step.what, 0)
		if err := step.call(ctx); err != nil {
			return fmt.Errorf("%s on replication group %s: %w", step.what, id, err)
		}
		if r, err = k.waitAvailable(ctx, env, n.Name, id, step.what, cacheModifyTimeout); err != nil {
			return err
		}
	}
	fresh := k.observe(n, r)
	obs.Rec, obs.Raw, obs.Info, obs.State, obs.Pending, obs.Health = fresh.Rec, fresh.Raw, fresh.Info, fresh.State, fresh.Pending, fresh.Health
	return nil
}

// pollProgress reports a wait of node as "<phase>: <status> (<elapsed>)".
func pollProgress(env *Env, node, phase string) func(status string, elapsed time.Duration) {
	return func(status string, elapsed time.Duration) {
		msg := status
		if phase != "" && phase != status {
			msg = phase + ": " + status
		}
		env.Progress(node, fmt.Sprintf("%s (%s elapsed)", msg, elapsed.Round(time.Second)), elapsed)
	}
}

// waitAvailable polls until the group and every member node are available,
// reporting status and elapsed time, and returns the group as then described.
// The group can report "available" while a replica added by
// IncreaseReplicaCount is still being created, and a following modification
// would then fail (hashicorp/terraform-provider-aws#50096): the nodes are
// checked too.
func (k replicationGroupKind) waitAvailable(ctx context.Context, env *Env, node, id, phase string, timeout time.Duration) (*rgObs, error) {
	var last *rgObs
	err := env.Clock.Poll(ctx, timeout, cachePollMin, cachePollMax, pollProgress(env, node, phase), func(ctx context.Context) (bool, string, error) {
		g, err := describeGroup(ctx, env, id)
		if err != nil {
			return false, "", err
		}
		if g == nil {
			return false, "", fmt.Errorf("replication group %s disappeared while %s", id, phase)
		}
		st := aws.ToString(g.Status)
		if rgFailed(st) {
			return false, "", fmt.Errorf("replication group %s is %s: see its events in the ElastiCache console", id, st)
		}
		if st != "available" {
			return false, st, nil
		}
		for _, m := range g.MemberClusters {
			out, err := env.AWS.ElastiCache.DescribeCacheClusters(ctx, &elasticache.DescribeCacheClustersInput{CacheClusterId: aws.String(m)})
			if err != nil {
				return false, "", fmt.Errorf("describe cache cluster %s: %w", m, err)
			}
			if len(out.CacheClusters) == 1 {
				if cs := aws.ToString(out.CacheClusters[0].CacheClusterStatus); cs != "available" {
					return false, "node " + m + " " + cs, nil
				}
			}
		}
		r, err := describeRG(ctx, env, id)
		if err != nil {
			return false, "", err
		}
		last = r
		return r != nil && r.status == "available", "available", nil
	})
	if err != nil {
		return nil, fmt.Errorf("wait for replication group %s (%s): %w", id, phase, err)
	}
	return last, nil
}

// waitGone polls until the group no longer exists.
func (k replicationGroupKind) waitGone(ctx context.Context, env *Env, node, id string) error {
	err := env.Clock.Poll(ctx, cacheDeleteTimeout, cachePollMin, cachePollMax, pollProgress(env, node, "deleting"), func(ctx context.Context) (bool, string, error) {
		g, err := describeGroup(ctx, env, id)
		if err != nil {
			return false, "", err
		}
		if g == nil {
			return true, "", nil
		}
		return false, aws.ToString(g.Status), nil
	})
	if err != nil {
		return fmt.Errorf("wait for replication group %s to be deleted: %w", id, err)
	}
	return nil
}

// Delete deletes the group without a final snapshot (see the file comment)
// and waits until it is gone, so that its subnet group and security group
// can go. A group still being created or modified (an interrupted up) is
// waited for first: ElastiCache refuses to delete it before
// (InvalidReplicationGroupState).
func (k replicationGroupKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	id := rec.ID
	var status string
	err := env.Clock.Poll(ctx, cacheModifyTimeout, cachePollMin, cachePollMax, pollProgress(env, rec.Name, "waiting to delete"), func(ctx context.Context) (bool, string, error) {
		g, err := describeGroup(ctx, env, id)
		if err != nil || g == nil {
			status = ""
			return true, "", err
		}
		status = aws.ToString(g.Status)
		switch {
		case status == "available", status == "deleting", rgFailed(status):
			return true, status, nil
		}
		return false, status, nil
	})
	if err != nil {
		return fmt.Errorf("wait for replication group %s before deleting it: %w", id, err)
	}
	switch status {
	case "":
		return nil // already gone
	case "deleting":
	default:
		_, err := env.AWS.ElastiCache.DeleteReplicationGroup(ctx, &elasticache.DeleteReplicationGroupInput{ReplicationGroupId: aws.String(id)})
		if awserr.IsNotFound(err) {
			return nil
		}
		if err != nil {
			// InvalidReplicationGroupState (it started modifying again) is a
			// dependency error: the engine retries.
			return fmt.Errorf("delete replication group %s: %w", id, err)
		}
	}
	return k.waitGone(ctx, env, rec.Name, id)
}

func (k replicationGroupKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var out []state.Resource
	p := elasticache.NewDescribeReplicationGroupsPaginator(env.AWS.ElastiCache, &elasticache.DescribeReplicationGroupsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe replication groups: %w", err)
		}
		for _, g := range page.ReplicationGroups {
			id := aws.ToString(g.ReplicationGroupId)
			arn := cacheARN(env, "replicationgroup", g.ARN, id)
			tags, err := listCacheTags(ctx, env, arn)
			if awserr.IsNotFound(err) {
				continue // deleted meanwhile
			}
			if err != nil {
				return nil, err
			}
			if tags[TagStack] == env.Stack() {
				out = append(out, state.Resource{Name: tags[TagResource], Kind: k.Type(), ID: id, ARN: arn})
			}
		}
	}
	return out, nil
}
