package sidecar

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/wbo-deploy/wbo-deploy/internal/awssim/fargate"
	"github.com/wbo-deploy/wbo-deploy/internal/shard"
)

const (
	testBucket = "wbo-boards"
	testPrefix = "boards/"
)

// requireAWS returns the path of the aws CLI. The script tests are the only
// check that restore and backup work, so a missing CLI fails them.
func requireAWS(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the aws CLI against a loopback S3 server; skipped with -short")
	}
	p, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the aws CLI is not on PATH; install it (Debian: apt-get install -y awscli) to run the sidecar script tests: %v", err)
	}
	return p
}

// shells returns the shells to run the scripts with: sh (dash on Debian) and,
// when installed, bash in POSIX mode (the AWS CLI image's /bin/sh).
func shells(t *testing.T) []string {
	t.Helper()
	out := []string{"sh"}
	if _, err := exec.LookPath("bash"); err == nil {
		out = append(out, "bash --posix")
	}
	return out
}

// shellCommand runs script with shell ("sh" or "bash --posix").
func shellCommand(ctx context.Context, shell, script string) *exec.Cmd {
	args := strings.Fields(shell)
	return exec.CommandContext(ctx, args[0], append(args[1:], "-c", script)...)
}

type s3req struct{ Method, Key, Query string }

// hang bounds every wait of these tests. It is far beyond what a busy
// machine needs and only stops a hung test with its output: no assertion
// depends on how much real time passed.
const hang = 5 * time.Minute

// TaskRolePolicy returns the task role policy the tool generates for a
// bucket and board prefix (provision.TaskRolePolicyFor). It is set by
// rolepolicy_test.go, of package sidecar_test: this package's own tests
// cannot import provision, which imports sidecar.
var TaskRolePolicy func(bucket, prefix string) (string, error)

// testRole is the task role the scripts run as in these tests.
const testRole = "arn:aws:iam::123456789012:role/wbo-deploy/wbo-task"

