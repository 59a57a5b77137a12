package cost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
)

// fakePricing answers GetProducts from product documents held in memory,
// applying TERM_MATCH and CONTAINS filters to the product attributes and
// paging pageSize documents at a time with a NextToken, as the Price List
// API does.
type fakePricing struct {
	products map[string][]string // service code -> documents
	pageSize int
	calls    []*pricing.GetProductsInput
	fail     map[string]error // service code -> error to answer
}

func (f *fakePricing) GetProducts(_ context.Context, in *pricing.GetProductsInput, _ ...func(*pricing.Options)) (*pricing.GetProductsOutput, error) {
	f.calls = append(f.calls, in)
	code := aws.ToString(in.ServiceCode)
	if err := f.fail[code]; err != nil {
		return nil, err
	}
	var matched []string
	for _, doc := range f.products[code] {
		ok, err := docMatches(doc, in)
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, doc)
		}
	}
	start := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(*in.NextToken)
		if err != nil {
			return nil, fmt.Errorf("bad NextToken %q", *in.NextToken)
		}
		start = n
	}
	end := min(start+f.pageSize, len(matched))
	out := &pricing.GetProductsOutput{PriceList: matched[start:end], FormatVersion: aws.String("aws_v1")}
	if end < len(matched) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func docMatches(doc string, in *pricing.GetProductsInput) (bool, error) {
	var d priceDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return true, nil // a broken document is passed through for the client to reject
	}
	for _, f := range in.Filters {
		v, ok := d.Product.Attributes[aws.ToString(f.Field)]
		want := aws.ToString(f.Value)
		switch f.Type {
		case "TERM_MATCH", "EQUALS":
			if !ok || v != want {
				return false, nil
			}
		case "CONTAINS":
			if !ok || !strings.Contains(v, want) {
				return false, nil
			}
		default:
			return false, fmt.Errorf("fake: filter type %s not supported", f.Type)
		}
	}
	return true, nil
}

// tier is one price dimension of a product document.
type tier struct {
	begin, usd string
}

