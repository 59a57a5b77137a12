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

// Tasks answers DescribeTasks for the tasks the runner started (Track):
// lastStatus RUNNING, STOPPING while its containers stop, STOPPED once they
// all have; an unknown task is a MISSING failure (Amazon ECS API reference,
// DescribeTasks; "Amazon ECS task lifecycle").
type Tasks struct {
	mu    sync.Mutex
	tasks map[string]*Task
}

// NewTasks returns an empty registry.
func NewTasks() *Tasks { return &Tasks{tasks: map[string]*Task{}} }

// Track adds a task.
func (ts *Tasks) Track(t *Task) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.tasks[t.ARN] = t
}

func (ts *Tasks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Tasks []string `json:"tasks"`
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
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, arn := range in.Tasks {
		t, ok := ts.tasks[arn]
		if !ok {
			out.Failures = append(out.Failures, failure{arn, "MISSING"})
			continue
		}
		last, desired := t.status()
		out.Tasks = append(out.Tasks, task{arn, last, desired})
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}
