package shard

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// rules.go turns Partition into Application Load Balancer listener rules.
//
// Which requests read a board (whitebophir server/server.mjs, handleRequest
// and handleBoardsRoute):
//   - /boards/<name> (the page) and /boards/<name>.svg; any other
//     /boards/<x.y> is a static file, /boards?board=<name> only redirects;
//   - /download/<name>; /preview/<name> and /export/<name> (one handler);
//   - socket.io at /socket.io/, the board in the "board" query parameter of
//     every polling request and of the WebSocket upgrade.
//
// Everything else (/, /random, static files) reads no board and goes to the
// listener's default action (all shards, weighted).
//
// Rule design (quotas in quota.go):
//   - socket.io: a path-pattern "/socket.io/*" plus one query-string
//     condition on key "board" with up to 3 values such as "s*" or "%D0*".
//     Query-string matching is case-insensitive (so "s*" also takes "S...",
//     and "%D0*" also "%d0...") and has wildcards but no regex (ELBv2 API
//     reference, QueryStringConditionConfig). engine.io-client writes every
//     query value with encodeURIComponent (socket.io monorepo,
//     packages/engine.io-client/lib/contrib/parseqs.ts, encode), so a
//     non-ASCII name starts with %XX. The ALB compares values as sent: no
//     AWS page says it decodes them for rule matching,
//     QueryStringConditionConfig says "Any character can be percentage
//     encoded", and the ALB user guide ("Lambda functions as targets") says
//     "If the query parameters are URL-encoded, the load balancer does not
//     decode them" (seen by users: aws-powertools/powertools-lambda-python
//     #7940, adamchainz/apig-wsgi#253); internal/awssim/albmatch.go reads it
//     the same way. For 2 and 3 shards every non-ASCII key is on the
//     catch-all shard, so their routing does not depend on this reading.
//   - board routes: one path-pattern condition with regex values
//     (PathPatternConditionConfig.RegexValues), which is case-sensitive, so
//     letters are listed in both cases ("[sS]") and lead bytes in both hex
//     cases ("%[Dd]0"). Plain path patterns cannot do this within the quotas:
//     "(", ")" and "%" are not allowed in them, and every "/boards/s*" value
//     uses a wildcard (5 per rule).
//   - the last shard's rules are catch-alls placed after the others: every
//     socket.io request, every board route. It owns the keys no explicit rule
//     names, whatever their encoding.
//   - socket.io rules come first, heaviest key groups first: polling is most
//     of the traffic, and rule evaluations beyond the first 10 per request
//     are billed (Elastic Load Balancing pricing, LCU "rule evaluations").

// FirstPriority is the priority of the first rule; 1-99 stay free for rules
// a user adds by hand in front of the board rules (maintenance pages).
const FirstPriority = 100

// Routes are WBO's first path segments whose handler reads a board.
var Routes = []string{"boards", "download", "preview", "export"}

// SocketPath is the socket.io path and BoardParam its board parameter.
const (
	SocketPath = "/socket.io/"
	BoardParam = "board"
)

// Condition fields (ELBv2 RuleCondition.Field).
const (
	FieldPathPattern = "path-pattern"
	FieldQueryString = "query-string"
)

// Rule kinds.
const (
	KindSocket = "socket" // socket.io requests, by query string
	KindPage   = "page"   // board routes, by path
)

// Rule is one listener rule: requests matching all Conditions go to Shard.
type Rule struct {
	Priority   int
	Shard      int
	Kind       string
	Keys       []byte // keys it routes explicitly (nil for a catch-all)
	Conditions []elbv2types.RuleCondition
}

// CatchAll reports whether the rule routes every request of its kind.
func (r Rule) CatchAll() bool { return len(r.Keys) == 0 }

