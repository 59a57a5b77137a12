package fargate

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// endpoints serves a task's metadata (v4) and, with a task role, its
// credentials, on loopback.
type endpoints struct {
	srv   *http.Server
	url   string
	creds string // path of the credentials, "" without a task role
}

func newEndpoints(task *Task) (*endpoints, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &endpoints{url: "http://" + l.Addr().String()}
	var cred *Credentials
	if task.o.TaskRoleArn != "" && task.o.S3 != nil {
		c := task.o.S3.AssumeRole(task.o.TaskRoleArn, task.id)
		cred = &c
		e.creds = "/v2/credentials/" + task.id
	}
	mux := http.NewServeMux()
	if cred != nil {
		// The container credentials provider's document ("Amazon ECS task
		// IAM role"; the SDKs read AccessKeyId, SecretAccessKey, Token and
		// Expiration).
		mux.HandleFunc("GET "+e.creds, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, map[string]string{
				"RoleArn": task.o.TaskRoleArn, "AccessKeyId": cred.AccessKeyID, "SecretAccessKey": cred.SecretAccessKey,
				"Token": cred.SessionToken, "Expiration": time.Now().Add(6 * time.Hour).UTC().Format(time.RFC3339),
			})
		})
	}
	// Task metadata endpoint v4: ${ECS_CONTAINER_METADATA_URI_V4} is the
	// container's metadata, /task the task's (Amazon ECS Developer Guide,
	// "Amazon ECS task metadata endpoint version 4 for tasks on Fargate").
	mux.HandleFunc("GET /{v}/{ctr}/task", func(w http.ResponseWriter, r *http.Request) {
		task.mu.Lock()
		defer task.mu.Unlock()
		var ctrs []map[string]any
		for _, c := range task.ctrs {
			ctrs = append(ctrs, containerMeta(task, c))
		}
		status := "RUNNING"
		if task.stopping {
			status = "STOPPED"
		}
		writeJSON(w, map[string]any{
			"Cluster": task.o.Cluster, "TaskARN": task.ARN, "Family": task.o.Family, "Revision": "1",
			"DesiredStatus": status, "KnownStatus": "RUNNING", "LaunchType": "FARGATE",
			"AvailabilityZone": task.o.Region + "a", "Containers": ctrs,
		})
	})
	mux.HandleFunc("GET /{v}/{ctr}", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.PathValue("ctr"), task.id+"-")
		task.mu.Lock()
		defer task.mu.Unlock()
		c, ok := task.by[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, containerMeta(task, c))
	})
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(l) }()
	return e, nil
}

func containerMeta(task *Task, c *Container) map[string]any {
	return map[string]any{"DockerId": task.id + "-" + c.Name, "Name": c.Name, "Image": aws.ToString(c.Def.Image),
		"Labels": map[string]string{"com.amazonaws.ecs.task-arn": task.ARN, "com.amazonaws.ecs.container-name": c.Name}}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (e *endpoints) close() { _ = e.srv.Close() }
