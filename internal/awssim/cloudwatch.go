package awssim

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwt "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// CloudWatch alarms and dashboards.
//
// Error codes: CloudWatch carries the awsQueryCompatible trait, so although
// recent SDKs speak Smithy RPCv2 CBOR to it (cloudwatch v1.53.0 and later),
// the error code the SDK surfaces is the Query-era code from the
// x-amzn-query-error header (smithy-go transport/http/protocol/rpcv2,
// SetErrorCodeOverride; codes from service/cloudwatch/schemas: AWSQueryError
// traits): InvalidParameterValue, MissingParameter,
// InvalidParameterCombination, ResourceNotFound (alarms and dashboards),
// InvalidParameterInput (DashboardInvalidInputError), LimitExceeded. The
// simulation answers those codes, typed as the SDK would type them.

type alarm struct {
	a       cwt.MetricAlarm
	tags    map[string]string
	created time.Time
}

type dashboard struct {
	name, body string
	modified   time.Time
	tags       map[string]string
}

type cloudWatchSim struct {
	c          *Cloud
	alarms     map[string]*alarm
	dashboards map[string]*dashboard
}

func init() {
	register("CloudWatch", func(c *Cloud) any {
		return &cloudWatchSim{c: c, alarms: map[string]*alarm{}, dashboards: map[string]*dashboard{}}
	})
}

func (c *Cloud) cloudwatch() *cloudWatchSim { return c.services["CloudWatch"].(*cloudWatchSim) }

func (s *cloudWatchSim) inventory() []Resource {
	var out []Resource
	for _, n := range sortedKeys(s.alarms) {
		out = append(out, Resource{"CloudWatch", "alarm", n, copyTags(s.alarms[n].tags)})
	}
	for _, n := range sortedKeys(s.dashboards) {
		out = append(out, Resource{"CloudWatch", "dashboard", n, copyTags(s.dashboards[n].tags)})
	}
	return out
}

func cwInvalid(format string, args ...any) error {
	return &cwt.InvalidParameterValueException{Message: aws.String(fmt.Sprintf(format, args...)), ErrorCodeOverride: aws.String("InvalidParameterValue")}
}

func cwMissing(param string) error {
	return &cwt.MissingRequiredParameterException{Message: aws.String("The parameter " + param + " is required."), ErrorCodeOverride: aws.String("MissingParameter")}
}

func cwCombination(format string, args ...any) error {
	return &cwt.InvalidParameterCombinationException{Message: aws.String(fmt.Sprintf(format, args...)), ErrorCodeOverride: aws.String("InvalidParameterCombination")}
}

func cwNotFound(format string, args ...any) error {
	return &cwt.ResourceNotFound{Message: aws.String(fmt.Sprintf(format, args...)), ErrorCodeOverride: aws.String("ResourceNotFound")}
}

func (s *cloudWatchSim) alarmARN(name string) string {
	return fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", s.c.Region, s.c.Account, name)
}

// Dashboards are global: their ARN has no region (CloudWatch
// ListTagsForResource reference: arn:aws:cloudwatch::account-id:dashboard/name).
func (s *cloudWatchSim) dashboardARN(name string) string {
	return fmt.Sprintf("arn:aws:cloudwatch::%s:dashboard/%s", s.c.Account, name)
}

// extendedStatRE accepts the percentile forms (p0.0–p100) and the trimmed
// statistics PutMetricAlarm documents (ExtendedStatistic).
var extendedStatRE = regexp.MustCompile(`^(p(\d{1,2}(\.\d{0,10})?|100(\.0{0,10})?)|(tm|tc|ts|wm)\d{1,2}(\.\d{0,10})?|IQM|(TM|TC|TS|WM|PR)\(.*\))$`)

