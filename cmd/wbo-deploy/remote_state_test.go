package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/wbo-deploy/wbo-deploy/internal/app"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
)

const (
	teamBucket = "team-state"
	teamKey    = "wbo-deploy/wbo.json"
)

// remote switches c to state.backend: s3 in the team bucket.
func (c *cli) remote() {
	c.env = append(c.env, "WBO_DEPLOY_STATE_BACKEND=s3", "WBO_DEPLOY_STATE_BUCKET="+teamBucket)
	c.noStateFlag = true
}

// local switches c back to the local state file.
func (c *cli) local() {
	var env []string
	for _, kv := range c.env {
		if !strings.HasPrefix(kv, "WBO_DEPLOY_STATE_BACKEND=") {
			env = append(env, kv)
		}
	}
	c.env, c.noStateFlag = env, false
}

func (c *cli) object(key string) (string, bool) {
	c.t.Helper()
	out, err := c.sdk().S3State.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(teamBucket), Key: aws.String(key)})
	if err != nil {
		return "", false
	}
	b, _ := io.ReadAll(out.Body)
	return string(b), true
}

func (c *cli) stateDoc() app.StateDocument {
	c.t.Helper()
	r := c.mustCode(0, "state", "show", "-o", "json")
	var doc app.StateDocument
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		c.t.Fatalf("state show -o json: %v\n%s", err, r.out)
	}
	return doc
}

// The full cycle with the state in S3: init-backend makes a hardened bucket,
// up/status/destroy use the remote state and its lock (no local file), a
// run with nothing to do makes only the lock's two calls, and destroy leaves
// the state bucket alone.
func TestRemoteStateFullCycle(t *testing.T) {
	c := newCLI(t)
	c.remote()
	r := c.mustCode(0, "state", "init-backend")
	for _, want := range []string{"created bucket team-state", "versioning enabled", "SSE-S3", "Block Public Access", "TLS"} {
		if !strings.Contains(r.out, want) {
			t.Fatalf("init-backend does not say %q:\n%s", want, r.out)
		}
	}
	c.mustCode(0, "state", "init-backend") // idempotent
	c.mustCode(0, "up", "--yes")
	if _, err := os.Stat(c.dir + "/.wbo-deploy"); !os.IsNotExist(err) {
		t.Fatalf("an S3-backed run made a local state directory: %v", err)
	}
	doc := c.stateDoc()
	if !doc.Exists || doc.Backend != "s3" || doc.Location != "s3://team-state/wbo-deploy/wbo.json" || doc.Serial == 0 ||
		len(doc.Resources) == 0 || doc.Lock != nil || doc.Account != "123456789012" {
		t.Fatalf("state show: %+v", doc)
	}
	if _, ok := c.object(teamKey + ".lock"); ok {
		t.Fatal("up left its lock")
	}
	c.cloud.ResetCalls()
	c.mustCode(0, "up", "--yes")
	if m := c.cloud.MutatingCalls(); strings.Join(m, ",") != "S3.PutObject,S3.DeleteObject" {
		t.Fatalf("a second up should only lock and unlock, made: %v", m)
	}
	if st, code := c.status(); code != 0 || !st.Healthy || st.Source != "state" || len(st.Resources) != len(doc.Resources) {
		t.Fatalf("status: exit %d %+v", code, st)
	}
	c.mustCode(0, "plan", "--detailed-exitcode")
	c.mustCode(0, "destroy", "--yes")
	if _, ok := c.object(teamKey); ok {
		t.Fatal("a complete destroy left the remote state")
	}
	if d := c.stateDoc(); d.Exists {
		t.Fatalf("state show after destroy: %+v", d)
	}
	bucketLeft := false
	for _, res := range c.cloud.Inventory() {
		if res.ID == teamBucket {
			bucketLeft = true
		}
		if res.Tags["wbo-deploy:stack"] == "wbo" && res.Tags["wbo-deploy:resource"] != "bucket-boards" {
			t.Fatalf("left after destroy: %s %s", res.Kind, res.ID)
		}
	}
	if !bucketLeft {
		t.Fatal("destroy deleted the state bucket")
	}
	c.mustCode(0, "destroy", "--yes", "--delete-data")
	for _, res := range c.cloud.Inventory() {
		if res.ID == teamBucket {
			return
		}
	}
	t.Fatal("destroy --delete-data deleted the state bucket")
}

// waitStarted waits for a held upload to be reached; the bound only turns
// a hang into a failure.
func waitStarted(t *testing.T, started <-chan struct{}, done <-chan result, clouds ...*awssim.Cloud) {
	t.Helper()
	select {
	case <-started:
	case r := <-done:
		for _, cl := range clouds {
			for _, k := range cl.Calls() {
				if k.Service == "S3" {
					t.Log(k)
				}
			}
		}
		t.Fatalf("the run ended before its held state write: exit %d\n%s\n%s", r.code, r.out, r.err)
	case <-time.After(2 * time.Minute):
		t.Fatal("the held state write was never reached")
	}
}

