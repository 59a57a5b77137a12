package cost

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// TableSchema is the schema of prices.json.
const TableSchema = "wbo-deploy.prices/v1"

//go:embed prices.json
var embeddedPrices []byte

// Confidence says how a figure of the price table is known.
const (
	// ConfidenceReference: stated in shared/reference/pricing.md.
	ConfidenceReference = "reference"
	// ConfidenceCorroborated: matches Price List or billing data found in public material (named in the note).
	ConfidenceCorroborated = "corroborated"
	// ConfidenceDerived: computed from another figure by the rule in the note.
	ConfidenceDerived = "derived"
	// ConfidenceRecalled: from the AWS pricing page as remembered, not confirmed.
	ConfidenceRecalled = "recalled"
)

var confidences = []string{ConfidenceReference, ConfidenceCorroborated, ConfidenceDerived, ConfidenceRecalled}

// PriceTable is the embedded price table: what each priced item is, and its
// price in each region the table knows.
type PriceTable struct {
	Schema        string                  `json:"schema"`
	Currency      string                  `json:"currency"`
	HoursPerMonth float64                 `json:"hours_per_month"`
	Compiled      string                  `json:"compiled"` // date the table was last compiled
	About         string                  `json:"about"`
	Items         map[string]ItemSpec     `json:"items"`
	Regions       map[string]RegionPrices `json:"regions"`
}

// ItemSpec describes one priced item: its name, its unit and how to find it in
// the AWS Price List API.
type ItemSpec struct {
	Name      string          `json:"name"`
	Unit      string          `json:"unit"`
	PriceList *PriceListQuery `json:"price_list,omitempty"`
}

// PriceListQuery is how --live-prices finds an item with GetProducts.
type PriceListQuery struct {
	ServiceCode string        `json:"service_code"`
	RegionField string        `json:"region_field,omitempty"` // attribute holding the region code; default regionCode
	Filters     []QueryFilter `json:"filters"`
	// ExcludeUsageTypes drops products whose usagetype contains any of these
	// (ElastiCache lists Extended Support surcharges under the same node type).
	ExcludeUsageTypes []string `json:"exclude_usagetype_containing,omitempty"`
	// BeginRange selects one tier of a tiered price; empty picks the first paid tier.
	BeginRange string `json:"begin_range,omitempty"`
	// Multiplier converts the Price List unit to the table's unit (1000 for "1,000 requests").
	Multiplier float64 `json:"multiplier,omitempty"`
}

