package unsubscribe

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

type call struct {
	shop, customer string
	ch             aftercare.Channel
	at             time.Time
	source         string
}

type fakeConsent struct {
	mu    sync.Mutex
	calls []call
	known map[string]bool
	err   error
}

func (f *fakeConsent) Unsubscribe(_ context.Context, shop, customerID string, ch aftercare.Channel, at time.Time, source string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if !f.known[customerID] {
		return aftercare.Errorf(aftercare.ENOTFOUND, "no customer")
	}
	f.calls = append(f.calls, call{shop, customerID, ch, at, source})
	return nil
}

func newHandler(c Consent, logs io.Writer) *Handler {
	now := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	return &Handler{Signer: testSigner, Consent: c, Log: slog.New(slog.NewJSONHandler(logs, nil)), Now: func() time.Time { return now }}
}

func do(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestGetShowsConfirmAndNeverUnsubscribes(t *testing.T) {
	c := &fakeConsent{known: map[string]bool{"42": true}}
	h := newHandler(c, io.Discard)
	tok := testSigner.Token(Subject{Shop: "a.myshopify.com", CustomerID: "42", Channel: aftercare.ChannelEmail})
	w := do(h, http.MethodGet, "/unsubscribe/"+tok, "")
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET = %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	page := w.Body.String()
	for _, want := range []string{`<form method="post"`, `name="List-Unsubscribe" value="One-Click"`, `<button type="submit"`, "marketing emails"} {
		if !strings.Contains(page, want) {
			t.Errorf("confirm page lacks %q:\n%s", want, page)
		}
	}
	if len(c.calls) != 0 {
		t.Fatalf("a GET withdrew consent: %+v", c.calls)
	}
}

func TestOneClickPostUnsubscribes(t *testing.T) {
	c := &fakeConsent{known: map[string]bool{"42": true}}
	var logs bytes.Buffer
	h := newHandler(c, &logs)
	tok := testSigner.Token(Subject{Shop: "a.myshopify.com", CustomerID: "42", Channel: aftercare.ChannelSMS})
	w := do(h, http.MethodPost, "/unsubscribe/"+tok, "List-Unsubscribe=One-Click")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "unsubscribed") || !strings.Contains(w.Body.String(), "text messages") {
		t.Fatalf("POST = %d %s", w.Code, w.Body.String())
	}
	want := call{"a.myshopify.com", "42", aftercare.ChannelSMS, h.Now(), SourceOneClick}
	if len(c.calls) != 1 || c.calls[0] != want {
		t.Fatalf("calls = %+v, want %+v", c.calls, want)
	}
	// The page's button says where it came from.
	do(h, http.MethodPost, "/unsubscribe/"+tok, url.Values{"List-Unsubscribe": {"One-Click"}, "from": {"page"}}.Encode())
	if len(c.calls) != 2 || c.calls[1].source != SourcePage {
		t.Fatalf("page POST recorded %+v", c.calls)
	}
	if !strings.Contains(logs.String(), `"outcome":"unsubscribed_one_click"`) {
		t.Errorf("no log line of the outcome: %s", logs.String())
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	c := &fakeConsent{known: map[string]bool{"42": true}}
	var logs bytes.Buffer
	h := newHandler(c, &logs)
	tok := testSigner.Token(Subject{Shop: "a.myshopify.com", CustomerID: "42", Channel: aftercare.ChannelEmail})
	unknown := testSigner.Token(Subject{Shop: "a.myshopify.com", CustomerID: "999", Channel: aftercare.ChannelEmail})
	forged := Signer{Secret: []byte("guessed-secret-guessed")}.Token(Subject{Shop: "a.myshopify.com", CustomerID: "42", Channel: aftercare.ChannelEmail})
	cases := []struct {
		name, method, path, body string
		status                   int
	}{
		{"forged", http.MethodPost, "/unsubscribe/" + forged, "List-Unsubscribe=One-Click", 400},
		{"truncated", http.MethodPost, "/unsubscribe/" + tok[:len(tok)-3], "List-Unsubscribe=One-Click", 400},
		{"truncated GET", http.MethodGet, "/unsubscribe/" + tok[:10], "", 400},
		{"unknown customer", http.MethodPost, "/unsubscribe/" + unknown, "List-Unsubscribe=One-Click", 404},
		{"no token", http.MethodPost, "/unsubscribe/", "List-Unsubscribe=One-Click", 404},
		{"wrong form", http.MethodPost, "/unsubscribe/" + tok, "List-Unsubscribe=Yes", 400},
		{"empty body", http.MethodPost, "/unsubscribe/" + tok, "", 400},
		{"huge body", http.MethodPost, "/unsubscribe/" + tok, "List-Unsubscribe=One-Click&x=" + strings.Repeat("a", 10<<10), 400},
		{"other method", http.MethodDelete, "/unsubscribe/" + tok, "", 405},
	}
	for _, tc := range cases {
		w := do(h, tc.method, tc.path, tc.body)
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, w.Code, tc.status)
		}
	}
	if len(c.calls) != 0 {
		t.Fatalf("bad input changed consent: %+v", c.calls)
	}
	if strings.Contains(logs.String(), tok) {
		t.Error("a token reached the log")
	}
}

func TestStoreDownIs503(t *testing.T) {
	c := &fakeConsent{known: map[string]bool{"42": true}, err: aftercare.Errorf(aftercare.EUNAVAILABLE, "throttled")}
	h := newHandler(c, io.Discard)
	tok := testSigner.Token(Subject{Shop: "a.myshopify.com", CustomerID: "42", Channel: aftercare.ChannelEmail})
	if w := do(h, http.MethodPost, "/unsubscribe/"+tok, "List-Unsubscribe=One-Click"); w.Code != 503 {
		t.Fatalf("store down: %d", w.Code)
	}
}

func TestWithdraw(t *testing.T) {
	at := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	c := &aftercare.Customer{EmailConsent: aftercare.Consent{State: aftercare.ConsentSubscribed, UpdatedAt: at.Add(-time.Hour)},
		SMSConsent: aftercare.Consent{State: aftercare.ConsentSubscribed}}
	if !Withdraw(c, aftercare.ChannelEmail, at, SourceOneClick) {
		t.Fatal("no change")
	}
	if c.EmailConsent != (aftercare.Consent{State: aftercare.ConsentUnsubscribed, UpdatedAt: at, Source: SourceOneClick}) {
		t.Fatalf("email consent %+v", c.EmailConsent)
	}
	if c.SMSConsent.State != aftercare.ConsentSubscribed {
		t.Fatal("the other channel changed")
	}
	if Withdraw(c, aftercare.ChannelEmail, at.Add(time.Hour), SourcePage) || c.EmailConsent.UpdatedAt != at {
		t.Fatal("a second withdrawal rewrote the first")
	}
	r := &aftercare.Customer{Redacted: true}
	if Withdraw(r, aftercare.ChannelEmail, at, SourceOneClick) {
		t.Fatal("wrote to a redacted customer")
	}
}
