package awssim

import (
	"reflect"
	"strings"
	"time"
)

// Throttling as AWS does it: token buckets per API and account, with the
// published bucket sizes (burst) and refill rates (sustained, per second of
// AWS time). Each attempt takes one token; an empty bucket answers the
// service's throttling error code (throttleCode). Buckets refill from the
// Cloud's clock (c.now) mapped to AWS time by Scale, so a test's scaled run
// sees AWS's rates. Whether a given call is throttled therefore depends on
// how fast the machine issues calls: the tool must succeed either way (the
// SDK retryer, then its own backoff) and no test may count throttles. For a
// deterministic storm, ThrottleNext answers the next n attempts of every
// bucket with the throttling error whatever the time.

// bucketSpec is one published limit.
type bucketSpec struct {
	capacity float64 // bucket size: the burst
	refill   float64 // tokens per AWS second: the sustained rate
}

// EC2: "Request throttling for the Amazon EC2 API" (EC2 Developer Guide,
// "Request token bucket sizes and refill rates"): each API has its own
// bucket, sized by category. Non-mutating actions (Describe*, List*, Search*,
// Get*) 100 tokens refilled at 20/s; a few of them (DescribeInstances,
// DescribeInstanceStatus, DescribeNetworkInterfaces, DescribeSecurityGroups,
// DescribeSnapshots, DescribeSpotInstanceRequests, DescribeVolumes) called
// with neither a filter nor pagination 50 at 10/s; mutating actions 50 at
// 5/s; resource-intensive ones (AuthorizeSecurityGroupIngress,
// RevokeSecurityGroupIngress, ...) 50 at 5/s in their own buckets; and the
// "uncategorized actions" with their own numbers, of which ec2Uncategorized
// lists those near what wbo-deploy calls.
var (
	ec2NonMutating = bucketSpec{100, 20}
	ec2Unfiltered  = bucketSpec{50, 10}
	ec2Mutating    = bucketSpec{50, 5}
)

var ec2UnfilteredActions = map[string]bool{
	"DescribeInstances": true, "DescribeInstanceStatus": true, "DescribeNetworkInterfaces": true,
	"DescribeSecurityGroups": true, "DescribeSnapshots": true, "DescribeSpotInstanceRequests": true, "DescribeVolumes": true,
}

var ec2Uncategorized = map[string]bucketSpec{
	"CreateTags": {100, 10}, "DeleteTags": {100, 10},
	"CreateNetworkInterface": {100, 5}, "DeleteNetworkInterface": {100, 5}, "ModifyNetworkInterfaceAttribute": {100, 5},
	"DescribeSecurityGroupReferences": {20, 5}, "DescribeStaleSecurityGroups": {20, 5},
	"CreateNatGateway": {10, 1}, "DeleteNatGateway": {10, 1},
	"CreateVpcEndpoint": {4, 0.3}, "DeleteVpcEndpoints": {4, 0.3}, "ModifyVpcEndpoint": {4, 0.3},
}

// ECS: "Request throttling for the Amazon ECS API" (ECS API reference), burst
// (bucket size) and sustained rate (refill per second) per group of actions.
var ecsBuckets = map[string]bucketSpec{
	"cluster-modify":          {20, 1},   // CreateCluster, DeleteCluster, PutClusterCapacityProviders, UpdateCluster...
	"cluster-read":            {50, 20},  // DescribeClusters, ListClusters
	"taskdef-modify":          {20, 1},   // RegisterTaskDefinition, DeregisterTaskDefinition
	"taskdef-read":            {50, 20},  // DescribeTaskDefinition, ListTaskDefinitions, ListTaskDefinitionFamilies
	"taskdef-delete":          {5, 1},    // DeleteTaskDefinitions
	"capacity-provider-write": {10, 1},   // Create/Delete/UpdateCapacityProvider
	"capacity-provider-read":  {50, 20},  // DescribeCapacityProviders
	"tag-modify":              {20, 10},  // TagResource, UntagResource
	"tag-read":                {50, 20},  // ListTagsForResource
	"setting-modify":          {10, 1},   // PutAccountSetting, PutAccountSettingDefault, DeleteAccountSetting
	"setting-read":            {50, 20},  // ListAccountSettings
	"resource-modify":         {100, 40}, // RunTask, StartTask, StopTask, ExecuteCommand, PutAttributes...
	"resource-read":           {100, 20}, // DescribeTasks, ListTasks, DescribeContainerInstances...
	"service-modify":          {50, 5},   // CreateService, DeleteService, UpdateService
	"service-read":            {100, 20}, // DescribeServices, ListServices
	"service-deployment":      {50, 20},  // DescribeServiceDeployments, ListServiceDeployments
	"service-revision":        {50, 20},  // DescribeServiceRevisions
}

