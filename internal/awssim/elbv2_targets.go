package awssim

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Targets per target group (instances or IP addresses): 1,000
// (load-balancer-limits.html).
const maxTargetsPerGroup = 1000

type healthCheck struct {
	enabled                       bool
	protocol, port, path, matcher string
	interval, timeout             int32
	healthy, unhealthy            int32
}

type elbTarget struct {
	id          string
	port        int32
	registered  time.Time
	failing     bool      // marked unhealthy (the app does not answer health checks)
	drainingEnd time.Time // zero unless deregistering
}

func (t *elbTarget) key() string { return t.id + ":" + strconv.Itoa(int(t.port)) }

type elbTG struct {
	arn, name, id                  string
	protocol, protocolVersion, typ string
	port                           int32
	vpc, ipType                    string
	hc                             healthCheck
	attrs                          map[string]string
	targets                        map[string]*elbTarget // id:port ->
}

// tgAttrDefaults are an ALB target group's attributes (API reference,
// TargetGroupAttribute), with their defaults.
func tgAttrDefaults() map[string]string {
	return map[string]string{
		"deregistration_delay.timeout_seconds":                                           "300",
		"stickiness.enabled":                                                             "false",
		"stickiness.type":                                                                "lb_cookie",
		"stickiness.lb_cookie.duration_seconds":                                          "86400",
		"stickiness.app_cookie.cookie_name":                                              "",
		"stickiness.app_cookie.duration_seconds":                                         "86400",
		"load_balancing.algorithm.type":                                                  "round_robin",
		"load_balancing.algorithm.anomaly_mitigation":                                    "off",
		"load_balancing.cross_zone.enabled":                                              "use_load_balancer_configuration",
		"slow_start.duration_seconds":                                                    "0",
		"target_group_health.dns_failover.minimum_healthy_targets.count":                 "1",
		"target_group_health.dns_failover.minimum_healthy_targets.percentage":            "off",
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      "1",
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
	}
}

var matcherRE = regexp.MustCompile(`^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$`)

// healthCheckFrom applies CreateTargetGroup / ModifyTargetGroup health check
// parameters over base and validates the result. Ranges from the API
// reference: interval 5-300 s, timeout 2-120 s, thresholds 2-10, path 1-1024
// characters starting with "/", HTTP codes 200-499.
func healthCheckFrom(base healthCheck, enabled *bool, proto lbt.ProtocolEnum, port, path *string, interval, timeout, healthy, unhealthy *int32, m *lbt.Matcher) (healthCheck, error) {
	hc := base
	if enabled != nil {
		hc.enabled = *enabled
	}
	if proto != "" {
		hc.protocol = string(proto)
	}
	if port != nil {
		hc.port = *port
	}
	if path != nil {
		hc.path = *path
	}
	if interval != nil {
		hc.interval = *interval
	}
	if timeout != nil {
		hc.timeout = *timeout
	}
	if healthy != nil {
		hc.healthy = *healthy
	}
	if unhealthy != nil {
		hc.unhealthy = *unhealthy
	}
	if m != nil && m.HttpCode != nil {
		hc.matcher = *m.HttpCode
	}
	switch {
	case hc.protocol != "HTTP" && hc.protocol != "HTTPS":
		return hc, apiError("ValidationError", "Health check protocol '%s' is not supported for target groups of Application Load Balancers", hc.protocol)
	case hc.port != "traffic-port" && !validPortString(hc.port):
		return hc, apiError("ValidationError", "Health check port '%s' must be 'traffic-port' or 1-65535", hc.port)
	case !strings.HasPrefix(hc.path, "/") || len(hc.path) > 1024:
		return hc, apiError("ValidationError", "Health check path '%s' must start with '/' and have at most 1024 characters", hc.path)
	case hc.interval < 5 || hc.interval > 300:
		return hc, apiError("ValidationError", "Health check interval must be between 5 and 300 seconds")
	case hc.timeout < 2 || hc.timeout > 120:
		return hc, apiError("ValidationError", "Health check timeout must be between 2 and 120 seconds")
	case hc.timeout >= hc.interval:
		return hc, apiError("ValidationError", "Health check timeout '%d' must be smaller than the interval '%d'", hc.timeout, hc.interval)
	case hc.healthy < 2 || hc.healthy > 10 || hc.unhealthy < 2 || hc.unhealthy > 10:
		return hc, apiError("ValidationError", "Health check thresholds must be between 2 and 10")
	case !matcherRE.MatchString(hc.matcher):
		return hc, apiError("ValidationError", "Health check matcher HTTP code '%s' must be a code, a list or a range of codes between 200 and 499", hc.matcher)
	}
	for _, part := range strings.FieldsFunc(hc.matcher, func(r rune) bool { return r == ',' || r == '-' }) {
		if n, _ := strconv.Atoi(part); n < 200 || n > 499 {
			return hc, apiError("ValidationError", "Health check matcher HTTP code '%s' must be between 200 and 499", part)
		}
	}
	return hc, nil
}

