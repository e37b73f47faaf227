package handler_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/handler"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/shopify"
	"github.com/aftercare/aftercare/internal/state"
)

// The SES goldens were sent to this customer of this shop (their X-Aftercare-*
// headers say so).
const (
	sesShop     = "example.myshopify.com"
	sesCustomer = "115310627314723954"
	sesAddress  = "ada@example.org"
)

func golden(t *testing.T, rel string) []byte {
	t.Helper()
	root, err := devstack.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func record(id string, body []byte) events.SQSMessage {
	return events.SQSMessage{MessageId: id, Body: string(body), Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

func run(t *testing.T, p *state.Processor, recs ...events.SQSMessage) []string {
	t.Helper()
	resp, err := handler.Processor(p, nil, nil, obs.NewLogger(io.Discard, "ERROR"))(context.Background(), events.SQSEvent{Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

func loadCustomer(t *testing.T, store state.Store, shop, id string) *aftercare.Customer {
	t.Helper()
	k := state.Key{Kind: state.ItemCustomer, Shop: shop, ID: id}
	_, items, err := store.Load(context.Background(), "", []state.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	c := items.Customers[k]
	if c == nil {
		t.Fatalf("customer %s/%s not stored", shop, id)
	}
	return c
}

// SES's reports come back on the inbox (SNS, raw or enveloped): a hard bounce
// stops all email to the address, a complaint stops marketing email, a
// delivery notice changes nothing, and a redelivered report is a duplicate.
func TestSESFeedbackReachesTheCustomer(t *testing.T) {
	tiers(t, func(t *testing.T, open func(*testing.T, bool) (*state.Processor, state.Store)) {
		p, store := open(t, false)
		profile := aftercare.Event{ID: "shopify:" + sesShop + ":customers/update:ada", Kind: aftercare.EventCustomer, Source: "shopify",
			Topic: "customers/update", Shop: sesShop, At: clock.Add(-48 * 3600e9), Received: clock,
			Customer: &aftercare.CustomerInfo{ID: sesCustomer, Email: sesAddress, UpdatedAt: clock.Add(-48 * 3600e9)}}
		b, _ := json.Marshal(profile)
		if failed := run(t, p, record("m-profile", b)); len(failed) != 0 {
			t.Fatalf("profile: %v", failed)
		}
		if failed := run(t, p, record("m-delivery", golden(t, "internal/sesevents/testdata/delivery.json"))); len(failed) != 0 {
			t.Fatalf("a delivery notice is acknowledged, not retried: %v", failed)
		}
		if c := loadCustomer(t, store, sesShop, sesCustomer); c.EmailBlocked(aftercare.Marketing) != "" {
			t.Fatalf("a delivery notice blocked email: %q", c.EmailBlocked(aftercare.Marketing))
		}
		if failed := run(t, p, record("m-complaint", golden(t, "internal/sesevents/testdata/complaint.json"))); len(failed) != 0 {
			t.Fatalf("complaint: %v", failed)
		}
		c := loadCustomer(t, store, sesShop, sesCustomer)
		if c.EmailBlocked(aftercare.Marketing) == "" || c.EmailBlocked(aftercare.Transactional) != "" {
			t.Fatalf("after a complaint: marketing %q, transactional %q; want only marketing blocked",
				c.EmailBlocked(aftercare.Marketing), c.EmailBlocked(aftercare.Transactional))
		}
		bounce := golden(t, "internal/sesevents/testdata/hard-bounce.json")
		for i := 0; i < 2; i++ { // the second is SQS redelivering the same report
			if failed := run(t, p, record("m-bounce", bounce)); len(failed) != 0 {
				t.Fatalf("bounce %d: %v", i, failed)
			}
		}
		c = loadCustomer(t, store, sesShop, sesCustomer)
		if c.EmailBlocked(aftercare.Transactional) == "" {
			t.Fatal("a hard bounce must stop all email to the address")
		}
		ruling := aftercare.Judge(aftercare.Question{Stage: aftercare.AtSend, Now: clock, Settings: aftercare.DefaultSettings(),
			Customer: c, Kind: aftercare.KindOrderShipped})
		if ruling.Verdict != aftercare.VerdictSuppressed || ruling.Reason != aftercare.ReasonBounced {
			t.Fatalf("send policy after a hard bounce: %+v", ruling)
		}
	})
}

// A Shopify webhook delivered through EventBridge is applied like the same
// webhook by HTTP: same event id, so one of the two is a duplicate.
func TestEventBridgeEnvelopeIsAppliedLikeTheWebhook(t *testing.T) {
	tiers(t, func(t *testing.T, open func(*testing.T, bool) (*state.Processor, state.Store)) {
		p, store := open(t, false)
		body := golden(t, "events/webhooks/shopify/customers__update.json")
		env := map[string]any{
			"version": "0", "id": "c2a9f0e8-0000-4000-8000-000000000001", "detail-type": shopify.EventBridgeDetailType,
			"source": "aws.partner/shopify.com/1234567/aftercare", "account": "123456789012", "region": "us-east-1",
			"time": clock.Format("2006-01-02T15:04:05Z07:00"), "resources": []string{},
			"detail": map[string]any{"payload": json.RawMessage(body), "metadata": map[string]string{
				"Content-Type": "application/json", "X-Shopify-Topic": "customers/update", "X-Shopify-Shop-Domain": shop,
				"X-Shopify-Event-Id": "eb-1", "X-Shopify-API-Version": "2026-10"}},
		}
		eb, _ := json.Marshal(env)
		if failed := run(t, p, record("m-eb", eb)); len(failed) != 0 {
			t.Fatalf("eventbridge: %v", failed)
		}
		var payload struct {
			ID json.Number `json:"id"`
		}
		if err := json.Unmarshal(body, &payload); err != nil {
			t.Fatal(err)
		}
		if c := loadCustomer(t, store, shop, payload.ID.String()); c.Email == "" {
			t.Fatalf("customer from EventBridge has no email: %+v", c)
		}
		ev, err := shopify.ParseEventBridge(eb, clock)
		if err != nil {
			t.Fatal(err)
		}
		if want := "shopify:" + shop + ":customers/update:eb-1"; ev.ID != want {
			t.Fatalf("the envelope's event id %s is not the webhook's %s", ev.ID, want)
		}
	})
}

// The inbox bounds whatever it decodes, whoever sent it: an event with a 2 KB
// tracking number is unreadable (dead-lettered after its retries, where it
// alarms) and nothing of it is recorded; the same event with a real number
// is applied.
func TestInboxRefusesAnOverlongID(t *testing.T) {
	tiers(t, func(t *testing.T, open func(*testing.T, bool) (*state.Processor, state.Store)) {
		p, store := open(t, false)
		for _, c := range []struct {
			number string
			failed int
		}{{strings.Repeat("Z", 2048), 1}, {"EZ1000000001", 0}} {
			ev := aftercare.Event{ID: "easypost:evt_" + c.number[:8], Kind: aftercare.EventTracking, Source: aftercare.SourceEasyPost,
				Topic: "tracker.updated", Shop: shop, At: clock, Received: clock,
				Tracking: &aftercare.TrackingUpdate{TrackingNumber: c.number, Carrier: "USPS", Status: aftercare.StatusInTransit, EventTime: clock}}
			body, _ := json.Marshal(ev)
			if failed := run(t, p, record("m-"+c.number[:8], body)); len(failed) != c.failed {
				t.Fatalf("%d bytes: failures %v, want %d", len(c.number), failed, c.failed)
			}
			if c.failed > 0 {
				continue // a 2 KB key cannot even be asked for: nothing is stored under it
			}
			k := state.Key{Kind: state.ItemShipment, ID: aftercare.TrackingKey(c.number)}
			if _, l, err := store.Load(context.Background(), "", []state.Key{k}); err != nil || l.Shipments[k] == nil {
				t.Fatalf("%d bytes: the parcel was not recorded (err %v)", len(c.number), err)
			}
		}
	})
}
