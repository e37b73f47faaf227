package shopify

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aftercare/aftercare/internal/aftercare"
)

const (
	goldenDir = "../../events/webhooks/shopify"
	testShop  = "aftercare-demo.myshopify.com"
	testEvent = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
)

// received is when the test pretends the webhook arrived; not UTC on purpose.
var received = time.Date(2026, 11, 20, 13, 0, 0, 0, time.FixedZone("CET", 3600))

func headers(topic string) http.Header {
	h := http.Header{}
	h.Set(HeaderTopic, topic)
	h.Set(HeaderShop, testShop)
	h.Set(HeaderEventID, testEvent)
	return h
}

// topicOf names the topic a golden file holds: orders__updated_30_items.json
// is an orders/updated.
func topicOf(file string) string {
	name := strings.TrimSuffix(filepath.Base(file), ".json")
	name = strings.TrimSuffix(name, "_30_items")
	return strings.ReplaceAll(name, "__", "/")
}

// goldens holds, for every file in goldenDir, the summary its event must
// have, read off the JSON by hand (times converted to UTC by hand).
var goldens = map[string]string{
	"orders__create.json":              `order 5801234567890 #1001 at 2026-11-02T14:15:41Z | pending/ cancelled - | 7797 USD | customer 7301234567890 ada@example.com email=subscribed sms=subscribed tags=[vip prefers-sms] | items 2/2 first 13801234567001 x2 v4401234567001 p8101234567001 | tags [] | fulfillments []`,
	"orders__updated.json":             `order 5801234567890 #1001 at 2026-11-02T14:16:05Z | pending/ cancelled - | 7797 USD | customer 7301234567890 ada@example.com email=subscribed sms=subscribed tags=[vip prefers-sms] | items 2/2 first 13801234567001 x2 v4401234567001 p8101234567001 | tags [gift] | fulfillments []`,
	"orders__paid.json":                `order 5801234567890 #1001 at 2026-11-02T14:16:02Z | paid/ cancelled - | 7797 USD | customer 7301234567890 ada@example.com email=subscribed sms=subscribed tags=[vip prefers-sms] | items 2/2 first 13801234567001 x2 v4401234567001 p8101234567001 | tags [] | fulfillments []`,
	"orders__cancelled.json":           `order 5801234567890 #1001 at 2026-11-02T16:00:01Z | refunded/ cancelled 2026-11-02T16:00:00Z | 7797 USD | customer 7301234567890 ada@example.com email=subscribed sms=subscribed tags=[vip prefers-sms] | items 2/2 first 13801234567001 x2 v4401234567001 p8101234567001 | tags [] | fulfillments []`,
	"orders__partially_fulfilled.json": `order 5801234567890 #1001 at 2026-11-03T19:02:12Z | paid/partial cancelled - | 7797 USD | customer 7301234567890 ada@example.com email=subscribed sms=subscribed tags=[vip prefers-sms] | items 2/2 first 13801234567001 x2 v4401234567001 p8101234567001 | tags [] | fulfillments [4901234567890 [9400110898825022579493] USPS success -/]`,
	"orders__fulfilled.json":           `order 5801234567890 #1001 at 2026-11-04T15:30:01Z | paid/fulfilled cancelled - | 7797 USD | customer 7301234567890 ada@example.com email=subscribed sms=subscribed tags=[vip prefers-sms] | items 2/2 first 13801234567001 x2 v4401234567001 p8101234567001 | tags [] | fulfillments [4901234567890 [9400110898825022579493] USPS success -/ 4901234567891 [1Z999AA10123456784] UPS success -/]`,
	"orders__updated_30_items.json":    `order 5801234567890 #1001 at 2026-11-02T14:20:00Z | paid/ cancelled - | 7797 USD | customer 7301234567890 ada@example.com email=subscribed sms=subscribed tags=[vip prefers-sms] | items 30/30 first 13801234567100 x1 v4401234568000 p8101234568000 | tags [wholesale aftercare:backorder] | fulfillments []`,

	"fulfillments__create.json":       `fulfillment 4901234567890 order 5801234567890 at 2026-11-03T19:02:11Z | [9400110898825022579493] USPS success | shipment -/ playbook= | items [13801234567001]`,
	"fulfillments__update.json":       `fulfillment 4901234567890 order 5801234567890 at 2026-11-04T13:12:00Z | [9400110898825022579493] USPS success | shipment in_transit/in_transit playbook= | items [13801234567001]`,
	"fulfillment_events__create.json": `tracking fulfillment 4901234567890 order 5801234567890 at 2026-11-06T12:41:00Z | out_for_delivery playbook= detail=out_for_delivery | eta 2026-11-06T23:00:00Z | Out for delivery`,

	"customers__create.json": `customer 7301234567890 ada@example.com +16135550142 Ada Lovelace at 2026-11-02T14:15:41Z | email=subscribed@2026-09-01T14:12:00Z sms=subscribed@2026-09-01T14:12:00Z | tags [vip prefers-sms] deleted=false`,
	"customers__update.json": `customer 7301234567890 ada@example.com +16135550142 Ada King at 2026-11-10T17:00:00Z | email=subscribed@2026-09-01T14:12:00Z sms=subscribed@2026-09-01T14:12:00Z | tags [vip prefers-sms] deleted=false`,
	"customers__delete.json": `customer 7301234567890 - - - - at 2026-11-20T12:00:00Z | email=@- sms=@- | tags [] deleted=true`,

	"customers_email_marketing_consent__update.json": `consent 7301234567890 email ada@example.com unsubscribed at 2026-11-12T21:20:00Z`,
	"customers_marketing_consent__update.json":       `consent 7301234567890 sms +16135550142 subscribed at 2026-11-12T21:21:00Z`,

	"inventory_levels__update.json": `inventory 46101234567001 at 61234567890 = 24 at 2026-11-14T14:00:00Z`,
	"products__create.json":         `product 8101234567001 Ethiopia Guji Whole Bean 340g at 2026-08-01T14:00:00Z | 4401234567001 inv 46101234567001 qty 0 tracked=true; 4401234567003 inv 46101234567003 qty 12 tracked=true`,
	"products__update.json":         `product 8101234567001 Ethiopia Guji Whole Bean 340g at 2026-11-14T14:00:00Z | 4401234567001 inv 46101234567001 qty 24 tracked=true; 4401234567003 inv 46101234567003 qty 12 tracked=true`,
	"refunds__create.json":          `refund 9201234567890 order 5801234567890 3616 cents at 2026-11-15T15:00:00Z`,

	"customers__data_request.json": `data_request customer 7301234567890 ada@example.com +16135550142 orders [5801234567890] request 9999 at 2026-11-20T12:00:00Z`,
	"customers__redact.json":       `customer_redact customer 7301234567890 ada@example.com +16135550142 orders [5801234567890] request - at 2026-11-20T12:00:00Z`,
	"shop__redact.json":            `shop_redact customer - - - orders [] request - at 2026-11-20T12:00:00Z`,

	// At is when it arrived, not the shop record's updated_at.
	"app__uninstalled.json": `shop_uninstalled aftercare-demo.myshopify.com at 2026-11-20T12:00:00Z`,
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339Nano)
}