var ecsGroups = map[string]string{
	"CreateCluster": "cluster-modify", "DeleteCluster": "cluster-modify", "PutClusterCapacityProviders": "cluster-modify",
	"UpdateCluster": "cluster-modify", "UpdateClusterSettings": "cluster-modify",
	"DescribeClusters": "cluster-read", "ListClusters": "cluster-read",
	"RegisterTaskDefinition": "taskdef-modify", "DeregisterTaskDefinition": "taskdef-modify",
	"DescribeTaskDefinition": "taskdef-read", "ListTaskDefinitions": "taskdef-read", "ListTaskDefinitionFamilies": "taskdef-read",
	"DeleteTaskDefinitions":  "taskdef-delete",
	"CreateCapacityProvider": "capacity-provider-write", "DeleteCapacityProvider": "capacity-provider-write",
	"UpdateCapacityProvider": "capacity-provider-write", "DescribeCapacityProviders": "capacity-provider-read",
	"TagResource": "tag-modify", "UntagResource": "tag-modify", "ListTagsForResource": "tag-read",
	"PutAccountSetting": "setting-modify", "PutAccountSettingDefault": "setting-modify", "DeleteAccountSetting": "setting-modify",
	"ListAccountSettings": "setting-read",
	"RunTask":             "resource-modify", "StartTask": "resource-modify", "StopTask": "resource-modify",
	"ExecuteCommand": "resource-modify", "PutAttributes": "resource-modify", "DeleteAttributes": "resource-modify",
	"DescribeTasks": "resource-read", "ListTasks": "resource-read", "DescribeContainerInstances": "resource-read",
	"ListContainerInstances": "resource-read", "ListAttributes": "resource-read",
	"CreateService": "service-modify", "DeleteService": "service-modify", "UpdateService": "service-modify",
	"DescribeServices": "service-read", "ListServices": "service-read",
	"DescribeServiceDeployments": "service-deployment", "ListServiceDeployments": "service-deployment",
	"DescribeServiceRevisions": "service-revision",
}

// defaultBucket is for services that publish no per-API bucket (ELBv2, IAM,
// S3 control calls, ElastiCache, SNS, KMS...): AWS's general guidance is that
// every API is rate limited per account and Region and answers a throttling
// error with exponential backoff expected (AWS SDKs and Tools reference,
// "Retry behavior"); the numbers are EC2's "uncategorized actions" bucket
// (50 at 5/s), a conservative stand-in. CloudWatch and CloudWatch Logs
// publish transactions per second in their quotas pages; those are used.
var defaultBucket = bucketSpec{50, 5}

// perSecondQuotas: "CloudWatch service quotas" (DescribeAlarms 9 TPS,
// PutMetricAlarm 3 TPS, PutDashboard/GetDashboard 10 TPS, DeleteAlarms 3 TPS)
// and "CloudWatch Logs quotas" (CreateLogGroup, DeleteLogGroup,
// DescribeLogGroups, PutRetentionPolicy, FilterLogEvents: 5 TPS;
// GetLogEvents 25 TPS). A TPS quota is modelled as a bucket of one second.
var perSecondQuotas = map[string]float64{
	"CloudWatch.DescribeAlarms":           9,
	"CloudWatch.PutMetricAlarm":           3,
	"CloudWatch.DeleteAlarms":             3,
	"CloudWatch.PutDashboard":             10,
	"CloudWatch.GetDashboard":             10,
	"CloudWatch.DeleteDashboards":         10,
	"CloudWatch Logs.CreateLogGroup":      5,
	"CloudWatch Logs.DeleteLogGroup":      5,
	"CloudWatch Logs.DescribeLogGroups":   5,
	"CloudWatch Logs.PutRetentionPolicy":  5,
	"CloudWatch Logs.FilterLogEvents":     5,
	"CloudWatch Logs.GetLogEvents":        25,
	"CloudWatch Logs.DescribeLogStreams":  5,
	"CloudWatch Logs.TagResource":         5,
	"CloudWatch Logs.ListTagsForResource": 5,
}

