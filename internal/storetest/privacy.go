package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/ledger"
	"github.com/aftercare/aftercare/internal/rules"
	"github.com/aftercare/aftercare/internal/state"
)

// Dumper is a store that can show every item it holds as text, as a scan of
// the whole table would (keys, attributes and documents): what the privacy
// cases search for a redacted customer's id and contact.
type Dumper interface {
	Dump(ctx context.Context) ([]string, error)
}

// outbox records what a processor queues, so a test can feed internal
// events (continuations) back in and see what a redrive re-sends.
type outbox struct {
	mu     sync.Mutex
	msgs   []aftercare.Message
	events []aftercare.Event
}

func (o *outbox) SendMessages(_ context.Context, msgs []aftercare.Message, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, msgs...)
	return nil
}

func (o *outbox) SendEvents(_ context.Context, evs []aftercare.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, evs...)
	return nil
}

// take returns and forgets what was queued.
func (o *outbox) take() ([]aftercare.Message, []aftercare.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	m, e := o.msgs, o.events
	o.msgs, o.events = nil, nil
	return m, e
}

type defaults struct{}

func (defaults) Settings(context.Context, string) (aftercare.Settings, error) {
	return aftercare.DefaultSettings(), nil
}

// tombstoneKey is the suite's secret for keyed tombstones.
var tombstoneKey = []byte("contract-tombstone-key")

func processor(s Store, out *outbox, page int) *state.Processor {
	return &state.Processor{
		Store: s, Outbox: out, Settings: defaults{}, Rules: rules.Rules{},
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return Now },
		TombstoneKey: tombstoneKey, RedactPage: page,
	}
}

func privacyEvent(id string, kind aftercare.EventKind, topic, shopDomain string, req *aftercare.PrivacyRequest) *aftercare.Event {
	return &aftercare.Event{ID: id, Kind: kind, Source: aftercare.SourceShopify, Topic: topic, Shop: shopDomain,
		At: Now, Received: Now, Privacy: req}
}

// customerEvent is an event naming a customer that was applied before: its
// dedupe record (with outbox) is what a redrive finds.
func customerEvent(id, customerID string) *aftercare.Event {
	return &aftercare.Event{ID: id, Kind: aftercare.EventCustomer, Source: aftercare.SourceShopify, Topic: "customers/update",
		Shop: shop, At: Now, Received: Now, Customer: &aftercare.CustomerInfo{ID: customerID, UpdatedAt: Now}}
}

func message(kind aftercare.Kind, customerID, cause string) aftercare.Message {
	m := aftercare.Message{Kind: kind, Shop: shop, CustomerID: customerID}
	m.Stamp(Now, cause)
	return m
}

