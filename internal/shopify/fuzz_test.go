package shopify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/signature/sigtest"
)

func goldenBodies(f *testing.F) map[string][]byte {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	out := map[string][]byte{}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out[topicOf(name)] = b
	}
	return out
}

func FuzzVerify(f *testing.F) {
	f.Add([]byte(vectorBody), vectorSecret, vectorSig, uint(0))
	i := uint(0)
	for _, b := range goldenBodies(f) {
		f.Add(b, "shpss_ü", sign("shpss_ü", b), i*97)
		i++
	}
	f.Add([]byte{}, "s", "", uint(0))
	f.Add([]byte("{}"), "", strings.Repeat("A", 44), uint(1))
	f.Add([]byte("{}"), "k", "====", uint(2))
	f.Fuzz(func(t *testing.T, body []byte, secret, value string, pos uint) {
		sigtest.Check(t, func(b []byte, secret, value string) error {
			return Source{Secret: secret}.Verify(b, hmacHeader(value), nil)
		}, sign, body, secret, value, pos)
	})
}

func FuzzParse(f *testing.F) {
	for topic, b := range goldenBodies(f) {
		f.Add(topic, testShop, testEvent, b)
	}
	for _, s := range []string{``, `null`, `[]`, `"x"`, `{}`, `{"id":"1","line_items":[{"id":1e3}]}`, `{"id":1,"total_price":"-.5"}`,
		`{"id":1,"updated_at":"0000-01-01T00:00:00+01:00"}`, `{"id":"\ud800"}`, `{"id":1,"customer":{"id":"x","tags":[1]}}`} {
		f.Add("orders/updated", testShop, "e1", []byte(s))
	}
	f.Add("customers/redact", "", "", []byte(`{"shop_domain":"A.myshopify.com","customer":{"email":"x@y"}}`))
	f.Add("app/uninstalled", testShop, "", []byte(`not json`))
	f.Fuzz(func(t *testing.T, topic, shop, eventID string, body []byte) {
		h := headers(topic)
		h.Set(HeaderShop, shop)
		h.Set(HeaderEventID, eventID)
		ev, err := Source{}.Parse(body, h, received)
		if err != nil {
			if aftercare.ErrorCode(err) != aftercare.EINVALID {
				t.Fatalf("Parse error code %q, want %s: %v", aftercare.ErrorCode(err), aftercare.EINVALID, err)
			}
			return
		}
		if ev.Source != aftercare.SourceShopify || ev.Topic == "" {
			t.Fatalf("source %q topic %q", ev.Source, ev.Topic)
		}
		if ev.Kind == "" {
			return
		}
		if ev.Shop == "" || !strings.HasPrefix(ev.ID, "shopify:"+ev.Shop+":"+ev.Topic+":") || len(ev.ID) > 400 {
			t.Fatalf("id %q shop %q", ev.ID, ev.Shop)
		}
		if ev.At.IsZero() || ev.At.Location() != time.UTC {
			t.Fatalf("event time %v is not a UTC time", ev.At)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("the event cannot be queued: %v", err)
		}
		if !utf8.Valid(b) {
			t.Fatalf("queued event is not UTF-8")
		}
		if o := ev.Order; o != nil && (o.ID == "" || len(o.LineItems) > MaxLineItems) {
			t.Fatalf("order %q with %d items", o.ID, len(o.LineItems))
		}
	})
}