// QueryFilter is one pricing.types.Filter.
type QueryFilter struct {
	Field string `json:"field"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

// RegionPrices are the prices of one region.
type RegionPrices struct {
	Name   string           `json:"name"`
	Prices map[string]Price `json:"prices"`
}

// Price is one figure with its provenance.
type Price struct {
	Value      float64 `json:"value"`
	Date       string  `json:"date"`   // YYYY-MM-DD the figure was recorded
	Source     string  `json:"source"` // the AWS page that publishes it
	Confidence string  `json:"confidence"`
	Note       string  `json:"note,omitempty"`
}

// LoadTable parses the price table embedded in the binary (prices.json).
func LoadTable() (*PriceTable, error) {
	t, err := ParseTable(embeddedPrices)
	if err != nil {
		return nil, fmt.Errorf("embedded price table: %w", err)
	}
	return t, nil
}

// ParseTable parses and checks a price table: every figure must have a value,
// a date, an https source and a confidence, and belong to a known item.
func ParseTable(data []byte) (*PriceTable, error) {
	var t PriceTable
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("parse price table: %w", err)
	}
	if err := t.validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

func (t *PriceTable) validate() error {
	if t.Schema != TableSchema {
		return fmt.Errorf("price table schema is %q, want %q", t.Schema, TableSchema)
	}
	if t.Currency == "" {
		return fmt.Errorf("price table: currency is missing")
	}
	if t.HoursPerMonth <= 0 {
		return fmt.Errorf("price table: hours_per_month must be positive, got %v", t.HoursPerMonth)
	}
	if _, err := time.Parse(time.DateOnly, t.Compiled); err != nil {
		return fmt.Errorf("price table: compiled %q is not a YYYY-MM-DD date", t.Compiled)
	}
	for key, it := range t.Items {
		if it.Name == "" || it.Unit == "" {
			return fmt.Errorf("price table: items.%s: name and unit are required", key)
		}
		if q := it.PriceList; q != nil {
			if q.ServiceCode == "" || len(q.Filters) == 0 {
				return fmt.Errorf("price table: items.%s.price_list: service_code and filters are required", key)
			}
			if q.Multiplier < 0 {
				return fmt.Errorf("price table: items.%s.price_list.multiplier must not be negative", key)
			}
		}
	}
	if len(t.Regions) == 0 {
		return fmt.Errorf("price table: no regions")
	}
	for region, rp := range t.Regions {
		if _, ok := LookupRegion(region); !ok {
			return fmt.Errorf("price table: regions.%s is not a commercial region where the stack runs (cost.Regions)", region)
		}
		if rp.Name == "" {
			return fmt.Errorf("price table: regions.%s.name is missing", region)
		}
		for key, p := range rp.Prices {
			field := fmt.Sprintf("regions.%s.prices.%s", region, key)
			if _, ok := t.Items[key]; !ok {
				return fmt.Errorf("price table: %s: no such item in items", field)
			}
			if err := p.check(); err != nil {
				return fmt.Errorf("price table: %s: %w", field, err)
			}
		}
	}
	return nil
}

func (p Price) check() error {
	if p.Value < 0 {
		return fmt.Errorf("value %v is negative", p.Value)
	}
	if _, err := time.Parse(time.DateOnly, p.Date); err != nil {
		return fmt.Errorf("date %q is not a YYYY-MM-DD date", p.Date)
	}
	u, err := url.Parse(p.Source)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("source %q is not an https URL", p.Source)
	}
	if !slices.Contains(confidences, p.Confidence) {
		return fmt.Errorf("confidence %q is not one of %s", p.Confidence, strings.Join(confidences, ", "))
	}
	if p.Confidence != ConfidenceReference && p.Note == "" {
		return fmt.Errorf("a %s figure needs a note saying how it is known", p.Confidence)
	}
	return nil
}

// RegionCodes lists the regions the table has prices for, sorted.
func (t *PriceTable) RegionCodes() []string {
	out := make([]string, 0, len(t.Regions))
	for r := range t.Regions {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// Price returns the price of item key in region, or a typed error: a
// region the stack cannot run in gives *UnknownRegionError, a commercial
// region of Regions without that figure *MissingPriceError.
func (t *PriceTable) Price(region, key string) (Price, error) {
	if _, ok := LookupRegion(region); !ok {
		return Price{}, &UnknownRegionError{Region: region, Known: RegionList()}
	}
	p, ok := t.Regions[region].Prices[key]
	if !ok {
		return Price{}, &MissingPriceError{Region: region, Item: key, Name: t.itemName(key)}
	}
	return p, nil
}

// RegionName is the region's name, from the table or else from Regions.
func (t *PriceTable) RegionName(region string) string {
	if rp, ok := t.Regions[region]; ok {
		return rp.Name
	}
	r, _ := LookupRegion(region)
	return r.Name
}

func (t *PriceTable) itemName(key string) string {
	if it, ok := t.Items[key]; ok {
		return it.Name
	}
	return key
}

// UnknownRegionError: the region is not a commercial region where the stack
// runs (Regions). A region of Regions without figures is priced partially
// instead. The estimate never guesses a region's prices from another's.
type UnknownRegionError struct {
	Region string
	Known  []string
}

func (e *UnknownRegionError) Error() string {
	if e.Region == "" {
		return fmt.Sprintf("no region is configured: the cost estimate needs one of the commercial regions where the stack runs (%s)",
			strings.Join(e.Known, ", "))
	}
	return fmt.Sprintf("region %q is not a commercial AWS region where every service of the stack exists, so it has no prices; "+
		"the known regions are %s", e.Region, strings.Join(e.Known, ", "))
}

// MissingPriceError: the region is one of Regions but the table has no price
// for an item the configuration needs (for example an ElastiCache node type
// the table lacks). The estimate shows it as an unpriced line and marks its
// total partial; it is an error only where a figure is strictly needed.
type MissingPriceError struct {
	Region string
	Item   string // price table key
	Name   string // the item's name (items.*.name), or the key
	Field  string // configuration field that asked for it, when there is one
	Value  string // its value
	Known  []string
}

func (e *MissingPriceError) Error() string {
	name := e.Name
	if name == "" {
		name = e.Item
	}
	msg := fmt.Sprintf("no price for %s in %s in the table: check with --live-prices", name, e.Region)
	if e.Field != "" {
		msg = fmt.Sprintf("no price for %s (%s %q) in %s in the table: check with --live-prices", name, e.Field, e.Value, e.Region)
	}
	if len(e.Known) > 0 {
		msg += " (priced there: " + strings.Join(e.Known, ", ") + ")"
	}
	return msg
}
