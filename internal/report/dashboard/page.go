// Package dashboard renders the merchant's report page from the view
// internal/report computes. It writes the markup in plain Go rather than with
// html/template: text/template's reflection (reflect.Value.MethodByName)
// makes the linker keep every exported method of every reachable type, which
// doubled the size of the function that serves the page.
package dashboard

import (
	"fmt"
	"html"
	"strings"

	"github.com/aftercare/aftercare/internal/report"
)

// Page renders the dashboard of cur, compared with prev (the period before),
// with the daily orders chart from orders.
func Page(cur, prev *report.Report, orders []report.Point) ([]byte, error) {
	v := report.NewView(cur, prev, orders)
	r := v.R
	var w writer
	w.raw(top)
	w.f("<title>aftercare report · %s · %s to %s</title>\n", r.Shop, r.From, r.To)
	w.raw(style)
	w.f(`<h1>Aftercare report<small data-metric="shop">%s</small></h1>`+"\n", r.Shop)
	w.f(`<div class="period"><span data-metric="from">%s</span> to <span data-metric="to">%s</span> · compared with the period before</div>`+"\n", r.From, r.To)
	w.raw("</header>\n\n")

	w.raw(`<section class="cards" aria-label="Headline numbers">` + "\n")
	for _, h := range v.Headlines {
		w.f(`<div class="card">`+"\n"+`<div class="k">%s</div>`+"\n", h.Label)
		w.f(`<div class="v" data-metric="%s">%s</div>`+"\n", h.Metric, h.Value)
		w.f(`<div class="chg"><b class="%s">%s</b> · before %s</div>`+"\n</div>\n", trend(h), h.Change, h.Prev)
	}
	w.raw("</section>\n\n")

	w.raw(`<section class="panels">` + "\n" + `<div class="panel wide">` + "\n<h2>Orders per day</h2>\n")
	w.f(`<p class="sub"><span data-metric="orders.count">%d</span> orders, <span data-metric="orders.revenue">%s</span> <span data-metric="orders.currency">%s</span> (test and cancelled orders excluded, net of refunds)</p>`+"\n",
		r.Orders.Count, r.Orders.Revenue, r.Orders.Currency)
	w.f("%s\n</div>\n\n", markup(v.Chart))

	w.raw(`<div class="panel" id="support">` + "\n<h2>Support</h2>\n" +
		`<p class="sub">What went wrong after the sale, and how fast it was put right.</p>` + "\n" + `<div class="kv">` + "\n")
	w.f(`<div><span>On time</span><strong data-metric="deliveries.on_time_rate">%s</strong></div>`+"\n", pctOrDash(r.Deliveries.OnTimeRate))
	w.f(`<div><span>Delivered</span><strong data-metric="deliveries.count">%d</strong></div>`+"\n", r.Deliveries.Count)
	w.f(`<div><span>Median days to deliver</span><strong data-metric="deliveries.median_days_to_deliver">%s</strong></div>`+"\n</div>\n", orDash(r.Deliveries.MedianDaysToDeliver))
	w.f("%s\n", markup(v.OnTime))
	w.f(`<div class="legend"><i style="background:var(--ok)"></i>on time <span data-metric="deliveries.on_time">%d</span><i style="background:var(--bad)"></i>late <span data-metric="deliveries.late">%d</span> (against the carrier's first estimate)</div>`+"\n",
		r.Deliveries.OnTime, r.Deliveries.Late)
	w.raw(`<h2 style="margin-top:16px">Problems by type</h2>` + "\n" + `<div class="scroll"><table>` + "\n" +
		"<thead><tr><th>Type</th><th>Opened (per order)</th><th>Resolved</th><th>Open</th><th>Median hours to resolve</th></tr></thead>\n<tbody>\n")
	for _, e := range v.Exc {
		w.f(`<tr><td>%s</td><td><span data-metric="exceptions.%s.opened">%d</span> <small class="rate">%s</small></td>`,
			report.Label(e.Type), e.Type, e.Opened, report.Pct(e.Rate))
		w.f(`<td data-metric="exceptions.%s.resolved">%d</td><td data-metric="exceptions.%s.open">%d</td><td data-metric="exceptions.%s.median_hours_to_resolve">%s</td></tr>`+"\n",
			e.Type, e.Resolved, e.Type, e.Open, e.Type, orDash(e.MedianHoursToResolve))
	}
	w.raw("</tbody></table></div>\n<h2>By carrier</h2>\n" + `<div class="scroll"><table>` + "\n" +
		"<thead><tr><th>Carrier</th><th>Parcels</th><th>Problems</th><th>Rate</th></tr></thead>\n<tbody>\n")
	for _, c := range v.Carriers {
		w.f(`<tr><td>%s</td><td data-metric="carriers.%s.parcels">%d</td><td>%d</td><td>%s</td></tr>`+"\n", c.Name, c.Name, c.Parcels, c.Total, report.Pct(c.Rate))
	}
	if len(v.Carriers) == 0 {
		w.raw(`<tr><td colspan="4">No parcels shipped in this period.</td></tr>` + "\n")
	}
	w.raw("</tbody></table></div>\n</div>\n\n")

	w.raw(`<div class="panel" id="success">` + "\n<h2>Success</h2>\n" +
		`<p class="sub">Customers who came back, and what brought them.</p>` + "\n" + `<div class="kv">` + "\n")
	w.f(`<div><span>Repeat rate</span><strong data-metric="customers.repeat_purchase_rate">%s</strong></div>`+"\n", report.Pct(r.Customers.RepeatPurchaseRate))
	w.f(`<div><span>Days to 2nd order</span><strong data-metric="customers.median_days_to_second_order">%s</strong></div>`+"\n", orDash(r.Customers.MedianDaysToSecondOrder))
	w.f(`<div><span>Unsubscribes</span><strong data-metric="unsubscribes">%d</strong></div>`+"\n</div>\n", r.Unsubscribes)
	w.raw("<h2>Recoveries (ordered within 30 days)</h2>\n" + `<div class="scroll"><table>` + "\n" +
		"<thead><tr><th>Message</th><th>Sent</th><th>Recovered</th><th>Revenue</th></tr></thead>\n<tbody>\n")
	for _, k := range v.Recovery {
		w.f(`<tr><td>%s</td><td data-metric="recovery.%s.sent">%d</td><td data-metric="recovery.%s.recovered">%d</td><td data-metric="recovery.%s.revenue">%s</td></tr>`+"\n",
			report.Label(k.Kind), k.Kind, k.Sent, k.Kind, k.Recovered, k.Kind, k.Revenue)
	}
	w.raw("</tbody></table></div>\n<h2>Messages</h2>\n" + `<div class="scroll"><table>` + "\n" +
		"<thead><tr><th>Kind</th><th>Sent</th><th>Held</th><th>Stale</th><th>Suppressed</th><th>Failed</th></tr></thead>\n<tbody>\n")
	for _, m := range v.Messages {
		w.f(`<tr><td>%s</td><td data-metric="messages.%s.sent">%d</td><td data-metric="messages.%s.held">%d</td><td data-metric="messages.%s.stale">%d</td>`,
			report.Label(m.Kind), m.Kind, m.Sent, m.Kind, m.Held, m.Kind, m.Stale)
		w.f(`<td data-metric="messages.%s.suppressed">%d</td><td data-metric="messages.%s.failed">%d</td></tr>`+"\n", m.Kind, m.Suppressed, m.Kind, m.Failed)
	}
	if len(v.Messages) == 0 {
		w.raw(`<tr><td colspan="6">No messages in this period.</td></tr>` + "\n")
	}
	w.raw("</tbody></table></div>\n</div>\n</section>\n")
	w.f(`<footer>New customers: <span data-metric="customers.new">%d</span> · returning: <span data-metric="customers.returning">%d</span>. Medians come from day histograms: exact to the day up to 60 days, to the hour up to 72 hours.</footer>`+"\n",
		r.Customers.New, r.Customers.Returning)
	w.raw("</main>\n</body>\n</html>\n")
	return []byte(w.String()), nil
}

