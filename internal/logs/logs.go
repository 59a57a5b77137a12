// Package logs tails the app's CloudWatch Logs group for `wbo-deploy logs`.
//
// Stream naming (the contract with the compute tier's task definitions): the
// awslogs log driver names each stream <prefix>/<container>/<task-id>
// (awslogs-stream-prefix; Amazon ECS developer guide, "Using the awslogs log
// driver"), and wbo-deploy sets the prefix to "shard-<i>" for shard i
// (single mode is shard-0) and "app" in shared mode. So --shard N reads the
// streams under "shard-N/", and --task ID the streams ending in "/ID".
//
// Events come from FilterLogEvents, followed page by page through NextToken
// (a page may be empty while more follow, FilterLogEvents reference), in
// timestamp order across streams. --follow polls again from a little before
// the newest event seen, so late-ingested events are not lost, and drops
// events already printed by their event ID. Throttling is retried by the SDK;
// when its attempts run out, Run backs off and tries again. Cancelling the
// context (Ctrl-C) ends a follow cleanly.
package logs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
)

// LogsAPI is what Run calls; awsclients.LogsAPI satisfies it.
type LogsAPI interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
	DescribeLogStreams(ctx context.Context, in *cloudwatchlogs.DescribeLogStreamsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogStreamsOutput, error)
}

// Defaults.
const (
	DefaultSince    = 10 * time.Minute
	DefaultPoll     = 2 * time.Second
	DefaultLookback = 30 * time.Second
	// DefaultThrottleRetries is how many times Run backs off after the SDK
	// gave up on a throttled call, before reporting the error.
	DefaultThrottleRetries = 8
)

// Options select what to print and how.
type Options struct {
	Group  string        // log group name (config.Names().LogGroup)
	Since  time.Duration // how far back to start; 0 = DefaultSince
	Follow bool          // keep polling for new events until ctx ends
	Filter string        // CloudWatch Logs filter pattern
	TaskID string        // only this task (ID or task ARN)
	Shard  *int          // only this shard's streams ("shard-N/")
	Prefix string        // only streams under this prefix ("app"); Shard wins
	JSON   bool          // one JSON object per line instead of text
	Out    io.Writer     // default os.Stdout

	Now      func() time.Time                                 // default time.Now
	Poll     time.Duration                                    // delay between follow polls; default DefaultPoll
	Lookback time.Duration                                    // follow re-reads this far before the newest event; default DefaultLookback
	Sleep    func(ctx context.Context, d time.Duration) error // default a timer that ends with ctx
	// ThrottleRetries bounds Run's own backoffs after the SDK's retries are
	// exhausted (default DefaultThrottleRetries; negative = none).
	ThrottleRetries int
	// Empty, when set, is called once when the window [from, to] holds no
	// event, so the command can say so instead of printing nothing.
	Empty func(from, to time.Time)
}

// GroupNotFoundError says the log group does not exist.
type GroupNotFoundError struct{ Group string }

func (e *GroupNotFoundError) Error() string {
	return fmt.Sprintf("log group %s does not exist (has `wbo-deploy up` run for this stack and region?)", e.Group)
}

// TaskNotFoundError says no stream belongs to the task.
type TaskNotFoundError struct{ Group, Task, Prefix string }

func (e *TaskNotFoundError) Error() string {
	where := ""
	if e.Prefix != "" {
		where = " under " + e.Prefix
	}
	return fmt.Sprintf("no log stream of task %s in %s%s (streams are named <shard-N|app>/<container>/<task-id>; `wbo-deploy status` lists the running tasks)", e.Task, e.Group, where)
}

// Event is one log line as Run prints it in JSON mode.
type Event struct {
	Timestamp time.Time `json:"timestamp"`
	Stream    string    `json:"stream"`
	Shard     *int      `json:"shard,omitempty"`
	Task      string    `json:"task,omitempty"`
	Container string    `json:"container,omitempty"`
	Message   string    `json:"message"`
	EventID   string    `json:"event_id"`
	Ingested  time.Time `json:"ingestion_time"`
}