// PutMetricAlarm creates or replaces an alarm. Validation follows the API
// reference: Period 10, 20, 30 or a multiple of 60; Period × EvaluationPeriods
// ≤ 86,400 s when Period < 3,600 s, else ≤ 604,800 s; Statistic xor
// ExtendedStatistic; DatapointsToAlarm ≤ EvaluationPeriods; at most 30
// dimensions; TreatMissingData one of breaching | notBreaching | ignore |
// missing. An update keeps the alarm's state and ignores Tags ("If you are
// using this operation to update an existing alarm, any tags you specify in
// this parameter are ignored").
func (s *cloudWatchSim) PutMetricAlarm(_ context.Context, in *cloudwatch.PutMetricAlarmInput) (*cloudwatch.PutMetricAlarmOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	name := aws.ToString(in.AlarmName)
	if name == "" || len(name) > 255 {
		return nil, cwInvalid("AlarmName must be 1 to 255 characters")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return nil, cwInvalid("AlarmName must not contain control characters")
		}
	}
	if len(in.Metrics) > 0 {
		return nil, fmt.Errorf("awssim: PutMetricAlarm with Metrics (metric math) is not simulated")
	}
	if in.MetricName == nil {
		return nil, cwMissing("MetricName")
	}
	if aws.ToString(in.Namespace) == "" {
		return nil, cwMissing("Namespace")
	}
	if in.Statistic == "" && in.ExtendedStatistic == nil {
		return nil, cwCombination("One of Statistic or ExtendedStatistic must be specified.")
	}
	if in.Statistic != "" && in.ExtendedStatistic != nil {
		return nil, cwCombination("Exactly one of Statistic or ExtendedStatistic must be specified.")
	}
	if in.Statistic != "" && !contains([]string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"}, string(in.Statistic)) {
		return nil, cwInvalid("Statistic %q is not valid", in.Statistic)
	}
	if in.ExtendedStatistic != nil && !extendedStatRE.MatchString(*in.ExtendedStatistic) {
		return nil, cwInvalid("ExtendedStatistic %q is not valid", *in.ExtendedStatistic)
	}
	if in.Period == nil {
		return nil, cwMissing("Period")
	}
	p := *in.Period
	if !(p == 10 || p == 20 || p == 30 || (p > 0 && p%60 == 0)) {
		return nil, cwInvalid("Period must be 10, 20, 30 or a multiple of 60")
	}
	if in.EvaluationPeriods == nil || *in.EvaluationPeriods < 1 {
		return nil, cwInvalid("EvaluationPeriods must be at least 1")
	}
	total := int64(p) * int64(*in.EvaluationPeriods)
	if (p < 3600 && total > 86400) || total > 604800 {
		return nil, cwInvalid("The evaluation period (Period × EvaluationPeriods) %d s exceeds the maximum", total)
	}
	if in.DatapointsToAlarm != nil && (*in.DatapointsToAlarm < 1 || *in.DatapointsToAlarm > *in.EvaluationPeriods) {
		return nil, cwInvalid("DatapointsToAlarm must be between 1 and EvaluationPeriods")
	}
	if in.Threshold == nil {
		return nil, cwMissing("Threshold")
	}
	switch in.ComparisonOperator {
	case cwt.ComparisonOperatorGreaterThanOrEqualToThreshold, cwt.ComparisonOperatorGreaterThanThreshold,
		cwt.ComparisonOperatorLessThanThreshold, cwt.ComparisonOperatorLessThanOrEqualToThreshold:
	case "":
		return nil, cwMissing("ComparisonOperator")
	default:
		return nil, cwInvalid("ComparisonOperator %q is not valid for a static threshold", in.ComparisonOperator)
	}
	if tmd := in.TreatMissingData; tmd != nil && !contains([]string{"breaching", "notBreaching", "ignore", "missing"}, *tmd) {
		return nil, cwInvalid("TreatMissingData %q is not valid", *tmd)
	}
	if len(in.Dimensions) > 30 {
		return nil, cwInvalid("at most 30 dimensions are allowed")
	}
	for _, d := range in.Dimensions {
		if aws.ToString(d.Name) == "" || aws.ToString(d.Value) == "" {
			return nil, cwInvalid("dimension names and values must not be empty")
		}
	}
	for _, list := range [][]string{in.AlarmActions, in.OKActions, in.InsufficientDataActions} {
		if len(list) > 5 {
			return nil, cwInvalid("at most 5 actions are allowed per state")
		}
		for _, a := range list {
			if !strings.HasPrefix(a, "arn:") {
				return nil, cwInvalid("Invalid action ARN %q", a)
			}
		}
	}
	now := s.c.now().UTC()
	ma := cwt.MetricAlarm{
		AlarmName: aws.String(name), AlarmArn: aws.String(s.alarmARN(name)),
		AlarmDescription: in.AlarmDescription, ActionsEnabled: aws.Bool(in.ActionsEnabled == nil || *in.ActionsEnabled),
		AlarmActions: append([]string(nil), in.AlarmActions...), OKActions: append([]string(nil), in.OKActions...),
		InsufficientDataActions: append([]string(nil), in.InsufficientDataActions...),
		MetricName:              in.MetricName, Namespace: in.Namespace, Statistic: in.Statistic, ExtendedStatistic: in.ExtendedStatistic,
		Dimensions: append([]cwt.Dimension(nil), in.Dimensions...), Period: in.Period, EvaluationPeriods: in.EvaluationPeriods,
		DatapointsToAlarm: in.DatapointsToAlarm, Threshold: in.Threshold, ComparisonOperator: in.ComparisonOperator,
		TreatMissingData: in.TreatMissingData, EvaluateLowSampleCountPercentile: in.EvaluateLowSampleCountPercentile,
		Unit: in.Unit, AlarmConfigurationUpdatedTimestamp: aws.Time(now),
	}
	if old, ok := s.alarms[name]; ok {
		ma.StateValue, ma.StateReason, ma.StateUpdatedTimestamp = old.a.StateValue, old.a.StateReason, old.a.StateUpdatedTimestamp
		old.a = ma
		return &cloudwatch.PutMetricAlarmOutput{}, nil
	}
	if len(in.Tags) > 50 {
		return nil, cwInvalid("at most 50 tags are allowed")
	}
	ma.StateValue, ma.StateReason, ma.StateUpdatedTimestamp = cwt.StateValueInsufficientData, aws.String("Unchecked: Initial alarm creation"), aws.Time(now)
	s.alarms[name] = &alarm{a: ma, tags: cwTagMap(in.Tags), created: now}
	s.c.openWindow(WinCloudWatchDescribe, "alarm/"+name, nil)
	return &cloudwatch.PutMetricAlarmOutput{}, nil
}

