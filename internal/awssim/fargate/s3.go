package fargate

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Decision is the outcome of a policy evaluation ("Policy evaluation
// logic", IAM User Guide).
type Decision int

// The three outcomes.
const (
	ImplicitDeny Decision = iota
	Allowed
	ExplicitDeny
)

// Evaluator decides one request of a role against its identity policies.
type Evaluator interface {
	Evaluate(action, resource, principal string, context map[string][]string) Decision
}

// Credentials are temporary security credentials of an assumed role.
type Credentials struct{ AccessKeyID, SecretAccessKey, SessionToken string }

// Request is one S3 request as the server saw and decided it.
type Request struct {
	Method, Bucket, Key, Query string
	Operation                  string // "GetObject", "ListObjectsV2", ...
	Status                     int
	Denied                     []string // "s3:GetObject on arn:aws:s3:::b/k" for each denied check
}

type session struct {
	roleARN, name string
	creds         Credentials
}

// S3 is a loopback S3 (gofakes3 with its in-memory backend) that
// authorizes every request as S3 does for a caller in the bucket's account
// without a bucket policy: the request is mapped to its IAM action, resource
// ARN and condition keys (Service Authorization Reference, "Actions,
// resources, and condition keys for Amazon S3"), evaluated against the
// policies of the role whose temporary credentials signed it, and refused
// with S3's 403 AccessDenied error when not allowed. A GET or HEAD of a
// missing key answers 403, not 404, unless the role also has s3:ListBucket
// on the bucket (GetObject and HeadObject, "Permissions", Amazon S3 API
// reference). A request signed with unknown credentials is refused
// (InvalidAccessKeyId); one without a signature is anonymous and refused.
type S3 struct {
	t       testing.TB
	Backend *s3mem.Backend
	URL     string
	Account string
	faker   http.Handler

	mu       sync.Mutex
	ecs      http.Handler         // SetECS
	roles    map[string]Evaluator // by role ARN
	sessions map[string]session   // by access key ID
	reqs     []Request
}

// NewS3 starts the server with the given versioned buckets.
func NewS3(t testing.TB, buckets ...string) *S3 {
	t.Helper()
	s := &S3{t: t, Backend: s3mem.New(), Account: "123456789012", roles: map[string]Evaluator{}, sessions: map[string]session{}}
	for _, b := range buckets {
		if err := s.Backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
		if err := s.Backend.SetVersioningConfiguration(b, gofakes3.VersioningConfiguration{Status: gofakes3.VersioningEnabled}); err != nil {
			t.Fatal(err)
		}
	}
	s.faker = gofakes3.New(s.Backend).Server()
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// AddRole gives the role with that ARN its policies.
func (s *S3) AddRole(roleARN string, policies Evaluator) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[roleARN] = policies
}

// AssumeRole issues temporary credentials of the role (as STS does for
// the ECS task role); requests signed with them are the role's session.
func (s *S3) AssumeRole(roleARN, sessionName string) Credentials {
	c := Credentials{AccessKeyID: "ASIA" + strings.ToUpper(randHex(8)), SecretAccessKey: randHex(20), SessionToken: randHex(32)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[c.AccessKeyID] = session{roleARN: roleARN, name: sessionName, creds: c}
	return c
}

// TakeRequests returns the requests served since the last call.
func (s *S3) TakeRequests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reqs
	s.reqs = nil
	return r
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// check is one authorization an operation needs.
type check struct {
	action, resource string
	ctx              map[string][]string
}

func (c check) String() string { return c.action + " on " + c.resource }

func (s *S3) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	bucket, key := splitPath(r.URL.Path)
	rec := Request{Method: r.Method, Bucket: bucket, Key: key, Query: r.URL.RawQuery}
	defer func() {
		s.mu.Lock()
		s.reqs = append(s.reqs, rec)
		s.mu.Unlock()
	}()
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), ecsTarget) {
		rec.Bucket, rec.Key = "", ""
		s.serveECS(w, r, body, &rec)
		return
	}
	resource := "/" + bucket
	if key != "" {
		resource += "/" + key
	}
	op, checks, err := classify(r, bucket, key)
	rec.Operation = op
	if err != nil {
		rec.Status = http.StatusForbidden
		rec.Denied = []string{err.Error()}
		writeError(w, r, http.StatusForbidden, "AccessDenied", "Access Denied ("+err.Error()+")", resource)
		return
	}
	if exists, _ := s.Backend.BucketExists(bucket); bucket != "" && !exists && op != "CreateBucket" {
		// S3 answers NoSuchBucket (404) for a bucket that does not exist,
		// whoever asks.
		resp := httptest.NewRecorder()
		s.faker.ServeHTTP(resp, r)
		rec.Status = resp.Code
		copyResponse(w, resp)
		return
	}
	caller, code, msg := s.caller(r)
	if code != "" {
		rec.Status = http.StatusForbidden
		rec.Denied = []string{code}
		writeError(w, r, http.StatusForbidden, code, msg, resource)
		return
	}
	global := globalContext(r, caller, s.Account)
	decide := func(c check) Decision {
		ctx := map[string][]string{}
		for k, v := range global {
			ctx[k] = v
		}
		for k, v := range c.ctx {
			ctx[k] = v
		}
		if caller.eval == nil {
			return ImplicitDeny
		}
		return caller.eval.Evaluate(c.action, c.resource, caller.arn, ctx)
	}
	if op == "DeleteObjects" {
		s.deleteObjects(w, r, rec.Denied, bucket, body, decide, &rec)
		return
	}
	for _, c := range checks {
		if d := decide(c); d != Allowed {
			rec.Denied = append(rec.Denied, c.String())
			rec.Status = http.StatusForbidden
			writeError(w, r, http.StatusForbidden, "AccessDenied", deniedMessage(caller.arn, c, d), resource)
			return
		}
	}
	resp := httptest.NewRecorder()
	s.faker.ServeHTTP(resp, r)
	if (op == "GetObject" || op == "HeadObject") && resp.Code == http.StatusNotFound {
		// No such key (or a delete marker): 404 only with s3:ListBucket on
		// the bucket, else 403 (GetObject, "Permissions").
		list := check{action: "s3:ListBucket", resource: "arn:aws:s3:::" + bucket}
		if d := decide(list); d != Allowed {
			rec.Denied = append(rec.Denied, list.String()+" (missing key)")
			rec.Status = http.StatusForbidden
			writeError(w, r, http.StatusForbidden, "AccessDenied", deniedMessage(caller.arn, checks[0], ImplicitDeny), resource)
			return
		}
	}
	rec.Status = resp.Code
	copyResponse(w, resp)
}

