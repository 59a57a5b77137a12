package awssim

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	lt "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// CloudWatch Logs: log groups (retention, tags), streams and events,
// FilterLogEvents with the plain-text filter pattern syntax, and a minimal
// Logs Insights. Error codes: CloudWatch Logs API reference, "Common errors"
// and each operation's Errors section (ResourceAlreadyExistsException,
// ResourceNotFoundException, InvalidParameterException,
// MalformedQueryException).

// LogFilterPageSize is how many events one simulated FilterLogEvents page
// holds at most (AWS pages by 1 MB or 10,000 events); small, so pagination is
// exercised by ordinary tests.
const LogFilterPageSize = 25

type logEvent struct {
	id     string
	stream string
	ts     int64 // ms
	ingest int64 // ms
	seq    int64 // ingestion order, tie-breaker
	msg    string
}

type logStream struct {
	name    string
	created int64
	events  []*logEvent
}

type logGroup struct {
	name      string
	created   int64
	retention int32 // 0 = never expire
	tags      map[string]string
	streams   map[string]*logStream
}

type logQuery struct {
	id      string
	groups  []string
	query   string
	start   int64
	end     int64
	started time.Time
	polls   int
}

type logsSim struct {
	c       *Cloud
	groups  map[string]*logGroup
	queries map[string]*logQuery
	seq     int64
	// EmptyPages makes FilterLogEvents answer this many empty pages with a
	// NextToken before the real results, as AWS does when a search runs out
	// of time ("can return empty results while there are more log events
	// available through the token", FilterLogEvents reference).
	emptyPages int
}

func init() {
	register("CloudWatch Logs", func(c *Cloud) any {
		return &logsSim{c: c, groups: map[string]*logGroup{}, queries: map[string]*logQuery{}}
	})
}

func (c *Cloud) logs() *logsSim { return c.services["CloudWatch Logs"].(*logsSim) }

func (s *logsSim) inventory() []Resource {
	var out []Resource
	for _, n := range sortedKeys(s.groups) {
		out = append(out, Resource{"CloudWatch Logs", "log-group", n, copyTags(s.groups[n].tags)})
	}
	return out
}

func logsInvalid(format string, args ...any) error {
	return apiError("InvalidParameterException", format, args...)
}

func logsNotFound(format string, args ...any) error {
	return apiError("ResourceNotFoundException", format, args...)
}

// The log group ARN used for tagging has no ":*" suffix; LogGroup.Arn has it
// (DescribeLogGroups reference: arn ends with ":*", logGroupArn does not).
func (s *logsSim) groupARN(name string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", s.c.Region, s.c.Account, name)
}

var logGroupNameRE = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)

// retentionValues are the values PutRetentionPolicy accepts (RetentionInDays,
// CloudWatch Logs API reference).
var retentionValues = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func (s *logsSim) nowMS() int64 { return s.c.now().UnixMilli() }

func (s *logsSim) group(name, id *string) (*logGroup, error) {
	n := aws.ToString(name)
	if n != "" && aws.ToString(id) != "" {
		return nil, logsInvalid("specify either logGroupName or logGroupIdentifier, not both")
	}
	if n == "" {
		n = aws.ToString(id)
		if i := strings.Index(n, ":log-group:"); i >= 0 {
			n = strings.TrimSuffix(n[i+len(":log-group:"):], ":*")
		}
	}
	if n == "" {
		return nil, logsInvalid("logGroupName is required")
	}
	g, ok := s.groups[n]
	if !ok {
		return nil, logsNotFound("The specified log group does not exist.")
	}
	return g, nil
}