func or(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// summary renders what the golden test asserts on one line. Times print
// with their zone, so a time that is not UTC cannot match.
func summary(ev aftercare.Event) string {
	at := ts(ev.At)
	switch ev.Kind {
	case aftercare.EventOrder:
		o := ev.Order
		c := o.Customer
		var fs []string
		for _, f := range o.Fulfillments {
			fs = append(fs, fmt.Sprintf("%s %v %s %s %s/%s", f.ID, f.TrackingNumbers, f.TrackingCompany, f.Status, or(string(f.Shipment)), f.ShipmentException))
		}
		li := o.LineItems[0]
		return fmt.Sprintf("order %s %s at %s | %s/%s cancelled %s | %d %s | customer %s %s email=%s sms=%s tags=%v | items %d/%d first %s x%d v%s p%s | tags %v | fulfillments [%s]",
			o.ID, o.Name, at, o.FinancialStatus, o.FulfillmentStatus, ts(o.CancelledAt), o.TotalCents, o.Currency,
			c.ID, c.Email, c.EmailConsent.State, c.SMSConsent.State, c.Tags, len(o.LineItems), o.LineItemCount, li.ID, li.Quantity, li.VariantID, li.ProductID,
			fmtList(o.Tags), strings.Join(fs, " "))
	case aftercare.EventFulfillment:
		f := ev.Fulfillment
		return fmt.Sprintf("fulfillment %s order %s at %s | %v %s %s | shipment %s/%s playbook=%s | items %v",
			f.ID, f.OrderID, at, f.TrackingNumbers, f.TrackingCompany, f.Status, or(string(f.Shipment)), f.ShipmentDetail, f.ShipmentException, f.LineItemIDs)
	case aftercare.EventTracking:
		tr := ev.Tracking
		return fmt.Sprintf("tracking fulfillment %s order %s at %s | %s playbook=%s detail=%s | eta %s | %s",
			tr.FulfillmentID, tr.OrderID, at, tr.Status, tr.Exception, tr.Detail, ts(tr.EstimatedDelivery), tr.Message)
	case aftercare.EventCustomer:
		c := ev.Customer
		return fmt.Sprintf("customer %s %s %s %s %s at %s | email=%s@%s sms=%s@%s | tags %v deleted=%t",
			c.ID, or(c.Email), or(c.Phone), or(c.FirstName), or(c.LastName), at, c.EmailConsent.State, ts(c.EmailConsent.UpdatedAt),
			c.SMSConsent.State, ts(c.SMSConsent.UpdatedAt), fmtList(c.Tags), c.Deleted)
	case aftercare.EventConsent:
		c := ev.Consent
		return fmt.Sprintf("consent %s %s %s %s at %s", c.CustomerID, c.Channel, c.Contact, c.Consent.State, at)
	case aftercare.EventInventory:
		l := ev.Inventory
		return fmt.Sprintf("inventory %s at %s = %d at %s", l.InventoryItemID, l.LocationID, l.Available, at)
	case aftercare.EventProduct:
		p := ev.Product
		var vs []string
		for _, v := range p.Variants {
			vs = append(vs, fmt.Sprintf("%s inv %s qty %d tracked=%t", v.ID, v.InventoryItemID, *v.InventoryQuantity, v.Tracked))
		}
		return fmt.Sprintf("product %s %s at %s | %s", p.ID, p.Title, at, strings.Join(vs, "; "))
	case aftercare.EventRefund:
		r := ev.Refund
		return fmt.Sprintf("refund %s order %s %d cents at %s", r.ID, r.OrderID, r.AmountCents, at)
	case aftercare.EventDataRequest, aftercare.EventCustomerRedact, aftercare.EventShopRedact:
		p := ev.Privacy
		return fmt.Sprintf("%s customer %s %s %s orders %s request %s at %s", ev.Kind, or(p.CustomerID), or(p.Email), or(p.Phone), fmtList(p.Orders), or(p.DataRequestID), at)
	case aftercare.EventShopUninstalled:
		return fmt.Sprintf("%s %s at %s", ev.Kind, ev.Shop, at)
	}
	return "ignored " + ev.Topic
}

func fmtList(l []string) string { return fmt.Sprint(append([]string{}, l...)) }

func TestParseGoldenEvents(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if len(files) != len(goldens) {
		t.Errorf("goldens lists %d files, %s has %d", len(goldens), goldenDir, len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, ok := goldens[filepath.Base(f)]
			if !ok {
				t.Fatalf("no expected summary for %s", f)
			}
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			topic := topicOf(f)
			ev, err := Source{}.Parse(body, headers(topic), received)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := summary(ev); got != want {
				t.Errorf("summary\n got %s\nwant %s", got, want)
			}
			if wantID := "shopify:" + testShop + ":" + topic + ":" + testEvent; ev.ID != wantID || ev.Shop != testShop || ev.Topic != topic || ev.Source != "shopify" {
				t.Errorf("id %q shop %q topic %q source %q; want id %q", ev.ID, ev.Shop, ev.Topic, ev.Source, wantID)
			}
			if !ev.Received.Equal(received) || ev.Received.Location() != time.UTC {
				t.Errorf("received %v, want %v in UTC", ev.Received, received)
			}
			// The queued form is small and round-trips.
			b, err := json.Marshal(ev)
			if err != nil || len(b) > 64<<10 {
				t.Fatalf("encoded event: %d bytes, %v", len(b), err)
			}
			var back aftercare.Event
			if err := json.Unmarshal(b, &back); err != nil || summary(back) != want {
				t.Fatalf("round trip: %v\n%s", err, summary(back))
			}
		})
	}
}

