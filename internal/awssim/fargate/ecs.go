package fargate

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// ecsTarget prefixes the X-Amz-Target of the ECS JSON 1.1 API.
const ecsTarget = "AmazonEC2ContainerServiceV20141113."

// SetECS makes the server answer ECS API calls (JSON 1.1, told apart by
// X-Amz-Target) with h, after authorizing them against the caller's role
// like the S3 requests: the aws shim in the containers points every
// service at this one endpoint.
func (s *S3) SetECS(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ecs = h
}

// serveECS authorizes an ECS call. DescribeTasks needs ecs:DescribeTasks
// on each task ARN, with the ecs:cluster condition key set to the cluster
// ARN (Service Authorization Reference, "Actions, resources, and condition
// keys for Amazon Elastic Container Service"); a denied call answers
// AccessDeniedException (HTTP 400, as ECS's JSON errors).
func (s *S3) serveECS(w http.ResponseWriter, r *http.Request, body []byte, rec *Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), ecsTarget)
	rec.Operation = "ecs:" + op
	caller, code, msg := s.caller(r)
	if code != "" {
		rec.Status, rec.Denied = http.StatusBadRequest, []string{code}
		writeJSONError(w, "UnrecognizedClientException", msg)
		return
	}
	region, account := caller.region, accountOf(caller.roleARN)
	var checks []check
	switch op {
	case "DescribeTasks":
		var in struct {
			Cluster string   `json:"cluster"`
			Tasks   []string `json:"tasks"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			rec.Status = http.StatusBadRequest
			writeJSONError(w, "SerializationException", err.Error())
			return
		}
		cluster := in.Cluster
		if cluster == "" {
			cluster = "default"
		}
		clusterARN := cluster
		if !strings.HasPrefix(cluster, "arn:") {
			clusterARN = "arn:aws:ecs:" + region + ":" + account + ":cluster/" + cluster
		}
		name := clusterARN[strings.LastIndex(clusterARN, "/")+1:]
		for _, t := range in.Tasks {
			arn := t
			if !strings.HasPrefix(t, "arn:") {
				arn = "arn:aws:ecs:" + region + ":" + account + ":task/" + name + "/" + t
			}
			checks = append(checks, check{action: "ecs:DescribeTasks", resource: arn, ctx: map[string][]string{"ecs:cluster": {clusterARN}}})
		}
	default:
		rec.Status, rec.Denied = http.StatusBadRequest, []string{"unmodelled ECS operation " + op}
		writeJSONError(w, "AccessDeniedException", "unmodelled ECS operation "+op)
		return
	}
	s.mu.Lock()
	h := s.ecs
	s.mu.Unlock()
	global := globalContext(r, caller, account)
	for _, c := range checks {
		ctx := map[string][]string{}
		for k, v := range global {
			if !strings.HasPrefix(k, "s3:") {
				ctx[k] = v
			}
		}
		for k, v := range c.ctx {
			ctx[k] = v
		}
		d := ImplicitDeny
		if caller.eval != nil {
			d = caller.eval.Evaluate(c.action, c.resource, caller.arn, ctx)
		}
		if d != Allowed {
			rec.Status, rec.Denied = http.StatusBadRequest, append(rec.Denied, c.String())
			writeJSONError(w, "AccessDeniedException", deniedMessage(caller.arn, c, d))
			return
		}
	}
	if h == nil {
		rec.Status = http.StatusBadRequest
		writeJSONError(w, "ServerException", "no ECS in this test")
		return
	}
	resp := httptest.NewRecorder()
	h.ServeHTTP(resp, r)
	rec.Status = resp.Code
	copyResponse(w, resp)
}

func accountOf(arn string) string {
	if f := strings.Split(arn, ":"); len(f) > 4 {
		return f[4]
	}
	return ""
}

func writeJSONError(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	b, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	_, _ = w.Write(b)
}

// Tasks answers DescribeTasks (Amazon ECS API reference, DescribeTasks;
// "Amazon ECS task lifecycle") for the tasks the runner started (Track):
// lastStatus RUNNING, STOPPING while its containers stop, STOPPED once they
// all have; and for tasks known only by their state (Set). A task of
// another cluster than the request's ("cluster: the short name or full ARN
// of the cluster that hosts the task or tasks to describe. If you do not
// specify a cluster, the default cluster is assumed"), or an unknown one,
// is a failure with reason MISSING.
type Tasks struct {
	mu       sync.Mutex
	tasks    map[string]*Task
	states   map[string]string // lastStatus of the tasks given by Set
	clusters []string          // the cluster each call named
}

// NewTasks returns an empty registry.
func NewTasks() *Tasks { return &Tasks{tasks: map[string]*Task{}, states: map[string]string{}} }

// Track adds a task.
func (ts *Tasks) Track(t *Task) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.tasks[t.ARN] = t
}

// Set adds a task the runner does not run, in the given lastStatus (also
// its desiredStatus, as for a task that is not changing).
func (ts *Tasks) Set(arn, lastStatus string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.states[arn] = lastStatus
}

// Clusters returns the cluster parameter of every call so far, in order
// ("" when a call named none).
func (ts *Tasks) Clusters() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.clusters...)
}

// clusterName is the name in a cluster name or ARN, and in a task ARN
// (arn:aws:ecs:region:account:task/cluster/id).
func clusterName(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	_, rest, _ := strings.Cut(s, "/")
	name, _, _ := strings.Cut(rest, "/")
	return name
}

func (ts *Tasks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Cluster string   `json:"cluster"`
		Tasks   []string `json:"tasks"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSONError(w, "SerializationException", err.Error())
		return
	}
	type task struct {
		TaskArn       string `json:"taskArn"`
		LastStatus    string `json:"lastStatus"`
		DesiredStatus string `json:"desiredStatus"`
	}
	type failure struct {
		Arn    string `json:"arn"`
		Reason string `json:"reason"`
	}
	out := struct {
		Tasks    []task    `json:"tasks"`
		Failures []failure `json:"failures"`
	}{Tasks: []task{}, Failures: []failure{}}
	cluster := clusterName(in.Cluster)
	if cluster == "" {
		cluster = "default"
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.clusters = append(ts.clusters, in.Cluster)
	for _, arn := range in.Tasks {
		t, tracked := ts.tasks[arn]
		state, set := ts.states[arn]
		switch {
		case strings.HasPrefix(arn, "arn:") && clusterName(arn) != cluster, !tracked && !set:
			out.Failures = append(out.Failures, failure{arn, "MISSING"})
		case tracked:
			last, desired := t.status()
			out.Tasks = append(out.Tasks, task{arn, last, desired})
		default:
			out.Tasks = append(out.Tasks, task{arn, state, state})
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}
