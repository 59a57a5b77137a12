package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/app"
)

// resourceView is what two status reports must agree on.
func resourceView(doc app.StatusDocument) []string {
	var out []string
	for _, r := range doc.Resources {
		out = append(out, r.Name+" "+r.Kind+" "+r.ID+" "+r.Status+" "+r.Reason)
	}
	return out
}

// A deployed stack without a state file (a second operator, a CI runner, a
// replaced laptop) is found by its tags and names: plan shows no creation
// and no change, status is as truthful as with the state, and up makes no
// mutating call, recording what it adopted.
func TestDeployedStackWithoutStateFile(t *testing.T) {
	c := newCLI(t)
	c.mustCode(0, "up", "--yes")
	withState, code := c.status()
	if code != 0 || !withState.Healthy {
		t.Fatalf("status with state: exit %d %+v", code, withState)
	}
	if err := os.Remove(c.state()); err != nil {
		t.Fatal(err)
	}

	// plan: every resource adopted, nothing created or changed.
	r := c.mustCode(0, "plan", "-o", "json")
	var plan app.PlanDocument
	if err := json.Unmarshal([]byte(r.out), &plan); err != nil {
		t.Fatal(err)
	}
	if plan.Offline || plan.Source != app.SourceTags {
		t.Fatalf("plan without state: offline=%v source=%q", plan.Offline, plan.Source)
	}
	for _, res := range plan.Resources {
		if res.Action != "adopt" || len(res.Changes) > 0 {
			t.Errorf("plan without state: %s is %s %v", res.Name, res.Action, res.Changes)
		}
	}
	if len(plan.Resources) != len(withState.Resources) {
		t.Fatalf("plan lists %d resources, status with state %d", len(plan.Resources), len(withState.Resources))
	}
	r = c.mustCode(0, "plan")
	if !strings.Contains(r.out, "0 to create") || strings.Contains(r.out, "offline") || strings.Contains(r.out, "OFFLINE") {
		t.Fatalf("plan text without state:\n%s", r.out)
	}
	if _, err := os.Stat(c.state()); !os.IsNotExist(err) {
		t.Fatalf("plan wrote a state file: %v", err)
	}

	// status: same resources, same health, exit 0.
	tags, code := c.status()
	if code != 0 || !tags.Healthy || !tags.Deployed || tags.Source != "tags" {
		t.Fatalf("status without state: exit %d healthy=%v source=%s\n%s", code, tags.Healthy, tags.Source, strings.Join(resourceView(tags), "\n"))
	}
	a, b := resourceView(withState), resourceView(tags)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatalf("status differs without state:\nwith state:\n%s\nwithout:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if tags.URL != withState.URL || tags.DashboardURL != withState.DashboardURL {
		t.Fatalf("URLs differ: %q %q vs %q %q", tags.URL, tags.DashboardURL, withState.URL, withState.DashboardURL)
	}
	if r := c.mustCode(0, "status"); !strings.Contains(r.out, "healthy") || strings.Contains(r.out, "not healthy") {
		t.Fatalf("status text without state:\n%s", r.out)
	}

	// up: no mutating call; the plan it prints adopts; the state is rebuilt.
	c.cloud.ResetCalls()
	r = c.mustCode(0, "up", "--yes")
	if m := c.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("up without state made mutating calls: %v", m)
	}
	if strings.Contains(r.err, "to create") && !strings.Contains(r.err, "0 to create") {
		t.Fatalf("up's plan announces creations:\n%s", r.err)
	}
	if !strings.Contains(r.out, "0 created") {
		t.Fatalf("up:\n%s", r.out)
	}
	again, code := c.status()
	if code != 0 || again.Source != "state" || strings.Join(resourceView(again), "\n") != strings.Join(a, "\n") {
		t.Fatalf("status after the adopting up: exit %d source %s", code, again.Source)
	}
}

// plan is offline only with --offline or without any way to reach AWS, and
// then says so plainly.
func TestPlanOfflineSaysItDidNotLook(t *testing.T) {
	c := newCLI(t)
	c.mustCode(0, "up", "--yes")
	c.cloud.ResetCalls()
	r := c.mustCode(2, "plan", "--offline", "--detailed-exitcode")
	if n := len(c.cloud.Calls()); n != 0 {
		t.Fatalf("plan --offline made %d AWS calls", n)
	}
	if !strings.Contains(r.out, "OFFLINE (--offline)") || !strings.Contains(r.out, "AWS was not consulted") {
		t.Fatalf("offline plan does not say it did not look:\n%s", r.out)
	}
	r = c.mustCode(0, "plan", "--offline", "-o", "json")
	var doc app.PlanDocument
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil || !doc.Offline || doc.Source != app.SourceOffline || doc.OfflineReason != "--offline" {
		t.Fatalf("offline plan JSON: %v %+v", err, doc)
	}
	// With the deployed stack and its state, plan is online and unchanged.
	c.mustCode(0, "plan", "--detailed-exitcode")
}