// Rules returns the listener rules for n shards, in priority order from
// FirstPriority. One shard needs none (the default action forwards to it).
// The rules are checked against the quotas.
func Rules(n int) ([]Rule, error) {
	parts := Partition(n)
	if parts == nil {
		return nil, fmt.Errorf("shard count %d: want 1..%d", n, config.MaxShards)
	}
	if n == 1 {
		return nil, nil
	}
	last := n - 1
	var socket, page []Rule
	for i := 0; i < last; i++ {
		keys := slices.Clone(parts[i])
		// Heaviest keys first, so the rules most requests match come early.
		slices.SortStableFunc(keys, func(a, b byte) int {
			switch {
			case keyWeights[a] > keyWeights[b]:
				return -1
			case keyWeights[a] < keyWeights[b]:
				return 1
			}
			return int(a) - int(b)
		})
		for len(keys) > 0 {
			take := min(len(keys), MaxValuesPerCondition)
			socket = append(socket, socketRule(i, keys[:take]))
			keys = keys[take:]
		}
		pr, err := pageRules(i, parts[i])
		if err != nil {
			return nil, err
		}
		page = append(page, pr...)
	}
	slices.SortStableFunc(socket, func(a, b Rule) int {
		wa, wb := weightOf(a.Keys), weightOf(b.Keys)
		switch {
		case wa > wb:
			return -1
		case wa < wb:
			return 1
		}
		return a.Shard - b.Shard
	})
	socket = append(socket, Rule{Shard: last, Kind: KindSocket, Conditions: []elbv2types.RuleCondition{socketPathCondition()}})
	page = append(page, Rule{Shard: last, Kind: KindPage, Conditions: []elbv2types.RuleCondition{
		regexCondition([]string{routePrefix() + ".*$"}),
	}})
	rules := append(socket, page...)
	for i := range rules {
		rules[i].Priority = FirstPriority + i
	}
	if err := CheckRules(rules); err != nil {
		return nil, err
	}
	return rules, nil
}

func weightOf(keys []byte) float64 {
	w := 0.0
	for _, k := range keys {
		w += keyWeights[k]
	}
	return w
}

func socketPathCondition() elbv2types.RuleCondition {
	return elbv2types.RuleCondition{
		Field:             aws.String(FieldPathPattern),
		PathPatternConfig: &elbv2types.PathPatternConditionConfig{Values: []string{SocketPath + "*"}},
	}
}

func socketRule(shard int, keys []byte) Rule {
	pairs := make([]elbv2types.QueryStringKeyValuePair, len(keys))
	for i, k := range keys {
		pairs[i] = elbv2types.QueryStringKeyValuePair{Key: aws.String(BoardParam), Value: aws.String(queryPrefix(k) + "*")}
	}
	return Rule{Shard: shard, Kind: KindSocket, Keys: slices.Clone(keys), Conditions: []elbv2types.RuleCondition{
		socketPathCondition(),
		{Field: aws.String(FieldQueryString), QueryStringConfig: &elbv2types.QueryStringConditionConfig{Values: pairs}},
	}}
}

// queryPrefix is how a name with key k starts in an engine.io query value:
// the character itself for letters and digits, %XX for a lead byte.
func queryPrefix(k byte) string {
	if k < 0x80 {
		return string(rune(k))
	}
	return fmt.Sprintf("%%%02X", k)
}

func regexCondition(values []string) elbv2types.RuleCondition {
	return elbv2types.RuleCondition{
		Field:             aws.String(FieldPathPattern),
		PathPatternConfig: &elbv2types.PathPatternConditionConfig{RegexValues: values},
	}
}

// routePrefix matches the start of every board route, up to the name:
// `^\/(boards|download|preview|export)\/` (slashes escaped as in the ALB
// documentation's examples).
func routePrefix() string {
	return `^\/(` + strings.Join(Routes, "|") + `)\/`
}