func (s *logsSim) CreateLogGroup(_ context.Context, in *cloudwatchlogs.CreateLogGroupInput) (*cloudwatchlogs.CreateLogGroupOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	name := aws.ToString(in.LogGroupName)
	if !logGroupNameRE.MatchString(name) {
		return nil, logsInvalid("1 validation error detected: Value '%s' at 'logGroupName' failed to satisfy constraint", name)
	}
	if _, ok := s.groups[name]; ok {
		return nil, apiError("ResourceAlreadyExistsException", "The specified log group already exists")
	}
	if len(in.Tags) > 50 {
		return nil, logsInvalid("at most 50 tags are allowed")
	}
	s.groups[name] = &logGroup{name: name, created: s.nowMS(), tags: copyTags(in.Tags), streams: map[string]*logStream{}}
	return &cloudwatchlogs.CreateLogGroupOutput{}, nil
}

func (s *logsSim) groupOut(g *logGroup) lt.LogGroup {
	arn := s.groupARN(g.name)
	out := lt.LogGroup{LogGroupName: aws.String(g.name), Arn: aws.String(arn + ":*"), LogGroupArn: aws.String(arn),
		CreationTime: aws.Int64(g.created), StoredBytes: aws.Int64(0), MetricFilterCount: aws.Int32(0), LogGroupClass: lt.LogGroupClassStandard}
	if g.retention > 0 {
		out.RetentionInDays = aws.Int32(g.retention)
	}
	var bytes int64
	for _, st := range g.streams {
		for _, e := range st.events {
			bytes += int64(len(e.msg))
		}
	}
	out.StoredBytes = aws.Int64(bytes)
	return out
}

// DescribeLogGroups lists groups sorted by name; Limit 1–50 (default 50).
func (s *logsSim) DescribeLogGroups(_ context.Context, in *cloudwatchlogs.DescribeLogGroupsInput) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	if in.LogGroupNamePrefix != nil && in.LogGroupNamePattern != nil {
		return nil, logsInvalid("logGroupNamePrefix and logGroupNamePattern are mutually exclusive")
	}
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > 50) {
		return nil, logsInvalid("limit must be between 1 and 50")
	}
	var list []lt.LogGroup
	for _, n := range sortedKeys(s.groups) {
		if p := aws.ToString(in.LogGroupNamePrefix); p != "" && !strings.HasPrefix(n, p) {
			continue
		}
		if p := aws.ToString(in.LogGroupNamePattern); p != "" && !strings.Contains(strings.ToLower(n), strings.ToLower(p)) {
			continue
		}
		if len(in.LogGroupIdentifiers) > 0 && !contains(in.LogGroupIdentifiers, n) && !contains(in.LogGroupIdentifiers, s.groupARN(n)) {
			continue
		}
		list = append(list, s.groupOut(s.groups[n]))
	}
	lim := in.Limit
	if lim == nil {
		lim = aws.Int32(50)
	}
	page, next := paginate(list, lim, in.NextToken)
	return &cloudwatchlogs.DescribeLogGroupsOutput{LogGroups: page, NextToken: next}, nil
}

func (s *logsSim) PutRetentionPolicy(_ context.Context, in *cloudwatchlogs.PutRetentionPolicyInput) (*cloudwatchlogs.PutRetentionPolicyOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	g, err := s.group(in.LogGroupName, nil)
	if err != nil {
		return nil, err
	}
	d := aws.ToInt32(in.RetentionInDays)
	ok := false
	for _, v := range retentionValues {
		ok = ok || v == d
	}
	if !ok {
		return nil, logsInvalid("1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set", d)
	}
	g.retention = d
	return &cloudwatchlogs.PutRetentionPolicyOutput{}, nil
}

func (s *logsSim) DeleteRetentionPolicy(_ context.Context, in *cloudwatchlogs.DeleteRetentionPolicyInput) (*cloudwatchlogs.DeleteRetentionPolicyOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	g, err := s.group(in.LogGroupName, nil)
	if err != nil {
		return nil, err
	}
	g.retention = 0
	return &cloudwatchlogs.DeleteRetentionPolicyOutput{}, nil
}

func (s *logsSim) DeleteLogGroup(_ context.Context, in *cloudwatchlogs.DeleteLogGroupInput) (*cloudwatchlogs.DeleteLogGroupOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	g, err := s.group(in.LogGroupName, nil)
	if err != nil {
		return nil, err
	}
	delete(s.groups, g.name)
	return &cloudwatchlogs.DeleteLogGroupOutput{}, nil
}