func TestShipmentStatuses(t *testing.T) {
	// Every value Shopify documents for shipment_status and fulfillment events.
	want := map[string]outcome{
		"label_printed":      {aftercare.StatusPreTransit, ""},
		"label_purchased":    {aftercare.StatusPreTransit, ""},
		"confirmed":          {aftercare.StatusPreTransit, ""},
		"carrier_picked_up":  {aftercare.StatusInTransit, ""},
		"in_transit":         {aftercare.StatusInTransit, ""},
		"out_for_delivery":   {aftercare.StatusOutForDelivery, ""},
		"attempted_delivery": {aftercare.StatusAttemptedDelivery, aftercare.ExceptionFailedDelivery},
		"ready_for_pickup":   {aftercare.StatusAvailableForPickup, aftercare.ExceptionFailedDelivery},
		"picked_up":          {aftercare.StatusDelivered, ""},
		"delivered":          {aftercare.StatusDelivered, ""},
		"delayed":            {aftercare.StatusException, aftercare.ExceptionDelay},
		"failure":            {aftercare.StatusException, aftercare.ExceptionDelay},
		"":                   {aftercare.StatusUnknown, ""},
		"teleported":         {aftercare.StatusUnknown, ""},
		"DELIVERED":          {aftercare.StatusUnknown, ""}, // Shopify sends lower case; the detail keeps the raw value
	}
	for in, w := range want {
		if got := shipmentStatus(in); got != w {
			t.Errorf("%q: got %+v, want %+v", in, got, w)
		}
	}
	for k := range statuses {
		if _, ok := want[k]; !ok {
			t.Errorf("status %q is mapped but not tested", k)
		}
	}
}

