package config

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Validate checks every setting and returns a *ValidationError listing all
// problems at once (exit code 2), or nil. It never panics, whatever the
// values: negative, huge, NaN and infinite numbers are reported like any other.
func (c *Config) Validate() error {
	var p problems
	if c == nil {
		p.add(FieldConfigFile, "", "no configuration")
		return p.err()
	}
	c.validateStack(&p)
	c.validateRegion(&p)
	c.validateTags(&p)
	c.validateNetwork(&p)
	c.validateStorage(&p)
	c.validateLogs(&p)
	c.validateRedis(&p)
	c.validateLoadBalancer(&p)
	c.validateAllowedCIDRs(&p)
	c.validateDomain(&p)
	c.validateApp(&p)
	c.validateAutoscaling(&p)
	c.validateAlarms(&p)
	c.validateCost(&p)
	c.validateState(&p)
	return p.err()
}

var (
	// A lowercase DNS label: it becomes part of every resource name, some of
	// which (S3 buckets, ElastiCache IDs) accept nothing else.
	stackRE = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)
	// Region codes of every partition in the SDK's partitions.json:
	// us-east-1, us-gov-west-1, cn-northwest-1, eusc-de-east-1, us-isof-south-1.
	regionRE = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+){1,2}-[0-9]{1,2}$`)
)

func (c *Config) validateStack(p *problems) {
	switch {
	case c.Stack == "":
		p.add("stack", "", "must not be empty: it names every resource of the stack")
		return
	case !stackRE.MatchString(c.Stack) || strings.Contains(c.Stack, "--"):
		p.add("stack", c.Stack, "%s is not a valid stack name: use at least 2 characters, lowercase letters, digits and single hyphens, starting with a letter and ending with a letter or digit", show(c.Stack))
		return
	}
	region := ""
	if regionRE.MatchString(c.Region) {
		region = c.Region
	}
	c.checkNames(ExampleAccountID, region, p)
}

func (c *Config) validateRegion(p *problems) {
	if c.Region != "" && !regionRE.MatchString(c.Region) {
		p.add("region", c.Region, "%s is not an AWS region code such as us-east-1 or eu-west-2", show(c.Region))
	}
}

// Tag limits. AWS allows 50 tags per resource, keys of up to 128 and values
// of up to 256 Unicode characters from letters, digits, spaces and _.:/=+-@
// (the set every tagging service accepts); the aws: prefix is reserved.
// wbo-deploy adds its own wbo-deploy:* tags, so users get 40.
const (
	MaxUserTags      = 40
	maxTagKeyRunes   = 128
	maxTagValueRunes = 256
)

var tagTextRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

func (c *Config) validateTags(p *problems) {
	if len(c.Tags) > MaxUserTags {
		p.add("tags", strconv.Itoa(len(c.Tags)), "has %d tags; at most %d are allowed (AWS allows 50 per resource and wbo-deploy adds its own)", len(c.Tags), MaxUserTags)
	}
	keys := sortedKeys(c.Tags)
	for _, k := range keys {
		v := c.Tags[k]
		f := keyField("tags", k)
		lk := strings.ToLower(k)
		switch {
		case k == "":
			p.add(f, k, "tag key must not be empty")
		case !utf8.ValidString(k) || utf8.RuneCountInString(k) > maxTagKeyRunes:
			p.add(f, k, "tag key must be valid UTF-8 of at most %d characters", maxTagKeyRunes)
		case strings.HasPrefix(lk, "aws:"):
			p.add(f, k, "tag keys starting with \"aws:\" are reserved by AWS")
		case strings.HasPrefix(lk, "wbo-deploy:"):
			p.add(f, k, "tag keys starting with \"wbo-deploy:\" are set by wbo-deploy itself")
		case !tagTextRE.MatchString(k):
			p.add(f, k, "tag key %s may contain only letters, digits, spaces and _.:/=+-@", show(k))
		}
		switch {
		case !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxTagValueRunes:
			p.add(f, v, "tag value must be valid UTF-8 of at most %d characters", maxTagValueRunes)
		case !tagTextRE.MatchString(v):
			p.add(f, v, "tag value %s may contain only letters, digits, spaces and _.:/=+-@", show(v))
		}
	}
}

// intRange records a problem unless lo <= v <= hi.
func intRange(p *problems, field string, v, lo, hi int) bool {
	if v < lo || v > hi {
		p.add(field, strconv.Itoa(v), "must be between %d and %d, got %d", lo, hi, v)
		return false
	}
	return true
}

// floatRange records a problem unless v is finite and lo <= v <= hi
// (lo excluded when openLow).
func floatRange(p *problems, field string, v, lo, hi float64, openLow bool) bool {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		p.add(field, s, "must be a finite number, got %s", s)
		return false
	}
	low := v < lo || (openLow && v == lo)
	if low || v > hi {
		bound := "between " + fmtFloat(lo) + " and " + fmtFloat(hi)
		if openLow {
			bound = "greater than " + fmtFloat(lo) + " and at most " + fmtFloat(hi)
		}
		p.add(field, s, "must be %s, got %s", bound, s)
		return false
	}
	return true
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// oneOf records a problem unless v is one of allowed.
func oneOf(p *problems, field, v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	p.add(field, v, "must be one of %s, got %s", strings.Join(allowed, ", "), show(v))
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// hasSpaceOrControl reports whether s has whitespace or control characters.
func hasSpaceOrControl(s string) bool {
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			return true
		}
	}
	return !utf8.ValidString(s)
}
