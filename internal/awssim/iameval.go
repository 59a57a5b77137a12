package awssim

// An IAM policy evaluator for identity-based policies, following the IAM User
// Guide:
//   - "IAM JSON policy element reference" (Version, Statement, Sid, Effect,
//     Action/NotAction, Resource/NotResource, Condition), and "Grammar of the
//     IAM JSON policy language";
//   - "IAM JSON policy elements: Condition operators" (operators, IfExists,
//     Null, and "If the key that you specify in a policy condition is not
//     present in the request context, the values do not match and the
//     condition is false. If the policy condition requires that the key is not
//     matched, such as StringNotLike or ArnNotLike, and the right key is not
//     present, the condition is true");
//   - "Single-valued vs. multivalued context keys" (ForAnyValue: and
//     ForAllValues:; "ForAllValues ... returns true if ... the key is empty or
//     missing", ForAnyValue returns false for a missing key);
//   - "Policy evaluation logic" ("an explicit deny in any of these policies
//     overrides the allow"; by default every request is implicitly denied);
//   - "IAM JSON policy elements: Resource" (wildcards within each ARN segment;
//     "If the * wildcard is the last character of a resource ARN segment, it
//     can expand to match beyond the colon boundaries");
//   - "IAM policy elements: Variables and tags" (${key}, ${key, 'default'},
//     ${*}, ${?}, ${$}; only with Version 2012-10-17).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Policy is a parsed IAM policy document.
type Policy struct {
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Sid         string
	Effect      string // "Allow" or "Deny"
	Action      []string
	NotAction   []string
	Resource    []string
	NotResource []string
	// Principal / NotPrincipal, as in resource-based policies: principal
	// type ("AWS", "Service", "Federated", "CanonicalUser" or "*") to values.
	Principal    map[string][]string
	NotPrincipal map[string][]string
	Conditions   []Condition
}

// Condition is one operator/key pair of a Condition block: every Condition of
// a statement must hold (AND); any of Values may match (OR; NOR for the
// negated operators).
type Condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringLikeIfExists"
	Key      string
	Values   []string

	base     string // operator without qualifier and IfExists, e.g. "StringLike"
	set      string // "", "ForAnyValue" or "ForAllValues"
	ifExists bool
}

// AuthzRequest is one authorization question: may the caller do Action on
// Resource with this request context?
type AuthzRequest struct {
	Action   string              // "s3:GetObject" (case-insensitive match, as IAM does)
	Resource string              // the ARN the action is authorized on ("*" where the action has no resource type)
	Context  map[string][]string // condition keys and values: "s3:prefix", "iam:PassedToService", "aws:SourceAccount", "ec2:CreateAction", "aws:RequestTag/K", ...
	// Principal is the caller's ARN, matched against Principal elements of
	// resource-based policies; identity policies have none.
	Principal string
}

// Decision is the outcome of an evaluation.
type Decision int

// The three outcomes of "Policy evaluation logic".
const (
	ImplicitDeny Decision = iota
	Allowed
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "Allowed"
	case ExplicitDeny:
		return "ExplicitDeny"
	default:
		return "ImplicitDeny"
	}
}

// PolicyError is a malformed policy document (IAM answers
// MalformedPolicyDocument with such a message).
type PolicyError struct{ Msg string }

func (e *PolicyError) Error() string { return "MalformedPolicyDocument: " + e.Msg }

func malformed(format string, args ...any) error {
	return &PolicyError{Msg: fmt.Sprintf(format, args...)}
}

// ParsePolicy parses an IAM JSON policy document.
func ParsePolicy(doc string) (*Policy, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, malformed("syntax errors in policy: %v", err)
	}
	if dec.More() {
		return nil, malformed("syntax errors in policy: trailing data after the document")
	}
	p := &Policy{Version: "2008-10-17"} // the default when Version is absent (IAM "Version" element page)
	for k, v := range raw {
		switch k {
		case "Version":
			if err := json.Unmarshal(v, &p.Version); err != nil {
				return nil, malformed("Version must be a string")
			}
			if p.Version != "2012-10-17" && p.Version != "2008-10-17" {
				return nil, malformed("the policy must contain a valid version string, not %q", p.Version)
			}
		case "Id":
			if err := json.Unmarshal(v, &p.ID); err != nil {
				return nil, malformed("Id must be a string")
			}
		case "Statement":
			stmts, err := parseStatements(v)
			if err != nil {
				return nil, err
			}
			p.Statements = stmts
		default:
			return nil, malformed("policy document has an unknown field %q", k)
		}
	}
	if _, ok := raw["Statement"]; !ok {
		return nil, malformed("policy document must contain a Statement")
	}
	return p, nil
}

