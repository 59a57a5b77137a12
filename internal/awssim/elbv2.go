package awssim

// Elastic Load Balancing v2 (Application Load Balancers) in the simulated
// account: load balancers (this file), target groups and targets
// (elbv2_targets.go), listeners and rules (elbv2_listeners.go), request routing
// (elbv2_route.go, albmatch.go).
//
// Error codes are those of the ELBv2 API reference (the SDK's types/errors.go
// lists the modelled ones; ValidationError is the generic Query-protocol
// code). Behaviour quoted from the API reference is as in the doc comments of
// aws-sdk-go-v2 service/elasticloadbalancingv2 v1.64.0.

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Account quotas (load-balancer-limits.html): Application Load Balancers per
// Region 50, listeners per ALB 50, security groups per load balancer 5.
const (
	maxLoadBalancers   = 50
	maxListenersPerLB  = 50
	maxSecurityGroups  = 5
	maxTagsPerResource = 50
)

type elbLB struct {
	arn, name, id, dns  string
	scheme, typ, ipType string
	vpc                 string
	subnets             []string // in the order given
	sgs                 []string
	created, readyAt    time.Time
	attrs               map[string]string
}

type elbv2Sim struct {
	c         *Cloud
	lbs       map[string]*elbLB            // ARN ->
	tgs       map[string]*elbTG            // ARN ->
	listeners map[string]*elbListener      // ARN ->
	rules     map[string]*elbRule          // ARN -> (default rules included)
	tags      map[string]map[string]string // resource ARN -> tags
	// httpSSLPolicy is reported on HTTP listeners (quirks.go); "" = as AWS.
	httpSSLPolicy string
}

func init() {
	register("Elastic Load Balancing v2", func(c *Cloud) any {
		return &elbv2Sim{c: c, lbs: map[string]*elbLB{}, tgs: map[string]*elbTG{}, listeners: map[string]*elbListener{},
			rules: map[string]*elbRule{}, tags: map[string]map[string]string{}}
	})
}

func (c *Cloud) elbv2() *elbv2Sim { return c.services["Elastic Load Balancing v2"].(*elbv2Sim) }

// hexID returns 16 hex digits, as the last part of ELBv2 ARNs (c.mu held).
func (s *elbv2Sim) hexID() string {
	s.c.seq++
	return fmt.Sprintf("%016x", uint64(s.c.seq)*0x9e3779b97f4a7c15)
}

func (s *elbv2Sim) arn(resource string) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:%s", s.c.Region, s.c.Account, resource)
}

// albAttrDefaults are an ALB's attributes and defaults (API reference,
// LoadBalancerAttribute).
func albAttrDefaults() map[string]string {
	return map[string]string{
		"access_logs.s3.enabled": "false", "access_logs.s3.bucket": "", "access_logs.s3.prefix": "",
		"connection_logs.s3.enabled": "false", "connection_logs.s3.bucket": "", "connection_logs.s3.prefix": "",
		"health_check_logs.s3.enabled": "false", "health_check_logs.s3.bucket": "", "health_check_logs.s3.prefix": "",
		"client_keep_alive.seconds":                                "3600",
		"deletion_protection.enabled":                              "false",
		"idle_timeout.timeout_seconds":                             "60",
		"ipv6.deny_all_igw_traffic":                                "false",
		"load_balancing.cross_zone.enabled":                        "true",
		"routing.http.desync_mitigation_mode":                      "defensive",
		"routing.http.drop_invalid_header_fields.enabled":          "false",
		"routing.http.preserve_host_header.enabled":                "false",
		"routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
		"routing.http.xff_client_port.enabled":                     "false",
		"routing.http.xff_header_processing.mode":                  "append",
		"routing.http2.enabled":                                    "true",
		"waf.fail_open.enabled":                                    "false",
		"zonal_shift.config.enabled":                               "false",
	}
}

var elbNameRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$`)

// validName: "This name must be unique per region per account, can have a
// maximum of 32 characters, must contain only alphanumeric characters or
// hyphens, must not begin or end with a hyphen" (CreateLoadBalancer,
// CreateTargetGroup Name).
func validName(n string) bool { return elbNameRE.MatchString(n) }

func lbTags(in []lbt.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range in {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func sortedCopy(list []string) []string {
	out := append([]string(nil), list...)
	sort.Strings(out)
	return out
}

func sameSet(a, b []string) bool {
	x, y := sortedCopy(a), sortedCopy(b)
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// ---- Load balancers ----

// checkSubnets validates an ALB's subnets: they exist, are in one VPC and in
// at least two zones, one subnet per zone (c.mu held).
func (s *elbv2Sim) checkSubnets(ids []string) (vpc string, err error) {
	zones := map[string]string{}
	for _, id := range ids {
		sn, ok := s.c.ec2().subnets[id]
		if !ok {
			return "", apiError("SubnetNotFound", "The subnet ID '%s' is not valid", id)
		}
		if vpc != "" && sn.vpc != vpc {
			return "", apiError("InvalidSubnet", "The subnets '%s' and '%s' are in different VPCs", ids[0], id)
		}
		vpc = sn.vpc
		if other, dup := zones[sn.az]; dup {
			return "", apiError("InvalidConfigurationRequest",
				"A load balancer cannot be attached to multiple subnets in the same Availability Zone (%s and %s)", other, id)
		}
		zones[sn.az] = id
	}
	if len(zones) < 2 {
		return "", apiError("ValidationError", "At least two subnets in two different Availability Zones must be specified")
	}
	return vpc, nil
}

func (s *elbv2Sim) checkGroups(vpc string, ids []string) error {
	if len(ids) > maxSecurityGroups {
		return apiError("InvalidConfigurationRequest", "A load balancer can have at most %d security groups", maxSecurityGroups)
	}
	for _, id := range ids {
		g, ok := s.c.ec2().sgs[id]
		if !ok || g.vpc != vpc {
			return apiError("InvalidSecurityGroup", "Security group '%s' does not exist in VPC '%s'", id, vpc)
		}
	}
	return nil
}

func (s *elbv2Sim) CreateLoadBalancer(_ context.Context, in *elbv2.CreateLoadBalancerInput) (*elbv2.CreateLoadBalancerOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	name := aws.ToString(in.Name)
	if !validName(name) || strings.HasPrefix(strings.ToLower(name), "internal-") {
		return nil, apiError("ValidationError", "Load balancer name '%s' is not valid", name)
	}
	typ := string(in.Type)
	if typ == "" {
		typ = string(lbt.LoadBalancerTypeEnumApplication)
	}
	if typ != string(lbt.LoadBalancerTypeEnumApplication) {
		return nil, fmt.Errorf("awssim: only application load balancers are simulated (got type %s)", typ)
	}
	scheme := string(in.Scheme)
	if scheme == "" {
		scheme = string(lbt.LoadBalancerSchemeEnumInternetFacing)
	}
	ipType := string(in.IpAddressType)
	if ipType == "" {
		ipType = string(lbt.IpAddressTypeIpv4)
	}
	subnets := append([]string(nil), in.Subnets...)
	for _, m := range in.SubnetMappings {
		subnets = append(subnets, aws.ToString(m.SubnetId))
	}
	vpc, err := s.checkSubnets(subnets)
	if err != nil {
		return nil, err
	}
	sgs := append([]string(nil), in.SecurityGroups...)
	if len(sgs) == 0 {
		// Without groups, AWS attaches the VPC's default security group.
		sgs = []string{s.c.ec2().vpcs[vpc].defaultSG}
	}
	if err := s.checkGroups(vpc, sgs); err != nil {
		return nil, err
	}
	if scheme == string(lbt.LoadBalancerSchemeEnumInternetFacing) {
		attached := false
		for _, g := range s.c.ec2().igws {
			attached = attached || g.vpc == vpc
		}
		if !attached {
			return nil, apiError("InvalidSubnet", "VPC %s has no internet gateway", vpc)
		}
	}
	// "This operation is idempotent ... If you attempt to create multiple load
	// balancers with the same settings, each call succeeds." Different
	// settings: "A load balancer with the same name '<name>' exists, but with
	// different settings" (verbatim in aws-load-balancer-controller reports).
	for _, lb := range s.lbs {
		if lb.name != name {
			continue
		}
		if lb.scheme == scheme && lb.typ == typ && lb.ipType == ipType && sameSet(lb.subnets, subnets) && sameSet(lb.sgs, sgs) {
			return &elbv2.CreateLoadBalancerOutput{LoadBalancers: []lbt.LoadBalancer{s.lbOut(lb)}}, nil
		}
		return nil, apiError("DuplicateLoadBalancerName", "A load balancer with the same name '%s' exists, but with different settings", name)
	}
	if len(s.lbs) >= maxLoadBalancers {
		return nil, apiError("TooManyLoadBalancers", "You have reached the limit of %d load balancers", maxLoadBalancers)
	}
	tags := lbTags(in.Tags)
	if len(tags) > maxTagsPerResource {
		return nil, apiError("TooManyTags", "A resource can have at most %d tags", maxTagsPerResource)
	}
	id := s.hexID()
	lb := &elbLB{name: name, id: id, scheme: scheme, typ: typ, ipType: ipType, vpc: vpc, subnets: subnets, sgs: sgs,
		created: s.c.now(), readyAt: s.c.deadline(s.c.Timing.LoadBalancerActive), attrs: albAttrDefaults()}
	lb.arn = s.arn("loadbalancer/app/" + name + "/" + id)
	prefix := ""
	if scheme == string(lbt.LoadBalancerSchemeEnumInternal) {
		prefix = "internal-"
	}
	lb.dns = fmt.Sprintf("%s%s-%d.%s.elb.amazonaws.com", prefix, name, s.c.seq%1000000000+1000000000, s.c.Region)
	s.lbs[lb.arn] = lb
	s.c.openWindow(WinELBDescribe, lb.arn, nil)
	s.tags[lb.arn] = tags
	for _, sn := range subnets {
		s.attachLBENI(lb, sn)
	}
	return &elbv2.CreateLoadBalancerOutput{LoadBalancers: []lbt.LoadBalancer{s.lbOut(lb)}}, nil
}

// ENIs: an ALB holds one requester-managed ENI per subnet, described
// "ELB app/<name>/<id>"; they outlive the load balancer for minutes
// (aws-behaviour.md). Each ENI's owner is "<lb ARN>|<subnet>" so SetSubnets can
// release one subnet's.
func (s *elbv2Sim) attachLBENI(lb *elbLB, subnet string) {
	s.c.ec2().attachENI(subnet, lb.sgs, "ELB app/"+lb.name+"/"+lb.id, lb.arn+"|"+subnet,
		lb.scheme == string(lbt.LoadBalancerSchemeEnumInternetFacing))
}

func (s *elbv2Sim) releaseLBENIs(lb *elbLB, subnets []string) {
	for _, sn := range subnets {
		s.c.ec2().releaseENIs(lb.arn + "|" + sn)
	}
}

// setENIGroups follows SetSecurityGroups on the load balancer's live ENIs.
func (s *elbv2Sim) setENIGroups(lb *elbLB) {
	for _, e := range s.c.ec2().enis {
		if strings.HasPrefix(e.owner, lb.arn+"|") && e.goneAt.IsZero() {
			e.groups = append([]string(nil), lb.sgs...)
		}
	}
}

func (s *elbv2Sim) lbState(lb *elbLB) lbt.LoadBalancerStateEnum {
	if s.c.now().Before(lb.readyAt) {
		return lbt.LoadBalancerStateEnumProvisioning
	}
	return lbt.LoadBalancerStateEnumActive
}

func (s *elbv2Sim) lbOut(lb *elbLB) lbt.LoadBalancer {
	out := lbt.LoadBalancer{
		LoadBalancerArn: aws.String(lb.arn), LoadBalancerName: aws.String(lb.name), DNSName: aws.String(lb.dns),
		CanonicalHostedZoneId: aws.String(elbZoneID(s.c.Region)), CreatedTime: aws.Time(lb.created),
		Scheme: lbt.LoadBalancerSchemeEnum(lb.scheme), Type: lbt.LoadBalancerTypeEnum(lb.typ), VpcId: aws.String(lb.vpc),
		IpAddressType: lbt.IpAddressType(lb.ipType), SecurityGroups: append([]string(nil), lb.sgs...),
		State: &lbt.LoadBalancerState{Code: s.lbState(lb)},
	}
	for _, sn := range lb.subnets {
		az := ""
		if x := s.c.ec2().subnets[sn]; x != nil {
			az = x.az
		}
		out.AvailabilityZones = append(out.AvailabilityZones, lbt.AvailabilityZone{SubnetId: aws.String(sn), ZoneName: aws.String(az)})
	}
	return out
}

func (s *elbv2Sim) lbByARN(arn string) (*elbLB, error) {
	lb, ok := s.lbs[arn]
	if !ok {
		return nil, apiError("LoadBalancerNotFound", "Load balancer '%s' not found", arn)
	}
	return lb, nil
}

func (s *elbv2Sim) DescribeLoadBalancers(_ context.Context, in *elbv2.DescribeLoadBalancersInput) (*elbv2.DescribeLoadBalancersOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	if len(in.LoadBalancerArns) > 0 && len(in.Names) > 0 {
		return nil, apiError("ValidationError", "Load balancer ARNs and names cannot be specified at the same time")
	}
	var list []lbt.LoadBalancer
	switch {
	case len(in.LoadBalancerArns) > 0:
		for _, a := range in.LoadBalancerArns {
			lb, err := s.lbByARN(a)
			if err != nil {
				return nil, err
			}
			if s.c.inWindow(WinELBDescribe, lb.arn) {
				return nil, apiError("LoadBalancerNotFound", "Load balancer '%s' not found", a)
			}
			list = append(list, s.lbOut(lb))
		}
	case len(in.Names) > 0:
		for _, n := range in.Names {
			var found *elbLB
			for _, lb := range s.lbs {
				if lb.name == n {
					found = lb
				}
			}
			if found == nil || s.c.inWindow(WinELBDescribe, found.arn) {
				return nil, apiError("LoadBalancerNotFound", "Load balancers '[%s]' not found", n)
			}
			list = append(list, s.lbOut(found))
		}
	default:
		for _, a := range sortedKeys(s.lbs) {
			if s.c.windowOpen(WinELBDescribe, a) && s.c.inWindow(WinELBDescribe, a) {
				continue
			}
			list = append(list, s.lbOut(s.lbs[a]))
		}
	}
	page, next := paginate(list, in.PageSize, in.Marker)
	return &elbv2.DescribeLoadBalancersOutput{LoadBalancers: page, NextMarker: next}, nil
}

func attrList(m map[string]string) []lbt.LoadBalancerAttribute {
	var out []lbt.LoadBalancerAttribute
	for _, k := range sortedKeys(m) {
		out = append(out, lbt.LoadBalancerAttribute{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func (s *elbv2Sim) DescribeLoadBalancerAttributes(_ context.Context, in *elbv2.DescribeLoadBalancerAttributesInput) (*elbv2.DescribeLoadBalancerAttributesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	lb, err := s.lbByARN(aws.ToString(in.LoadBalancerArn))
	if err != nil {
		return nil, err
	}
	return &elbv2.DescribeLoadBalancerAttributesOutput{Attributes: attrList(lb.attrs)}, nil
}

// AccessLogBucketChecker is implemented by a simulated S3 that can tell
// whether ELB log delivery may write to a bucket (bucket in this region, and
// a bucket policy granting the region's ELB account or the log-delivery
// service principal s3:PutObject on the prefix). When the S3 simulation does
// not implement it, access-log buckets are not checked.
type AccessLogBucketChecker interface {
	CheckELBLogDelivery(bucket, prefix, account, region string) error
}

func checkBool(k, v string) error {
	if v != "true" && v != "false" {
		return apiError("ValidationError", "The value of '%s' must be 'true' or 'false'", k)
	}
	return nil
}

func checkIntRange(k, v string, lo, hi int) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return apiError("ValidationError", "The value of '%s' must be an integer between %d and %d", k, lo, hi)
	}
	return nil
}

func (s *elbv2Sim) checkLBAttr(k, v string) error {
	switch k {
	case "idle_timeout.timeout_seconds":
		return checkIntRange(k, v, 1, 4000)
	case "client_keep_alive.seconds":
		return checkIntRange(k, v, 60, 604800)
	case "routing.http.desync_mitigation_mode":
		if v != "monitor" && v != "defensive" && v != "strictest" {
			return apiError("ValidationError", "The value of '%s' must be monitor, defensive or strictest", k)
		}
	case "routing.http.xff_header_processing.mode":
		if v != "append" && v != "preserve" && v != "remove" {
			return apiError("ValidationError", "The value of '%s' must be append, preserve or remove", k)
		}
	case "load_balancing.cross_zone.enabled":
		if v != "true" {
			// "The default for Application Load Balancers is true, and can't be changed."
			return apiError("InvalidConfigurationRequest", "Cross-zone load balancing cannot be disabled for Application Load Balancers")
		}
	case "access_logs.s3.bucket", "access_logs.s3.prefix", "connection_logs.s3.bucket", "connection_logs.s3.prefix",
		"health_check_logs.s3.bucket", "health_check_logs.s3.prefix":
		if strings.HasSuffix(k, ".prefix") && (strings.HasPrefix(v, "/") || strings.HasSuffix(v, "/") || strings.Contains(strings.ToLower(v), "awslogs")) {
			// ALB user guide, "Access logs": the prefix can't start or end
			// with a slash or contain "AWSLogs".
			return apiError("ValidationError", "The value of '%s' must not begin or end with '/' or contain 'AWSLogs'", k)
		}
	default:
		return checkBool(k, v)
	}
	return nil
}

func (s *elbv2Sim) ModifyLoadBalancerAttributes(_ context.Context, in *elbv2.ModifyLoadBalancerAttributesInput) (*elbv2.ModifyLoadBalancerAttributesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	lb, err := s.lbByARN(aws.ToString(in.LoadBalancerArn))
	if err != nil {
		return nil, err
	}
	if len(in.Attributes) == 0 {
		return nil, apiError("ValidationError", "At least one attribute must be specified")
	}
	next := map[string]string{}
	for k, v := range lb.attrs {
		next[k] = v
	}
	for _, a := range in.Attributes {
		k, v := aws.ToString(a.Key), aws.ToString(a.Value)
		if _, ok := lb.attrs[k]; !ok {
			return nil, apiError("ValidationError", "Load balancer attribute key '%s' is not recognized", k)
		}
		if err := s.checkLBAttr(k, v); err != nil {
			return nil, err
		}
		next[k] = v
	}
	for _, kind := range []string{"access_logs", "connection_logs", "health_check_logs"} {
		if next[kind+".s3.enabled"] != "true" {
			continue
		}
		bucket := next[kind+".s3.bucket"]
		if bucket == "" {
			return nil, apiError("ValidationError", "The value of '%s.s3.bucket' cannot be empty when %s are enabled", kind, strings.ReplaceAll(kind, "_", " "))
		}
		changed := bucket != lb.attrs[kind+".s3.bucket"] || next[kind+".s3.prefix"] != lb.attrs[kind+".s3.prefix"] || lb.attrs[kind+".s3.enabled"] != "true"
		if changed && s.c.inWindow(WinLogBucketPolicy, bucket) {
			// The bucket policy was written a moment ago and has not reached
			// ELB's log delivery yet (see WinLogBucketPolicy).
			return nil, apiError("InvalidConfigurationRequest", "Access Denied for bucket: %s. Please check S3bucket permission", bucket)
		}
		if chk, ok := s.c.services["S3"].(AccessLogBucketChecker); ok && changed {
			// ELB writes a test file when logging is enabled and refuses
			// with "Access Denied for bucket: <b>. Please check S3bucket
			// permission" (InvalidConfigurationRequest) when it can't.
			if err := chk.CheckELBLogDelivery(bucket, next[kind+".s3.prefix"], s.c.Account, s.c.Region); err != nil {
				return nil, apiError("InvalidConfigurationRequest", "Access Denied for bucket: %s. Please check S3bucket permission (%v)", bucket, err)
			}
		}
	}
	lb.attrs = next
	return &elbv2.ModifyLoadBalancerAttributesOutput{Attributes: attrList(lb.attrs)}, nil
}

func (s *elbv2Sim) SetSecurityGroups(_ context.Context, in *elbv2.SetSecurityGroupsInput) (*elbv2.SetSecurityGroupsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	lb, err := s.lbByARN(aws.ToString(in.LoadBalancerArn))
	if err != nil {
		return nil, err
	}
	if len(in.SecurityGroups) == 0 {
		return nil, apiError("ValidationError", "An Application Load Balancer needs at least one security group")
	}
	if err := s.checkGroups(lb.vpc, in.SecurityGroups); err != nil {
		return nil, err
	}
	lb.sgs = append([]string(nil), in.SecurityGroups...)
	s.setENIGroups(lb)
	return &elbv2.SetSecurityGroupsOutput{SecurityGroupIds: append([]string(nil), lb.sgs...)}, nil
}

func (s *elbv2Sim) SetSubnets(_ context.Context, in *elbv2.SetSubnetsInput) (*elbv2.SetSubnetsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	lb, err := s.lbByARN(aws.ToString(in.LoadBalancerArn))
	if err != nil {
		return nil, err
	}
	subnets := append([]string(nil), in.Subnets...)
	for _, m := range in.SubnetMappings {
		subnets = append(subnets, aws.ToString(m.SubnetId))
	}
	vpc, err := s.checkSubnets(subnets)
	if err != nil {
		return nil, err
	}
	if vpc != lb.vpc {
		return nil, apiError("InvalidSubnet", "The subnets must be in VPC %s", lb.vpc)
	}
	var gone []string
	for _, sn := range lb.subnets {
		if !contains(subnets, sn) {
			gone = append(gone, sn)
		}
	}
	for _, sn := range subnets {
		if !contains(lb.subnets, sn) {
			s.attachLBENI(lb, sn)
		}
	}
	s.releaseLBENIs(lb, gone)
	lb.subnets = subnets
	return &elbv2.SetSubnetsOutput{AvailabilityZones: s.lbOut(lb).AvailabilityZones, IpAddressType: lbt.IpAddressType(lb.ipType)}, nil
}

// DeleteLoadBalancer: "Deleting a load balancer also deletes its listeners.
// You can't delete a load balancer if deletion protection is enabled. If the
// load balancer does not exist or has already been deleted, the call
// succeeds." Targets stay registered with their target groups.
func (s *elbv2Sim) DeleteLoadBalancer(_ context.Context, in *elbv2.DeleteLoadBalancerInput) (*elbv2.DeleteLoadBalancerOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	arn := aws.ToString(in.LoadBalancerArn)
	lb, ok := s.lbs[arn]
	if !ok {
		return &elbv2.DeleteLoadBalancerOutput{}, nil
	}
	if lb.attrs["deletion_protection.enabled"] == "true" {
		return nil, apiError("OperationNotPermitted", "Load balancer '%s' cannot be deleted because deletion protection is enabled", arn)
	}
	for la, l := range s.listeners {
		if l.lb == arn {
			s.deleteListener(la)
		}
	}
	s.releaseLBENIs(lb, lb.subnets)
	delete(s.lbs, arn)
	delete(s.tags, arn)
	return &elbv2.DeleteLoadBalancerOutput{}, nil
}

// ---- Tags ----

// tagged reports whether arn names a live resource, and its not-found error.
func (s *elbv2Sim) tagged(arn string) error {
	switch {
	case s.lbs[arn] != nil, s.tgs[arn] != nil, s.listeners[arn] != nil, s.rules[arn] != nil:
		return nil
	case strings.Contains(arn, ":targetgroup/"):
		return apiError("TargetGroupNotFound", "Target groups '%s' not found", arn)
	case strings.Contains(arn, ":listener-rule/"):
		return apiError("RuleNotFound", "One or more rules not found")
	case strings.Contains(arn, ":listener/"):
		return apiError("ListenerNotFound", "One or more listeners not found")
	default:
		return apiError("LoadBalancerNotFound", "Load balancer '%s' not found", arn)
	}
}

func (s *elbv2Sim) DescribeTags(_ context.Context, in *elbv2.DescribeTagsInput) (*elbv2.DescribeTagsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	if len(in.ResourceArns) == 0 || len(in.ResourceArns) > 20 {
		return nil, apiError("ValidationError", "Between 1 and 20 resource ARNs must be specified")
	}
	out := &elbv2.DescribeTagsOutput{}
	for _, a := range in.ResourceArns {
		if err := s.tagged(a); err != nil {
			return nil, err
		}
		d := lbt.TagDescription{ResourceArn: aws.String(a)}
		m := s.tags[a]
		for _, k := range sortedKeys(m) {
			d.Tags = append(d.Tags, lbt.Tag{Key: aws.String(k), Value: aws.String(m[k])})
		}
		out.TagDescriptions = append(out.TagDescriptions, d)
	}
	return out, nil
}

func (s *elbv2Sim) AddTags(_ context.Context, in *elbv2.AddTagsInput) (*elbv2.AddTagsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	seen := map[string]bool{}
	for _, t := range in.Tags {
		if seen[aws.ToString(t.Key)] {
			return nil, apiError("DuplicateTagKeys", "Tag key '%s' is specified more than once", aws.ToString(t.Key))
		}
		seen[aws.ToString(t.Key)] = true
	}
	for _, a := range in.ResourceArns {
		if err := s.tagged(a); err != nil {
			return nil, err
		}
		n := len(s.tags[a])
		for k := range seen {
			if _, ok := s.tags[a][k]; !ok {
				n++
			}
		}
		if n > maxTagsPerResource {
			return nil, apiError("TooManyTags", "A resource can have at most %d tags", maxTagsPerResource)
		}
	}
	for _, a := range in.ResourceArns {
		if s.tags[a] == nil {
			s.tags[a] = map[string]string{}
		}
		for _, t := range in.Tags {
			s.tags[a][aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return &elbv2.AddTagsOutput{}, nil
}

func (s *elbv2Sim) RemoveTags(_ context.Context, in *elbv2.RemoveTagsInput) (*elbv2.RemoveTagsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	for _, a := range in.ResourceArns {
		if err := s.tagged(a); err != nil {
			return nil, err
		}
	}
	for _, a := range in.ResourceArns {
		for _, k := range in.TagKeys {
			delete(s.tags[a], k)
		}
	}
	return &elbv2.RemoveTagsOutput{}, nil
}

// ---- Inventory ----

func (s *elbv2Sim) inventory() []Resource {
	var out []Resource
	for _, a := range sortedKeys(s.lbs) {
		out = append(out, Resource{"ELBv2", "load-balancer", a, copyTags(s.tags[a])})
	}
	for _, a := range sortedKeys(s.tgs) {
		out = append(out, Resource{"ELBv2", "target-group", a, copyTags(s.tags[a])})
	}
	for _, a := range sortedKeys(s.listeners) {
		out = append(out, Resource{"ELBv2", "listener", a, copyTags(s.tags[a])})
	}
	for _, a := range sortedKeys(s.rules) {
		if !s.rules[a].isDefault {
			out = append(out, Resource{"ELBv2", "listener-rule", a, copyTags(s.tags[a])})
		}
	}
	return out
}
