// Package probe checks that a deployed whiteboard answers through its public
// URL, as a browser would: for each shard, a board page owned by that shard
// is served by WBO, and a socket.io long-polling session for that board
// works; with a domain, the certificate is valid for it and not about to
// expire, and plain HTTP redirects to HTTPS.
//
// The probe contacts only the URLs it is given (Options.URL and
// Options.HTTPURL): it never follows a redirect, and reports one instead.
//
// What WBO serves (../shared/reference/wbo.md, "HTTP and sockets", and the
// WBO source at v2.17.0): GET /boards/<name> is the board page, an HTML
// document whose drawing surface is <svg id="canvas">; with sign-in on it
// needs ?token=<jwt>. Socket.io 4 (engine.io protocol 4) serves
// /socket.io/?EIO=4&transport=polling&board=<name>: the first GET opens a
// session and answers the open packet 0{"sid":...}; the client then POSTs
// the socket.io CONNECT packet "40" with that sid, and the next GET answers
// "40{...}" once connected. A process that does not hold the session answers
// 400 {"code":1,"message":"Session ID unknown"}: the board's requests did
// not all reach the same task.
package probe

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/shard"
)

// MinCertificateValidity is how long the certificate must stay valid.
const MinCertificateValidity = 14 * 24 * time.Hour

// maxBody bounds what the probe reads of an answer.
const maxBody = 1 << 20

// Target is one shard and a board it owns.
type Target struct {
	Shard int    `json:"shard"`
	Board string `json:"board"`
}

// Options say what to probe.
type Options struct {
	// URL is the public URL (https://board.example.com or the load
	// balancer's http:// name).
	URL string
	// HTTPURL, when set, must redirect to URL's https origin (a domain
	// with a certificate).
	HTTPURL string
	// Domain, when set, is the name the certificate must be valid for.
	Domain  string
	Targets []Target
	// Token returns a sign-in token for a board, or nil when sign-in is off.
	Token func(board string) (string, error)
	// Transport carries the requests (nil: a fresh http.Transport).
	Transport http.RoundTripper
	// SkipVerify accepts any certificate (nil Transport only): for a load
	// balancer probed by its own DNS name while its certificate is for a
	// domain the probe is not told (load_balancer.certificate_arn).
	SkipVerify bool
	// Timeout bounds each request (default 15 s).
	Timeout time.Duration
	Now     func() time.Time
}

// Check is one check's outcome.
type Check struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// ShardResult is the outcome for one shard.
type ShardResult struct {
	Shard   int    `json:"shard"`
	Board   string `json:"board"`
	OK      bool   `json:"ok"`
	Page    Check  `json:"page"`
	Session Check  `json:"session"`
	Reason  string `json:"reason,omitempty"`
}

// Report is the whole probe.
type Report struct {
	URL         string        `json:"url"`
	OK          bool          `json:"ok"`
	Certificate *Check        `json:"certificate,omitempty"`
	Redirect    *Check        `json:"http_redirect,omitempty"`
	Shards      []ShardResult `json:"shards"`
}

// Failures lists what failed, one line each.
func (r Report) Failures() []string {
	var out []string
	if r.Certificate != nil && !r.Certificate.OK {
		out = append(out, "certificate: "+r.Certificate.Detail)
	}
	if r.Redirect != nil && !r.Redirect.OK {
		out = append(out, "http redirect: "+r.Redirect.Detail)
	}
	for _, s := range r.Shards {
		if !s.OK {
			out = append(out, fmt.Sprintf("shard %d (board %s): %s", s.Shard, s.Board, s.Reason))
		}
	}
	return out
}

// Run probes o.URL.
func Run(ctx context.Context, o Options) Report {
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	rep := Report{URL: o.URL, OK: true, Shards: []ShardResult{}}
	base, err := url.Parse(strings.TrimRight(o.URL, "/"))
	if err != nil || base.Host == "" {
		rep.OK = false
		rep.Certificate = &Check{Detail: fmt.Sprintf("%q is not a URL", o.URL)}
		return rep
	}
	if o.Domain != "" {
		c := checkCertificate(ctx, o, base)
		rep.Certificate = &c
		rep.OK = rep.OK && c.OK
	}
	if o.HTTPURL != "" {
		c := checkRedirect(ctx, o, base)
		rep.Redirect = &c
		rep.OK = rep.OK && c.OK
	}
	for _, t := range o.Targets {
		s := probeShard(ctx, o, base, t)
		rep.OK = rep.OK && s.OK
		rep.Shards = append(rep.Shards, s)
	}
	return rep
}

