package security

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// statement is one statement of an IAM, trust or bucket policy, with every
// element that may be a string or a list normalised to a list (IAM JSON
// policy element reference).
type statement struct {
	Sid        string
	Effect     string
	Principals map[string][]string // "*" principal: {"*": ["*"]}
	Actions    []string
	NotAction  []string
	Resources  []string
	Condition  map[string]map[string][]string
}

// parsePolicy decodes a policy document as IAM or S3 return it: IAM
// URL-encodes documents (RFC 3986, IAM API reference GetRole and
// GetRolePolicy), S3 returns plain JSON.
func parsePolicy(doc string) ([]statement, error) {
	if !strings.HasPrefix(strings.TrimSpace(doc), "{") {
		d, err := url.QueryUnescape(doc)
		if err != nil {
			return nil, fmt.Errorf("policy document is neither JSON nor URL-encoded: %w", err)
		}
		doc = d
	}
	var raw struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, fmt.Errorf("policy document: %w", err)
	}
	var stmts []map[string]any
	if err := json.Unmarshal(raw.Statement, &stmts); err != nil {
		var one map[string]any
		if err2 := json.Unmarshal(raw.Statement, &one); err2 != nil {
			return nil, fmt.Errorf("policy Statement: %w", err)
		}
		stmts = []map[string]any{one}
	}
	var out []statement
	for _, m := range stmts {
		s := statement{Principals: map[string][]string{}, Condition: map[string]map[string][]string{}}
		s.Sid, _ = m["Sid"].(string)
		s.Effect, _ = m["Effect"].(string)
		s.Actions = strList(m["Action"])
		s.NotAction = strList(m["NotAction"])
		s.Resources = strList(m["Resource"])
		switch p := m["Principal"].(type) {
		case string:
			s.Principals[p] = []string{p}
		case map[string]any:
			for k, v := range p {
				s.Principals[k] = strList(v)
			}
		}
		if c, ok := m["Condition"].(map[string]any); ok {
			for op, kv := range c {
				s.Condition[op] = map[string][]string{}
				if kvm, ok := kv.(map[string]any); ok {
					for k, v := range kvm {
						s.Condition[op][k] = strList(v)
					}
				}
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// strList turns a JSON string, bool, number or list of them into strings.
func strList(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case bool:
		return []string{fmt.Sprint(x)}
	case float64:
		return []string{fmt.Sprint(x)}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, strList(e)...)
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

// public reports whether the statement's principal is everyone ("*" or
// {"AWS": "*"}).
func (s statement) public() bool {
	if _, ok := s.Principals["*"]; ok {
		return true
	}
	for _, p := range s.Principals["AWS"] {
		if p == "*" {
			return true
		}
	}
	return false
}

// accounts returns the AWS account IDs named as principals.
func (s statement) accounts() []string {
	re := regexp.MustCompile(`^(?:arn:[a-z-]+:iam::)?(\d{12})(?::.*)?$`)
	var out []string
	for _, p := range s.Principals["AWS"] {
		if m := re.FindStringSubmatch(p); m != nil {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

// allows reports whether an Allow statement's actions cover action (IAM
// action names are case-insensitive; * and ? are wildcards).
func (s statement) allows(action string) bool {
	if s.Effect != "Allow" {
		return false
	}
	for _, a := range s.Actions {
		if globMatch(a, action) {
			return true
		}
	}
	return false
}

// globMatch matches an IAM action or resource pattern.
func globMatch(pattern, s string) bool {
	var b strings.Builder
	b.WriteString("(?i)^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()).MatchString(s)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
