package shard

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

func tgARN(i int) string {
	return "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/wbo-shard-" + strconv.Itoa(i) + "/0123456789abcdef"
}

// listenerRules renders rules as DescribeRules would list them, with the
// listener's default rule (weighted forward to every shard).
func listenerRules(n int, rules []Rule) []lbt.Rule {
	var out []lbt.Rule
	for _, r := range rules {
		out = append(out, lbt.Rule{
			Priority:   aws.String(strconv.Itoa(r.Priority)),
			Conditions: r.Conditions,
			Actions:    []lbt.Action{{Type: lbt.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN(r.Shard))}},
		})
	}
	var all []lbt.TargetGroupTuple
	for i := 0; i < n; i++ {
		all = append(all, lbt.TargetGroupTuple{TargetGroupArn: aws.String(tgARN(i)), Weight: aws.Int32(1)})
	}
	out = append(out, lbt.Rule{Priority: aws.String("default"), IsDefault: aws.Bool(true),
		Actions: []lbt.Action{{Type: lbt.ActionTypeEnumForward, ForwardConfig: &lbt.ForwardActionConfig{TargetGroups: all}}}})
	return out
}

// routeOf returns the shard a request is forwarded to, or -1 for the
// default rule (any shard).
func routeOf(t *testing.T, rules []lbt.Rule, req awssim.HTTPRequest, o awssim.MatchOptions) int {
	t.Helper()
	r, ok := awssim.SelectRule(rules, req, o)
	if !ok {
		t.Fatalf("no rule for %+v", req)
	}
	if aws.ToBool(r.IsDefault) {
		return -1
	}
	arn := aws.ToString(r.Actions[0].TargetGroupArn)
	for i := 0; i < config.MaxShards; i++ {
		if tgARN(i) == arn {
			return i
		}
	}
	t.Fatalf("unknown target group %s", arn)
	return -2
}

// Alphabets of generated names: letters of several scripts in both cases,
// digits, and WBO's other name characters.
var (
	firstChars = []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_~()" +
		"éèàçüöñøßÉÀÇÜÖÑØłśžčŁŚŽČ" + // accented Latin
		"абвгдежзиклмнопрстуфхцчшщэюяёАБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЩЭЮЯЁ" + // Cyrillic
		"αβγδεζηθλμνξπρστφχψωΑΒΓΔΕΖΗΘΛΜΝΞΠΡΣΤΦΧΨΩ" + // Greek
		"日本語中文字東京大学あいうえおかきくけこアイウエオ" + // CJK, kana
		"한국어서울가나다라" + // Hangul
		"שלוםעברית" + "مرحباعربي" + // Hebrew, Arabic
		"٣٤५६") // non-ASCII digits (\p{N})
	restChars = append(slices.Clone(firstChars), '-')
)

// genName returns a board name: canonical (as WBO's client makes it) most of
// the time, sometimes with upper-case letters (a name typed in a URL, which
// the server refuses but the load balancer still routes).
func genName(r *rand.Rand) string {
	n := 1 + r.IntN(20)
	b := []rune{firstChars[r.IntN(len(firstChars))]}
	for i := 1; i < n; i++ {
		b = append(b, restChars[r.IntN(len(restChars))])
	}
	name := strings.TrimRight(string(b), "-")
	if r.IntN(4) != 0 {
		name = strings.ToLower(name)
	}
	if r.IntN(5) == 0 {
		name = randomWBOName(r)
	}
	return name
}