// client is a browser-like client for one shard's requests: its own cookie
// jar (the load balancer's stickiness cookie), no redirects followed.
func client(o Options) *http.Client {
	jar, _ := cookiejar.New(nil)
	tr := o.Transport
	if tr == nil {
		t := &http.Transport{Proxy: http.ProxyFromEnvironment, TLSHandshakeTimeout: o.Timeout}
		if o.SkipVerify {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // see Options.SkipVerify
		}
		tr = t
	}
	return &http.Client{Transport: tr, Jar: jar, Timeout: o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(ctx context.Context, c *http.Client, u string) (*http.Response, []byte, error) {
	return do(ctx, c, http.MethodGet, u, "")
}

func do(ctx context.Context, c *http.Client, method, u, body string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("User-Agent", "wbo-deploy-probe")
	if body != "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return resp, data, err
}

func checkCertificate(ctx context.Context, o Options, base *url.URL) Check {
	if base.Scheme != "https" {
		return Check{Detail: fmt.Sprintf("%s is not served over HTTPS", o.URL)}
	}
	resp, _, err := get(ctx, client(o), base.String()+"/favicon.ico")
	if err != nil {
		var cv *tls.CertificateVerificationError
		if errors.As(err, &cv) {
			return Check{Detail: "the certificate is not valid for " + o.Domain + ": " + cv.Err.Error()}
		}
		return Check{Detail: "no HTTPS answer: " + err.Error()}
	}
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		return Check{Detail: "no certificate in the TLS handshake"}
	}
	leaf := resp.TLS.PeerCertificates[0]
	if err := leaf.VerifyHostname(o.Domain); err != nil {
		return Check{Detail: err.Error()}
	}
	left := leaf.NotAfter.Sub(o.Now())
	if left < MinCertificateValidity {
		return Check{Detail: fmt.Sprintf("the certificate for %s expires on %s, in %s: less than %d days", o.Domain,
			leaf.NotAfter.UTC().Format("2006-01-02"), left.Round(time.Hour), int(MinCertificateValidity.Hours()/24))}
	}
	return Check{OK: true, Detail: fmt.Sprintf("valid for %s until %s", o.Domain, leaf.NotAfter.UTC().Format("2006-01-02"))}
}

func checkRedirect(ctx context.Context, o Options, base *url.URL) Check {
	resp, _, err := get(ctx, client(o), strings.TrimRight(o.HTTPURL, "/")+"/")
	if err != nil {
		return Check{Detail: "no HTTP answer: " + err.Error()}
	}
	loc := resp.Header.Get("Location")
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return Check{Detail: fmt.Sprintf("HTTP answers %d, not a redirect to HTTPS", resp.StatusCode)}
	}
	u, err := url.Parse(loc)
	if err != nil || u.Scheme != "https" || u.Hostname() != base.Hostname() || httpsPort(u) != httpsPort(base) {
		return Check{Detail: fmt.Sprintf("HTTP redirects to %q, not to %s", loc, base.Scheme+"://"+base.Host)}
	}
	return Check{OK: true, Detail: fmt.Sprintf("%d to %s", resp.StatusCode, loc)}
}

func httpsPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return "443"
}

func probeShard(ctx context.Context, o Options, base *url.URL, t Target) ShardResult {
	r := ShardResult{Shard: t.Shard, Board: t.Board}
	c := client(o)
	q := url.Values{}
	if o.Token != nil {
		tok, err := o.Token(t.Board)
		if err != nil {
			r.Reason = "cannot sign in: " + err.Error()
			r.Page.Detail = r.Reason
			return r
		}
		q.Set("token", tok)
	}
	enc := shard.EncodeURIComponent(t.Board)
	page := base.String() + "/boards/" + enc
	if len(q) > 0 {
		page += "?" + q.Encode()
	}
	r.Page = checkPage(ctx, c, page)
	if !r.Page.OK {
		r.Reason = "board page: " + r.Page.Detail
		return r
	}
	r.Session = checkSession(ctx, c, base.String(), enc, q.Get("token"))
	if !r.Session.OK {
		r.Reason = "socket.io: " + r.Session.Detail
		return r
	}
	r.OK = true
	return r
}