func validPortString(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535
}

func (s *elbv2Sim) CreateTargetGroup(_ context.Context, in *elbv2.CreateTargetGroupInput) (*elbv2.CreateTargetGroupOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	name := aws.ToString(in.Name)
	if !validName(name) {
		return nil, apiError("ValidationError", "Target group name '%s' is not valid", name)
	}
	typ := string(in.TargetType)
	if typ == "" {
		typ = string(lbt.TargetTypeEnumInstance)
	}
	if typ == string(lbt.TargetTypeEnumLambda) || typ == string(lbt.TargetTypeEnumAlb) {
		return nil, fmt.Errorf("awssim: target type %s is not simulated", typ)
	}
	proto := string(in.Protocol)
	if proto == "" {
		return nil, apiError("ValidationError", "A protocol must be specified")
	}
	port := aws.ToInt32(in.Port)
	if port < 1 || port > 65535 {
		return nil, apiError("ValidationError", "A port between 1 and 65535 must be specified")
	}
	vpc := aws.ToString(in.VpcId)
	if _, ok := s.c.ec2().vpcs[vpc]; !ok {
		return nil, apiError("ValidationError", "The VPC ID '%s' is not found", vpc)
	}
	version := aws.ToString(in.ProtocolVersion)
	if version == "" && (proto == "HTTP" || proto == "HTTPS") {
		version = "HTTP1"
	}
	// Defaults for HTTP/HTTPS target groups (API reference, CreateTargetGroup):
	// interval 30 s, timeout 5 s, healthy threshold 5, unhealthy 2, path "/",
	// port traffic-port, matcher 200.
	hcProto := proto
	if proto != "HTTP" && proto != "HTTPS" {
		hcProto = "TCP"
	}
	base := healthCheck{enabled: true, protocol: hcProto, port: "traffic-port", path: "/", matcher: "200", interval: 30, timeout: 5, healthy: 5, unhealthy: 2}
	hc, err := healthCheckFrom(base, in.HealthCheckEnabled, in.HealthCheckProtocol, in.HealthCheckPort, in.HealthCheckPath,
		in.HealthCheckIntervalSeconds, in.HealthCheckTimeoutSeconds, in.HealthyThresholdCount, in.UnhealthyThresholdCount, in.Matcher)
	if err != nil && (proto == "HTTP" || proto == "HTTPS") {
		return nil, err
	}
	ipType := string(in.IpAddressType)
	if ipType == "" {
		ipType = string(lbt.TargetGroupIpAddressTypeEnumIpv4)
	}
	tg := &elbTG{name: name, protocol: proto, protocolVersion: version, typ: typ, port: port, vpc: vpc, ipType: ipType, hc: hc}
	// Idempotent with the same settings; "A target group with the same name
	// '<name>' exists, but with different settings" otherwise (verbatim as
	// reported from us-east-1 in go-to-k/cdkd).
	for _, o := range s.tgs {
		if o.name != name {
			continue
		}
		if o.protocol == tg.protocol && o.protocolVersion == tg.protocolVersion && o.typ == tg.typ && o.port == tg.port &&
			o.vpc == tg.vpc && o.ipType == tg.ipType && o.hc == tg.hc {
			return &elbv2.CreateTargetGroupOutput{TargetGroups: []lbt.TargetGroup{s.tgOut(o)}}, nil
		}
		return nil, apiError("DuplicateTargetGroupName", "A target group with the same name '%s' exists, but with different settings", name)
	}
	tags := lbTags(in.Tags)
	if len(tags) > maxTagsPerResource {
		return nil, apiError("TooManyTags", "A resource can have at most %d tags", maxTagsPerResource)
	}
	tg.id = s.hexID()
	tg.arn = s.arn("targetgroup/" + name + "/" + tg.id)
	tg.attrs = tgAttrDefaults()
	tg.targets = map[string]*elbTarget{}
	s.tgs[tg.arn] = tg
	s.c.openWindow(WinELBDescribe, tg.arn, nil)
	s.tags[tg.arn] = tags
	return &elbv2.CreateTargetGroupOutput{TargetGroups: []lbt.TargetGroup{s.tgOut(tg)}}, nil
}