var lockIDRE = regexp.MustCompile(`lock ID ([0-9a-f-]{36})`)

// Two runs against one S3 state: while one holds the lock the other fails
// at once naming it; a holder that dies leaves its lock, which `state
// unlock` (after confirmation) removes; a run whose lock was broken while
// it worked cannot overwrite the other run's state.
func TestRemoteStateConcurrentRuns(t *testing.T) {
	c := newCLI(t)
	c.remote()
	c.mustCode(0, "state", "init-backend")

	// Run A's first state write is held mid-upload: A holds the lock.
	started, release := c.cloud.HoldUpload(teamBucket, teamKey)
	done := make(chan result, 1)
	go func() { done <- c.run("up", "--yes") }()
	waitStarted(t, started, done)
	r := c.mustCode(1, "up", "--yes")
	if !strings.Contains(r.err, "is locked") || !strings.Contains(r.err, "`wbo-deploy up`") || !strings.Contains(r.err, "state unlock") {
		t.Fatalf("the second run does not name the holder:\n%s", r.err)
	}
	if r := c.run("status"); r.code == 0 || !strings.Contains(r.err, "is locked") {
		t.Fatalf("status while a run holds the lock: exit %d\n%s", r.code, r.err)
	}
	release()
	if a := <-done; a.code != 0 {
		t.Fatalf("the holder failed: exit %d\n%s", a.code, a.err)
	}

	// The holder dies right after taking its lock: its lock stays behind.
	c.cloud.ResetCalls()
	c.cloud.CrashAt(1, awssim.CrashAfter) // the lock is made, the response lost, the process gone
	c.run("destroy", "--yes")
	c.cloud.Revive()
	r = c.mustCode(1, "up", "--yes")
	m := lockIDRE.FindStringSubmatch(r.err)
	if m == nil {
		t.Fatalf("no lock ID in:\n%s", r.err)
	}
	if !strings.Contains(r.err, "`wbo-deploy destroy`") {
		t.Fatalf("the locked error does not name the dead holder's command:\n%s", r.err)
	}
	if d := c.stateDoc(); d.Lock == nil || d.Lock.ID != m[1] || d.Lock.Operation != "destroy" {
		t.Fatalf("state show does not show the lock: %+v", d.Lock)
	}
	c.mustCode(2, "state", "unlock", "0000")        // wrong ID: refused, named
	c.mustCode(2, "state", "unlock", m[1])          // no terminal, no --yes: refused
	c.mustCode(0, "state", "unlock", m[1], "--yes") // recovered
	c.mustCode(1, "state", "unlock", m[1], "--yes") // nothing left to unlock
	c.mustCode(0, "up", "--yes")

	// Broken lock: run A is held mid-write, its lock removed with state
	// unlock, run B writes the state; A's write is refused, B's kept. The
	// flow log deleted by hand gives A something to record (it re-creates
	// it, with a new ID) and B too (it adopts what A made).
	if _, err := c.sdk().EC2.DeleteFlowLogs(context.Background(), &ec2.DeleteFlowLogsInput{FlowLogIds: []string{stateID(t, c.stateDoc(), "flow-log")}}); err != nil {
		t.Fatal(err)
	}
	started, release = c.cloud.HoldUpload(teamBucket, teamKey)
	c.cloud.ResetCalls()
	go func() { done <- c.run("up", "--yes") }()
	waitStarted(t, started, done, c.cloud)
	h := c.stateDoc().Lock
	if h == nil {
		t.Fatal("run A holds no lock")
	}
	c.mustCode(0, "state", "unlock", h.ID, "--yes")
	c.mustCode(0, "up", "--yes")
	before, _ := c.object(teamKey)
	release()
	a := <-done
	if a.code == 0 || !strings.Contains(a.err, "was changed by another run") {
		t.Fatalf("run A wrote over a state it had not seen: exit %d\n%s", a.code, a.err)
	}
	if after, _ := c.object(teamKey); after != before {
		t.Fatalf("run B's state was overwritten:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if st, code := c.status(); code != 0 || st.Source != "state" {
		t.Fatalf("status after the race: exit %d source %s", code, st.Source)
	}
}

// local → s3 → local gives back an equivalent state; the destination is
// never overwritten when it holds another state, unless --force.
func TestStateMigrateRoundTrip(t *testing.T) {
	c := newCLI(t)
	c.mustCode(0, "up", "--yes")
	c.env = append(c.env, "WBO_DEPLOY_STATE_BUCKET="+teamBucket)
	c.mustCode(0, "state", "init-backend")
	orig := c.stateDoc()

	r := c.mustCode(0, "state", "migrate", "--to", "s3")
	if !strings.Contains(r.out, "set `state.backend: s3`") {
		t.Fatalf("migrate does not say what to change next:\n%s", r.out)
	}
	if _, err := os.Stat(c.state()); !os.IsNotExist(err) {
		t.Fatalf("the local file is still in use after the move: %v", err)
	}
	if _, err := os.Stat(c.state() + ".migrated"); err != nil {
		t.Fatalf("no backup of the local file: %v", err)
	}
	c.remote()
	remote := c.stateDoc()
	if !sameResources(orig, remote) || remote.Serial <= orig.Serial {
		t.Fatalf("the S3 state differs:\n%+v\n%+v", orig, remote)
	}
	if st, code := c.status(); code != 0 || st.Source != "state" {
		t.Fatalf("status on the migrated state: exit %d source %s", code, st.Source)
	}
	c.cloud.ResetCalls()
	c.mustCode(0, "up", "--yes")
	if m := c.cloud.MutatingCalls(); len(m) != 2 {
		t.Fatalf("up on the migrated state changed things: %v", m)
	}

	c.local()
	r = c.mustCode(0, "state", "migrate", "--to", "local")
	if _, ok := c.object(teamKey); ok {
		t.Fatal("the S3 state is still there after the move back")
	}
	back := c.stateDoc()
	if !sameResources(orig, back) {
		t.Fatalf("round trip lost something:\n%+v\n%+v", orig, back)
	}
	c.cloud.ResetCalls()
	c.mustCode(0, "up", "--yes")
	if m := c.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("up after the round trip changed things: %v", m)
	}

	// Another stack's state at the destination is refused untouched.
	other := `{"schema_version":1,"serial":3,"stack":"other","account":"123456789012","region":"us-east-1","tool_version":"x","updated_at":"2026-01-01T00:00:00Z","resources":[]}`
	if _, err := c.sdk().S3State.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(teamBucket), Key: aws.String(teamKey),
		Body: bytes.NewReader([]byte(other))}); err != nil {
		t.Fatal(err)
	}
	r = c.mustCode(2, "state", "migrate", "--to", "s3")
	if !strings.Contains(r.err, "refusing to overwrite") || !strings.Contains(r.err, "--force") {
		t.Fatalf("refusal does not say why and how:\n%s", r.err)
	}
	if got, _ := c.object(teamKey); got != other {
		t.Fatalf("the other stack's state was changed:\n%s", got)
	}
	if _, err := os.Stat(c.state()); err != nil {
		t.Fatalf("a refused migration retired the source: %v", err)
	}
	c.mustCode(0, "state", "migrate", "--to", "s3", "--force")
	c.remote()
	if got := c.stateDoc(); !sameResources(orig, got) {
		t.Fatalf("--force did not move the state: %+v", got)
	}
}

