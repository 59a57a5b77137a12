package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wbo-deploy/wbo-deploy/internal/app"
	"github.com/wbo-deploy/wbo-deploy/internal/shard"
)

func (c *cli) boards(args ...string) (app.BoardsDocument, result) {
	c.t.Helper()
	r := c.run(append(append([]string{"boards"}, args...), "-o", "json")...)
	var doc app.BoardsDocument
	if r.code == 0 {
		if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
			c.t.Fatalf("boards %v -o json is not one JSON document: %v\n%s", args, err, r.out)
		}
	}
	return doc, r
}

// bucketOf is the stack's board bucket (from its tag-free, derived name).
func (c *cli) boardBucket() string {
	c.t.Helper()
	out, err := c.sdk().S3.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	if err != nil {
		c.t.Fatal(err)
	}
	for _, b := range out.Buckets {
		if strings.HasPrefix(aws.ToString(b.Name), "wbo-boards-") {
			return aws.ToString(b.Name)
		}
	}
	c.t.Fatal("no board bucket")
	return ""
}

func (c *cli) putBoard(bucket, name, body string) {
	c.t.Helper()
	if _, err := c.sdk().S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket),
		Key: aws.String("boards/board-" + name + ".svg"), Body: strings.NewReader(body)}); err != nil {
		c.t.Fatal(err)
	}
}

// tasksOf returns the running task ARNs of a service.
func (c *cli) tasksOf(service string) []string {
	c.t.Helper()
	out, err := c.sdk().ECS.ListTasks(context.Background(), &ecs.ListTasksInput{Cluster: aws.String("wbo"), ServiceName: aws.String(service)})
	if err != nil {
		c.t.Fatal(err)
	}
	slices.Sort(out.TaskArns)
	return out.TaskArns
}

// TestBoardCommandsRoundTrip: on a running two-shard stack, boards ls
// shows each board with its owning shard and versions; export, rm, import
// give back the same SVG; restore --at picks the version of that time; each
// change restarts the owning shard only, and is refused without --yes off a
// terminal. After destroy (the bucket kept) the commands still work, with
// nothing to restart.
func TestBoardCommandsRoundTrip(t *testing.T) {
	c := newCLI(t)
	c.mustCode(0, "up", "--yes")
	bucket := c.boardBucket()
	const v1, v2 = `<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0"/></svg>`, `<svg xmlns="http://www.w3.org/2000/svg"><path d="M1 1"/></svg>`
	// Boards of both shards (keys by first byte: internal/shard).
	names := []string{"abc", "zeta", "тест", "bamoti-kelu-zaro-vifena"}
	owner := map[string]int{}
	for _, n := range names {
		owner[n] = shard.Owner(2, shard.KeyOfName(n))
		c.putBoard(bucket, n, "<svg>"+n+"</svg>")
	}
	if !slices.Contains(slices.Collect(mapValues(owner)), 0) || !slices.Contains(slices.Collect(mapValues(owner)), 1) {
		t.Fatalf("the fixture does not cover both shards: %v", owner)
	}
	c.putBoard(bucket, "abc", v1)
	time.Sleep(5 * time.Millisecond)
	c.putBoard(bucket, "abc", v2)

	doc, r := c.boards("ls")
	if r.code != 0 {
		t.Fatalf("boards ls: exit %d\n%s", r.code, r.err)
	}
	var got []string
	for _, b := range doc.Boards {
		got = append(got, b.Name)
		if b.Shard != owner[b.Name] {
			t.Errorf("boards ls: %s on shard %d, internal/shard says %d", b.Name, b.Shard, owner[b.Name])
		}
		if want := map[bool]int{true: 3, false: 1}[b.Name == "abc"]; b.Versions != want {
			t.Errorf("boards ls: %s has %d versions, want %d", b.Name, b.Versions, want)
		}
	}
	if want := slices.Sorted(slices.Values(names)); !slices.Equal(got, want) {
		t.Fatalf("boards ls listed %q, want %q", got, want)
	}
	doc, _ = c.boards("ls", "--shard", "1")
	for _, b := range doc.Boards {
		if b.Shard != 1 {
			t.Errorf("boards ls --shard 1 listed %s of shard %d", b.Name, b.Shard)
		}
	}
	doc, _ = c.boards("ls", "--prefix", "ze")
	if len(doc.Boards) != 1 || doc.Boards[0].Name != "zeta" {
		t.Errorf("boards ls --prefix ze: %+v", doc.Boards)
	}

	// export → rm → import: the same SVG, the owning shard restarted only.
	file := filepath.Join(c.dir, "abc.svg")
	c.mustCode(0, "boards", "export", "abc", "--file", file)
	if b, _ := os.ReadFile(file); string(b) != v2 {
		t.Fatalf("exported %q, want the current version %q", b, v2)
	}
	svc := "wbo-shard-" + string(rune('0'+owner["abc"]))
	other := "wbo-shard-" + string(rune('0'+1-owner["abc"]))
	before, otherBefore := c.tasksOf(svc), c.tasksOf(other)
	c.cloud.ResetCalls()
	r = c.mustCode(2, "boards", "rm", "abc")
	if m := c.cloud.MutatingCalls(); len(m) != 0 || !strings.Contains(r.err, "--yes") || !strings.Contains(r.err, svc) {
		t.Fatalf("boards rm without --yes off a terminal: mutating calls %v, stderr:\n%s", m, r.err)
	}
	doc, r = c.boards("rm", "abc", "--yes")
	if r.code != 0 || doc.Downtime == nil || !doc.Downtime.Restarted || doc.Downtime.Service != svc {
		t.Fatalf("boards rm: exit %d, downtime %+v\n%s", r.code, doc.Downtime, r.err)
	}
	if after := c.tasksOf(svc); len(after) != 1 || slices.Equal(after, before) {
		t.Errorf("%s tasks %v after rm (before %v): not restarted", svc, after, before)
	}
	if got := c.tasksOf(other); !slices.Equal(got, otherBefore) {
		t.Errorf("%s, which does not own the board, was restarted: %v → %v", other, otherBefore, got)
	}
	if !strings.Contains(strings.Join(doc.Notes, " "), "30 days") {
		t.Errorf("boards rm does not say how long the versions stay: %q", doc.Notes)
	}
	doc, _ = c.boards("ls", "--prefix", "abc")
	if len(doc.Boards) != 0 {
		t.Fatalf("abc still listed after rm: %+v", doc.Boards)
	}
	c.mustCode(0, "boards", "import", file, "--name", "abc", "--yes")
	back := filepath.Join(c.dir, "back.svg")
	c.mustCode(0, "boards", "export", "abc", "--file", back)
	if b, _ := os.ReadFile(back); string(b) != v2 {
		t.Fatalf("export → rm → import gave %q, want %q", b, v2)
	}

	// restore --at the time of v1.
	vs, err := c.sdk().S3.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String("boards/board-abc.svg")})
	if err != nil {
		t.Fatal(err)
	}
	var atV1 time.Time
	for _, v := range vs.Versions {
		if aws.ToString(v.Key) == "boards/board-abc.svg" && aws.ToInt64(v.Size) == int64(len(v1)) && (atV1.IsZero() || aws.ToTime(v.LastModified).Before(atV1)) {
			atV1 = aws.ToTime(v.LastModified)
		}
	}
	doc, r = c.boards("restore", "abc", "--at", atV1.Format(time.RFC3339Nano), "--yes")
	if r.code != 0 || doc.Version == nil || !doc.Version.LastModified.Equal(atV1) {
		t.Fatalf("boards restore --at %v: exit %d, version %+v\n%s", atV1, r.code, doc.Version, r.err)
	}
	c.mustCode(0, "boards", "export", "abc", "--file", back)
	if b, _ := os.ReadFile(back); string(b) != v1 {
		t.Fatalf("after restore --at the first version: %q, want %q", b, v1)
	}
	// Before the board existed: an error naming the oldest version.
	r = c.run("boards", "restore", "abc", "--at", "2001-01-01", "--yes")
	if r.code == 0 || !strings.Contains(r.err, "no version at or before") {
		t.Fatalf("restore before the first version: exit %d\n%s", r.code, r.err)
	}

	// The app destroyed (the bucket kept): the commands work, nothing to
	// restart.
	c.mustCode(0, "destroy", "--yes")
	doc, r = c.boards("rm", "zeta", "--yes")
	if r.code != 0 || doc.Downtime == nil || doc.Downtime.Restarted {
		t.Fatalf("boards rm without a running app: exit %d, downtime %+v\n%s", r.code, doc.Downtime, r.err)
	}
	doc, _ = c.boards("ls")
	if len(doc.Boards) != len(names)-1 {
		t.Fatalf("boards ls without a running app: %+v", doc.Boards)
	}
	// export --all: every board, as WBO names its files.
	dir := filepath.Join(c.dir, "all")
	c.mustCode(0, "boards", "export", "--all", dir)
	for _, n := range names {
		_, err := os.Stat(filepath.Join(dir, "board-"+n+".svg"))
		if (n == "zeta") != os.IsNotExist(err) {
			t.Errorf("export --all: board-%s.svg: %v", n, err)
		}
	}
}

func mapValues[K comparable, V any](m map[K]V) func(func(V) bool) {
	return func(yield func(V) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// TestStatusShowsRecoveryPoints: status reads each shard's lease; a fresh
// recovery point keeps the stack healthy and shows its boards and bytes, an
// old one (backups failing for minutes) makes status exit 3.
func TestStatusShowsRecoveryPoints(t *testing.T) {
	c := newCLI(t)
	c.mustCode(0, "up", "--yes")
	bucket := c.boardBucket()
	lease := func(service string, lastBackup time.Time) {
		t.Helper()
		now := time.Now().Unix()
		body := "arn:aws:ecs:us-east-1:123456789012:task/wbo/abc " + itoa(now) + " " + itoa(lastBackup.Unix()) + " 12 3456\n"
		if _, err := c.sdk().S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket),
			Key: aws.String("boards/.leases/" + service), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	lease("wbo-shard-0", time.Now().Add(-20*time.Second))
	doc, code := c.status()
	if code != 0 || len(doc.Backups) != 2 {
		t.Fatalf("status with a fresh recovery point: exit %d, backups %+v", code, doc.Backups)
	}
	b := doc.Backups[0]
	if !b.Published || b.Stale || b.Boards != 12 || b.Bytes != 3456 || b.AgeSeconds == nil || *b.AgeSeconds < 19 || *b.AgeSeconds > 600 {
		t.Fatalf("shard 0 backup %+v", b)
	}
	if doc.Backups[1].Published {
		t.Fatalf("shard 1 has no lease but shows %+v", doc.Backups[1])
	}
	r := c.mustCode(0, "status")
	if !strings.Contains(r.out, "RECOVERY POINT") || !strings.Contains(r.out, "3456") {
		t.Fatalf("status text lacks the recovery points:\n%s", r.out)
	}

	lease("wbo-shard-1", time.Now().Add(-time.Hour))
	doc, code = c.status()
	if code != 3 || doc.Healthy || !doc.Backups[1].Stale || !strings.Contains(doc.Backups[1].Problem, "backups are failing") {
		t.Fatalf("status with a recovery point an hour old: exit %d, healthy %v, %+v", code, doc.Healthy, doc.Backups[1])
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