// tgLoadBalancers lists the load balancers whose listeners or rules forward
// to the target group (c.mu held).
func (s *elbv2Sim) tgLoadBalancers(tgARN string) []string {
	set := map[string]bool{}
	for _, l := range s.listeners {
		for _, r := range s.rules {
			if r.listener == l.arn && actionsUse(r.actions, tgARN) {
				set[l.lb] = true
			}
		}
	}
	return sortedKeys(set)
}

func (s *elbv2Sim) tgOut(tg *elbTG) lbt.TargetGroup {
	return lbt.TargetGroup{
		TargetGroupArn: aws.String(tg.arn), TargetGroupName: aws.String(tg.name), Protocol: lbt.ProtocolEnum(tg.protocol),
		ProtocolVersion: nilIfEmpty(tg.protocolVersion), Port: aws.Int32(tg.port), VpcId: aws.String(tg.vpc),
		TargetType: lbt.TargetTypeEnum(tg.typ), IpAddressType: lbt.TargetGroupIpAddressTypeEnum(tg.ipType),
		HealthCheckEnabled: aws.Bool(tg.hc.enabled), HealthCheckProtocol: lbt.ProtocolEnum(tg.hc.protocol),
		HealthCheckPort: aws.String(tg.hc.port), HealthCheckPath: aws.String(tg.hc.path),
		HealthCheckIntervalSeconds: aws.Int32(tg.hc.interval), HealthCheckTimeoutSeconds: aws.Int32(tg.hc.timeout),
		HealthyThresholdCount: aws.Int32(tg.hc.healthy), UnhealthyThresholdCount: aws.Int32(tg.hc.unhealthy),
		Matcher: &lbt.Matcher{HttpCode: aws.String(tg.hc.matcher)}, LoadBalancerArns: s.tgLoadBalancers(tg.arn),
	}
}

func (s *elbv2Sim) tgByARN(arn string) (*elbTG, error) {
	tg, ok := s.tgs[arn]
	if !ok {
		return nil, apiError("TargetGroupNotFound", "Target groups '%s' not found", arn)
	}
	return tg, nil
}