// ---- Tags (resource ARN API; a log group's ARN without ":*") ----

func (s *logsSim) groupByARN(arn string) (*logGroup, error) {
	prefix := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:", s.c.Region, s.c.Account)
	if !strings.HasPrefix(arn, prefix) {
		return nil, logsInvalid("Invalid resource ARN %q", arn)
	}
	name := arn[len(prefix):]
	if strings.HasSuffix(name, ":*") {
		return nil, logsInvalid("The log group ARN for tagging must not end with :*")
	}
	g, ok := s.groups[name]
	if !ok {
		return nil, logsNotFound("The specified log group does not exist.")
	}
	return g, nil
}

func (s *logsSim) ListTagsForResource(_ context.Context, in *cloudwatchlogs.ListTagsForResourceInput) (*cloudwatchlogs.ListTagsForResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	g, err := s.groupByARN(aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	return &cloudwatchlogs.ListTagsForResourceOutput{Tags: copyTags(g.tags)}, nil
}

func (s *logsSim) TagResource(_ context.Context, in *cloudwatchlogs.TagResourceInput) (*cloudwatchlogs.TagResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	g, err := s.groupByARN(aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	for k, v := range in.Tags {
		g.tags[k] = v
	}
	if len(g.tags) > 50 {
		return nil, apiError("TooManyTagsException", "A resource can have no more than 50 tags.")
	}
	return &cloudwatchlogs.TagResourceOutput{}, nil
}

func (s *logsSim) UntagResource(_ context.Context, in *cloudwatchlogs.UntagResourceInput) (*cloudwatchlogs.UntagResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	g, err := s.groupByARN(aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(g.tags, k)
	}
	return &cloudwatchlogs.UntagResourceOutput{}, nil
}

// ---- Streams and events ----

func (s *logsSim) CreateLogStream(_ context.Context, in *cloudwatchlogs.CreateLogStreamInput) (*cloudwatchlogs.CreateLogStreamOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	g, err := s.group(in.LogGroupName, nil)
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.LogStreamName)
	if name == "" || len(name) > 512 || strings.ContainsAny(name, ":*") {
		return nil, logsInvalid("invalid log stream name %q", name)
	}
	if _, ok := g.streams[name]; ok {
		return nil, apiError("ResourceAlreadyExistsException", "The specified log stream already exists")
	}
	g.streams[name] = &logStream{name: name, created: s.nowMS()}
	return &cloudwatchlogs.CreateLogStreamOutput{}, nil
}

// append adds an event to a stream (c.mu held).
func (s *logsSim) append(st *logStream, ts int64, msg string) {
	s.seq++
	st.events = append(st.events, &logEvent{id: fmt.Sprintf("%056d", s.seq), stream: st.name, ts: ts, ingest: s.nowMS(), seq: s.seq, msg: msg})
}

func (s *logsSim) PutLogEvents(_ context.Context, in *cloudwatchlogs.PutLogEventsInput) (*cloudwatchlogs.PutLogEventsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	g, err := s.group(in.LogGroupName, nil)
	if err != nil {
		return nil, err
	}
	st, ok := g.streams[aws.ToString(in.LogStreamName)]
	if !ok {
		return nil, logsNotFound("The specified log stream does not exist.")
	}
	if len(in.LogEvents) == 0 || len(in.LogEvents) > 10000 {
		return nil, logsInvalid("a batch must hold 1 to 10,000 events")
	}
	for i := 1; i < len(in.LogEvents); i++ {
		if aws.ToInt64(in.LogEvents[i].Timestamp) < aws.ToInt64(in.LogEvents[i-1].Timestamp) {
			return nil, logsInvalid("Log events in a single PutLogEvents request must be in chronological order.")
		}
	}
	for _, e := range in.LogEvents {
		s.append(st, aws.ToInt64(e.Timestamp), aws.ToString(e.Message))
	}
	return &cloudwatchlogs.PutLogEventsOutput{}, nil
}

// LogEvent is one event for AppendLogEvents.
type LogEvent struct {
	Time    time.Time
	Message string
}

// AppendLogEvents is a test hook: it writes events to a stream of an
// existing log group (creating the stream), as the awslogs driver would, and
// reports whether the group exists. No call is recorded.
func (c *Cloud) AppendLogEvents(group, stream string, events ...LogEvent) bool {
	s := c.logs()
	c.lock()
	defer c.unlock()
	g, ok := s.groups[group]
	if !ok {
		return false
	}
	st, ok := g.streams[stream]
	if !ok {
		st = &logStream{name: stream, created: c.logs().nowMS()}
		g.streams[stream] = st
	}
	for _, e := range events {
		s.append(st, e.Time.UnixMilli(), e.Message)
	}
	return true
}

// SetLogFilterEmptyPages is a test hook: the next n FilterLogEvents calls
// answer no events and a NextToken (a search that ran out of time).
func (c *Cloud) SetLogFilterEmptyPages(n int) {
	s := c.logs()
	c.lock()
	defer c.unlock()
	s.emptyPages = n
}

func (s *logsSim) DescribeLogStreams(_ context.Context, in *cloudwatchlogs.DescribeLogStreamsInput) (*cloudwatchlogs.DescribeLogStreamsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	g, err := s.group(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if in.OrderBy == lt.OrderByLastEventTime && in.LogStreamNamePrefix != nil {
		return nil, logsInvalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > 50) {
		return nil, logsInvalid("limit must be between 1 and 50")
	}
	var list []lt.LogStream
	for _, n := range sortedKeys(g.streams) {
		if p := aws.ToString(in.LogStreamNamePrefix); p != "" && !strings.HasPrefix(n, p) {
			continue
		}
		st := g.streams[n]
		ls := lt.LogStream{LogStreamName: aws.String(n), CreationTime: aws.Int64(st.created),
			Arn: aws.String(fmt.Sprintf("%s:log-stream:%s", s.groupARN(g.name), n))}
		if len(st.events) > 0 {
			first, last := st.events[0].ts, st.events[0].ts
			for _, e := range st.events {
				first, last = min(first, e.ts), max(last, e.ts)
			}
			ls.FirstEventTimestamp, ls.LastEventTimestamp = aws.Int64(first), aws.Int64(last)
			ls.LastIngestionTime = aws.Int64(st.events[len(st.events)-1].ingest)
		}
		list = append(list, ls)
	}
	if in.OrderBy == lt.OrderByLastEventTime {
		sort.SliceStable(list, func(i, j int) bool {
			return aws.ToInt64(list[i].LastEventTimestamp) < aws.ToInt64(list[j].LastEventTimestamp)
		})
	}
	if aws.ToBool(in.Descending) {
		for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
			list[i], list[j] = list[j], list[i]
		}
	}
	lim := in.Limit
	if lim == nil {
		lim = aws.Int32(50)
	}
	page, next := paginate(list, lim, in.NextToken)
	return &cloudwatchlogs.DescribeLogStreamsOutput{LogStreams: page, NextToken: next}, nil
}

// ---- Filter patterns ----

// filterPattern is the plain-text subset of the CloudWatch Logs filter
// pattern syntax ("Filter pattern syntax for metric filters, subscription
// filters, filter log events": unstructured log events): every term must
// occur (AND); terms prefixed ? form an OR group; terms prefixed - must not
// occur; "quoted phrases" match exactly, including spaces and punctuation.
// Matching is case-sensitive, as documented. JSON ({...}) and space-delimited
// ([...]) patterns and regular expressions (%...%) are not simulated: they
// answer an error naming that, so a test cannot pass on a silent mismatch.
type filterPattern struct {
	all, any, none []string
}

func parseFilterPattern(p string) (*filterPattern, error) {
	p = strings.TrimSpace(p)
	fp := &filterPattern{}
	if p == "" || p == `""` {
		return fp, nil
	}
	if strings.HasPrefix(p, "{") || strings.HasPrefix(p, "[") || strings.HasPrefix(p, "%") {
		return nil, fmt.Errorf("awssim: JSON, space-delimited and regex filter patterns are not simulated: %q", p)
	}
	for i := 0; i < len(p); {
		if p[i] == ' ' || p[i] == '\t' {
			i++
			continue
		}
		prefix := byte(0)
		if p[i] == '?' || p[i] == '-' {
			prefix = p[i]
			i++
		}
		var term string
		if i < len(p) && p[i] == '"' {
			end := strings.IndexByte(p[i+1:], '"')
			if end < 0 {
				return nil, logsInvalid("Invalid filter pattern: unterminated quote")
			}
			term = p[i+1 : i+1+end]
			i += end + 2
		} else {
			j := i
			for j < len(p) && p[j] != ' ' && p[j] != '\t' {
				j++
			}
			term = p[i:j]
			i = j
		}
		if term == "" {
			continue
		}
		switch prefix {
		case '?':
			fp.any = append(fp.any, term)
		case '-':
			fp.none = append(fp.none, term)
		default:
			fp.all = append(fp.all, term)
		}
	}
	return fp, nil
}

func (fp *filterPattern) match(msg string) bool {
	for _, t := range fp.all {
		if !strings.Contains(msg, t) {
			return false
		}
	}
	for _, t := range fp.none {
		if strings.Contains(msg, t) {
			return false
		}
	}
	if len(fp.any) > 0 {
		for _, t := range fp.any {
			if strings.Contains(msg, t) {
				return true
			}
		}
		return false
	}
	return true
}

// filterToken is the position after the last event returned: events are
// ordered by (timestamp, ingestion order), so events ingested later with
// earlier timestamps do not shift a page boundary.
func filterToken(e *logEvent) *string {
	return aws.String(fmt.Sprintf("f/%d/%d", e.ts, e.seq))
}

func parseFilterToken(tok string) (int64, int64, bool) {
	parts := strings.Split(tok, "/")
	if len(parts) != 3 || (parts[0] != "f" && !strings.HasPrefix(parts[0], "e")) {
		return 0, 0, false
	}
	ts, err1 := strconv.ParseInt(parts[1], 10, 64)
	seq, err2 := strconv.ParseInt(parts[2], 10, 64)
	return ts, seq, err1 == nil && err2 == nil
}

// FilterLogEvents searches a group's events: time range inclusive at both
// ends (StartTime: "Events with a timestamp before this time are not
// returned"; EndTime: "later than this time are not returned"), stream names
// or a stream name prefix (not both: InvalidParameterException), a filter
// pattern; ordered by timestamp; at most LogFilterPageSize per page (or
// Limit, 1–10,000), with a NextToken while more may follow.
func (s *logsSim) FilterLogEvents(_ context.Context, in *cloudwatchlogs.FilterLogEventsInput) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	g, err := s.group(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != nil {
		return nil, logsInvalid("logStreamNames and logStreamNamePrefix cannot both be specified")
	}
	if len(in.LogStreamNames) > 100 {
		return nil, logsInvalid("at most 100 log stream names are allowed")
	}
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > 10000) {
		return nil, logsInvalid("limit must be between 1 and 10000")
	}
	if in.StartTime != nil && in.EndTime != nil && *in.EndTime < *in.StartTime {
		return nil, logsInvalid("endTime must not be before startTime")
	}
	fp, err := parseFilterPattern(aws.ToString(in.FilterPattern))
	if err != nil {
		return nil, err
	}
	var afterTS, afterSeq int64 = -1 << 62, -1
	if in.NextToken != nil {
		ts, seq, ok := parseFilterToken(*in.NextToken)
		if !ok {
			return nil, logsInvalid("The specified nextToken is invalid.")
		}
		afterTS, afterSeq = ts, seq // an empty page's "e<n>/" token resumes where it was
	}
	if s.emptyPages > 0 {
		s.emptyPages--
		s.seq++ // each page's token differs, as AWS's do
		tok := fmt.Sprintf("e%d/%d/%d", s.seq, afterTS, afterSeq)
		return &cloudwatchlogs.FilterLogEventsOutput{NextToken: aws.String(tok)}, nil
	}
	var evs []*logEvent
	var searched []lt.SearchedLogStream
	for _, n := range sortedKeys(g.streams) {
		if len(in.LogStreamNames) > 0 && !contains(in.LogStreamNames, n) {
			continue
		}
		if p := aws.ToString(in.LogStreamNamePrefix); p != "" && !strings.HasPrefix(n, p) {
			continue
		}
		searched = append(searched, lt.SearchedLogStream{LogStreamName: aws.String(n), SearchedCompletely: aws.Bool(true)})
		for _, e := range g.streams[n].events {
			if in.StartTime != nil && e.ts < *in.StartTime {
				continue
			}
			if in.EndTime != nil && e.ts > *in.EndTime {
				continue
			}
			if e.ts < afterTS || (e.ts == afterTS && e.seq <= afterSeq) {
				continue
			}
			if !fp.match(e.msg) {
				continue
			}
			evs = append(evs, e)
		}
	}
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].ts != evs[j].ts {
			return evs[i].ts < evs[j].ts
		}
		return evs[i].seq < evs[j].seq
	})
	size := LogFilterPageSize
	if in.Limit != nil && int(*in.Limit) < size {
		size = int(*in.Limit)
	}
	out := &cloudwatchlogs.FilterLogEventsOutput{SearchedLogStreams: searched}
	if len(evs) > size {
		evs = evs[:size]
		out.NextToken = filterToken(evs[len(evs)-1])
	}
	for _, e := range evs {
		out.Events = append(out.Events, lt.FilteredLogEvent{EventId: aws.String(e.id), LogStreamName: aws.String(e.stream),
			Timestamp: aws.Int64(e.ts), IngestionTime: aws.Int64(e.ingest), Message: aws.String(e.msg)})
	}
	return out, nil
}