func cwTagMap(tags []cwt.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func cwTags(m map[string]string) []cwt.Tag {
	var out []cwt.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, cwt.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// DescribeAlarms lists metric alarms by name, prefix or state, sorted by
// name; MaxRecords 1–100 (default 50). AlarmNames and AlarmNamePrefix
// together are refused (API reference: "If this parameter is specified, you
// cannot specify AlarmNames").
func (s *cloudWatchSim) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput) (*cloudwatch.DescribeAlarmsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != nil {
		return nil, cwCombination("AlarmNames and AlarmNamePrefix cannot be used together")
	}
	if len(in.AlarmNames) > 100 {
		return nil, cwInvalid("at most 100 alarm names are allowed")
	}
	if in.MaxRecords != nil && (*in.MaxRecords < 1 || *in.MaxRecords > 100) {
		return nil, cwInvalid("MaxRecords must be between 1 and 100")
	}
	if in.NextToken != nil {
		if _, err := strconv.Atoi(*in.NextToken); err != nil {
			return nil, &cwt.InvalidNextToken{Message: aws.String("The service returned an invalid token"), ErrorCodeOverride: aws.String("InvalidNextToken")}
		}
	}
	wantMetric := len(in.AlarmTypes) == 0 || contains(func() []string {
		var s []string
		for _, t := range in.AlarmTypes {
			s = append(s, string(t))
		}
		return s
	}(), string(cwt.AlarmTypeMetricAlarm))
	var list []cwt.MetricAlarm
	if wantMetric {
		for _, n := range sortedKeys(s.alarms) {
			a := s.alarms[n]
			if len(in.AlarmNames) > 0 && !contains(in.AlarmNames, n) {
				continue
			}
			if k := "alarm/" + n; s.c.windowOpen(WinCloudWatchDescribe, k) && s.c.inWindow(WinCloudWatchDescribe, k) {
				continue // not listed yet (eventual consistency)
			}
			if in.AlarmNamePrefix != nil && !strings.HasPrefix(n, *in.AlarmNamePrefix) {
				continue
			}
			if in.StateValue != "" && a.a.StateValue != in.StateValue {
				continue
			}
			if p := aws.ToString(in.ActionPrefix); p != "" && !anyPrefix(a.a.AlarmActions, p) && !anyPrefix(a.a.OKActions, p) && !anyPrefix(a.a.InsufficientDataActions, p) {
				continue
			}
			list = append(list, copyAlarm(a.a))
		}
	}
	max := in.MaxRecords
	if max == nil {
		max = aws.Int32(50)
	}
	page, next := paginate(list, max, in.NextToken)
	return &cloudwatch.DescribeAlarmsOutput{MetricAlarms: page, NextToken: next}, nil
}

func anyPrefix(list []string, p string) bool {
	for _, x := range list {
		if strings.HasPrefix(x, p) {
			return true
		}
	}
	return false
}

func copyAlarm(a cwt.MetricAlarm) cwt.MetricAlarm {
	a.AlarmActions = append([]string(nil), a.AlarmActions...)
	a.OKActions = append([]string(nil), a.OKActions...)
	a.InsufficientDataActions = append([]string(nil), a.InsufficientDataActions...)
	a.Dimensions = append([]cwt.Dimension(nil), a.Dimensions...)
	return a
}

// DeleteAlarms deletes up to 100 alarms. "If you specify any incorrect alarm
// names, the alarms you specify with correct names are still deleted" (API
// reference); the incorrect names are then reported as ResourceNotFound.
func (s *cloudWatchSim) DeleteAlarms(_ context.Context, in *cloudwatch.DeleteAlarmsInput) (*cloudwatch.DeleteAlarmsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	if len(in.AlarmNames) == 0 {
		return nil, cwMissing("AlarmNames")
	}
	if len(in.AlarmNames) > 100 {
		return nil, cwInvalid("at most 100 alarms can be deleted in one call")
	}
	var missing []string
	for _, n := range in.AlarmNames {
		if _, ok := s.alarms[n]; !ok {
			missing = append(missing, n)
			continue
		}
		delete(s.alarms, n)
		s.c.closeWindow(WinCloudWatchDescribe, "alarm/"+n)
	}
	if len(missing) > 0 {
		return nil, cwNotFound("%s not found", strings.Join(missing, ", "))
	}
	return &cloudwatch.DeleteAlarmsOutput{}, nil
}

// SetAlarmState sets an alarm's state until its next evaluation (tests use it
// to put an alarm in ALARM).
func (s *cloudWatchSim) SetAlarmState(_ context.Context, in *cloudwatch.SetAlarmStateInput) (*cloudwatch.SetAlarmStateOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	a, ok := s.alarms[aws.ToString(in.AlarmName)]
	if !ok {
		return nil, cwNotFound("Alarm %s not found", aws.ToString(in.AlarmName))
	}
	switch in.StateValue {
	case cwt.StateValueOk, cwt.StateValueAlarm, cwt.StateValueInsufficientData:
	default:
		return nil, cwInvalid("StateValue %q is not valid", in.StateValue)
	}
	if in.StateReason == nil {
		return nil, cwMissing("StateReason")
	}
	a.a.StateValue, a.a.StateReason, a.a.StateUpdatedTimestamp = in.StateValue, in.StateReason, aws.Time(s.c.now().UTC())
	return &cloudwatch.SetAlarmStateOutput{}, nil
}

// SetAlarmState is a test hook: it puts the named alarm in state ("ALARM",
// "OK", "INSUFFICIENT_DATA") without a recorded call. It reports whether the
// alarm exists.
func (c *Cloud) SetAlarmState(name, state, reason string) bool {
	s := c.cloudwatch()
	c.lock()
	defer c.unlock()
	a, ok := s.alarms[name]
	if ok {
		a.a.StateValue, a.a.StateReason, a.a.StateUpdatedTimestamp = cwt.StateValue(state), aws.String(reason), aws.Time(c.now().UTC())
	}
	return ok
}

// Alarms is a test hook returning every metric alarm, sorted by name.
func (c *Cloud) Alarms() []cwt.MetricAlarm {
	s := c.cloudwatch()
	c.lock()
	defer c.unlock()
	var out []cwt.MetricAlarm
	for _, n := range sortedKeys(s.alarms) {
		out = append(out, copyAlarm(s.alarms[n].a))
	}
	return out
}

// ---- Tags ----

func (s *cloudWatchSim) tagsOf(arn string) (map[string]string, error) {
	switch {
	case strings.HasPrefix(arn, fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:", s.c.Region, s.c.Account)):
		if a, ok := s.alarms[arn[strings.LastIndex(arn, ":alarm:")+7:]]; ok {
			return a.tags, nil
		}
	case strings.HasPrefix(arn, fmt.Sprintf("arn:aws:cloudwatch::%s:dashboard/", s.c.Account)):
		if d, ok := s.dashboards[arn[strings.Index(arn, ":dashboard/")+11:]]; ok {
			return d.tags, nil
		}
	default:
		return nil, cwInvalid("Invalid ARN %q", arn)
	}
	return nil, &cwt.ResourceNotFoundException{Message: aws.String("Resource " + arn + " not found"), ErrorCodeOverride: aws.String("ResourceNotFoundException")}
}

func (s *cloudWatchSim) ListTagsForResource(_ context.Context, in *cloudwatch.ListTagsForResourceInput) (*cloudwatch.ListTagsForResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	m, err := s.tagsOf(aws.ToString(in.ResourceARN))
	if err != nil {
		return nil, err
	}
	return &cloudwatch.ListTagsForResourceOutput{Tags: cwTags(m)}, nil
}

func (s *cloudWatchSim) TagResource(_ context.Context, in *cloudwatch.TagResourceInput) (*cloudwatch.TagResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	m, err := s.tagsOf(aws.ToString(in.ResourceARN))
	if err != nil {
		return nil, err
	}
	for k, v := range cwTagMap(in.Tags) {
		m[k] = v
	}
	if len(m) > 50 {
		return nil, cwInvalid("at most 50 tags are allowed")
	}
	return &cloudwatch.TagResourceOutput{}, nil
}

func (s *cloudWatchSim) UntagResource(_ context.Context, in *cloudwatch.UntagResourceInput) (*cloudwatch.UntagResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	m, err := s.tagsOf(aws.ToString(in.ResourceARN))
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(m, k)
	}
	return &cloudwatch.UntagResourceOutput{}, nil
}

// ---- Dashboards ----

var dashboardNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

func dashboardInvalid(msgs ...cwt.DashboardValidationMessage) error {
	return &cwt.DashboardInvalidInputError{Message: aws.String("The field DashboardBody must be a valid JSON object"),
		ErrorCodeOverride: aws.String("InvalidParameterInput"), DashboardValidationMessages: msgs}
}

func dvm(path, format string, args ...any) cwt.DashboardValidationMessage {
	return cwt.DashboardValidationMessage{DataPath: aws.String(path), Message: aws.String(fmt.Sprintf(format, args...))}
}

// validateDashboardBody checks the structure the "Dashboard Body Structure
// and Syntax" reference describes: a JSON object with a widgets array (0–500
// widgets); each widget has a known type, width 1–24, height 1–1000, x 0–23;
// metric widgets need properties.metrics (arrays starting with namespace and
// metric name, then dimension name/value pairs, then an optional rendering
// object) and properties.region; log widgets need properties.query and
// properties.region; text widgets need properties.markdown.
func validateDashboardBody(body string) []cwt.DashboardValidationMessage {
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		return []cwt.DashboardValidationMessage{dvm("", "Invalid JSON: %v", err)}
	}
	raw, ok := doc["widgets"]
	if !ok {
		return []cwt.DashboardValidationMessage{dvm("", "Should have required property 'widgets'")}
	}
	widgets, ok := raw.([]any)
	if !ok {
		return []cwt.DashboardValidationMessage{dvm("/widgets", "Should be array")}
	}
	if len(widgets) > 500 {
		return []cwt.DashboardValidationMessage{dvm("/widgets", "Should NOT have more than 500 items")}
	}
	var msgs []cwt.DashboardValidationMessage
	for i, w := range widgets {
		path := fmt.Sprintf("/widgets/%d", i)
		wm, ok := w.(map[string]any)
		if !ok {
			msgs = append(msgs, dvm(path, "Should be object"))
			continue
		}
		for _, dim := range []struct {
			key      string
			min, max float64
		}{{"width", 1, 24}, {"height", 1, 1000}, {"x", 0, 23}, {"y", 0, 1e9}} {
			if v, ok := wm[dim.key]; ok {
				f, isNum := v.(float64)
				if !isNum || f != float64(int64(f)) || f < dim.min || f > dim.max {
					msgs = append(msgs, dvm(path+"/"+dim.key, "Should be an integer between %g and %g", dim.min, dim.max))
				}
			}
		}
		typ, _ := wm["type"].(string)
		props, _ := wm["properties"].(map[string]any)
		switch typ {
		case "metric":
			if props == nil {
				msgs = append(msgs, dvm(path, "Should have required property 'properties'"))
				continue
			}
			if _, ok := props["region"].(string); !ok {
				msgs = append(msgs, dvm(path+"/properties", "Should have required property 'region'"))
			}
			metrics, ok := props["metrics"].([]any)
			if !ok || len(metrics) == 0 {
				msgs = append(msgs, dvm(path+"/properties", "Should have required property 'metrics'"))
				continue
			}
			msgs = append(msgs, validateMetricsArray(path+"/properties/metrics", metrics)...)
		case "log":
			if props == nil {
				msgs = append(msgs, dvm(path, "Should have required property 'properties'"))
				continue
			}
			if q, _ := props["query"].(string); q == "" {
				msgs = append(msgs, dvm(path+"/properties", "Should have required property 'query'"))
			}
			if _, ok := props["region"].(string); !ok {
				msgs = append(msgs, dvm(path+"/properties", "Should have required property 'region'"))
			}
		case "text":
			if props == nil {
				msgs = append(msgs, dvm(path, "Should have required property 'properties'"))
				continue
			}
			if _, ok := props["markdown"].(string); !ok {
				msgs = append(msgs, dvm(path+"/properties", "Should have required property 'markdown'"))
			}
		case "alarm", "explorer", "custom":
		case "":
			msgs = append(msgs, dvm(path, "Should have required property 'type'"))
		default:
			msgs = append(msgs, dvm(path+"/type", "Should be equal to one of the allowed values"))
		}
	}
	return msgs
}

