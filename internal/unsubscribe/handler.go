package unsubscribe

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// Consent withdraws a customer's marketing consent for one channel. It returns
// ENOTFOUND for a customer the shop does not have (or no longer has).
type Consent interface {
	Unsubscribe(ctx context.Context, shop, customerID string, ch aftercare.Channel, at time.Time, source string) error
}

// Sources recorded with the withdrawal.
const (
	SourceOneClick = "one_click" // a mail client's RFC 8058 POST
	SourcePage     = "unsubscribe_page"
)

// Handler serves GET and POST /unsubscribe/<token>.
type Handler struct {
	Signer  Signer
	Consent Consent
	Log     *slog.Logger
	Now     func() time.Time
}

const prefix = "/unsubscribe/"

// maxForm bounds a POST body: the one-click form is 26 bytes.
const maxForm = 4 << 10

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok || token == "" || strings.Contains(token, "/") {
		h.answer(w, r, http.StatusNotFound, "not_found", pageNotFound, "")
		return
	}
	s, err := h.Signer.Parse(token)
	if err != nil {
		// A forged, truncated or mangled link: nothing changes.
		h.answer(w, r, http.StatusBadRequest, "bad_token", pageBadLink, "")
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		// Mail scanners follow links: a GET only shows the confirm button.
		h.page(w, http.StatusOK, pageConfirm, s.Channel)
		h.log(r, s, "confirm_page", http.StatusOK)
	case http.MethodPost:
		h.post(w, r, s)
	default:
		w.Header().Set("Allow", "GET, POST")
		h.answer(w, r, http.StatusMethodNotAllowed, "method_not_allowed", pageBadLink, "")
	}
}

func (h *Handler) post(w http.ResponseWriter, r *http.Request, s Subject) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil || r.PostForm.Get("List-Unsubscribe") != "One-Click" {
		h.answer(w, r, http.StatusBadRequest, "bad_form", pageBadLink, "")
		return
	}
	source := SourceOneClick
	if r.PostForm.Get("from") == "page" {
		source = SourcePage
	}
	err := h.Consent.Unsubscribe(r.Context(), s.Shop, s.CustomerID, s.Channel, h.now(), source)
	switch {
	case aftercare.ErrorCode(err) == aftercare.ENOTFOUND:
		h.page(w, http.StatusNotFound, pageNotFound, s.Channel)
		h.log(r, s, "unknown_customer", http.StatusNotFound)
	case err != nil:
		// The store is down: say so, the mail client (or the person) tries again.
		h.Log.ErrorContext(r.Context(), "unsubscribe", slog.String("shop", s.Shop), slog.String("customer_id", s.CustomerID),
			slog.String("channel", string(s.Channel)), slog.String("error", err.Error()))
		h.page(w, http.StatusServiceUnavailable, pageTryLater, s.Channel)
	default:
		h.page(w, http.StatusOK, pageDone, s.Channel)
		h.log(r, s, "unsubscribed_"+source, http.StatusOK)
	}
}

func (h *Handler) answer(w http.ResponseWriter, r *http.Request, status int, outcome string, p page, ch aftercare.Channel) {
	h.page(w, status, p, ch)
	h.Log.InfoContext(r.Context(), "unsubscribe", slog.String("method", r.Method), slog.String("outcome", outcome), slog.Int("status", status))
}

func (h *Handler) log(r *http.Request, s Subject, outcome string, status int) {
	h.Log.InfoContext(r.Context(), "unsubscribe", slog.String("method", r.Method), slog.String("shop", s.Shop),
		slog.String("customer_id", s.CustomerID), slog.String("channel", string(s.Channel)),
		slog.String("outcome", outcome), slog.Int("status", status))
}

func (h *Handler) page(w http.ResponseWriter, status int, p page, ch aftercare.Channel) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.Header().Set("X-Robots-Tag", "noindex")
	w.WriteHeader(status)
	what := "emails"
	if ch == aftercare.ChannelSMS {
		what = "text messages"
	}
	_, _ = io.WriteString(w, p.render(what))
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

// A page is one answer, written in plain Go rather than with html/template:
// text/template's reflection makes the linker keep every exported method of
// the function, doubling its size for five fixed pages.
type page struct {
	title string
	// main is the markup of <main>; what (the channel's messages, escaped)
	// goes between its parts.
	main []string
}

func (p page) render(what string) string {
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="color-scheme" content="light dark">
<title>`)
	b.WriteString(p.title)
	b.WriteString(`</title></head>
<body style="margin:0;padding:32px 16px;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;line-height:1.5">
<main style="max-width:480px;margin:0 auto">`)
	b.WriteString(strings.Join(p.main, html.EscapeString(what)))
	b.WriteString(`</main></body></html>`)
	return b.String()
}

var (
	pageConfirm = page{"Unsubscribe", []string{`<h1 style="font-size:22px">Unsubscribe?</h1>
<p>You will get no more marketing `, ` from this shop. Messages about your orders (shipping, delivery) still come.</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><input type="hidden" name="from" value="page">
<button type="submit" style="font-size:16px;padding:10px 20px;border-radius:6px;border:1px solid #888;cursor:pointer">Unsubscribe</button></form>`}}
	pageDone     = page{"Unsubscribed", []string{`<h1 style="font-size:22px">You're unsubscribed</h1><p>You will get no more marketing `, ` from this shop. Messages about your orders still come.</p>`}}
	pageBadLink  = page{"Link not valid", []string{`<h1 style="font-size:22px">This link is not valid</h1><p>It may have been cut short. Use the unsubscribe link in the message again, or reply to the message and ask to be removed.</p>`}}
	pageNotFound = page{"Not found", []string{`<h1 style="font-size:22px">We could not find this subscription</h1><p>Reply to the message and ask to be removed.</p>`}}
	pageTryLater = page{"Try again", []string{`<h1 style="font-size:22px">Something went wrong on our side</h1><p>Nothing was changed. Please try again in a few minutes.</p>`}}
)