func (s *logsSim) GetLogEvents(_ context.Context, in *cloudwatchlogs.GetLogEventsInput) (*cloudwatchlogs.GetLogEventsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	g, err := s.group(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	st, ok := g.streams[aws.ToString(in.LogStreamName)]
	if !ok {
		return nil, logsNotFound("The specified log stream does not exist.")
	}
	evs := append([]*logEvent(nil), st.events...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].ts < evs[j].ts })
	out := &cloudwatchlogs.GetLogEventsOutput{}
	for _, e := range evs {
		if in.StartTime != nil && e.ts < *in.StartTime || in.EndTime != nil && e.ts >= *in.EndTime {
			continue
		}
		out.Events = append(out.Events, lt.OutputLogEvent{Timestamp: aws.Int64(e.ts), IngestionTime: aws.Int64(e.ingest), Message: aws.String(e.msg)})
	}
	out.NextForwardToken, out.NextBackwardToken = aws.String("f/end"), aws.String("b/start")
	return out, nil
}

// ---- Logs Insights (minimal) ----

// StartQuery accepts a query over existing groups; GetQueryResults answers
// Running on the first poll, then Complete. The query language subset:
// "SOURCE '<group>'" (or LogGroupName(s)), "fields ...", "filter @message
// like /regex/" (with (?i)), "sort @timestamp desc|asc", "limit N".
func (s *logsSim) StartQuery(_ context.Context, in *cloudwatchlogs.StartQueryInput) (*cloudwatchlogs.StartQueryOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	q := aws.ToString(in.QueryString)
	if strings.TrimSpace(q) == "" {
		return nil, apiError("MalformedQueryException", "Query string is empty")
	}
	if in.StartTime == nil || in.EndTime == nil {
		return nil, logsInvalid("startTime and endTime are required")
	}
	groups := append([]string(nil), in.LogGroupNames...)
	if in.LogGroupName != nil {
		groups = append(groups, *in.LogGroupName)
	}
	groups = append(groups, in.LogGroupIdentifiers...)
	if src := regexp.MustCompile(`SOURCE\s+'([^']+)'`).FindStringSubmatch(q); src != nil {
		groups = append(groups, src[1])
	}
	if len(groups) == 0 {
		return nil, logsInvalid("specify at least one log group")
	}
	for _, n := range groups {
		if _, ok := s.groups[n]; !ok {
			return nil, logsNotFound("Log group '%s' does not exist", n)
		}
	}
	if _, err := compileInsights(q); err != nil {
		return nil, err
	}
	s.seq++
	id := fmt.Sprintf("%08x-0000-4000-8000-%012x", s.seq, s.seq)
	s.queries[id] = &logQuery{id: id, groups: groups, query: q, start: *in.StartTime * 1000, end: *in.EndTime * 1000, started: s.c.now()}
	return &cloudwatchlogs.StartQueryOutput{QueryId: aws.String(id)}, nil
}