// pageRules are the regex rules routing board routes of the names with keys
// to shard. Alternatives are packed into regexes of at most
// MaxValueLength characters, and those into rules of at most
// MaxValuesPerCondition values.
func pageRules(shard int, keys []byte) ([]Rule, error) {
	alts, err := pathAlternatives(keys)
	if err != nil {
		return nil, fmt.Errorf("shard %d: %w", shard, err)
	}
	prefix, suffix := routePrefix()+"(", ").*$"
	var regexes []string
	cur := ""
	for _, a := range alts {
		next := a
		if cur != "" {
			next = cur + "|" + a
		}
		if len(prefix)+len(next)+len(suffix) > MaxValueLength {
			if cur == "" {
				return nil, fmt.Errorf("shard %d: path alternative %q does not fit a %d-character regex", shard, a, MaxValueLength)
			}
			regexes = append(regexes, prefix+cur+suffix)
			next = a
		}
		cur = next
	}
	if cur != "" {
		regexes = append(regexes, prefix+cur+suffix)
	}
	var out []Rule
	for len(regexes) > 0 {
		take := min(len(regexes), MaxValuesPerCondition)
		out = append(out, Rule{Shard: shard, Kind: KindPage, Keys: slices.Clone(keys),
			Conditions: []elbv2types.RuleCondition{regexCondition(slices.Clone(regexes[:take]))}})
		regexes = regexes[take:]
	}
	return out, nil
}

// pathAlternatives are regex alternatives matching the first character(s)
// of a path-encoded name with one of keys: one bracket expression for the
// ASCII letters (both cases) and digits, and one "%[Hh][lo...]" per high
// nibble of lead bytes (both hex cases).
func pathAlternatives(keys []byte) ([]string, error) {
	var ascii []byte
	nibbles := map[byte][]byte{}
	var highs []byte
	for _, k := range keys {
		switch {
		case k >= 'a' && k <= 'z':
			ascii = append(ascii, k, k-'a'+'A')
		case k >= '0' && k <= '9':
			ascii = append(ascii, k)
		case k >= 0x80:
			h := k >> 4
			if _, ok := nibbles[h]; !ok {
				highs = append(highs, h)
			}
			nibbles[h] = append(nibbles[h], k&0xf)
		default:
			// Not routable: only the catch-all shard may own such keys.
			return nil, fmt.Errorf("key %02x cannot be routed by an explicit rule", k)
		}
	}
	var alts []string
	if len(ascii) > 0 {
		alts = append(alts, "["+bracket(ascii)+"]")
	}
	slices.Sort(highs)
	for _, h := range highs {
		alts = append(alts, "%"+hexClass([]byte{h})+hexClass(nibbles[h]))
	}
	return alts, nil
}

// hexClass matches one hex digit out of ds, in either case: "7", "[Dd]",
// "[0-3Aa]".
func hexClass(ds []byte) string {
	var chars []byte
	for _, d := range ds {
		c := "0123456789ABCDEF"[d]
		chars = append(chars, c)
		if c >= 'A' {
			chars = append(chars, c-'A'+'a')
		}
	}
	if len(chars) == 1 {
		return string(chars)
	}
	return "[" + bracket(chars) + "]"
}

// bracket renders the contents of a bracket expression for chars, with
// runs of three or more consecutive characters as ranges, digits first, then
// upper-case, then lower-case letters.
func bracket(chars []byte) string {
	set := slices.Clone(chars)
	slices.Sort(set)
	set = slices.Compact(set)
	var b strings.Builder
	for i := 0; i < len(set); {
		j := i
		for j+1 < len(set) && set[j+1] == set[j]+1 && sameClass(set[i], set[j+1]) {
			j++
		}
		switch {
		case j-i >= 2:
			b.WriteByte(set[i])
			b.WriteByte('-')
			b.WriteByte(set[j])
		default:
			for _, c := range set[i : j+1] {
				b.WriteByte(c)
			}
		}
		i = j + 1
	}
	return b.String()
}

func sameClass(a, b byte) bool {
	class := func(c byte) int {
		switch {
		case c >= '0' && c <= '9':
			return 0
		case c >= 'A' && c <= 'Z':
			return 1
		case c >= 'a' && c <= 'z':
			return 2
		}
		return 3
	}
	return class(a) == class(b)
}
