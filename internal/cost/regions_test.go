package cost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
	"github.com/wbo-deploy/wbo-deploy/internal/shard"
)

func line(t *testing.T, e *Estimate, key string) Line {
	t.Helper()
	for _, l := range e.Lines {
		if l.Key == key {
			return l
		}
	}
	t.Fatalf("no line %s", key)
	return Line{}
}

// checkPartial asserts the estimate's invariants: every line is either priced
// with provenance or says which figure is missing in this region, the total
// is the sum of the priced lines, and Partial is set exactly when a line is
// unpriced.
func checkPartial(t *testing.T, e *Estimate) {
	t.Helper()
	var sum float64
	unpriced := 0
	for _, l := range e.Lines {
		if l.Missing != "" {
			unpriced++
			if l.Monthly != 0 || !strings.Contains(l.Missing, e.Region) || !strings.Contains(l.Missing, "--live-prices") ||
				!strings.HasPrefix(l.Missing, "no price for ") {
				t.Errorf("%s %s: unpriced line %+v should say which figure is missing in the region", e.Region, l.Key, l)
			}
			continue
		}
		sum += l.Monthly
		if l.Date == "" || l.Source == "" || l.Confidence == "" {
			t.Errorf("%s %s: priced line without provenance %+v", e.Region, l.Key, l)
		}
	}
	if e.Partial != (unpriced > 0) || (unpriced > 0) != (len(e.Missing) > 0) {
		t.Errorf("%s: partial %v, missing %d, %d unpriced lines", e.Region, e.Partial, len(e.Missing), unpriced)
	}
	if cents(sum) != cents(e.Total) {
		t.Errorf("%s: total %.2f, priced lines sum to %.2f", e.Region, e.Total, sum)
	}
}

// Every commercial region where the stack runs gets an estimate; before,
// anything but five regions was an error.
func TestEveryCommercialRegionGetsAnEstimate(t *testing.T) {
	table := mustTable(t)
	if len(Regions) < 30 {
		t.Fatalf("only %d regions", len(Regions))
	}
	for _, r := range Regions {
		for name, cfg := range map[string]config.Config{"default": config.Default(), "cheapest": cheapestSensible()} {
			cfg.Region = r.Code
			e, err := Compute(&cfg, table)
			if err != nil {
				t.Errorf("%s in %s: %v", name, r.Code, err)
				continue
			}
			if e.RegionName != r.Name {
				t.Errorf("%s in %s: region name %q, want %q", name, r.Code, e.RegionName, r.Name)
			}
			checkPartial(t, e)
		}
	}
}

func TestRegionsOutsideTheOldFiveArePriced(t *testing.T) {
	table := mustTable(t)
	cfg := config.Default()
	cfg.Region = "sa-east-1"
	e, err := Compute(&cfg, table)
	if err != nil {
		t.Fatal(err)
	}
	checkPartial(t, e)
	// The São Paulo Fargate figures and the every-region IPv4 rule are priced.
	if l := line(t, e, "fargate_vcpu"); l.Missing != "" || l.UnitPrice != 0.0696 || cents(l.Monthly) != cents(2*0.25*730*0.0696) {
		t.Errorf("sa-east-1 Fargate vCPU %+v, want 2 × 0.25 vCPU × 730 h × $0.0696", l)
	}
	if l := line(t, e, "public_ipv4"); l.Missing != "" || l.UnitPrice != 0.005 || l.Confidence != ConfidenceDerived {
		t.Errorf("sa-east-1 public IPv4 %+v, want the derived $0.005", l)
	}
	// What the table lacks is named, not guessed from another region.
	if l := line(t, e, "alb_hours"); l.Missing != "no price for Application Load Balancer hour in sa-east-1 in the table: check with --live-prices" {
		t.Errorf("sa-east-1 ALB line %+v, want it unpriced, naming the item", l)
	}
	if !e.Partial || !strings.Contains(Summary(e), "partial") {
		t.Errorf("summary %q should say partial", Summary(e))
	}

	// Tokyo: Fargate, the load balancer, CloudWatch, S3 and data transfer are
	// priced from Price List extracts; the ElastiCache node is not.
	cfg.Region = "ap-northeast-1"
	cfg.App.Architecture = "arm64"
	e, err = Compute(&cfg, table)
	if err != nil {
		t.Fatal(err)
	}
	checkPartial(t, e)
	for key, price := range map[string]float64{"fargate_vcpu": 0.04045, "fargate_memory": 0.00442, "alb_hours": 0.0243, "alb_lcu": 0.008, "logs_ingestion": 0.76, "data_transfer_out": 0.114} {
		if l := line(t, e, key); l.Missing != "" || l.UnitPrice != price {
			t.Errorf("ap-northeast-1 %s: %+v, want priced at %v", key, l, price)
		}
	}
	if l := line(t, e, "elasticache_nodes"); !strings.Contains(l.Missing, "ElastiCache") || !strings.Contains(l.Missing, "in ap-northeast-1 in the table") {
		t.Errorf("ap-northeast-1 ElastiCache line %+v, want it unpriced, naming the item", l)
	}
}