// MustParsePolicy is ParsePolicy for documents known to be good (tests).
func MustParsePolicy(doc string) *Policy {
	p, err := ParsePolicy(doc)
	if err != nil {
		panic(err)
	}
	return p
}

func parseStatements(v json.RawMessage) ([]Statement, error) {
	v = bytes.TrimSpace(v)
	var objs []json.RawMessage
	if len(v) > 0 && v[0] == '[' {
		if err := json.Unmarshal(v, &objs); err != nil {
			return nil, malformed("Statement must be an object or an array of objects")
		}
	} else {
		objs = []json.RawMessage{v}
	}
	sids := map[string]bool{}
	var out []Statement
	for i, o := range objs {
		s, err := parseStatement(o)
		if err != nil {
			return nil, malformed("statement %d: %s", i+1, err.(*PolicyError).Msg)
		}
		if s.Sid != "" {
			if sids[s.Sid] {
				return nil, malformed("statement IDs (SID) in a single policy must be unique: %q", s.Sid)
			}
			sids[s.Sid] = true
		}
		out = append(out, s)
	}
	return out, nil
}

var actionRe = regexp.MustCompile(`^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$`)

func parseStatement(o json.RawMessage) (Statement, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(o))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return Statement{}, malformed("a statement must be an object")
	}
	var s Statement
	for k, v := range raw {
		var err error
		switch k {
		case "Sid":
			err = json.Unmarshal(v, &s.Sid)
		case "Effect":
			err = json.Unmarshal(v, &s.Effect)
		case "Action":
			s.Action, err = stringOrList(v)
		case "NotAction":
			s.NotAction, err = stringOrList(v)
		case "Resource":
			s.Resource, err = stringOrList(v)
		case "NotResource":
			s.NotResource, err = stringOrList(v)
		case "Principal":
			s.Principal, err = parsePrincipal(v)
		case "NotPrincipal":
			s.NotPrincipal, err = parsePrincipal(v)
		case "Condition":
			s.Conditions, err = parseConditions(v)
		default:
			return s, malformed("unknown field %q", k)
		}
		if err != nil {
			if pe, ok := err.(*PolicyError); ok {
				return s, pe
			}
			return s, malformed("%s: %v", k, err)
		}
	}
	if s.Effect != "Allow" && s.Effect != "Deny" {
		return s, malformed("Effect must be Allow or Deny, not %q", s.Effect)
	}
	if (s.Action == nil) == (s.NotAction == nil) {
		return s, malformed("a statement must contain exactly one of Action and NotAction")
	}
	if (s.Resource == nil) == (s.NotResource == nil) {
		return s, malformed("a statement must contain exactly one of Resource and NotResource")
	}
	if s.Principal != nil && s.NotPrincipal != nil {
		return s, malformed("a statement cannot contain both Principal and NotPrincipal")
	}
	for _, a := range append(append([]string(nil), s.Action...), s.NotAction...) {
		if a != "*" && !actionRe.MatchString(a) {
			return s, malformed("action %q: actions must be prefaced by a vendor, e.g. iam:CreateUser", a)
		}
	}
	for _, r := range append(append([]string(nil), s.Resource...), s.NotResource...) {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			return s, malformed("resource %q must be in ARN format or \"*\"", r)
		}
	}
	return s, nil
}

