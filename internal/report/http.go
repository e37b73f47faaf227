package report

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DayReader reads a shop's day counters from..to (DayFormat, inclusive).
type DayReader interface {
	ReportDays(ctx context.Context, shop, from, to string) (map[string]Counters, error)
}

// Handler answers GET /report: JSON for the bearer of the report token (or of
// a signed link), the dashboard page when the client asks for HTML.
type Handler struct {
	Days  DayReader
	Token string // REPORT_TOKEN; empty refuses every request
	// Page renders the dashboard (dashboard.Page); nil answers HTML
	// requests with the JSON.
	Page func(cur, prev *Report, orders []Point) ([]byte, error)
	Now  func() time.Time
	Log  *slog.Logger
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	shop, from, to := q.Get("shop"), q.Get("from"), q.Get("to")
	log := h.Log.With(slog.String("shop", clip(shop)), slog.String("from", clip(from)), slog.String("to", clip(to)))
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.fail(w, log, http.StatusMethodNotAllowed, "use GET")
		return
	}
	if !h.authorized(r, shop, from, to) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="aftercare report"`)
		h.fail(w, log, http.StatusUnauthorized, "a valid report token or signed link is required")
		return
	}
	if !validShop(shop) {
		h.fail(w, log, http.StatusBadRequest, "shop: want a shop domain such as example.myshopify.com")
		return
	}
	rng, err := ParseRange(from, to)
	if err != nil {
		h.fail(w, log, http.StatusBadRequest, err.Error())
		return
	}
	html := wantsHTML(r) && h.Page != nil
	read := rng
	if html {
		read.From = rng.Previous().From // one Query for both periods: at most 2 items per day
	}
	days, err := h.Days.ReportDays(r.Context(), shop, read.From.Format(DayFormat), read.To.Format(DayFormat))
	if err != nil {
		log.Error("report days unreadable", slog.String("error", err.Error()))
		h.fail(w, log, http.StatusServiceUnavailable, "the report store is unavailable; try again")
		return
	}
	rep := Compute(shop, rng, days)
	w.Header().Set("Cache-Control", "private, no-store")
	if html {
		page, err := h.Page(rep, Compute(shop, rng.Previous(), days), Series(rng, days, cOrders))
		if err != nil {
			log.Error("render dashboard", slog.String("error", err.Error()))
			h.fail(w, log, http.StatusInternalServerError, "the page could not be rendered")
			return
		}
		// Nothing external may load: the page is self-contained.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(page)
	} else {
		writeJSON(w, http.StatusOK, rep)
	}
	log.Info("report", slog.Int("status", http.StatusOK), slog.Bool("html", html), slog.Int("days_read", len(days)))
}

func (h *Handler) fail(w http.ResponseWriter, log *slog.Logger, status int, msg string) {
	log.Warn("report refused", slog.Int("status", status), slog.String("why", msg))
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func wantsHTML(r *http.Request) bool {
	if strings.HasSuffix(r.URL.Path, ".html") {
		return true
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(mt), "text/html") {
			return true
		}
	}
	return false
}

// validShop accepts a host name: what a shop domain can be.
func validShop(s string) bool {
	if s == "" || len(s) > 255 || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || !strings.Contains(s, ".") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

func (h *Handler) authorized(r *http.Request, shop, from, to string) bool {
	if h.Token == "" {
		return false
	}
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		// Compare digests so the comparison takes the same time whatever the length.
		a, b := sha256.Sum256([]byte(strings.TrimSpace(bearer))), sha256.Sum256([]byte(h.Token))
		return subtle.ConstantTimeCompare(a[:], b[:]) == 1
	}
	q := r.URL.Query()
	sig, expires := q.Get("sig"), q.Get("exp")
	if sig == "" || expires == "" {
		return false
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || !time.Unix(exp, 0).After(h.now()) {
		return false
	}
	want := sign(h.Token, shop, from, to, exp)
	return hmac.Equal([]byte(sig), []byte(want))
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// sign is the signature of a link to one shop's report of one range, valid
// until exp (Unix seconds).
func sign(token, shop, from, to string, exp int64) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("aftercare-report\x00" + shop + "\x00" + from + "\x00" + to + "\x00" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// SignedLink is the dashboard's address for one shop and range, authorized by
// its sig until expires, for the weekly digest. base is the API's base URL.
func SignedLink(base, token, shop string, r Range, expires time.Time) string {
	from, to := r.From.Format(DayFormat), r.To.Format(DayFormat)
	exp := expires.Unix()
	q := url.Values{"shop": {shop}, "from": {from}, "to": {to}, "exp": {strconv.FormatInt(exp, 10)}, "sig": {sign(token, shop, from, to, exp)}}
	return strings.TrimSuffix(base, "/") + "/report.html?" + q.Encode()
}

// Series is one counter's value per day of r, for the charts.
func Series(r Range, days map[string]Counters, counter string) []Point {
	out := make([]Point, 0, r.Days())
	for _, d := range r.Each() {
		out = append(out, Point{Day: d, Value: days[d][counter]})
	}
	return out
}

// Point is one day's value.
type Point struct {
	Day   string
	Value int64
}
