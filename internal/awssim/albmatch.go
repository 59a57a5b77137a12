package awssim

// albmatch.go evaluates Application Load Balancer listener rule conditions
// against a request, as pure functions, so routing designs (board-affinity
// sharding) can be checked over many requests without a simulated account.
//
// Sources (quoted where they decide behaviour):
//   - ALB user guide, "Condition types for listener rules"
//     (docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html),
//     below [conditions].
//   - ELBv2 API reference, RuleCondition, PathPatternConditionConfig,
//     QueryStringConditionConfig, HostHeaderConditionConfig,
//     HttpHeaderConditionConfig (as in aws-sdk-go-v2 service/elasticloadbalancingv2
//     v1.64.0 types/types.go), below [api].
//   - ALB user guide, "Listener rules" (listener-rules.html), below [rules].
//
// What the documentation leaves open, and the choice made here:
//   - Path encoding. [conditions]: "The rule evaluation is performed only after
//     URI normalization occurs" and the pattern "is applied only to visible ASCII
//     characters". We apply RFC 3986 §6.2.2 syntax-based normalization
//     (percent-encoded unreserved characters decoded, hex digits upper-cased,
//     dot segments removed) and match the result, which stays percent-encoded
//     for every other character: a board named "тест" is matched as
//     "/boards/%D1%82%D0%B5%D1%81%D1%82". MatchOptions.DecodePath compares the
//     fully decoded path instead, so a design can be checked under both readings.
//   - Query encoding. [api] says of the query string only that "Any character
//     can be percentage encoded"; the one documented statement about how an ALB
//     treats encoded query parameters is in "Lambda functions as targets":
//     "If the query parameters are URL-encoded, the load balancer does not
//     decode them." We therefore compare keys and values as sent (case-
//     insensitively, so %d1 and %D1 compare equal). MatchOptions.DecodeQuery
//     compares percent-decoded keys and values instead.

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// HTTPRequest is a request as it reaches a listener, in its wire form.
type HTTPRequest struct {
	Method   string
	Path     string // the request path as sent (percent-encoded), without the query
	RawQuery string // the query string as sent, without the leading '?'
	Host     string // the Host header (a port suffix is ignored)
	Headers  http.Header
	SourceIP string // client address, for source-ip conditions
}

// MatchOptions select the alternative reading of what the ALB documentation
// leaves open (see the file comment). The zero value is the default reading.
type MatchOptions struct {
	DecodePath  bool // match path patterns against the percent-decoded path
	DecodeQuery bool // match query-string conditions against percent-decoded keys and values
}

// Rule quotas. [rules]: "You can specify up to three match evaluations per
// condition"; quotas page (load-balancer-limits.html, "Rules"): condition
// values per rule 5, condition wildcards per rule 5, match evaluations per rule
// 5, rules per Application Load Balancer (excluding default rules) 100, target
// groups per action 5. Strings are at most 128 characters ([api]).
const (
	MaxMatchesPerCondition   = 3
	MaxValuesPerRule         = 5
	MaxWildcardsPerRule      = 5
	MaxRulesPerLoadBalancer  = 100
	MaxTargetGroupsPerAction = 5
	MaxConditionValueLength  = 128
	MinRulePriority          = 1
	MaxRulePriority          = 50000
)

// Condition fields ([api] RuleCondition.Field).
const (
	FieldHostHeader  = "host-header"
	FieldHTTPHeader  = "http-header"
	FieldMethod      = "http-request-method"
	FieldPathPattern = "path-pattern"
	FieldQueryString = "query-string"
	FieldSourceIP    = "source-ip"
)

// MatchRule reports whether a request satisfies every condition of a rule,
// under the default reading (see MatchOptions).
func MatchRule(conds []elbv2types.RuleCondition, req HTTPRequest) bool {
	return MatchRuleWith(conds, req, MatchOptions{})
}

// MatchRuleWith is MatchRule with an explicit reading. A rule's conditions
// are combined with AND; the values of one condition with OR ([conditions]:
// "The condition is satisfied if one of the strings matches").
func MatchRuleWith(conds []elbv2types.RuleCondition, req HTTPRequest, o MatchOptions) bool {
	for i := range conds {
		if !matchCondition(&conds[i], req, o) {
			return false
		}
	}
	return true
}

