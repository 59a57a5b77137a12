package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/app"
)

func writeConfig(t *testing.T, c *cli, name, body string) string {
	t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Your own domain through the CLI, with the zone in Route 53: up ends with
// the whiteboard on https://board.example.com, and status probes it there:
// every shard, the certificate valid for the name, HTTP redirecting.
func TestDomainThroughTheCLI(t *testing.T) {
	c := newCLI(t)
	c.cloud.CreateZone("example.com")
	cfg := writeConfig(t, c, "domain.yaml", "redis: {mode: none}\ndomain:\n  name: board.example.com\n")
	r := c.mustCode(0, "--config", cfg, "up", "--yes")
	if !strings.Contains(r.out, "URL: https://board.example.com") {
		t.Fatalf("up output:\n%s", r.out)
	}
	doc, code := c.statusWith(cfg)
	if code != 0 {
		t.Fatalf("status exit %d: %+v", code, doc.Probe)
	}
	if doc.URL != "https://board.example.com" || doc.Domain == nil || doc.Domain.Certificate != "ISSUED" || doc.Domain.DNS != "route53" {
		t.Fatalf("status: url %q domain %+v", doc.URL, doc.Domain)
	}
	p := doc.Probe
	if p == nil || !p.OK || p.Certificate == nil || !p.Certificate.OK || p.Redirect == nil || !p.Redirect.OK || len(p.Shards) != 2 {
		t.Fatalf("probe: %+v", p)
	}
	text := c.mustCode(0, "--config", cfg, "status")
	if !strings.Contains(text.out, "Domain:    board.example.com: certificate issued") {
		t.Fatalf("status text:\n%s", text.out)
	}
}

// DNS elsewhere: up prints the two records to create and exits 1; status
// says what is missing (exit 3); once the records resolve, up finishes and
// the probe passes.
func TestDomainWithDNSElsewhereThroughTheCLI(t *testing.T) {
	c := newCLI(t)
	cfg := writeConfig(t, c, "domain.yaml", "redis: {mode: none}\napp: {mode: single}\ndomain:\n  name: board.example.com\n")
	r := c.mustCode(1, "--config", cfg, "up", "--yes")
	if !strings.Contains(r.out, "Waiting for DNS:") || !strings.Contains(r.out, "acm-validations.aws.") || !strings.Contains(r.out, "board.example.com.") {
		t.Fatalf("up output:\n%s\nstderr:\n%s", r.out, r.err)
	}
	if !strings.Contains(r.err, "run it again once they are created") {
		t.Fatalf("up stderr:\n%s", r.err)
	}
	j := c.mustCode(1, "--config", cfg, "up", "--yes", "-o", "json")
	var up app.UpDocument
	if err := json.Unmarshal([]byte(j.out), &up); err != nil {
		t.Fatalf("up -o json: %v\n%s", err, j.out)
	}
	if up.OK || len(up.DNSRecords) != 2 {
		t.Fatalf("up document: ok %v records %+v", up.OK, up.DNSRecords)
	}
	doc, code := c.statusWith(cfg)
	if code != 3 || doc.Domain == nil || doc.Domain.DNS != "external" || doc.Domain.Certificate != "PENDING_VALIDATION" || len(doc.Domain.Missing) != 2 {
		t.Fatalf("status exit %d, domain %+v", code, doc.Domain)
	}
	for _, rec := range up.DNSRecords {
		c.cloud.PublishExternalDNS(rec.Name, rec.Type, rec.Value)
	}
	c.mustCode(0, "--config", cfg, "up", "--yes")
	doc, code = c.statusWith(cfg)
	if code != 0 || doc.Domain.Certificate != "ISSUED" || len(doc.Domain.Missing) != 0 || doc.Probe == nil || !doc.Probe.OK {
		t.Fatalf("status exit %d, domain %+v, probe %+v", code, doc.Domain, doc.Probe)
	}
	c.mustCode(0, "--config", cfg, "destroy", "--yes")
}