// A bulk line and an EventBridge envelope are outside input: any bytes give an
// order, a line item or an EINVALID error, never a panic.
func FuzzBulkLine(f *testing.F) {
	f.Add([]byte(`{"id":"gid://shopify/Order/1","name":"#1","createdAt":"2026-01-02T03:04:05Z","updatedAt":"2026-01-02T03:04:05Z","totalPriceSet":{"shopMoney":{"amount":"1.20","currencyCode":"USD"}},"customer":{"id":"gid://shopify/Customer/2","email":"a@example.com","emailMarketingConsent":{"marketingState":"SUBSCRIBED","consentUpdatedAt":null}},"fulfillments":[{"id":"gid://shopify/Fulfillment/3","status":"SUCCESS","trackingInfo":[{"company":"UPS","number":"1Z1","url":null}]}]}`))
	f.Add([]byte(`{"id":"gid://shopify/LineItem/9","quantity":2,"variant":{"id":"gid://shopify/ProductVariant/4"},"product":null,"title":"Tea","__parentId":"gid://shopify/Order/1"}`))
	f.Add([]byte(`{"id":"gid://shopify/Order/1","totalPriceSet":{"shopMoney":{"amount":1e400}}}`))
	f.Add([]byte(`{"id":"gid://shopify/Order/"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, line []byte) {
		l, err := ParseBulkLine(line)
		if err != nil {
			if aftercare.ErrorCode(err) != aftercare.EINVALID {
				t.Fatalf("want EINVALID, got %v", err)
			}
			return
		}
		if (l.Order == nil) == (l.LineItem == nil) {
			t.Fatalf("exactly one of order and line item: %+v", l)
		}
		if l.Order != nil {
			ev, err := l.Order.Event("example.myshopify.com", TopicBackfill, true, time.Unix(0, 0))
			if err == nil && (ev.ID == "" || ev.Order == nil || !ev.History) {
				t.Fatalf("event without id or order: %+v", ev)
			}
		}
		// The reader over the same bytes (as a file of lines) never panics either.
		r := NewBulkReader(strings.NewReader(string(line)+"\n"+string(line)), 0, "example.myshopify.com", func() time.Time { return time.Unix(0, 0) })
		for i := 0; i < 10; i++ {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	})
}

func FuzzEventBridge(f *testing.F) {
	for topic, b := range goldenBodies(f) {
		f.Add(envelopeFor(f, topic, testShop, testEvent, b))
	}
	f.Add([]byte(`{"detail-type":"shopifyWebhook","detail":{"metadata":{"X-Shopify-Event-Id":7,"X-Shopify-Topic":"orders/create"},"payload":{}}}`))
	f.Add([]byte(`{"detail-type":"shopifyWebhook","detail":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_ = IsEventBridge(body)
		ev, err := ParseEventBridge(body, time.Unix(0, 0))
		if err != nil {
			if c := aftercare.ErrorCode(err); c != aftercare.EINVALID {
				t.Fatalf("want EINVALID, got %s: %v", c, err)
			}
			return
		}
		if ev.Kind != "" && (ev.ID == "" || ev.Shop == "") {
			t.Fatalf("an applied event needs an id and a shop: %+v", ev)
		}
	})
}

// app/uninstalled takes its time from an unsigned header: any header and
// body give an EINVALID error or an event of the header's shop, in UTC, never
// dated after it arrived.
func FuzzUninstalled(f *testing.F) {
	golden := goldenBodies(f)[TopicAppUninstalled]
	f.Add(golden, "2026-11-20T11:00:00.123Z")
	f.Add(golden, "2026-11-20T13:00:00+01:00")
	f.Add(golden, "9999-12-31T23:59:59Z")
	f.Add([]byte(`{"myshopify_domain":"AFTERCARE-DEMO.myshopify.com "}`), "")
	f.Add([]byte(`{"myshopify_domain":7}`), "0000-01-01T00:00:00Z")
	f.Fuzz(func(t *testing.T, body []byte, triggered string) {
		h := headers(TopicAppUninstalled)
		h.Set(HeaderTriggered, triggered)
		ev, err := Source{}.Parse(body, h, received)
		if err != nil {
			if aftercare.ErrorCode(err) != aftercare.EINVALID {
				t.Fatalf("want EINVALID, got %v", err)
			}
			return
		}
		if ev.Kind != aftercare.EventShopUninstalled || ev.Shop != testShop {
			t.Fatalf("kind %q shop %q", ev.Kind, ev.Shop)
		}
		if ev.At.IsZero() || ev.At.Location() != time.UTC || ev.At.After(received) {
			t.Fatalf("at %v, received %v", ev.At, received)
		}
	})
}
