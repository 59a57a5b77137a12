package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

func liveDashboard(t *testing.T, r *rig) map[string]any {
	t.Helper()
	out, err := r.clients().CloudWatch.GetDashboard(context.Background(), &cloudwatch.GetDashboardInput{DashboardName: aws.String(r.cfg.Names().Dashboard)})
	if err != nil {
		t.Fatalf("get dashboard: %v", err)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(out.DashboardBody)), &body); err != nil {
		t.Fatalf("dashboard body does not parse: %v", err)
	}
	return body
}

// knownMetrics are the metrics each namespace publishes with the dimensions
// the dashboard may use (ECS, ELB, ElastiCache and Container Insights metric
// references).
var knownMetrics = map[string][]string{
	"AWS/ECS":               {"CPUUtilization", "MemoryUtilization"},
	"ECS/ContainerInsights": {"RunningTaskCount"},
	"AWS/ApplicationELB": {"RequestCount", "TargetResponseTime", "HTTPCode_Target_4XX_Count", "HTTPCode_Target_5XX_Count",
		"HTTPCode_ELB_4XX_Count", "HTTPCode_ELB_5XX_Count", "HealthyHostCount", "UnHealthyHostCount"},
	"AWS/ElastiCache": {"EngineCPUUtilization", "CurrConnections", "DatabaseMemoryUsagePercentage"},
}

// checkDashboard verifies that every widget references metrics and
// dimensions of resources that exist in the stack, and returns the
// "namespace metric" pairs and statistics seen.
func checkDashboard(t *testing.T, r *rig, body map[string]any) map[string]bool {
	t.Helper()
	cfg := r.cfg
	services := map[string]bool{}
	groups := map[string]bool{}
	for _, l := range obsLabels(cfg) {
		services["wbo/wbo-"+l] = true
		groups["targetgroup/wbo-"+l+"/"+obsHex("wbo-"+l)] = true
	}
	lb := "app/wbo-alb/" + obsHex("wboalb")
	members := map[string]bool{}
	if cfg.RedisEnabled() {
		for m := 1; m <= cfg.Redis.Replicas+1; m++ {
			members[fmt.Sprintf("wbo-redis-%03d", m)] = true
		}
	}
	alarmARNs := map[string]bool{}
	for _, a := range r.cloud.Alarms() {
		alarmARNs[aws.ToString(a.AlarmArn)] = true
	}
	seen := map[string]bool{}
	widgets, ok := body["widgets"].([]any)
	if !ok || len(widgets) == 0 {
		t.Fatalf("no widgets: %v", body)
	}
	type box struct{ x, y, w, h int }
	var boxes []box
	for i, raw := range widgets {
		w := raw.(map[string]any)
		x, y, wd, h := int(w["x"].(float64)), int(w["y"].(float64)), int(w["width"].(float64)), int(w["height"].(float64))
		if wd < 1 || x+wd > 24 || h < 1 {
			t.Errorf("widget %d out of the grid: x=%d width=%d height=%d", i, x, wd, h)
		}
		for _, b := range boxes {
			if x < b.x+b.w && b.x < x+wd && y < b.y+b.h && b.y < y+h {
				t.Errorf("widget %d overlaps another", i)
			}
		}
		boxes = append(boxes, box{x, y, wd, h})
		props := w["properties"].(map[string]any)
		switch w["type"] {
		case "metric":
			if props["region"] != "us-east-1" {
				t.Errorf("widget %d region %v", i, props["region"])
			}
			for _, lraw := range props["metrics"].([]any) {
				line := lraw.([]any)
				ns, metric := line[0].(string), line[1].(string)
				if !obsContains(knownMetrics[ns], metric) {
					t.Errorf("widget %d: unknown metric %s %s", i, ns, metric)
				}
				seen[ns+" "+metric] = true
				d := map[string]string{}
				stat := props["stat"].(string)
				for j := 2; j < len(line); j++ {
					if opts, ok := line[j].(map[string]any); ok {
						if s, ok := opts["stat"].(string); ok {
							stat = s
						}
						continue
					}
					d[line[j].(string)] = line[j+1].(string)
					j++
				}
				seen[ns+" "+metric+" "+stat] = true
				switch ns {
				case "AWS/ECS", "ECS/ContainerInsights":
					if len(d) != 2 || !services[d["ClusterName"]+"/"+d["ServiceName"]] {
						t.Errorf("widget %d: %s for a service not in the stack: %v", i, metric, d)
					}
				case "AWS/ApplicationELB":
					if d["LoadBalancer"] != lb {
						t.Errorf("widget %d: %s for load balancer %q", i, metric, d["LoadBalancer"])
					}
					if tg, ok := d["TargetGroup"]; ok && !groups[tg] {
						t.Errorf("widget %d: %s for target group %q not in the stack", i, metric, tg)
					}
					if len(d) > 2 {
						t.Errorf("widget %d: extra dimensions %v", i, d)
					}
				case "AWS/ElastiCache":
					if len(d) != 1 || !members[d["CacheClusterId"]] {
						t.Errorf("widget %d: %s for cache cluster %v not in the stack", i, metric, d)
					}
				}
			}
		case "log":
			if props["query"] != ErrorLogQuery("/wbo-deploy/wbo") || props["region"] != "us-east-1" {
				t.Errorf("log widget %v", props)
			}
			seen["log"] = true
		case "alarm":
			for _, a := range props["alarms"].([]any) {
				if !alarmARNs[a.(string)] {
					t.Errorf("alarm widget references %v, which does not exist", a)
				}
			}
			seen["alarm"] = true
		case "text":
		default:
			t.Errorf("widget %d has type %v", i, w["type"])
		}
	}
	return seen
}

func obsContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestDashboardReferencesOnlyStackResources(t *testing.T) {
	r := newRig(t, nil)
	obsUp(t, r)
	seen := checkDashboard(t, r, liveDashboard(t, r))
	for _, want := range []string{
		"AWS/ECS CPUUtilization Average", "AWS/ECS MemoryUtilization Average", "ECS/ContainerInsights RunningTaskCount",
		"AWS/ApplicationELB RequestCount Sum", "AWS/ApplicationELB TargetResponseTime p50", "AWS/ApplicationELB TargetResponseTime p95",
		"AWS/ApplicationELB HTTPCode_Target_4XX_Count", "AWS/ApplicationELB HTTPCode_Target_5XX_Count",
		"AWS/ApplicationELB HealthyHostCount", "AWS/ApplicationELB UnHealthyHostCount",
		"AWS/ElastiCache EngineCPUUtilization", "AWS/ElastiCache CurrConnections", "AWS/ElastiCache DatabaseMemoryUsagePercentage",
		"log", "alarm",
	} {
		if !seen[want] {
			t.Errorf("dashboard lacks %s", want)
		}
	}

	// Shared mode, no Redis, no Container Insights, no alarms: nothing of
	// those appears.
	c := config.Default()
	c.App.Mode, c.Redis.Mode, c.ECS.ContainerInsights, c.Alarms.Enabled = config.ModeShared, "none", false, false
	r2 := newRig(t, &c)
	obsUp(t, r2)
	seen = checkDashboard(t, r2, liveDashboard(t, r2))
	for k := range seen {
		if strings.HasPrefix(k, "AWS/ElastiCache") || strings.HasPrefix(k, "ECS/ContainerInsights") || k == "alarm" {
			t.Errorf("dashboard shows %s, which the stack does not have", k)
		}
	}
	if !seen["AWS/ECS CPUUtilization Average"] || !seen["AWS/ApplicationELB RequestCount Sum"] {
		t.Errorf("shared-mode dashboard lacks the service or load balancer: %v", seen)
	}
}

func TestDashboardWrittenOnlyWhenItDiffers(t *testing.T) {
	r := newRig(t, nil)
	obsUp(t, r)
	cw := r.clients().CloudWatch
	ctx := context.Background()
	body := liveDashboard(t, r)
	// The same dashboard re-serialised (indented, keys sorted): no write.
	same, _ := json.MarshalIndent(body, "", "  ")
	if _, err := cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("wbo"), DashboardBody: aws.String(string(same))}); err != nil {
		t.Fatal(err)
	}
	r.cloud.ResetCalls()
	obsUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("an equivalent body was rewritten: %v", m)
	}
	// A widget removed by hand: exactly one PutDashboard restores it.
	widgets := body["widgets"].([]any)
	body["widgets"] = widgets[:len(widgets)-1]
	edited, _ := json.Marshal(body)
	if _, err := cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("wbo"), DashboardBody: aws.String(string(edited))}); err != nil {
		t.Fatal(err)
	}
	r.cloud.ResetCalls()
	obsUp(t, r)
	if m := r.cloud.MutatingCalls(); strings.Join(m, ",") != "CloudWatch.PutDashboard" {
		t.Fatalf("repair made %v", m)
	}
	if got := liveDashboard(t, r)["widgets"].([]any); len(got) != len(widgets) {
		t.Fatalf("%d widgets after repair, want %d", len(got), len(widgets))
	}
	// A configuration change that touches the widgets rewrites it once.
	r.cfg.ECS.ContainerInsights = false
	r.cloud.ResetCalls()
	obsUp(t, r)
	if m := r.cloud.MutatingCalls(); strings.Join(m, ",") != "CloudWatch.PutDashboard" {
		t.Fatalf("container insights off made %v", m)
	}
}

func TestDashboardDisabledIsRemoved(t *testing.T) {
	r := newRig(t, nil)
	obsUp(t, r)
	r.cfg.Dashboard.Enabled = false
	r.cloud.ResetCalls()
	obsUp(t, r)
	if m := r.cloud.MutatingCalls(); strings.Join(m, ",") != "CloudWatch.DeleteDashboards" {
		t.Fatalf("disabling the dashboard made %v", m)
	}
	for _, o := range r.owned() {
		if strings.HasPrefix(o, "dashboard") {
			t.Fatal("dashboard still there")
		}
	}
	for _, rec := range r.records() {
		if rec.Name == "dashboard" {
			t.Fatal("dashboard still in state")
		}
	}
}

func TestDashboardBodyMarshalsTypedStructs(t *testing.T) {
	line := MetricLine{"AWS/ECS", "CPUUtilization", [][2]string{{"ClusterName", "c"}, {"ServiceName", "s"}}, MetricOptions{Label: "x"}}
	js, err := json.Marshal(line)
	if err != nil {
		t.Fatal(err)
	}
	if string(js) != `["AWS/ECS","CPUUtilization","ClusterName","c","ServiceName","s",{"label":"x"}]` {
		t.Fatalf("metric line %s", js)
	}
	bare, _ := json.Marshal(MetricLine{Namespace: "AWS/ECS", Metric: "CPUUtilization"})
	if string(bare) != `["AWS/ECS","CPUUtilization"]` {
		t.Fatalf("metric line without options %s", bare)
	}
	if u := DashboardURL("eu-west-3", "wbo-prod"); u != "https://eu-west-3.console.aws.amazon.com/cloudwatch/home?region=eu-west-3#dashboards:name=wbo-prod" {
		t.Fatal(u)
	}
}
