package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestNamesDefaults(t *testing.T) {
	c := Default()
	want := Names{
		LoadBalancer:              "wbo-alb",
		TargetGroups:              []string{"wbo-shard-0", "wbo-shard-1"},
		Cluster:                   "wbo",
		Services:                  []string{"wbo-shard-0", "wbo-shard-1"},
		TaskFamilies:              []string{"wbo-shard-0", "wbo-shard-1"},
		LoadBalancerSecurityGroup: "wbo-alb",
		TasksSecurityGroup:        "wbo-tasks",
		RedisSecurityGroup:        "wbo-redis",
		ExecutionRole:             "wbo-execution",
		TaskRole:                  "wbo-task",
		RolePath:                  "/wbo-deploy/",
		LogGroup:                  "/wbo-deploy/wbo",
		ReplicationGroup:          "wbo-redis",
		CacheSubnetGroup:          "wbo-redis",
		AlarmTopic:                "wbo-alarms",
		Dashboard:                 "wbo",
	}
	if got := c.Names(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Names() =\n%#v\nwant\n%#v", got, want)
	}
	eq(t, "board bucket", c.BoardBucket("123456789012", "eu-west-1"), "wbo-boards-123456789012-eu-west-1")
	eq(t, "access-log bucket", c.AccessLogBucket("123456789012", "eu-west-1"), "wbo-alblogs-123456789012-eu-west-1")

	c.Storage.Bucket = "my-boards"
	eq(t, "board bucket from storage.bucket", c.BoardBucket("123456789012", "eu-west-1"), "my-boards")
}

func TestNamesByMode(t *testing.T) {
	c := Default()
	c.Stack = "team"
	c.App.Mode = ModeShared
	eq(t, "shared", c.ServiceNames(), []string{"team-app"})
	c.App.Mode = ModeSingle
	eq(t, "single", c.ServiceNames(), []string{"team-shard-0"})
	c.App.Mode = ModeSharded
	c.App.Shards = 3
	eq(t, "sharded", c.Names().TargetGroups, []string{"team-shard-0", "team-shard-1", "team-shard-2"})
	// Out-of-range shard counts are clamped, never a huge allocation or a panic.
	c.App.Shards = 1 << 40
	eq(t, "clamped", len(c.ServiceNames()), MaxShards)
	c.App.Shards = -3
	eq(t, "negative", len(c.ServiceNames()), 0)
}

// With the longest stack Validate accepts, every derived name fits its limit
// and rules, for every mode and the longest region: the limits in names.go
// and the checks in Validate cannot disagree.
func TestNamesFitAtMaximumStackLength(t *testing.T) {
	for _, mode := range []string{ModeSharded, ModeSingle, ModeShared} {
		c := Default()
		c.App.Mode, c.App.SharesState, c.App.Shards = mode, true, MaxShards
		c.Stack = "x"
		n := c.MaxStackLength(ExampleAccountID, LongestRegion)
		c.Stack = "s" + strings.Repeat("-s", (n-1)/2)
		if len(c.Stack) < n {
			c.Stack += "s"
		}
		if len(c.Stack) != n {
			t.Fatalf("%s: built a stack of %d characters, want %d", mode, len(c.Stack), n)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: stack at the maximum length rejected: %v", mode, err)
		}
		for _, ch := range c.nameChecks(ExampleAccountID, LongestRegion) {
			if len(ch.name) > ch.max {
				t.Errorf("%s: %s %q has %d characters, limit %d", mode, ch.what, ch.name, len(ch.name), ch.max)
			}
			if msg := ch.rule(ch.name); msg != "" {
				t.Errorf("%s: %s %q: %s", mode, ch.what, ch.name, msg)
			}
		}
		if err := c.CheckNames(ExampleAccountID, LongestRegion); err != nil {
			t.Errorf("%s: CheckNames: %v", mode, err)
		}
		// In shared mode the access-log bucket is the tightest name, so a
		// longer region than assumed would not fit: the region matters.
		if err := c.CheckNames(ExampleAccountID, LongestRegion+"x"); mode == ModeShared && err == nil {
			t.Errorf("%s: a region longer than the assumed worst case must make a name too long", mode)
		}
	}
}

func TestBucketNameProblem(t *testing.T) {
	good := []string{"abc", "my-boards", "my.boards.bucket", "a1-2-3", strings.Repeat("a", 63), "wbo-boards-123456789012-us-east-1", "sthree", "1.2.3"}
	for _, b := range good {
		if msg := BucketNameProblem(b); msg != "" {
			t.Errorf("%q rejected: %s", b, msg)
		}
	}
	bad := map[string]string{
		"ab":                    "3 to 63",
		strings.Repeat("a", 64): "3 to 63",
		"My-Bucket":             "lowercase",
		"my_bucket":             "lowercase",
		"-boards":               "begin and end",
		"boards.":               "begin and end",
		"my..boards":            "adjacent",
		"10.0.0.1":              "IP address",
		"xn--boards":            "xn--",
		"sthree-boards":         "sthree-",
		"sthree-configurator":   "sthree-",
		"amzn-s3-demo-boards":   "amzn-s3-demo-",
		"boards-s3alias":        "-s3alias",
		"boards--ol-s3":         "--ol-s3",
		"boards.mrap":           ".mrap",
		"boards--x-s3":          "--x-s3",
		"boards--table-s3":      "--table-s3",
		"bøards":                "lowercase",
	}
	for b, frag := range bad {
		msg := BucketNameProblem(b)
		if !strings.Contains(msg, frag) {
			t.Errorf("BucketNameProblem(%q) = %q, want mention of %q", b, msg, frag)
		}
	}
}