func mustParse(t *testing.T, topic, body string, h http.Header) aftercare.Event {
	t.Helper()
	if h == nil {
		h = headers(topic)
	}
	ev, err := Source{}.Parse([]byte(body), h, received)
	if err != nil {
		t.Fatalf("parse %s: %v", topic, err)
	}
	return ev
}

func TestParseRejects(t *testing.T) {
	noShop := headers("orders/create")
	noShop.Del(HeaderShop)
	noTopic := headers("")
	cases := []struct {
		name  string
		topic string
		h     http.Header
		body  string
		says  string
	}{
		{"no topic", "", noTopic, `{}`, "X-Shopify-Topic"},
		{"topic with spaces", "orders/ create", nil, `{}`, "topic"},
		{"no shop", "orders/create", noShop, `{"id":1}`, "X-Shopify-Shop-Domain"},
		{"shop not a domain", "orders/create", func() http.Header { h := headers("orders/create"); h.Set(HeaderShop, "evil shop/../x"); return h }(), `{"id":1}`, "not a shop domain"},
		{"not json", "orders/create", nil, `<order id="1"/>`, "not the expected JSON"},
		{"truncated json", "orders/create", nil, `{"id": 1, "line_items": [`, "not the expected JSON"},
		{"array body", "orders/create", nil, `[1,2]`, "not the expected JSON"},
		{"line items not a list", "orders/updated", nil, `{"id":1,"line_items":"many"}`, "not the expected JSON"},
		{"fractional id", "orders/create", nil, `{"id":1.5}`, "not the expected JSON"},
		{"boolean id", "orders/create", nil, `{"id":true}`, "not the expected JSON"},
		{"huge id", "orders/create", nil, `{"id":"` + strings.Repeat("9", 200) + `"}`, "not the expected JSON"},
		{"no order id", "orders/paid", nil, `{"name":"#1001"}`, "order id is missing"},
		{"bad total", "orders/create", nil, `{"id":1,"total_price":"12,30"}`, "not the expected JSON"},
		{"bad time", "orders/create", nil, `{"id":1,"updated_at":"yesterday"}`, "updated_at"},
		{"fulfillment without order", "fulfillments/create", nil, `{"id":7}`, "order_id"},
		{"event without fulfillment", "fulfillment_events/create", nil, `{"id":7,"order_id":1,"status":"delivered"}`, "fulfillment_id"},
		{"customer without id", "customers/update", nil, `{"email":"a@b.c"}`, "customer id"},
		{"consent without customer", "customers_email_marketing_consent/update", nil, `{"email_marketing_consent":{"state":"subscribed"}}`, "customer id"},
		{"inventory without item", "inventory_levels/update", nil, `{"available":3}`, "inventory_item_id"},
		{"refund without order", "refunds/create", nil, `{"id":3}`, "order_id"},
		{"redact without customer", "customers/redact", nil, `{"shop_domain":"x.myshopify.com"}`, "customer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := c.h
			if h == nil {
				h = headers(c.topic)
			}
			_, err := Source{}.Parse([]byte(c.body), h, received)
			if aftercare.ErrorCode(err) != aftercare.EINVALID {
				t.Fatalf("got %v, want an %s error", err, aftercare.EINVALID)
			}
			if msg := aftercare.ErrorMessage(err); !strings.Contains(msg, c.says) {
				t.Errorf("message %q does not mention %q", msg, c.says)
			}
		})
	}
}