type insights struct {
	re    *regexp.Regexp
	desc  bool
	limit int
}

func compileInsights(q string) (*insights, error) {
	in := &insights{desc: true, limit: 1000}
	for _, part := range strings.Split(q, "|") {
		part = strings.TrimSpace(part)
		switch {
		case strings.HasPrefix(part, "SOURCE"), strings.HasPrefix(part, "fields"), part == "":
		case strings.HasPrefix(part, "filter"):
			m := regexp.MustCompile(`^filter\s+@message\s+like\s+/(.*)/$`).FindStringSubmatch(part)
			if m == nil {
				return nil, fmt.Errorf("awssim: Logs Insights clause %q is not simulated", part)
			}
			re, err := regexp.Compile(m[1])
			if err != nil {
				return nil, apiError("MalformedQueryException", "invalid regex: %v", err)
			}
			in.re = re
		case strings.HasPrefix(part, "sort"):
			in.desc = strings.HasSuffix(part, "desc")
		case strings.HasPrefix(part, "limit"):
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(part, "limit")))
			if err != nil || n < 1 || n > 10000 {
				return nil, apiError("MalformedQueryException", "invalid limit in %q", part)
			}
			in.limit = n
		default:
			return nil, fmt.Errorf("awssim: Logs Insights clause %q is not simulated", part)
		}
	}
	return in, nil
}