// markup is HTML written as is: the SVG that report builds from numbers.
type markup string

// writer builds the page. Every value sits in element text or in a
// double-quoted attribute, where html.EscapeString is the whole of the
// escaping needed; f applies it to each string argument, so a value is
// escaped unless it is declared markup.
type writer struct{ strings.Builder }

func (w *writer) raw(s string) { w.WriteString(s) }

func (w *writer) f(format string, args ...any) {
	for i, a := range args {
		switch a := a.(type) {
		case string:
			args[i] = html.EscapeString(a)
		case markup:
			args[i] = string(a)
		}
	}
	fmt.Fprintf(w, format, args...)
}

// trend is the class of a headline's change: green when it is good news.
func trend(h report.Headline) string {
	switch {
	case h.Up:
		return "up"
	case h.Down:
		return "down"
	}
	return ""
}

// orDash is a median as the page shows it, a dash when there is none.
func orDash(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprint(*p)
}

func pctOrDash(p *float64) string {
	if p == nil {
		return "–"
	}
	return report.Pct(*p)
}

// top is the page's head up to its title.
const top = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
`

// style is the rest of the head (no external fonts or scripts) and the opening of the body.
const style = `<style>
:root{--bg:#f6f7f9;--card:#fff;--ink:#1d2430;--mute:#5f6b7a;--line:#e3e7ed;--ok:#1f9d6b;--bad:#d1495b;--accent:#3b6fd8;--soft:#e9effb}
@media (prefers-color-scheme:dark){:root{--bg:#12161c;--card:#1b2129;--ink:#e8edf3;--mute:#9aa6b5;--line:#2c3440;--soft:#233150}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 20px 40px}
header{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:6px 16px;margin-bottom:18px}
h1{font-size:22px;margin:0}
h1 small{display:block;font-size:14px;font-weight:500;color:var(--mute);margin-top:2px}
.period{color:var(--mute);font-size:14px}
h2{font-size:16px;margin:0 0 2px}
.sub{color:var(--mute);font-size:13px;margin:0 0 14px}
.cards{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:12px;margin-bottom:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:14px 16px}
.card .k{color:var(--mute);font-size:13px}
.card .v{font-size:26px;font-weight:650;letter-spacing:-.01em;margin:2px 0;font-variant-numeric:tabular-nums}
.chg{font-size:12.5px;color:var(--mute)}
.chg b{font-weight:600}
.chg .up{color:var(--ok)}.chg .down{color:var(--bad)}
.panels{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.panel{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px 18px;min-width:0}
.wide{grid-column:1/-1}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:14px}
th,td{padding:6px 4px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
th{color:var(--mute);font-weight:500;font-size:12.5px;white-space:normal;vertical-align:bottom}
tr:last-child td{border-bottom:0}
td:first-child{white-space:normal}
.rate{color:var(--mute);font-size:12px;display:inline-block;min-width:3.6em}
.scroll{overflow-x:auto;margin-bottom:14px}
.chart{width:100%;height:160px;display:block}
.chart rect{fill:var(--accent)}
.chart .axis{stroke:var(--line)}
.ticks{display:flex;justify-content:space-between;color:var(--mute);font-size:12px;margin-top:4px}
.stack{width:100%;height:14px;display:block;margin:6px 0 4px}
.stack .ok{fill:var(--ok)}.stack .late{fill:var(--bad)}.stack .empty{fill:var(--line)}
.kv{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:10px;margin-bottom:14px}
.kv div{background:var(--soft);border-radius:10px;padding:8px 10px}
.kv span{display:block;color:var(--mute);font-size:12px}
.kv strong{font-size:19px;font-variant-numeric:tabular-nums}
.legend{font-size:12.5px;color:var(--mute)}
.legend i{display:inline-block;width:9px;height:9px;border-radius:50%;margin:0 4px 0 10px;vertical-align:0}
footer{color:var(--mute);font-size:12px;margin-top:18px}
@media (max-width:900px){.cards{grid-template-columns:repeat(2,minmax(0,1fr))}.panels{grid-template-columns:1fr}}
@media (max-width:420px){main{padding:16px 12px 28px}.card .v{font-size:22px}.kv{grid-template-columns:1fr 1fr}.panel{padding:14px 12px}table{font-size:13px}th,td{padding:6px 3px}th{font-size:11.5px}}
</style>
</head>
<body>
<main>
<header>
`
