package state

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/wbo-deploy/wbo-deploy/internal/awsclients"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
)

// s3World is a simulated account with a state bucket.
type s3World struct {
	t     *testing.T
	cloud *awssim.Cloud
	api   *awsclients.Clients
	loc   S3Location
}

func newS3World(t *testing.T) *s3World {
	t.Helper()
	cloud := awssim.New(awssim.Options{})
	cl, err := awsclients.New(context.Background(), awsclients.Options{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATED", "secret", ""),
		APIOptions:  cloud.APIOptions(), RetryMode: "standard", MaxBackoff: time.Millisecond, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("team-state")}); err != nil {
		t.Fatal(err)
	}
	return &s3World{t: t, cloud: cloud, api: cl, loc: S3Location{Bucket: "team-state", Key: "wbo-deploy/wbo.json"}}
}

func (w *s3World) open(opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = fixedClock()
	}
	return OpenS3(context.Background(), w.api.S3State, w.loc, testStack, opts)
}

func (w *s3World) mustOpen(opts Options) *Store {
	w.t.Helper()
	s, err := w.open(opts)
	if err != nil {
		w.t.Fatalf("OpenS3: %v", err)
	}
	w.t.Cleanup(func() { _ = s.Close() })
	return s
}

func (w *s3World) object(key string) (string, bool) {
	w.t.Helper()
	out, err := w.api.S3State.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(w.loc.Bucket), Key: aws.String(key)})
	if err != nil {
		return "", false
	}
	b, _ := io.ReadAll(out.Body)
	return string(b), true
}

func (w *s3World) putRaw(key, body string) {
	w.t.Helper()
	if _, err := w.api.S3State.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(w.loc.Bucket), Key: aws.String(key),
		Body: bytes.NewReader([]byte(body))}); err != nil {
		w.t.Fatal(err)
	}
}

