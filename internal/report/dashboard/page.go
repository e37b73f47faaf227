// Package dashboard renders the merchant's report page from the view
// internal/report computes: the only user of html/template on the report
// path, kept apart so that functions counting the report's numbers do not
// link it.
package dashboard

import (
	"bytes"
	_ "embed"
	"html/template"

	"github.com/aftercare/aftercare/internal/report"
)

//go:embed dashboard.html
var dashboardHTML string

var dashboard = template.Must(template.New("dashboard").Funcs(template.FuncMap{
	"pct":   report.Pct,
	"label": report.Label,
}).Parse(dashboardHTML))

// page is the view with its SVG marked safe: report builds it from numbers.
type page struct {
	report.View
	Chart, OnTime template.HTML
}

// Page renders the dashboard of cur, compared with prev (the period before),
// with the daily orders chart from orders.
func Page(cur, prev *report.Report, orders []report.Point) ([]byte, error) {
	v := report.NewView(cur, prev, orders)
	var b bytes.Buffer
	if err := dashboard.Execute(&b, page{View: v, Chart: template.HTML(v.Chart), OnTime: template.HTML(v.OnTime)}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
