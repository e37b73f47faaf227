package sources_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/shopify"
	"github.com/aftercare/aftercare/internal/sources"
	"github.com/aftercare/aftercare/internal/webhook"
)

type memQueue struct {
	mu   sync.Mutex
	sent map[string][]byte
}

func (q *memQueue) Send(_ context.Context, id string, body []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.sent == nil {
		q.sent = map[string][]byte{}
	}
	q.sent[id] = body
	return nil
}

// app/uninstalled goes through WebhookFunction's handler as every Shopify
// topic does: the registry's Shopify source checks its HMAC on the raw body
// (a bad or missing one is a 401 and nothing is queued), and a signed body is
// queued as a shop_uninstalled event dated when it arrived.
func TestWebhookAcceptsAppUninstalled(t *testing.T) {
	const secret = "shpss_uninstall"
	const shop = "aftercare-demo.myshopify.com"
	received := time.Date(2024, 5, 14, 10, 0, 0, 0, time.UTC)
	body, err := os.ReadFile("../../events/webhooks/shopify/app__uninstalled.json")
	if err != nil {
		t.Fatal(err)
	}
	var src sources.Source
	for _, s := range sources.All {
		if !s.Carrier() {
			src = s
		}
	}
	post := func(body []byte, h http.Header) (*httptest.ResponseRecorder, *memQueue) {
		q := &memQueue{}
		shopSrc, carriers := sources.Service(func(string) string { return secret })
		svc := &webhook.Service{Shopify: shopSrc, Carriers: carriers, Queue: q, MaxBody: webhook.DefaultMaxBody,
			Log: obs.NewLogger(io.Discard, "ERROR"), Now: func() time.Time { return received }}
		req := httptest.NewRequest(http.MethodPost, src.Path, bytes.NewReader(body))
		req.Header = h
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(shopify.HeaderTopic, shopify.TopicAppUninstalled)
		req.Header.Set(shopify.HeaderShop, shop)
		req.Header.Set(shopify.HeaderEventID, "uninstall-1")
		w := httptest.NewRecorder()
		svc.Routes().ServeHTTP(w, req)
		return w, q
	}
	signed, _ := src.Sign(secret, body)
	w, q := post(body, signed)
	if w.Code != http.StatusOK || len(q.sent) != 1 {
		t.Fatalf("signed app/uninstalled: %d %s, %d queued", w.Code, w.Body, len(q.sent))
	}
	var ev aftercare.Event
	if err := json.Unmarshal(q.sent["shopify:"+shop+":app/uninstalled:uninstall-1"], &ev); err != nil {
		t.Fatalf("queued %v: %v", q.sent, err)
	}
	if ev.Kind != aftercare.EventShopUninstalled || ev.Shop != shop || !ev.At.Equal(received) {
		t.Fatalf("queued %+v", ev)
	}

	badSig, _ := src.Sign("another secret", body)
	for name, h := range map[string]http.Header{"bad HMAC": badSig, "no HMAC": {}} {
		if w, q := post(body, h); w.Code != http.StatusUnauthorized || len(q.sent) != 0 {
			t.Errorf("%s: %d, %d queued; want 401 and nothing queued", name, w.Code, len(q.sent))
		}
	}
	other := bytes.ReplaceAll(body, []byte(shop), []byte("other.myshopify.com"))
	otherSig, _ := src.Sign(secret, other)
	if w, q := post(other, otherSig); w.Code != http.StatusBadRequest || len(q.sent) != 0 {
		t.Errorf("a signed body naming another shop: %d, %d queued; want 400", w.Code, len(q.sent))
	}
}