// validateMetricsArray checks each metric line: [namespace, name,
// dimName, dimValue, ..., {options}] where "." / "..." repeat the previous
// line's values, or [{expression object}].
func validateMetricsArray(path string, metrics []any) []cwt.DashboardValidationMessage {
	var msgs []cwt.DashboardValidationMessage
	for j, m := range metrics {
		p := fmt.Sprintf("%s/%d", path, j)
		line, ok := m.([]any)
		if !ok || len(line) == 0 {
			msgs = append(msgs, dvm(p, "Should be array"))
			continue
		}
		if _, isObj := line[0].(map[string]any); isObj && len(line) == 1 {
			continue // expression
		}
		strs := 0
		for k, v := range line {
			switch v.(type) {
			case string:
				if k != strs {
					msgs = append(msgs, dvm(fmt.Sprintf("%s/%d", p, k), "Strings must precede the rendering options object"))
				}
				strs++
			case map[string]any:
				if k != len(line)-1 {
					msgs = append(msgs, dvm(fmt.Sprintf("%s/%d", p, k), "The rendering options object must be last"))
				}
			default:
				msgs = append(msgs, dvm(fmt.Sprintf("%s/%d", p, k), "Should be string or object"))
			}
		}
		if strs < 2 && !(strs == 1 && line[0] == "...") {
			msgs = append(msgs, dvm(p, "Should have a namespace and a metric name"))
		} else if line[0] != "..." && strs%2 != 0 {
			msgs = append(msgs, dvm(p, "Dimensions must come in name/value pairs"))
		}
	}
	return msgs
}