// seedCustomer stores a customer with everything that can name them: the
// customer item, an order with a parcel and a waiting entry, a marketing
// claim (ledger entry and cap slot), a recorded decision, and an applied
// event whose stored outbox holds their messages.
func seedCustomer(t *testing.T, s Store, id, email, eventID string) {
	t.Helper()
	orderID := "ord-" + id[len(id)-4:]
	c := &aftercare.Customer{Shop: shop, ID: id, Email: email, FirstName: "Ada", Phone: "+1555" + id[len(id)-4:],
		Orders: []aftercare.OrderRef{{ID: orderID, At: Now, Cents: 1200}}}
	o := &aftercare.Order{Shop: shop, ID: orderID, Name: "#1", CustomerID: id, Backordered: []string{"v9"},
		Shipments: map[string]aftercare.Parcel{"TRK-" + id[len(id)-4:]: {Status: aftercare.StatusInTransit}}}
	p := &aftercare.Shipment{Key: "TRK-" + id[len(id)-4:], Shop: shop, OrderID: orderID, CustomerID: id}
	w := &state.Wait{Shop: shop, VariantID: "v9", OrderID: orderID, CustomerID: id, Since: Now, Version: -1}
	if err := s.PutAll(ctx, []state.Entity{{Customer: c}, {Order: o}, {Shipment: p}, {Wait: w}}); err != nil {
		t.Fatal(err)
	}
	wb := message(aftercare.KindWinBack, id, "wb-"+id)
	if _, err := s.Claim(ctx, ledger.Claim{Shop: shop, ID: wb.ID, Token: "tok", Kind: wb.Kind, CustomerID: id,
		Lease: Now.Add(time.Minute), Now: Now, CapSince: Now.Add(-24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, ledger.Record{Shop: shop, ID: wb.ID, Kind: wb.Kind, Decision: ledger.Sent, Token: "tok",
		Channel: aftercare.ChannelEmail, At: Now, CustomerID: id, OrderID: orderID}); err != nil {
		t.Fatal(err)
	}
	shipped := message(aftercare.KindOrderShipped, id, "sh-"+id)
	if err := s.Record(ctx, ledger.Record{Shop: shop, ID: shipped.ID, Kind: shipped.Kind, Decision: ledger.Suppressed,
		Why: "no contact", At: Now, CustomerID: id, OrderID: orderID}); err != nil {
		t.Fatal(err)
	}
	task := message(aftercare.KindSupportTask, id, "task-"+id)
	mustCommit(t, s, &state.Commit{Dedupe: &state.Dedupe{ID: eventID, Shop: shop, Topic: "customers/update", At: Now,
		Outbox: []aftercare.Message{shipped, task}}})
}

// redactLeavesNoTrace: after customers/redact no item names the customer,
// neither by id (account or guest) nor by contact, and nobody else's data is
// touched; a redrive of an event applied before sends nothing to them.
func redactLeavesNoTrace(t *testing.T, s Store) {
	dump, ok := s.(Dumper)
	if !ok {
		t.Fatal("the store under contract cannot list its items (Dumper)")
	}
	const gone, kept = "cust-4711", "cust-5822"
	email := "redact.me@example.com"
	seedCustomer(t, s, gone, email, "ev-gone")
	seedCustomer(t, s, kept, "keep.me@example.com", "ev-kept")
	// An old-scheme tombstone of the guest id and a mixed outbox owned by
	// the other customer (the owner index files it under them only).
	guest := aftercare.GuestID(email)
	old := &aftercare.Customer{Shop: shop, ID: guest}
	old.Redact(Now.Add(-time.Hour))
	mixed := []aftercare.Message{message(aftercare.KindOrderShipped, kept, "mixed-k"), message(aftercare.KindDeliveredSetup, gone, "mixed-g")}
	if err := s.PutAll(ctx, []state.Entity{{Customer: old}}); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, s, &state.Commit{Dedupe: &state.Dedupe{ID: "ev-mixed", Shop: shop, At: Now, Outbox: mixed}})

	out := &outbox{}
	p := processor(s, out, 0)
	req := &aftercare.PrivacyRequest{CustomerID: gone, Email: email, Orders: []string{"ord-4711"}}
	redact := privacyEvent("ev-redact", aftercare.EventCustomerRedact, "customers/redact", shop, req)
	for i := 0; i < 2; i++ { // the second copy is a duplicate and changes nothing
		if _, err := p.Process(ctx, redact); err != nil {
			t.Fatalf("customers/redact: %v", err)
		}
	}
	// A redrive of every event applied before sends nothing to the
	// redacted customer, and still sends the other customer's messages.
	out.take()
	for _, ev := range []*aftercare.Event{customerEvent("ev-gone", gone), customerEvent("ev-kept", kept), customerEvent("ev-mixed", kept), redact} {
		if _, err := p.Process(ctx, ev); err != nil {
			t.Fatalf("redrive %s: %v", ev.ID, err)
		}
	}
	msgs, evs := out.take()
	sentKept := 0
	for _, m := range msgs {
		if m.CustomerID == gone {
			t.Errorf("a redrive re-sent %s to the redacted customer", m.Kind)
		}
		if m.CustomerID == kept {
			sentKept++
		}
	}
	if sentKept != 3 || len(evs) != 0 {
		t.Errorf("redrive sent %d messages to the other customer (want 3) and %d events", sentKept, len(evs))
	}
	// A later event for the redacted customer does not bring them back.
	late := customerEvent("ev-late", gone)
	late.Customer.Email, late.Customer.UpdatedAt = email, Now.Add(time.Hour)
	if _, err := p.Process(ctx, late); err != nil {
		t.Fatal(err)
	}
	// Nor does a late order webhook (with a parcel) store their id again.
	later := Now.Add(2 * time.Hour)
	lateOrder := &aftercare.Event{ID: "ev-late-order", Kind: aftercare.EventOrder, Source: aftercare.SourceShopify, Topic: "orders/updated",
		Shop: shop, At: later, Received: later, Order: &aftercare.OrderSnapshot{ID: "ord-4711", Name: "#1",
			Customer: &aftercare.CustomerInfo{ID: gone, Email: email, UpdatedAt: later}, Email: email,
			CreatedAt: Now, UpdatedAt: later, FinancialStatus: "paid", FulfillmentStatus: "fulfilled",
			Fulfillments: []aftercare.Fulfillment{{ID: "f1", OrderID: "ord-4711", Status: "success", TrackingNumbers: []string{"1ZLATE000000000001"}}}}}
	if _, err := p.Process(ctx, lateOrder); err != nil {
		t.Fatal(err)
	}
	if got := load(t, s, key(state.ItemCustomer, gone), key(state.ItemCustomer, guest)); len(got.Customers) != 0 {
		t.Errorf("a late event brought the redacted customer back: %+v", got.Customers)
	}
	if msgs, _ := out.take(); len(msgs) != 0 {
		t.Errorf("late events for a redacted customer queued %d messages", len(msgs))
	}
	items, err := dump.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keptSeen bool
	for _, it := range items {
		if strings.Contains(it, "ev-mixed") {
			// A record naming two customers is filed under its first only;
			// checked below: a redrive of it sends nothing to the redacted one.
			continue
		}
		for _, bad := range []string{gone, email, guest, "+15554711", "TRK-4711"} {
			if strings.Contains(it, bad) {
				t.Errorf("after customers/redact an item still names the customer (%q): %s", bad, it)
			}
		}
		keptSeen = keptSeen || strings.Contains(it, "keep.me@example.com")
	}
	if !keptSeen {
		t.Errorf("the other customer's data went too")
	}
	for _, id := range []string{gone, guest} {
		tk := key(state.ItemCustomer, aftercare.TombstoneID(tombstoneKey, shop, id))
		if c := load(t, s, tk).Customers[tk]; c == nil || !c.Redacted || c.Email != "" {
			t.Errorf("tombstone of %s: %+v", id, c)
		}
	}
}

// shopRedactPages: shop/redact over a shop far larger than one page finishes
// over several continuations, each a bounded page, and leaves nothing of the
// shop: its items, its orders' parcels and its messages in stored outboxes.
func shopRedactPages(t *testing.T, s Store) {
	const n = 2500
	other := "other-" + shop
	var items []state.Entity
	for i := 0; i < n; i++ {
		switch i % 5 {
		case 0:
			id := fmt.Sprintf("o%d", i)
			items = append(items, state.Entity{Order: &aftercare.Order{Shop: shop, ID: id, Name: "#" + id,
				Shipments: map[string]aftercare.Parcel{"P" + id: {Status: aftercare.StatusDelivered}}}},
				state.Entity{Shipment: &aftercare.Shipment{Key: "P" + id, Shop: shop, OrderID: id}})
		case 1:
			items = append(items, customer(fmt.Sprintf("c%d", i), time.Time{}))
		default:
			items = append(items, inventory(fmt.Sprintf("i%d", i), i))
		}
	}
	items = append(items, state.Entity{Order: &aftercare.Order{Shop: other, ID: "keep", Name: "#keep"}})
	if err := s.PutAll(ctx, items); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		c := fmt.Sprintf("c%d", i*5+1)
		m := message(aftercare.KindOrderShipped, c, "s")
		mustCommit(t, s, &state.Commit{Dedupe: &state.Dedupe{ID: "ev-" + c, Shop: shop, At: Now, Outbox: []aftercare.Message{m}}})
		if err := s.Record(ctx, ledger.Record{Shop: shop, ID: m.ID, Kind: m.Kind, Decision: ledger.Suppressed, At: Now, CustomerID: c}); err != nil {
			t.Fatal(err)
		}
	}

	out := &outbox{}
	p := processor(s, out, 100)
	queue := []*aftercare.Event{privacyEvent("ev-shop-redact", aftercare.EventShopRedact, "shop/redact", shop, &aftercare.PrivacyRequest{ShopID: "1"})}
	invocations := 0
	var first *aftercare.Event
	for len(queue) > 0 {
		ev := queue[0]
		queue = queue[1:]
		invocations++
		if invocations > 200 {
			t.Fatal("shop/redact does not finish")
		}
		if _, err := p.Process(ctx, ev); err != nil {
			t.Fatalf("invocation %d: %v", invocations, err)
		}
		_, evs := out.take()
		for i := range evs {
			if first == nil {
				first = &evs[i]
			}
			queue = append(queue, &evs[i])
		}
	}
	t.Logf("shop/redact of %d items at 100 a page: %d invocations", n, invocations)
	if invocations < 20 {
		t.Errorf("%d invocations for %d items at 100 a page: pages are not bounded", invocations, n)
	}
	// A duplicate continuation is harmless.
	if res, err := p.Process(ctx, first); err != nil || res.Outcome != state.Duplicate {
		t.Errorf("duplicate continuation: %+v %v", res, err)
	}
	if left, _, err := s.ShopPage(ctx, shop, "", 10); err != nil || len(left) != 0 {
		t.Errorf("items left after shop/redact: %v %v", left, err)
	}
	if got := load(t, s, key(state.ItemShipment, "Po0"), key(state.ItemShipment, fmt.Sprintf("Po%d", n-5))); len(got.Shipments) != 0 {
		t.Errorf("parcels left: %v", got.Shipments)
	}
	if traces, _, err := s.Traces(ctx, shop, "", "", 10); err != nil || len(traces) != 0 {
		t.Errorf("traces left: %v %v", traces, err)
	}
	if d, _, err := s.Load(ctx, "ev-c1", nil); err != nil || d == nil || len(d.Outbox) != 0 {
		t.Errorf("stored outbox after shop/redact: %+v %v", d, err)
	}
	if got := load(t, s, state.Key{Kind: state.ItemOrder, Shop: other, ID: "keep"}); len(got.Orders) != 1 {
		t.Errorf("another shop's order went too")
	}
}