func TestIgnoredTopicsAreNotDecoded(t *testing.T) {
	for _, topic := range []string{"app_subscriptions/update", "carts/update", "orders/edited", "themes/publish"} {
		ev, err := Source{}.Parse([]byte("this is not JSON at all"), headers(topic), received)
		if topic == "orders/edited" {
			// Handled topic whose payload we do not need: decoded by nobody, still ignored.
			ev, err = Source{}.Parse([]byte(`{"order_edit":{"id":1}}`), headers(topic), received)
		}
		if err != nil || ev.Kind != "" || ev.Topic != topic || ev.Shop != testShop {
			t.Errorf("%s: kind %q topic %q err %v; want ignored", topic, ev.Kind, ev.Topic, err)
		}
	}
	// Nothing to apply: consent without a state, inventory no longer tracked.
	for topic, body := range map[string]string{
		"customers_marketing_consent/update": `{"id":1,"phone":null,"sms_marketing_consent":{"state":null,"opt_in_level":null,"consent_updated_at":null}}`,
		"inventory_levels/update":            `{"inventory_item_id":1,"location_id":2,"available":null,"updated_at":"2026-11-01T00:00:00Z"}`,
	} {
		if ev := mustParse(t, topic, body, nil); ev.Kind != "" {
			t.Errorf("%s: kind %q, want ignored", topic, ev.Kind)
		}
	}
}

func TestIDsAsNumbersOrStrings(t *testing.T) {
	a := mustParse(t, "orders/create", `{"id":5801234567890,"customer":{"id":7301234567890},"line_items":[{"id":1,"variant_id":2,"product_id":null,"quantity":1}]}`, nil)
	b := mustParse(t, "orders/create", `{"id":"5801234567890","customer":{"id":"7301234567890"},"line_items":[{"id":"1","variant_id":"2","quantity":1}]}`, nil)
	if summary(a) != summary(b) {
		t.Fatalf("number and string ids differ:\n%s\n%s", summary(a), summary(b))
	}
	if a.Order.LineItems[0].ProductID != "" {
		t.Errorf("null product_id gave %q", a.Order.LineItems[0].ProductID)
	}
}

