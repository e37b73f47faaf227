package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/report/reporttest"
)

// reportToken is infra/local/env.json's REPORT_TOKEN.
const reportToken = "local-report-token-0123456789"

// The report through the local stack: ReportFunction's bootstrap behind the
// HTTP API reads the shop's day items; the JSON needs the token, and the page,
// opened in Chromium through a signed link, shows the JSON's numbers.
func TestReportThroughTheStack(t *testing.T) {
	s := stack(t)
	shop := uniq("report") + ".myshopify.com"
	zone, _ := time.LoadLocation("America/New_York")
	day0 := time.Date(2024, 9, 2, 0, 0, 0, 0, zone) // the history's first day; dates only ever derive from it
	at := func(d, h int) time.Time { return day0.AddDate(0, 0, d).Add(time.Duration(h) * time.Hour) }
	// Two orders of one customer, one test order, a parcel delivered a day late.
	adds := report.Adds{}
	for _, o := range []*aftercare.Order{
		{Shop: shop, ID: "1", Seen: true, CreatedAt: at(0, 10), TotalCents: 2500, Currency: "USD"},
		{Shop: shop, ID: "2", Seen: true, CreatedAt: at(9, 15), TotalCents: 4000, Currency: "USD"},
		{Shop: shop, ID: "3", Seen: true, CreatedAt: at(3, 12), TotalCents: 99900, Currency: "USD", Test: true},
	} {
		adds.Merge(report.Order(o, zone))
	}
	c := &aftercare.Customer{Shop: shop, ID: "c1"}
	c.AddOrder(aftercare.OrderRef{ID: "1", At: at(0, 10), Cents: 2500})
	c.AddOrder(aftercare.OrderRef{ID: "2", At: at(9, 15), Cents: 4000})
	adds.Merge(report.Customer(c, zone))
	adds.Merge(report.Shipment(&aftercare.Shipment{Shop: shop, OrderID: "1", Key: "1Z1", Carrier: "UPS", Status: aftercare.StatusDelivered,
		DeliveredAt: at(4, 14), History: []aftercare.Scan{
			{At: at(1, 9), Status: aftercare.StatusInTransit, Applied: true, EstimatedDelivery: at(3, 0)},
			{At: at(4, 14), Status: aftercare.StatusDelivered, Applied: true},
		}}, zone))
	store := &dynamo.Store{DB: ddb, Table: s.Table}
	if err := store.SeedDays(context.Background(), shop, adds); err != nil {
		t.Fatal(err)
	}
	rng := report.Range{From: time.Date(2024, 9, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 9, 15, 0, 0, 0, 0, time.UTC)}
	q := "/report?shop=" + shop + "&from=2024-09-02&to=2024-09-15"

	fetch := func(path, auth string) (int, []byte) { return get(t, s.HTTPURL+path, auth) }
	if code, body := fetch(q, ""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d %s", code, body)
	}
	if code, body := fetch(q, "not-the-token"); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d %s", code, body)
	}
	if code, body := fetch("/report?shop="+shop+"&from=2024-09-15&to=2024-09-02", reportToken); code != http.StatusBadRequest {
		t.Errorf("to before from: %d %s", code, body)
	}
	code, body := fetch(q, reportToken)
	if code != http.StatusOK {
		t.Fatalf("report: %d %s", code, body)
	}
	var got report.Report
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Orders.Count != 2 || got.Orders.Revenue != "65.00" || got.Customers.New != 1 || got.Customers.RepeatPurchaseRate != 1 ||
		got.Deliveries.Count != 1 || got.Deliveries.Late != 1 || got.Carriers["ups"] == nil || got.Carriers["ups"].Parcels != 1 {
		t.Errorf("report through the stack: %s", body)
	}
	want, _ := json.Marshal(report.Compute(shop, rng, map[string]report.Counters(adds)))
	var a, b any
	_ = json.Unmarshal(want, &a)
	_ = json.Unmarshal(body, &b)
	if w, g := mustMarshal(a), mustMarshal(b); w != g {
		t.Errorf("report through the stack\n got %s\nwant %s", g, w)
	}

	link := report.SignedLink(s.HTTPURL, reportToken, shop, rng, time.Now().Add(time.Hour))
	reporttest.CheckDOM(t, string(reporttest.Headless(t, "--dump-dom", link)), body)
	reporttest.Screenshot(t, link, t.TempDir()+"/report-390.png", 390, 2400)
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// reportOf asks the stack's GET /report for a shop's report, from..to as
// days in UTC (a day either side covers any shop time zone).
func reportOf(t *testing.T, base, shop string, from, to time.Time) report.Report {
	t.Helper()
	code, body := get(t, base+"/report?shop="+shop+"&from="+from.UTC().Format(report.DayFormat)+"&to="+to.UTC().Format(report.DayFormat), reportToken)
	if code != http.StatusOK {
		t.Fatalf("report of %s: %d %s", shop, code, body)
	}
	var r report.Report
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// get sends a GET with a bearer token (none when auth is empty) and returns
// the status and body.
func get(t *testing.T, url, auth string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}