func matchCondition(c *elbv2types.RuleCondition, req HTTPRequest, o MatchOptions) bool {
	values, regexes := conditionValues(c)
	switch aws.ToString(c.Field) {
	case FieldPathPattern:
		p, ok := comparablePath(req.Path, o.DecodePath)
		if !ok {
			return false
		}
		// [conditions]: "A path pattern is case-sensitive".
		return anyWildcard(values, p, false, false) || anyRegex(regexes, p)
	case FieldHostHeader:
		h := hostOnly(req.Host)
		// [conditions]: "A hostname is not case-sensitive".
		return anyWildcard(values, h, true, false) || anyRegex(regexes, h)
	case FieldHTTPHeader:
		if c.HttpHeaderConfig == nil {
			return false
		}
		// [api]: "If the same header appears multiple times in the request, we
		// search them in order until a match is found"; "The comparison strings
		// are case insensitive".
		for _, v := range req.Headers.Values(aws.ToString(c.HttpHeaderConfig.HttpHeaderName)) {
			if anyWildcard(values, v, true, false) || anyRegex(regexes, v) {
				return true
			}
		}
		return false
	case FieldMethod:
		// [conditions]: "The match evaluation is case-sensitive. Wildcard
		// characters are not supported".
		for _, v := range values {
			if v == req.Method {
				return true
			}
		}
		return false
	case FieldQueryString:
		if c.QueryStringConfig == nil {
			return false
		}
		return matchQuery(c.QueryStringConfig.Values, req.RawQuery, o.DecodeQuery)
	case FieldSourceIP:
		addr, err := netip.ParseAddr(req.SourceIP)
		if err != nil || c.SourceIpConfig == nil {
			return false
		}
		for _, v := range c.SourceIpConfig.Values {
			if p, err := netip.ParsePrefix(v); err == nil && p.Contains(addr) {
				return true
			}
		}
		return false
	}
	return false
}

// conditionValues returns the plain and regex values of a condition, from its
// typed config or the legacy top-level Values/RegexValues ([api] RuleCondition:
// "Values ... Specify only when Field is host-header or path-pattern").
func conditionValues(c *elbv2types.RuleCondition) (values, regexes []string) {
	values, regexes = c.Values, c.RegexValues
	switch aws.ToString(c.Field) {
	case FieldPathPattern:
		if c.PathPatternConfig != nil {
			values = append(append([]string(nil), values...), c.PathPatternConfig.Values...)
			regexes = append(append([]string(nil), regexes...), c.PathPatternConfig.RegexValues...)
		}
	case FieldHostHeader:
		if c.HostHeaderConfig != nil {
			values = append(append([]string(nil), values...), c.HostHeaderConfig.Values...)
			regexes = append(append([]string(nil), regexes...), c.HostHeaderConfig.RegexValues...)
		}
	case FieldHTTPHeader:
		if c.HttpHeaderConfig != nil {
			values = append(append([]string(nil), values...), c.HttpHeaderConfig.Values...)
			regexes = append(append([]string(nil), regexes...), c.HttpHeaderConfig.RegexValues...)
		}
	case FieldMethod:
		if c.HttpRequestMethodConfig != nil {
			values = append(append([]string(nil), values...), c.HttpRequestMethodConfig.Values...)
		}
	}
	return values, regexes
}

func hostOnly(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		return h[:i]
	}
	return h
}

// comparablePath validates and normalizes a request path. A request target
// with raw control characters, spaces or non-ASCII bytes is not a valid HTTP
// request (RFC 3986 §2, RFC 9112 §3.2): no rule matches it.
func comparablePath(p string, decode bool) (string, bool) {
	if !strings.HasPrefix(p, "/") {
		return "", false
	}
	for i := 0; i < len(p); i++ {
		if b := p[i]; b <= 0x20 || b >= 0x7f || b == '#' || b == '?' {
			return "", false
		}
	}
	n := NormalizePath(p)
	if !decode {
		return n, true
	}
	d, err := url.PathUnescape(n)
	if err != nil {
		return n, true
	}
	return d, true
}