func stateID(t *testing.T, d app.StateDocument, name string) string {
	t.Helper()
	for _, r := range d.Resources {
		if r.Name == name {
			return r.ID
		}
	}
	t.Fatalf("no %s in state", name)
	return ""
}

func sameResources(a, b app.StateDocument) bool {
	if a.Stack != b.Stack || a.Account != b.Account || a.Region != b.Region || len(a.Resources) != len(b.Resources) {
		return false
	}
	for i := range a.Resources {
		x, y := a.Resources[i], b.Resources[i]
		if x.Name != y.Name || x.Kind != y.Kind || x.ID != y.ID || x.ARN != y.ARN || !x.CreatedAt.Equal(y.CreatedAt) {
			return false
		}
	}
	return true
}

// The state bucket may be in another region than the stack (state.region):
// its calls go there, the stack's to the stack's region; a wrong
// state.region is an error saying so.
func TestRemoteStateInAnotherRegion(t *testing.T) {
	c := newCLI(t)
	c.remote()
	c.env = append(c.env, "WBO_DEPLOY_STATE_REGION=eu-west-1")
	r := c.mustCode(0, "state", "init-backend")
	if !strings.Contains(r.out, "in eu-west-1") {
		t.Fatalf("init-backend did not create the bucket in state.region:\n%s", r.out)
	}
	c.mustCode(0, "up", "--yes")
	if d := c.stateDoc(); !d.Exists || d.Region != "us-east-1" {
		t.Fatalf("the state (in eu-west-1) should record the stack's region us-east-1: %+v", d)
	}
	c.env = c.env[:len(c.env)-1] // state.region back to the stack's: the bucket is elsewhere
	r = c.mustCode(1, "status")
	if !strings.Contains(r.err, "another region than state.region") {
		t.Fatalf("a wrong state.region is not explained:\n%s", r.err)
	}
}