func TestMoney(t *testing.T) {
	good := map[string]int64{`"77.97"`: 7797, `"0"`: 0, `"10"`: 1000, `"10.5"`: 1050, `"-3.20"`: -320, `"1.005"`: 101, `"1.004"`: 100,
		`"0.001"`: 0, `"123456789012.34"`: 12345678901234, `77.97`: 7797, `null`: 0, `".5"`: 50, `"+2.00"`: 200}
	for in, want := range good {
		var m money
		if err := m.UnmarshalJSON([]byte(in)); err != nil || int64(m) != want {
			t.Errorf("%s: got %d, %v; want %d", in, m, err, want)
		}
	}
	for _, in := range []string{`""`, `"abc"`, `"1.2.3"`, `1e3`, `"12,30"`, `"-"`, `"."`, `"1234567890123456.00"`, `"$5"`} {
		var m money
		if err := m.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("%s: accepted as %d", in, m)
		}
	}
}

func TestGuestCheckout(t *testing.T) {
	ev := mustParse(t, "orders/create", `{"id":1,"email":" Guest@Example.com ","phone":"+15550100","customer":null}`, nil)
	c := ev.Order.Customer
	if c == nil || c.ID != aftercare.GuestID("guest@example.com") || c.Email != "Guest@Example.com" || c.Phone != "+15550100" {
		t.Fatalf("guest customer %+v", c)
	}
	// contact_email stands in for a missing email.
	ev = mustParse(t, "orders/create", `{"id":1,"contact_email":"c@example.com"}`, nil)
	if ev.Order.Customer == nil || ev.Order.Customer.ID != aftercare.GuestID("c@example.com") {
		t.Fatalf("contact_email guest %+v", ev.Order.Customer)
	}
	// No contact at all: no customer.
	if ev := mustParse(t, "orders/create", `{"id":1}`, nil); ev.Order.Customer != nil {
		t.Fatalf("contactless order got customer %+v", ev.Order.Customer)
	}
	// A customer without an email gets the order's.
	ev = mustParse(t, "orders/create", `{"id":1,"email":"o@example.com","customer":{"id":9,"email":null}}`, nil)
	if ev.Order.Customer.ID != "9" || ev.Order.Customer.Email != "o@example.com" {
		t.Fatalf("customer contact %+v", ev.Order.Customer)
	}
}

func TestBounds(t *testing.T) {
	title := strings.Repeat("é", 100) // 200 bytes
	var items []string
	for i := 0; i < 600; i++ {
		items = append(items, fmt.Sprintf(`{"id":%d,"variant_id":%d,"title":%q,"quantity":1}`, i+1, i+1, title))
	}
	body := `{"id":1,"tags":"` + strings.Repeat("t,", 300) + `","line_items":[` + strings.Join(items, ",") + `]}`
	ev := mustParse(t, "orders/updated", body, nil)
	o := ev.Order
	if len(o.LineItems) != MaxLineItems || o.LineItemCount != 600 {
		t.Fatalf("kept %d of %d line items", len(o.LineItems), o.LineItemCount)
	}
	if got := o.LineItems[0].Title; len(got) > MaxTitle || !utf8.ValidString(got) || !strings.HasPrefix(title, got) {
		t.Fatalf("title %d bytes, valid %t", len(got), utf8.ValidString(got))
	}
	if len(o.Tags) != maxTags {
		t.Fatalf("%d tags kept", len(o.Tags))
	}
}

func TestTagsAndTracking(t *testing.T) {
	ev := mustParse(t, "orders/updated", `{"id":1,"tags":["aftercare:damaged"," vip ",""],"fulfillments":[{"id":5,"tracking_number":"9400 1108 9882 5022 5794 93","tracking_numbers":["9400110898825022579493","1Z999AA10123456784"],"shipment_status":"delivered"}]}`, nil)
	if fmt.Sprint(ev.Order.Tags) != "[aftercare:damaged vip]" {
		t.Errorf("tags %v", ev.Order.Tags)
	}
	f := ev.Order.Fulfillments[0]
	if fmt.Sprint(f.TrackingNumbers) != "[9400 1108 9882 5022 5794 93 1Z999AA10123456784]" || f.OrderID != "1" || f.Shipment != aftercare.StatusDelivered {
		t.Errorf("fulfillment %+v", f)
	}
}

func TestEventIDFallbacks(t *testing.T) {
	body := `{"id":1}`
	h := headers("orders/paid")
	h.Del(HeaderEventID)
	h.Set(HeaderWebhookID, "wh-123")
	if ev := mustParse(t, "orders/paid", body, h); ev.ID != "shopify:"+testShop+":orders/paid:wh-123" {
		t.Errorf("webhook id fallback: %s", ev.ID)
	}
	h.Del(HeaderWebhookID)
	a, b := mustParse(t, "orders/paid", body, h), mustParse(t, "orders/paid", `{"id":2}`, h)
	if !strings.HasPrefix(a.ID, "shopify:"+testShop+":orders/paid:sha256-") || a.ID == b.ID || a.ID != mustParse(t, "orders/paid", body, h).ID {
		t.Errorf("digest fallback: %s vs %s", a.ID, b.ID)
	}
	h.Set(HeaderEventID, strings.Repeat("x y", 100))
	if ev := mustParse(t, "orders/paid", body, h); len(ev.ID) > 100 || strings.Contains(ev.ID, " ") {
		t.Errorf("odd event id kept raw: %q", ev.ID)
	}
}

// A signed privacy body replayed with another shop's header must not act on
// that shop: the HMAC covers the body, never X-Shopify-Shop-Domain.
func TestPrivacyBindsBodyShopToHeader(t *testing.T) {
	for _, topic := range []string{"customers/data_request", "customers/redact", "shop/redact"} {
		golden, err := os.ReadFile("../../events/webhooks/shopify/" + strings.ReplaceAll(topic, "/", "__") + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			ShopDomain string `json:"shop_domain"`
		}
		if err := json.Unmarshal(golden, &doc); err != nil || doc.ShopDomain == "" {
			t.Fatalf("%s golden has no shop_domain: %v", topic, err)
		}
		own := headers(topic)
		own.Set(HeaderShop, strings.ToUpper(doc.ShopDomain)) // case differs, shop is the same
		ev := mustParse(t, topic, string(golden), own)
		if ev.Shop != doc.ShopDomain || ev.Privacy == nil {
			t.Fatalf("%s under its own shop: shop %q privacy %+v", topic, ev.Shop, ev.Privacy)
		}
		cases := []struct {
			name, shop, body, says string
		}{
			{"another shop's header", "victim.myshopify.com", string(golden), "does not match"},
			{"no header", "", string(golden), HeaderShop},
			{"no shop_domain", doc.ShopDomain, `{"shop_id":1,"customer":{"id":2},"data_request":{"id":3}}`, "shop_domain is required"},
			{"shop_domain not a domain", doc.ShopDomain, `{"shop_domain":"a b","customer":{"id":2}}`, "not a shop domain"},
			{"shop_id not an id", doc.ShopDomain, `{"shop_id":"gid x","shop_domain":"` + doc.ShopDomain + `","customer":{"id":2}}`, "shop_id"},
			{"null body", doc.ShopDomain, `null`, "object"},
		}
		for _, c := range cases {
			h := headers(topic)
			h.Set(HeaderShop, c.shop)
			if c.shop == "" {
				h.Del(HeaderShop)
			}
			ev, err := Source{}.Parse([]byte(c.body), h, received)
			if aftercare.ErrorCode(err) != aftercare.EINVALID || !strings.Contains(aftercare.ErrorMessage(err), c.says) {
				t.Errorf("%s, %s: got %v (kind %q), want an %s error mentioning %q", topic, c.name, err, ev.Kind, aftercare.EINVALID, c.says)
			}
		}
	}
}

// Every handled topic refuses a body that is not a JSON object.
func TestEveryTopicWantsAnObject(t *testing.T) {
	for topic := range topics {
		for _, body := range []string{`null`, `[]`, `"x"`, `7`, ` `} {
			if _, err := (Source{}).Parse([]byte(body), headers(topic), received); aftercare.ErrorCode(err) != aftercare.EINVALID {
				t.Errorf("%s %q: got %v, want %s", topic, body, err, aftercare.EINVALID)
			}
		}
	}
}
