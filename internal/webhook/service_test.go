package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/obs"
)

// fakeSource accepts bodies signed "ok" and parses {"topic": ..., "id": ...}.
type fakeSource struct{}

func (fakeSource) Name() string { return "fake" }

func (fakeSource) Verify(body []byte, h http.Header, q url.Values) error {
	if h.Get("X-Sig") != "ok" {
		return errors.New("bad signature") // no code: must still be a 401
	}
	return nil
}

func (fakeSource) Parse(body []byte, h http.Header, received time.Time) (aftercare.Event, error) {
	var p struct{ Topic, ID string }
	if err := json.Unmarshal(body, &p); err != nil {
		return aftercare.Event{}, errors.New("not json") // no code: must still be a 400
	}
	if p.Topic == "ignored" {
		return aftercare.Event{Source: "fake", Topic: p.Topic}, nil
	}
	return aftercare.Event{ID: "fake:" + p.ID, Kind: aftercare.EventTracking, Source: "fake", Topic: p.Topic, Received: received,
		Tracking: &aftercare.TrackingUpdate{TrackingNumber: "T" + p.ID, Status: aftercare.StatusInTransit}}, nil
}

type memQueue struct {
	mu   sync.Mutex
	sent map[string][]byte
	fail bool
}

func (q *memQueue) Send(ctx context.Context, id string, body []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail {
		return errors.New("sqs down")
	}
	if q.sent == nil {
		q.sent = map[string][]byte{}
	}
	q.sent[id] = body
	return nil
}

func newService(q *memQueue) *Service {
	return &Service{Shopify: fakeSource{}, Carriers: map[string]Source{"easypost": fakeSource{}}, Queue: q,
		MaxBody: DefaultMaxBody, Log: obs.NewLogger(io.Discard, "ERROR")}
}

func post(h http.Handler, path, ct, sig string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if sig != "" {
		req.Header.Set("X-Sig", sig)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestAnswers(t *testing.T) {
	good := []byte(`{"topic":"t","id":"1"}`)
	huge := append([]byte(`{"topic":"t","id":"big","pad":"`), bytes.Repeat([]byte("x"), DefaultMaxBody)...)
	exact := append([]byte(`{"topic":"t","id":"exact","pad":"`), bytes.Repeat([]byte("x"), DefaultMaxBody-len(`{"topic":"t","id":"exact","pad":"`)-2)...)
	exact = append(exact, '"', '}')
	cases := []struct {
		name, path, ct, sig string
		body                []byte
		status              int
		queued              bool
	}{
		{"accepted", "/webhooks/shopify", "application/json", "ok", good, 200, true},
		{"charset is fine", "/webhooks/carriers/easypost", "application/json; charset=utf-8", "ok", good, 200, true},
		{"no signature", "/webhooks/shopify", "application/json", "", good, 401, false},
		{"wrong signature", "/webhooks/shopify", "application/json", "bad", good, 401, false},
		{"unknown carrier", "/webhooks/carriers/pigeon", "application/json", "ok", good, 404, false},
		{"not json", "/webhooks/shopify", "application/json", "ok", []byte("hello"), 400, false},
		{"empty body", "/webhooks/shopify", "application/json", "ok", nil, 400, false},
		{"wrong content type", "/webhooks/shopify", "text/plain", "ok", good, 400, false},
		{"ignored topic", "/webhooks/shopify", "application/json", "ok", []byte(`{"topic":"ignored"}`), 200, false},
		{"over the cap", "/webhooks/shopify", "application/json", "ok", huge, 413, false},
		{"exactly 5 MiB", "/webhooks/shopify", "application/json", "ok", exact, 200, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := &memQueue{}
			w := post(newService(q).Routes(), c.path, c.ct, c.sig, c.body)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d: %s", w.Code, c.status, w.Body)
			}
			if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") || !json.Valid(w.Body.Bytes()) {
				t.Fatalf("answer must be JSON: %q", w.Body)
			}
			if got := len(q.sent) > 0; got != c.queued {
				t.Fatalf("queued=%v, want %v", got, c.queued)
			}
			if c.status >= 400 && !strings.Contains(w.Body.String(), `"error"`) {
				t.Fatalf("error answers carry an error object: %s", w.Body)
			}
		})
	}
}

