package shard

import (
	"regexp"
	"testing"
)

func regexpMatch(t *testing.T, re, s string) bool {
	t.Helper()
	c, err := regexp.Compile(re)
	if err != nil {
		t.Fatalf("regex %q: %v", re, err)
	}
	return c.MatchString(s)
}
