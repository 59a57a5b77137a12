package provision

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// Status values of a resource.
const (
	StatusOK       = "ok"
	StatusCreating = "creating"
	StatusDegraded = "degraded"
	StatusMissing  = "missing"
	StatusDrifted  = "drifted"
)

// ResourceStatus is what status reports for one resource.
type ResourceStatus struct {
	Name   string            `json:"name"`
	Kind   string            `json:"kind"`
	ID     string            `json:"id"`
	Status string            `json:"status"`
	Reason string            `json:"reason,omitempty"`
	Info   map[string]string `json:"info,omitempty"`
}

// statusParallel is how many resources status describes at once. Only reads,
// a few per resource: well within AWS's read rate limits (EC2 "Request
// throttling for the Amazon EC2 API": describe actions have the largest
// buckets), and with about 50 resources it makes status take about as long
// as the slowest single resource instead of the sum over 8 lanes.
const statusParallel = 32

// Status describes every resource in recs in parallel and compares it with
// the configuration.
func (e *Engine) Status(ctx context.Context, recs []state.Resource) []ResourceStatus {
	out := make([]ResourceStatus, len(recs))
	for i, rec := range recs {
		e.Env.mu.Lock()
		e.Env.refs[rec.Name] = rec
		e.Env.mu.Unlock()
		out[i] = ResourceStatus{Name: rec.Name, Kind: rec.Kind, ID: rec.ID}
	}
	// Workers take the resources in order: which one waits for a free
	// worker does not depend on goroutine scheduling.
	next := make(chan int, len(recs))
	for i := range recs {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(max(e.limit(), statusParallel), len(recs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = e.status(ctx, recs[i])
			}
		}()
	}
	wg.Wait()
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (e *Engine) status(ctx context.Context, rec state.Resource) ResourceStatus {
	rs := ResourceStatus{Name: rec.Name, Kind: rec.Kind, ID: rec.ID}
	k, ok := KindOf(rec.Kind)
	if !ok {
		rs.Status, rs.Reason = StatusDegraded, "unknown kind "+rec.Kind
		return rs
	}
	n, inGraph := e.Graph.Node(rec.Name)
	if !inGraph {
		n = &Node{Name: rec.Name, Kind: rec.Kind, Deps: rec.Deps}
	}
	r := rec
	obs, err := k.Find(ctx, e.Env, n, &r)
	if err != nil {
		rs.Status, rs.Reason = StatusDegraded, fmt.Sprintf("cannot describe: %v", err)
		return rs
	}
	if obs == nil {
		rs.Status, rs.Reason = StatusMissing, "deleted outside wbo-deploy"
		return rs
	}
	rs.Info = obs.Info
	if obs.Pending {
		rs.Status, rs.Reason = StatusCreating, obs.State
		return rs
	}
	if !inGraph {
		rs.Status, rs.Reason = StatusDrifted, "no longer in the configuration (up will delete it)"
		return rs
	}
	if changes := k.Diff(e.Env, n, obs); len(changes) > 0 {
		var parts []string
		for _, c := range changes {
			parts = append(parts, c.String())
		}
		rs.Status, rs.Reason = StatusDrifted, strings.Join(parts, "; ")
		return rs
	}
	if obs.Health != nil && !obs.Health.OK {
		rs.Status, rs.Reason = StatusDegraded, obs.Health.Reason
		return rs
	}
	rs.Status = StatusOK
	return rs
}