// stringOrList decodes "x" or ["x", ...]; numbers and booleans become their
// text (IAM accepts them in condition values).
func stringOrList(v json.RawMessage) ([]string, error) {
	var one any
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	if err := dec.Decode(&one); err != nil {
		return nil, err
	}
	scalar := func(x any) (string, error) {
		switch t := x.(type) {
		case string:
			return t, nil
		case json.Number:
			return t.String(), nil
		case bool:
			return strconv.FormatBool(t), nil
		}
		return "", fmt.Errorf("want a string or a list of strings")
	}
	if l, ok := one.([]any); ok {
		out := make([]string, 0, len(l))
		for _, x := range l {
			s, err := scalar(x)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := scalar(one)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

func parsePrincipal(v json.RawMessage) (map[string][]string, error) {
	var star string
	if json.Unmarshal(v, &star) == nil {
		if star != "*" {
			return nil, malformed("Principal must be \"*\" or an object")
		}
		return map[string][]string{"*": {"*"}}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, malformed("Principal must be \"*\" or an object")
	}
	out := map[string][]string{}
	for k, raw := range m {
		l, err := stringOrList(raw)
		if err != nil {
			return nil, malformed("Principal %s: %v", k, err)
		}
		out[k] = l
	}
	return out, nil
}

// knownOperators are the condition operators of "IAM JSON policy elements:
// Condition operators" (without the IfExists suffix).
var knownOperators = map[string]bool{
	"StringEquals": true, "StringNotEquals": true, "StringEqualsIgnoreCase": true, "StringNotEqualsIgnoreCase": true,
	"StringLike": true, "StringNotLike": true,
	"NumericEquals": true, "NumericNotEquals": true, "NumericLessThan": true, "NumericLessThanEquals": true,
	"NumericGreaterThan": true, "NumericGreaterThanEquals": true,
	"DateEquals": true, "DateNotEquals": true, "DateLessThan": true, "DateLessThanEquals": true,
	"DateGreaterThan": true, "DateGreaterThanEquals": true,
	"Bool": true, "BinaryEquals": true, "IpAddress": true, "NotIpAddress": true,
	"ArnEquals": true, "ArnLike": true, "ArnNotEquals": true, "ArnNotLike": true,
	"Null": true,
}

// negated operators hold when no policy value matches (and when the key is
// missing).
var negated = map[string]bool{
	"StringNotEquals": true, "StringNotEqualsIgnoreCase": true, "StringNotLike": true,
	"NumericNotEquals": true, "DateNotEquals": true, "NotIpAddress": true,
	"ArnNotEquals": true, "ArnNotLike": true,
}

func parseConditions(v json.RawMessage) ([]Condition, error) {
	var ops map[string]map[string]json.RawMessage
	if err := json.Unmarshal(v, &ops); err != nil {
		return nil, malformed("Condition must be an object of operators, each an object of keys")
	}
	var out []Condition
	for op, keys := range ops {
		c := Condition{Operator: op}
		rest := op
		if q, r, ok := strings.Cut(op, ":"); ok {
			if q != "ForAnyValue" && q != "ForAllValues" {
				return nil, malformed("condition operator %q: unknown qualifier %q", op, q)
			}
			c.set, rest = q, r
		}
		if b, ok := strings.CutSuffix(rest, "IfExists"); ok && rest != "Null" {
			c.ifExists, rest = true, b
		}
		if !knownOperators[rest] {
			return nil, malformed("unknown condition operator %q", op)
		}
		if rest == "Null" && (c.set != "" || c.ifExists) {
			return nil, malformed("condition operator %q: Null takes no qualifier", op)
		}
		c.base = rest
		for k, raw := range keys {
			vals, err := stringOrList(raw)
			if err != nil {
				return nil, malformed("condition %s %s: %v", op, k, err)
			}
			cc := c
			cc.Key, cc.Values = k, vals
			out = append(out, cc)
		}
	}
	sort.Slice(out, func(i, j int) bool { // deterministic order for readers
		if out[i].Operator != out[j].Operator {
			return out[i].Operator < out[j].Operator
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// Evaluate decides a request against identity policies: an explicit Deny in
// any statement that applies wins, then an Allow, else the request is
// implicitly denied ("Policy evaluation logic", "Determining whether a
// request is allowed or denied within an account").
func Evaluate(policies []*Policy, r AuthzRequest) Decision {
	ctx := make(map[string][]string, len(r.Context))
	for k, v := range r.Context {
		ctx[strings.ToLower(k)] = v // condition key names are case-insensitive
	}
	allowed := false
	for _, p := range policies {
		if p == nil {
			continue
		}
		for i := range p.Statements {
			s := &p.Statements[i]
			if !s.applies(p.Version, r, ctx) {
				continue
			}
			if s.Effect == "Deny" {
				return ExplicitDeny
			}
			allowed = true
		}
	}
	if allowed {
		return Allowed
	}
	return ImplicitDeny
}

// Applies reports whether the statement matches the request (its effect
// aside).
func (s *Statement) applies(version string, r AuthzRequest, ctx map[string][]string) bool {
	if s.Action != nil && !anyAction(s.Action, r.Action) {
		return false
	}
	if s.NotAction != nil && anyAction(s.NotAction, r.Action) {
		return false
	}
	vars := version == "2012-10-17"
	if s.Resource != nil && !anyResource(s.Resource, r.Resource, vars, ctx) {
		return false
	}
	if s.NotResource != nil && anyResource(s.NotResource, r.Resource, vars, ctx) {
		return false
	}
	if s.Principal != nil && !principalMatch(s.Principal, r.Principal) {
		return false
	}
	if s.NotPrincipal != nil && principalMatch(s.NotPrincipal, r.Principal) {
		return false
	}
	for _, c := range s.Conditions {
		if !c.holds(vars, ctx) {
			return false
		}
	}
	return true
}

// anyAction matches case-insensitively with * and ? ("IAM JSON policy
// elements: Action": "Action names are case-insensitive").
func anyAction(patterns []string, action string) bool {
	a := strings.ToLower(action)
	for _, p := range patterns {
		if glob(strings.ToLower(p), a) {
			return true
		}
	}
	return false
}

func anyResource(patterns []string, arn string, vars bool, ctx map[string][]string) bool {
	for _, p := range patterns {
		if vars {
			var ok bool
			if p, ok = substitute(p, ctx, true); !ok {
				continue // a variable with no value: the element does not match
			}
		}
		if arnMatch(p, arn) {
			return true
		}
	}
	return false
}

func principalMatch(pr map[string][]string, caller string) bool {
	for typ, vals := range pr {
		for _, v := range vals {
			if typ == "*" || v == "*" {
				return true
			}
			if v == caller {
				return true
			}
			// An account (ID or root ARN) stands for every principal of the
			// account ("AWS JSON policy elements: Principal", "AWS account
			// principals").
			acct := v
			if a, ok := strings.CutPrefix(v, "arn:aws:iam::"); ok {
				if id, root := strings.CutSuffix(a, ":root"); root {
					acct = id
				} else {
					continue
				}
			}
			if arnAccount(caller) == acct {
				return true
			}
		}
	}
	return false
}

func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// substitute replaces policy variables. star says how ${*}/${?} are kept: in
// patterns they become the literal characters, which glob matches only
// literally (escaped as \x00 markers).
func substitute(s string, ctx map[string][]string, pattern bool) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		j := strings.Index(s[i:], "}")
		if j < 0 {
			b.WriteString(s[i:])
			return b.String(), true
		}
		inner := strings.TrimSpace(s[i+2 : i+j])
		s = s[i+j+1:]
		switch inner {
		case "*", "?", "$":
			if pattern && inner != "$" {
				b.WriteString(litMark + inner)
			} else {
				b.WriteString(inner)
			}
			continue
		}
		key, def, hasDef := strings.Cut(inner, ",")
		key = strings.TrimSpace(key)
		if v, ok := ctx[strings.ToLower(key)]; ok && len(v) > 0 {
			b.WriteString(v[0])
			continue
		}
		if hasDef {
			def = strings.TrimSpace(def)
			b.WriteString(strings.Trim(def, "'"))
			continue
		}
		return "", false
	}
}

// litMark precedes a * or ? that must match literally (from ${*} / ${?}).
const litMark = "\x00"

// glob matches s against p, where * is any run of characters and ? any one.
func glob(p, s string) bool {
	// Iterative matcher with backtracking on the last star.
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch {
			case p[pi] == litMark[0] && pi+1 < len(p):
				if p[pi+1] == s[si] {
					pi += 2
					si++
					continue
				}
			case p[pi] == '*':
				star, mark = pi, si
				pi++
				continue
			case p[pi] == '?' || p[pi] == s[si]:
				pi++
				si++
				continue
			}
		}
		if star >= 0 {
			pi = star + 1
			mark++
			si = mark
			continue
		}
		return false
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

var arnRegexps sync.Map // pattern -> *regexp.Regexp

// arnMatch matches an ARN pattern: the first five segments (arn, partition,
// service, region, account) each on their own, except that a * ending a
// segment may run past the colon; the resource part is one glob.
func arnMatch(p, arn string) bool {
	if p == "*" {
		return true
	}
	if !strings.ContainsAny(p, "*?") {
		return p == arn
	}
	re, ok := arnRegexps.Load(p)
	if !ok {
		re = compileARNPattern(p)
		arnRegexps.Store(p, re)
	}
	return re.(*regexp.Regexp).MatchString(arn)
}

func compileARNPattern(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	seg := 0
	for i := 0; i < len(p); i++ {
		ch := p[i]
		switch {
		case ch == litMark[0] && i+1 < len(p):
			b.WriteString(regexp.QuoteMeta(string(p[i+1])))
			i++
		case ch == ':' && seg < 5:
			seg++
			b.WriteString(":")
		case ch == '*':
			if seg >= 5 || i+1 == len(p) || p[i+1] == ':' {
				b.WriteString(".*")
			} else {
				b.WriteString("[^:]*")
			}
		case ch == '?':
			if seg >= 5 {
				b.WriteString(".")
			} else {
				b.WriteString("[^:]")
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(ch)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// holds evaluates one condition against the request context.
func (c Condition) holds(vars bool, ctx map[string][]string) bool {
	vals, present := ctx[strings.ToLower(c.Key)]
	if present && len(vals) == 0 && c.set == "" {
		present = false
	}
	if c.base == "Null" {
		// "Null": true means the key must be absent, false present.
		for _, v := range c.Values {
			if absent := strings.EqualFold(v, "true"); absent != present {
				return true
			}
		}
		return false
	}
	if !present || len(vals) == 0 {
		switch {
		case c.ifExists:
			return true
		case c.set == "ForAllValues":
			return true // vacuously true for an empty or missing key
		case c.set == "ForAnyValue":
			return false
		default:
			return negated[c.base]
		}
	}
	policyVals := c.Values
	if vars && (strings.HasPrefix(c.base, "String") || strings.HasPrefix(c.base, "Arn")) {
		policyVals = make([]string, 0, len(c.Values))
		for _, v := range c.Values {
			if s, ok := substitute(v, ctx, c.base == "StringLike" || c.base == "StringNotLike" || strings.HasPrefix(c.base, "Arn")); ok {
				policyVals = append(policyVals, s)
			}
		}
	}
	// one reports whether a single context value satisfies the operator.
	one := func(v string) bool {
		m := false
		for _, pv := range policyVals {
			if matchValue(c.base, pv, v) {
				m = true
				break
			}
		}
		if negated[c.base] {
			return !m
		}
		return m
	}
	switch c.set {
	case "ForAllValues":
		for _, v := range vals {
			if !one(v) {
				return false
			}
		}
		return true
	case "ForAnyValue":
		for _, v := range vals {
			if one(v) {
				return true
			}
		}
		return false
	}
	// A single-valued operator on several values: a positive operator holds
	// if any value matches, a negated one if none does.
	if negated[c.base] {
		for _, v := range vals {
			if !one(v) {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if one(v) {
			return true
		}
	}
	return false
}

// matchValue reports whether a context value matches one policy value under
// the positive form of the operator.
func matchValue(base, pv, v string) bool {
	switch base {
	case "StringEquals", "StringNotEquals":
		return pv == v
	case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		return strings.EqualFold(pv, v)
	case "StringLike", "StringNotLike":
		return glob(pv, v)
	case "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike":
		// "Each of the six colon-delimited components of the ARN is checked
		// separately and can include ... wildcards" (both ArnEquals and
		// ArnLike).
		return arnMatch(pv, v)
	case "Bool":
		return strings.EqualFold(pv, v)
	case "BinaryEquals":
		return pv == v
	case "IpAddress", "NotIpAddress":
		pfx, err := netip.ParsePrefix(pv)
		if err != nil {
			a, err2 := netip.ParseAddr(pv)
			if err2 != nil {
				return false
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		a, err := netip.ParseAddr(v)
		return err == nil && pfx.Contains(a)
	}
	if strings.HasPrefix(base, "Numeric") {
		x, err1 := strconv.ParseFloat(v, 64)
		y, err2 := strconv.ParseFloat(pv, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		return compare(strings.TrimPrefix(base, "Numeric"), cmpFloat(x, y))
	}
	if strings.HasPrefix(base, "Date") {
		x, ok1 := parseDate(v)
		y, ok2 := parseDate(pv)
		if !ok1 || !ok2 {
			return false
		}
		return compare(strings.TrimPrefix(base, "Date"), x.Compare(y))
	}
	return false
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// compare maps a comparison suffix to the outcome; NotEquals is handled as
// the negation of Equals by the caller.
func compare(op string, c int) bool {
	switch op {
	case "Equals", "NotEquals":
		return c == 0
	case "LessThan":
		return c < 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThan":
		return c > 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

// parseDate reads ISO 8601 (as "2020-01-01T00:00:00Z" or a date) or epoch
// seconds ("Date condition operators").
func parseDate(s string) (time.Time, bool) {
	for _, l := range []string{time.RFC3339, "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}
