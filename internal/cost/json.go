package cost

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
)

// Schemas of the JSON documents (`-o json`). docs/cost.md describes them; a
// change that removes or renames a field needs a new version.
const (
	Schema        = "wbo-deploy.cost/v1"
	CompareSchema = "wbo-deploy.cost-compare/v1"
	LiveSchema    = "wbo-deploy.cost-live/v1"
)

// EstimateDoc is the JSON form of an Estimate.
type EstimateDoc struct {
	Schema          string  `json:"schema"`
	Stack           string  `json:"stack"`
	Region          string  `json:"region"`
	RegionName      string  `json:"region_name"`
	Currency        string  `json:"currency"`
	Pricing         string  `json:"pricing"`
	FreeTierAssumed bool    `json:"free_tier_assumed"`
	HoursPerMonth   float64 `json:"hours_per_month"`
	PriceTableDate  string  `json:"price_table_date"`
	TotalMonthly    float64 `json:"total_monthly"`
	// Partial: some lines have no price (their "missing" says which), so
	// total_monthly is a lower bound. Added in v1 (an added field only).
	Partial       bool            `json:"partial"`
	MissingPrices []string        `json:"missing_prices,omitempty"`
	Autoscaling   *AutoscalingDoc `json:"autoscaling,omitempty"`
	Lines         []LineDoc       `json:"lines"`
	Assumptions   []AssumptionDoc `json:"assumptions"`
	Notes         []string        `json:"notes"`
	FreeTier      []string        `json:"free_tier"`
}

// AutoscalingDoc is the total at both ends of the autoscaling range (shared mode).
type AutoscalingDoc struct {
	MinTasks        int     `json:"min_tasks"`
	MaxTasks        int     `json:"max_tasks"`
	MinTotalMonthly float64 `json:"min_total_monthly"`
	MaxTotalMonthly float64 `json:"max_total_monthly"`
}

// LineDoc is one line item.
type LineDoc struct {
	Key       string   `json:"key"`
	Item      string   `json:"item"`
	Quantity  float64  `json:"quantity"`
	Unit      string   `json:"unit"`
	UnitPrice float64  `json:"unit_price"`
	PriceUnit string   `json:"price_unit"`
	Monthly   float64  `json:"monthly"`
	Detail    string   `json:"detail"`
	Price     PriceRef `json:"price"`
	Missing   string   `json:"missing,omitempty"` // set when the table has no price for the line
}

// PriceRef is the provenance of a line's unit price.
type PriceRef struct {
	Key        string `json:"key"`
	Date       string `json:"date"`
	Source     string `json:"source"`
	Confidence string `json:"confidence"`
}

// AssumptionDoc is one stated input.
type AssumptionDoc struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

// CompareDoc is the JSON form of Compare's result.
type CompareDoc struct {
	Schema         string       `json:"schema"`
	Stack          string       `json:"stack"`
	Region         string       `json:"region"`
	Currency       string       `json:"currency"`
	PriceTableDate string       `json:"price_table_date"`
	Variants       []VariantDoc `json:"variants"`
}

// VariantDoc is one priced alternative. TotalMonthly and DifferenceMonthly
// are null when the variant could not be priced (see Unavailable).
type VariantDoc struct {
	Name              string       `json:"name"`
	Change            string       `json:"change"`
	Baseline          bool         `json:"baseline"`
	TotalMonthly      *float64     `json:"total_monthly"`
	DifferenceMonthly *float64     `json:"difference_monthly"`
	Unavailable       string       `json:"unavailable,omitempty"`
	Notes             []string     `json:"notes"`
	Estimate          *EstimateDoc `json:"estimate,omitempty"`
}

// NewEstimateDoc converts an Estimate to its JSON document.
func NewEstimateDoc(e *Estimate) *EstimateDoc {
	d := &EstimateDoc{
		Schema:         Schema,
		Stack:          e.Stack,
		Region:         e.Region,
		RegionName:     e.RegionName,
		Currency:       e.Currency,
		Pricing:        "on-demand",
		HoursPerMonth:  e.HoursPerMonth,
		PriceTableDate: e.PriceTableDate,
		TotalMonthly:   e.Total,
		Partial:        e.Partial,
		MissingPrices:  e.Missing,
		Lines:          []LineDoc{},
		Assumptions:    []AssumptionDoc{},
		Notes:          nonNil(e.Notes),
		FreeTier:       nonNil(e.FreeTier),
	}
	if r := e.Autoscaling; r != nil {
		d.Autoscaling = &AutoscalingDoc{MinTasks: r.MinTasks, MaxTasks: r.MaxTasks, MinTotalMonthly: r.MinTotal, MaxTotalMonthly: r.MaxTotal}
	}
	for _, l := range e.Lines {
		d.Lines = append(d.Lines, LineDoc{
			Key: l.Key, Item: l.Item, Quantity: round6(l.Quantity), Unit: l.Unit,
			UnitPrice: l.UnitPrice, PriceUnit: l.PriceUnit, Monthly: l.Monthly, Detail: l.Detail,
			Price:   PriceRef{Key: l.PriceKey, Date: l.Date, Source: l.Source, Confidence: l.Confidence},
			Missing: l.Missing,
		})
	}
	for _, a := range e.Assumptions {
		d.Assumptions = append(d.Assumptions, AssumptionDoc(a))
	}
	return d
}

// NewCompareDoc converts Compare's result to its JSON document.
func NewCompareDoc(variants []Variant) (*CompareDoc, error) {
	if len(variants) == 0 || variants[0].Estimate == nil {
		return nil, fmt.Errorf("compare document needs the configured estimate first")
	}
	base := variants[0].Estimate
	d := &CompareDoc{Schema: CompareSchema, Stack: base.Stack, Region: base.Region, Currency: base.Currency,
		PriceTableDate: base.PriceTableDate, Variants: []VariantDoc{}}
	for _, v := range variants {
		vd := VariantDoc{Name: v.Name, Change: v.Change, Baseline: v.Baseline, Unavailable: v.Unavailable, Notes: nonNil(v.Notes)}
		if v.Estimate != nil {
			total, delta := v.Estimate.Total, v.Delta
			vd.TotalMonthly, vd.DifferenceMonthly = &total, &delta
			vd.Estimate = NewEstimateDoc(v.Estimate)
		}
		d.Variants = append(d.Variants, vd)
	}
	return d, nil
}

// WriteJSON writes the estimate as an indented wbo-deploy.cost/v1 document.
func WriteJSON(w io.Writer, e *Estimate) error {
	return writeJSON(w, NewEstimateDoc(e))
}

// WriteCompareJSON writes Compare's result as a wbo-deploy.cost-compare/v1 document.
func WriteCompareJSON(w io.Writer, variants []Variant) error {
	d, err := NewCompareDoc(variants)
	if err != nil {
		return err
	}
	return writeJSON(w, d)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write cost JSON: %w", err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
