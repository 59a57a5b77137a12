package awssim

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

func pathCond(values ...string) lbt.RuleCondition {
	return lbt.RuleCondition{Field: aws.String(FieldPathPattern), PathPatternConfig: &lbt.PathPatternConditionConfig{Values: values}}
}

func pathRegex(values ...string) lbt.RuleCondition {
	return lbt.RuleCondition{Field: aws.String(FieldPathPattern), PathPatternConfig: &lbt.PathPatternConditionConfig{RegexValues: values}}
}

func queryCond(pairs ...[2]string) lbt.RuleCondition {
	c := lbt.RuleCondition{Field: aws.String(FieldQueryString), QueryStringConfig: &lbt.QueryStringConditionConfig{}}
	for _, p := range pairs {
		kv := lbt.QueryStringKeyValuePair{Value: aws.String(p[1])}
		if p[0] != "" {
			kv.Key = aws.String(p[0])
		}
		c.QueryStringConfig.Values = append(c.QueryStringConfig.Values, kv)
	}
	return c
}

func TestMatchPathPattern(t *testing.T) {
	// rule-condition-types.html, "Path conditions": case-sensitive, "*"
	// matches 0 or more characters and "?" exactly 1, applied to the path only,
	// after URI normalization.
	cases := []struct {
		name    string
		pattern string
		path    string
		want    bool
	}{
		{"doc example prefix", "/img/*", "/img/picture.jpg", true},
		{"doc example inner star", "/img/*/pics", "/img/2024/pics", true},
		{"star needs the slash", "/img/*", "/img", false},
		{"whole path must match", "/img", "/img/x", false},
		{"case-sensitive", "/boards/a*", "/boards/Abc", false},
		{"case-sensitive upper", "/boards/A*", "/boards/Abc", true},
		{"question mark one char", "/boards/?", "/boards/a", true},
		{"question mark not zero", "/boards/?", "/boards/", false},
		{"question mark not two", "/boards/?", "/boards/ab", false},
		{"encoded non-ASCII stays encoded", "/boards/%D1*", "/boards/%D1%82%D0%B5", true}, // CreateRule refuses '%' in values (see validation tests)
		{"question marks match escape chars", "/boards/???*", "/boards/%D1%82", true},
		{"lower-case hex normalized to upper", "/boards/?D1*", "/boards/%d1%82", true},
		{"encoded unreserved decoded", "/boards/a~b", "/boards/a%7Eb", true},
		{"encoded unreserved letter decoded", "/boards/Abc", "/boards/%41bc", true},
		{"dot segments removed", "/boards/x", "/static/../boards/x", true},
		{"query not part of path", "/socket.io/", "/socket.io/", true},
		{"multiple slashes kept", "//application", "//application", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := MatchRule([]lbt.RuleCondition{pathCond(c.pattern)}, HTTPRequest{Method: "GET", Path: c.path})
			if got != c.want {
				t.Fatalf("pattern %q path %q: got %v want %v", c.pattern, c.path, got, c.want)
			}
		})
	}
}

func TestMatchPathRegex(t *testing.T) {
	// rule-condition-types.html: "With the host-header, http-header, and
	// path-pattern conditions, you can use either value matching or regular
	// expression (regex) matching"; the example "^\/api\/(.*)$" anchors itself.
	cases := []struct {
		re, path string
		want     bool
	}{
		{`^\/api\/(.*)$`, "/api/x", true},
		{`^\/api\/(.*)$`, "/v1/api/x", false},
		{`api`, "/v1/api/x", true}, // unanchored: searched
		{`^/boards/[a-m]`, "/boards/kiwi", true},
		{`^/boards/[a-m]`, "/boards/Kiwi", false}, // case-sensitive
		{`^/boards/%D[0-3]`, "/boards/%d1%82", true},
	}
	for _, c := range cases {
		if got := MatchRule([]lbt.RuleCondition{pathRegex(c.re)}, HTTPRequest{Path: c.path}); got != c.want {
			t.Errorf("regex %q path %q: got %v want %v", c.re, c.path, got, c.want)
		}
	}
}

func TestMatchPathDecodedReading(t *testing.T) {
	req := HTTPRequest{Path: "/boards/%D1%82%D0%B5"}
	cond := []lbt.RuleCondition{pathCond("/boards/т*")}
	if MatchRule(cond, req) {
		t.Fatal("default reading must compare the encoded path")
	}
	if !MatchRuleWith(cond, req, MatchOptions{DecodePath: true}) {
		t.Fatal("decoded reading must compare the decoded path")
	}
	// '?' is one character: a whole rune when decoded, one byte of "%D1" when not.
	one := []lbt.RuleCondition{pathCond("/boards/??")}
	if !MatchRuleWith(one, req, MatchOptions{DecodePath: true}) || MatchRule(one, req) {
		t.Fatal("'?' counts characters of the compared form")
	}
}

