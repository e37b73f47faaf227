package dashboard

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/aftercare/aftercare/internal/report"
)

func ptr(f float64) *float64 { return &f }

func emptyReport(t *testing.T, shop, from, to string) *report.Report {
	t.Helper()
	rng, err := report.ParseRange(from, to)
	if err != nil {
		t.Fatal(err)
	}
	return report.Compute(shop, rng, nil)
}

// fullReport has every number set, optional ones included, names with
// characters HTML gives a meaning to, and at least one value of each kind
// the page formats (+ and − changes, rates, float medians).
func fullReport(t *testing.T, shop, carrier string) *report.Report {
	r := emptyReport(t, shop, "2024-05-01", "2024-05-07")
	r.Orders = report.Orders{Count: 120, Revenue: "4310.50", Currency: `U<S>D&"'`}
	r.Customers = report.Customers{New: 40, Returning: 12, RepeatPurchaseRate: 0.125, MedianDaysToSecondOrder: ptr(17)}
	r.Deliveries = report.Deliveries{Count: 90, OnTime: 70, Late: 20, OnTimeRate: ptr(70.0 / 90), MedianDaysToDeliver: ptr(3.5)}
	r.Exceptions["delay"] = &report.ExceptionStats{Opened: 9, Resolved: 7, Open: 2, MedianHoursToResolve: ptr(26.25)}
	r.Exceptions["lost"] = &report.ExceptionStats{Opened: 1, Open: 1}
	r.Messages = map[string]*report.MessageStats{
		"order_shipped":    {Sent: 100, Held: 3, Suppressed: 2, Stale: 1, Failed: 1},
		"win_back":         {Sent: 12},
		`<script>&"'+</x>`: {Failed: 4},
	}
	r.Recovery["win_back"] = &report.Recovery{Sent: 12, Recovered: 3, Revenue: "210.00"}
	r.Unsubscribes = 5
	r.Carriers = map[string]*report.CarrierStats{
		"usps":  {Parcels: 60, Exceptions: map[string]int64{"delay": 6}},
		carrier: {Parcels: 30, Exceptions: map[string]int64{"delay": 3, "lost": 1}},
		"idle":  {},
	}
	return r
}

func days(from string, values ...int64) []report.Point {
	var out []report.Point
	for i, v := range values {
		out = append(out, report.Point{Day: fmt.Sprintf("%s%02d", from[:8], i+1), Value: v})
	}
	return out
}

// The page written in plain Go is the page html/template rendered, byte for
// byte, but for one spelling: html/template writes + as &#43;,
// html.EscapeString leaves it (both mean +; neither opens a tag or ends an
// attribute). A NUL in a value (which html/template turns into U+FFFD) is
// the other difference and is left out here: no name the report shows can
// hold one.
func TestPageEqualsTheTemplatePage(t *testing.T) {
	hostile := `<b>"Tom's" & Jerry</b>'+`
	cases := []struct {
		name      string
		cur, prev *report.Report
		orders    []report.Point
	}{
		{"empty", emptyReport(t, "a.myshopify.com", "2024-05-01", "2024-05-07"), emptyReport(t, "a.myshopify.com", "2024-04-24", "2024-04-30"), nil},
		{"empty with days", emptyReport(t, "a.myshopify.com", "2024-05-01", "2024-05-03"), emptyReport(t, "a.myshopify.com", "2024-04-28", "2024-04-30"), days("2024-05-01", 0, 0, 0)},
		{"full against empty", fullReport(t, "b.myshopify.com", "dhl"), emptyReport(t, "b.myshopify.com", "2024-04-24", "2024-04-30"), days("2024-05-01", 3, 10, 0, 7, 20, 1, 9)},
		{"full against full", fullReport(t, "b.myshopify.com", "ups"), func() *report.Report {
			p := fullReport(t, "b.myshopify.com", "ups")
			p.Orders.Count, p.Customers.New, p.Customers.RepeatPurchaseRate = 200, 40, 0.5
			p.Deliveries.OnTimeRate = ptr(0.5)
			return p
		}(), days("2024-05-01", 5)},
		{"hostile names", fullReport(t, hostile, hostile), fullReport(t, hostile, "x"), days("2024-05-01", 1, 2)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old, err := oldRender(tc.cur, tc.prev, tc.orders)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Page(tc.cur, tc.prev, tc.orders)
			if err != nil {
				t.Fatal(err)
			}
			want := bytes.ReplaceAll(old, []byte("&#43;"), []byte("+"))
			if !bytes.Equal(got, want) {
				g, w := string(got), string(want)
				i := 0
				for i < min(len(g), len(w)) && g[i] == w[i] {
					i++
				}
				t.Fatalf("pages differ at byte %d:\n got %q\nwant %q", i, g[max(i-80, 0):min(i+80, len(g))], w[max(i-80, 0):min(i+80, len(w))])
			}
			if strings.Contains(string(got), "<b>") || strings.Contains(string(got), "<script>") {
				t.Fatal("a name reached the page unescaped")
			}
		})
	}
}
