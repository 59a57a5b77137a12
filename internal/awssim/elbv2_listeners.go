package awssim

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	acmt "github.com/aws/aws-sdk-go-v2/service/acm/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

type elbListener struct {
	arn, lb, id string
	port        int32
	protocol    string
	sslPolicy   string
	certs       []string // the default certificate (one)
	extra       []string // AddListenerCertificates' (SNI) certificates
	alpn        []string
	defaultRule string // ARN of the listener's default rule
}

type elbRule struct {
	arn, listener string
	priority      int // 0 for the default rule
	isDefault     bool
	conditions    []lbt.RuleCondition
	actions       []lbt.Action
}

// sslPolicies are the predefined ALB security policies (ALB user guide,
// "Security policies for your Application Load Balancer", as of the 2025-09
// post-quantum policies). The documented console default is
// ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09; the API default, when
// CreateListener names none, is ELBSecurityPolicy-2016-08.
var sslPolicies = []string{
	"ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-2015-05", "ELBSecurityPolicy-TLS-1-0-2015-04",
	"ELBSecurityPolicy-TLS-1-1-2017-01", "ELBSecurityPolicy-TLS-1-2-2017-01", "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
	"ELBSecurityPolicy-FS-2018-06", "ELBSecurityPolicy-FS-1-1-2019-08", "ELBSecurityPolicy-FS-1-2-2019-08",
	"ELBSecurityPolicy-FS-1-2-Res-2019-08", "ELBSecurityPolicy-FS-1-2-Res-2020-10",
	"ELBSecurityPolicy-TLS13-1-0-2021-06", "ELBSecurityPolicy-TLS13-1-1-2021-06", "ELBSecurityPolicy-TLS13-1-2-2021-06",
	"ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
	"ELBSecurityPolicy-TLS13-1-3-2021-06",
	"ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
	"ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04",
	"ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
	"ELBSecurityPolicy-TLS13-1-2-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
	"ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09",
	"ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09",
	"ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09",
	"ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
}

const defaultSSLPolicy = "ELBSecurityPolicy-2016-08"

var certARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:(acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}|iam::\d{12}:server-certificate/.+)$`)

func (s *elbv2Sim) DescribeSSLPolicies(_ context.Context, in *elbv2.DescribeSSLPoliciesInput) (*elbv2.DescribeSSLPoliciesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	out := &elbv2.DescribeSSLPoliciesOutput{}
	names := in.Names
	if len(names) == 0 {
		names = sslPolicies
	}
	for _, n := range names {
		if !contains(sslPolicies, n) {
			return nil, apiError("SSLPolicyNotFound", "SSL policy '%s' not found", n)
		}
		protos := []string{"TLSv1.2"}
		if strings.Contains(n, "TLS13") {
			protos = append(protos, "TLSv1.3")
		}
		out.SslPolicies = append(out.SslPolicies, lbt.SslPolicy{Name: aws.String(n), SslProtocols: protos,
			SupportedLoadBalancerTypes: []string{"application", "network"}})
	}
	return out, nil
}

func (s *elbv2Sim) checkCerts(certs []lbt.Certificate) ([]string, error) {
	if len(certs) != 1 {
		// CreateListener Certificates: "You must provide exactly one certificate."
		return nil, apiError("ValidationError", "A certificate must be specified for HTTPS listeners: provide exactly one default certificate")
	}
	arn := aws.ToString(certs[0].CertificateArn)
	if err := s.checkCert(arn); err != nil {
		return nil, err
	}
	return []string{arn}, nil
}

// checkCert checks one listener certificate ARN (c.mu held).
func (s *elbv2Sim) checkCert(arn string) error {
	m := certARNRE.FindStringSubmatch(arn)
	if m == nil || m[2] != "" && m[2] != s.c.Region {
		return apiError("CertificateNotFound", "Certificate '%s' not found", arn)
	}
	if m[2] == "" {
		// An IAM server certificate: IAM's are not simulated; taken as given.
		return nil
	}
	// An ACM certificate must exist in the account's ACM: "Certificate '...'
	// not found" (CertificateNotFound, CreateListener Errors; as quoted in
	// aws/aws-cdk#6081). One that exists but is not ISSUED (still
	// PENDING_VALIDATION, timed out, expired) is refused with
	// UnsupportedCertificate and its generic message: "UnsupportedCertificate
	// is what ELB returns for a certificate that is not yet ISSUED"
	// (DataBiosphere/azul#8321, with the timeline); govuk-paas/paas-cf#3063
	// (AddListenerCertificates before the validation finished),
	// hashicorp/terraform-provider-aws#41789 (ModifyListener).
	ct, ok := s.c.acm().certs[arn]
	if !ok {
		return apiError("CertificateNotFound", "Certificate '%s' not found", arn)
	}
	s.c.acm().advance(ct)
	if ct.status != acmt.CertificateStatusIssued {
		return apiError("UnsupportedCertificate", "The certificate '%s' must have a fully-qualified domain name, a supported signature, and a supported key size.", arn)
	}
	return nil
}

// maxListenerCertificates: "Certificates per Application Load Balancer
// (excluding default certificates): 25" (ELB User Guide, "Quotas for your
// Application Load Balancers").
const maxListenerCertificates = 25

// AddListenerCertificates adds SNI certificates to an HTTPS listener ("If
// the certificate in already in the certificate list, the call is successful
// but the certificate is not added again", AddListenerCertificates
// reference); each is checked as CreateListener checks the default one.
func (s *elbv2Sim) AddListenerCertificates(_ context.Context, in *elbv2.AddListenerCertificatesInput) (*elbv2.AddListenerCertificatesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	l, err := s.listenerByARN(aws.ToString(in.ListenerArn))
	if err != nil {
		return nil, err
	}
	if len(in.Certificates) == 0 {
		return nil, apiError("ValidationError", "A certificate must be specified")
	}
	var add []string
	for _, c := range in.Certificates {
		arn := aws.ToString(c.CertificateArn)
		if err := s.checkCert(arn); err != nil {
			return nil, err
		}
		if !contains(l.certs, arn) && !contains(l.extra, arn) && !contains(add, arn) {
			add = append(add, arn)
		}
	}
	n := len(add)
	for _, o := range s.listeners {
		if o.lb == l.lb {
			n += len(o.extra)
		}
	}
	if n > maxListenerCertificates {
		return nil, apiError("TooManyCertificates", "You've reached the limit on the number of certificates per load balancer")
	}
	l.extra = append(l.extra, add...)
	out := &elbv2.AddListenerCertificatesOutput{}
	for _, arn := range l.extra {
		out.Certificates = append(out.Certificates, lbt.Certificate{CertificateArn: aws.String(arn), IsDefault: aws.Bool(false)})
	}
	return out, nil
}

// DescribeListenerCertificates lists the default certificate (IsDefault
// true) and the added ones.
func (s *elbv2Sim) DescribeListenerCertificates(_ context.Context, in *elbv2.DescribeListenerCertificatesInput) (*elbv2.DescribeListenerCertificatesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	l, err := s.listenerByARN(aws.ToString(in.ListenerArn))
	if err != nil {
		return nil, err
	}
	var list []lbt.Certificate
	for _, arn := range l.certs {
		list = append(list, lbt.Certificate{CertificateArn: aws.String(arn), IsDefault: aws.Bool(true)})
	}
	for _, arn := range l.extra {
		list = append(list, lbt.Certificate{CertificateArn: aws.String(arn), IsDefault: aws.Bool(false)})
	}
	page, next := paginate(list, in.PageSize, in.Marker)
	return &elbv2.DescribeListenerCertificatesOutput{Certificates: page, NextMarker: next}, nil
}

// RemoveListenerCertificates: "You can't remove the default certificate for
// a listener. To replace the default certificate, call ModifyListener"
// (OperationNotPermitted, RemoveListenerCertificates reference).
func (s *elbv2Sim) RemoveListenerCertificates(_ context.Context, in *elbv2.RemoveListenerCertificatesInput) (*elbv2.RemoveListenerCertificatesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	l, err := s.listenerByARN(aws.ToString(in.ListenerArn))
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, c := range in.Certificates {
		arn := aws.ToString(c.CertificateArn)
		if contains(l.certs, arn) {
			return nil, apiError("OperationNotPermitted", "The default certificate '%s' cannot be removed from listener '%s'", arn, l.arn)
		}
		gone = append(gone, arn)
	}
	kept := l.extra[:0]
	for _, arn := range l.extra {
		if !contains(gone, arn) {
			kept = append(kept, arn)
		}
	}
	l.extra = kept
	s.c.acm().released(gone, l.lb)
	return &elbv2.RemoveListenerCertificatesOutput{}, nil
}

// ---- Actions ----

func actionsUse(actions []lbt.Action, tgARN string) bool {
	for _, a := range actions {
		if aws.ToString(a.TargetGroupArn) == tgARN {
			return true
		}
		if a.ForwardConfig != nil {
			for _, t := range a.ForwardConfig.TargetGroups {
				if aws.ToString(t.TargetGroupArn) == tgARN {
					return true
				}
			}
		}
	}
	return false
}

var fixedStatusRE = regexp.MustCompile(`^[245]\d\d$`)

// normalizeActions validates actions for a listener of lb and returns them as
// DescribeListeners/DescribeRules show them: Order set, a forward action with
// both its ForwardConfig (weights default 1, stickiness disabled unless set)
// and, for a single target group, TargetGroupArn.
func (s *elbv2Sim) normalizeActions(lb *elbLB, proto string, port int32, actions []lbt.Action) ([]lbt.Action, error) {
	if len(actions) == 0 {
		return nil, apiError("ValidationError", "At least one action must be specified")
	}
	terminal := 0
	out := make([]lbt.Action, 0, len(actions))
	for i, a := range actions {
		n := lbt.Action{Type: a.Type, Order: a.Order}
		if n.Order == nil {
			n.Order = aws.Int32(int32(i + 1))
		}
		switch a.Type {
		case lbt.ActionTypeEnumForward:
			terminal++
			fc, err := s.forwardConfig(lb, a)
			if err != nil {
				return nil, err
			}
			n.ForwardConfig = fc
			if len(fc.TargetGroups) == 1 {
				n.TargetGroupArn = fc.TargetGroups[0].TargetGroupArn
			}
		case lbt.ActionTypeEnumRedirect:
			terminal++
			if err := checkRedirect(proto, port, a.RedirectConfig); err != nil {
				return nil, err
			}
			rc := *a.RedirectConfig
			n.RedirectConfig = &rc
		case lbt.ActionTypeEnumFixedResponse:
			terminal++
			if a.FixedResponseConfig == nil || !fixedStatusRE.MatchString(aws.ToString(a.FixedResponseConfig.StatusCode)) {
				return nil, apiError("ValidationError", "A fixed-response action needs a 2XX, 4XX or 5XX status code")
			}
			fr := *a.FixedResponseConfig
			n.FixedResponseConfig = &fr
		case "":
			return nil, apiError("ValidationError", "An action must specify a type")
		default:
			return nil, fmt.Errorf("awssim: %s actions are not simulated", a.Type)
		}
		out = append(out, n)
	}
	if terminal != 1 {
		return nil, apiError("ValidationError", "Exactly one forward, redirect or fixed-response action must be specified")
	}
	sort.SliceStable(out, func(i, j int) bool { return aws.ToInt32(out[i].Order) < aws.ToInt32(out[j].Order) })
	return out, nil
}

func (s *elbv2Sim) forwardConfig(lb *elbLB, a lbt.Action) (*lbt.ForwardActionConfig, error) {
	var tuples []lbt.TargetGroupTuple
	if a.ForwardConfig != nil {
		tuples = a.ForwardConfig.TargetGroups
	}
	if arn := aws.ToString(a.TargetGroupArn); arn != "" {
		if len(tuples) > 1 || len(tuples) == 1 && aws.ToString(tuples[0].TargetGroupArn) != arn {
			return nil, apiError("ValidationError", "You cannot specify both a target group ARN and a forward config with different target groups")
		}
		if len(tuples) == 0 {
			tuples = []lbt.TargetGroupTuple{{TargetGroupArn: aws.String(arn)}}
		}
	}
	if len(tuples) == 0 {
		return nil, apiError("ValidationError", "A forward action must specify a target group")
	}
	if len(tuples) > MaxTargetGroupsPerAction {
		return nil, apiError("ValidationError", "A forward action can have at most %d target groups", MaxTargetGroupsPerAction)
	}
	fc := &lbt.ForwardActionConfig{}
	seen := map[string]bool{}
	for _, t := range tuples {
		arn := aws.ToString(t.TargetGroupArn)
		if seen[arn] {
			return nil, apiError("ValidationError", "Target group '%s' is specified more than once", arn)
		}
		seen[arn] = true
		tg, err := s.tgByARN(arn)
		if err != nil {
			return nil, err
		}
		if tg.protocol != "HTTP" && tg.protocol != "HTTPS" {
			return nil, apiError("IncompatibleProtocols", "The target group protocol '%s' is not compatible with an Application Load Balancer", tg.protocol)
		}
		if tg.vpc != lb.vpc {
			return nil, apiError("InvalidConfigurationRequest", "Target group '%s' is in VPC '%s' and the load balancer in '%s'", arn, tg.vpc, lb.vpc)
		}
		for _, other := range s.tgLoadBalancers(arn) {
			if other != lb.arn {
				// Quotas: load balancers per target group 1.
				return nil, apiError("TargetGroupAssociationLimit", "The following target groups cannot be associated with more than one load balancer: %s", arn)
			}
		}
		w := int32(1)
		if t.Weight != nil {
			w = *t.Weight
		}
		if w < 0 || w > 999 {
			return nil, apiError("ValidationError", "Target group weights must be between 0 and 999")
		}
		fc.TargetGroups = append(fc.TargetGroups, lbt.TargetGroupTuple{TargetGroupArn: aws.String(arn), Weight: aws.Int32(w)})
	}
	st := &lbt.TargetGroupStickinessConfig{Enabled: aws.Bool(false)}
	if a.ForwardConfig != nil && a.ForwardConfig.TargetGroupStickinessConfig != nil && aws.ToBool(a.ForwardConfig.TargetGroupStickinessConfig.Enabled) {
		d := aws.ToInt32(a.ForwardConfig.TargetGroupStickinessConfig.DurationSeconds)
		if d < 1 || d > 604800 {
			return nil, apiError("ValidationError", "Target group stickiness duration must be between 1 and 604800 seconds")
		}
		st = &lbt.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(d)}
	}
	fc.TargetGroupStickinessConfig = st
	return fc, nil
}

// checkRedirect: RedirectActionConfig "You must modify at least one of the
// following components to avoid a redirect loop: protocol, hostname, port, or
// path"; "You can redirect HTTP to HTTP, HTTP to HTTPS, and HTTPS to HTTPS.
// You can't redirect HTTPS to HTTP."
func checkRedirect(proto string, port int32, rc *lbt.RedirectActionConfig) error {
	if rc == nil || (rc.StatusCode != lbt.RedirectActionStatusCodeEnumHttp301 && rc.StatusCode != lbt.RedirectActionStatusCodeEnumHttp302) {
		return apiError("ValidationError", "A redirect action needs status code HTTP_301 or HTTP_302")
	}
	to := aws.ToString(rc.Protocol)
	if to == "" {
		to = "#{protocol}"
	}
	if to != "#{protocol}" && to != "HTTP" && to != "HTTPS" {
		return apiError("ValidationError", "Redirect protocol '%s' must be HTTP, HTTPS or #{protocol}", to)
	}
	if proto == "HTTPS" && to == "HTTP" {
		return apiError("InvalidLoadBalancerAction", "You can't redirect HTTPS to HTTP")
	}
	if p := aws.ToString(rc.Port); p != "" && p != "#{port}" && !validPortString(p) {
		return apiError("ValidationError", "Redirect port '%s' must be 1-65535 or #{port}", p)
	}
	same := func(v *string, keyword, current string) bool {
		x := aws.ToString(v)
		return x == "" || x == keyword || x == current
	}
	if same(rc.Protocol, "#{protocol}", proto) && same(rc.Port, "#{port}", strconv.Itoa(int(port))) &&
		same(rc.Host, "#{host}", "") && same(rc.Path, "/#{path}", "") {
		return apiError("InvalidLoadBalancerAction", "The redirect must change the protocol, host, port or path, or it would loop")
	}
	return nil
}

// ---- Listeners ----

func (s *elbv2Sim) listenerByARN(arn string) (*elbListener, error) {
	l, ok := s.listeners[arn]
	if !ok {
		return nil, apiError("ListenerNotFound", "Listener '%s' not found", arn)
	}
	return l, nil
}

func (s *elbv2Sim) listenerOut(l *elbListener) lbt.Listener {
	out := lbt.Listener{ListenerArn: aws.String(l.arn), LoadBalancerArn: aws.String(l.lb), Port: aws.Int32(l.port),
		Protocol: lbt.ProtocolEnum(l.protocol), SslPolicy: nilIfEmpty(l.sslPolicy), AlpnPolicy: append([]string(nil), l.alpn...),
		DefaultActions: append([]lbt.Action(nil), s.rules[l.defaultRule].actions...)}
	for _, c := range l.certs {
		out.Certificates = append(out.Certificates, lbt.Certificate{CertificateArn: aws.String(c)})
	}
	if l.protocol == string(lbt.ProtocolEnumHttp) && s.httpSSLPolicy != "" {
		out.SslPolicy = aws.String(s.httpSSLPolicy)
	}
	return out
}

// listenerSettings validates protocol, port, policy and certificates.
func (s *elbv2Sim) listenerSettings(proto lbt.ProtocolEnum, port int32, policy *string, certs []lbt.Certificate) (string, []string, error) {
	switch proto {
	case lbt.ProtocolEnumHttp:
		if policy != nil || len(certs) > 0 {
			return "", nil, apiError("ValidationError", "A security policy and certificates can only be set on HTTPS listeners")
		}
		return "", nil, nil
	case lbt.ProtocolEnumHttps:
		p := aws.ToString(policy)
		if p == "" {
			p = defaultSSLPolicy
		}
		if !contains(sslPolicies, p) {
			return "", nil, apiError("SSLPolicyNotFound", "SSL policy '%s' not found", p)
		}
		cs, err := s.checkCerts(certs)
		return p, cs, err
	case "":
		return "", nil, apiError("ValidationError", "A protocol must be specified")
	default:
		return "", nil, apiError("UnsupportedProtocol", "Protocol '%s' is not supported by Application Load Balancers", proto)
	}
}

func (s *elbv2Sim) CreateListener(_ context.Context, in *elbv2.CreateListenerInput) (*elbv2.CreateListenerOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	lb, err := s.lbByARN(aws.ToString(in.LoadBalancerArn))
	if err != nil {
		return nil, err
	}
	port := aws.ToInt32(in.Port)
	if port < 1 || port > 65535 {
		return nil, apiError("ValidationError", "A port between 1 and 65535 must be specified")
	}
	policy, certs, err := s.listenerSettings(in.Protocol, port, in.SslPolicy, in.Certificates)
	if err != nil {
		return nil, err
	}
	if len(in.AlpnPolicy) > 0 {
		return nil, apiError("ValidationError", "ALPN policies apply to TLS listeners of Network Load Balancers only")
	}
	actions, err := s.normalizeActions(lb, string(in.Protocol), port, in.DefaultActions)
	if err != nil {
		return nil, err
	}
	count := 0
	for _, l := range s.listeners {
		if l.lb != lb.arn {
			continue
		}
		count++
		if l.port != port {
			continue
		}
		// "This operation is idempotent ... If you attempt to create multiple
		// listeners with the same settings, each call succeeds."
		if l.protocol == string(in.Protocol) && l.sslPolicy == policy && reflect.DeepEqual(l.certs, certs) &&
			reflect.DeepEqual(s.rules[l.defaultRule].actions, actions) {
			return &elbv2.CreateListenerOutput{Listeners: []lbt.Listener{s.listenerOut(l)}}, nil
		}
		return nil, apiError("DuplicateListener", "A listener already exists on this port for this load balancer '%s'", lb.arn)
	}
	if count >= maxListenersPerLB {
		return nil, apiError("TooManyListeners", "You have reached the limit of %d listeners for load balancer '%s'", maxListenersPerLB, lb.arn)
	}
	opened := s.associating(actions)
	l := &elbListener{lb: lb.arn, id: s.hexID(), port: port, protocol: string(in.Protocol), sslPolicy: policy, certs: certs}
	l.arn = s.arn("listener/app/" + lb.name + "/" + lb.id + "/" + l.id)
	def := &elbRule{listener: l.arn, isDefault: true, actions: actions}
	def.arn = s.arn("listener-rule/app/" + lb.name + "/" + lb.id + "/" + l.id + "/" + s.hexID())
	l.defaultRule = def.arn
	s.listeners[l.arn] = l
	s.rules[def.arn] = def
	s.tags[l.arn] = lbTags(in.Tags)
	opened()
	s.c.openWindow(WinELBDescribe, l.arn, nil)
	return &elbv2.CreateListenerOutput{Listeners: []lbt.Listener{s.listenerOut(l)}}, nil
}

func (s *elbv2Sim) DescribeListeners(_ context.Context, in *elbv2.DescribeListenersInput) (*elbv2.DescribeListenersOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	var ls []*elbListener
	switch {
	case len(in.ListenerArns) > 0:
		for _, a := range in.ListenerArns {
			l, err := s.listenerByARN(a)
			if err != nil {
				return nil, err
			}
			if s.c.inWindow(WinELBDescribe, l.arn) {
				return nil, apiError("ListenerNotFound", "Listener '%s' not found", a)
			}
			ls = append(ls, l)
		}
	case in.LoadBalancerArn != nil:
		if _, err := s.lbByARN(aws.ToString(in.LoadBalancerArn)); err != nil {
			return nil, err
		}
		for _, l := range s.listeners {
			if l.lb == aws.ToString(in.LoadBalancerArn) {
				if s.c.windowOpen(WinELBDescribe, l.arn) && s.c.inWindow(WinELBDescribe, l.arn) {
					continue
				}
				ls = append(ls, l)
			}
		}
		sort.Slice(ls, func(i, j int) bool { return ls[i].port < ls[j].port })
	default:
		return nil, apiError("ValidationError", "A load balancer ARN or listener ARNs must be specified")
	}
	list := make([]lbt.Listener, 0, len(ls))
	for _, l := range ls {
		list = append(list, s.listenerOut(l))
	}
	page, next := paginate(list, in.PageSize, in.Marker)
	return &elbv2.DescribeListenersOutput{Listeners: page, NextMarker: next}, nil
}

// ModifyListener: "Any properties that you do not specify remain unchanged.
// Changing the protocol from HTTPS to HTTP ... removes the security policy and
// default certificate properties. If you change the protocol from HTTP to
// HTTPS ... you must add the security policy and default certificate
// properties."
func (s *elbv2Sim) ModifyListener(_ context.Context, in *elbv2.ModifyListenerInput) (*elbv2.ModifyListenerOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	l, err := s.listenerByARN(aws.ToString(in.ListenerArn))
	if err != nil {
		return nil, err
	}
	lb := s.lbs[l.lb]
	port := l.port
	if in.Port != nil {
		port = *in.Port
		if port < 1 || port > 65535 {
			return nil, apiError("ValidationError", "A port between 1 and 65535 must be specified")
		}
		for _, o := range s.listeners {
			if o.lb == l.lb && o.arn != l.arn && o.port == port {
				return nil, apiError("DuplicateListener", "A listener already exists on this port for this load balancer '%s'", l.lb)
			}
		}
	}
	proto := lbt.ProtocolEnum(l.protocol)
	if in.Protocol != "" {
		proto = in.Protocol
	}
	policy, certs := in.SslPolicy, in.Certificates
	if proto == lbt.ProtocolEnumHttps {
		if policy == nil && l.sslPolicy != "" {
			policy = aws.String(l.sslPolicy)
		}
		if len(certs) == 0 {
			for _, c := range l.certs {
				certs = append(certs, lbt.Certificate{CertificateArn: aws.String(c)})
			}
		}
	}
	newPolicy, newCerts, err := s.listenerSettings(proto, port, policy, certs)
	if err != nil {
		return nil, err
	}
	def := s.rules[l.defaultRule]
	actions := def.actions
	if len(in.DefaultActions) > 0 {
		if actions, err = s.normalizeActions(lb, string(proto), port, in.DefaultActions); err != nil {
			return nil, err
		}
	}
	oldCerts := l.certs
	l.port, l.protocol, l.sslPolicy, l.certs = port, string(proto), newPolicy, newCerts
	s.c.acm().released(oldCerts, l.lb)
	opened := s.associating(actions)
	def.actions = actions
	opened()
	return &elbv2.ModifyListenerOutput{Listeners: []lbt.Listener{s.listenerOut(l)}}, nil
}

func (s *elbv2Sim) deleteListener(arn string) {
	if l := s.listeners[arn]; l != nil {
		defer s.c.acm().released(append(append([]string(nil), l.certs...), l.extra...), l.lb)
	}
	for ra, r := range s.rules {
		if r.listener == arn {
			delete(s.rules, ra)
			delete(s.tags, ra)
		}
	}
	delete(s.listeners, arn)
	delete(s.tags, arn)
}

func (s *elbv2Sim) DeleteListener(_ context.Context, in *elbv2.DeleteListenerInput) (*elbv2.DeleteListenerOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	if _, err := s.listenerByARN(aws.ToString(in.ListenerArn)); err != nil {
		return nil, err
	}
	s.deleteListener(aws.ToString(in.ListenerArn))
	return &elbv2.DeleteListenerOutput{}, nil
}

// ---- Rules ----

func (s *elbv2Sim) ruleOut(r *elbRule) lbt.Rule {
	p := "default"
	if !r.isDefault {
		p = strconv.Itoa(r.priority)
	}
	return lbt.Rule{RuleArn: aws.String(r.arn), Priority: aws.String(p), IsDefault: aws.Bool(r.isDefault),
		Conditions: append([]lbt.RuleCondition(nil), r.conditions...), Actions: append([]lbt.Action(nil), r.actions...)}
}

func (s *elbv2Sim) rulesOf(listener string) []*elbRule {
	var out []*elbRule
	for _, r := range s.rules {
		if r.listener == listener {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].isDefault != out[j].isDefault {
			return !out[i].isDefault
		}
		return out[i].priority < out[j].priority
	})
	return out
}

func (s *elbv2Sim) countRules(lbARN string) int {
	n := 0
	for _, r := range s.rules {
		if l := s.listeners[r.listener]; !r.isDefault && l != nil && l.lb == lbARN {
			n++
		}
	}
	return n
}

func checkPriority(p int32) error {
	if p < MinRulePriority || p > MaxRulePriority {
		return apiError("ValidationError", "Priority '%d' must be between %d and %d", p, MinRulePriority, MaxRulePriority)
	}
	return nil
}

func (s *elbv2Sim) priorityInUse(listener string, p int, except map[string]bool) bool {
	for _, r := range s.rules {
		if r.listener == listener && !r.isDefault && r.priority == p && !except[r.arn] {
			return true
		}
	}
	return false
}

func (s *elbv2Sim) CreateRule(_ context.Context, in *elbv2.CreateRuleInput) (*elbv2.CreateRuleOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	l, err := s.listenerByARN(aws.ToString(in.ListenerArn))
	if err != nil {
		return nil, err
	}
	if len(in.Transforms) > 0 {
		return nil, fmt.Errorf("awssim: rule transforms are not simulated")
	}
	if err := ValidateRuleConditions(in.Conditions); err != nil {
		return nil, err
	}
	p := aws.ToInt32(in.Priority)
	if err := checkPriority(p); err != nil {
		return nil, err
	}
	lb := s.lbs[l.lb]
	actions, err := s.normalizeActions(lb, l.protocol, l.port, in.Actions)
	if err != nil {
		return nil, err
	}
	if s.priorityInUse(l.arn, int(p), nil) {
		return nil, apiError("PriorityInUse", "Priority '%d' is currently in use", p)
	}
	if s.countRules(lb.arn) >= MaxRulesPerLoadBalancer {
		return nil, apiError("TooManyRules", "The maximum number of rules (%d) for load balancer '%s' has been reached", MaxRulesPerLoadBalancer, lb.arn)
	}
	opened := s.associating(actions)
	r := &elbRule{listener: l.arn, priority: int(p), conditions: append([]lbt.RuleCondition(nil), in.Conditions...), actions: actions}
	r.arn = s.arn("listener-rule/app/" + lb.name + "/" + lb.id + "/" + l.id + "/" + s.hexID())
	s.rules[r.arn] = r
	s.tags[r.arn] = lbTags(in.Tags)
	opened()
	return &elbv2.CreateRuleOutput{Rules: []lbt.Rule{s.ruleOut(r)}}, nil
}

func (s *elbv2Sim) DescribeRules(_ context.Context, in *elbv2.DescribeRulesInput) (*elbv2.DescribeRulesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	var rs []*elbRule
	switch {
	case len(in.RuleArns) > 0:
		for _, a := range in.RuleArns {
			r, ok := s.rules[a]
			if !ok {
				return nil, apiError("RuleNotFound", "One or more rules not found")
			}
			rs = append(rs, r)
		}
	case in.ListenerArn != nil:
		if _, err := s.listenerByARN(aws.ToString(in.ListenerArn)); err != nil {
			return nil, err
		}
		rs = s.rulesOf(aws.ToString(in.ListenerArn))
	default:
		return nil, apiError("ValidationError", "A listener ARN or rule ARNs must be specified")
	}
	list := make([]lbt.Rule, 0, len(rs))
	for _, r := range rs {
		list = append(list, s.ruleOut(r))
	}
	page, next := paginate(list, in.PageSize, in.Marker)
	return &elbv2.DescribeRulesOutput{Rules: page, NextMarker: next}, nil
}

func (s *elbv2Sim) ModifyRule(_ context.Context, in *elbv2.ModifyRuleInput) (*elbv2.ModifyRuleOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	r, ok := s.rules[aws.ToString(in.RuleArn)]
	if !ok {
		return nil, apiError("RuleNotFound", "One or more rules not found")
	}
	if len(in.Transforms) > 0 {
		return nil, fmt.Errorf("awssim: rule transforms are not simulated")
	}
	conds := r.conditions
	if len(in.Conditions) > 0 {
		if r.isDefault {
			return nil, apiError("OperationNotPermitted", "The default rule cannot have conditions")
		}
		if err := ValidateRuleConditions(in.Conditions); err != nil {
			return nil, err
		}
		conds = append([]lbt.RuleCondition(nil), in.Conditions...)
	}
	actions := r.actions
	if len(in.Actions) > 0 {
		l := s.listeners[r.listener]
		var err error
		if actions, err = s.normalizeActions(s.lbs[l.lb], l.protocol, l.port, in.Actions); err != nil {
			return nil, err
		}
	}
	opened := s.associating(actions)
	r.conditions, r.actions = conds, actions
	opened()
	return &elbv2.ModifyRuleOutput{Rules: []lbt.Rule{s.ruleOut(r)}}, nil
}

func (s *elbv2Sim) SetRulePriorities(_ context.Context, in *elbv2.SetRulePrioritiesInput) (*elbv2.SetRulePrioritiesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	changing := map[string]bool{}
	newP := map[string]map[int]bool{} // listener -> priorities being set
	for _, rp := range in.RulePriorities {
		r, ok := s.rules[aws.ToString(rp.RuleArn)]
		if !ok {
			return nil, apiError("RuleNotFound", "One or more rules not found")
		}
		if r.isDefault {
			return nil, apiError("OperationNotPermitted", "The priority of the default rule cannot be changed")
		}
		p := aws.ToInt32(rp.Priority)
		if err := checkPriority(p); err != nil {
			return nil, err
		}
		if newP[r.listener] == nil {
			newP[r.listener] = map[int]bool{}
		}
		if newP[r.listener][int(p)] {
			return nil, apiError("PriorityInUse", "Priority '%d' is currently in use", p)
		}
		newP[r.listener][int(p)] = true
		changing[r.arn] = true
	}
	for _, rp := range in.RulePriorities {
		r := s.rules[aws.ToString(rp.RuleArn)]
		if s.priorityInUse(r.listener, int(aws.ToInt32(rp.Priority)), changing) {
			return nil, apiError("PriorityInUse", "Priority '%d' is currently in use", aws.ToInt32(rp.Priority))
		}
	}
	out := &elbv2.SetRulePrioritiesOutput{}
	for _, rp := range in.RulePriorities {
		r := s.rules[aws.ToString(rp.RuleArn)]
		r.priority = int(aws.ToInt32(rp.Priority))
		out.Rules = append(out.Rules, s.ruleOut(r))
	}
	return out, nil
}

func (s *elbv2Sim) DeleteRule(_ context.Context, in *elbv2.DeleteRuleInput) (*elbv2.DeleteRuleOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	r, ok := s.rules[aws.ToString(in.RuleArn)]
	if !ok {
		return nil, apiError("RuleNotFound", "One or more rules not found")
	}
	if r.isDefault {
		return nil, apiError("OperationNotPermitted", "The default rule cannot be deleted")
	}
	delete(s.rules, r.arn)
	delete(s.tags, r.arn)
	return &elbv2.DeleteRuleOutput{}, nil
}