func (s *cloudWatchSim) PutDashboard(_ context.Context, in *cloudwatch.PutDashboardInput) (*cloudwatch.PutDashboardOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	name := aws.ToString(in.DashboardName)
	if !dashboardNameRE.MatchString(name) {
		return nil, dashboardInvalid(dvm("/DashboardName", "The dashboard name must be 1 to 255 of A-Z, a-z, 0-9, - and _"))
	}
	if in.DashboardBody == nil {
		return nil, cwMissing("DashboardBody")
	}
	if msgs := validateDashboardBody(*in.DashboardBody); len(msgs) > 0 {
		return nil, dashboardInvalid(msgs...)
	}
	now := s.c.now().UTC()
	if d, ok := s.dashboards[name]; ok {
		// Tags on update are ignored (PutDashboard reference).
		d.body, d.modified = *in.DashboardBody, now
		return &cloudwatch.PutDashboardOutput{}, nil
	}
	if len(in.Tags) > 50 {
		return nil, cwInvalid("at most 50 tags are allowed")
	}
	s.dashboards[name] = &dashboard{name: name, body: *in.DashboardBody, modified: now, tags: cwTagMap(in.Tags)}
	return &cloudwatch.PutDashboardOutput{}, nil
}

func dashboardNotFound(name string) error {
	return &cwt.DashboardNotFoundError{Message: aws.String("Dashboard " + name + " does not exist"), ErrorCodeOverride: aws.String("ResourceNotFound")}
}

