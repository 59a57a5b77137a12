package awssim

import (
	"strings"
	"testing"
)

func ctxOf(kv ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = append(m[kv[i]], kv[i+1])
	}
	return m
}

// TestParsePolicyGrammar follows "Grammar of the IAM JSON policy language"
// and the element pages: what parses and what IAM rejects as malformed.
func TestParsePolicyGrammar(t *testing.T) {
	good := []string{
		// Statement as a single object ("IAM JSON policy elements: Statement").
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`,
		// Statement as an array, lists, Sid, NotAction/NotResource.
		`{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"A","Effect":"Allow","Action":["s3:Get*","ec2:Describe?pcs"],"Resource":["arn:aws:s3:::b/*"]},
		  {"Sid":"B","Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:iam::1:role/x"}]}`,
		// Version is optional (2008-10-17 applies).
		`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		// Condition values may be booleans and numbers.
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:max-keys":10}}}]}`,
	}
	for _, d := range good {
		if _, err := ParsePolicy(d); err != nil {
			t.Errorf("ParsePolicy(%s): %v", d, err)
		}
	}
	bad := map[string]string{
		"not json":           `{"Version":`,
		"bad version":        `{"Version":"2020-01-01","Statement":[]}`,
		"no statement":       `{"Version":"2012-10-17"}`,
		"unknown top field":  `{"Version":"2012-10-17","Statements":[]}`,
		"bad effect":         `{"Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`,
		"action and not":     `{"Statement":[{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}]}`,
		"no action":          `{"Statement":[{"Effect":"Allow","Resource":"*"}]}`,
		"no resource":        `{"Statement":[{"Effect":"Allow","Action":"*"}]}`,
		"resource not arn":   `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"bucket"}]}`,
		"action no vendor":   `{"Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}`,
		"unknown operator":   `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringSortOf":{"k":"v"}}}]}`,
		"unknown qualifier":  `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForSomeValues:StringLike":{"k":"v"}}}]}`,
		"duplicate sid":      `{"Statement":[{"Sid":"a","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"a","Effect":"Allow","Action":"*","Resource":"*"}]}`,
		"unknown stmt field": `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Actions":"x"}]}`,
	}
	for name, d := range bad {
		_, err := ParsePolicy(d)
		if err == nil {
			t.Errorf("%s: ParsePolicy accepted %s", name, d)
			continue
		}
		if !strings.HasPrefix(err.Error(), "MalformedPolicyDocument") {
			t.Errorf("%s: error %q is not a MalformedPolicyDocument", name, err)
		}
	}
}

