package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// dashboardKind provisions the stack's CloudWatch dashboard
// (config.Names().Dashboard). Its body is built from typed structs and
// marshalled to JSON; it is written only when it differs semantically (parsed
// JSON compared) from the live one. Widgets are derived from the node's
// dependencies, so they only reference resources of the stack: ECS services,
// the load balancer and its target groups, the Redis members, the alarms and
// the log group. Structure: CloudWatch API reference, "Dashboard Body
// Structure and Syntax".
type dashboardKind struct{}

func init() { Register(dashboardKind{}) }

func (dashboardKind) Type() string { return "cloudwatch.dashboard" }

// DashboardBody is the JSON document of a dashboard.
type DashboardBody struct {
	Start          string   `json:"start,omitempty"`
	PeriodOverride string   `json:"periodOverride,omitempty"`
	Widgets        []Widget `json:"widgets"`
}

// Widget is one dashboard widget; Properties is one of MetricProps,
// LogProps, TextProps, AlarmProps.
type Widget struct {
	Type       string `json:"type"`
	X          int    `json:"x"`
	Y          int    `json:"y"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	Properties any    `json:"properties"`
}

// MetricProps are the properties of a "metric" widget.
type MetricProps struct {
	Title   string       `json:"title"`
	Region  string       `json:"region"`
	View    string       `json:"view"`
	Stacked bool         `json:"stacked"`
	Stat    string       `json:"stat"`
	Period  int          `json:"period"`
	Metrics []MetricLine `json:"metrics"`
}

// MetricLine is one metric of a metric widget. It marshals to the array
// form CloudWatch expects: [namespace, name, dim1, value1, ..., {options}].
type MetricLine struct {
	Namespace  string
	Metric     string
	Dimensions [][2]string
	Options    MetricOptions
}

// MetricOptions are the rendering options of a metric line.
type MetricOptions struct {
	Stat  string `json:"stat,omitempty"`
	Label string `json:"label,omitempty"`
	YAxis string `json:"yAxis,omitempty"`
}

// MarshalJSON writes the array form.
func (m MetricLine) MarshalJSON() ([]byte, error) {
	line := []any{m.Namespace, m.Metric}
	for _, d := range m.Dimensions {
		line = append(line, d[0], d[1])
	}
	if m.Options != (MetricOptions{}) {
		line = append(line, m.Options)
	}
	return json.Marshal(line)
}

// LogProps are the properties of a Logs Insights ("log") widget.
type LogProps struct {
	Title  string `json:"title"`
	Region string `json:"region"`
	Query  string `json:"query"`
	View   string `json:"view"`
}

// TextProps are the properties of a "text" widget.
type TextProps struct {
	Markdown string `json:"markdown"`
}

// AlarmProps are the properties of an alarm status widget.
type AlarmProps struct {
	Title  string   `json:"title"`
	Alarms []string `json:"alarms"`
}

// ErrorLogQuery is the Logs Insights query of the dashboard's error widget.
func ErrorLogQuery(group string) string {
	return "SOURCE '" + group + "' | fields @timestamp, @message | filter @message like /(?i)error/ | sort @timestamp desc | limit 50"
}

// DashboardURL is the console address of a dashboard.
func DashboardURL(region, name string) string {
	return fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards:name=%s", region, region, name)
}

type dashObs struct {
	body any // parsed live body
}

// layout places widgets two per row (12 of 24 columns, 6 high); full-width
// ones take a row of their own.
type layout struct {
	widgets []Widget
	x, y    int
}

func (l *layout) add(typ string, full bool, height int, props any) {
	w := Widget{Type: typ, Width: 12, Height: height, Properties: props}
	if full {
		if l.x != 0 {
			l.x, l.y = 0, l.y+6
		}
		w.Width = 24
	}
	w.X, w.Y = l.x, l.y
	if full || l.x == 12 {
		l.x, l.y = 0, l.y+height
	} else {
		l.x = 12
	}
	l.widgets = append(l.widgets, w)
}

func (k dashboardKind) deps(n *Node) (services, groups, alarms []string, alb, redis bool) {
	for _, d := range n.Deps {
		switch {
		case strings.HasPrefix(d, "service-"):
			services = append(services, d)
		case strings.HasPrefix(d, "tg-"):
			groups = append(groups, d)
		case strings.HasPrefix(d, alarmNodePrefix):
			alarms = append(alarms, d)
		case d == "alb":
			alb = true
		case d == "redis":
			redis = true
		}
	}
	return
}

// Body builds the dashboard of node n from its dependencies' records.
func (k dashboardKind) Body(env *Env, n *Node) (*DashboardBody, error) {
	region := env.Region()
	services, groups, alarms, hasALB, hasRedis := k.deps(n)
	group, err := env.RefID("log-group")
	if err != nil {
		return nil, err
	}
	l := &layout{}
	metric := func(title, stat string, period int, lines []MetricLine) {
		l.add("metric", false, 6, MetricProps{Title: title, Region: region, View: "timeSeries", Stat: stat, Period: period, Metrics: lines})
	}
	header := fmt.Sprintf("# WBO — stack %s\nApp log group `%s`; tail it with `wbo-deploy logs`.", env.Stack(), group)
	if !env.Cfg.ECS.ContainerInsights && len(services) > 0 {
		header += "\n\nRunning task counts need ECS Container Insights (`ecs.container_insights: true`)."
	}
	l.add("text", true, 2, TextProps{Markdown: header})

	if len(services) > 0 {
		var cpu, mem, tasks []MetricLine
		for _, s := range services {
			cluster, name, err := obsECSNames(env, s)
			if err != nil {
				return nil, err
			}
			d := [][2]string{{"ClusterName", cluster}, {"ServiceName", name}}
			label := MetricOptions{Label: strings.TrimPrefix(s, "service-")}
			cpu = append(cpu, MetricLine{"AWS/ECS", "CPUUtilization", d, label})
			mem = append(mem, MetricLine{"AWS/ECS", "MemoryUtilization", d, label})
			tasks = append(tasks, MetricLine{"ECS/ContainerInsights", "RunningTaskCount", d, label})
		}
		metric("ECS CPU utilization (%)", "Average", 60, cpu)
		metric("ECS memory utilization (%)", "Average", 60, mem)
		if env.Cfg.ECS.ContainerInsights {
			metric("Running tasks", "Average", 60, tasks)
		}
	}
	if hasALB {
		lb, err := obsArnSuffix(env, "alb")
		if err != nil {
			return nil, err
		}
		lbDim := [][2]string{{"LoadBalancer", lb}}
		requests := []MetricLine{{"AWS/ApplicationELB", "RequestCount", lbDim, MetricOptions{Label: "all"}}}
		var healthy []MetricLine
		for _, tg := range groups {
			suffix, err := obsArnSuffix(env, tg)
			if err != nil {
				return nil, err
			}
			d := [][2]string{{"TargetGroup", suffix}, {"LoadBalancer", lb}}
			label := strings.TrimPrefix(tg, "tg-")
			requests = append(requests, MetricLine{"AWS/ApplicationELB", "RequestCount", d, MetricOptions{Label: label}})
			healthy = append(healthy,
				MetricLine{"AWS/ApplicationELB", "HealthyHostCount", d, MetricOptions{Stat: "Minimum", Label: label + " healthy"}},
				MetricLine{"AWS/ApplicationELB", "UnHealthyHostCount", d, MetricOptions{Stat: "Maximum", Label: label + " unhealthy"}})
		}
		metric("Load balancer requests (per minute)", "Sum", 60, requests)
		metric("Target response time (s)", "p50", 60, []MetricLine{
			{"AWS/ApplicationELB", "TargetResponseTime", lbDim, MetricOptions{Stat: "p50", Label: "p50"}},
			{"AWS/ApplicationELB", "TargetResponseTime", lbDim, MetricOptions{Stat: "p95", Label: "p95"}},
		})
		metric("HTTP errors (per minute)", "Sum", 60, []MetricLine{
			{"AWS/ApplicationELB", "HTTPCode_Target_4XX_Count", lbDim, MetricOptions{Label: "app 4xx"}},
			{"AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", lbDim, MetricOptions{Label: "app 5xx"}},
			{"AWS/ApplicationELB", "HTTPCode_ELB_4XX_Count", lbDim, MetricOptions{Label: "load balancer 4xx"}},
			{"AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", lbDim, MetricOptions{Label: "load balancer 5xx"}},
		})
		if len(healthy) > 0 {
			metric("Healthy and unhealthy targets", "Minimum", 60, healthy)
		}
	}
	if hasRedis {
		rg, err := env.RefID("redis")
		if err != nil {
			return nil, err
		}
		var cpu, conns, mem []MetricLine
		for m := 1; m <= obsRedisMembers(env.Cfg); m++ {
			id := obsRedisMemberID(rg, m)
			d := [][2]string{{"CacheClusterId", id}}
			cpu = append(cpu, MetricLine{"AWS/ElastiCache", "EngineCPUUtilization", d, MetricOptions{Label: id}})
			conns = append(conns, MetricLine{"AWS/ElastiCache", "CurrConnections", d, MetricOptions{Label: id}})
			mem = append(mem, MetricLine{"AWS/ElastiCache", "DatabaseMemoryUsagePercentage", d, MetricOptions{Label: id}})
		}
		metric("Redis engine CPU (%)", "Average", 60, cpu)
		metric("Redis connections", "Maximum", 60, conns)
		metric("Redis memory used (% of maxmemory)", "Average", 60, mem)
	}
	if len(alarms) > 0 {
		var arns []string
		for _, a := range alarms {
			rec, err := env.Ref(a)
			if err != nil {
				return nil, err
			}
			arn := rec.ARN
			if arn == "" {
				arn = fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", obsPartition(env), region, env.Account(), rec.ID)
			}
			arns = append(arns, arn)
		}
		// An alarm status widget shows at most 100 alarms.
		if len(arns) > 100 {
			arns = arns[:100]
		}
		l.add("alarm", true, 4, AlarmProps{Title: "Alarms", Alarms: arns})
	}
	l.add("log", true, 8, LogProps{Title: "Recent errors in the app log", Region: region, Query: ErrorLogQuery(group), View: "table"})
	return &DashboardBody{Start: "-PT3H", Widgets: l.widgets}, nil
}

func (k dashboardKind) bodyJSON(env *Env, n *Node) (string, error) {
	b, err := k.Body(env, n)
	if err != nil {
		return "", err
	}
	js, err := json.Marshal(b)
	if err != nil {
		return "", fmt.Errorf("encode dashboard: %w", err)
	}
	return string(js), nil
}

func (k dashboardKind) observe(env *Env, n *Node, name, arn, body string) (*Observed, error) {
	var parsed any
	if err := json.Unmarshal([]byte(body), &parsed); err != nil {
		parsed = body // not JSON: differs from anything we write
	}
	obs := &Observed{Rec: NewRecord(n, name), State: "available", Raw: &dashObs{body: parsed}}
	obs.Rec.ARN = arn
	obs.Info = map[string]string{"dashboard_url": DashboardURL(env.Region(), name)}
	return obs, nil
}

func (k dashboardKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	name := env.Cfg.Names().Dashboard
	if rec != nil && rec.ID != "" {
		name = rec.ID
	}
	out, err := env.AWS.CloudWatch.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String(name)})
	if err != nil {
		if awserr.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get dashboard %s: %w", name, err)
	}
	return k.observe(env, n, name, aws.ToString(out.DashboardArn), aws.ToString(out.DashboardBody))
}

func (k dashboardKind) put(ctx context.Context, env *Env, n *Node, withTags bool) (string, string, error) {
	name := env.Cfg.Names().Dashboard
	body, err := k.bodyJSON(env, n)
	if err != nil {
		return "", "", err
	}
	in := &cloudwatch.PutDashboardInput{DashboardName: aws.String(name), DashboardBody: aws.String(body)}
	if withTags {
		for _, kv := range env.SortedTags(n.Name) {
			in.Tags = append(in.Tags, cwtypes.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
		}
	}
	out, err := env.AWS.CloudWatch.PutDashboard(ctx, in)
	if err != nil {
		return "", "", fmt.Errorf("put dashboard %s: %w", name, err)
	}
	for _, m := range out.DashboardValidationMessages {
		env.Emit(Event{Node: n.Name, Kind: n.Kind, Phase: PhaseInfo, Message: fmt.Sprintf("dashboard warning at %s: %s", aws.ToString(m.DataPath), aws.ToString(m.Message))})
	}
	return name, body, nil
}

func (k dashboardKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	name, body, err := k.put(ctx, env, n, true)
	if err != nil {
		return nil, err
	}
	// Dashboards are global: no region in the ARN.
	arn := fmt.Sprintf("arn:%s:cloudwatch::%s:dashboard/%s", obsPartition(env), env.Account(), name)
	obs, _ := k.observe(env, n, name, arn, body)
	if err := env.Record(obs.Rec); err != nil {
		return nil, err
	}
	return obs, nil
}

func (k dashboardKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	body, err := k.bodyJSON(env, n)
	if err != nil {
		return []Change{{Field: "body", Old: "?", New: err.Error()}}
	}
	var want any
	_ = json.Unmarshal([]byte(body), &want)
	if !reflect.DeepEqual(want, obs.Raw.(*dashObs).body) {
		return []Change{{Field: "body", Old: "differs", New: "rebuilt from the stack's resources"}}
	}
	return nil
}

func (k dashboardKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	_, body, err := k.put(ctx, env, n, false)
	if err != nil {
		return err
	}
	var parsed any
	_ = json.Unmarshal([]byte(body), &parsed)
	obs.Raw = &dashObs{body: parsed}
	return nil
}

// Delete removes the dashboard; DeleteDashboards answers ResourceNotFound
// (DashboardNotFoundError) when it is already gone.
func (k dashboardKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	_, err := env.AWS.CloudWatch.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{rec.ID}})
	if err != nil && !awserr.IsNotFound(err) {
		return fmt.Errorf("delete dashboard %s: %w", rec.ID, err)
	}
	return nil
}

func (k dashboardKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var out []state.Resource
	name := env.Cfg.Names().Dashboard
	p := cloudwatch.NewListDashboardsPaginator(env.AWS.CloudWatch, &cloudwatch.ListDashboardsInput{DashboardNamePrefix: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list dashboards: %w", err)
		}
		for _, d := range page.DashboardEntries {
			if aws.ToString(d.DashboardName) != name {
				continue
			}
			tags, err := obsCWTags(ctx, env, aws.ToString(d.DashboardArn))
			if err != nil {
				return nil, err
			}
			if tags == nil || tags[TagStack] != env.Stack() {
				continue
			}
			out = append(out, state.Resource{Name: tags[TagResource], Kind: k.Type(), ID: name, ARN: aws.ToString(d.DashboardArn)})
		}
	}
	return out, nil
}
