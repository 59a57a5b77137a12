package cost

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Every figure of the embedded table has a value, the date it was recorded,
// the https page that publishes it, and says how it is known.
func TestEveryPriceHasDateAndSource(t *testing.T) {
	table := mustTable(t)
	// Every commercial region where the stack runs is in the table, with at
	// least one figure, and nothing else is.
	for _, r := range Regions {
		if rp, ok := table.Regions[r.Code]; !ok || len(rp.Prices) == 0 || rp.Name != r.Name {
			t.Errorf("region %s (%s) missing from the price table or without figures", r.Code, r.Name)
		}
	}
	if len(table.Regions) != len(Regions) {
		t.Errorf("%d regions in the table, want the %d of cost.Regions", len(table.Regions), len(Regions))
	}
	n := 0
	for region, rp := range table.Regions {
		for key, p := range rp.Prices {
			n++
			where := region + "/" + key
			if _, err := time.Parse(time.DateOnly, p.Date); err != nil {
				t.Errorf("%s: date %q", where, p.Date)
			}
			if u, err := url.Parse(p.Source); err != nil || u.Scheme != "https" || !strings.HasSuffix(u.Host, "aws.amazon.com") {
				t.Errorf("%s: source %q is not an AWS https page", where, p.Source)
			}
			if p.Value <= 0 {
				t.Errorf("%s: value %v", where, p.Value)
			}
			if p.Confidence != ConfidenceReference && len(p.Note) < 20 {
				t.Errorf("%s: %s figure without a note saying how it is known", where, p.Confidence)
			}
			if _, ok := table.Items[key]; !ok {
				t.Errorf("%s: no item spec", where)
			}
		}
	}
	if n < 5*19 {
		t.Errorf("only %d figures in the table", n)
	}
	for key, it := range table.Items {
		if it.PriceList == nil {
			t.Errorf("item %s has no Price List query for --live-prices", key)
		}
	}
}

// The us-east-1 figures are those of shared/reference/pricing.md.
func TestUSEast1MatchesTheReference(t *testing.T) {
	table := mustTable(t)
	ref := map[string]float64{
		"fargate_vcpu_x86": 0.04048, "fargate_gb_x86": 0.004445, "fargate_vcpu_arm": 0.03238, "fargate_gb_arm": 0.00356,
		"fargate_ephemeral": 0.000111, "alb_hour": 0.0225, "alb_lcu": 0.008, "public_ipv4": 0.005,
		"elasticache_redis_cache.t3.micro": 0.017, "cw_alarm": 0.10, "cw_dashboard": 3.00,
		"logs_ingest": 0.50, "logs_storage": 0.03, "s3_standard": 0.023, "data_transfer_out": 0.09,
	}
	for key, v := range ref {
		p, err := table.Price("us-east-1", key)
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		if p.Value != v || p.Confidence != ConfidenceReference {
			t.Errorf("%s: %v (%s), want %v from pricing.md", key, p.Value, p.Confidence, v)
		}
	}
	// Valkey nodes are priced 20% below Redis OSS nodes.
	for _, region := range table.RegionCodes() {
		r, err1 := table.Price(region, "elasticache_redis_cache.t3.micro")
		v, err2 := table.Price(region, "elasticache_valkey_cache.t3.micro")
		if err1 != nil && err2 != nil {
			continue // neither figure found for this region
		}
		if err1 != nil || err2 != nil {
			t.Errorf("%s: t3.micro prices: %v %v", region, err1, err2)
			continue
		}
		if cents(v.Value*1e4) != cents(r.Value*0.8*1e4) {
			t.Errorf("%s: valkey %v is not 0.8 × redis %v", region, v.Value, r.Value)
		}
	}
}

func TestParseTableRejectsFiguresWithoutProvenance(t *testing.T) {
	cases := map[string]func(p map[string]any){
		"date":       func(p map[string]any) { delete(p, "date") },
		"source":     func(p map[string]any) { p["source"] = "http://example.com/prices" },
		"confidence": func(p map[string]any) { p["confidence"] = "vibes" },
		"note":       func(p map[string]any) { p["confidence"] = "recalled"; delete(p, "note") },
		"negative":   func(p map[string]any) { p["value"] = -1 },
	}
	for name, mutate := range cases {
		var doc map[string]any
		if err := json.Unmarshal(embeddedPrices, &doc); err != nil {
			t.Fatal(err)
		}
		p := doc["regions"].(map[string]any)["eu-west-1"].(map[string]any)["prices"].(map[string]any)["alb_hour"].(map[string]any)
		mutate(p)
		data, _ := json.Marshal(doc)
		_, err := ParseTable(data)
		if err == nil || !strings.Contains(err.Error(), "regions.eu-west-1.prices.alb_hour") {
			t.Errorf("%s: error %v, want one naming regions.eu-west-1.prices.alb_hour", name, err)
		}
	}
	if _, err := ParseTable([]byte(`{"schema":"wbo-deploy.prices/v1","surprise":1}`)); err == nil {
		t.Error("unknown field accepted")
	}
	if _, err := ParseTable([]byte(`{"schema":"wbo-deploy.prices/v0"}`)); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Errorf("wrong schema: %v", err)
	}
}
