package awssim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lbt "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/wbo-deploy/wbo-deploy/internal/signin"
)

// PublicHTTP returns an http.RoundTripper that plays the internet in front
// of the simulated account: a request to a load balancer's DNS name goes
// through the listener on its port (rules evaluated as RouteDetail does:
// redirects, fixed responses, forwards), to a healthy target of the chosen
// target group (the lb_cookie stickiness cookie AWSALB keeps a client on
// one target), where a simulated WBO answers as the image does
// (../shared/reference/wbo.md "HTTP and sockets"): board pages with their
// canvas, /favicon.ico, and engine.io polling sessions that only the task
// that opened them knows. With AUTH_SECRET_KEY among the task's secrets it
// verifies the token against the secret's current value, as WBO's
// board_jwt.mjs does. No target: 503, as an ALB answers for a target group
// without healthy targets. A custom domain reaches the load balancer its
// public DNS leads to (alias A record, CNAME chain, external record; dns.go);
// any other host fails as an unknown name does. An HTTPS listener's answers
// carry resp.TLS with the listener's ACM certificate as PeerCertificates[0]
// (an x509 certificate made in process; the TLS handshake itself is not
// simulated).
func (c *Cloud) PublicHTTP() http.RoundTripper {
	return &publicHTTP{c: c, sessions: map[string]string{}}
}

type publicHTTP struct {
	c        *Cloud
	mu       sync.Mutex
	sessions map[string]string // engine.io sid -> the target that opened it
	seq      int
}

type simAnswer struct {
	status  int
	body    string
	headers http.Header
	tls     *tls.ConnectionState
}

func (p *publicHTTP) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	a, err := p.answer(req)
	if err != nil {
		return nil, err
	}
	h := a.headers
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: a.status, Status: fmt.Sprintf("%d %s", a.status, http.StatusText(a.status)), Proto: "HTTP/1.1",
		ProtoMajor: 1, ProtoMinor: 1, Header: h, Body: io.NopCloser(strings.NewReader(a.body)), ContentLength: int64(len(a.body)), Request: req,
		TLS: a.tls}, nil
}

// listenerFor resolves the request's host through public DNS (dns.go: the
// load balancer's own name, a visible alias A record or CNAME chain in a
// public Route 53 zone, an external record) to an active load balancer and
// returns its listener on the port, with the TLS state an HTTPS listener
// presents. An unknown name fails as an unresolvable host does; a load
// balancer with no listener on the port refuses the connection.
func (p *publicHTTP) listenerFor(req *http.Request) (string, *tls.ConnectionState, *simAnswer, error) {
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[req.URL.Scheme]
	}
	c := p.c
	c.lock()
	defer c.unlock()
	s := c.elbv2()
	lb := c.resolveLB(host)
	if lb == nil || s.lbState(lb) != lbt.LoadBalancerStateEnumActive {
		return "", nil, nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var l *elbListener
	for _, x := range s.listeners {
		if x.lb == lb.arn && fmt.Sprint(x.port) == port {
			l = x
		}
	}
	if l == nil {
		return "", nil, nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	}
	https := l.protocol == string(lbt.ProtocolEnumHttps)
	switch {
	case req.URL.Scheme == "https" && !https:
		// A TLS client talking to a plain HTTP listener.
		return "", nil, nil, errors.New("http: server gave HTTP response to HTTPS client")
	case req.URL.Scheme == "http" && https:
		// "400 The plain HTTP request was sent to HTTPS port", as ALBs answer.
		return "", nil, &simAnswer{status: http.StatusBadRequest, body: "400 The plain HTTP request was sent to HTTPS port"}, nil
	case !https:
		return l.arn, nil, nil, nil
	}
	// The listener presents the certificate SNI picks for the name, its
	// default certificate when none of the added ones matches (the client
	// checks the name): ELB User Guide, "SSL certificates for your
	// Application Load Balancer" (smart certificate selection; the default
	// certificate when a client does not support SNI or no certificate matches).
	st := &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true, ServerName: host,
		NegotiatedProtocol: "http/1.1"}
	// SNI: an added certificate that covers the name, else the default.
	for _, arn := range append(append([]string(nil), l.extra...), l.certs...) {
		ct := c.acm().certs[arn]
		if ct == nil {
			continue
		}
		leaf, err := ct.x509()
		if err != nil {
			return "", nil, nil, err
		}
		if contains(l.certs, arn) || leaf.VerifyHostname(host) == nil {
			st.PeerCertificates = []*x509.Certificate{leaf}
			break
		}
	}
	return l.arn, st, nil, nil
}

