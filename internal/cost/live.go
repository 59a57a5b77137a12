package cost

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/aws/aws-sdk-go-v2/service/pricing/types"
)

// PricingAPI is the one AWS Price List call LivePrices makes; *pricing.Client
// satisfies it. The Price List API answers only in a few regions (us-east-1,
// eu-central-1, ap-south-1): build the client for one of them whatever region
// the stack is in.
type PricingAPI interface {
	GetProducts(ctx context.Context, in *pricing.GetProductsInput, optFns ...func(*pricing.Options)) (*pricing.GetProductsOutput, error)
}

var _ PricingAPI = (*pricing.Client)(nil)

// Statuses of a LiveItem.
const (
	LiveSame      = "same"         // the live price equals the table's
	LiveDifferent = "different"    // the live price differs from the table's
	LiveNotFound  = "not found"    // no product matched the item's query
	LiveAmbiguous = "ambiguous"    // several different prices matched
	LiveOnly      = "not in table" // found live; the table has no figure for this region
)

// LiveReport compares the embedded table with the AWS Price List API, item by item.
type LiveReport struct {
	Region string
	Items  []LiveItem
}

// LiveItem is the outcome for one priced item.
type LiveItem struct {
	Key        string
	Name       string
	Unit       string
	Table      *float64 // nil when the table has no figure for the region
	Live       *float64 // nil unless exactly one price matched
	Candidates []float64
	Status     string
	Detail     string // the usage types that matched
}

// Differences returns the items whose live price is not the table's (different,
// not found, ambiguous).
func (r *LiveReport) Differences() []LiveItem {
	var out []LiveItem
	for _, it := range r.Items {
		if it.Status != LiveSame && it.Status != LiveOnly {
			out = append(out, it)
		}
	}
	return out
}

// LivePrices asks the AWS Price List API for the current on-demand price of
// every item of the table that has a query (prices.json items.*.price_list)
// in region, following every page of GetProducts, and reports each against
// the embedded figure. An API error stops it: the report would be partial.
func LivePrices(ctx context.Context, api PricingAPI, region string, table *PriceTable) (*LiveReport, error) {
	if _, ok := LookupRegion(region); !ok {
		return nil, &UnknownRegionError{Region: region, Known: RegionList()}
	}
	rp := table.Regions[region] // may have no figures: every live price is then new
	keys := make([]string, 0, len(table.Items))
	for k, it := range table.Items {
		if it.PriceList != nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	rep := &LiveReport{Region: region}
	for _, key := range keys {
		spec := table.Items[key]
		cands, err := queryPrices(ctx, api, region, spec.PriceList)
		if err != nil {
			return nil, fmt.Errorf("live price of %s (%s in %s): %w", key, spec.PriceList.ServiceCode, region, err)
		}
		it := LiveItem{Key: key, Name: spec.Name, Unit: spec.Unit}
		if p, ok := rp.Prices[key]; ok {
			v := p.Value
			it.Table = &v
		}
		judge(&it, cands)
		rep.Items = append(rep.Items, it)
	}
	return rep, nil
}

// candidate is one on-demand price dimension that matched a query.
type candidate struct {
	value      float64
	beginRange float64
	usageType  string
	unit       string
}

func queryPrices(ctx context.Context, api PricingAPI, region string, q *PriceListQuery) ([]candidate, error) {
	regionField := q.RegionField
	if regionField == "" {
		regionField = "regionCode"
	}
	filters := []types.Filter{{Field: aws.String(regionField), Type: types.FilterTypeTermMatch, Value: aws.String(region)}}
	for _, f := range q.Filters {
		filters = append(filters, types.Filter{Field: aws.String(f.Field), Type: types.FilterType(f.Type), Value: aws.String(f.Value)})
	}
	in := &pricing.GetProductsInput{
		ServiceCode:   aws.String(q.ServiceCode),
		Filters:       filters,
		FormatVersion: aws.String("aws_v1"),
		MaxResults:    aws.Int32(100),
	}
	var all []candidate
	pages := pricing.NewGetProductsPaginator(api, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for i, doc := range page.PriceList {
			cs, err := parsePriceDoc(doc, q.ExcludeUsageTypes)
			if err != nil {
				return nil, fmt.Errorf("price list entry %d: %w", i, err)
			}
			all = append(all, cs...)
		}
	}
	return selectTier(all, q), nil
}

// priceDoc is the part of a Price List product document (format aws_v1) read here.
type priceDoc struct {
	Product struct {
		Attributes map[string]string `json:"attributes"`
	} `json:"product"`
	Terms struct {
		OnDemand map[string]struct {
			PriceDimensions map[string]struct {
				Unit         string            `json:"unit"`
				BeginRange   string            `json:"beginRange"`
				PricePerUnit map[string]string `json:"pricePerUnit"`
			} `json:"priceDimensions"`
		} `json:"OnDemand"`
	} `json:"terms"`
}

func parsePriceDoc(doc string, exclude []string) ([]candidate, error) {
	var d priceDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, fmt.Errorf("parse product document: %w", err)
	}
	usage := d.Product.Attributes["usagetype"]
	for _, x := range exclude {
		if strings.Contains(usage, x) {
			return nil, nil
		}
	}
	var out []candidate
	for _, term := range d.Terms.OnDemand {
		for _, dim := range term.PriceDimensions {
			usd, ok := dim.PricePerUnit["USD"]
			if !ok {
				continue
			}
			v, err := strconv.ParseFloat(usd, 64)
			if err != nil {
				return nil, fmt.Errorf("price %q of %s is not a number", usd, usage)
			}
			begin := 0.0
			if dim.BeginRange != "" {
				if b, err := strconv.ParseFloat(dim.BeginRange, 64); err == nil {
					begin = b
				}
			}
			out = append(out, candidate{value: v, beginRange: begin, usageType: usage, unit: dim.Unit})
		}
	}
	return out, nil
}