func (s *elbv2Sim) DescribeTargetGroups(_ context.Context, in *elbv2.DescribeTargetGroupsInput) (*elbv2.DescribeTargetGroupsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	var list []lbt.TargetGroup
	switch {
	case len(in.TargetGroupArns) > 0:
		for _, a := range in.TargetGroupArns {
			tg, err := s.tgByARN(a)
			if err != nil {
				return nil, err
			}
			if s.c.inWindow(WinELBDescribe, tg.arn) {
				return nil, apiError("TargetGroupNotFound", "Target groups '%s' not found", a)
			}
			list = append(list, s.tgOut(tg))
		}
	case len(in.Names) > 0:
		for _, n := range in.Names {
			var found *elbTG
			for _, tg := range s.tgs {
				if tg.name == n {
					found = tg
				}
			}
			if found == nil || s.c.inWindow(WinELBDescribe, found.arn) {
				return nil, apiError("TargetGroupNotFound", "Target groups '[%s]' not found", n)
			}
			list = append(list, s.tgOut(found))
		}
	default:
		lbARN := aws.ToString(in.LoadBalancerArn)
		if lbARN != "" {
			if _, err := s.lbByARN(lbARN); err != nil {
				return nil, err
			}
		}
		for _, a := range sortedKeys(s.tgs) {
			if lbARN == "" || contains(s.tgLoadBalancers(a), lbARN) {
				if s.c.windowOpen(WinELBDescribe, a) && s.c.inWindow(WinELBDescribe, a) {
					continue
				}
				list = append(list, s.tgOut(s.tgs[a]))
			}
		}
	}
	page, next := paginate(list, in.PageSize, in.Marker)
	return &elbv2.DescribeTargetGroupsOutput{TargetGroups: page, NextMarker: next}, nil
}

