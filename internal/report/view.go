package report

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Headline is one big number with its change against the previous period.
type Headline struct {
	Metric string // the JSON path the number comes from (data-metric)
	Label  string
	Value  string
	Prev   string
	Change string // "+25%", "−10%", "new", "" when there is nothing to compare
	Up     bool   // the change is good news
	Down   bool
}

// View is what the dashboard page shows, computed here and rendered by
// internal/report/dashboard, which the functions counting the report's
// numbers do not link. Chart and OnTime are SVG markup built from numbers
// only: the page writes them as is.
type View struct {
	R         *Report
	Headlines []Headline
	Chart     string
	Exc       []excRow
	Carriers  []carrierRow
	Messages  []msgRow
	Recovery  []recRow
	OnTime    string
	Judged    int64
}

type excRow struct {
	Type string
	*ExceptionStats
	Rate float64 // openings per order of the period
}

type carrierRow struct {
	Name string
	*CarrierStats
	Total int64
	Rate  float64
}

type msgRow struct {
	Kind string
	*MessageStats
}

type recRow struct {
	Kind string
	*Recovery
}

// NewView is the dashboard of cur, compared with prev (the period before),
// with the daily orders chart from orders.
func NewView(cur, prev *Report, orders []Point) View {
	v := View{R: cur, Chart: barChart(orders), Judged: cur.Deliveries.OnTime + cur.Deliveries.Late}
	v.Headlines = []Headline{
		headline("orders.count", "Orders", float64(cur.Orders.Count), float64(prev.Orders.Count), fmt.Sprint(cur.Orders.Count), fmt.Sprint(prev.Orders.Count), true),
		headline("orders.revenue", "Revenue ("+cur.Orders.Currency+")", float64(cur.Orders.cents), float64(prev.Orders.cents), cur.Orders.Revenue, prev.Orders.Revenue, true),
		headline("customers.new", "New customers", float64(cur.Customers.New), float64(prev.Customers.New), fmt.Sprint(cur.Customers.New), fmt.Sprint(prev.Customers.New), true),
		headline("customers.returning", "Returning customers", float64(cur.Customers.Returning), float64(prev.Customers.Returning), fmt.Sprint(cur.Customers.Returning), fmt.Sprint(prev.Customers.Returning), true),
		headline("customers.repeat_purchase_rate", "Repeat purchase rate", cur.Customers.RepeatPurchaseRate, prev.Customers.RepeatPurchaseRate, pct(cur.Customers.RepeatPurchaseRate), pct(prev.Customers.RepeatPurchaseRate), true),
		rateHeadline("deliveries.on_time_rate", "On-time deliveries", cur.Deliveries.OnTimeRate, prev.Deliveries.OnTimeRate),
		headline("total.exceptions_opened", "Problems opened", float64(openedTotal(cur)), float64(openedTotal(prev)), fmt.Sprint(openedTotal(cur)), fmt.Sprint(openedTotal(prev)), false),
		headline("total.recovered_revenue", "Won back ("+cur.Orders.Currency+")", float64(cur.Recovery["win_back"].cents+cur.Recovery["lapse_note"].cents),
			float64(prev.Recovery["win_back"].cents+prev.Recovery["lapse_note"].cents),
			Money(cur.Recovery["win_back"].cents+cur.Recovery["lapse_note"].cents), Money(prev.Recovery["win_back"].cents+prev.Recovery["lapse_note"].cents), true),
	}
	for _, t := range ExceptionTypes {
		e := cur.Exceptions[string(t)]
		row := excRow{Type: string(t), ExceptionStats: e}
		if cur.Orders.Count > 0 {
			row.Rate = float64(e.Opened) / float64(cur.Orders.Count)
		}
		v.Exc = append(v.Exc, row)
	}
	for name, c := range cur.Carriers {
		row := carrierRow{Name: name, CarrierStats: c}
		for _, n := range c.Exceptions {
			row.Total += n
		}
		if c.Parcels > 0 {
			row.Rate = float64(row.Total) / float64(c.Parcels)
		}
		v.Carriers = append(v.Carriers, row)
	}
	sort.Slice(v.Carriers, func(i, j int) bool { return v.Carriers[i].Name < v.Carriers[j].Name })
	for kind, m := range cur.Messages {
		v.Messages = append(v.Messages, msgRow{Kind: kind, MessageStats: m})
	}
	sort.Slice(v.Messages, func(i, j int) bool { return v.Messages[i].Kind < v.Messages[j].Kind })
	for _, k := range RecoveryKinds {
		v.Recovery = append(v.Recovery, recRow{Kind: string(k), Recovery: cur.Recovery[string(k)]})
	}
	v.OnTime = onTimeBar(cur.Deliveries.OnTime, cur.Deliveries.Late)
	return v
}

