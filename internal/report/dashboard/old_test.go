package dashboard

import (
	"bytes"
	"html/template"

	"github.com/aftercare/aftercare/internal/report"
)

// oldTemplate is the html/template the page was rendered with until it was
// written in plain Go (html/template's reflection kept every exported method
// of the Lambda alive). It stays here only to prove the two render alike.
const oldTemplate = `
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>aftercare report · {{.R.Shop}} · {{.R.From}} to {{.R.To}}</title>
<style>
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
<h1>Aftercare report<small data-metric="shop">{{.R.Shop}}</small></h1>
<div class="period"><span data-metric="from">{{.R.From}}</span> to <span data-metric="to">{{.R.To}}</span> · compared with the period before</div>
</header>

<section class="cards" aria-label="Headline numbers">
{{range .Headlines}}<div class="card">
<div class="k">{{.Label}}</div>
<div class="v" data-metric="{{.Metric}}">{{.Value}}</div>
<div class="chg"><b class="{{if .Up}}up{{else if .Down}}down{{end}}">{{.Change}}</b> · before {{.Prev}}</div>
</div>
{{end}}</section>

<section class="panels">
<div class="panel wide">
<h2>Orders per day</h2>
<p class="sub"><span data-metric="orders.count">{{.R.Orders.Count}}</span> orders, <span data-metric="orders.revenue">{{.R.Orders.Revenue}}</span> <span data-metric="orders.currency">{{.R.Orders.Currency}}</span> (test and cancelled orders excluded, net of refunds)</p>
{{.Chart}}
</div>

<div class="panel" id="support">
<h2>Support</h2>
<p class="sub">What went wrong after the sale, and how fast it was put right.</p>
<div class="kv">
<div><span>On time</span><strong data-metric="deliveries.on_time_rate">{{with .R.Deliveries.OnTimeRate}}{{pct .}}{{else}}–{{end}}</strong></div>
<div><span>Delivered</span><strong data-metric="deliveries.count">{{.R.Deliveries.Count}}</strong></div>
<div><span>Median days to deliver</span><strong data-metric="deliveries.median_days_to_deliver">{{with .R.Deliveries.MedianDaysToDeliver}}{{.}}{{else}}–{{end}}</strong></div>
</div>
{{.OnTime}}
<div class="legend"><i style="background:var(--ok)"></i>on time <span data-metric="deliveries.on_time">{{.R.Deliveries.OnTime}}</span><i style="background:var(--bad)"></i>late <span data-metric="deliveries.late">{{.R.Deliveries.Late}}</span> (against the carrier's first estimate)</div>
<h2 style="margin-top:16px">Problems by type</h2>
<div class="scroll"><table>
<thead><tr><th>Type</th><th>Opened (per order)</th><th>Resolved</th><th>Open</th><th>Median hours to resolve</th></tr></thead>
<tbody>
{{range .Exc}}<tr><td>{{label .Type}}</td><td><span data-metric="exceptions.{{.Type}}.opened">{{.Opened}}</span> <small class="rate">{{pct .Rate}}</small></td><td data-metric="exceptions.{{.Type}}.resolved">{{.Resolved}}</td><td data-metric="exceptions.{{.Type}}.open">{{.Open}}</td><td data-metric="exceptions.{{.Type}}.median_hours_to_resolve">{{with .MedianHoursToResolve}}{{.}}{{else}}–{{end}}</td></tr>
{{end}}</tbody></table></div>
<h2>By carrier</h2>
<div class="scroll"><table>
<thead><tr><th>Carrier</th><th>Parcels</th><th>Problems</th><th>Rate</th></tr></thead>
<tbody>
{{range .Carriers}}<tr><td>{{.Name}}</td><td data-metric="carriers.{{.Name}}.parcels">{{.Parcels}}</td><td>{{.Total}}</td><td>{{pct .Rate}}</td></tr>
{{else}}<tr><td colspan="4">No parcels shipped in this period.</td></tr>
{{end}}</tbody></table></div>
</div>

<div class="panel" id="success">
<h2>Success</h2>
<p class="sub">Customers who came back, and what brought them.</p>
<div class="kv">
<div><span>Repeat rate</span><strong data-metric="customers.repeat_purchase_rate">{{pct .R.Customers.RepeatPurchaseRate}}</strong></div>
<div><span>Days to 2nd order</span><strong data-metric="customers.median_days_to_second_order">{{with .R.Customers.MedianDaysToSecondOrder}}{{.}}{{else}}–{{end}}</strong></div>
<div><span>Unsubscribes</span><strong data-metric="unsubscribes">{{.R.Unsubscribes}}</strong></div>
</div>
<h2>Recoveries (ordered within 30 days)</h2>
<div class="scroll"><table>
<thead><tr><th>Message</th><th>Sent</th><th>Recovered</th><th>Revenue</th></tr></thead>
<tbody>
{{range .Recovery}}<tr><td>{{label .Kind}}</td><td data-metric="recovery.{{.Kind}}.sent">{{.Sent}}</td><td data-metric="recovery.{{.Kind}}.recovered">{{.Recovered}}</td><td data-metric="recovery.{{.Kind}}.revenue">{{.Revenue}}</td></tr>
{{end}}</tbody></table></div>
<h2>Messages</h2>
<div class="scroll"><table>
<thead><tr><th>Kind</th><th>Sent</th><th>Held</th><th>Stale</th><th>Suppressed</th><th>Failed</th></tr></thead>
<tbody>
{{range .Messages}}<tr><td>{{label .Kind}}</td><td data-metric="messages.{{.Kind}}.sent">{{.Sent}}</td><td data-metric="messages.{{.Kind}}.held">{{.Held}}</td><td data-metric="messages.{{.Kind}}.stale">{{.Stale}}</td><td data-metric="messages.{{.Kind}}.suppressed">{{.Suppressed}}</td><td data-metric="messages.{{.Kind}}.failed">{{.Failed}}</td></tr>
{{else}}<tr><td colspan="6">No messages in this period.</td></tr>
{{end}}</tbody></table></div>
</div>
</section>
<footer>New customers: <span data-metric="customers.new">{{.R.Customers.New}}</span> · returning: <span data-metric="customers.returning">{{.R.Customers.Returning}}</span>. Medians come from day histograms: exact to the day up to 60 days, to the hour up to 72 hours.</footer>
</main>
</body>
</html>
`

var oldDashboard = template.Must(template.New("dashboard").Funcs(template.FuncMap{
	"pct":   report.Pct,
	"label": report.Label,
}).Parse(oldTemplate[1:]))

type oldPage struct {
	report.View
	Chart, OnTime template.HTML
}

// oldRender is the former Page.
func oldRender(cur, prev *report.Report, orders []report.Point) ([]byte, error) {
	v := report.NewView(cur, prev, orders)
	var b bytes.Buffer
	if err := oldDashboard.Execute(&b, oldPage{View: v, Chart: template.HTML(v.Chart), OnTime: template.HTML(v.OnTime)}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