func checkPage(ctx context.Context, c *http.Client, u string) Check {
	resp, body, err := get(ctx, c, u)
	if err != nil {
		return Check{Detail: "no answer: " + err.Error()}
	}
	switch {
	case resp.StatusCode == http.StatusForbidden:
		return Check{Detail: "403: sign-in refused the token (is AUTH_SECRET_KEY the one the tasks run with?)"}
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return Check{Detail: fmt.Sprintf("%d redirect to %q (not followed)", resp.StatusCode, resp.Header.Get("Location"))}
	case resp.StatusCode != http.StatusOK:
		return Check{Detail: fmt.Sprintf("HTTP %d %s", resp.StatusCode, strings.TrimSpace(firstLine(body)))}
	case !strings.Contains(string(body), `id="canvas"`):
		return Check{Detail: "200, but the page is not a WBO board page (no drawing canvas)"}
	}
	return Check{OK: true, Detail: "200, WBO board page"}
}

func firstLine(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// checkSession opens an engine.io polling session for the board, connects
// socket.io's default namespace and reads the connect acknowledgement, all
// through the load balancer with the same cookies.
func checkSession(ctx context.Context, c *http.Client, base, board, token string) Check {
	q := "EIO=4&transport=polling&board=" + board
	if token != "" {
		q += "&token=" + url.QueryEscape(token)
	}
	u := base + "/socket.io/?" + q
	resp, body, err := get(ctx, c, u)
	if err != nil {
		return Check{Detail: "no answer to the handshake: " + err.Error()}
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "0{") {
		return Check{Detail: fmt.Sprintf("handshake answered %d %q, not an engine.io open packet", resp.StatusCode, firstLine(body))}
	}
	var open struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(body[1:], &open); err != nil || open.SID == "" {
		return Check{Detail: "handshake without a session id"}
	}
	su := u + "&sid=" + url.QueryEscape(open.SID)
	resp, body, err = do(ctx, c, http.MethodPost, su, "40")
	if err != nil {
		return Check{Detail: "no answer to connect: " + err.Error()}
	}
	if resp.StatusCode != http.StatusOK {
		return Check{Detail: sessionError(resp.StatusCode, body)}
	}
	resp, body, err = get(ctx, c, su)
	if err != nil {
		return Check{Detail: "no answer to the poll: " + err.Error()}
	}
	if resp.StatusCode != http.StatusOK {
		return Check{Detail: sessionError(resp.StatusCode, body)}
	}
	// Packets of one poll are separated by the record separator \x1e.
	for _, p := range strings.Split(string(body), "\x1e") {
		switch {
		case strings.HasPrefix(p, "40"):
			_, _, _ = do(ctx, c, http.MethodPost, su, "1") // close the session
			return Check{OK: true, Detail: "socket.io session " + open.SID}
		case strings.HasPrefix(p, "44"):
			return Check{Detail: "socket.io refused the connection: " + p[2:]}
		}
	}
	return Check{Detail: fmt.Sprintf("no connect acknowledgement in %q", firstLine(body))}
}

func sessionError(status int, body []byte) string {
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if status == http.StatusBadRequest && json.Unmarshal(body, &e) == nil && e.Code == 1 {
		return "the session opened on one task is unknown to the task that got the next request (Session ID unknown): the board's requests do not all reach the shard that owns it"
	}
	return fmt.Sprintf("HTTP %d %s", status, firstLine(body))
}

// Targets picks, for each of n shards, a board name it owns. A board
// belongs to the shard of its name's first byte (internal/shard), so the
// probe board of shard i is "<k>-wbo-deploy-probe" for the first ASCII
// letter or digit k that shard i owns.
func Targets(n int) ([]Target, error) {
	var out []Target
	for i, keys := range shard.Partition(n) {
		found := false
		for _, k := range keys {
			if k >= 'a' && k <= 'z' || k >= '0' && k <= '9' {
				name := string(rune(k)) + "-wbo-deploy-probe"
				if o, err := shard.OwnerOfName(n, name); err != nil || o != i {
					return nil, fmt.Errorf("probe board %s: owner %d, want shard %d (%v)", name, o, i, err)
				}
				out = append(out, Target{Shard: i, Board: name})
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("shard %d of %d owns no ASCII letter or digit to name a probe board with", i, n)
		}
	}
	return out, nil
}