func TestMatchInvalidRequestTarget(t *testing.T) {
	for _, p := range []string{"boards/x", "/boards/a b", "/boards/\x01", "/boards/тест", "/boards/x?y"} {
		if MatchRule([]lbt.RuleCondition{pathCond("*")}, HTTPRequest{Path: p}) {
			t.Errorf("path %q is not a valid request target and must match nothing", p)
		}
	}
}

func TestMatchQueryString(t *testing.T) {
	// rule-condition-types.html, "Query string conditions": "The match
	// evaluation is not case-sensitive", wildcards * and ?; API reference
	// QueryStringConditionConfig: "To search for a literal '*' or '?' ... escape
	// these characters in Values using a '\' character"; a pair without a key
	// matches any value ("any key set to "example"").
	cases := []struct {
		name  string
		pairs [][2]string
		query string
		want  bool
	}{
		{"doc example key/value", [][2]string{{"version", "v1"}}, "version=v1", true},
		{"doc example value only", [][2]string{{"", "*example*"}}, "a=1&b=my-example-x", true},
		{"case-insensitive value", [][2]string{{"board", "a*"}}, "EIO=4&transport=polling&board=Apple", true},
		{"case-insensitive key", [][2]string{{"board", "a*"}}, "BOARD=apple", true},
		{"other key does not count", [][2]string{{"board", "a*"}}, "sid=abc&b=apple", false},
		{"any of the pairs", [][2]string{{"board", "x*"}, {"board", "a*"}}, "board=apple", true},
		{"whole value must match", [][2]string{{"board", "a"}}, "board=apple", false},
		{"question mark", [][2]string{{"board", "?pple"}}, "board=apple", true},
		{"escaped star is literal", [][2]string{{"q", `a\*`}}, "q=a*", true},
		{"escaped star not wildcard", [][2]string{{"q", `a\*`}}, "q=abc", false},
		{"encoded value compared as sent", [][2]string{{"board", "%d1*"}}, "board=%D1%82%D0%B5", true},
		{"encoded not decoded by default", [][2]string{{"board", "т*"}}, "board=%D1%82", false},
		{"key with wildcard", [][2]string{{"b*", "1"}}, "board=1", true},
		{"empty params skipped", [][2]string{{"board", "x"}}, "&&board=x&", true},
		{"repeated key any match", [][2]string{{"board", "x"}}, "board=y&board=x", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := MatchRule([]lbt.RuleCondition{queryCond(c.pairs...)}, HTTPRequest{Path: "/socket.io/", RawQuery: c.query})
			if got != c.want {
				t.Fatalf("pairs %v query %q: got %v want %v", c.pairs, c.query, got, c.want)
			}
		})
	}
	decoded := MatchRuleWith([]lbt.RuleCondition{queryCond([2]string{"board", "т*"})}, HTTPRequest{RawQuery: "board=%D1%82"}, MatchOptions{DecodeQuery: true})
	if !decoded {
		t.Fatal("decoded reading must compare decoded values")
	}
}