// A 200 means durably queued: when the queue fails the sender is told to retry.
func TestQueueFailureIs503(t *testing.T) {
	q := &memQueue{fail: true}
	w := post(newService(q).Routes(), "/webhooks/shopify", "application/json", "ok", []byte(`{"topic":"t","id":"1"}`))
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", w.Code)
	}
}

func TestQueuedEventIsTheNormalizedOne(t *testing.T) {
	q := &memQueue{}
	post(newService(q).Routes(), "/webhooks/shopify", "application/json", "ok", []byte(`{"topic":"t","id":"7"}`))
	var ev aftercare.Event
	if err := json.Unmarshal(q.sent["fake:7"], &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ID != "fake:7" || ev.Tracking.TrackingNumber != "T7" {
		t.Fatalf("queued %+v", ev)
	}
}

// An id no carrier or storefront would send is refused before it can become
// a poison item; the sender hears why.
func TestOverlongIDIs400(t *testing.T) {
	q := &memQueue{}
	id := strings.Repeat("9", 2048)
	w := post(newService(q).Routes(), "/webhooks/carriers/easypost", "application/json", "ok", []byte(`{"topic":"t","id":"`+id+`"}`))
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "over the 255") || len(q.sent) > 0 {
		t.Fatalf("status %d, queued %d: %s", w.Code, len(q.sent), w.Body)
	}
	// At the bound it is still an id.
	q = &memQueue{}
	id = strings.Repeat("9", aftercare.MaxID-len("fake:"))
	if w := post(newService(q).Routes(), "/webhooks/carriers/easypost", "application/json", "ok", []byte(`{"topic":"t","id":"`+id+`"}`)); w.Code != 200 || len(q.sent) != 1 {
		t.Fatalf("status %d at the bound: %s", w.Code, w.Body)
	}
}

func TestHealthz(t *testing.T) {
	w := httptest.NewRecorder()
	newService(&memQueue{}).Routes().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if w.Code != 200 {
		t.Fatal(w.Code)
	}
}

// A giant order sheds line item titles to fit on the queue, and keeps the rest.
func TestGiantOrderFitsTheQueue(t *testing.T) {
	items := make([]aftercare.LineItem, 500)
	for i := range items {
		items[i] = aftercare.LineItem{ID: "li", VariantID: "v", ProductID: "p", SKU: "SKU", Title: strings.Repeat("t", 600), Quantity: 1}
	}
	ev := aftercare.Event{ID: "x", Kind: aftercare.EventOrder, Order: &aftercare.OrderSnapshot{ID: "1", LineItems: items}}
	msg, err := encode(&ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) > maxQueued {
		t.Fatalf("%d bytes, over %d", len(msg), maxQueued)
	}
	var back aftercare.Event
	if err := json.Unmarshal(msg, &back); err != nil || len(back.Order.LineItems) != 500 || back.Order.LineItems[0].VariantID != "v" {
		t.Fatalf("line items must survive without titles: %v", err)
	}
	if ev.Order.LineItems[0].Title == "" {
		t.Fatal("encode must not change the caller's event")
	}
}

// FuzzHTTP: whatever arrives, the edge answers a 4xx or 200 JSON, never a
// 5xx, never a panic, and queues only what it accepted.
func FuzzHTTP(f *testing.F) {
	f.Add("POST", "/webhooks/shopify", "application/json", "ok", []byte(`{"topic":"t","id":"1"}`))
	f.Add("POST", "/webhooks/carriers/easypost", "", "", []byte(`{`))
	f.Add("GET", "/webhooks/shopify", "application/json", "ok", []byte(`{}`))
	f.Add("POST", "/webhooks/carriers/../shopify", "application/x-www-form-urlencoded", "ok", []byte("a=b"))
	f.Add("PUT", "/nope", "text/html", "bad", []byte{0xff, 0x00})
	f.Fuzz(func(t *testing.T, method, path, ct, sig string, body []byte) {
		if !strings.HasPrefix(path, "/") || method == "" {
			return
		}
		for _, r := range method {
			if r < 'A' || r > 'Z' {
				return
			}
		}
		q := &memQueue{}
		req, err := http.NewRequest(method, "http://aftercare.test"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request any server could receive
		}
		req.Header.Set("Content-Type", ct)
		req.Header.Set("X-Sig", sig)
		w := httptest.NewRecorder()
		newService(q).Routes().ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
		}
		if len(q.sent) > 0 && w.Code != 200 {
			t.Fatalf("queued but answered %d", w.Code)
		}
	})
}
