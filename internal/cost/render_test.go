package cost

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cost -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (go test ./internal/cost -update rewrites it after review)\n--- got ---\n%s", name, got)
	}
}

func defaultEstimate(t *testing.T) *Estimate {
	t.Helper()
	cfg := config.Default()
	cfg.Region = "us-east-1"
	e, err := Compute(&cfg, mustTable(t))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestGoldenText(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderText(&buf, defaultEstimate(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "default.txt.golden", buf.Bytes())

	cfg := cheapestSensible()
	e, err := Compute(&cfg, mustTable(t))
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := RenderText(&buf, e); err != nil {
		t.Fatal(err)
	}
	golden(t, "cheapest.txt.golden", buf.Bytes())

	cfg = config.Default()
	cfg.Region = "eu-central-1"
	cfg.App.Mode = config.ModeShared
	e, err = Compute(&cfg, mustTable(t))
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := RenderText(&buf, e); err != nil {
		t.Fatal(err)
	}
	golden(t, "shared-eu-central-1.txt.golden", buf.Bytes())
}

func TestGoldenJSON(t *testing.T) {
	var buf bytes.Buffer
	e := defaultEstimate(t)
	if err := WriteJSON(&buf, e); err != nil {
		t.Fatal(err)
	}
	golden(t, "default.json.golden", buf.Bytes())

	// The document follows the documented schema: no unknown fields, and the
	// lines add up to the total.
	var doc EstimateDoc
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "wbo-deploy.cost/v1" || doc.FreeTierAssumed || doc.Pricing != "on-demand" {
		t.Errorf("header %+v", doc)
	}
	var sum int64
	for _, l := range doc.Lines {
		sum += cents(l.Monthly)
		if l.Price.Source == "" || l.Price.Date == "" || l.Price.Key == "" {
			t.Errorf("line %s without its price's provenance", l.Key)
		}
	}
	if sum != cents(doc.TotalMonthly) || sum != 9690 {
		t.Errorf("lines add up to %d cents, total %.2f", sum, doc.TotalMonthly)
	}
}

func TestGoldenCompare(t *testing.T) {
	cfg := config.Default()
	cfg.Region = "us-east-1"
	vs, err := Compare(&cfg, mustTable(t))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := RenderCompareText(&buf, vs); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.txt.golden", buf.Bytes())

	buf.Reset()
	if err := WriteCompareJSON(&buf, vs); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.json.golden", buf.Bytes())
	var doc CompareDoc
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != CompareSchema || len(doc.Variants) != len(vs) || !doc.Variants[0].Baseline {
		t.Errorf("compare document: schema %q, %d variants", doc.Schema, len(doc.Variants))
	}
	for _, v := range doc.Variants {
		if v.TotalMonthly == nil || v.Estimate == nil || v.Estimate.Schema != Schema {
			t.Errorf("variant %s lacks its total or estimate", v.Name)
		}
	}
}

func TestGoldenLive(t *testing.T) {
	table := mustTable(t)
	products := usEast1PriceList(t, table)
	products["AmazonECS"] = append(products["AmazonECS"][:0:0], products["AmazonECS"]...)
	for i, doc := range products["AmazonECS"] {
		if strings.Contains(doc, "-Fargate-vCPU-Hours:perCPU") {
			products["AmazonECS"][i] = productDoc(map[string]string{"regionCode": "us-east-1", "usagetype": "USE1-Fargate-vCPU-Hours:perCPU"}, tier{"0", "0.0412000000"})
		}
	}
	rep, err := LivePrices(context.Background(), &fakePricing{products: products, pageSize: 3}, "us-east-1", table)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := RenderLiveText(&buf, rep); err != nil {
		t.Fatal(err)
	}
	golden(t, "live.txt.golden", buf.Bytes())
	if !strings.HasPrefix(buf.String(), "Embedded price table against the AWS Price List API, region us-east-1: 1 of 22 prices differ") {
		t.Errorf("live report header: %q", strings.SplitN(buf.String(), "\n", 2)[0])
	}
	buf.Reset()
	if err := WriteLiveJSON(&buf, rep); err != nil {
		t.Fatal(err)
	}
	golden(t, "live.json.golden", buf.Bytes())
}

// A failing writer surfaces its error instead of losing it.
func TestRenderReportsWriteErrors(t *testing.T) {
	e := defaultEstimate(t)
	if err := RenderText(failWriter{}, e); err == nil {
		t.Error("RenderText ignored a write error")
	}
	if err := WriteJSON(failWriter{}, e); err == nil {
		t.Error("WriteJSON ignored a write error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }
