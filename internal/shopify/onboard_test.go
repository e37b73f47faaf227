package shopify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

var onboardNow = time.Date(2026, 4, 7, 9, 30, 0, 0, time.UTC)

func envelopeFor(t testing.TB, topic, shop, eventID string, payload []byte) []byte {
	t.Helper()
	env := map[string]any{
		"version": "0", "id": "c2a9f0e8-0000-4000-8000-000000000000", "detail-type": EventBridgeDetailType,
		"source": "aws.partner/shopify.com/1234567/aftercare", "account": "123456789012", "time": onboardNow.Format(time.RFC3339),
		"region": "us-east-1", "resources": []string{},
		"detail": map[string]any{
			"payload": json.RawMessage(payload),
			"metadata": map[string]string{
				"Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop,
				"X-Shopify-Event-Id": eventID, "X-Shopify-API-Version": "2026-10", "X-Shopify-Hmac-SHA256": "not-checked-on-this-path",
			},
		},
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every golden webhook gives exactly the same event by EventBridge as by HTTP,
// id included, so a delivery by both paths dedupes.
func TestEventBridgeGivesTheWebhookEvent(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if len(files) < 15 {
		t.Fatalf("only %d golden webhooks", len(files))
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		topic := topicOf(f)
		h := http.Header{}
		h.Set(HeaderTopic, topic)
		h.Set(HeaderShop, testShop)
		h.Set(HeaderEventID, testEvent)
		want, werr := Source{}.Parse(body, h, onboardNow)
		env := envelopeFor(t, topic, testShop, testEvent, body)
		if !IsEventBridge(env) {
			t.Fatalf("%s: envelope not recognised", topic)
		}
		got, gerr := ParseEventBridge(env, onboardNow)
		if (werr == nil) != (gerr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: EventBridge gave %+v (%v), webhook %+v (%v)", topic, got, gerr, want, werr)
		}
		if werr == nil && want.Kind != "" && !strings.Contains(got.ID, testEvent) {
			t.Errorf("%s: id %q does not carry the event id", topic, got.ID)
		}
	}
}

func TestEventBridgeRefusesWhatItCannotUse(t *testing.T) {
	order, _ := os.ReadFile(filepath.Join(goldenDir, "orders__create.json"))
	for name, body := range map[string][]byte{
		"no event id": envelopeFor(t, "orders/create", testShop, "", order),
		"no payload":  envelopeFor(t, "orders/create", testShop, "e1", nil),
		"bad shop":    envelopeFor(t, "orders/create", "not a shop", "e1", order),
		"other type":  []byte(`{"detail-type":"Scheduled Event","detail":{}}`),
		"not json":    []byte(`{"detail-type":`),
	} {
		if _, err := ParseEventBridge(body, onboardNow); aftercare.ErrorCode(err) != aftercare.EINVALID {
			t.Errorf("%s: want EINVALID, got %v", name, err)
		}
	}
	ev, _ := json.Marshal(aftercare.Event{ID: "x", Kind: aftercare.EventOrder, Topic: "orders/create", Shop: testShop})
	if IsEventBridge(ev) || IsEventBridge([]byte(`{"detail-type":"shopifyWebhook"}`)) {
		t.Fatal("an aftercare event (or an envelope without detail) is not an EventBridge envelope")
	}
}

// app/uninstalled goes through the topic map like every topic: it becomes a
// shop_uninstalled event dated when it arrived, and a body that does not name
// the header's shop is refused (the HMAC does not cover the header).
func TestUninstalled(t *testing.T) {
	h := http.Header{}
	h.Set(HeaderTopic, TopicAppUninstalled)
	h.Set(HeaderShop, testShop)
	h.Set(HeaderEventID, "ev-9")
	body := []byte(`{"id":548380009,"name":"Demo","domain":"shop.example.com","myshopify_domain":"Aftercare-Demo.myshopify.com","updated_at":"2024-04-01T10:00:00-04:00"}`)
	ev, err := Source{}.Parse(body, h, onboardNow)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != aftercare.EventShopUninstalled || ev.Shop != testShop || !ev.At.Equal(onboardNow) || ev.ID != "shopify:"+testShop+":app/uninstalled:ev-9" {
		t.Fatalf("%+v", ev)
	}
	// Dated when Shopify triggered it (a retry keeps the uninstall's time),
	// never later than it arrived.
	for triggered, want := range map[string]time.Time{
		"2026-04-07T04:30:00.123-04:00": time.Date(2026, 4, 7, 8, 30, 0, 123e6, time.UTC),
		"2026-04-07T12:00:00Z":          onboardNow,
		"yesterday":                     onboardNow,
	} {
		h.Set(HeaderTriggered, triggered)
		if ev, err := (Source{}).Parse(body, h, onboardNow); err != nil || !ev.At.Equal(want) || ev.At.Location() != time.UTC {
			t.Errorf("triggered at %s: at %v (%v), want %v", triggered, ev.At, err, want)
		}
	}
	h.Del(HeaderTriggered)
	for name, c := range map[string]struct {
		body string
		h    http.Header
	}{
		"another shop's body": {`{"myshopify_domain":"other.myshopify.com"}`, h},
		"no shop in the body": {`{"id":548380009}`, h},
		"no shop header":      {string(body), http.Header{HeaderTopic: {TopicAppUninstalled}}},
		"bad JSON":            {`{"myshopify_domain":`, h},
	} {
		if _, err := (Source{}).Parse([]byte(c.body), c.h, onboardNow); aftercare.ErrorCode(err) != aftercare.EINVALID {
			t.Errorf("%s: got %v, want %s", name, err, aftercare.EINVALID)
		}
	}
}

func TestWebhookTopics(t *testing.T) {
	got := strings.Join(WebhookTopics(), " ")
	for _, want := range []string{"app/uninstalled", "orders/create", "products/update", "fulfillment_events/create", "customers_marketing_consent/update"} {
		if !strings.Contains(got, want) {
			t.Errorf("%s missing from %s", want, got)
		}
	}
	for _, not := range append([]string{"orders/edited"}, ComplianceTopics...) {
		if strings.Contains(got, not) {
			t.Errorf("%s must not be a subscription: %s", not, got)
		}
	}
	for _, c := range ComplianceTopics {
		if _, ok := topics[c]; !ok {
			t.Errorf("compliance topic %s has no parser", c)
		}
	}
}

// bulkOrder writes one order and its line items as the bulk operation does.
func bulkOrder(w io.Writer, n int, items int, updated time.Time) {
	fmt.Fprintf(w, `{"id":"gid://shopify/Order/%d","name":"#%d","createdAt":%q,"processedAt":%q,"updatedAt":%q,"cancelledAt":null,"test":false,`+
		`"displayFinancialStatus":"PAID","displayFulfillmentStatus":"FULFILLED","totalPriceSet":{"shopMoney":{"amount":"%d.50","currencyCode":"USD"}},`+
		`"customer":{"id":"gid://shopify/Customer/%d","email":"c%d@example.com","phone":null,"firstName":"Ada","emailMarketingConsent":{"marketingState":"SUBSCRIBED","consentUpdatedAt":%q}},`+
		`"fulfillments":[{"id":"gid://shopify/Fulfillment/%d","createdAt":%q,"status":"SUCCESS","trackingInfo":[{"company":"UPS","number":"1Z%08d","url":"https://ups.example/1Z%08d"}]}]}`+"\n",
		n, 1000+n, updated.Add(-48*time.Hour).Format(time.RFC3339), updated.Add(-48*time.Hour).Format(time.RFC3339), updated.Format(time.RFC3339),
		10+n%90, n%700, n%700, updated.Add(-72*time.Hour).Format(time.RFC3339), n, updated.Add(-24*time.Hour).Format(time.RFC3339), n, n)
	for i := 0; i < items; i++ {
		fmt.Fprintf(w, `{"id":"gid://shopify/LineItem/%d%03d","quantity":%d,"variant":{"id":"gid://shopify/ProductVariant/%d"},"product":{"id":"gid://shopify/Product/%d"},"title":"Tea %d","__parentId":"gid://shopify/Order/%d"}`+"\n",
			n, i, 1+i%3, 40+i, 80+i, i, n)
	}
}

func readAll(t testing.TB, r *BulkReader) []BulkOrder {
	t.Helper()
	var out []BulkOrder
	for {
		o, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
}

func TestBulkReaderTurnsLinesIntoOrders(t *testing.T) {
	at := onboardNow.Add(-300 * 24 * time.Hour)
	var b bytes.Buffer
	bulkOrder(&b, 1, 2, at)
	b.WriteString(`{"id":"gid://shopify/LineItem/77","quantity":1,"__parentId":"gid://shopify/Order/999"}` + "\n") // orphan
	b.WriteString("not json\n\n")
	bulkOrder(&b, 2, 0, at.Add(time.Hour))
	bulkOrder(&b, 3, 1, at.Add(2*time.Hour))
	data := b.Bytes()

	now := func() time.Time { return onboardNow }
	r := NewBulkReader(bytes.NewReader(data), 0, testShop, now)
	got := readAll(t, r)
	if len(got) != 3 || r.Skipped != 2 {
		t.Fatalf("want 3 orders and 2 skipped lines, got %d and %d", len(got), r.Skipped)
	}
	o := got[0].Event
	if o.Kind != aftercare.EventOrder || !o.History || o.Topic != TopicBackfill || o.Shop != testShop || o.Order.ID != "1" || o.Order.Name != "#1001" {
		t.Fatalf("%+v", o)
	}
	s := o.Order
	if len(s.LineItems) != 2 || s.LineItems[1].VariantID != "41" || s.LineItems[1].ProductID != "81" || s.LineItems[0].ID != "1000" ||
		s.FinancialStatus != "paid" || s.FulfillmentStatus != "fulfilled" || s.TotalCents != 1150 || s.Currency != "USD" {
		t.Fatalf("snapshot %+v", s)
	}
	if s.Customer == nil || s.Customer.ID != "1" || s.Customer.Email != "c1@example.com" || s.Customer.EmailConsent.State != "subscribed" {
		t.Fatalf("customer %+v", s.Customer)
	}
	if len(s.Fulfillments) != 1 || s.Fulfillments[0].ID != "1" || s.Fulfillments[0].TrackingNumbers[0] != "1Z00000001" || s.Fulfillments[0].TrackingCompany != "UPS" || s.Fulfillments[0].Status != "success" {
		t.Fatalf("fulfillments %+v", s.Fulfillments)
	}
	if !o.At.Equal(at) || o.ID != "shopify:"+testShop+":orders/backfill:1:"+at.Format(time.RFC3339Nano) {
		t.Fatalf("at %s id %s", o.At, o.ID)
	}
	if len(got[0].Issues) != 2 || got[1].Lines != 1 || got[2].Lines != 2 {
		t.Fatalf("issues %q, lines %d %d", got[0].Issues, got[1].Lines, got[2].Lines)
	}
	if got[2].Next != int64(len(data)) {
		t.Fatalf("last order ends at %d, file has %d bytes", got[2].Next, len(data))
	}
	// Resuming at an order's end reads exactly the orders after it, with the same ids.
	rest := readAll(t, NewBulkReader(bytes.NewReader(data[got[0].Next:]), got[0].Next, testShop, now))
	if len(rest) != 2 || rest[0].Event.ID != got[1].Event.ID || rest[1].Event.ID != got[2].Event.ID || rest[1].Next != got[2].Next {
		t.Fatalf("resume gave %+v", rest)
	}
	// And the same file read again gives the same events.
	again := readAll(t, NewBulkReader(bytes.NewReader(data), 0, testShop, now))
	if !reflect.DeepEqual(again, got) {
		t.Fatal("reading the same file twice gave different events")
	}
}

func TestBulkReaderSkipsHugeLinesAndBadOrders(t *testing.T) {
	at := onboardNow.Add(-30 * 24 * time.Hour)
	var b bytes.Buffer
	b.WriteString(`{"id":"gid://shopify/Order/5","name":"` + strings.Repeat("x", MaxBulkLine) + `"}` + "\n")
	b.WriteString(`{"id":"gid://shopify/Order/6","createdAt":"yesterday"}` + "\n")
	bulkOrder(&b, 7, 1, at)
	r := NewBulkReader(&b, 0, testShop, func() time.Time { return onboardNow })
	got := readAll(t, r)
	if len(got) != 2 || got[0].Event.Kind != "" || got[1].Event.Order.ID != "7" || r.Skipped != 2 {
		t.Fatalf("want the bad order flagged and order 7 read, got %+v (skipped %d)", got, r.Skipped)
	}
}

// A 10,000-order export is read in memory that does not grow with the file:
// the live heap after 10,000 orders is within a small bound of the heap
// after 1,000.
func TestBulkReaderMemoryIsBounded(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "orders.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	at := onboardNow.Add(-400 * 24 * time.Hour)
	for n := 1; n <= 10000; n++ {
		bulkOrder(w, n, 1+n%5, at.Add(time.Duration(n)*time.Minute))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	info, _ := f.Stat()
	f.Close()

	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r := NewBulkReader(in, 0, testShop, func() time.Time { return onboardNow })
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := heap()
	var at1k, peak uint64
	var ms runtime.MemStats
	count := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		count++
		if count%1000 == 0 {
			h := heap()
			if count == 1000 {
				at1k = h
			}
			peak = max(peak, h)
		}
	}
	runtime.ReadMemStats(&ms)
	if count != 10000 || r.Skipped != 0 {
		t.Fatalf("read %d orders, skipped %d", count, r.Skipped)
	}
	growth := int64(peak) - int64(at1k)
	t.Logf("10,000 orders (%.1f MB): live heap %d KB before, %d KB after 1,000 orders, peak %d KB over 10,000 (growth %d KB); total allocated %.1f MB",
		float64(info.Size())/1e6, base>>10, at1k>>10, peak>>10, growth>>10, float64(ms.TotalAlloc)/1e6)
	if growth > 1<<20 || int64(peak)-int64(base) > 8<<20 {
		t.Fatalf("heap grows with the file: %d KB after 1,000 orders, %d KB peak", at1k>>10, peak>>10)
	}
}

func TestDecodeInbox(t *testing.T) {
	body, _ := os.ReadFile(filepath.Join(goldenDir, "orders__paid.json"))
	h := http.Header{}
	h.Set(HeaderTopic, "orders/paid")
	h.Set(HeaderShop, testShop)
	h.Set(HeaderEventID, "e-77")
	queued, err := Source{}.Parse(body, h, onboardNow)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(&queued)
	fromQueue, ok, err := DecodeInbox(raw, onboardNow)
	if err != nil || !ok || fromQueue.ID != queued.ID || fromQueue.Order.ID != queued.Order.ID {
		t.Fatalf("an aftercare event: %+v %v %v", fromQueue, ok, err)
	}
	fromBus, ok, err := DecodeInbox(envelopeFor(t, "orders/paid", testShop, "e-77", body), onboardNow)
	if err != nil || !ok || fromBus.ID != queued.ID || fromBus.Kind != aftercare.EventOrder {
		t.Fatalf("an envelope: %+v %v %v", fromBus, ok, err)
	}
	if _, ok, err := DecodeInbox(envelopeFor(t, "carts/update", testShop, "e-78", []byte(`{"id":"c1"}`)), onboardNow); ok || err != nil {
		t.Fatalf("an ignored topic is acknowledged: %v %v", ok, err)
	}
	if _, ok, err := DecodeInbox(envelopeFor(t, "orders/paid", testShop, "", body), onboardNow); ok || aftercare.ErrorCode(err) != aftercare.EINVALID {
		t.Fatalf("a broken envelope: %v %v", ok, err)
	}
}