// The S3 state has the local file's schema and checks: serial, binding,
// one object per write, refusal of damaged documents (left untouched), and
// a lock that a second writer cannot get and readers respect.
func TestS3StateRoundTripAndLock(t *testing.T) {
	w := newS3World(t)
	s := w.mustOpen(Options{Operation: "up", Who: "alice", ToolVersion: "test"})
	if err := s.Bind("123456789012", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	if s.Exists() {
		t.Fatal("a new remote state exists before its first write")
	}
	mustPut(t, s, res("vpc", "ec2.vpc", "vpc-1"))
	mustPut(t, s, res("igw", "ec2.internet-gateway", "igw-1"))
	if s.Serial() != 2 || s.Path() != "s3://team-state/wbo-deploy/wbo.json" {
		t.Fatalf("serial %d path %s", s.Serial(), s.Path())
	}
	lock, ok := w.object(w.loc.LockKey())
	if !ok || !strings.Contains(lock, `"operation":"up"`) || !strings.Contains(lock, `"who":"alice"`) {
		t.Fatalf("lock object does not say who holds it: %q", lock)
	}
	// A second writer fails at once, naming the holder and the way out.
	_, err := w.open(Options{Operation: "destroy"})
	le := asLocked(t, err)
	if le.Holder == nil || le.Holder.Operation != "up" || le.Holder.Who != "alice" || le.Holder.ID == "" ||
		!strings.Contains(err.Error(), "state unlock "+le.Holder.ID) {
		t.Fatalf("locked error does not name the holder: %v", err)
	}
	// A reader refuses while a writer holds the lock.
	if _, err := w.open(Options{ReadOnly: true}); err == nil {
		t.Fatal("a read-only open ran while a writer held the lock")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.object(w.loc.LockKey()); ok {
		t.Fatal("Close left the lock object")
	}
	r := w.mustOpen(Options{ReadOnly: true})
	if got := r.All(); len(got) != 2 || r.Serial() != 2 || r.Account() != "123456789012" {
		t.Fatalf("read back %+v serial %d", got, r.Serial())
	}
	if _, ok := w.object(w.loc.LockKey()); ok {
		t.Fatal("a read-only open took the lock")
	}
	// Another account's state is refused and never written.
	before, _ := w.object(w.loc.Key)
	o := w.mustOpen(Options{})
	var ie *IdentityError
	if err := o.Bind("210987654321", "us-east-1"); !errors.As(err, &ie) {
		t.Fatalf("Bind to another account: %v", err)
	}
	if err := o.Put(res("x", "ec2.vpc", "vpc-2")); !errors.As(err, &ie) {
		t.Fatalf("Put after a refused Bind: %v", err)
	}
	_ = o.Close()
	if after, _ := w.object(w.loc.Key); after != before {
		t.Fatalf("a refused Bind changed the state:\n%s", after)
	}
	// Damaged documents are refused untouched.
	for name, doc := range map[string]string{
		"empty":   "",
		"garbage": "{not json",
		"newer":   `{"schema_version": 99, "stack": "wbo"}`,
		"foreign": `{"schema_version": 1, "serial": 1, "stack": "other", "resources": []}`,
	} {
		w.putRaw(w.loc.Key, doc)
		_, err := w.open(Options{})
		var ce *CorruptError
		var se *SchemaError
		if !errors.As(err, &ce) && !errors.As(err, &se) {
			t.Fatalf("%s document: %v", name, err)
		}
		if got, _ := w.object(w.loc.Key); got != doc {
			t.Fatalf("%s document was modified: %q", name, got)
		}
		if _, ok := w.object(w.loc.LockKey()); ok {
			t.Fatalf("%s document: the refused open left its lock", name)
		}
	}
}

// A holder that dies keeps its lock (never taken over automatically);
// ForceUnlock with its ID removes it, with another ID does nothing.
func TestS3StaleLockNeedsUnlock(t *testing.T) {
	w := newS3World(t)
	dead, err := w.open(Options{Operation: "up"})
	if err != nil {
		t.Fatal(err)
	}
	// The process dies: no Close, the lock object stays.
	_ = dead
	_, err = w.open(Options{})
	le := asLocked(t, err)
	id := le.Holder.ID
	var ide *LockIDError
	if _, err := ForceUnlock(context.Background(), w.api.S3State, w.loc, "not-"+id); !errors.As(err, &ide) {
		t.Fatalf("unlock with a wrong ID: %v", err)
	}
	if _, ok := w.object(w.loc.LockKey()); !ok {
		t.Fatal("a wrong ID removed the lock")
	}
	h, err := ForceUnlock(context.Background(), w.api.S3State, w.loc, id)
	if err != nil || h.ID != id || h.Operation != "up" {
		t.Fatalf("unlock: %v %+v", err, h)
	}
	next := w.mustOpen(Options{})
	mustPut(t, next, res("vpc", "ec2.vpc", "vpc-1"))
	// The dead run's late release must not remove the new holder's lock.
	if err := dead.Close(); err == nil {
		t.Fatal("the broken lock's release reported success while another run held the lock")
	}
	if _, ok := w.object(w.loc.LockKey()); !ok {
		t.Fatal("the broken lock's release removed the new holder's lock")
	}
}

// Two Stores that both believe they hold the state (a lock broken while its
// holder ran): whichever writes second is refused with *ConflictError, and
// the first one's write is what S3 holds. A lost update is impossible.
func TestS3StateWritesNeverLoseAnUpdate(t *testing.T) {
	w := newS3World(t)
	a := w.mustOpen(Options{})
	mustPut(t, a, res("vpc", "ec2.vpc", "vpc-1"))
	// B breaks A's lock and opens the same state.
	_, err := w.open(Options{})
	if _, err := ForceUnlock(context.Background(), w.api.S3State, w.loc, asLocked(t, err).Holder.ID); err != nil {
		t.Fatal(err)
	}
	b := w.mustOpen(Options{})
	mustPut(t, b, res("igw", "ec2.internet-gateway", "igw-1"))
	var ce *ConflictError
	if err := a.Put(res("subnet", "ec2.subnet", "subnet-1")); !errors.As(err, &ce) {
		t.Fatalf("a write over a version it has not seen: %v, want *ConflictError", err)
	}
	if got := a.All(); len(got) != 1 {
		t.Fatalf("the refused write changed memory: %+v", got)
	}
	doc, _ := w.object(w.loc.Key)
	if !strings.Contains(doc, "igw-1") || strings.Contains(doc, "subnet-1") {
		t.Fatalf("S3 holds the wrong version:\n%s", doc)
	}

}

// A write overlapped in flight by another write of the state gets 409 from
// S3; the Store fetches the ETag, finds another version and refuses.
func TestS3StateWriteRaceInFlight(t *testing.T) {
	w := newS3World(t)
	a := w.mustOpen(Options{})
	mustPut(t, a, res("vpc", "ec2.vpc", "vpc-1"))
	// B (lock broken) writes while A's upload is in flight: A gets 409,
	// fetches the ETag, sees B's version and refuses.
	started, release := w.cloud.HoldUpload(w.loc.Bucket, w.loc.Key)
	done := make(chan error, 1)
	go func() { done <- a.Put(res("igw", "ec2.internet-gateway", "igw-a")) }()
	<-started
	w.putRaw(w.loc.Key, `{"schema_version":1,"serial":9,"stack":"wbo","account":"","region":"","tool_version":"","updated_at":"2026-01-01T00:00:00Z","resources":[]}`)
	release()
	var ce *ConflictError
	if err := <-done; !errors.As(err, &ce) {
		t.Fatalf("write overlapped by another: %v, want *ConflictError", err)
	}
	if doc, _ := w.object(w.loc.Key); !strings.Contains(doc, `"serial":9`) {
		t.Fatalf("the other write was lost:\n%s", doc)
	}
}
