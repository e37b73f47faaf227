package report_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/report"
)

// Whatever the query and headers, the handler answers 200, 400 or 401 with a
// body, never a panic or a 5xx.
func FuzzHandler(f *testing.F) {
	f.Add("seed-shop.myshopify.com", "2024-05-06", "2024-06-04", "Bearer "+token, "text/html", "", "")
	f.Add("x.myshopify.com", "2024-06-04", "2024-05-06", "Bearer "+token, "", "", "")
	f.Add("", "", "", "", "", "abc", "99999999999999999999")
	f.Add("a..b", "2024-02-29", "2025-02-28", "Bearer x", "*/*", "sig", "-1")
	days := &memDays{days: map[string]report.Counters{"2024-05-07": {"o": 2, "ca:f": 1, "eh:damaged:x": 1, "m::": 3, "rv": 1}}}
	h := newHandler(days, time.Date(2024, 6, 5, 0, 0, 0, 0, time.UTC))
	f.Fuzz(func(t *testing.T, shop, from, to, auth, accept, sig, exp string) {
		q := url.Values{"shop": {shop}, "from": {from}, "to": {to}}
		if sig != "" || exp != "" {
			q.Set("sig", sig)
			q.Set("exp", exp)
		}
		r := httptest.NewRequest(http.MethodGet, "/report?"+q.Encode(), nil)
		r.Header.Set("Authorization", auth)
		r.Header.Set("Accept", accept)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case 200, 400, 401:
		default:
			t.Fatalf("status %d for %q", w.Code, q.Encode())
		}
		if w.Body.Len() == 0 {
			t.Fatalf("empty answer for %q", q.Encode())
		}
	})
}

// ParseRange accepts exactly the ranges of valid dates, in order, at most
// MaxRangeDays long.
func FuzzParseRange(f *testing.F) {
	f.Add("2024-05-06", "2024-06-04")
	f.Add("2024-02-29", "2023-02-28")
	f.Add("0000-01-01", "9999-12-31")
	f.Add("2024-5-6", "2024-06-04")
	f.Fuzz(func(t *testing.T, from, to string) {
		r, err := report.ParseRange(from, to)
		a, errA := time.Parse(report.DayFormat, from)
		b, errB := time.Parse(report.DayFormat, to)
		valid := errA == nil && errB == nil && !b.Before(a) && b.Sub(a) < report.MaxRangeDays*24*time.Hour
		if valid != (err == nil) {
			t.Fatalf("ParseRange(%q, %q) = %v, want valid=%v", from, to, err, valid)
		}
		if err == nil && (r.Days() < 1 || r.Days() > report.MaxRangeDays || len(r.Each()) != r.Days()) {
			t.Fatalf("range %v has %d days", r, r.Days())
		}
	})
}
