package shard

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Listener rule quotas of an Application Load Balancer.
//
//   - "Quotas for your Application Load Balancers", Rules
//     (docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html):
//     rules per Application Load Balancer (excluding default rules) 100,
//     adjustable; condition values per rule 5; condition wildcards per rule
//     5; match evaluations per rule 5 (the last three not adjustable).
//   - "Listener rules" (listener-rules.html): "You can specify up to three
//     comparison strings per condition and up to five per rule"; at most one
//     path-pattern condition per rule.
//   - ELBv2 API reference, PathPatternConditionConfig and
//     QueryStringConditionConfig: each value or regex at most 128
//     characters.
//
// The rules quota counts every listener of the load balancer, and while a
// certificate is being added both the HTTP and the HTTPS listener carry board
// rules for a moment, so one listener's rules must fit in half of it.
const (
	MaxValuesPerCondition   = 3
	MaxValuesPerRule        = 5
	MaxWildcardsPerRule     = 5
	MaxValueLength          = 128
	MaxRulesPerLoadBalancer = 100
	MaxRulesPerListener     = MaxRulesPerLoadBalancer / 2
)

// QuotaError names the rule and the quota it breaks.
type QuotaError struct {
	Priority int
	Quota    string
	Got, Max int
}

func (e *QuotaError) Error() string {
	if e.Priority == 0 {
		return fmt.Sprintf("listener rules: %s is %d, the quota is %d", e.Quota, e.Got, e.Max)
	}
	return fmt.Sprintf("listener rule %d: %s is %d, the quota is %d", e.Priority, e.Quota, e.Got, e.Max)
}

// CheckRules checks rules against the quotas above. Wildcards are counted
// conservatively: every '*' and '?' of a plain value, and every '*' of a
// regex value (AWS does not say whether regex values count).
func CheckRules(rules []Rule) error {
	if len(rules) > MaxRulesPerListener {
		return &QuotaError{Quota: "rules per listener (half the per-load-balancer quota)", Got: len(rules), Max: MaxRulesPerListener}
	}
	seen := map[int]bool{}
	for _, r := range rules {
		if seen[r.Priority] {
			return fmt.Errorf("listener rule %d: priority used twice", r.Priority)
		}
		seen[r.Priority] = true
		values, wildcards := 0, 0
		paths := 0
		for _, c := range r.Conditions {
			strs, n, w := conditionStrings(c)
			if n == 0 {
				return fmt.Errorf("listener rule %d: %s condition without values", r.Priority, aws.ToString(c.Field))
			}
			if n > MaxValuesPerCondition {
				return &QuotaError{Priority: r.Priority, Quota: "values in one " + aws.ToString(c.Field) + " condition", Got: n, Max: MaxValuesPerCondition}
			}
			if aws.ToString(c.Field) == FieldPathPattern {
				paths++
			}
			for _, v := range strs {
				if len(v) > MaxValueLength {
					return &QuotaError{Priority: r.Priority, Quota: fmt.Sprintf("length of %q", v), Got: len(v), Max: MaxValueLength}
				}
			}
			values += n
			wildcards += w
		}
		if paths > 1 {
			return fmt.Errorf("listener rule %d: more than one path-pattern condition", r.Priority)
		}
		if values > MaxValuesPerRule {
			return &QuotaError{Priority: r.Priority, Quota: "condition values", Got: values, Max: MaxValuesPerRule}
		}
		if wildcards > MaxWildcardsPerRule {
			return &QuotaError{Priority: r.Priority, Quota: "wildcards", Got: wildcards, Max: MaxWildcardsPerRule}
		}
	}
	return nil
}

// conditionStrings returns the strings of a condition (each limited in
// length), its number of match evaluations (a query key/value pair is one)
// and its wildcards.
func conditionStrings(c elbv2types.RuleCondition) (strs []string, evaluations, wildcards int) {
	plain := func(v string) {
		strs = append(strs, v)
		wildcards += strings.Count(v, "*") + strings.Count(v, "?")
	}
	regex := func(v string) {
		strs = append(strs, v)
		wildcards += strings.Count(v, "*") // '?' is a quantifier in a regex
	}
	for _, v := range c.Values {
		plain(v)
		evaluations++
	}
	for _, v := range c.RegexValues {
		regex(v)
		evaluations++
	}
	if p := c.PathPatternConfig; p != nil {
		for _, v := range p.Values {
			plain(v)
			evaluations++
		}
		for _, v := range p.RegexValues {
			regex(v)
			evaluations++
		}
	}
	if q := c.QueryStringConfig; q != nil {
		for _, kv := range q.Values {
			if kv.Key != nil {
				plain(aws.ToString(kv.Key))
			}
			plain(aws.ToString(kv.Value))
			evaluations++
		}
	}
	return strs, evaluations, wildcards
}