// dataRequestInParts: the export of a customer with many orders, larger than
// one SQS message (256 KiB), reaches the merchant as several data_request
// messages, each under the limit, numbered i of n, holding every order once.
func dataRequestInParts(t *testing.T, s Store) {
	const n = 300
	title := strings.Repeat("Hand-thrown stoneware mug, speckled glaze ", 5)
	var items []state.Entity
	var ids []string
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("big%03d", i)
		ids = append(ids, id)
		o := &aftercare.Order{Shop: shop, ID: id, Name: "#" + id, CustomerID: "c-many"}
		for j := 0; j < 8; j++ {
			o.LineItems = append(o.LineItems, aftercare.LineItem{ID: fmt.Sprintf("%s-%d", id, j), Title: title, Quantity: 1})
		}
		items = append(items, state.Entity{Order: o})
	}
	items = append(items, state.Entity{Customer: &aftercare.Customer{Shop: shop, ID: "c-many", Email: "many@example.org"}})
	if err := s.PutAll(ctx, items); err != nil {
		t.Fatal(err)
	}
	out := &outbox{}
	req := &aftercare.PrivacyRequest{CustomerID: "c-many", Orders: ids, DataRequestID: "dr-1"}
	if _, err := processor(s, out, 0).Process(ctx, privacyEvent("ev-dr", aftercare.EventDataRequest, "customers/data_request", shop, req)); err != nil {
		t.Fatal(err)
	}
	msgs, _ := out.take()
	if len(msgs) < 2 {
		t.Fatalf("%d messages for a %d-order export, want several parts", len(msgs), n)
	}
	seen := map[string]int{}
	msgIDs := map[string]bool{}
	for i, m := range msgs {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 256<<10 {
			t.Errorf("part %d is %d bytes, over one SQS message", i+1, len(b))
		}
		if m.Kind != aftercare.KindDataRequest || m.Part != i+1 || m.Parts != len(msgs) || msgIDs[m.ID] {
			t.Errorf("message %d: kind %s part %d/%d id %s", i, m.Kind, m.Part, m.Parts, m.ID)
		}
		msgIDs[m.ID] = true
		var doc struct {
			Part, Parts int
			Customers   []aftercare.Customer
			Orders      []aftercare.Order
		}
		if err := json.Unmarshal(m.Export, &doc); err != nil {
			t.Fatalf("part %d is not a whole document: %v", i+1, err)
		}
		if doc.Part != i+1 || doc.Parts != len(msgs) || (i == 0) != (len(doc.Customers) == 1) {
			t.Errorf("part %d: document says %d/%d with %d customers", i+1, doc.Part, doc.Parts, len(doc.Customers))
		}
		for _, o := range doc.Orders {
			seen[o.ID]++
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("order %s is in %d parts, want 1", id, seen[id])
		}
	}
}