// deleteObjects authorizes each key of a DeleteObjects request on its own,
// as S3 does: denied keys come back as AccessDenied entries of the result,
// the others are deleted.
func (s *S3) deleteObjects(w http.ResponseWriter, r *http.Request, _ []string, bucket string, body []byte, decide func(check) Decision, rec *Request) {
	var del struct {
		XMLName xml.Name `xml:"Delete"`
		Quiet   bool     `xml:"Quiet"`
		Objects []struct {
			Key       string `xml:"Key"`
			VersionID string `xml:"VersionId,omitempty"`
		} `xml:"Object"`
	}
	if err := xml.Unmarshal(body, &del); err != nil {
		writeError(w, r, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed", "/"+bucket)
		return
	}
	var denied []string
	kept := del.Objects[:0]
	for _, o := range del.Objects {
		c := check{action: "s3:DeleteObject", resource: "arn:aws:s3:::" + bucket + "/" + o.Key}
		if o.VersionID != "" {
			c.action = "s3:DeleteObjectVersion"
		}
		if decide(c) != Allowed {
			denied = append(denied, o.Key)
			rec.Denied = append(rec.Denied, c.String())
			continue
		}
		kept = append(kept, o)
	}
	del.Objects = kept
	var result []byte
	if len(kept) > 0 {
		nb, _ := xml.Marshal(del)
		r2 := r.Clone(r.Context())
		r2.Body = io.NopCloser(bytes.NewReader(nb))
		r2.ContentLength = int64(len(nb))
		sum := md5.Sum(nb)
		r2.Header.Set("Content-Md5", base64.StdEncoding.EncodeToString(sum[:]))
		r2.Header.Del("X-Amz-Checksum-Crc32")
		r2.Header.Del("X-Amz-Checksum-Crc32c")
		r2.Header.Del("X-Amz-Checksum-Sha256")
		r2.Header.Del("X-Amz-Checksum-Sha1")
		resp := httptest.NewRecorder()
		s.faker.ServeHTTP(resp, r2)
		if resp.Code != http.StatusOK {
			rec.Status = resp.Code
			copyResponse(w, resp)
			return
		}
		result = resp.Body.Bytes()
	}
	var errs strings.Builder
	for _, k := range denied {
		fmt.Fprintf(&errs, "<Error><Key>%s</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>", xmlEscape(k))
	}
	out := string(result)
	if out == "" {
		out = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>`
	}
	out = strings.Replace(out, "</DeleteResult>", errs.String()+"</DeleteResult>", 1)
	rec.Status = http.StatusOK
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, out)
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func copyResponse(w http.ResponseWriter, resp *httptest.ResponseRecorder) {
	for k, v := range resp.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.Code)
	_, _ = w.Write(resp.Body.Bytes())
}

// splitPath splits a path-style request path into bucket and key.
func splitPath(p string) (bucket, key string) {
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

type callerInfo struct {
	arn, roleARN, session, accessKey, region string
	eval                                     Evaluator
}

// caller identifies the signer of r from its SigV4 credential scope and
// session token. The signature itself is not verified.
func (s *S3) caller(r *http.Request) (callerInfo, string, string) {
	cred := ""
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "AWS4-HMAC-SHA256 ") {
		for _, part := range strings.Split(strings.TrimPrefix(a, "AWS4-HMAC-SHA256 "), ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Credential="); ok {
				cred = v
			}
		}
	} else if v := r.URL.Query().Get("X-Amz-Credential"); v != "" {
		cred = v
	}
	if cred == "" {
		return callerInfo{}, "AccessDenied", "Access Denied (anonymous request)"
	}
	parts := strings.Split(cred, "/")
	akid := parts[0]
	s.mu.Lock()
	sess, ok := s.sessions[akid]
	eval := s.roles[sess.roleARN]
	s.mu.Unlock()
	if !ok {
		return callerInfo{}, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
	}
	token := r.Header.Get("X-Amz-Security-Token")
	if token == "" {
		token = r.URL.Query().Get("X-Amz-Security-Token")
	}
	if token != sess.creds.SessionToken {
		return callerInfo{}, "InvalidToken", "The provided token is malformed or otherwise invalid."
	}
	region := ""
	if len(parts) > 2 {
		region = parts[2]
	}
	name := sess.roleARN[strings.LastIndex(sess.roleARN, "/")+1:]
	account := accountOf(sess.roleARN)
	return callerInfo{arn: "arn:aws:sts::" + account + ":assumed-role/" + name + "/" + sess.name, roleARN: sess.roleARN,
		session: sess.name, accessKey: akid, region: region, eval: eval}, "", ""
}

// globalContext holds the global condition keys of a request by an
// assumed-role session (IAM User Guide, "AWS global condition context
// keys") and the S3 keys every request has. aws:SecureTransport is true:
// the sidecars reach S3 over HTTPS, the loopback's plain HTTP is the
// test's.
func globalContext(r *http.Request, c callerInfo, account string) map[string][]string {
	now := time.Now().UTC()
	ctx := map[string][]string{
		"aws:SecureTransport":  {"true"},
		"aws:SourceIp":         {"127.0.0.1"},
		"aws:PrincipalArn":     {c.roleARN},
		"aws:PrincipalAccount": {account},
		"aws:PrincipalType":    {"AssumedRole"},
		"aws:userid":           {"AROA" + strings.ToUpper(hex.EncodeToString([]byte(c.roleARN))[:16]) + ":" + c.session},
		"aws:CurrentTime":      {now.Format(time.RFC3339)},
		"aws:EpochTime":        {strconv.FormatInt(now.Unix(), 10)},
		"aws:ViaAWSService":    {"false"},
		"s3:authType":          {"REST-HEADER"},
		"s3:signatureversion":  {"AWS4-HMAC-SHA256"},
		"s3:ResourceAccount":   {account},
	}
	if c.region != "" {
		ctx["aws:RequestedRegion"] = []string{c.region}
	}
	if r.URL.Query().Get("X-Amz-Credential") != "" {
		ctx["s3:authType"] = []string{"REST-QUERY-STRING"}
	}
	if v := r.Header.Get("X-Amz-Content-Sha256"); v != "" {
		ctx["s3:x-amz-content-sha256"] = []string{v}
	}
	return ctx
}

// deniedMessage is S3's AccessDenied message for a same-account caller
// ("Access denied error messages", IAM User Guide).
func deniedMessage(principal string, c check, d Decision) string {
	why := "because no identity-based policy allows the " + c.action + " action"
	if d == ExplicitDeny {
		why = "with an explicit deny in an identity-based policy"
	}
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: \"%s\" %s", principal, c.action, c.resource, why)
}

// writeError writes S3's error document (Amazon S3 API reference, "Error
// responses"); a HEAD response has no body.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg, resource string) {
	id := strings.ToUpper(randHex(8))
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Error><Code>%s</Code><Message>%s</Message><Resource>%s</Resource><RequestId>%s</RequestId><HostId>%s</HostId></Error>`,
		code, xmlEscape(msg), xmlEscape(resource), id, base64.StdEncoding.EncodeToString([]byte(id)))
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-amz-request-id", id)
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