func (s *logsSim) GetQueryResults(_ context.Context, in *cloudwatchlogs.GetQueryResultsInput) (*cloudwatchlogs.GetQueryResultsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	q, ok := s.queries[aws.ToString(in.QueryId)]
	if !ok {
		return nil, logsNotFound("Query %s does not exist", aws.ToString(in.QueryId))
	}
	q.polls++
	if q.polls == 1 {
		return &cloudwatchlogs.GetQueryResultsOutput{Status: lt.QueryStatusRunning}, nil
	}
	compiled, err := compileInsights(q.query)
	if err != nil {
		return nil, err
	}
	var evs []*logEvent
	for _, n := range q.groups {
		g, ok := s.groups[n]
		if !ok {
			continue
		}
		for _, st := range g.streams {
			for _, e := range st.events {
				if e.ts < q.start || e.ts > q.end || (compiled.re != nil && !compiled.re.MatchString(e.msg)) {
					continue
				}
				evs = append(evs, e)
			}
		}
	}
	sort.Slice(evs, func(i, j int) bool {
		if compiled.desc {
			return evs[i].ts > evs[j].ts
		}
		return evs[i].ts < evs[j].ts
	})
	if len(evs) > compiled.limit {
		evs = evs[:compiled.limit]
	}
	out := &cloudwatchlogs.GetQueryResultsOutput{Status: lt.QueryStatusComplete}
	for _, e := range evs {
		out.Results = append(out.Results, []lt.ResultField{
			{Field: aws.String("@timestamp"), Value: aws.String(time.UnixMilli(e.ts).UTC().Format("2006-01-02 15:04:05.000"))},
			{Field: aws.String("@message"), Value: aws.String(e.msg)},
			{Field: aws.String("@logStream"), Value: aws.String(e.stream)},
		})
	}
	return out, nil
}