func (s *elbv2Sim) ModifyTargetGroup(_ context.Context, in *elbv2.ModifyTargetGroupInput) (*elbv2.ModifyTargetGroupOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	tg, err := s.tgByARN(aws.ToString(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	hc, err := healthCheckFrom(tg.hc, in.HealthCheckEnabled, in.HealthCheckProtocol, in.HealthCheckPort, in.HealthCheckPath,
		in.HealthCheckIntervalSeconds, in.HealthCheckTimeoutSeconds, in.HealthyThresholdCount, in.UnhealthyThresholdCount, in.Matcher)
	if err != nil {
		return nil, err
	}
	tg.hc = hc
	return &elbv2.ModifyTargetGroupOutput{TargetGroups: []lbt.TargetGroup{s.tgOut(tg)}}, nil
}

func tgAttrList(m map[string]string) []lbt.TargetGroupAttribute {
	var out []lbt.TargetGroupAttribute
	for _, k := range sortedKeys(m) {
		out = append(out, lbt.TargetGroupAttribute{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func (s *elbv2Sim) DescribeTargetGroupAttributes(_ context.Context, in *elbv2.DescribeTargetGroupAttributesInput) (*elbv2.DescribeTargetGroupAttributesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	tg, err := s.tgByARN(aws.ToString(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	return &elbv2.DescribeTargetGroupAttributesOutput{Attributes: tgAttrList(tg.attrs)}, nil
}

func checkTGAttr(k, v string) error {
	switch k {
	case "deregistration_delay.timeout_seconds":
		return checkIntRange(k, v, 0, 3600)
	case "stickiness.enabled":
		return checkBool(k, v)
	case "stickiness.type":
		if v != "lb_cookie" && v != "app_cookie" {
			return apiError("ValidationError", "The value of '%s' must be lb_cookie or app_cookie for Application Load Balancers", k)
		}
	case "stickiness.lb_cookie.duration_seconds", "stickiness.app_cookie.duration_seconds":
		return checkIntRange(k, v, 1, 604800)
	case "stickiness.app_cookie.cookie_name":
		for _, p := range []string{"AWSALB", "AWSALBAPP", "AWSALBTG"} {
			if strings.HasPrefix(v, p) {
				return apiError("ValidationError", "Application cookie names cannot start with %s", p)
			}
		}
	case "load_balancing.algorithm.type":
		if v != "round_robin" && v != "least_outstanding_requests" && v != "weighted_random" {
			return apiError("ValidationError", "The value of '%s' is not valid", k)
		}
	case "load_balancing.algorithm.anomaly_mitigation":
		if v != "on" && v != "off" {
			return apiError("ValidationError", "The value of '%s' must be on or off", k)
		}
	case "load_balancing.cross_zone.enabled":
		if v != "true" && v != "false" && v != "use_load_balancer_configuration" {
			return apiError("ValidationError", "The value of '%s' is not valid", k)
		}
	case "slow_start.duration_seconds":
		if n, err := strconv.Atoi(v); err != nil || n != 0 && (n < 30 || n > 900) {
			return apiError("ValidationError", "The value of '%s' must be 0 or between 30 and 900", k)
		}
	}
	return nil
}

func (s *elbv2Sim) ModifyTargetGroupAttributes(_ context.Context, in *elbv2.ModifyTargetGroupAttributesInput) (*elbv2.ModifyTargetGroupAttributesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	tg, err := s.tgByARN(aws.ToString(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	if len(in.Attributes) == 0 {
		return nil, apiError("ValidationError", "At least one attribute must be specified")
	}
	next := map[string]string{}
	for k, v := range tg.attrs {
		next[k] = v
	}
	for _, a := range in.Attributes {
		k, v := aws.ToString(a.Key), aws.ToString(a.Value)
		if _, ok := tg.attrs[k]; !ok {
			return nil, apiError("ValidationError", "Target group attribute key '%s' is not recognized", k)
		}
		if err := checkTGAttr(k, v); err != nil {
			return nil, err
		}
		next[k] = v
	}
	if next["stickiness.enabled"] == "true" && next["stickiness.type"] == "app_cookie" && next["stickiness.app_cookie.cookie_name"] == "" {
		return nil, apiError("ValidationError", "An application cookie name is required for app_cookie stickiness")
	}
	tg.attrs = next
	return &elbv2.ModifyTargetGroupAttributesOutput{Attributes: tgAttrList(tg.attrs)}, nil
}

// DeleteTargetGroup: "You can delete a target group if it is not referenced
// by any actions." The API reference lists ResourceInUse as its only error: a
// group that does not exist is deleted already.
func (s *elbv2Sim) DeleteTargetGroup(_ context.Context, in *elbv2.DeleteTargetGroupInput) (*elbv2.DeleteTargetGroupOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	arn := aws.ToString(in.TargetGroupArn)
	if _, ok := s.tgs[arn]; !ok {
		return &elbv2.DeleteTargetGroupOutput{}, nil
	}
	for _, r := range s.rules {
		if actionsUse(r.actions, arn) {
			return nil, apiError("ResourceInUse", "Target group '%s' is currently in use by a listener or a rule", arn)
		}
	}
	delete(s.tgs, arn)
	delete(s.tags, arn)
	return &elbv2.DeleteTargetGroupOutput{}, nil
}

// ---- Targets ----

// reapTargets drops targets whose deregistration delay is over (c.mu held).
func (tg *elbTG) reapTargets(now time.Time) {
	for k, t := range tg.targets {
		if !t.drainingEnd.IsZero() && now.After(t.drainingEnd) {
			delete(tg.targets, k)
		}
	}
}

func (s *elbv2Sim) register(tg *elbTG, id string, port int32) error {
	if tg.typ == string(lbt.TargetTypeEnumIp) {
		addr, err := netip.ParseAddr(id)
		if err != nil || !addr.Is4() {
			return apiError("InvalidTarget", "The IP address '%s' is not a valid IPv4 address", id)
		}
		if v := s.c.ec2().vpcs[tg.vpc]; v != nil {
			if p, err := netip.ParsePrefix(v.cidr); err == nil && !p.Contains(addr) {
				return apiError("InvalidTarget", "The IP address '%s' is not within the CIDR of VPC '%s'", id, tg.vpc)
			}
		}
	} else if tg.typ == string(lbt.TargetTypeEnumInstance) {
		return apiError("InvalidTarget", "The following targets are not valid instances: '%s'", id)
	}
	if port == 0 {
		port = tg.port
	}
	t := &elbTarget{id: id, port: port}
	if old, ok := tg.targets[t.key()]; ok && old.drainingEnd.IsZero() {
		return nil // already registered
	}
	live := 0
	for _, o := range tg.targets {
		if o.drainingEnd.IsZero() {
			live++
		}
	}
	if live >= maxTargetsPerGroup {
		return apiError("TooManyTargets", "You have reached the limit of %d targets for target group '%s'", maxTargetsPerGroup, tg.arn)
	}
	t.registered = s.c.now()
	tg.targets[t.key()] = t
	return nil
}

func (s *elbv2Sim) deregister(tg *elbTG, id string, port int32) {
	if port == 0 {
		port = tg.port
	}
	t, ok := tg.targets[id+":"+strconv.Itoa(int(port))]
	if !ok || !t.drainingEnd.IsZero() {
		return
	}
	delay, _ := strconv.Atoi(tg.attrs["deregistration_delay.timeout_seconds"])
	t.drainingEnd = s.c.deadline(time.Duration(delay) * time.Second)
}

func (s *elbv2Sim) RegisterTargets(_ context.Context, in *elbv2.RegisterTargetsInput) (*elbv2.RegisterTargetsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	tg, err := s.tgByARN(aws.ToString(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	tg.reapTargets(s.c.now())
	for _, t := range in.Targets {
		if err := s.register(tg, aws.ToString(t.Id), aws.ToInt32(t.Port)); err != nil {
			return nil, err
		}
	}
	return &elbv2.RegisterTargetsOutput{}, nil
}

// DeregisterTargets: "If the specified target does not exist, the action
// returns successfully."
func (s *elbv2Sim) DeregisterTargets(_ context.Context, in *elbv2.DeregisterTargetsInput) (*elbv2.DeregisterTargetsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	tg, err := s.tgByARN(aws.ToString(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	tg.reapTargets(s.c.now())
	for _, t := range in.Targets {
		s.deregister(tg, aws.ToString(t.Id), aws.ToInt32(t.Port))
	}
	return &elbv2.DeregisterTargetsOutput{}, nil
}

// health is a target's state and reason (ALB user guide, "Health checks for
// your target groups", target health states and reason codes).
func (s *elbv2Sim) health(tg *elbTG, t *elbTarget) lbt.TargetHealth {
	th := func(st lbt.TargetHealthStateEnum, reason lbt.TargetHealthReasonEnum, desc string) lbt.TargetHealth {
		return lbt.TargetHealth{State: st, Reason: reason, Description: nilIfEmpty(desc)}
	}
	switch {
	case !t.drainingEnd.IsZero():
		return th(lbt.TargetHealthStateEnumDraining, lbt.TargetHealthReasonEnumDeregistrationInProgress, "Target deregistration is in progress")
	case len(s.tgLoadBalancers(tg.arn)) == 0:
		return th(lbt.TargetHealthStateEnumUnused, lbt.TargetHealthReasonEnumNotInUse, "Target group is not configured to receive traffic from the load balancer")
	case !tg.hc.enabled:
		return th(lbt.TargetHealthStateEnumUnavailable, lbt.TargetHealthReasonEnumHealthCheckDisabled, "Health checks disabled")
	case s.c.now().Before(t.registered.Add(s.c.wall(s.c.Timing.TargetHealthy))):
		return th(lbt.TargetHealthStateEnumInitial, lbt.TargetHealthReasonEnumRegistrationInProgress, "Target registration is in progress")
	case t.failing:
		return th(lbt.TargetHealthStateEnumUnhealthy, lbt.TargetHealthReasonEnumFailedHealthChecks, "Health checks failed")
	}
	return th(lbt.TargetHealthStateEnumHealthy, "", "")
}

func (s *elbv2Sim) DescribeTargetHealth(_ context.Context, in *elbv2.DescribeTargetHealthInput) (*elbv2.DescribeTargetHealthOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	tg, err := s.tgByARN(aws.ToString(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	tg.reapTargets(s.c.now())
	out := &elbv2.DescribeTargetHealthOutput{}
	desc := func(t *elbTarget) lbt.TargetHealthDescription {
		h := s.health(tg, t)
		return lbt.TargetHealthDescription{Target: &lbt.TargetDescription{Id: aws.String(t.id), Port: aws.Int32(t.port)},
			HealthCheckPort: aws.String(healthPort(tg, t)), TargetHealth: &h}
	}
	if len(in.Targets) > 0 {
		for _, want := range in.Targets {
			port := aws.ToInt32(want.Port)
			if port == 0 {
				port = tg.port
			}
			t, ok := tg.targets[aws.ToString(want.Id)+":"+strconv.Itoa(int(port))]
			if !ok {
				out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, lbt.TargetHealthDescription{
					Target: &lbt.TargetDescription{Id: want.Id, Port: aws.Int32(port)},
					TargetHealth: &lbt.TargetHealth{State: lbt.TargetHealthStateEnumUnused, Reason: lbt.TargetHealthReasonEnumNotRegistered,
						Description: aws.String("Target is not registered to the target group")}})
				continue
			}
			out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, desc(t))
		}
		return out, nil
	}
	keys := make([]string, 0, len(tg.targets))
	for k := range tg.targets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, desc(tg.targets[k]))
	}
	return out, nil
}

func healthPort(tg *elbTG, t *elbTarget) string {
	if tg.hc.port == "traffic-port" {
		return strconv.Itoa(int(t.port))
	}
	return tg.hc.port
}

// ---- Hooks for the ECS simulation (c.mu held by the caller) ----

// registerTask registers a task's IP with a target group, as ECS does for a
// service with a load balancer.
func (s *elbv2Sim) registerTask(tgARN, ip string, port int32) error {
	tg, err := s.tgByARN(tgARN)
	if err != nil {
		return err
	}
	tg.reapTargets(s.c.now())
	return s.register(tg, ip, port)
}

// deregisterTask starts draining a task's IP (all ports): the target is
// "draining" for the group's deregistration delay, then gone.
func (s *elbv2Sim) deregisterTask(tgARN, ip string) {
	tg, ok := s.tgs[tgARN]
	if !ok {
		return
	}
	for _, t := range tg.targets {
		if t.id == ip {
			s.deregister(tg, t.id, t.port)
		}
	}
}

// setTaskHealthy marks whether a task answers its health checks. A target is
// "initial" for Timing.TargetHealthy after registration, then "healthy" or,
// when marked failing, "unhealthy".
func (s *elbv2Sim) setTaskHealthy(tgARN, ip string, healthy bool) {
	tg, ok := s.tgs[tgARN]
	if !ok {
		return
	}
	for _, t := range tg.targets {
		if t.id == ip {
			t.failing = !healthy
		}
	}
}

// tgHasLoadBalancer reports whether a listener or rule forwards to the target
// group. ECS CreateService refuses a target group without one with
// InvalidParameterException "The target group with targetGroupArn <arn> does
// not have an associated load balancer." (as reported against the API in
// terraform-provider-aws and cloudcontrol clients).
func (s *elbv2Sim) tgHasLoadBalancer(tgARN string) bool {
	return len(s.tgLoadBalancers(tgARN)) > 0 && !s.c.inWindow(WinListenerTargetGroup, tgARN)
}

// associating opens WinListenerTargetGroup for the target groups that
// actions forward to and no listener or rule used before: ECS does not see
// the new association at once (terraform-provider-aws#3535). Call it before
// the listener or rule is stored, and call the function it returns after.
func (s *elbv2Sim) associating(actions []lbt.Action) func() {
	var fresh []string
	for _, arn := range sortedKeys(s.tgs) {
		if actionsUse(actions, arn) && len(s.tgLoadBalancers(arn)) == 0 {
			fresh = append(fresh, arn)
		}
	}
	return func() {
		for _, arn := range fresh {
			s.c.openWindow(WinListenerTargetGroup, arn, nil)
		}
	}
}