// selectTier keeps the price that corresponds to the table's figure: the tier
// the query names, or else the first paid tier (free tiers are dropped when a
// paid one exists), converted to the table's unit.
func selectTier(cs []candidate, q *PriceListQuery) []candidate {
	if q.BeginRange != "" {
		want, err := strconv.ParseFloat(q.BeginRange, 64)
		if err != nil {
			return nil
		}
		cs = slices.DeleteFunc(slices.Clone(cs), func(c candidate) bool { return c.beginRange != want })
	} else {
		if slices.ContainsFunc(cs, func(c candidate) bool { return c.value > 0 }) {
			cs = slices.DeleteFunc(slices.Clone(cs), func(c candidate) bool { return c.value == 0 })
		}
		lowest := math.Inf(1)
		for _, c := range cs {
			lowest = math.Min(lowest, c.beginRange)
		}
		cs = slices.DeleteFunc(cs, func(c candidate) bool { return c.beginRange != lowest })
	}
	mult := q.Multiplier
	if mult == 0 {
		mult = 1
	}
	out := make([]candidate, len(cs))
	for i, c := range cs {
		c.value = roundPrice(c.value * mult)
		out[i] = c
	}
	return out
}

// judge sets an item's status from the candidates found.
func judge(it *LiveItem, cs []candidate) {
	var values []float64
	var usages []string
	for _, c := range cs {
		if !slices.Contains(values, c.value) {
			values = append(values, c.value)
		}
		if !slices.Contains(usages, c.usageType) {
			usages = append(usages, c.usageType)
		}
	}
	slices.Sort(values)
	slices.Sort(usages)
	if len(usages) > 0 {
		it.Detail = "usage type " + strings.Join(usages, ", ")
	}
	switch {
	case len(values) == 0:
		it.Status = LiveNotFound
		it.Detail = "no on-demand product matched the query"
	case len(values) > 1:
		it.Status = LiveAmbiguous
		it.Candidates = values
	default:
		v := values[0]
		it.Live = &v
		switch {
		case it.Table == nil:
			it.Status = LiveOnly
		case roundPrice(*it.Table) == v:
			it.Status = LiveSame
		default:
			it.Status = LiveDifferent
		}
	}
}

// roundPrice drops float noise below the Price List's ten decimals.
func roundPrice(x float64) float64 { return math.Round(x*1e10) / 1e10 }

// RenderLiveText writes the comparison as a table, differences first.
func RenderLiveText(w io.Writer, r *LiveReport) error {
	p := &printer{w: w}
	diffs := r.Differences()
	p.printf("Embedded price table against the AWS Price List API, region %s: %d of %d prices differ or could not be confirmed.\n\n",
		r.Region, len(diffs), len(r.Items))
	headers := []string{"ITEM", "TABLE", "LIVE", "STATUS"}
	rows := [][]string{headers}
	ordered := append(slices.Clone(diffs), r.sameOrLiveOnly()...)
	for _, it := range ordered {
		table, live := "-", "-"
		if it.Table != nil {
			table = unitPrice(*it.Table)
		}
		switch {
		case it.Live != nil:
			live = unitPrice(*it.Live)
		case len(it.Candidates) > 0:
			var s []string
			for _, c := range it.Candidates {
				s = append(s, unitPrice(c))
			}
			live = strings.Join(s, " or ")
		}
		rows = append(rows, []string{it.Key, table + " per " + it.Unit, live, it.Status})
	}
	widths := make([]int, 4)
	for _, row := range rows {
		for j, c := range row {
			widths[j] = max(widths[j], runeLen(c))
		}
	}
	for i, row := range rows {
		p.printf("%s  %s  %s  %s\n", pad(row[0], widths[0]), pad(row[1], widths[1]), pad(row[2], widths[2]), row[3])
		if i > 0 && ordered[i-1].Status != LiveSame && ordered[i-1].Detail != "" {
			p.wrapped("      ", ordered[i-1].Detail)
		}
	}
	return p.err
}

func (r *LiveReport) sameOrLiveOnly() []LiveItem {
	var out []LiveItem
	for _, it := range r.Items {
		if it.Status == LiveSame || it.Status == LiveOnly {
			out = append(out, it)
		}
	}
	return out
}

// LiveDoc is the JSON form of a LiveReport.
type LiveDoc struct {
	Schema string        `json:"schema"`
	Region string        `json:"region"`
	Items  []LiveItemDoc `json:"items"`
}

// LiveItemDoc is one item of a LiveDoc; table_price and live_price are null
// when absent.
type LiveItemDoc struct {
	Key        string    `json:"key"`
	Name       string    `json:"name"`
	Unit       string    `json:"unit"`
	TablePrice *float64  `json:"table_price"`
	LivePrice  *float64  `json:"live_price"`
	Candidates []float64 `json:"candidates,omitempty"`
	Status     string    `json:"status"`
	Detail     string    `json:"detail,omitempty"`
}

// WriteLiveJSON writes the report as a wbo-deploy.cost-live/v1 document.
func WriteLiveJSON(w io.Writer, r *LiveReport) error {
	d := LiveDoc{Schema: LiveSchema, Region: r.Region, Items: []LiveItemDoc{}}
	for _, it := range r.Items {
		d.Items = append(d.Items, LiveItemDoc{Key: it.Key, Name: it.Name, Unit: it.Unit, TablePrice: it.Table,
			LivePrice: it.Live, Candidates: it.Candidates, Status: it.Status, Detail: it.Detail})
	}
	return writeJSON(w, d)
}