// lowerHex rewrites the %XX escapes of s with lower-case hex digits.
func lowerHex(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			b.WriteByte('%')
			b.WriteString(strings.ToLower(s[i+1 : i+3]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// boardRequests are the requests that read board enc (its name as the
// browser and engine.io put it on the wire).
func boardRequests(enc string) []awssim.HTTPRequest {
	get := func(path, q string) awssim.HTTPRequest {
		return awssim.HTTPRequest{Method: "GET", Path: path, RawQuery: q, Host: "wbo.example.com"}
	}
	return []awssim.HTTPRequest{
		get("/boards/"+enc, ""),
		get("/socket.io/", "EIO=4&transport=polling&t=PZx1a2b&board="+enc),
		{Method: "POST", Path: "/socket.io/", RawQuery: "board=" + enc + "&EIO=4&transport=polling&sid=Zk3b9Xq_AAAB", Host: "wbo.example.com"},
		get("/socket.io/", "EIO=4&transport=websocket&sid=Zk3b9Xq_AAAB&board="+enc),
		get("/boards/"+enc+".svg", ""),
		get("/download/"+enc, ""),
		get("/preview/"+enc, ""),
		get("/export/"+enc, ""),
	}
}

// checkRouting routes every request of every name with the simulated ALB's
// rule evaluation and fails unless each reaches the one shard whose
// WBO_SHARD_KEYS (formatted and parsed back, as the sidecars get them) hold
// the board's key.
func checkRouting(t *testing.T, n int, names []string, reqs func(enc string) []awssim.HTTPRequest) {
	t.Helper()
	rules, err := Rules(n)
	if err != nil {
		t.Fatalf("Rules(%d): %v", n, err)
	}
	lrules := listenerRules(n, rules)
	keysOf := make([][]byte, n)
	for i, keys := range Partition(n) {
		parsed, err := ParseKeys(FormatKeys(keys))
		if err != nil {
			t.Fatal(err)
		}
		keysOf[i] = parsed
	}
	for _, name := range names {
		enc := EncodeURIComponent(name)
		key, err := KeyOfEncoded(enc)
		if err != nil {
			t.Fatalf("key of %q: %v", enc, err)
		}
		var owners []int
		for i, keys := range keysOf {
			if slices.Contains(keys, key) {
				owners = append(owners, i)
			}
		}
		if len(owners) != 1 {
			t.Fatalf("n=%d: board %q (key %02x) has owners %v", n, name, key, owners)
		}
		if n == 1 {
			continue // no rules: the default action forwards to the only shard
		}
		forms := []string{enc}
		if strings.Contains(enc, "%") {
			forms = append(forms, lowerHex(enc))
		}
		for _, form := range forms {
			for _, req := range reqs(form) {
				if got := routeOf(t, lrules, req, awssim.MatchOptions{}); got != owners[0] {
					t.Fatalf("n=%d: board %q: %s %s?%s went to shard %d, its keys are on shard %d",
						n, name, req.Method, req.Path, req.RawQuery, got, owners[0])
				}
			}
		}
	}
}

// coreRequests are the page, a polling request and the WebSocket upgrade.
func coreRequests(enc string) []awssim.HTTPRequest { return boardRequests(enc)[:4] }

// TestRulesRouteEveryBoardToItsOwner is the property test over 10,000
// generated names for the default two shards and the three of a re-shard:
// page, polling (GET and POST) and WebSocket upgrade of a board reach the
// one shard that stores it.
func TestRulesRouteEveryBoardToItsOwner(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 8))
	names := make([]string, 10_000)
	for i := range names {
		names[i] = genName(r)
	}
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			checkRouting(t, n, names, coreRequests)
		})
	}
}

// TestRulesRouteEveryKeyForEveryShardCount covers every shard count and
// every board route, with one name per first character (every letter,
// digit, _ ~ ( ) and the sample of scripts) plus random names.
func TestRulesRouteEveryKeyForEveryShardCount(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 55))
	var names []string
	for _, c := range firstChars {
		names = append(names, string(c)+"-x", strings.ToLower(string(c))+"bc")
	}
	for i := 0; i < 100; i++ {
		names = append(names, genName(r))
	}
	for n := 1; n <= config.MaxShards; n++ {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			checkRouting(t, n, names, boardRequests)
		})
	}
}

// TestRulesLeaveOtherRequestsToTheDefault: the index, /random, static files
// and the /boards?board= redirect reach any shard.
func TestRulesLeaveOtherRequestsToTheDefault(t *testing.T) {
	for _, n := range []int{2, 3, 7, config.MaxShards} {
		rules, err := Rules(n)
		if err != nil {
			t.Fatal(err)
		}
		lrules := listenerRules(n, rules)
		for _, p := range []string{"/", "/random", "/favicon.ico", "/js/board.js", "/tools/pencil/icon.svg",
			"/boards", "/manifest.json", "/rules", "/socket.io"} {
			req := awssim.HTTPRequest{Method: "GET", Path: p, RawQuery: "board=abc"}
			if p != "/boards" {
				req.RawQuery = ""
			}
			if got := routeOf(t, lrules, req, awssim.MatchOptions{}); got != -1 {
				t.Errorf("n=%d: %s went to shard %d, want the default action", n, p, got)
			}
		}
	}
}

