package awssim

import (
	"path"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// tagMap copies EC2 tag specifications of the given resource type.
func ec2TagsFromSpecs(specs []ec2types.TagSpecification, rt ec2types.ResourceType) map[string]string {
	m := map[string]string{}
	for _, s := range specs {
		if s.ResourceType == rt {
			for _, t := range s.Tags {
				m[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
		}
	}
	return m
}

func ec2Tags(m map[string]string) []ec2types.Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]ec2types.Tag, 0, len(m))
	for _, k := range keys {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func copyTags(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// fieldsFunc returns the values of a filter name for one resource.
type fieldsFunc func(name string) []string

// matchFilters applies EC2 filter semantics: every filter must match; within
// a filter any value may match; values may use * and ? wildcards.
func matchFilters(filters []ec2types.Filter, tags map[string]string, fields fieldsFunc) bool {
	for _, f := range filters {
		name := aws.ToString(f.Name)
		var have []string
		switch {
		case len(name) > 4 && name[:4] == "tag:":
			if v, ok := tags[name[4:]]; ok {
				have = []string{v}
			}
		case name == "tag-key":
			for k := range tags {
				have = append(have, k)
			}
		default:
			have = fields(name)
		}
		if !anyMatch(f.Values, have) {
			return false
		}
	}
	return true
}

func anyMatch(patterns, have []string) bool {
	for _, p := range patterns {
		for _, h := range have {
			if ok, _ := path.Match(p, h); ok || p == h {
				return true
			}
		}
	}
	return false
}

// paginate returns the page of items starting at token, of at most max
// items (0 = all), and the next token.
func paginate[T any](items []T, max *int32, token *string) ([]T, *string) {
	start := 0
	if token != nil {
		if n, err := strconv.Atoi(*token); err == nil && n >= 0 && n <= len(items) {
			start = n
		}
	}
	end := len(items)
	if max != nil && *max > 0 && start+int(*max) < end {
		end = start + int(*max)
	}
	var next *string
	if end < len(items) {
		next = aws.String(strconv.Itoa(end))
	}
	return items[start:end], next
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
