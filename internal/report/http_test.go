package report_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/report/dashboard"
)

const token = "report-token-for-tests"

// memDays is the fast tier's day reader; it counts the days it returns.
type memDays struct {
	days  map[string]report.Counters
	err   error
	reads int
}

func (m *memDays) ReportDays(_ context.Context, _, from, to string) (map[string]report.Counters, error) {
	if m.err != nil {
		return nil, m.err
	}
	out := map[string]report.Counters{}
	for d, c := range m.days {
		if d >= from && d <= to {
			out[d] = c
		}
	}
	m.reads += len(out)
	return out, nil
}

func newHandler(days report.DayReader, now time.Time) *report.Handler {
	return &report.Handler{Days: days, Token: token, Page: dashboard.Page, Now: func() time.Time { return now },
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
}

func get(h http.Handler, target string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func seedQuery() string {
	r := seedRange()
	return "/report?shop=" + shopDomain + "&from=" + r.From.Format(report.DayFormat) + "&to=" + r.To.Format(report.DayFormat)
}

func TestHandlerJSONWithBearer(t *testing.T) {
	e := runSeed(t, seedHistory())
	h := newHandler(&memDays{days: days(e)}, seedNow)
	w := get(h, seedQuery(), map[string]string{"Authorization": "Bearer " + token})
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("status %d %s: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	if !jsonEqual(t, w.Body.Bytes(), []byte(seedWant)) {
		t.Errorf("got %s", w.Body)
	}
}

func TestHandlerRefusesWithoutValidToken(t *testing.T) {
	h := newHandler(&memDays{}, seedNow)
	for name, hdr := range map[string]map[string]string{
		"none":       nil,
		"wrong":      {"Authorization": "Bearer nope"},
		"prefix":     {"Authorization": "Bearer " + token[:10]},
		"longer":     {"Authorization": "Bearer " + token + "x"},
		"basic":      {"Authorization": "Basic " + token},
		"empty":      {"Authorization": "Bearer "},
		"not bearer": {"Authorization": token},
	} {
		w := get(h, seedQuery(), hdr)
		if w.Code != 401 || !strings.Contains(w.Body.String(), `"error"`) {
			t.Errorf("%s: status %d %s, want 401 with a JSON error", name, w.Code, w.Body)
		}
	}
	// No token configured: nobody gets in.
	h.Token = ""
	if w := get(h, seedQuery(), map[string]string{"Authorization": "Bearer "}); w.Code != 401 {
		t.Errorf("unconfigured token: status %d, want 401", w.Code)
	}
}

func TestHandlerBadRange(t *testing.T) {
	h := newHandler(&memDays{}, seedNow)
	auth := map[string]string{"Authorization": "Bearer " + token}
	for _, q := range []string{
		"shop=" + shopDomain + "&from=2024-05-10&to=2024-05-09",                  // to before from
		"shop=" + shopDomain + "&from=2023-01-01&to=2024-01-02",                  // 367 days
		"shop=" + shopDomain + "&from=2024-13-01&to=2024-12-01",                  // no such month
		"shop=" + shopDomain + "&from=05/01/2024&to=2024-05-09",                  // not ISO
		"shop=" + shopDomain + "&to=2024-05-09",                                  // missing
		"shop=" + shopDomain + "&from=2024-02-30&to=2024-03-01",                  // no such day
		"shop=&from=2024-05-01&to=2024-05-09",                                    // no shop
		"shop=" + url.QueryEscape("a b/../x") + "&from=2024-05-01&to=2024-05-09", // not a domain
	} {
		w := get(h, "/report?"+q, auth)
		var body map[string]string
		if w.Code != 400 || json.Unmarshal(w.Body.Bytes(), &body) != nil || body["error"] == "" {
			t.Errorf("%s: status %d %s, want 400 with a JSON error", q, w.Code, w.Body)
		}
	}
	// 366 days is the longest range allowed.
	if w := get(h, "/report?shop="+shopDomain+"&from=2023-01-01&to=2024-01-01", auth); w.Code != 200 {
		t.Errorf("366 days: status %d %s", w.Code, w.Body)
	}
}

func TestHandlerStoreDownIs503(t *testing.T) {
	h := newHandler(&memDays{err: errors.New("throttled")}, seedNow)
	if w := get(h, seedQuery(), map[string]string{"Authorization": "Bearer " + token}); w.Code != 503 {
		t.Errorf("status %d, want 503", w.Code)
	}
}

func TestSignedLink(t *testing.T) {
	e := runSeed(t, seedHistory())
	h := newHandler(&memDays{days: days(e)}, seedNow)
	link := report.SignedLink("https://api.example.com/", token, shopDomain, seedRange(), seedNow.Add(7*24*time.Hour))
	u, err := url.Parse(link)
	if err != nil || u.Path != "/report.html" {
		t.Fatalf("link %q: %v", link, err)
	}
	target := u.RequestURI()
	if w := get(h, target, nil); w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("signed link: status %d %s", w.Code, w.Body)
	}
	// Expired: the same link a week and a second later.
	late := newHandler(&memDays{days: days(e)}, seedNow.Add(7*24*time.Hour+time.Second))
	if w := get(late, target, nil); w.Code != 401 {
		t.Errorf("expired link: status %d, want 401", w.Code)
	}
	// Tampered: another range, another shop, a later expiry, another key.
	q := u.Query()
	for name, change := range map[string]func(url.Values){
		"range":  func(v url.Values) { v.Set("from", "2024-01-01") },
		"shop":   func(v url.Values) { v.Set("shop", "other.myshopify.com") },
		"expiry": func(v url.Values) { v.Set("exp", strconv.FormatInt(seedNow.Add(365*24*time.Hour).Unix(), 10)) },
		"sig":    func(v url.Values) { v.Set("sig", v.Get("sig")[1:]) },
	} {
		v := url.Values{}
		for k, x := range q {
			v[k] = append([]string(nil), x...)
		}
		change(v)
		if w := get(h, "/report.html?"+v.Encode(), nil); w.Code != 401 {
			t.Errorf("%s changed: status %d, want 401", name, w.Code)
		}
	}
	other := report.SignedLink("https://api.example.com", "another-token", shopDomain, seedRange(), seedNow.Add(time.Hour))
	ou, _ := url.Parse(other)
	if w := get(h, ou.RequestURI(), nil); w.Code != 401 {
		t.Errorf("link signed with another key: status %d, want 401", w.Code)
	}
}

// The page reads the period and the one before it: at most 2 items per day.
func TestPageReadsAtMostTwoItemsPerDay(t *testing.T) {
	all := map[string]report.Counters{}
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 800 {
		all[start.AddDate(0, 0, i).Format(report.DayFormat)] = report.Counters{"o": 1}
	}
	for _, n := range []int{30, 365} {
		m := &memDays{days: all}
		h := newHandler(m, seedNow)
		from := start.AddDate(0, 0, 400)
		to := from.AddDate(0, 0, n-1)
		target := "/report?shop=" + shopDomain + "&from=" + from.Format(report.DayFormat) + "&to=" + to.Format(report.DayFormat)
		w := get(h, target, map[string]string{"Authorization": "Bearer " + token, "Accept": "text/html,application/xhtml+xml"})
		if w.Code != 200 {
			t.Fatalf("status %d", w.Code)
		}
		t.Logf("%d-day page: %d items read (%.2f per day)", n, m.reads, float64(m.reads)/float64(n))
		if m.reads > 2*n {
			t.Errorf("%d-day page read %d items, more than 2 per day", n, m.reads)
		}
		if !strings.Contains(w.Body.String(), `data-metric="orders.count">`+strconv.Itoa(n)+`<`) {
			t.Errorf("%d-day page does not show %d orders", n, n)
		}
	}
}