// x509 is the certificate a listener presents for ct: generated once, self-
// signed, with the ACM certificate's domain and SANs as DNSNames and its
// validity (c.mu held).
func (ct *acmCert) x509() (*x509.Certificate, error) {
	if ct.leaf != nil {
		return ct.leaf, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte(ct.arn))
	tmpl := &x509.Certificate{SerialNumber: new(big.Int).SetBytes(h[:16]), Subject: pkix.Name{CommonName: ct.domain},
		Issuer: pkix.Name{CommonName: "Amazon RSA 2048 M02 (simulated)"}, DNSNames: append([]string{ct.domain}, ct.sans...),
		NotBefore: ct.issuedAt, NotAfter: ct.notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	if ct.leaf, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	return ct.leaf, nil
}

func (p *publicHTTP) answer(req *http.Request) (simAnswer, error) {
	listener, tlsState, early, err := p.listenerFor(req)
	if err != nil {
		return simAnswer{}, err
	}
	if early != nil {
		return *early, nil
	}
	a, err := p.routed(req, listener)
	a.tls = tlsState
	return a, err
}

func (p *publicHTTP) routed(req *http.Request, listener string) (simAnswer, error) {
	c := p.c
	hreq := HTTPRequest{Method: req.Method, Path: req.URL.EscapedPath(), RawQuery: req.URL.RawQuery, Host: req.Host, Headers: req.Header}
	if hreq.Host == "" {
		hreq.Host = req.URL.Host
	}
	res, err := c.RouteDetail(listener, hreq, MatchOptions{})
	if err != nil {
		return simAnswer{status: http.StatusServiceUnavailable, body: "503 Service Temporarily Unavailable"}, nil
	}
	switch res.ActionType {
	case string(lbt.ActionTypeEnumRedirect):
		return redirectAnswer(res.Redirect, req), nil
	case string(lbt.ActionTypeEnumFixedResponse):
		var code int
		_, _ = fmt.Sscan(res.FixedStatus, &code)
		return simAnswer{status: code}, nil
	}
	tgARN, err := PickWeighted(res.TargetGroups, hreq)
	if err != nil {
		return simAnswer{status: http.StatusServiceUnavailable}, nil
	}
	target, key, ok := p.target(tgARN, req)
	if !ok {
		return simAnswer{status: http.StatusServiceUnavailable, body: "503 Service Temporarily Unavailable"}, nil
	}
	a := p.wbo(req, target, key)
	if a.headers == nil {
		a.headers = http.Header{}
	}
	// lb_cookie stickiness: the load balancer names the target in its cookie.
	a.headers.Add("Set-Cookie", (&http.Cookie{Name: "AWSALB", Value: target, Path: "/"}).String())
	return a, nil
}

// redirectAnswer applies a redirect action's URI components (#{host},
// #{path}, #{query} kept unless replaced; ELB User Guide, "Redirect actions").
func redirectAnswer(rc *lbt.RedirectActionConfig, req *http.Request) simAnswer {
	u := *req.URL
	if p := aws.ToString(rc.Protocol); p != "" && p != "#{protocol}" {
		u.Scheme = strings.ToLower(p)
	}
	// #{host} is the host the client asked for (its Host header), a custom
	// domain as much as the load balancer's own name.
	host := u.Hostname()
	if req.Host != "" {
		if h, _, err := net.SplitHostPort(req.Host); err == nil {
			host = h
		} else {
			host = req.Host
		}
	}
	if h := aws.ToString(rc.Host); h != "" && h != "#{host}" {
		host = h
	}
	port := u.Port()
	if pt := aws.ToString(rc.Port); pt != "" && pt != "#{port}" {
		port = pt
	}
	u.Host = host
	if port != "" {
		u.Host = net.JoinHostPort(host, port)
	}
	status := http.StatusFound
	if rc.StatusCode == lbt.RedirectActionStatusCodeEnumHttp301 {
		status = http.StatusMovedPermanently
	}
	return simAnswer{status: status, headers: http.Header{"Location": {u.String()}}}
}

// target picks the healthy target of the group (the sticky one if its
// cookie names a healthy one) and the AUTH_SECRET_KEY value of its task ("" =
// sign-in off).
func (p *publicHTTP) target(tgARN string, req *http.Request) (string, string, bool) {
	c := p.c
	c.lock()
	defer c.unlock()
	s := c.elbv2()
	tg, ok := s.tgs[tgARN]
	if !ok {
		return "", "", false
	}
	var healthy []string
	for _, t := range tg.targets {
		if s.health(tg, t).State == lbt.TargetHealthStateEnumHealthy {
			healthy = append(healthy, t.id)
		}
	}
	if len(healthy) == 0 {
		return "", "", false
	}
	sort.Strings(healthy)
	pick := healthy[0]
	if ck, err := req.Cookie("AWSALB"); err == nil && contains(healthy, ck.Value) {
		pick = ck.Value
	}
	key := ""
	for _, t := range c.ecs().tasks {
		if t.ip != pick || !t.live() {
			continue
		}
		key = t.secrets["AUTH_SECRET_KEY"]
	}
	return pick, key, true
}

// wbo answers as the WBO image does behind the load balancer.
func (p *publicHTTP) wbo(req *http.Request, target, key string) simAnswer {
	q := req.URL.Query()
	allowed := func(board string) bool {
		if key == "" {
			return true
		}
		c, err := signin.Verify([]byte(key), q.Get("token"), time.Now())
		return err == nil && signin.RoleInBoard(c.Roles, board) != signin.Forbidden
	}
	path := req.URL.Path
	switch {
	case path == "/favicon.ico":
		return simAnswer{status: http.StatusOK, body: "ico"}
	case strings.HasPrefix(path, "/boards/") && !strings.Contains(path[len("/boards/"):], "/"):
		board := path[len("/boards/"):]
		if !allowed(board) {
			return simAnswer{status: http.StatusForbidden, body: "access_forbidden"}
		}
		return simAnswer{status: http.StatusOK, headers: http.Header{"Content-Type": {"text/html"}},
			body: "<!DOCTYPE html><html><head><title>" + board + " | WBO</title></head><body><div id=\"board\"><svg id=\"canvas\"></svg></div></body></html>"}
	case path == "/socket.io/":
		return p.socket(req, q, target, allowed)
	case path == "/":
		if !allowed("") {
			return simAnswer{status: http.StatusForbidden, body: "missing_token"}
		}
		return simAnswer{status: http.StatusOK, body: "<html>WBO</html>"}
	}
	return simAnswer{status: http.StatusNotFound}
}

func (p *publicHTTP) socket(req *http.Request, q url.Values, target string, allowed func(string) bool) simAnswer {
	p.mu.Lock()
	defer p.mu.Unlock()
	sid := q.Get("sid")
	if q.Get("EIO") != "4" || q.Get("transport") != "polling" {
		return simAnswer{status: http.StatusBadRequest, body: `{"code":0,"message":"Transport unknown"}`}
	}
	if sid == "" {
		p.seq++
		sid = fmt.Sprintf("sim%06d", p.seq)
		p.sessions[sid] = target
		return simAnswer{status: http.StatusOK, body: `0{"sid":"` + sid + `","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`}
	}
	if p.sessions[sid] != target {
		return simAnswer{status: http.StatusBadRequest, body: `{"code":1,"message":"Session ID unknown"}`}
	}
	if req.Method == http.MethodPost {
		return simAnswer{status: http.StatusOK, body: "ok"}
	}
	if !allowed(q.Get("board")) {
		return simAnswer{status: http.StatusOK, body: `44{"message":"access_forbidden"}`}
	}
	return simAnswer{status: http.StatusOK, body: `40{"sid":"s` + sid + `"}`}
}
