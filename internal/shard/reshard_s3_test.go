package shard_test

// The re-shard from 2 to 3 shards with the real restore/backup scripts
// (internal/sidecar) and the aws CLI against a loopback S3 server
// (gofakes3 on 127.0.0.1, behind the task role policy the tool generates),
// with ownership from shard.Partition and the routing of each board checked
// against shard.Rules with the simulated ALB's rule evaluation.

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
	"github.com/wbo-deploy/wbo-deploy/internal/awssim/fargate"
	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/provision"
	"github.com/wbo-deploy/wbo-deploy/internal/shard"
	"github.com/wbo-deploy/wbo-deploy/internal/sidecar"
)

const (
	bucket = "wbo-boards"
	prefix = "boards/"
)

type s3call struct{ method, key string }

const taskRole = "arn:aws:iam::123456789012:role/wbo-deploy/wbo-task"

// loopbackS3 authorizes every request against the task role policy the
// tool generates (provision.TaskRolePolicyFor, evaluated by fargate.S3):
// a permission the scripts need and the role lacks fails the test.
type loopbackS3 struct {
	t       *testing.T
	backend *s3mem.Backend
	srv     *fargate.S3
	creds   fargate.Credentials
	url     string
	dir     string
}

func newLoopbackS3(t *testing.T) *loopbackS3 {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the aws CLI against a loopback S3 server; skipped with -short")
	}
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the aws CLI is not on PATH (Debian: apt-get install -y awscli): %v", err)
	}
	cfg := config.Default()
	cfg.Region, cfg.Storage.Prefix = "us-east-1", prefix
	doc, err := provision.TaskRolePolicyFor(&cfg, provision.TaskRefs{Account: "123456789012", Region: "us-east-1", Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	policies, err := fargate.ParsePolicies(doc)
	if err != nil {
		t.Fatal(err)
	}
	srv := fargate.NewS3(t, bucket)
	srv.AddRole(taskRole, policies)
	s := &loopbackS3{t: t, backend: srv.Backend, srv: srv, creds: srv.AssumeRole(taskRole, "reshard-test"), url: srv.URL, dir: t.TempDir()}
	write(t, filepath.Join(s.dir, "config"), "[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n"+
		"request_checksum_calculation = when_required\nresponse_checksum_validation = when_required\n")
	write(t, filepath.Join(s.dir, "credentials"), "")
	shim := fmt.Sprintf("#!/bin/sh\nexec '%s' --endpoint-url \"$WBO_TEST_ENDPOINT\" \"$@\"\n", awsPath)
	if err := os.MkdirAll(filepath.Join(s.dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "bin", "aws"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	return s
}

// run runs a sidecar script for a shard owning keys, in one-shot mode for
// backups, and returns the S3 calls it made.
func (s *loopbackS3) run(script, dataDir string, keys []byte) []s3call {
	s.t.Helper()
	s.srv.TakeRequests()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Env = []string{
		"PATH=" + filepath.Join(s.dir, "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"), "LANG=C.UTF-8", "TMPDIR=" + s.t.TempDir(),
		"AWS_ACCESS_KEY_ID=" + s.creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + s.creds.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + s.creds.SessionToken,
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(s.dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(s.dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL=" + s.url, "WBO_TEST_ENDPOINT=" + s.url, "AWS_PAGER=",
		"HTTP_PROXY=http://127.0.0.1:9", "HTTPS_PROXY=http://127.0.0.1:9", "http_proxy=http://127.0.0.1:9",
		"https_proxy=http://127.0.0.1:9", "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"WBO_BUCKET=" + bucket, "WBO_PREFIX=" + prefix, "WBO_DATA_DIR=" + dataDir,
		"WBO_SHARD_KEYS=" + shard.FormatKeys(keys), "WBO_BACKUP_ONCE=1",
		"WBO_UID=" + strconv.Itoa(os.Getuid()), "WBO_GID=" + strconv.Itoa(os.Getgid()),
	}
	for _, k := range []string{"PYENV_ROOT", "PYENV_VERSION"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("script failed: %v\n%s", err, out)
	}
	var calls []s3call
	for _, r := range s.srv.TakeRequests() {
		if len(r.Denied) > 0 {
			s.t.Errorf("the task role refused %s %s?%s: %v", r.Operation, r.Key, r.Query, r.Denied)
		}
		if r.Bucket == bucket {
			calls = append(calls, s3call{r.Method, r.Key})
		}
	}
	return calls
}

func (s *loopbackS3) put(key, body string) {
	s.t.Helper()
	if _, err := s.backend.PutObject(bucket, key, nil, strings.NewReader(body), int64(len(body)), nil); err != nil {
		s.t.Fatal(err)
	}
}

func (s *loopbackS3) get(key string) string {
	s.t.Helper()
	obj, err := s.backend.GetObject(bucket, key, nil)
	if err != nil {
		s.t.Fatalf("get %s: %v", key, err)
	}
	defer func() { _ = obj.Contents.Close() }()
	b, err := io.ReadAll(obj.Contents)
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b)
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// boardName returns the board name of a board file: board-<name>.svg/.json
// with <name> raw UTF-8 or percent-encoded.
func boardName(t *testing.T, file string) string {
	t.Helper()
	n := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(file, "board-"), ".svg"), ".json")
	d, err := url.PathUnescape(n)
	if err != nil {
		t.Fatalf("board file %q: %v", file, err)
	}
	return d
}

func keyOfFile(t *testing.T, file string) byte {
	t.Helper()
	k, err := shard.KeyOfEncoded(strings.TrimPrefix(file, "board-"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pageShard is the shard the listener rules send GET /boards/<name> to.
func pageShard(t *testing.T, n int, name string) int {
	t.Helper()
	rules, err := shard.Rules(n)
	if err != nil {
		t.Fatal(err)
	}
	var list []lbt.Rule
	for _, r := range rules {
		list = append(list, lbt.Rule{Priority: aws.String(strconv.Itoa(r.Priority)), Conditions: r.Conditions,
			Actions: []lbt.Action{{Type: lbt.ActionTypeEnumForward, TargetGroupArn: aws.String(strconv.Itoa(r.Shard))}}})
	}
	list = append(list, lbt.Rule{Priority: aws.String("default"), IsDefault: aws.Bool(true),
		Actions: []lbt.Action{{Type: lbt.ActionTypeEnumForward, TargetGroupArn: aws.String("all")}}})
	enc := shard.EncodeURIComponent(name)
	page, _ := awssim.SelectRule(list, awssim.HTTPRequest{Method: "GET", Path: "/boards/" + enc}, awssim.MatchOptions{})
	sock, _ := awssim.SelectRule(list, awssim.HTTPRequest{Method: "GET", Path: "/socket.io/", RawQuery: "EIO=4&transport=polling&board=" + enc}, awssim.MatchOptions{})
	p, s := aws.ToString(page.Actions[0].TargetGroupArn), aws.ToString(sock.Actions[0].TargetGroupArn)
	if p != s {
		t.Fatalf("n=%d board %q: page to %s, socket to %s", n, name, p, s)
	}
	i, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("n=%d board %q routed to %q", n, name, p)
	}
	return i
}

// TestReshardTwoToThreeWithScripts: boards stored by two shards, each
// edited and saved by its final backup, are restored by three shards after
// the re-shard: none lost, each restored by exactly one shard, with its last
// content, and that shard is the one the load balancer sends the board's
// requests to. While two shards run, neither reads or writes the other's
// boards.
func TestReshardTwoToThreeWithScripts(t *testing.T) {
	t.Parallel()
	s := newLoopbackS3(t)
	r := rand.New(rand.NewPCG(20, 26))
	boards := map[string]string{}
	for _, name := range []string{"abc", "bamoti-kelu-zaro-vifena", "тест", "日本語", "café", "élan", "(x)y", "~tilde", "_under", "2024-plan", "zebra", "한국어", "😀party"} {
		boards["board-"+name+".svg"] = "<svg>" + name + "</svg>"
	}
	for len(boards) < 60 {
		name := fmt.Sprintf("%s-%d", []string{"kelu", "meeting", "projet", "schema", "доска", "会議", "über", "ωmega", "9lives", "lima", "pizi"}[r.IntN(11)], r.IntN(1000))
		file := "board-" + name + ".svg"
		if r.IntN(3) == 0 {
			file = "board-" + shard.EncodeURIComponent(name) + ".json" // older WBO versions
		}
		boards[file] = "<svg>" + name + "</svg>"
	}
	for f, body := range boards {
		s.put(prefix+f, body)
	}

	// Two shards run: each restores its boards, edits them, and its final
	// backup (on SIGTERM, here one-shot) saves them.
	old := shard.Partition(2)
	latest := map[string]string{}
	for i, keys := range old {
		dir := filepath.Join(t.TempDir(), "data")
		calls := s.run(sidecar.RestoreScript, dir, keys)
		for _, c := range calls {
			if c.method == "GET" && strings.HasPrefix(c.key, prefix+"board-") && !slices.Contains(keys, keyOfFile(t, strings.TrimPrefix(c.key, prefix))) {
				t.Errorf("old shard %d read %s, a board it does not own", i, c.key)
			}
		}
		got := readDir(t, dir)
		for f := range got {
			if !slices.Contains(keys, keyOfFile(t, f)) {
				t.Errorf("old shard %d restored %s, a board it does not own", i, f)
			}
			if pageShard(t, 2, boardName(t, f)) != i {
				t.Errorf("old shard %d restored %s, but the load balancer sends it to shard %d", i, f, pageShard(t, 2, boardName(t, f)))
			}
			latest[f] = got[f] + fmt.Sprintf(" edited on old shard %d", i)
			write(t, filepath.Join(dir, f), latest[f])
		}
		for _, c := range s.run(sidecar.BackupScript, dir, keys) {
			if c.method == "PUT" && !slices.Contains(keys, keyOfFile(t, strings.TrimPrefix(c.key, prefix))) {
				t.Errorf("old shard %d wrote %s, a board it does not own", i, c.key)
			}
		}
	}
	if len(latest) != len(boards) {
		t.Fatalf("the two shards held %d of %d boards", len(latest), len(boards))
	}
	for f, body := range latest {
		if got := s.get(prefix + f); got != body {
			t.Fatalf("%s in S3 after the final backups: %q, want %q", f, got, body)
		}
	}

	// Re-shard: three shards restore with the new key sets.
	owner := map[string]int{}
	for i, keys := range shard.Partition(3) {
		dir := filepath.Join(t.TempDir(), "data")
		s.run(sidecar.RestoreScript, dir, keys)
		for f, body := range readDir(t, dir) {
			if prev, dup := owner[f]; dup {
				t.Errorf("%s restored by shards %d and %d", f, prev, i)
			}
			owner[f] = i
			if body != latest[f] {
				t.Errorf("%s on new shard %d is %q, want %q", f, i, body, latest[f])
			}
			if p := pageShard(t, 3, boardName(t, f)); p != i {
				t.Errorf("%s restored by new shard %d, but the load balancer sends it to shard %d", f, i, p)
			}
		}
	}
	moved := 0
	for f := range boards {
		i, ok := owner[f]
		if !ok {
			t.Errorf("%s lost in the re-shard", f)
		}
		if shard.Owner(2, keyOfFile(t, f)) != i {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("no board changed shard: the test does not exercise a re-shard")
	}
}