func TestMatchHostHeaderMethodSourceIP(t *testing.T) {
	h := http.Header{}
	h.Add("User-Agent", "Mozilla Chrome")
	h.Add("X-Shard", "one")
	h.Add("X-Shard", "two")
	req := HTTPRequest{Method: "GET", Path: "/", Host: "Test.Example.com:8080", Headers: h, SourceIP: "192.0.2.7"}
	cases := []struct {
		name string
		c    lbt.RuleCondition
		want bool
	}{
		// "The rule *.example.com matches test.example.com but doesn't match example.com."
		{"host wildcard", lbt.RuleCondition{Field: aws.String(FieldHostHeader), HostHeaderConfig: &lbt.HostHeaderConditionConfig{Values: []string{"*.example.com"}}}, true},
		{"host legacy values", lbt.RuleCondition{Field: aws.String(FieldHostHeader), Values: []string{"test.example.com"}}, true},
		{"host apex", lbt.RuleCondition{Field: aws.String(FieldHostHeader), HostHeaderConfig: &lbt.HostHeaderConditionConfig{Values: []string{"example.com"}}}, false},
		{"header case-insensitive", lbt.RuleCondition{Field: aws.String(FieldHTTPHeader), HttpHeaderConfig: &lbt.HttpHeaderConditionConfig{HttpHeaderName: aws.String("user-agent"), Values: []string{"*chrome*"}}}, true},
		{"header second instance", lbt.RuleCondition{Field: aws.String(FieldHTTPHeader), HttpHeaderConfig: &lbt.HttpHeaderConditionConfig{HttpHeaderName: aws.String("X-Shard"), Values: []string{"two"}}}, true},
		{"header regex", lbt.RuleCondition{Field: aws.String(FieldHTTPHeader), HttpHeaderConfig: &lbt.HttpHeaderConditionConfig{HttpHeaderName: aws.String("User-Agent"), RegexValues: []string{".+"}}}, true},
		{"header missing", lbt.RuleCondition{Field: aws.String(FieldHTTPHeader), HttpHeaderConfig: &lbt.HttpHeaderConditionConfig{HttpHeaderName: aws.String("X-None"), Values: []string{"*"}}}, false},
		{"method exact", lbt.RuleCondition{Field: aws.String(FieldMethod), HttpRequestMethodConfig: &lbt.HttpRequestMethodConditionConfig{Values: []string{"GET"}}}, true},
		{"method case-sensitive", lbt.RuleCondition{Field: aws.String(FieldMethod), HttpRequestMethodConfig: &lbt.HttpRequestMethodConditionConfig{Values: []string{"get"}}}, false},
		{"source ip in CIDR", lbt.RuleCondition{Field: aws.String(FieldSourceIP), SourceIpConfig: &lbt.SourceIpConditionConfig{Values: []string{"192.0.2.0/24"}}}, true},
		{"source ip outside", lbt.RuleCondition{Field: aws.String(FieldSourceIP), SourceIpConfig: &lbt.SourceIpConditionConfig{Values: []string{"198.51.100.0/24"}}}, false},
	}
	for _, c := range cases {
		if got := MatchRule([]lbt.RuleCondition{c.c}, req); got != c.want {
			t.Errorf("%s: got %v want %v", c.name, got, c.want)
		}
	}
	// Conditions of one rule are ANDed.
	both := []lbt.RuleCondition{cases[0].c, cases[8].c}
	if MatchRule(both, req) {
		t.Error("a rule matches only when every condition does")
	}
}

func validationMessage(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
		t.Fatalf("want a ValidationError, got %v", err)
	}
	return ae.ErrorMessage()
}

func TestValidateRuleConditionsQuotas(t *testing.T) {
	ok := []lbt.RuleCondition{pathCond("/boards/a*", "/boards/b*"), queryCond([2]string{"board", "a*"}, [2]string{"board", "b*"})}
	if err := ValidateRuleConditions(ok); err != nil {
		t.Fatalf("4 values, 4 wildcards: %v", err)
	}
	// aws/aws-cdk#10065: six path patterns → "A rule can only have '5' condition values".
	six := []lbt.RuleCondition{pathCond("/a", "/b", "/c"), queryCond([2]string{"k", "1"}, [2]string{"k", "2"}, [2]string{"k", "3"})}
	if msg := validationMessage(t, ValidateRuleConditions(six)); msg != "A rule can only have '5' condition values" {
		t.Fatalf("message %q", msg)
	}
	four := []lbt.RuleCondition{pathCond("/a", "/b", "/c", "/d")}
	if msg := validationMessage(t, ValidateRuleConditions(four)); !strings.Contains(msg, "'3'") {
		t.Fatalf("4 values in one condition: %q", msg)
	}
	wild := []lbt.RuleCondition{pathCond("/*/*/*"), queryCond([2]string{"b", "*?*"})}
	if msg := validationMessage(t, ValidateRuleConditions(wild)); !strings.Contains(msg, "wildcards") {
		t.Fatalf("6 wildcards: %q", msg)
	}
	escaped := []lbt.RuleCondition{pathCond("/*/*/*"), queryCond([2]string{"b", `\*\?*`})}
	if err := ValidateRuleConditions(escaped); err != nil {
		t.Fatalf("escaped characters are not wildcards: %v", err)
	}
}