// A deliberately removed figure makes the estimate partial, naming the item,
// in the text, the JSON and the one-line summary; the rest is unchanged.
func TestMissingItemGivesPartialEstimate(t *testing.T) {
	full := mustTable(t)
	cfg := config.Default()
	cfg.Region = "us-east-1"
	whole, err := Compute(&cfg, full)
	if err != nil || whole.Partial {
		t.Fatalf("us-east-1 default: %v, partial %v", err, whole.Partial)
	}
	table, err := ParseTable(embeddedPrices)
	if err != nil {
		t.Fatal(err)
	}
	delete(table.Regions["us-east-1"].Prices, "elasticache_redis_cache.t3.micro")
	e, err := Compute(&cfg, table)
	if err != nil {
		t.Fatalf("error %v, want a partial estimate", err)
	}
	checkPartial(t, e)
	name := table.Items["elasticache_redis_cache.t3.micro"].Name
	msg := fmt.Sprintf("no price for %s in us-east-1 in the table: check with --live-prices", name)
	if len(e.Missing) != 1 || e.Missing[0] != msg {
		t.Fatalf("missing %q, want [%q]", e.Missing, msg)
	}
	if got, w := e.Total, whole.Total-line(t, whole, "elasticache_nodes").Monthly; cents(got) != cents(w) {
		t.Errorf("partial total %.2f, want the full %.2f less the ElastiCache line = %.2f", got, whole.Total, w)
	}
	if len(e.Lines) != len(whole.Lines) {
		t.Errorf("%d lines, want all %d with the unpriced one shown", len(e.Lines), len(whole.Lines))
	}

	var text bytes.Buffer
	if err := RenderText(&text, e); err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(text.String()), " ") // undo the wrapping
	for _, s := range []string{"TOTAL (partial)", msg, "Missing prices", "The total is partial"} {
		if !strings.Contains(flat, s) {
			t.Errorf("text lacks %q", s)
		}
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, e); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema  string   `json:"schema"`
		Partial bool     `json:"partial"`
		Missing []string `json:"missing_prices"`
		Lines   []struct {
			Key     string `json:"key"`
			Missing string `json:"missing"`
		} `json:"lines"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != Schema || !doc.Partial || len(doc.Missing) != 1 || doc.Missing[0] != msg {
		t.Errorf("JSON schema %q partial %v missing %q", doc.Schema, doc.Partial, doc.Missing)
	}
	found := false
	for _, l := range doc.Lines {
		if l.Key == "elasticache_nodes" {
			found = l.Missing == msg
		} else if l.Missing != "" {
			t.Errorf("line %s marked missing", l.Key)
		}
	}
	if !found {
		t.Error("JSON elasticache_nodes line does not say what is missing")
	}
	if s := Summary(e); !strings.Contains(s, "partial") || !strings.Contains(s, "1 item") {
		t.Errorf("summary %q should say partial and how many items", s)
	}
	if s := Summary(whole); strings.Contains(s, "partial") {
		t.Errorf("complete summary %q says partial", s)
	}
}

// A region that is not commercial, or where the stack's services do not all
// exist, stays an error naming it and the known list: the estimate never
// guesses its prices from another region's.
func TestNonCommercialRegionIsAnError(t *testing.T) {
	table := mustTable(t)
	for _, region := range []string{"mars-1", "cn-north-1", "us-gov-west-1", "me-west-1", ""} {
		cfg := config.Default()
		cfg.Region = region
		_, err := Compute(&cfg, table)
		var ue *UnknownRegionError
		if !errors.As(err, &ue) || ue.Region != region {
			t.Fatalf("region %q: error %v, want *UnknownRegionError for it", region, err)
		}
		for _, want := range []string{region, "us-east-1", "eu-central-1", "ap-northeast-1", "sa-east-1", "af-south-1 (opt-in)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("region %q: message %q lacks %q", region, err, want)
			}
		}
	}
}

// The rule-evaluation dimension of the LCU counts the rules internal/shard
// generates for the configured shards, on the listener that carries them.
func TestListenerRulesFollowTheShards(t *testing.T) {
	table := mustTable(t)
	seen := map[string]int{}
	for _, n := range []int{1, 2, 7} {
		for _, https := range []bool{false, true} {
			cfg := config.Default()
			cfg.Region = "us-east-1"
			cfg.App.Shards = n
			cfg.LoadBalancer.CertificateARN = ""
			listener := "HTTP"
			if https {
				cfg.LoadBalancer.CertificateARN = exampleCertificateARN
				listener = "HTTPS"
			}
			rules, err := shard.Rules(n)
			if err != nil {
				t.Fatal(err)
			}
			e, err := Compute(&cfg, table)
			if err != nil {
				t.Fatal(err)
			}
			processed := len(rules) + 1
			billable := max(processed-10, 0)
			rps := cfg.Cost.Assumptions.RequestsPerSecond
			want := fmt.Sprintf("rule evaluations %s/s × %d billable rules ÷ 1000 = %s [%d rules (%d board-affinity rules on the %s listener + 1 default) − 10 free = %d",
				num(rps), billable, num4(rps*float64(billable)/1000), processed, len(rules), listener, billable)
			d := line(t, e, "alb_lcu").Detail
			if !strings.Contains(d, want) {
				t.Errorf("%d shards, %s: LCU detail %q lacks %q", n, listener, d, want)
			}
			if https != strings.Contains(d, "the HTTP listener only redirects") {
				t.Errorf("%d shards, %s: detail %q about the redirect", n, listener, d)
			}
			seen[fmt.Sprintf("%d", processed)] = n
		}
	}
	if len(seen) != 3 {
		t.Errorf("1, 2 and 7 shards give rule counts %v, want three different", seen)
	}
	// 7 shards have more than the 10 free rules: the figure is not zero.
	cfg := config.Default()
	cfg.Region, cfg.App.Shards = "us-east-1", 7
	e, _ := Compute(&cfg, table)
	if d := line(t, e, "alb_lcu").Detail; strings.Contains(d, "× 0 billable rules") {
		t.Errorf("7 shards priced with no billable rules: %q", d)
	}
}

// --live-prices works for a region the table has few figures for: each
// live price it finds is reported as new, not an error.
func TestLivePricesInAPartialRegion(t *testing.T) {
	table := mustTable(t)
	const region = "ca-west-1" // only the every-region figures
	products := map[string][]string{}
	for _, it := range table.Items {
		q := it.PriceList
		attrs := map[string]string{"regionCode": region}
		if q.RegionField != "" {
			attrs = map[string]string{q.RegionField: region}
		}
		for _, f := range q.Filters {
			v := f.Value
			if f.Type == "CONTAINS" && strings.HasPrefix(v, "-") {
				v = "CAW1" + v
			}
			attrs[f.Field] = v
		}
		products[q.ServiceCode] = append(products[q.ServiceCode], productDoc(attrs, tier{"0", "0.0050000000"}))
	}
	rep, err := LivePrices(context.Background(), &fakePricing{pageSize: 10, products: products}, region, table)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Items) != len(table.Items) {
		t.Fatalf("%d items, want %d", len(rep.Items), len(table.Items))
	}
	for _, it := range rep.Items {
		_, inTable := table.Regions[region].Prices[it.Key]
		switch {
		case inTable && it.Key == "public_ipv4" && it.Status != LiveSame:
			t.Errorf("%s: %s, want same (0.005 both)", it.Key, it.Status)
		case inTable && it.Key != "public_ipv4" && it.Status != LiveDifferent:
			t.Errorf("%s: %s, want different (table %v, live 0.005)", it.Key, it.Status, *it.Table)
		case !inTable && it.Status != LiveOnly:
			t.Errorf("%s: %s, want %q", it.Key, it.Status, LiveOnly)
		}
	}
}