type tokenBucket struct {
	spec   bucketSpec
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

// throttle is the account's buckets; guarded by Cloud.mu.
type throttle struct {
	on      bool
	factor  float64 // ScaleBuckets: multiplies every capacity and refill
	next    int     // ThrottleNext: attempts each bucket still refuses (-1: all)
	refused map[string]int
	buckets map[string]*tokenBucket
}

func (t *throttle) init(on bool) {
	t.on, t.factor = on, 1
	t.buckets = map[string]*tokenBucket{}
	t.refused = map[string]int{}
}

// bucketFor names the bucket an attempt draws from and its limit.
func bucketFor(service, op string, params any) (string, bucketSpec) {
	key := service + "." + op
	switch service {
	case "EC2":
		if b, ok := ec2Uncategorized[op]; ok {
			return key, b
		}
		switch {
		case IsMutating(op):
			return key, ec2Mutating
		case ec2UnfilteredActions[op] && unfiltered(params):
			return key + ":unfiltered", ec2Unfiltered
		default:
			return key, ec2NonMutating
		}
	case "ECS":
		if g, ok := ecsGroups[op]; ok {
			return "ECS:" + g, ecsBuckets[g]
		}
		return key, defaultBucket
	}
	if tps, ok := perSecondQuotas[key]; ok {
		return key, bucketSpec{tps, tps}
	}
	return key, defaultBucket
}

// unfiltered reports whether an EC2 describe names no filter, no ID and no
// page size or token (the "unfiltered and unpaginated" category; IDs narrow
// the call as a filter does).
func unfiltered(params any) bool {
	v := reflect.ValueOf(params)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return true
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return true
	}
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		f := v.Field(i)
		narrowing := name == "Filters" || name == "Filter" || name == "MaxResults" || name == "NextToken" ||
			strings.HasSuffix(name, "Ids") || strings.HasSuffix(name, "Id") || strings.HasSuffix(name, "Names")
		if !narrowing {
			continue
		}
		switch f.Kind() {
		case reflect.Slice, reflect.Map:
			if f.Len() > 0 {
				return false
			}
		case reflect.Pointer, reflect.Interface:
			if !f.IsNil() {
				return false
			}
		}
	}
	return true
}

// take draws a token for one attempt; false means throttled (c.mu held).
func (c *Cloud) take(service, op string, params any) bool {
	t := &c.buckets
	if !t.on {
		return true
	}
	key, spec := bucketFor(service, op, params)
	if t.next != 0 {
		left, seen := t.refused[key]
		if !seen {
			left = t.next
		}
		if left != 0 {
			if left > 0 {
				left--
			}
			t.refused[key] = left
			return false
		}
	}
	spec.capacity = max(1, spec.capacity*t.factor)
	spec.refill *= t.factor
	now := c.now()
	b, ok := t.buckets[key]
	if !ok {
		b = &tokenBucket{spec: spec, tokens: spec.capacity, at: now}
		t.buckets[key] = b
	}
	b.spec = spec
	if el := now.Sub(b.at); el > 0 {
		aws := el.Seconds()
		if c.Scale > 0 {
			aws /= c.Scale
		}
		b.tokens = min(b.spec.capacity, b.tokens+aws*b.spec.refill)
		b.at = now
	}
	if b.tokens > b.spec.capacity {
		b.tokens = b.spec.capacity
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// ThrottleNext makes every bucket answer its next n attempts with the
// service's throttling error, whatever the time (a deterministic storm: a
// call meets at most n throttles per bucket, fewer when other calls share
// it). n < 0 throttles every attempt until ThrottleNext(0).
func (c *Cloud) ThrottleNext(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buckets.next = n
	c.buckets.refused = map[string]int{}
}

// ScaleBuckets multiplies every bucket's size and refill rate by f (0 < f;
// f < 1 is a tighter account, as when other tools share it). Tokens already
// in a bucket above its new size are dropped.
func (c *Cloud) ScaleBuckets(f float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f > 0 {
		c.buckets.factor = f
	}
}

// Throttled returns how many attempts were answered with a throttling error
// (for benchmarks and reports; tests must not assert on it).
func (c *Cloud) Throttled() int {
	n := 0
	for _, k := range c.Calls() {
		if k.Err == "Throttling" {
			n++
		}
	}
	return n
}
