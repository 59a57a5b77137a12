package awssim

import (
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// SelectRule returns the rule a request is handled by: [rules] "Rules are
// evaluated in priority order, from the lowest value to the highest value.
// The default rule is evaluated last." Rules are as DescribeRules returns
// them (Priority a decimal string, or "default" with IsDefault set). ok is
// false when no rule matches and there is no default rule.
func SelectRule(rules []lbt.Rule, req HTTPRequest, o MatchOptions) (rule lbt.Rule, ok bool) {
	type ranked struct {
		p int
		r lbt.Rule
	}
	var list []ranked
	var def *lbt.Rule
	for i := range rules {
		r := rules[i]
		if aws.ToBool(r.IsDefault) || aws.ToString(r.Priority) == "default" {
			def = &rules[i]
			continue
		}
		p, err := strconv.Atoi(aws.ToString(r.Priority))
		if err != nil {
			continue
		}
		list = append(list, ranked{p, r})
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].p < list[j].p })
	for _, x := range list {
		if MatchRuleWith(x.r.Conditions, req, o) {
			return x.r, true
		}
	}
	if def != nil {
		return *def, true
	}
	return lbt.Rule{}, false
}

// WeightedTargetGroup is one target group of a forward action.
type WeightedTargetGroup struct {
	ARN    string
	Weight int32
}

// RouteResult is what a listener does with a request.
type RouteResult struct {
	RuleARN      string
	Priority     string // "default" for the default rule
	ActionType   string // forward, redirect, fixed-response
	TargetGroups []WeightedTargetGroup
	Redirect     *lbt.RedirectActionConfig
	FixedStatus  string
}

// ErrNotForwarded is returned by Route for a request that a redirect or
// fixed-response action answers (errors.As a *NotForwardedError for details).
var ErrNotForwarded = errors.New("request not forwarded to a target group")

// NotForwardedError says which action answered instead.
type NotForwardedError struct{ Result RouteResult }

func (e *NotForwardedError) Error() string {
	return fmt.Sprintf("%v: rule %s answers with a %s action", ErrNotForwarded, e.Result.Priority, e.Result.ActionType)
}
func (e *NotForwardedError) Unwrap() error { return ErrNotForwarded }

// RouteDetail evaluates a listener's rules for a request, as the load
// balancer does (c.mu is taken).
func (c *Cloud) RouteDetail(listenerARN string, req HTTPRequest, o MatchOptions) (RouteResult, error) {
	c.lock()
	defer c.unlock()
	s := c.elbv2()
	l, err := s.listenerByARN(listenerARN)
	if err != nil {
		return RouteResult{}, err
	}
	if lb := s.lbs[l.lb]; lb == nil || s.lbState(lb) != lbt.LoadBalancerStateEnumActive {
		return RouteResult{}, fmt.Errorf("load balancer %s is not active", l.lb)
	}
	var rules []lbt.Rule
	for _, r := range s.rulesOf(listenerARN) {
		rules = append(rules, s.ruleOut(r))
	}
	rule, ok := SelectRule(rules, req, o)
	if !ok {
		return RouteResult{}, fmt.Errorf("listener %s has no default rule", listenerARN)
	}
	res := RouteResult{RuleARN: aws.ToString(rule.RuleArn), Priority: aws.ToString(rule.Priority)}
	for _, a := range rule.Actions {
		switch a.Type {
		case lbt.ActionTypeEnumForward:
			res.ActionType = string(a.Type)
			for _, t := range a.ForwardConfig.TargetGroups {
				res.TargetGroups = append(res.TargetGroups, WeightedTargetGroup{ARN: aws.ToString(t.TargetGroupArn), Weight: aws.ToInt32(t.Weight)})
			}
		case lbt.ActionTypeEnumRedirect:
			res.ActionType, res.Redirect = string(a.Type), a.RedirectConfig
		case lbt.ActionTypeEnumFixedResponse:
			res.ActionType, res.FixedStatus = string(a.Type), aws.ToString(a.FixedResponseConfig.StatusCode)
		}
	}
	return res, nil
}

// RouteCandidates returns the target groups (weight above zero) that a
// request may be forwarded to.
func (c *Cloud) RouteCandidates(listenerARN string, req HTTPRequest) ([]string, error) {
	res, err := c.RouteDetail(listenerARN, req, MatchOptions{})
	if err != nil {
		return nil, err
	}
	if res.ActionType != string(lbt.ActionTypeEnumForward) {
		return nil, &NotForwardedError{Result: res}
	}
	var out []string
	for _, t := range res.TargetGroups {
		if t.Weight > 0 {
			out = append(out, t.ARN)
		}
	}
	return out, nil
}

// Route returns the target group a request is forwarded to. A weighted
// forward picks one deterministically from a hash of the request (method,
// host, path and query), in proportion to the weights. Group stickiness
// (the AWSALBTG cookie) is not modelled: a client without the cookie is
// routed as here.
func (c *Cloud) Route(listenerARN string, req HTTPRequest) (string, error) {
	res, err := c.RouteDetail(listenerARN, req, MatchOptions{})
	if err != nil {
		return "", err
	}
	if res.ActionType != string(lbt.ActionTypeEnumForward) {
		return "", &NotForwardedError{Result: res}
	}
	return PickWeighted(res.TargetGroups, req)
}

// PickWeighted chooses among weighted target groups from a hash of the
// request.
func PickWeighted(tgs []WeightedTargetGroup, req HTTPRequest) (string, error) {
	var total uint64
	for _, t := range tgs {
		if t.Weight > 0 {
			total += uint64(t.Weight)
		}
	}
	if total == 0 {
		return "", errors.New("every target group of the forward action has weight 0")
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(req.Method + " " + req.Host + " " + req.Path + "?" + req.RawQuery))
	n := h.Sum64() % total
	for _, t := range tgs {
		if t.Weight <= 0 {
			continue
		}
		if n < uint64(t.Weight) {
			return t.ARN, nil
		}
		n -= uint64(t.Weight)
	}
	return "", errors.New("unreachable")
}