// productDoc builds a Price List product document (format aws_v1).
func productDoc(attrs map[string]string, tiers ...tier) string {
	dims := map[string]any{}
	for i, t := range tiers {
		dims[fmt.Sprintf("SKU.TERM.RATE%d", i)] = map[string]any{
			"unit": "Hrs", "beginRange": t.begin, "endRange": "Inf", "description": "test",
			"pricePerUnit": map[string]string{"USD": t.usd},
		}
	}
	doc := map[string]any{
		"product":     map[string]any{"productFamily": "x", "attributes": attrs, "sku": "SKU"},
		"serviceCode": "x",
		"terms": map[string]any{
			"OnDemand": map[string]any{"SKU.TERM": map[string]any{"priceDimensions": dims, "sku": "SKU", "offerTermCode": "TERM"}},
			"Reserved": map[string]any{"SKU.RES": map[string]any{"priceDimensions": map[string]any{
				"SKU.RES.X": map[string]any{"unit": "Hrs", "beginRange": "0", "pricePerUnit": map[string]string{"USD": "0.0001"}},
			}}},
		},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

func priceStr(x float64) string { return strconv.FormatFloat(x, 'f', 10, 64) }

// usEast1PriceList makes, for every item with a query, a product its query
// matches at the table's us-east-1 price (usage types as AWS spells them in
// us-east-1), then perturbs some of them.
func usEast1PriceList(t *testing.T, table *PriceTable) map[string][]string {
	t.Helper()
	products := map[string][]string{}
	for key, it := range table.Items {
		q := it.PriceList
		p, err := table.Price("us-east-1", key)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		attrs := map[string]string{"regionCode": "us-east-1"}
		if q.RegionField != "" {
			attrs = map[string]string{q.RegionField: "us-east-1"}
		}
		for _, f := range q.Filters {
			v := f.Value
			if f.Type == "CONTAINS" && strings.HasPrefix(v, "-") {
				v = "USE1" + v
			}
			attrs[f.Field] = v
		}
		mult := q.Multiplier
		if mult == 0 {
			mult = 1
		}
		products[q.ServiceCode] = append(products[q.ServiceCode], productDoc(attrs, tier{"0", priceStr(p.Value / mult)}))
	}
	return products
}

func TestLivePricesReportsEachItem(t *testing.T) {
	table := mustTable(t)
	products := usEast1PriceList(t, table)

	// Realistic Fargate usage types: each query must pick its own.
	products["AmazonECS"] = []string{
		productDoc(map[string]string{"regionCode": "us-east-1", "usagetype": "USE1-Fargate-vCPU-Hours:perCPU"}, tier{"0", "0.0412000000"}), // price changed
		productDoc(map[string]string{"regionCode": "us-east-1", "usagetype": "USE1-Fargate-GB-Hours"}, tier{"0", "0.0044450000"}),
		productDoc(map[string]string{"regionCode": "us-east-1", "usagetype": "USE1-Fargate-ARM-vCPU-Hours:perCPU"}, tier{"0", "0.0323800000"}),
		productDoc(map[string]string{"regionCode": "us-east-1", "usagetype": "USE1-Fargate-ARM-GB-Hours"}, tier{"0", "0.0035600000"}),
		productDoc(map[string]string{"regionCode": "us-east-1", "usagetype": "USE1-Fargate-Windows-GB-Hours"}, tier{"0", "0.0100500000"}),
		productDoc(map[string]string{"regionCode": "us-east-1", "usagetype": "USE1-Fargate-EphemeralStorage-GB-Hours"}, tier{"0", "0.0001110000"}),
		// another region's product must not leak in
		productDoc(map[string]string{"regionCode": "eu-central-1", "usagetype": "EUC1-Fargate-vCPU-Hours:perCPU"}, tier{"0", "0.0465600000"}),
	}
	// ElastiCache lists Extended Support surcharges under the same node type: excluded.
	products["AmazonElastiCache"] = append(products["AmazonElastiCache"],
		productDoc(map[string]string{"regionCode": "us-east-1", "instanceType": "cache.t3.micro", "cacheEngine": "Redis",
			"usagetype": "USE1-ExtendedSupportYr3-NodeUsage:cache.t3.micro"}, tier{"0", "0.0270000000"}))
	// S3 storage is tiered: the first tier is the table's.
	for i, doc := range products["AmazonS3"] {
		if strings.Contains(doc, "TimedStorage") {
			products["AmazonS3"][i] = productDoc(map[string]string{"regionCode": "us-east-1", "usagetype": "TimedStorage-ByteHrs", "volumeType": "Standard"},
				tier{"0", "0.0230000000"}, tier{"51200", "0.0220000000"}, tier{"512000", "0.0210000000"})
		}
	}
	// Data transfer out: a free first tier, then the paid one.
	products["AWSDataTransfer"] = []string{productDoc(map[string]string{"fromRegionCode": "us-east-1", "usagetype": "DataTransfer-Out-Bytes", "transferType": "AWS Outbound"},
		tier{"0", "0.0000000000"}, tier{"100", "0.0900000000"}, tier{"10240", "0.0850000000"})}
	// Two different LCU prices match: ambiguous.
	products["AWSELB"] = append(products["AWSELB"],
		productDoc(map[string]string{"regionCode": "us-east-1", "productFamily": "Load Balancer-Application", "usagetype": "ReservedLCUUsage"}, tier{"0", "0.0060000000"}))
	// The dashboard price is not in the Price List.
	var cw []string
	for _, doc := range products["AmazonCloudWatch"] {
		if !strings.Contains(doc, "DashboardsUsageHour") {
			cw = append(cw, doc)
		}
	}
	products["AmazonCloudWatch"] = cw

	api := &fakePricing{products: products, pageSize: 1}
	rep, err := LivePrices(context.Background(), api, "us-east-1", table)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]LiveItem{}
	for _, it := range rep.Items {
		got[it.Key] = it
	}
	if len(got) != len(table.Items) {
		t.Errorf("%d items reported, want %d", len(got), len(table.Items))
	}
	expect := map[string]string{
		"fargate_vcpu_x86": LiveDifferent, "fargate_gb_x86": LiveSame, "fargate_vcpu_arm": LiveSame, "fargate_gb_arm": LiveSame,
		"fargate_ephemeral": LiveSame, "elasticache_redis_cache.t3.micro": LiveSame, "s3_standard": LiveSame,
		"data_transfer_out": LiveSame, "alb_lcu": LiveAmbiguous, "cw_dashboard": LiveNotFound, "s3_requests_tier1": LiveSame,
		"alb_hour": LiveSame, "logs_ingest": LiveSame,
	}
	for key, status := range expect {
		if got[key].Status != status {
			t.Errorf("%s: status %q (%s), want %q", key, got[key].Status, got[key].Detail, status)
		}
	}
	if it := got["fargate_vcpu_x86"]; it.Live == nil || *it.Live != 0.0412 || *it.Table != 0.04048 || it.Detail != "usage type USE1-Fargate-vCPU-Hours:perCPU" {
		t.Errorf("fargate_vcpu_x86 %+v, want live 0.0412 against table 0.04048 from USE1-Fargate-vCPU-Hours:perCPU", it)
	}
	if it := got["alb_lcu"]; len(it.Candidates) != 2 || it.Candidates[0] != 0.006 || it.Candidates[1] != 0.008 {
		t.Errorf("alb_lcu candidates %v, want [0.006 0.008]", it.Candidates)
	}
	if it := got["s3_requests_tier1"]; it.Live == nil || *it.Live != 0.005 {
		t.Errorf("S3 requests not converted to the price per 1,000: %+v", it)
	}
	diffs := rep.Differences()
	if len(diffs) != 3 {
		t.Errorf("differences %v, want fargate_vcpu_x86, alb_lcu, cw_dashboard", diffs)
	}

	// Every request filters on the region, and multi-product answers were
	// followed across pages: S3 has 2 products for its two queries, and the
	// ECS x86 memory query matches one product in one page.
	pages := 0
	for _, in := range api.calls {
		var region string
		for _, f := range in.Filters {
			if f := aws.ToString(f.Field); f == "regionCode" || f == "fromRegionCode" {
				region = "set"
			}
		}
		if region == "" {
			t.Errorf("request for %s without a region filter", aws.ToString(in.ServiceCode))
		}
		if in.NextToken != nil {
			pages++
		}
	}
	if len(api.calls) <= len(table.Items) || pages == 0 {
		t.Errorf("%d calls, %d follow-up pages: pagination was not exercised", len(api.calls), pages)
	}
}

// The page boundary: a price found only on the second page is still found.
func TestLivePricesFollowsPages(t *testing.T) {
	table := &PriceTable{
		Schema: TableSchema, Currency: "USD", HoursPerMonth: 730, Compiled: "2026-11-29",
		Items: map[string]ItemSpec{"x": {Name: "x", Unit: "hour", PriceList: &PriceListQuery{
			ServiceCode: "AmazonECS", Filters: []QueryFilter{{Field: "usagetype", Type: "CONTAINS", Value: "-Fargate-vCPU-Hours:perCPU"}},
			ExcludeUsageTypes: []string{"Spot"},
		}}},
		Regions: map[string]RegionPrices{"us-east-1": {Name: "N. Virginia", Prices: map[string]Price{
			"x": {Value: 0.04048, Date: "2026-11-29", Source: "https://aws.amazon.com/fargate/pricing/", Confidence: ConfidenceReference},
		}}},
	}
	api := &fakePricing{pageSize: 2, products: map[string][]string{"AmazonECS": {
		productDoc(map[string]string{"regionCode": "us-east-1", "usagetype": "Spot-USE1-Fargate-vCPU-Hours:perCPU"}, tier{"0", "0.0120000000"}),
		productDoc(map[string]string{"regionCode": "us-east-1", "usagetype": "Spot2-USE1-Fargate-vCPU-Hours:perCPU"}, tier{"0", "0.0130000000"}),
		productDoc(map[string]string{"regionCode": "us-east-1", "usagetype": "USE1-Fargate-vCPU-Hours:perCPU"}, tier{"0", "0.0500000000"}),
	}}}
	rep, err := LivePrices(context.Background(), api, "us-east-1", table)
	if err != nil {
		t.Fatal(err)
	}
	if len(api.calls) != 2 || aws.ToString(api.calls[1].NextToken) != "2" {
		t.Fatalf("%d calls, want 2 (second with NextToken 2)", len(api.calls))
	}
	it := rep.Items[0]
	if it.Status != LiveDifferent || it.Live == nil || *it.Live != 0.05 {
		t.Errorf("item %+v, want the second page's 0.05 reported as different", it)
	}
}

func TestLivePricesErrors(t *testing.T) {
	table := mustTable(t)
	_, err := LivePrices(context.Background(), &fakePricing{pageSize: 10}, "mars-1", table)
	var ue *UnknownRegionError
	if !errors.As(err, &ue) {
		t.Errorf("unknown region: %v", err)
	}
	denied := errors.New("AccessDeniedException: not authorized to perform pricing:GetProducts")
	api := &fakePricing{pageSize: 10, products: usEast1PriceList(t, table), fail: map[string]error{"AWSELB": denied}}
	_, err = LivePrices(context.Background(), api, "us-east-1", table)
	if !errors.Is(err, denied) || !strings.Contains(err.Error(), "alb_") || !strings.Contains(err.Error(), "AWSELB") {
		t.Errorf("API failure: %v, want it wrapped with the item and service", err)
	}
	api = &fakePricing{pageSize: 10, products: map[string][]string{"AmazonECS": {`{"product":`}}}
	_, err = LivePrices(context.Background(), api, "us-east-1", table)
	if err == nil || !strings.Contains(err.Error(), "parse product document") {
		t.Errorf("bad document: %v", err)
	}
}