// fakeS3 is a loopback S3 (gofakes3 in memory, one versioned bucket) that
// authorizes every request against the task role's policy as the tool
// generates it (fargate.S3), with a log of the requests it served.
type fakeS3 struct {
	t       *testing.T
	backend *s3mem.Backend
	srv     *fargate.S3
	creds   fargate.Credentials // the task role's session
	url     string
	aws     string // path of the real aws CLI
	dir     string // config files and the aws shim

	mu     sync.Mutex
	reqs   []s3req
	ecs    []fargate.Request // the ECS calls so far
	denied []string
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	awsPath := requireAWS(t)
	if TaskRolePolicy == nil {
		t.Fatal("TaskRolePolicy is not set (rolepolicy_test.go)")
	}
	doc, err := TaskRolePolicy(testBucket, testPrefix)
	if err != nil {
		t.Fatal(err)
	}
	policies, err := fargate.ParsePolicies(doc)
	if err != nil {
		t.Fatal(err)
	}
	srv := fargate.NewS3(t, testBucket)
	srv.AddRole(testRole, policies)
	f := &fakeS3{t: t, backend: srv.Backend, srv: srv, creds: srv.AssumeRole(testRole, "sidecar-test"), url: srv.URL,
		aws: awsPath, dir: t.TempDir()}
	// A request the role is refused fails the test, unless it is the GET
	// or HEAD of a missing key (403 instead of 404 without s3:ListBucket on
	// it), which the lease reader expects.
	t.Cleanup(func() {
		f.takeRequests()
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.denied) > 0 {
			t.Errorf("the task role refused requests the scripts made: %v", f.denied)
		}
	})

	// Path-style addressing, no checksum trailers (aws-chunked uploads that
	// gofakes3 would store verbatim), nothing read from ~/.aws.
	config := "[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n" +
		"request_checksum_calculation = when_required\nresponse_checksum_validation = when_required\n"
	writeFile(t, filepath.Join(f.dir, "config"), config)
	writeFile(t, filepath.Join(f.dir, "credentials"), "")
	// The shim gives every call the endpoint, also to CLI versions older
	// than AWS_ENDPOINT_URL support (Debian bookworm's 2.9).
	shim := fmt.Sprintf("#!/bin/sh\nexec '%s' --endpoint-url \"$WBO_TEST_ENDPOINT\" \"$@\"\n", awsPath)
	if err := os.MkdirAll(filepath.Join(f.dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "bin", "aws"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

// env is the environment of a script run: fake credentials, the loopback
// endpoint, a dead proxy for anything that is not loopback, and vars.
func (f *fakeS3) env(endpoint string, vars map[string]string) []string {
	env := []string{
		"PATH=" + filepath.Join(f.dir, "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"LANG=C", // as in the AWS CLI image; the CLI's Python then runs in UTF-8 mode
		"TMPDIR=" + f.t.TempDir(),
		"AWS_ACCESS_KEY_ID=" + f.creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + f.creds.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + f.creds.SessionToken,
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(f.dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(f.dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL=" + endpoint,
		"WBO_TEST_ENDPOINT=" + endpoint,
		"AWS_PAGER=",
		"HTTP_PROXY=http://127.0.0.1:9", "HTTPS_PROXY=http://127.0.0.1:9",
		"http_proxy=http://127.0.0.1:9", "https_proxy=http://127.0.0.1:9",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
	}
	for _, k := range []string{"PYENV_ROOT", "PYENV_VERSION"} { // pyenv's aws shim
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// shardVars is the script environment for a shard owning keys (nil = all).
func shardVars(dataDir string, keys []byte, extra ...string) map[string]string {
	vars := map[string]string{
		"WBO_BUCKET":     testBucket,
		"WBO_PREFIX":     testPrefix,
		"WBO_DATA_DIR":   dataDir,
		"WBO_SHARD_KEYS": shard.FormatKeys(keys),
		"WBO_UID":        fmt.Sprint(os.Getuid()),
		"WBO_GID":        fmt.Sprint(os.Getgid()),
	}
	for i := 0; i+1 < len(extra); i += 2 {
		vars[extra[i]] = extra[i+1]
	}
	return vars
}

type result struct {
	code   int
	stderr string
	reqs   []s3req // the S3 requests made during the run
}

// run runs script with shell and waits for it.
func (f *fakeS3) run(shell, script string, vars map[string]string) result {
	return f.runAt(f.url, shell, script, vars)
}

func (f *fakeS3) runAt(endpoint, shell, script string, vars map[string]string) result {
	f.t.Helper()
	f.takeRequests()
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	cmd := shellCommand(ctx, shell, script)
	cmd.Env = f.env(endpoint, vars)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			f.t.Fatalf("run %s: %v", shell, err)
		}
		code = ee.ExitCode()
	}
	if ctx.Err() != nil {
		f.t.Fatalf("script did not finish within %v; output:\n%s", hang, stderr.String())
	}
	return result{code: code, stderr: stderr.String(), reqs: f.takeRequests()}
}

// proc is a script running in the background.
type proc struct {
	cmd    *exec.Cmd
	out    *fargate.LineLog
	exited chan struct{} // closed when it has exited
	code   int           // its exit code, once exited
}

// start runs script in the background and returns once a line of its output
// contains ready (at once for "").
func (f *fakeS3) start(shell, script string, vars map[string]string, ready string) *proc {
	f.t.Helper()
	f.takeRequests()
	cmd := shellCommand(context.Background(), shell, script)
	cmd.Env = f.env(f.url, vars)
	cmd.WaitDelay = 5 * time.Second // a leftover child holding the pipe
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	p := &proc{cmd: cmd, out: fargate.NewLineLog(), exited: make(chan struct{})}
	scanned := make(chan struct{})
	go func() { p.out.Scan(pr); close(scanned) }()
	go func() {
		err := cmd.Wait()
		_ = pw.Close()
		<-scanned // every line is in p.out once it has exited
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			code = -1
		}
		p.code = code
		close(p.exited)
	}()
	f.t.Cleanup(func() { _ = cmd.Process.Kill() })
	if ready != "" && !p.out.WaitFor(ready, hang, p.exited) {
		f.t.Fatalf("script never printed %q; output:\n%s", ready, p.out.String())
	}
	return p
}

// stop sends sig and returns the exit code.
func (p *proc) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	p.signal(t, sig)
	return p.wait(t)
}

// signal sends sig to the script.
func (p *proc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	// A signal ignored here is ignored by the script too, and sh cannot
	// trap it ("signals that were ignored on entry to a non-interactive
	// shell cannot be trapped or reset"): e.g. SIGINT for a go test run as
	// a background job of a script without job control.
	if signal.Ignored(sig) {
		t.Fatalf("%v is ignored by this test process, so the script cannot trap it: run go test in the foreground", sig)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// stopOnClock sends sig to p, which runs on clk as who, and returns its
// exit code. A sleep p began just before the signal and still waits for
// is ended (Clock.Wake), as it would end by itself on a real clock; so are
// the sleeps between the retries of a failing final sync (two at most).
func (p *proc) stopOnClock(t *testing.T, clk *fargate.Clock, who string, sig os.Signal) int {
	t.Helper()
	p.signal(t, sig)
	for wakes := 0; clk.WaitAsleep(t, hang, p.exited, who); wakes++ {
		if wakes > 3 {
			t.Fatalf("%s still runs after %v and %d of its sleeps ended; output:\n%s", who, sig, wakes, p.out.String())
		}
		clk.Wake(who)
	}
	return p.wait(t)
}

// wait returns the exit code of the script once it has ended.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.code
	case <-time.After(hang):
		t.Fatalf("script still running after %v; output:\n%s", hang, p.out.String())
		return -1
	}
}

// running reports whether the script has not exited yet.
func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// sleepThrough lets p, which runs on clk as who, run to its end: each time
// it sleeps, the clock moves by step. It returns p's exit code and how many
// times it slept; more than maxSleeps sleeps fail the test.
func sleepThrough(t *testing.T, clk *fargate.Clock, p *proc, who string, step time.Duration, maxSleeps int) (code, sleeps int) {
	t.Helper()
	for clk.WaitAsleep(t, hang, p.exited, who) {
		if clk.Sleeps(who) > maxSleeps {
			t.Fatalf("%s slept more than %d times; output:\n%s", who, maxSleeps, p.out.String())
		}
		clk.Advance(step)
	}
	return p.wait(t), clk.Sleeps(who)
}

// runOnClock runs script on clk as who to its end (see sleepThrough).
func (f *fakeS3) runOnClock(clk *fargate.Clock, shell, script, who string, vars map[string]string, step time.Duration, maxSleeps int) (r result, sleeps int) {
	f.t.Helper()
	p := f.start(shell, script, clockVars(clk, who, vars), "")
	r.code, sleeps = sleepThrough(f.t, clk, p, who, step, maxSleeps)
	r.stderr, r.reqs = p.out.String(), f.takeRequests()
	return r, sleeps
}

// tick moves clk by n seconds, one at a time, each once p (running on it
// as who) sleeps, then waits until p sleeps again: what p does in those n
// seconds is done when tick returns.
func tick(t *testing.T, clk *fargate.Clock, p *proc, who string, n int) {
	t.Helper()
	for i := 0; i <= n; i++ {
		if !clk.WaitAsleep(t, hang, p.exited, who) {
			t.Fatalf("%s ended (%d); output:\n%s", who, p.code, p.out.String())
		}
		if i < n {
			clk.Advance(time.Second)
		}
	}
}

// clockVars adds the test clock's variables (the script runs as who) to vars.
func clockVars(clk *fargate.Clock, who string, vars map[string]string) map[string]string {
	v := clk.Vars(who)
	for i := 0; i+1 < len(v); i += 2 {
		vars[v[i]] = v[i+1]
	}
	return vars
}

// takeRequests returns the S3 requests to the bucket since the last call.
func (f *fakeS3) takeRequests() []s3req {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drain()
	r := f.reqs
	f.reqs = nil
	return r
}

// ecsCalls returns every ECS call the scripts made so far.
func (f *fakeS3) ecsCalls() []fargate.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drain()
	return slices.Clone(f.ecs)
}

// drain moves the requests the server logged into f (f.mu held).
func (f *fakeS3) drain() {
	for _, r := range f.srv.TakeRequests() {
		if strings.HasPrefix(r.Operation, "ecs:") {
			f.ecs = append(f.ecs, r)
		}
		if r.Bucket != testBucket {
			continue
		}
		f.reqs = append(f.reqs, s3req{r.Method, r.Key, r.Query})
		for _, d := range r.Denied {
			if !strings.HasSuffix(d, "(missing key)") {
				f.denied = append(f.denied, fmt.Sprintf("%s %s?%s: %s", r.Operation, r.Key, r.Query, d))
			}
		}
	}
}

// objects returns every current object whose key starts with prefix.
func (f *fakeS3) objects(prefix string) map[string]string {
	f.t.Helper()
	out := map[string]string{}
	page := gofakes3.ListBucketPage{}
	for {
		p := gofakes3.NewPrefix(&prefix, nil)
		list, err := f.backend.ListBucket(testBucket, &p, page)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, c := range list.Contents {
			obj, err := f.backend.GetObject(testBucket, c.Key, nil)
			if err != nil {
				f.t.Fatal(err)
			}
			b, err := io.ReadAll(obj.Contents)
			_ = obj.Contents.Close()
			if err != nil {
				f.t.Fatal(err)
			}
			out[c.Key] = string(b)
		}
		if !list.IsTruncated || len(list.Contents) == 0 {
			return out
		}
		page = gofakes3.ListBucketPage{Marker: list.Contents[len(list.Contents)-1].Key, HasMarker: true}
	}
}

func (f *fakeS3) put(key, body string) {
	f.t.Helper()
	if _, err := f.backend.PutObject(testBucket, key, nil, strings.NewReader(body), int64(len(body)), nil); err != nil {
		f.t.Fatal(err)
	}
}

// versions counts the versions and delete markers stored for key.
func (f *fakeS3) versions(key string) (versions, deleteMarkers int) {
	f.t.Helper()
	p := gofakes3.NewPrefix(&key, nil)
	res, err := f.backend.ListBucketVersions(testBucket, &p, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, v := range res.Versions {
		switch v := v.(type) {
		case *gofakes3.Version:
			if v.Key == key {
				versions++
			}
		case *gofakes3.DeleteMarker:
			if v.Key == key {
				deleteMarkers++
			}
		}
	}
	return versions, deleteMarkers
}

// closedEndpoint is a loopback URL nothing listens on.
func closedEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return (&url.URL{Scheme: "http", Host: addr}).String()
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeLikeWBO replaces path the way WBO saves a board: a new temp file,
// renamed to .bak, renamed into place.
func writeLikeWBO(t *testing.T, path, body string) {
	t.Helper()
	tmp := path + ".bak.1700000000000.1.tmp"
	writeFile(t, tmp, body)
	if err := os.Rename(tmp, path+".bak"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".bak", path); err != nil {
		t.Fatal(err)
	}
}

// dirFiles returns name -> content of every regular file in dir.
func dirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// boardFiles keeps the entries of m named board-*.svg / board-*.json.
func boardFiles(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if isBoardFile(k) {
			out[k] = v
		}
	}
	return out
}

func isBoardFile(name string) bool {
	return strings.HasPrefix(name, "board-") && (strings.HasSuffix(name, ".svg") || strings.HasSuffix(name, ".json"))
}

// keyOfFile is the shard key of a board file name, per internal/shard.
func keyOfFile(t *testing.T, name string) byte {
	t.Helper()
	k, err := shard.KeyOfEncoded(strings.TrimPrefix(name, "board-"))
	if err != nil {
		t.Fatalf("key of %q: %v", name, err)
	}
	return k
}

// partition splits every key over n shards (key mod n): any partition will do
// for the scripts, the load balancer rules pick their own.
func partition(n int) [][]byte {
	out := make([][]byte, n)
	for _, k := range shard.AllKeys() {
		out[int(k)%n] = append(out[int(k)%n], k)
	}
	return out
}

// withPrefix maps board file names to their object keys.
func withPrefix(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[testPrefix+k] = v
	}
	return out
}

func diffMaps(want, got map[string]string) string {
	var b strings.Builder
	keys := make([]string, 0, len(want)+len(got))
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		w, wok := want[k]
		g, gok := got[k]
		switch {
		case !gok:
			fmt.Fprintf(&b, "  missing %q\n", k)
		case !wok:
			fmt.Fprintf(&b, "  unexpected %q\n", k)
		case w != g:
			fmt.Fprintf(&b, "  %q: got %q, want %q\n", k, g, w)
		}
	}
	return b.String()
}
