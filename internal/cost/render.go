package cost

import (
	"fmt"
	"io"
	"strings"
)

// wrapWidth is where detail and note text is wrapped.
const wrapWidth = 100

// Summary is the one-line estimate `plan` and `up` print.
func Summary(e *Estimate) string {
	tail := fmt.Sprintf("(%s, on-demand, no free tier assumed; run `wbo-deploy cost` for details)", e.Region)
	if e.Partial {
		tail = fmt.Sprintf("(%s, on-demand, no free tier assumed; partial: %d %s without a price in the table, run `wbo-deploy cost` for which)",
			e.Region, len(e.Missing), plural(len(e.Missing), "item", "items"))
		return fmt.Sprintf("Estimated cost: partial, at least %s/month %s", money(e.Total), tail)
	}
	if r := e.Autoscaling; r != nil {
		return fmt.Sprintf("Estimated cost: %s/month, %s–%s/month across %d–%d tasks %s",
			money(e.Total), money(r.MinTotal), money(r.MaxTotal), r.MinTasks, r.MaxTasks, tail)
	}
	return fmt.Sprintf("Estimated cost: %s/month %s", money(e.Total), tail)
}

// RenderText writes the estimate as a table with the arithmetic of each line,
// then the assumptions, notes, free-tier note and the provenance of each price.
func RenderText(w io.Writer, e *Estimate) error {
	p := &printer{w: w}
	p.printf("Monthly cost estimate for stack %q in %s (%s)\n", e.Stack, e.Region, e.RegionName)
	p.printf("On-demand prices in %s; a month is %s hours; price table compiled %s; no free tier assumed.\n\n",
		e.Currency, num(e.HoursPerMonth), e.PriceTableDate)
	renderLines(p, e.Lines, e.Total)
	if e.Partial {
		p.printf("The total is partial (a lower bound): the table has no price for %d %s of this region.\n",
			len(e.Missing), plural(len(e.Missing), "item", "items"))
	}
	if r := e.Autoscaling; r != nil {
		p.printf("Autoscaling range: %s at %d %s, %s at %d %s.\n", money(r.MinTotal), r.MinTasks, plural(r.MinTasks, "task", "tasks"),
			money(r.MaxTotal), r.MaxTasks, plural(r.MaxTasks, "task", "tasks"))
	}
	p.section("Assumptions")
	for _, a := range e.Assumptions {
		p.bullet(fmt.Sprintf("%s: %s [%s]", a.Key, a.Value, a.Source))
	}
	p.section("Notes")
	for _, n := range e.Notes {
		p.bullet(n)
	}
	p.section("Free tier (not applied)")
	for _, n := range e.FreeTier {
		p.bullet(n)
	}
	p.section("Prices used (date recorded, how known, source)")
	seen := map[string]bool{}
	for _, l := range e.Lines {
		if seen[l.PriceKey] || l.Missing != "" {
			continue
		}
		seen[l.PriceKey] = true
		p.printf("  %-34s %s per %s  %s  %s  %s\n", l.PriceKey, unitPrice(l.UnitPrice), l.PriceUnit, l.Date, l.Confidence, l.Source)
	}
	if e.Partial {
		p.section("Missing prices")
		for _, m := range e.Missing {
			p.bullet(m)
		}
	}
	return p.err
}

func renderLines(p *printer, lines []Line, total float64) {
	headers := []string{"ITEM", "QUANTITY", "UNIT PRICE", "MONTHLY"}
	rows := make([][]string, len(lines))
	widths := []int{len(headers[0]), len(headers[1]), len(headers[2]), len(headers[3])}
	partial := false
	for i, l := range lines {
		rows[i] = []string{l.Item, num4(l.Quantity) + " " + l.Unit, unitPrice(l.UnitPrice) + " per " + l.PriceUnit, money(l.Monthly)}
		if l.Missing != "" {
			partial = true
			rows[i][2], rows[i][3] = "no price", "?"
		}
		for j, c := range rows[i] {
			widths[j] = max(widths[j], runeLen(c))
		}
	}
	widths[3] = max(widths[3], runeLen(money(total)))
	row := func(c []string) {
		p.printf("%s  %s  %s  %s\n", pad(c[0], widths[0]), pad(c[1], widths[1]), pad(c[2], widths[2]), padLeft(c[3], widths[3]))
	}
	row(headers)
	for i, l := range lines {
		row(rows[i])
		if l.Detail != "" {
			p.wrapped("      ", l.Detail)
		}
		if l.Missing != "" {
			p.wrapped("      ", l.Missing)
		}
	}
	if partial {
		row([]string{"TOTAL (partial)", "", "", "≥ " + money(total)})
		return
	}
	row([]string{"TOTAL", "", "", money(total)})
}