// ParseSince reads a --since value: a Go duration ("10m", "1h30m") or a
// number of days ("2d").
func ParseSince(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n > 3653 {
			return 0, fmt.Errorf("%q: days must be a whole number from 0 to 3653, such as 2d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 10m, 2h or 3d", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q must not be negative (it counts back from now: 10m is ten minutes ago)", s)
	}
	return d, nil
}

type tail struct {
	api  LogsAPI
	o    Options
	out  io.Writer
	seen map[string]int64 // event ID -> timestamp (ms)
	last int64            // newest timestamp printed (ms)

	prefix  string   // stream name prefix, with trailing "/"
	streams []string // explicit streams (task filter)
}

// Run prints the group's events since o.Since, then, with o.Follow, new
// events until ctx ends (returning nil then).
func Run(ctx context.Context, api LogsAPI, o Options) error {
	if o.Group == "" {
		return errors.New("no log group given")
	}
	if o.Since < 0 {
		return fmt.Errorf("--since must not be negative (got %s)", o.Since)
	}
	if o.Shard != nil && *o.Shard < 0 {
		return fmt.Errorf("--shard must be 0 or more (got %d)", *o.Shard)
	}
	if o.Since == 0 {
		o.Since = DefaultSince
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Lookback <= 0 {
		o.Lookback = DefaultLookback
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.ThrottleRetries == 0 {
		o.ThrottleRetries = DefaultThrottleRetries
	}
	t := &tail{api: api, o: o, out: o.Out, seen: map[string]int64{}}
	if t.out == nil {
		t.out = os.Stdout
	}
	switch {
	case o.Shard != nil:
		t.prefix = fmt.Sprintf("shard-%d/", *o.Shard)
	case o.Prefix != "":
		t.prefix = strings.TrimSuffix(o.Prefix, "/") + "/"
	}
	err := t.run(ctx)
	if err != nil && ctx.Err() != nil && o.Follow {
		return nil // Ctrl-C while following is the normal way out
	}
	return err
}

func (t *tail) run(ctx context.Context) error {
	now := t.o.Now()
	start := now.Add(-t.o.Since).UnixMilli()
	if t.o.TaskID != "" {
		found, err := t.resolveTask(ctx)
		if err != nil {
			return err
		}
		if !found && !t.o.Follow {
			return &TaskNotFoundError{Group: t.o.Group, Task: taskID(t.o.TaskID), Prefix: t.prefix}
		}
	}
	var end *int64
	if !t.o.Follow {
		end = aws.Int64(now.UnixMilli())
	}
	if t.o.TaskID == "" || len(t.streams) > 0 {
		if err := t.fetch(ctx, start, end); err != nil {
			return err
		}
	}
	if len(t.seen) == 0 && t.o.Empty != nil {
		t.o.Empty(time.UnixMilli(start), now)
	}
	if !t.o.Follow {
		return nil
	}
	for {
		if err := t.o.Sleep(ctx, t.o.Poll); err != nil {
			return err
		}
		if t.o.TaskID != "" {
			if _, err := t.resolveTask(ctx); err != nil {
				return err
			}
			if len(t.streams) == 0 {
				continue
			}
		}
		from := start
		if t.last > 0 {
			from = max(start, t.last-t.o.Lookback.Milliseconds())
		}
		if err := t.fetch(ctx, from, nil); err != nil {
			return err
		}
		for id, ts := range t.seen {
			if ts < from {
				delete(t.seen, id)
			}
		}
	}
}

// taskID accepts a task ID or a task ARN (…:task/<cluster>/<id>).
func taskID(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// resolveTask finds the streams of o.TaskID (one per container).
func (t *tail) resolveTask(ctx context.Context) (bool, error) {
	id := taskID(t.o.TaskID)
	var names []string
	in := &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(t.o.Group)}
	if t.prefix != "" {
		in.LogStreamNamePrefix = aws.String(t.prefix)
	}
	for {
		var out *cloudwatchlogs.DescribeLogStreamsOutput
		err := t.retry(ctx, func() (err error) {
			out, err = t.api.DescribeLogStreams(ctx, in)
			return err
		})
		if err != nil {
			return false, err
		}
		for _, s := range out.LogStreams {
			if n := aws.ToString(s.LogStreamName); strings.HasSuffix(n, "/"+id) || n == id {
				names = append(names, n)
			}
		}
		if out.NextToken == nil || aws.ToString(out.NextToken) == aws.ToString(in.NextToken) {
			break
		}
		in.NextToken = out.NextToken
	}
	// FilterLogEvents takes at most 100 stream names; a task has one
	// stream per container.
	if len(names) > 100 {
		names = names[:100]
	}
	t.streams = names
	return len(names) > 0, nil
}

// fetch prints every page of events from start (ms) to end (ms, nil = no end).
func (t *tail) fetch(ctx context.Context, start int64, end *int64) error {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(t.o.Group), StartTime: aws.Int64(start), EndTime: end}
	if t.o.Filter != "" {
		in.FilterPattern = aws.String(t.o.Filter)
	}
	if len(t.streams) > 0 {
		in.LogStreamNames = t.streams
	} else if t.prefix != "" {
		in.LogStreamNamePrefix = aws.String(t.prefix)
	}
	for {
		var out *cloudwatchlogs.FilterLogEventsOutput
		err := t.retry(ctx, func() (err error) {
			out, err = t.api.FilterLogEvents(ctx, in)
			return err
		})
		if err != nil {
			return err
		}
		for _, e := range out.Events {
			if err := t.print(e); err != nil {
				return err
			}
		}
		if out.NextToken == nil || aws.ToString(out.NextToken) == aws.ToString(in.NextToken) {
			return nil
		}
		in.NextToken = out.NextToken
	}
}

// retry runs call, backing off when it fails with throttling after the
// SDK's own attempts.
func (t *tail) retry(ctx context.Context, call func() error) error {
	delay := time.Second
	for attempt := 0; ; attempt++ {
		err := call()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if awserr.IsNotFound(err) {
			return &GroupNotFoundError{Group: t.o.Group}
		}
		if !awserr.IsThrottle(err) || attempt >= t.o.ThrottleRetries {
			return fmt.Errorf("read log group %s: %w", t.o.Group, err)
		}
		if err := t.o.Sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(delay*2, 30*time.Second)
	}
}

func (t *tail) print(e types.FilteredLogEvent) error {
	id := aws.ToString(e.EventId)
	ts := aws.ToInt64(e.Timestamp)
	if _, dup := t.seen[id]; dup && id != "" {
		return nil
	}
	t.seen[id] = ts
	t.last = max(t.last, ts)
	ev := describe(e)
	var line string
	if t.o.JSON {
		js, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("encode event: %w", err)
		}
		line = string(js)
	} else {
		line = ev.Timestamp.Format("2006-01-02T15:04:05.000Z07:00") + " " + ev.Stream + " " + ev.Message
	}
	if _, err := io.WriteString(t.out, line+"\n"); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// describe splits the stream name <prefix>/<container>/<task-id>.
func describe(e types.FilteredLogEvent) Event {
	stream := aws.ToString(e.LogStreamName)
	ev := Event{
		Timestamp: time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC(),
		Ingested:  time.UnixMilli(aws.ToInt64(e.IngestionTime)).UTC(),
		Stream:    stream,
		Message:   strings.TrimRight(aws.ToString(e.Message), "\r\n"),
		EventID:   aws.ToString(e.EventId),
	}
	parts := strings.SplitN(stream, "/", 3)
	if len(parts) == 3 {
		ev.Container, ev.Task = parts[1], parts[2]
		if n, ok := strings.CutPrefix(parts[0], "shard-"); ok {
			if i, err := strconv.Atoi(n); err == nil {
				ev.Shard = &i
			}
		}
	}
	return ev
}

func sleep(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