// Pct is a rate as the page shows it ("12.5%").
func Pct(f float64) string { return pct(f) }

// Label is a snake_case name as the page shows it ("Weather delay").
func Label(s string) string { return label(s) }

func openedTotal(r *Report) int64 {
	var n int64
	for _, e := range r.Exceptions {
		n += e.Opened
	}
	return n
}

func headline(metric, lbl string, cur, prev float64, curS, prevS string, upIsGood bool) Headline {
	h := Headline{Metric: metric, Label: lbl, Value: curS, Prev: prevS}
	switch {
	case prev == 0 && cur == 0:
		h.Change = "±0"
	case prev == 0:
		h.Change = "new"
	default:
		ch := (cur - prev) / math.Abs(prev) * 100
		switch {
		case math.Abs(ch) < 0.5:
			h.Change = "±0%"
		case ch > 0:
			h.Change = fmt.Sprintf("+%.0f%%", ch)
		default:
			h.Change = fmt.Sprintf("−%.0f%%", -ch)
		}
		good := ch > 0 == upIsGood
		h.Up, h.Down = good && math.Abs(ch) >= 0.5, !good && math.Abs(ch) >= 0.5
	}
	return h
}

func rateHeadline(metric, lbl string, cur, prev *float64) Headline {
	if cur == nil {
		return Headline{Metric: metric, Label: lbl, Value: "–", Prev: ratePrev(prev)}
	}
	if prev == nil {
		h := headline(metric, lbl, *cur, 0, pct(*cur), "–", true)
		h.Change = "new"
		return h
	}
	return headline(metric, lbl, *cur, *prev, pct(*cur), pct(*prev), true)
}

func ratePrev(p *float64) string {
	if p == nil {
		return "–"
	}
	return pct(*p)
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }

func label(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// barChart draws orders per day as an inline SVG that scales to its box.
func barChart(pts []Point) string {
	const w, h = 600.0, 160.0
	var top int64 = 1
	for _, p := range pts {
		top = max(top, p.Value)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="Orders per day" preserveAspectRatio="none">`, w, h+1)
	bw := w / float64(max(len(pts), 1))
	for i, p := range pts {
		bh := float64(p.Value) / float64(top) * (h - 4)
		fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" rx="1.5" data-day="%s" data-value="%d"><title>%s: %d</title></rect>`,
			float64(i)*bw+bw*0.15, h-bh, bw*0.7, math.Max(bh, 0), p.Day, p.Value, p.Day, p.Value)
	}
	fmt.Fprintf(&b, `<line x1="0" y1="%.0f" x2="%.0f" y2="%.0f" class="axis"/>`, h, w, h)
	b.WriteString(`</svg>`)
	// Labels are HTML, not SVG text, so they keep their shape when the chart stretches.
	if len(pts) > 0 {
		fmt.Fprintf(&b, `<div class="ticks"><span>%s</span><span>most in a day: %d</span><span>%s</span></div>`, pts[0].Day, top, pts[len(pts)-1].Day)
	}
	return b.String()
}

// onTimeBar is a stacked bar of on-time and late deliveries.
func onTimeBar(onTime, late int64) string {
	total := onTime + late
	if total == 0 {
		return `<svg class="stack" viewBox="0 0 300 14" role="img" aria-label="No deliveries judged"><rect width="300" height="14" rx="7" class="empty"/></svg>`
	}
	ow := 300 * float64(onTime) / float64(total)
	return fmt.Sprintf(`<svg class="stack" viewBox="0 0 300 14" role="img" aria-label="%d on time, %d late">`+
		`<rect width="300" height="14" rx="7" class="late"/><rect width="%.2f" height="14" rx="7" class="ok"/></svg>`, onTime, late, ow)
}
