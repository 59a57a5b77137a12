package main

import (
	"strings"
	"testing"
	"time"
)

// FuzzFlagsAndEnv feeds hostile flag and environment values to `plan`
// --offline: it never panics, and either works (exit 0) or exits 2
// naming the field it refused.
func FuzzFlagsAndEnv(f *testing.F) {
	for _, s := range [][3]string{
		{"wbo", "eu-west-1", "2"},
		{"", "", ""},
		{"has space", "us-east-1", "two"},
		{"UPPER", "mars-north-1", "-1"},
		{strings.Repeat("a", 300), "us-east-1\n", "99999999999999999999"},
		{"wbo--x", "eu-west-1", "0x10"},
		{"тест", "ap-southeast-1", "1e3"},
		{"internal", "us-gov-west-1", " 3 "},
		{"sg-x", "", "NaN"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, stack, region, shards string) {
		c := newCLI(t)
		c.env = []string{"WBO_DEPLOY_APP_SHARDS=" + shards}
		done := make(chan result, 1)
		go func() { done <- c.run("--stack", stack, "--region", region, "plan", "--offline", "-o", "json") }()
		var r result
		select {
		case r = <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("plan hung for stack=%q region=%q shards=%q", stack, region, shards)
		}
		switch r.code {
		case 0:
		case 2:
			named := false
			for _, field := range []string{"stack", "region", "app.shards", "network.", "--"} {
				if strings.Contains(r.err, field) {
					named = true
				}
			}
			if !named {
				t.Fatalf("exit 2 without naming a field:\n%s", r.err)
			}
		default:
			t.Fatalf("exit %d for stack=%q region=%q shards=%q:\n%s", r.code, stack, region, shards, r.err)
		}
		if len(c.cloud.Calls()) != 0 {
			t.Fatal("an offline plan called AWS")
		}
	})
}
