package probe

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wbo-deploy/wbo-deploy/internal/shard"
)

// fakeWBO answers like WBO: board pages with a canvas (with sign-in, only
// with the right token) and engine.io polling sessions it remembers.
type fakeWBO struct {
	token string // "" = sign-in off
	mu    sync.Mutex
	sids  map[string]int // sid -> 0 opened, 1 connect received
	seq   int
	hits  atomic.Int64
}

func newFakeWBO(token string) *fakeWBO { return &fakeWBO{token: token, sids: map[string]int{}} }

func (f *fakeWBO) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	if f.token != "" && r.URL.Query().Get("token") != f.token && r.URL.Path != "/favicon.ico" {
		http.Error(w, "access_forbidden", http.StatusForbidden)
		return
	}
	switch {
	case r.URL.Path == "/favicon.ico":
		w.WriteHeader(http.StatusOK)
	case strings.HasPrefix(r.URL.Path, "/boards/"):
		fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>%s | WBO</title></head><body><div id=\"board\"><svg id=\"canvas\"></svg></div></body></html>", r.URL.Path[8:])
	case r.URL.Path == "/socket.io/":
		f.mu.Lock()
		defer f.mu.Unlock()
		sid := r.URL.Query().Get("sid")
		if r.URL.Query().Get("board") == "" {
			http.Error(w, "no board", http.StatusBadRequest)
			return
		}
		if sid == "" {
			f.seq++
			sid = fmt.Sprintf("sid%04d", f.seq)
			f.sids[sid] = 0
			fmt.Fprintf(w, `0{"sid":"%s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`, sid)
			return
		}
		st, ok := f.sids[sid]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"code":1,"message":"Session ID unknown"}`)
			return
		}
		if r.Method == http.MethodPost {
			f.sids[sid] = 1
			fmt.Fprint(w, "ok")
			return
		}
		if st == 1 {
			fmt.Fprint(w, `40{"sid":"s`+sid+`"}`)
			return
		}
		fmt.Fprint(w, "6")
	default:
		http.NotFound(w, r)
	}
}

func twoShards() []Target {
	return []Target{{Shard: 0, Board: "wbo-deploy-probe-0-0"}, {Shard: 1, Board: "wbo-deploy-probe-1-3"}}
}

func TestHealthy(t *testing.T) {
	srv := httptest.NewServer(newFakeWBO(""))
	defer srv.Close()
	rep := Run(context.Background(), Options{URL: srv.URL, Targets: twoShards()})
	if !rep.OK || len(rep.Shards) != 2 {
		t.Fatalf("healthy: %+v", rep)
	}
	for _, s := range rep.Shards {
		if !s.Page.OK || !s.Session.OK || !strings.Contains(s.Session.Detail, "sid") {
			t.Fatalf("shard %d: %+v", s.Shard, s)
		}
	}
}

// Two tasks behind a router that sends the board's socket requests to
// either: the session opened on one is unknown to the other.
func TestWrongShard(t *testing.T) {
	a, b := newFakeWBO(""), newFakeWBO("")
	var n atomic.Int64
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/socket.io/") && n.Add(1)%2 == 0 {
			b.ServeHTTP(w, r)
			return
		}
		a.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(router)
	defer srv.Close()
	rep := Run(context.Background(), Options{URL: srv.URL, Targets: twoShards()[:1]})
	if rep.OK || rep.Shards[0].OK || !strings.Contains(rep.Shards[0].Reason, "Session ID unknown") || !strings.Contains(rep.Shards[0].Reason, "shard that owns it") {
		t.Fatalf("wrong shard not reported: %+v", rep)
	}
	if f := rep.Failures(); len(f) != 1 || !strings.HasPrefix(f[0], "shard 0 (board wbo-deploy-probe-0-0): socket.io:") {
		t.Fatalf("failures %v", f)
	}
}

func TestDownAndNotWBO(t *testing.T) {
	srv := httptest.NewServer(newFakeWBO(""))
	url := srv.URL
	srv.Close()
	rep := Run(context.Background(), Options{URL: url, Targets: twoShards()})
	if rep.OK || len(rep.Failures()) != 2 || !strings.Contains(rep.Shards[0].Reason, "no answer") {
		t.Fatalf("down: %+v", rep)
	}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>It works!</html>") }))
	defer other.Close()
	rep = Run(context.Background(), Options{URL: other.URL, Targets: twoShards()[:1]})
	if rep.OK || !strings.Contains(rep.Shards[0].Reason, "not a WBO board page") {
		t.Fatalf("not WBO: %+v", rep)
	}
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "Bad Gateway", http.StatusBadGateway) }))
	defer gone.Close()
	rep = Run(context.Background(), Options{URL: gone.URL, Targets: twoShards()[:1]})
	if rep.OK || !strings.Contains(rep.Shards[0].Reason, "HTTP 502") {
		t.Fatalf("502: %+v", rep)
	}
}

func TestSignIn(t *testing.T) {
	srv := httptest.NewServer(newFakeWBO("good"))
	defer srv.Close()
	boards := map[string]bool{}
	var mu sync.Mutex
	rep := Run(context.Background(), Options{URL: srv.URL, Targets: twoShards(), Token: func(b string) (string, error) {
		mu.Lock()
		boards[b] = true
		mu.Unlock()
		return "good", nil
	}})
	if !rep.OK || !boards["wbo-deploy-probe-1-3"] {
		t.Fatalf("sign-in: %+v %v", rep, boards)
	}
	rep = Run(context.Background(), Options{URL: srv.URL, Targets: twoShards()[:1], Token: func(string) (string, error) { return "stale", nil }})
	if rep.OK || !strings.Contains(rep.Shards[0].Reason, "403") {
		t.Fatalf("wrong key: %+v", rep)
	}
}

// The probe never follows a redirect: a page that sends it elsewhere is a
// failure, and elsewhere is not contacted.
func TestNeverLeavesTheURL(t *testing.T) {
	elsewhere := newFakeWBO("")
	far := httptest.NewServer(elsewhere)
	defer far.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, far.URL+r.URL.RequestURI(), http.StatusFound)
	}))
	defer srv.Close()
	rep := Run(context.Background(), Options{URL: srv.URL, Targets: twoShards()})
	if rep.OK || !strings.Contains(rep.Shards[0].Reason, "redirect") {
		t.Fatalf("redirect: %+v", rep)
	}
	if elsewhere.hits.Load() != 0 {
		t.Fatalf("the probe contacted another server %d times", elsewhere.hits.Load())
	}
}

// tlsServer serves WBO over TLS with a certificate for names valid from
// notBefore to notAfter, and an HTTP server redirecting to it; the client
// trusts the test CA.
func tlsServer(t *testing.T, names []string, notBefore, notAfter time.Time) (*httptest.Server, *x509.CertPool) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: notBefore.Add(-time.Hour),
		NotAfter: notAfter.Add(time.Hour * 24 * 365), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: notBefore, NotAfter: notAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(newFakeWBO(""))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return srv, pool
}

// transportFor dials the TLS server for every host (the name the
// certificate is for resolves to it) and trusts pool.
func transportFor(srv *httptest.Server, pool *x509.CertPool) http.RoundTripper {
	addr := srv.Listener.Addr().String()
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			if strings.HasSuffix(a, ":443") {
				a = addr
			}
			return (&net.Dialer{}).DialContext(ctx, network, a)
		}}
}

func TestCertificate(t *testing.T) {
	now := time.Now()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://board.example.com"+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	defer redirect.Close()
	cases := []struct {
		name        string
		names       []string
		from, until time.Time
		ok          bool
		want        string
	}{
		{"valid", []string{"board.example.com"}, now.Add(-time.Hour), now.Add(90 * 24 * time.Hour), true, "valid for board.example.com"},
		{"expiring", []string{"board.example.com"}, now.Add(-80 * 24 * time.Hour), now.Add(3 * 24 * time.Hour), false, "less than 14 days"},
		{"expired", []string{"board.example.com"}, now.Add(-90 * 24 * time.Hour), now.Add(-time.Hour), false, "expired"},
		{"other name", []string{"old.example.com"}, now.Add(-time.Hour), now.Add(90 * 24 * time.Hour), false, "board.example.com"},
	}
	for _, tc := range cases {
		srv, pool := tlsServer(t, tc.names, tc.from, tc.until)
		rep := Run(context.Background(), Options{URL: "https://board.example.com", HTTPURL: redirect.URL, Domain: "board.example.com",
			Targets: twoShards(), Transport: transportFor(srv, pool)})
		srv.Close()
		if rep.Certificate == nil || rep.Certificate.OK != tc.ok || !strings.Contains(rep.Certificate.Detail, tc.want) {
			t.Errorf("%s: certificate %+v", tc.name, rep.Certificate)
		}
		if rep.OK != tc.ok {
			t.Errorf("%s: report ok %v", tc.name, rep.OK)
		}
		if tc.ok && (rep.Redirect == nil || !rep.Redirect.OK || !rep.Shards[1].OK) {
			t.Errorf("%s: %+v", tc.name, rep)
		}
	}
	// HTTP that serves the app instead of redirecting, or redirects elsewhere.
	srv, pool := tlsServer(t, []string{"board.example.com"}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	defer srv.Close()
	plain := httptest.NewServer(newFakeWBO(""))
	defer plain.Close()
	away := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://evil.example.net/", http.StatusFound)
	}))
	defer away.Close()
	for u, want := range map[string]string{plain.URL: "not a redirect", away.URL: "not to https://board.example.com"} {
		rep := Run(context.Background(), Options{URL: "https://board.example.com", HTTPURL: u, Domain: "board.example.com", Transport: transportFor(srv, pool)})
		if rep.OK || rep.Redirect == nil || !strings.Contains(rep.Redirect.Detail, want) {
			t.Errorf("redirect via %s: %+v", u, rep.Redirect)
		}
	}
}

func TestTargetsOwnTheirShard(t *testing.T) {
	for n := 1; n <= 16; n++ {
		ts, err := Targets(n)
		if err != nil || len(ts) != n {
			t.Fatal(n, ts, err)
		}
		seen := map[string]bool{}
		for i, tg := range ts {
			if o, _ := shard.OwnerOfName(n, tg.Board); tg.Shard != i || o != i || seen[tg.Board] {
				t.Fatalf("%d shards: %+v", n, ts)
			}
			seen[tg.Board] = true
		}
	}
}

// A load balancer probed by its own name with a certificate for another name:
// refused unless SkipVerify (the caller says the certificate cannot match).
func TestSkipVerify(t *testing.T) {
	now := time.Now()
	srv, _ := tlsServer(t, []string{"board.example.com"}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	defer srv.Close()
	if rep := Run(context.Background(), Options{URL: srv.URL, Targets: twoShards()[:1]}); rep.OK {
		t.Fatal("an unverifiable certificate was accepted")
	}
	if rep := Run(context.Background(), Options{URL: srv.URL, Targets: twoShards()[:1], SkipVerify: true}); !rep.OK {
		t.Fatalf("SkipVerify: %+v", rep)
	}
}