// TestEvaluateLogic: "Policy evaluation logic": implicit deny by default, an
// Allow allows, an explicit Deny in any policy overrides every Allow.
func TestEvaluateLogic(t *testing.T) {
	allowS3 := MustParsePolicy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	denyPut := MustParsePolicy(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}`)
	notAction := MustParsePolicy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`)
	notResource := MustParsePolicy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::secret*"}]}`)
	cases := []struct {
		name     string
		policies []*Policy
		req      AuthzRequest
		want     Decision
	}{
		{"no policy", nil, AuthzRequest{Action: "s3:GetObject", Resource: "*"}, ImplicitDeny},
		{"allow", []*Policy{allowS3}, AuthzRequest{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, Allowed},
		{"other service", []*Policy{allowS3}, AuthzRequest{Action: "ec2:RunInstances", Resource: "*"}, ImplicitDeny},
		{"deny wins across policies", []*Policy{allowS3, denyPut}, AuthzRequest{Action: "s3:PutObject", Resource: "arn:aws:s3:::b/k"}, ExplicitDeny},
		{"deny resource does not match", []*Policy{allowS3, denyPut}, AuthzRequest{Action: "s3:PutObject", Resource: "arn:aws:s3:::c/k"}, Allowed},
		{"deny alone", []*Policy{denyPut}, AuthzRequest{Action: "s3:PutObject", Resource: "arn:aws:s3:::b/k"}, ExplicitDeny},
		// "IAM JSON policy elements: Action": action names are case-insensitive.
		{"action case", []*Policy{allowS3}, AuthzRequest{Action: "S3:getobject", Resource: "*"}, Allowed},
		// "IAM JSON policy elements: NotAction": allows everything but the listed.
		{"notaction other", []*Policy{notAction}, AuthzRequest{Action: "ec2:RunInstances", Resource: "*"}, Allowed},
		{"notaction listed", []*Policy{notAction}, AuthzRequest{Action: "iam:PassRole", Resource: "*"}, ImplicitDeny},
		// "IAM JSON policy elements: NotResource".
		{"notresource other", []*Policy{notResource}, AuthzRequest{Action: "s3:GetObject", Resource: "arn:aws:s3:::public/k"}, Allowed},
		{"notresource listed", []*Policy{notResource}, AuthzRequest{Action: "s3:GetObject", Resource: "arn:aws:s3:::secret-b/k"}, ImplicitDeny},
	}
	for _, c := range cases {
		if got := Evaluate(c.policies, c.req); got != c.want {
			t.Errorf("%s: Evaluate = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestWildcards: "IAM JSON policy elements: Action" (* and ? in action
// names) and "IAM JSON policy elements: Resource" (wildcards in each ARN
// segment; a * ending a segment may run past the colon; in the resource part
// * spans slashes).
func TestWildcards(t *testing.T) {
	cases := []struct {
		action, resource  string // patterns
		reqAction, reqRes string
		want              bool
	}{
		{"s3:Get*", "*", "s3:GetObjectTagging", "arn:aws:s3:::b", true},
		{"s3:Get*", "*", "s3:PutObject", "arn:aws:s3:::b", false},
		{"ec2:Describe?pcs", "*", "ec2:DescribeVpcs", "*", true},
		{"ec2:Describe?pcs", "*", "ec2:DescribeVVpcs", "*", false},
		{"*", "*", "iam:CreateRole", "arn:aws:iam::1:role/r", true},
		{"s3:*", "arn:aws:s3:::b/*", "s3:GetObject", "arn:aws:s3:::b/a/b/c", true},
		{"s3:*", "arn:aws:s3:::b/*", "s3:GetObject", "arn:aws:s3:::bb/a", false},
		{"s3:*", "arn:aws:s3:::b/*/test/*", "s3:GetObject", "arn:aws:s3:::b/1/2/test/3/o.jpg", true},
		{"s3:*", "arn:aws:s3:::b?", "s3:ListBucket", "arn:aws:s3:::bc", true},
		{"s3:*", "arn:aws:s3:::b?", "s3:ListBucket", "arn:aws:s3:::bcd", false},
		// Resource ARNs are case-sensitive.
		{"s3:*", "arn:aws:s3:::B", "s3:ListBucket", "arn:aws:s3:::b", false},
		// A * ending a segment may run past the colon ...
		{"logs:*", "arn:aws:logs:*:123:log-group:wbo-*", "logs:CreateLogGroup", "arn:aws:logs:us-east-1:123:log-group:wbo-x:*", true},
		{"ec2:*", "arn:aws:ec2:*", "ec2:CreateVpc", "arn:aws:ec2:us-east-1:123:vpc/vpc-1", true},
		// ... a * inside a segment does not.
		{"ec2:*", "arn:aws:ec2:us-*1:123:vpc/*", "ec2:CreateVpc", "arn:aws:ec2:us-east-1:123:vpc/vpc-1", true},
		{"ec2:*", "arn:aws:ec2:us-*1:123:vpc/*", "ec2:CreateVpc", "arn:aws:ec2:us-east-2:x1:123:vpc/vpc-1", false},
		{"ec2:*", "arn:aws:ec2:*:124:vpc/*", "ec2:CreateVpc", "arn:aws:ec2:us-east-1:123:vpc/vpc-1", false},
		// "*" matches actions without a resource type (Resource "*").
		{"ec2:DescribeVpcs", "arn:aws:ec2:*:*:vpc/*", "ec2:DescribeVpcs", "*", false},
	}
	for _, c := range cases {
		p := MustParsePolicy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + c.action + `","Resource":"` + c.resource + `"}]}`)
		got := Evaluate([]*Policy{p}, AuthzRequest{Action: c.reqAction, Resource: c.reqRes}) == Allowed
		if got != c.want {
			t.Errorf("Action %s Resource %s vs %s on %s: allowed=%v, want %v", c.action, c.resource, c.reqAction, c.reqRes, got, c.want)
		}
	}
}

// TestConditions: "IAM JSON policy elements: Condition operators" and
// "Single-valued vs. multivalued context keys".
func TestConditions(t *testing.T) {
	cases := []struct {
		name string
		cond string
		ctx  map[string][]string
		want bool
	}{
		{"StringEquals match", `{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}`, ctxOf("iam:PassedToService", "ecs-tasks.amazonaws.com"), true},
		{"StringEquals any of values", `{"StringEquals":{"ec2:CreateAction":["CreateVpc","CreateSubnet"]}}`, ctxOf("ec2:CreateAction", "CreateSubnet"), true},
		{"StringEquals other", `{"StringEquals":{"ec2:CreateAction":["CreateVpc"]}}`, ctxOf("ec2:CreateAction", "RunInstances"), false},
		// "If the key ... is not present in the request context, the values do not match and the condition is false."
		{"StringEquals missing key", `{"StringEquals":{"ec2:CreateAction":"CreateVpc"}}`, nil, false},
		{"StringEquals case-sensitive value", `{"StringEquals":{"k":"Abc"}}`, ctxOf("k", "abc"), false},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"k":"Abc"}}`, ctxOf("k", "abc"), true},
		// Condition key names are case-insensitive ("Condition element").
		{"key name case", `{"StringEquals":{"AWS:SourceAccount":"1"}}`, ctxOf("aws:sourceaccount", "1"), true},
		// "... such as StringNotLike or ArnNotLike, and the right key is not present, the condition is true."
		{"StringNotEquals missing key", `{"StringNotEquals":{"k":"a"}}`, nil, true},
		{"StringNotEquals other", `{"StringNotEquals":{"k":["a","b"]}}`, ctxOf("k", "c"), true},
		{"StringNotEquals listed", `{"StringNotEquals":{"k":["a","b"]}}`, ctxOf("k", "b"), false},
		{"StringLike", `{"StringLike":{"s3:prefix":["home/*","doc?"]}}`, ctxOf("s3:prefix", "docs"), true},
		{"StringLike no", `{"StringLike":{"s3:prefix":["home/*"]}}`, ctxOf("s3:prefix", "etc/x"), false},
		{"StringNotLike missing", `{"StringNotLike":{"s3:prefix":"home/*"}}`, nil, true},
		{"StringNotLike match", `{"StringNotLike":{"s3:prefix":"home/*"}}`, ctxOf("s3:prefix", "home/a"), false},
		{"ArnLike", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*:123:cluster/*"}}`, ctxOf("aws:SourceArn", "arn:aws:ecs:us-east-1:123:cluster/wbo"), true},
		{"ArnEquals wildcard", `{"ArnEquals":{"aws:SourceArn":"arn:aws:ecs:*:123:cluster/*"}}`, ctxOf("aws:SourceArn", "arn:aws:ecs:us-east-1:123:cluster/wbo"), true},
		{"ArnLike other account", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*:123:cluster/*"}}`, ctxOf("aws:SourceArn", "arn:aws:ecs:us-east-1:999:cluster/wbo"), false},
		{"ArnNotLike missing", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:ecs:*"}}`, nil, true},
		{"Bool true", `{"Bool":{"aws:SecureTransport":"false"}}`, ctxOf("aws:SecureTransport", "false"), true},
		{"Bool json bool", `{"Bool":{"aws:SecureTransport":false}}`, ctxOf("aws:SecureTransport", "true"), false},
		{"Bool missing", `{"Bool":{"aws:SecureTransport":"false"}}`, nil, false},
		// "Null condition operator": true = the key must be absent.
		{"Null true absent", `{"Null":{"aws:RequestTag/env":"true"}}`, nil, true},
		{"Null true present", `{"Null":{"aws:RequestTag/env":"true"}}`, ctxOf("aws:RequestTag/env", "x"), false},
		{"Null false present", `{"Null":{"aws:RequestTag/env":"false"}}`, ctxOf("aws:RequestTag/env", "x"), true},
		{"Null false absent", `{"Null":{"aws:RequestTag/env":"false"}}`, nil, false},
		// "...IfExists: if the key is not present, the condition is true."
		{"IfExists missing", `{"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}`, nil, true},
		{"IfExists present other", `{"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}`, ctxOf("ec2:InstanceType", "m5.large"), false},
		{"IfExists present same", `{"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}`, ctxOf("ec2:InstanceType", "t3.micro"), true},
		{"ArnLikeIfExists missing", `{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:x:*"}}`, nil, true},
		// ForAllValues: every request value is in the set; an empty or missing key is true.
		{"ForAllValues subset", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctxOf("aws:TagKeys", "a", "aws:TagKeys", "b"), true},
		{"ForAllValues extra", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctxOf("aws:TagKeys", "a", "aws:TagKeys", "c"), false},
		{"ForAllValues missing", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}`, nil, true},
		{"ForAllValues empty", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}`, map[string][]string{"aws:TagKeys": {}}, true},
		{"ForAllValues StringNotLike", `{"ForAllValues:StringNotLike":{"aws:TagKeys":["aws:*"]}}`, ctxOf("aws:TagKeys", "a", "aws:TagKeys", "b"), true},
		{"ForAllValues StringNotLike hit", `{"ForAllValues:StringNotLike":{"aws:TagKeys":["aws:*"]}}`, ctxOf("aws:TagKeys", "a", "aws:TagKeys", "aws:x"), false},
		// ForAnyValue: at least one request value is in the set; a missing key is false.
		{"ForAnyValue one", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["x"]}}`, ctxOf("aws:TagKeys", "a", "aws:TagKeys", "x"), true},
		{"ForAnyValue none", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["x"]}}`, ctxOf("aws:TagKeys", "a"), false},
		{"ForAnyValue missing", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["x"]}}`, nil, false},
		{"ForAnyValue StringNotEquals", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a"]}}`, ctxOf("aws:TagKeys", "a", "aws:TagKeys", "b"), true},
		{"ForAnyValue StringNotEquals all listed", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a"]}}`, ctxOf("aws:TagKeys", "a"), false},
		// Several keys or operators: all must hold (AND).
		{"AND keys", `{"StringEquals":{"a":"1","b":"2"}}`, ctxOf("a", "1", "b", "3"), false},
		{"AND operators", `{"StringEquals":{"a":"1"},"StringLike":{"b":"2*"}}`, ctxOf("a", "1", "b", "22"), true},
		{"Numeric", `{"NumericLessThanEquals":{"s3:max-keys":"10"}}`, ctxOf("s3:max-keys", "10"), true},
		{"Numeric over", `{"NumericLessThan":{"s3:max-keys":10}}`, ctxOf("s3:max-keys", "11"), false},
		{"NumericNotEquals missing", `{"NumericNotEquals":{"n":"1"}}`, nil, true},
		{"Date", `{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`, ctxOf("aws:CurrentTime", "2026-12-03T12:00:00Z"), true},
		{"Date after", `{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`, ctxOf("aws:CurrentTime", "2026-12-03T12:00:00Z"), false},
		{"IpAddress", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctxOf("aws:SourceIp", "10.1.2.3"), true},
		{"NotIpAddress", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctxOf("aws:SourceIp", "192.168.0.1"), true},
		// "IAM policy elements: Variables": ${key} takes the request value;
		// a variable with no value makes the condition not match.
		{"variable", `{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, ctxOf("s3:prefix", "home/bob/x", "aws:username", "bob"), true},
		{"variable other user", `{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, ctxOf("s3:prefix", "home/eve/x", "aws:username", "bob"), false},
		{"variable missing", `{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, ctxOf("s3:prefix", "home//x"), false},
		{"variable default", `{"StringEquals":{"k":"${aws:username, 'nobody'}"}}`, ctxOf("k", "nobody"), true},
		{"literal star", `{"StringLike":{"k":"a${*}"}}`, ctxOf("k", "ab"), false},
		{"literal star matches star", `{"StringLike":{"k":"a${*}"}}`, ctxOf("k", "a*"), true},
	}
	for _, c := range cases {
		p, err := ParsePolicy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":` + c.cond + `}]}`)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := Evaluate([]*Policy{p}, AuthzRequest{Action: "s3:ListBucket", Resource: "*", Context: c.ctx}) == Allowed
		if got != c.want {
			t.Errorf("%s: condition %s with %v: %v, want %v", c.name, c.cond, c.ctx, got, c.want)
		}
	}
}

// TestVariablesNeedVersion2012: "IAM policy elements: Variables" - in a
// policy without Version 2012-10-17 a variable is literal text.
func TestVariablesNeedVersion2012(t *testing.T) {
	old := MustParsePolicy(`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}`)
	cur := MustParsePolicy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}`)
	r := AuthzRequest{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/bob/k", Context: ctxOf("aws:username", "bob")}
	if Evaluate([]*Policy{old}, r) != ImplicitDeny {
		t.Error("2008-10-17 policy substituted a variable")
	}
	if Evaluate([]*Policy{cur}, r) != Allowed {
		t.Error("2012-10-17 policy did not substitute ${aws:username}")
	}
	r.Resource = "arn:aws:s3:::b/eve/k"
	if Evaluate([]*Policy{cur}, r) != ImplicitDeny {
		t.Error("variable matched another user's prefix")
	}
}

// TestDenyWithCondition: a Deny applies only when its condition holds, so a
// Deny on a missing key with a negated operator denies (the common
// "deny unless tagged" pattern).
func TestDenyWithCondition(t *testing.T) {
	p := MustParsePolicy(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ec2:*","Resource":"*"},
		{"Effect":"Deny","Action":"ec2:CreateVpc","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestTag/team":"wbo"}}}]}`)
	if d := Evaluate([]*Policy{p}, AuthzRequest{Action: "ec2:CreateVpc", Resource: "*"}); d != ExplicitDeny {
		t.Errorf("untagged: %v, want ExplicitDeny", d)
	}
	if d := Evaluate([]*Policy{p}, AuthzRequest{Action: "ec2:CreateVpc", Resource: "*", Context: ctxOf("aws:RequestTag/team", "wbo")}); d != Allowed {
		t.Errorf("tagged: %v, want Allowed", d)
	}
}

// TestPrincipal: resource-based policies ("AWS JSON policy elements:
// Principal"): a named principal, an account standing for its principals,
// "*" for everyone.
func TestPrincipal(t *testing.T) {
	p := MustParsePolicy(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:GetObject","Resource":"*"},
		{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"*"}]}`)
	cases := []struct {
		principal, action string
		want              Decision
	}{
		{"arn:aws:iam::111111111111:role/r", "s3:GetObject", Allowed},
		{"arn:aws:iam::222222222222:role/r", "s3:GetObject", ImplicitDeny},
		{"logging.s3.amazonaws.com", "s3:PutObject", Allowed},
		{"arn:aws:iam::111111111111:role/r", "s3:PutObject", ImplicitDeny},
	}
	for _, c := range cases {
		if got := Evaluate([]*Policy{p}, AuthzRequest{Action: c.action, Resource: "arn:aws:s3:::b/k", Principal: c.principal}); got != c.want {
			t.Errorf("%s %s: %v, want %v", c.principal, c.action, got, c.want)
		}
	}
}