func TestValidateRuleConditionsShape(t *testing.T) {
	long := "/" + strings.Repeat("a", 128)
	bad := map[string][]lbt.RuleCondition{
		"no conditions":          nil,
		"two path conditions":    {pathCond("/a"), pathCond("/b")},
		"percent in path value":  {pathCond("/boards/%D1*")},
		"space in path value":    {pathCond("/a b")},
		"value too long":         {pathCond(long)},
		"regex and values":       {{Field: aws.String(FieldPathPattern), PathPatternConfig: &lbt.PathPatternConditionConfig{Values: []string{"/a"}, RegexValues: []string{"^/a"}}}},
		"unicode class regex":    {pathRegex(`^/boards/\p{L}`)},
		"lookahead regex":        {pathRegex(`^/(?=a)`)},
		"backreference regex":    {pathRegex(`(a)\1`)},
		"regex on query":         {{Field: aws.String(FieldQueryString), RegexValues: []string{"a"}, QueryStringConfig: &lbt.QueryStringConditionConfig{Values: []lbt.QueryStringKeyValuePair{{Value: aws.String("a")}}}}},
		"empty query value":      {queryCond([2]string{"board", ""})},
		"host without dot":       {{Field: aws.String(FieldHostHeader), HostHeaderConfig: &lbt.HostHeaderConditionConfig{Values: []string{"localhost"}}}},
		"host digits after dot":  {{Field: aws.String(FieldHostHeader), HostHeaderConfig: &lbt.HostHeaderConditionConfig{Values: []string{"a.b1"}}}},
		"method lower-case":      {{Field: aws.String(FieldMethod), HttpRequestMethodConfig: &lbt.HttpRequestMethodConditionConfig{Values: []string{"get"}}}},
		"header named host":      {{Field: aws.String(FieldHTTPHeader), HttpHeaderConfig: &lbt.HttpHeaderConditionConfig{HttpHeaderName: aws.String("Host"), Values: []string{"x"}}}},
		"mismatched config":      {{Field: aws.String(FieldPathPattern), QueryStringConfig: &lbt.QueryStringConditionConfig{}}},
		"unknown field":          {{Field: aws.String("cookie"), Values: []string{"x"}}},
		"both values and config": {{Field: aws.String(FieldPathPattern), Values: []string{"/a"}, PathPatternConfig: &lbt.PathPatternConditionConfig{Values: []string{"/b"}}}},
		"header without config":  {{Field: aws.String(FieldHTTPHeader)}},
		"query without config":   {{Field: aws.String(FieldQueryString)}},
		"source without config":  {{Field: aws.String(FieldSourceIP)}},
		"broadcast source ip":    {{Field: aws.String(FieldSourceIP), SourceIpConfig: &lbt.SourceIpConditionConfig{Values: []string{"255.255.255.255/32"}}}},
	}
	for name, conds := range bad {
		t.Run(name, func(t *testing.T) { validationMessage(t, ValidateRuleConditions(conds)) })
	}
	good := [][]lbt.RuleCondition{
		{pathCond(`/a_b-c.d$e/~f"g'h@i:j+k&l`)},
		{pathRegex(`^/(boards|preview|download|export)/[A-Ma-m0-4]`)},
		{{Field: aws.String(FieldPathPattern), Values: []string{"/legacy/*"}}},
		{queryCond([2]string{"", "*example*"}), queryCond([2]string{"board", "a*"})},
	}
	for _, conds := range good {
		if err := ValidateRuleConditions(conds); err != nil {
			t.Errorf("%v: %v", conds, err)
		}
	}
}

func TestSelectRulePriorityOrderAndDefault(t *testing.T) {
	rules := []lbt.Rule{
		{Priority: aws.String("default"), IsDefault: aws.Bool(true), RuleArn: aws.String("def")},
		{Priority: aws.String("20"), RuleArn: aws.String("r20"), Conditions: []lbt.RuleCondition{pathCond("/boards/*")}},
		{Priority: aws.String("3"), RuleArn: aws.String("r3"), Conditions: []lbt.RuleCondition{pathCond("/boards/a*")}},
	}
	pick := func(p string) string {
		r, ok := SelectRule(rules, HTTPRequest{Path: p}, MatchOptions{})
		if !ok {
			t.Fatal("no rule")
		}
		return aws.ToString(r.RuleArn)
	}
	// "Rules are evaluated in priority order, from the lowest value to the
	// highest value. The default rule is evaluated last." Priority 3 beats 20
	// although listed later, and numerically ("3" < "20").
	if got := pick("/boards/apple"); got != "r3" {
		t.Fatalf("got %s want r3", got)
	}
	if got := pick("/boards/kiwi"); got != "r20" {
		t.Fatalf("got %s want r20", got)
	}
	if got := pick("/index.html"); got != "def" {
		t.Fatalf("got %s want def", got)
	}
}

func TestWildcardMatchNoBlowup(t *testing.T) {
	s := strings.Repeat("a", 2000) + "b"
	if wildcardMatch("*a*a*a*a*c", s, false, false) {
		t.Fatal("must not match")
	}
}

func BenchmarkMatchRule(b *testing.B) {
	conds := []lbt.RuleCondition{pathRegex(`^/(boards|preview)/[a-m]`)}
	q := []lbt.RuleCondition{queryCond([2]string{"board", "a*"}, [2]string{"board", "b*"})}
	req := HTTPRequest{Path: "/boards/kiwi-lemon", RawQuery: "EIO=4&transport=polling&board=kiwi-lemon"}
	for i := 0; i < b.N; i++ {
		MatchRule(conds, req)
		MatchRule(q, req)
	}
}