// NormalizePath applies RFC 3986 §6.2.2 syntax-based normalization to a
// percent-encoded path: percent-encoded unreserved characters (ALPHA, DIGIT,
// "-", ".", "_", "~") are decoded, the hex digits of other escapes are
// upper-cased, and "." and ".." segments are removed (§5.2.4).
func NormalizePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			c := unhex(p[i+1])<<4 | unhex(p[i+2])
			if isUnreserved(c) {
				b.WriteByte(c)
			} else {
				b.WriteByte('%')
				b.WriteString(strings.ToUpper(p[i+1 : i+3]))
			}
			i += 2
			continue
		}
		b.WriteByte(p[i])
	}
	return removeDotSegments(b.String())
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// removeDotSegments is RFC 3986 §5.2.4.
func removeDotSegments(in string) string {
	var out []string
	segs := strings.Split(in, "/")
	for i, s := range segs {
		if i == 0 {
			continue // the empty segment before the leading "/"
		}
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

// matchQuery: [conditions] "route requests based on key/value pairs or values
// in the query string. The match evaluation is not case-sensitive"; [api] "If
// you specify multiple key/value pairs or values, the condition is satisfied if
// one of them is found in the query string", "To search for a literal '*' or
// '?' character in a query string, you must escape these characters in Values
// using a '\' character." A pair without a key matches any parameter's value.
func matchQuery(pairs []elbv2types.QueryStringKeyValuePair, raw string, decode bool) bool {
	type param struct{ k, v string }
	var params []param
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if decode {
			if d, err := url.PathUnescape(k); err == nil {
				k = d
			}
			if d, err := url.PathUnescape(v); err == nil {
				v = d
			}
		}
		params = append(params, param{k, v})
	}
	for _, want := range pairs {
		for _, p := range params {
			if want.Key != nil && !wildcardMatch(aws.ToString(want.Key), p.k, true, true) {
				continue
			}
			if wildcardMatch(aws.ToString(want.Value), p.v, true, true) {
				return true
			}
		}
	}
	return false
}

func anyWildcard(patterns []string, s string, fold, escapes bool) bool {
	for _, p := range patterns {
		if wildcardMatch(p, s, fold, escapes) {
			return true
		}
	}
	return false
}

var regexCache sync.Map // pattern -> *regexp.Regexp (nil when invalid)

func compileRegex(p string) *regexp.Regexp {
	if v, ok := regexCache.Load(p); ok {
		return v.(*regexp.Regexp)
	}
	re, err := regexp.Compile(p)
	if err != nil {
		re = nil
	}
	regexCache.Store(p, re)
	return re
}

// anyRegex: the documented examples ("^\/api\/(.*)$", ".+") anchor
// explicitly, so a regex value is searched for, not matched whole.
func anyRegex(patterns []string, s string) bool {
	for _, p := range patterns {
		if re := compileRegex(p); re != nil && re.MatchString(s) {
			return true
		}
	}
	return false
}

type wildTok struct {
	r    rune
	kind byte // 0 literal, '*' any run, '?' one character
}

// wildcardMatch matches the whole of s against a pattern where '*' matches 0
// or more characters and '?' exactly one; with escapes, "\*" and "\?" are
// literal. Characters are runes (after decoding, a query value may hold
// non-ASCII letters); fold compares case-insensitively.
func wildcardMatch(pattern, s string, fold, escapes bool) bool {
	var toks []wildTok
	for i := 0; i < len(pattern); {
		r, n := utf8.DecodeRuneInString(pattern[i:])
		i += n
		switch {
		case escapes && r == '\\' && i < len(pattern) && (pattern[i] == '*' || pattern[i] == '?'):
			toks = append(toks, wildTok{r: rune(pattern[i])})
			i++
		case r == '*':
			toks = append(toks, wildTok{kind: '*'})
		case r == '?':
			toks = append(toks, wildTok{kind: '?'})
		default:
			toks = append(toks, wildTok{r: r})
		}
	}
	in := []rune(s)
	eq := func(a, b rune) bool {
		switch {
		case a == b:
			return true
		case !fold:
			return false
		case a < utf8.RuneSelf && b < utf8.RuneSelf:
			return lowerASCII(a) == lowerASCII(b)
		}
		return unicode.ToLower(a) == unicode.ToLower(b) || unicode.ToUpper(a) == unicode.ToUpper(b)
	}
	// Iterative matching with single-star backtracking (linear for one star,
	// quadratic in the worst case, never exponential).
	ti, si, star, mark := 0, 0, -1, 0
	for si < len(in) {
		switch {
		case ti < len(toks) && toks[ti].kind == '*':
			star, mark = ti, si
			ti++
		case ti < len(toks) && (toks[ti].kind == '?' || toks[ti].kind == 0 && eq(toks[ti].r, in[si])):
			ti++
			si++
		case star >= 0:
			ti = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].kind == '*' {
		ti++
	}
	return ti == len(toks)
}

func lowerASCII(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}

// countWildcards counts the '*' and '?' of a value (escaped ones excepted).
func countWildcards(v string, escapes bool) int {
	n := 0
	for i := 0; i < len(v); i++ {
		switch {
		case escapes && v[i] == '\\' && i+1 < len(v) && (v[i+1] == '*' || v[i+1] == '?'):
			i++
		case v[i] == '*' || v[i] == '?':
			n++
		}
	}
	return n
}

// conditionError is the ValidationError CreateRule and ModifyRule answer for
// invalid or over-quota conditions.
func conditionError(format string, args ...any) error {
	return apiError("ValidationError", format, args...)
}

var (
	pathValueRE   = regexp.MustCompile(`^[A-Za-z0-9_\-.$/~"'@:+&*?]+$`)
	hostValueRE   = regexp.MustCompile(`^[A-Za-z0-9\-.*?]+$`)
	methodValueRE = regexp.MustCompile(`^[A-Z_-]+$`)
	headerNameRE  = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$") // RFC 7230 token
	unsupportedRE = regexp.MustCompile(`\\[pP]|\(\?[=!<>]|\\[1-9]|[*+?}]\+`)
)

// ValidateRuleConditions checks a rule's conditions as CreateRule and
// ModifyRule do, quotas included, and returns the ValidationError AWS would
// answer (nil when the rule is acceptable).
//
// [rules]/[conditions]: each rule has zero or one host-header,
// http-request-method, path-pattern and source-ip condition and any number of
// http-header and query-string conditions; "the value for a condition can't be
// empty"; value matching or regex matching for host-header, http-header and
// path-pattern only; regexes don't support "lookaheads, lookbehinds,
// backreferences, atomic groups, possessive quantifiers, subroutines,
// recursion, and Unicode character classes (such as \p{L})". The rule-level
// message is the one AWS returns ("A rule can only have '5' condition values",
// quoted in aws/aws-cdk#10065 and aws-cloudformation/cfn-lint#3833); the
// wording of the other messages is ours.
func ValidateRuleConditions(conds []elbv2types.RuleCondition) error {
	if len(conds) == 0 {
		return conditionError("A rule must have at least one condition")
	}
	seen := map[string]bool{}
	total, wild := 0, 0
	for i := range conds {
		c := &conds[i]
		f := aws.ToString(c.Field)
		switch f {
		case FieldHostHeader, FieldMethod, FieldPathPattern, FieldSourceIP:
			if seen[f] {
				return conditionError("A rule can only have one '%s' condition", f)
			}
			seen[f] = true
		case FieldHTTPHeader, FieldQueryString:
		case "":
			return conditionError("A condition must specify a field")
		default:
			return conditionError("Condition field '%s' is not supported", f)
		}
		n, w, err := validateCondition(c)
		if err != nil {
			return err
		}
		if n > MaxMatchesPerCondition {
			return conditionError("A condition can only have '%d' values", MaxMatchesPerCondition)
		}
		total += n
		wild += w
	}
	if total > MaxValuesPerRule {
		return conditionError("A rule can only have '%d' condition values", MaxValuesPerRule)
	}
	if wild > MaxWildcardsPerRule {
		return conditionError("A rule can only have '%d' wildcards", MaxWildcardsPerRule)
	}
	return nil
}

// validateCondition returns the number of match evaluations and wildcards of
// one condition.
func validateCondition(c *elbv2types.RuleCondition) (int, int, error) {
	f := aws.ToString(c.Field)
	configs := 0
	for _, set := range []bool{c.HostHeaderConfig != nil, c.HttpHeaderConfig != nil, c.HttpRequestMethodConfig != nil,
		c.PathPatternConfig != nil, c.QueryStringConfig != nil, c.SourceIpConfig != nil} {
		if set {
			configs++
		}
	}
	wantConfig := map[string]bool{
		FieldHostHeader: c.HostHeaderConfig != nil, FieldHTTPHeader: c.HttpHeaderConfig != nil,
		FieldMethod: c.HttpRequestMethodConfig != nil, FieldPathPattern: c.PathPatternConfig != nil,
		FieldQueryString: c.QueryStringConfig != nil, FieldSourceIP: c.SourceIpConfig != nil,
	}
	if configs > 1 || configs == 1 && !wantConfig[f] {
		return 0, 0, conditionError("Condition '%s' may only carry its own configuration", f)
	}
	legacy := len(c.Values) > 0 || len(c.RegexValues) > 0
	if legacy && configs == 1 {
		return 0, 0, conditionError("You cannot specify both Values and a condition configuration for '%s'", f)
	}
	if len(c.Values) > 0 && f != FieldHostHeader && f != FieldPathPattern {
		return 0, 0, conditionError("Values can only be specified for host-header and path-pattern conditions")
	}
	if len(c.RegexValues) > 0 && f != FieldHostHeader && f != FieldPathPattern && f != FieldHTTPHeader {
		return 0, 0, conditionError("RegexValues can only be specified for host-header, http-header and path-pattern conditions")
	}
	if (f == FieldHTTPHeader || f == FieldQueryString || f == FieldSourceIP) && configs == 0 {
		return 0, 0, conditionError("A '%s' condition needs its configuration", f)
	}
	values, regexes := conditionValues(c)
	if len(values) > 0 && len(regexes) > 0 {
		return 0, 0, conditionError("A '%s' condition uses either value matching or regex matching, not both", f)
	}
	for _, r := range regexes {
		if r == "" || len(r) > MaxConditionValueLength {
			return 0, 0, conditionError("Regex values must be 1 to %d characters long", MaxConditionValueLength)
		}
		if unsupportedRE.MatchString(r) {
			return 0, 0, conditionError("Regex '%s' uses an unsupported feature", r)
		}
		if _, err := regexp.Compile(r); err != nil {
			return 0, 0, conditionError("Regex '%s' is not valid: %v", r, err)
		}
	}
	checkValues := func(re *regexp.Regexp, what string) (int, error) {
		w := 0
		for _, v := range values {
			if v == "" || len(v) > MaxConditionValueLength {
				return 0, conditionError("Condition values must be 1 to %d characters long", MaxConditionValueLength)
			}
			if re != nil && !re.MatchString(v) {
				return 0, conditionError("Condition value '%s' contains characters not allowed in %s", v, what)
			}
			w += countWildcards(v, false)
		}
		return w, nil
	}
	switch f {
	case FieldPathPattern:
		if len(values)+len(regexes) == 0 {
			return 0, 0, conditionError("A path-pattern condition needs at least one value")
		}
		w, err := checkValues(pathValueRE, "a path pattern")
		return len(values) + len(regexes), w, err
	case FieldHostHeader:
		if len(values)+len(regexes) == 0 {
			return 0, 0, conditionError("A host-header condition needs at least one value")
		}
		w, err := checkValues(hostValueRE, "a host name")
		if err == nil {
			for _, v := range values {
				// [conditions]: "You must include at least one "." character. You
				// can include only alphabetical characters after the final "."".
				dot := strings.LastIndexByte(v, '.')
				if dot < 0 || strings.IndexFunc(v[dot+1:], func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') }) >= 0 {
					return 0, 0, conditionError("Host name '%s' must contain a '.' followed only by letters", v)
				}
			}
		}
		return len(values) + len(regexes), w, err
	case FieldHTTPHeader:
		name := aws.ToString(c.HttpHeaderConfig.HttpHeaderName)
		if name == "" || len(name) > 40 || !headerNameRE.MatchString(name) {
			return 0, 0, conditionError("HTTP header name '%s' is not valid (1-40 token characters)", name)
		}
		if strings.EqualFold(name, "host") {
			return 0, 0, conditionError("Use a host-header condition to match the Host header")
		}
		if len(values)+len(regexes) == 0 {
			return 0, 0, conditionError("An http-header condition needs at least one value")
		}
		w, err := checkValues(nil, "")
		return len(values) + len(regexes), w, err
	case FieldMethod:
		if len(values) == 0 {
			return 0, 0, conditionError("An http-request-method condition needs at least one value")
		}
		for _, v := range values {
			if len(v) > 40 || !methodValueRE.MatchString(v) {
				return 0, 0, conditionError("HTTP method '%s' may contain only A-Z, hyphens and underscores (at most 40)", v)
			}
		}
		return len(values), 0, nil
	case FieldQueryString:
		pairs := c.QueryStringConfig.Values
		if len(pairs) == 0 {
			return 0, 0, conditionError("A query-string condition needs at least one key/value pair")
		}
		w := 0
		for _, p := range pairs {
			v := aws.ToString(p.Value)
			if v == "" || len(v) > MaxConditionValueLength || p.Key != nil && (aws.ToString(p.Key) == "" || len(aws.ToString(p.Key)) > MaxConditionValueLength) {
				return 0, 0, conditionError("Query string keys and values must be 1 to %d characters long", MaxConditionValueLength)
			}
			w += countWildcards(v, true) + countWildcards(aws.ToString(p.Key), true)
		}
		return len(pairs), w, nil
	case FieldSourceIP:
		if len(c.SourceIpConfig.Values) == 0 {
			return 0, 0, conditionError("A source-ip condition needs at least one CIDR")
		}
		for _, v := range c.SourceIpConfig.Values {
			if _, err := netip.ParsePrefix(v); err != nil || v == "255.255.255.255/32" {
				return 0, 0, conditionError("'%s' is not a valid source CIDR", v)
			}
		}
		return len(c.SourceIpConfig.Values), 0, nil
	}
	return 0, 0, fmt.Errorf("unreachable condition field %q", f)
}