func (s *cloudWatchSim) GetDashboard(_ context.Context, in *cloudwatch.GetDashboardInput) (*cloudwatch.GetDashboardOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	name := aws.ToString(in.DashboardName)
	d, ok := s.dashboards[name]
	if !ok {
		return nil, dashboardNotFound(name)
	}
	return &cloudwatch.GetDashboardOutput{DashboardName: aws.String(name), DashboardArn: aws.String(s.dashboardARN(name)), DashboardBody: aws.String(d.body)}, nil
}

// DeleteDashboards deletes all the named dashboards, or none: a missing name
// answers ResourceNotFound (DashboardNotFoundError) and nothing is deleted.
func (s *cloudWatchSim) DeleteDashboards(_ context.Context, in *cloudwatch.DeleteDashboardsInput) (*cloudwatch.DeleteDashboardsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	if len(in.DashboardNames) == 0 {
		return nil, cwMissing("DashboardNames")
	}
	for _, n := range in.DashboardNames {
		if _, ok := s.dashboards[n]; !ok {
			return nil, dashboardNotFound(n)
		}
	}
	for _, n := range in.DashboardNames {
		delete(s.dashboards, n)
	}
	return &cloudwatch.DeleteDashboardsOutput{}, nil
}

// ListDashboards pages by 1000 entries, as CloudWatch does.
func (s *cloudWatchSim) ListDashboards(_ context.Context, in *cloudwatch.ListDashboardsInput) (*cloudwatch.ListDashboardsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	var entries []cwt.DashboardEntry
	for _, n := range sortedKeys(s.dashboards) {
		if p := aws.ToString(in.DashboardNamePrefix); p != "" && !strings.HasPrefix(n, p) {
			continue
		}
		d := s.dashboards[n]
		entries = append(entries, cwt.DashboardEntry{DashboardName: aws.String(n), DashboardArn: aws.String(s.dashboardARN(n)),
			LastModified: aws.Time(d.modified), Size: aws.Int64(int64(len(d.body)))})
	}
	sort.SliceStable(entries, func(i, j int) bool {
		return aws.ToString(entries[i].DashboardName) < aws.ToString(entries[j].DashboardName)
	})
	page, next := paginate(entries, aws.Int32(1000), in.NextToken)
	return &cloudwatch.ListDashboardsOutput{DashboardEntries: page, NextToken: next}, nil
}
