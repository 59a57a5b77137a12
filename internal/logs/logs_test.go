package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
)

const group = "/wbo-deploy/wbo"

var base = time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)

// setup returns a simulated account holding the log group, and a client.
func setup(t *testing.T) (*awssim.Cloud, awsclients.LogsAPI) {
	t.Helper()
	c := awssim.New(awssim.Options{})
	cl, err := awsclients.New(context.Background(), awsclients.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATED", "secret", ""),
		APIOptions:  c.APIOptions(),
		RetryMode:   "standard",
		MaxAttempts: 3,
		MaxBackoff:  time.Millisecond,
		Getenv:      func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Logs.CreateLogGroup(context.Background(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	return c, cl.Logs
}

func at(min int, msg string) awssim.LogEvent {
	return awssim.LogEvent{Time: base.Add(time.Duration(min) * time.Minute), Message: msg}
}

// noSleep makes waits instant (tests never depend on wall-clock timing).
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func run(t *testing.T, api LogsAPI, o Options) []string {
	t.Helper()
	var buf bytes.Buffer
	o.Group, o.Out = group, &buf
	if o.Now == nil {
		o.Now = func() time.Time { return base }
	}
	if o.Sleep == nil {
		o.Sleep = noSleep
	}
	if err := Run(context.Background(), api, o); err != nil {
		t.Fatalf("run: %v", err)
	}
	out := strings.TrimSuffix(buf.String(), "\n")
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func TestOrderingAcrossStreamsAndSince(t *testing.T) {
	c, api := setup(t)
	c.AppendLogEvents(group, "shard-1/wbo/bbbb", at(-9, "b one"), at(-3, "b two"))
	c.AppendLogEvents(group, "shard-0/wbo/aaaa", at(-20, "too old"), at(-8, "a one"), at(-1, "a two\n"))
	lines := run(t, api, Options{})
	want := []string{
		"2030-05-01T11:51:00.000Z shard-1/wbo/bbbb b one",
		"2030-05-01T11:52:00.000Z shard-0/wbo/aaaa a one",
		"2030-05-01T11:57:00.000Z shard-1/wbo/bbbb b two",
		"2030-05-01T11:59:00.000Z shard-0/wbo/aaaa a two",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	lines = run(t, api, Options{Since: 30 * time.Minute})
	if len(lines) != 5 || !strings.HasSuffix(lines[0], "too old") {
		t.Fatalf("--since 30m: %v", lines)
	}
	lines = run(t, api, Options{Since: 2 * time.Minute})
	if len(lines) != 1 || !strings.HasSuffix(lines[0], "a two") {
		t.Fatalf("--since 2m: %v", lines)
	}
	// Events after "now" (clock skew, or written while we read) are not part
	// of a non-following read.
	c.AppendLogEvents(group, "shard-0/wbo/aaaa", at(1, "future"))
	if lines := run(t, api, Options{}); len(lines) != 4 {
		t.Fatalf("with a later event: %v", lines)
	}
}

func TestFilterPattern(t *testing.T) {
	c, api := setup(t)
	c.AppendLogEvents(group, "shard-0/wbo/aaaa", at(-5, "GET /boards/x 200"), at(-4, "Error: ENOENT board.json"), at(-3, "socket connected"), at(-2, "Error: timeout"))
	lines := run(t, api, Options{Filter: `"Error:" -timeout`})
	if len(lines) != 1 || !strings.HasSuffix(lines[0], "Error: ENOENT board.json") {
		t.Fatalf("filter: %v", lines)
	}
	lines = run(t, api, Options{Filter: "?GET ?socket"})
	if len(lines) != 2 {
		t.Fatalf("OR filter: %v", lines)
	}
}

func TestPaginationAcrossPages(t *testing.T) {
	c, api := setup(t)
	n := 3*awssim.LogFilterPageSize + 7
	var evs []awssim.LogEvent
	for i := range n {
		evs = append(evs, awssim.LogEvent{Time: base.Add(-time.Duration(n-i) * time.Second), Message: fmt.Sprintf("line %03d", i)})
	}
	c.AppendLogEvents(group, "app/wbo/cccc", evs...)
	c.SetLogFilterEmptyPages(2) // AWS may answer empty pages with a token
	c.ResetCalls()
	lines := run(t, api, Options{})
	if len(lines) != n {
		t.Fatalf("%d lines, want %d", len(lines), n)
	}
	for i, l := range lines {
		if !strings.HasSuffix(l, fmt.Sprintf("line %03d", i)) {
			t.Fatalf("line %d: %s", i, l)
		}
	}
	calls := 0
	for _, k := range c.Calls() {
		if k.Operation == "FilterLogEvents" {
			calls++
		}
	}
	if calls != 2+4 {
		t.Fatalf("%d FilterLogEvents calls, want 6 (2 empty pages, 4 pages of events)", calls)
	}
}

func TestJSONMode(t *testing.T) {
	c, api := setup(t)
	c.AppendLogEvents(group, "shard-3/wbo/0123456789abcdef", at(-1, `board "x" saved`))
	c.AppendLogEvents(group, "app/backup/fedcba", at(-2, "synced"))
	lines := run(t, api, Options{JSON: true})
	if len(lines) != 2 {
		t.Fatalf("lines %v", lines)
	}
	var a, b Event
	if err := json.Unmarshal([]byte(lines[0]), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &b); err != nil {
		t.Fatal(err)
	}
	if a.Message != "synced" || a.Shard != nil || a.Task != "fedcba" || a.Container != "backup" || !a.Timestamp.Equal(base.Add(-2*time.Minute)) {
		t.Fatalf("first event %+v", a)
	}
	if b.Message != `board "x" saved` || b.Shard == nil || *b.Shard != 3 || b.Task != "0123456789abcdef" || b.EventID == "" {
		t.Fatalf("second event %+v", b)
	}
}

func TestShardAndTask(t *testing.T) {
	c, api := setup(t)
	c.AppendLogEvents(group, "shard-0/wbo/task-a", at(-3, "a main"))
	c.AppendLogEvents(group, "shard-0/backup/task-a", at(-2, "a sidecar"))
	c.AppendLogEvents(group, "shard-0/wbo/task-old", at(-4, "old task of shard 0"))
	c.AppendLogEvents(group, "shard-1/wbo/task-b", at(-1, "b main"))
	c.AppendLogEvents(group, "shard-10/wbo/task-c", at(-1, "shard ten"))
	one := 1
	if lines := run(t, api, Options{Shard: &one}); len(lines) != 1 || !strings.HasSuffix(lines[0], "b main") {
		t.Fatalf("--shard 1: %v", lines)
	}
	lines := run(t, api, Options{TaskID: "arn:aws:ecs:us-east-1:123456789012:task/wbo/task-a"})
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "a main") || !strings.HasSuffix(lines[1], "a sidecar") {
		t.Fatalf("--task: %v", lines)
	}
	var buf bytes.Buffer
	err := Run(context.Background(), api, Options{Group: group, Out: &buf, TaskID: "nope", Now: func() time.Time { return base }})
	var tnf *TaskNotFoundError
	if !errors.As(err, &tnf) || tnf.Task != "nope" {
		t.Fatalf("unknown task: %v", err)
	}
}

func TestMissingGroupAndBadOptions(t *testing.T) {
	_, api := setup(t)
	err := Run(context.Background(), api, Options{Group: "/wbo-deploy/other", Out: &bytes.Buffer{}})
	var gnf *GroupNotFoundError
	if !errors.As(err, &gnf) || !strings.Contains(err.Error(), "/wbo-deploy/other") {
		t.Fatalf("missing group: %v", err)
	}
	neg := -1
	if err := Run(context.Background(), api, Options{Group: group, Shard: &neg}); err == nil || !strings.Contains(err.Error(), "--shard") {
		t.Fatalf("negative shard: %v", err)
	}
	if err := Run(context.Background(), api, Options{}); err == nil {
		t.Fatal("no group accepted")
	}
}

func TestFollowPrintsNewEventsOnceAndStopsOnCancel(t *testing.T) {
	c, api := setup(t)
	c.AppendLogEvents(group, "shard-0/wbo/aaaa", at(-2, "before"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var buf bytes.Buffer
	polls := 0
	// Each poll the test writes what the app would have logged meanwhile;
	// on the fourth it presses Ctrl-C.
	sleepHook := func(ctx context.Context, _ time.Duration) error {
		polls++
		switch polls {
		case 1:
			c.AppendLogEvents(group, "shard-0/wbo/aaaa", at(1, "first new"))
		case 2:
			c.AppendLogEvents(group, "shard-1/wbo/bbbb", at(2, "second new"))
		case 3:
			// Ingested late, with a timestamp before the newest event
			// printed but within the lookback.
			c.AppendLogEvents(group, "shard-0/wbo/aaaa", awssim.LogEvent{Time: base.Add(time.Minute + 30*time.Second), Message: "late"})
		case 4:
			cancel()
		}
		return ctx.Err()
	}
	err := Run(ctx, api, Options{Group: group, Out: &buf, Follow: true, Now: func() time.Time { return base }, Sleep: sleepHook, Lookback: time.Minute})
	if err != nil {
		t.Fatalf("follow ended with %v, want nil on cancel", err)
	}
	var msgs []string
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		msgs = append(msgs, strings.SplitN(l, " ", 3)[2])
	}
	if strings.Join(msgs, ",") != "before,first new,second new,late" {
		t.Fatalf("printed %q", buf.String())
	}
	if polls != 4 {
		t.Fatalf("%d polls", polls)
	}
}

func TestThrottlingSurvived(t *testing.T) {
	c, api := setup(t)
	c.AppendLogEvents(group, "shard-0/wbo/aaaa", at(-1, "hello"))
	c.SetThrottling(1) // every call throttled: the SDK's 3 attempts run out
	backoffs := 0
	var delays []time.Duration
	var buf bytes.Buffer
	err := Run(context.Background(), api, Options{Group: group, Out: &buf, Now: func() time.Time { return base },
		Sleep: func(ctx context.Context, d time.Duration) error {
			backoffs++
			delays = append(delays, d)
			if backoffs == 3 {
				c.SetThrottling(0)
			}
			return nil
		}})
	if err != nil {
		t.Fatalf("throttling not survived: %v", err)
	}
	if !strings.HasSuffix(strings.TrimSpace(buf.String()), "hello") || backoffs != 3 || delays[1] != 2*delays[0] {
		t.Fatalf("output %q after %d backoffs %v", buf.String(), backoffs, delays)
	}
	// Throttled for good: a clear error after the bounded retries.
	c.SetThrottling(1)
	err = Run(context.Background(), api, Options{Group: group, Out: &bytes.Buffer{}, Sleep: noSleep, ThrottleRetries: 2})
	if err == nil || !strings.Contains(err.Error(), "read log group") {
		t.Fatalf("persistent throttling: %v", err)
	}
}

func TestParseSince(t *testing.T) {
	for in, want := range map[string]time.Duration{"10m": 10 * time.Minute, "1h30m": 90 * time.Minute, "2d": 48 * time.Hour, "0s": 0} {
		got, err := ParseSince(in)
		if err != nil || got != want {
			t.Errorf("ParseSince(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "ten", "-5m", "1.5d", "-1d", "99999d"} {
		// The caller names the flag; the message names the value, once.
		if _, err := ParseSince(bad); err == nil || strings.Contains(err.Error(), "--since") || !strings.Contains(err.Error(), fmt.Sprintf("%q", bad)) {
			t.Errorf("ParseSince(%q): %v", bad, err)
		}
	}
}