// TestRulesUnderOtherReadings checks the readings of the documentation that
// albmatch.go did not choose (path and query compared percent-decoded): the
// ASCII names and every name the catch-all shard owns still route to their
// owner; a non-ASCII name owned by another shard would not. For 2 and 3
// shards (the default and the common case) every non-ASCII key is on the
// catch-all shard, so every name routes right under every reading.
func TestRulesUnderOtherReadings(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	readings := []awssim.MatchOptions{{DecodePath: true}, {DecodeQuery: true}, {DecodePath: true, DecodeQuery: true}}
	for n := 2; n <= config.MaxShards; n++ {
		rules, err := Rules(n)
		if err != nil {
			t.Fatal(err)
		}
		lrules := listenerRules(n, rules)
		wrong := 0
		for i := 0; i < 150; i++ {
			name := genName(r)
			enc := EncodeURIComponent(name)
			key, _ := KeyOfEncoded(enc)
			owner := Owner(n, key)
			for _, o := range readings {
				for _, req := range boardRequests(enc) {
					if got := routeOf(t, lrules, req, o); got != owner {
						if key < 0x80 || owner == n-1 {
							t.Fatalf("n=%d %+v: board %q (key %02x, owner %d) went to %d via %s?%s", n, o, name, key, owner, got, req.Path, req.RawQuery)
						}
						wrong++
					}
				}
			}
		}
		if n <= 3 && wrong > 0 {
			t.Fatalf("n=%d: %d requests misrouted under the decoded readings", n, wrong)
		}
	}
}

func TestRulesWithinQuotas(t *testing.T) {
	for n := 1; n <= config.MaxShards; n++ {
		rules, err := Rules(n)
		if err != nil {
			t.Fatalf("Rules(%d): %v", n, err)
		}
		if n == 1 && len(rules) != 0 {
			t.Fatalf("one shard needs no rules, got %d", len(rules))
		}
		if len(rules) > MaxRulesPerListener {
			t.Fatalf("n=%d: %d rules", n, len(rules))
		}
		for i, r := range rules {
			if r.Priority != FirstPriority+i {
				t.Fatalf("n=%d: rule %d has priority %d", n, i, r.Priority)
			}
			// The simulated CreateRule's validation, written independently
			// from the AWS documentation.
			if err := awssim.ValidateRuleConditions(r.Conditions); err != nil {
				t.Fatalf("n=%d rule %d: %v", n, r.Priority, err)
			}
		}
		// Socket rules come first: a polling request never evaluates a page rule.
		seenPage := false
		for _, r := range rules {
			if r.Kind == KindPage {
				seenPage = true
			} else if seenPage {
				t.Fatalf("n=%d: socket rule %d after a page rule", n, r.Priority)
			}
		}
		t.Logf("n=%2d: %2d rules (%d socket.io)", n, len(rules), countKind(rules, KindSocket))
	}
	// The default 2 shards: every request evaluates at most 10 rules (the
	// rule evaluations included in the LCU price).
	rules, _ := Rules(2)
	if len(rules) > 10 {
		t.Fatalf("2 shards need %d rules; more than 10 evaluations are billed", len(rules))
	}
}

func countKind(rules []Rule, kind string) int {
	c := 0
	for _, r := range rules {
		if r.Kind == kind {
			c++
		}
	}
	return c
}