// RenderCompareText writes the variants as one table of totals, then for each
// alternative the lines that differ from the configuration and its notes.
func RenderCompareText(w io.Writer, variants []Variant) error {
	p := &printer{w: w}
	if len(variants) == 0 {
		return nil
	}
	base := variants[0].Estimate
	p.printf("Monthly cost of alternatives for stack %q in %s (%s)\n", base.Stack, base.Region, base.RegionName)
	p.printf("On-demand prices in %s; a month is %s hours; price table compiled %s; no free tier assumed.\n\n",
		base.Currency, num(base.HoursPerMonth), base.PriceTableDate)
	headers := []string{"VARIANT", "CHANGE", "MONTHLY", "DIFFERENCE"}
	widths := []int{len(headers[0]), len(headers[1]), len(headers[2]), len(headers[3])}
	rows := make([][]string, len(variants))
	for i, v := range variants {
		monthly, diff := "n/a", "n/a"
		if v.Estimate != nil {
			monthly = money(v.Estimate.Total)
			diff = signedMoney(v.Delta)
		}
		if v.Baseline {
			diff = "-"
		}
		rows[i] = []string{v.Name, v.Change, monthly, diff}
		for j, c := range rows[i] {
			widths[j] = max(widths[j], runeLen(c))
		}
	}
	row := func(c []string) {
		p.printf("%s  %s  %s  %s\n", pad(c[0], widths[0]), pad(c[1], widths[1]), padLeft(c[2], widths[2]), padLeft(c[3], widths[3]))
	}
	row(headers)
	for _, r := range rows {
		row(r)
	}
	for _, v := range variants[1:] {
		p.printf("\n%s (%s)\n", v.Name, v.Change)
		if v.Estimate == nil {
			p.wrapped("  ", "not priced: "+v.Unavailable)
			continue
		}
		for _, d := range lineDiffs(base, v.Estimate) {
			p.printf("  %s\n", d)
			if d.detail != "" {
				p.wrapped("      ", d.detail)
			}
		}
		if r := v.Estimate.Autoscaling; r != nil {
			p.wrapped("  ", fmt.Sprintf("autoscaling range: %s at %d %s, %s at %d %s", money(r.MinTotal), r.MinTasks, plural(r.MinTasks, "task", "tasks"),
				money(r.MaxTotal), r.MaxTasks, plural(r.MaxTasks, "task", "tasks")))
		}
		for _, n := range v.Notes {
			p.wrapped("  - ", n)
		}
	}
	return p.err
}

// lineDiff is one line whose amount differs between two estimates.
type lineDiff struct {
	item     string
	from, to string
	detail   string // the new line's arithmetic, for added lines
}

func (d lineDiff) String() string {
	return fmt.Sprintf("%s: %s → %s", d.item, d.from, d.to)
}

func lineDiffs(base, v *Estimate) []lineDiff {
	var out []lineDiff
	inV := map[string]Line{}
	for _, l := range v.Lines {
		inV[l.Key] = l
	}
	inBase := map[string]bool{}
	for _, l := range base.Lines {
		inBase[l.Key] = true
		nl, ok := inV[l.Key]
		switch {
		case !ok:
			out = append(out, lineDiff{item: l.Item, from: money(l.Monthly), to: "removed"})
		case nl.Monthly != l.Monthly || nl.Item != l.Item:
			item := l.Item
			if nl.Item != l.Item {
				item = l.Item + " → " + nl.Item
			}
			out = append(out, lineDiff{item: item, from: money(l.Monthly), to: money(nl.Monthly)})
		}
	}
	for _, l := range v.Lines {
		if !inBase[l.Key] {
			out = append(out, lineDiff{item: l.Item, from: "none", to: money(l.Monthly), detail: l.Detail})
		}
	}
	return out
}

func signedMoney(x float64) string {
	if x > 0 {
		return "+" + money(x)
	}
	if x == 0 {
		return "$0.00"
	}
	return money(x)
}

// printer writes and remembers the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err != nil {
		return
	}
	_, p.err = fmt.Fprintf(p.w, format, args...)
}

func (p *printer) section(title string) {
	p.printf("\n%s\n", title)
}

func (p *printer) bullet(text string) {
	p.wrapped("  - ", text)
}

// wrapped writes text word-wrapped at wrapWidth, the first line after prefix,
// the others indented to match it.
func (p *printer) wrapped(prefix, text string) {
	indent := strings.Repeat(" ", runeLen(prefix))
	line := prefix
	empty := true
	for _, word := range strings.Fields(text) {
		if !empty && runeLen(line)+1+runeLen(word) > wrapWidth {
			p.printf("%s\n", line)
			line, empty = indent, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	if !empty {
		p.printf("%s\n", line)
	}
}

func runeLen(s string) int { return len([]rune(s)) }

func pad(s string, n int) string {
	if d := n - runeLen(s); d > 0 {
		return s + strings.Repeat(" ", d)
	}
	return s
}

func padLeft(s string, n int) string {
	if d := n - runeLen(s); d > 0 {
		return strings.Repeat(" ", d) + s
	}
	return s
}
