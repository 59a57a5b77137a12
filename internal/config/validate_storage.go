package config

import (
	"regexp"
	"strconv"
	"strings"
)

// Limits of the storage, logs and redis sections.
const (
	MaxSyncInterval          = 3600  // seconds
	MaxNoncurrentVersionDays = 36500 // 100 years; S3 takes any positive int32
	maxPrefixLen             = 512   // S3 keys are at most 1024 bytes; leave room for board names
	MaxRedisReplicas         = 5     // ElastiCache: up to 5 read replicas per shard
	MaxSnapshotRetentionDays = 35    // ElastiCache SnapshotRetentionLimit
)

// LogRetentionDays are the values CloudWatch Logs PutRetentionPolicy accepts
// (RetentionInDays doc comment, aws-sdk-go-v2 service/cloudwatchlogs v1.92.2).
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var (
	// The board prefix ends up in S3 keys, IAM policy resources and the
	// sidecar scripts' arguments: keep to characters that are safe in all three.
	prefixRE = regexp.MustCompile(`^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/$`)

	kmsKeyIDRE   = regexp.MustCompile(`^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)
	kmsAliasRE   = regexp.MustCompile(`^alias/[A-Za-z0-9/_-]{1,250}$`)
	kmsARNRE     = regexp.MustCompile(`^arn:aws(-[a-z]+)*:kms:([a-z0-9-]+):([0-9]{12}):(key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})|alias/[A-Za-z0-9/_-]{1,250})$`)
	cacheNodeRE  = regexp.MustCompile(`^cache\.([a-z0-9]+)\.([a-z0-9]+)$`)
	cacheSizesRE = regexp.MustCompile(`^(large|xlarge|[0-9]{1,2}xlarge)$`)
)

// cacheFamilies are the current-generation ElastiCache node families that can
// create new replication groups, from the CacheNodeType doc comment of
// CreateReplicationGroup (aws-sdk-go-v2 service/elasticache v1.65.0): M7g,
// M6g, M5, M4, T4g, T3, R7g, R6g, R5, R4. T2 is left out: the ElastiCache
// user guide moves it to the previous generation, which cannot create new
// clusters. T families come in micro/small/medium, the others in large and up.
var cacheFamilies = map[string]bool{
	"m7g": true, "m6g": true, "m5": true, "m4": true, "t4g": true, "t3": true,
	"r7g": true, "r6g": true, "r5": true, "r4": true,
}

func (c *Config) validateStorage(p *problems) {
	s := c.Storage
	if s.Bucket != "" {
		if msg := BucketNameProblem(s.Bucket); msg != "" {
			p.add("storage.bucket", s.Bucket, "%s is not a valid S3 bucket name: it %s", show(s.Bucket), msg)
		}
	}
	switch {
	case s.Prefix == "":
		p.add("storage.prefix", "", "must not be empty; the default is \"boards/\"")
	case strings.HasPrefix(s.Prefix, "/"):
		p.add("storage.prefix", s.Prefix, "%s must not start with \"/\" (S3 keys have no leading slash)", show(s.Prefix))
	case !strings.HasSuffix(s.Prefix, "/"):
		p.add("storage.prefix", s.Prefix, "%s must end with \"/\", e.g. %s", show(s.Prefix), show(s.Prefix+"/"))
	case len(s.Prefix) > maxPrefixLen:
		p.add("storage.prefix", s.Prefix, "is %d bytes long; at most %d are allowed", len(s.Prefix), maxPrefixLen)
	case !prefixRE.MatchString(s.Prefix):
		p.add("storage.prefix", s.Prefix, "%s may contain only letters, digits and ._- between single slashes", show(s.Prefix))
	case hasDotSegment(s.Prefix):
		p.add("storage.prefix", s.Prefix, "%s must not contain \".\" or \"..\" path segments", show(s.Prefix))
	}
	intRange(p, "storage.noncurrent_version_days", s.NoncurrentVersionDays, 1, MaxNoncurrentVersionDays)
	c.validateKMSKey(p)
	intRange(p, "storage.sync_interval", s.SyncInterval, 1, MaxSyncInterval)
}

func hasDotSegment(prefix string) bool {
	for _, seg := range strings.Split(strings.TrimSuffix(prefix, "/"), "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// validateKMSKey accepts the forms S3 takes for SSE-KMS: a key ID, a
// multi-Region key ID, alias/name, or a key or alias ARN. S3 requires the key
// in the bucket's region, so an ARN must name the configured region.
func (c *Config) validateKMSKey(p *problems) {
	k := c.Storage.KMSKeyID
	if k == "" {
		return // SSE-S3
	}
	if kmsKeyIDRE.MatchString(k) || kmsAliasRE.MatchString(k) {
		return
	}
	m := kmsARNRE.FindStringSubmatch(k)
	if m == nil {
		p.add("storage.kms_key_id", k, "%s is not a KMS key ID, alias/NAME or KMS key ARN", show(k))
		return
	}
	if c.Region != "" && m[2] != c.Region {
		p.add("storage.kms_key_id", k, "the key is in region %s but the bucket is in %s; S3 needs a KMS key in the bucket's region", m[2], c.Region)
	}
}

func (c *Config) validateLogs(p *problems) {
	d := c.Logs.RetentionDays
	for _, v := range LogRetentionDays {
		if v == d {
			return
		}
	}
	strs := make([]string, len(LogRetentionDays))
	for i, v := range LogRetentionDays {
		strs[i] = strconv.Itoa(v)
	}
	p.add("logs.retention_days", strconv.Itoa(d), "%d is not a retention CloudWatch Logs accepts; use one of %s", d, strings.Join(strs, ", "))
}

func (c *Config) validateRedis(p *problems) {
	r := c.Redis
	oneOf(p, "redis.mode", r.Mode, "elasticache", "none")
	oneOf(p, "redis.engine", r.Engine, "redis", "valkey")
	if msg := cacheNodeTypeProblem(r.NodeType); msg != "" {
		p.add("redis.node_type", r.NodeType, "%s %s", show(r.NodeType), msg)
	}
	intRange(p, "redis.replicas", r.Replicas, 0, MaxRedisReplicas)
	intRange(p, "redis.snapshot_retention_days", r.SnapshotRetentionDays, 0, MaxSnapshotRetentionDays)
	if r.PassURL && r.Mode == "none" {
		p.add("redis.pass_url", "true", "there is no endpoint to pass with redis.mode: none; set redis.mode: elasticache or remove redis.pass_url")
	}
}

func cacheNodeTypeProblem(t string) string {
	m := cacheNodeRE.FindStringSubmatch(t)
	if m == nil {
		return "is not an ElastiCache node type such as cache.t3.micro"
	}
	family, size := m[1], m[2]
	if !cacheFamilies[family] {
		return "is not a current-generation ElastiCache node type; use a cache.t4g, t3, m7g, m6g, m5, m4, r7g, r6g, r5 or r4 type"
	}
	if strings.HasPrefix(family, "t") {
		if size != "micro" && size != "small" && size != "medium" {
			return "is not a size of this family: cache." + family + " comes in micro, small and medium"
		}
		return ""
	}
	if !cacheSizesRE.MatchString(size) {
		return "is not a size of this family: cache." + family + " comes in large, xlarge and NNxlarge sizes"
	}
	return ""
}