func TestCheckRulesRejectsOverQuota(t *testing.T) {
	q := func(vals ...string) lbt.RuleCondition {
		c := lbt.RuleCondition{Field: aws.String(FieldQueryString), QueryStringConfig: &lbt.QueryStringConditionConfig{}}
		for _, v := range vals {
			c.QueryStringConfig.Values = append(c.QueryStringConfig.Values, lbt.QueryStringKeyValuePair{Key: aws.String("board"), Value: aws.String(v)})
		}
		return c
	}
	cases := map[string][]Rule{
		"four values in a condition": {{Priority: 1, Conditions: []lbt.RuleCondition{q("a*", "b*", "c*", "d*")}}},
		"six values in a rule":       {{Priority: 1, Conditions: []lbt.RuleCondition{q("a", "b", "c"), q("d", "e", "f")}}},
		"six wildcards":              {{Priority: 1, Conditions: []lbt.RuleCondition{q("a**", "b**"), q("c**")}}},
		"long value":                 {{Priority: 1, Conditions: []lbt.RuleCondition{q(strings.Repeat("x", 129))}}},
		"two path conditions":        {{Priority: 1, Conditions: []lbt.RuleCondition{socketPathCondition(), socketPathCondition()}}},
		"duplicate priority":         {{Priority: 1, Conditions: []lbt.RuleCondition{q("a")}}, {Priority: 1, Conditions: []lbt.RuleCondition{q("b")}}},
		"empty condition":            {{Priority: 1, Conditions: []lbt.RuleCondition{q()}}},
	}
	var many []Rule
	for i := 0; i <= MaxRulesPerListener; i++ {
		many = append(many, Rule{Priority: i + 1, Conditions: []lbt.RuleCondition{q("a")}})
	}
	cases["too many rules"] = many
	for name, rules := range cases {
		if err := CheckRules(rules); err == nil {
			t.Errorf("%s: CheckRules accepted it", name)
		}
	}
	if err := CheckRules([]Rule{{Priority: 1, Conditions: []lbt.RuleCondition{socketPathCondition(), q("a*", "b*", "c*")}}}); err != nil {
		t.Errorf("a socket rule at the limits: %v", err)
	}
}

// TestPathAlternativesCoverExactlyTheirKeys checks the regex building
// blocks byte by byte: an alternative set built for some keys matches the
// path form of exactly those keys, in both hex cases.
func TestPathAlternativesCoverExactlyTheirKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	var routable []byte
	for _, k := range AllKeys() {
		if Routable(k) {
			routable = append(routable, k)
		}
	}
	for trial := 0; trial < 60; trial++ {
		var keys []byte
		for _, k := range routable {
			if r.IntN(3) == 0 {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			continue
		}
		rules, err := pageRules(0, keys)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range AllKeys() {
			var forms []string
			switch {
			case k >= 'a' && k <= 'z':
				forms = []string{string(rune(k)), string(rune(k - 'a' + 'A'))}
			case k < 0x80:
				forms = []string{EncodeURIComponent(string(rune(k)))}
			default:
				forms = []string{fmt.Sprintf("%%%02X", k), fmt.Sprintf("%%%02x", k)}
			}
			want := slices.Contains(keys, k)
			for _, f := range forms {
				req := awssim.HTTPRequest{Method: "GET", Path: "/boards/" + f + "rest"}
				got := false
				for _, rule := range rules {
					got = got || awssim.MatchRuleWith(rule.Conditions, req, awssim.MatchOptions{DecodePath: false})
				}
				// The simulated ALB normalizes lower-case hex; check the raw
				// form against the regex too, as a load balancer that did not
				// normalize would see it.
				raw := false
				for _, rule := range rules {
					for _, re := range rule.Conditions[0].PathPatternConfig.RegexValues {
						raw = raw || regexpMatch(t, re, "/boards/"+f+"rest")
					}
				}
				if got != want || raw != want {
					t.Fatalf("keys %s: %q matched=%v raw=%v, want %v", Describe(keys), f, got, raw, want)
				}
			}
		}
	}
}

func TestDescribe(t *testing.T) {
	cases := map[string][]byte{
		"all":               AllKeys(),
		"a-c":               []byte("abc"),
		"a b":               []byte("ab"),
		"0-2 a x ~ %D0 %D1": {'0', '1', '2', 'a', 'x', '~', 0xd0, 0xd1},
		"z other":           {'z', '-', 0x80},
	}
	for want, keys := range cases {
		if got := Describe(keys); got != want {
			t.Errorf("Describe(%q) = %q, want %q", keys, got, want)
		}
	}
	for n := 2; n <= config.MaxShards; n++ {
		for i, keys := range Partition(n) {
			if d := Describe(keys); d == "" || !utf8.ValidString(d) {
				t.Fatalf("n=%d shard %d: %q", n, i, d)
			}
		}
	}
}
