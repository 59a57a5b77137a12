package provision

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// policyDoc is an IAM policy document (identity, trust or bucket policy).
// Field order follows the IAM JSON policy element reference.
type policyDoc struct {
	Version   string       `json:"Version"`
	Statement []policyStmt `json:"Statement"`
}

type policyStmt struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal any            `json:"Principal,omitempty"`
	Action    any            `json:"Action"`
	Resource  any            `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// String renders the document as compact JSON.
func (d policyDoc) String() string {
	b, err := json.Marshal(d)
	if err != nil {
		panic("provision: policy document does not marshal: " + err.Error())
	}
	return string(b)
}

// decodeIAMDocument undoes the URL encoding IAM applies to policy documents
// it returns (GetRole, ListRoles, GetRolePolicy: "URL-encoded compliant with
// RFC 3986", IAM API reference). A document that is not encoded is returned
// unchanged.
func decodeIAMDocument(s string) string {
	if strings.HasPrefix(strings.TrimSpace(s), "{") {
		return s // plain JSON (S3 bucket policies, emulators)
	}
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

// policiesEqual compares two policy documents by meaning, not text: IAM and
// S3 may return a document with other whitespace, key order, statement order
// or a single value where a one-element list was sent, and the list values
// of a policy (actions, resources, principals, condition values, statements)
// are sets. Scalars compare as strings (a boolean condition value false and
// "false" are the same to IAM). Unparsable documents compare by text.
func policiesEqual(a, b string) bool {
	ca, errA := canonicalPolicy(a)
	cb, errB := canonicalPolicy(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return ca == cb
}

func canonicalPolicy(doc string) (string, error) {
	var v any
	if err := json.Unmarshal([]byte(decodeIAMDocument(doc)), &v); err != nil {
		return "", fmt.Errorf("policy document is not JSON: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return "", fmt.Errorf("policy document is not a JSON object")
	}
	delete(m, "Id") // an optional identifier, not part of what the policy allows
	b, err := json.Marshal(canonical(m))
	return string(b), err
}

// canonical turns every scalar into a one-element list of its string form and
// sorts every list, so set-equal documents marshal identically. Empty "Sid"
// values are dropped (IAM treats a missing and an empty Sid alike).
func canonical(v any) any {
	if s, ok := scalarString(v); ok {
		return []any{s}
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if k == "Sid" && e == "" {
				continue
			}
			out[k] = canonical(e)
		}
		return out
	case []any:
		items := make([]string, 0, len(x))
		for _, e := range x {
			var b []byte
			if s, ok := scalarString(e); ok {
				b, _ = json.Marshal(s)
			} else {
				b, _ = json.Marshal(canonical(e))
			}
			items = append(items, string(b))
		}
		sort.Strings(items)
		out := make([]any, len(items))
		for i, s := range items {
			out[i] = json.RawMessage(s)
		}
		return out
	}
	return v
}

func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

// arnPartition is the partition of the run ("aws" when unknown).
func arnPartition(env *Env) string {
	if env.AWS != nil && env.AWS.Partition != "" {
		return env.AWS.Partition
	}
	return "aws"
}

func bucketARN(env *Env, bucket string) string {
	return "arn:" + arnPartition(env) + ":s3:::" + bucket
}
