package state_test

import (
	"context"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aftercare/aftercare/infra/lives"
	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/sources"
	"github.com/aftercare/aftercare/internal/state"
)

// livesEvents parses n order lives of infra/lives (the soak's and the cost
// run's) into events, in the plan's order.
func livesEvents(t *testing.T, n int) []aftercare.Event {
	t.Helper()
	g, err := lives.LoadGoldens("../..")
	if err != nil {
		t.Fatal(err)
	}
	var out []aftercare.Event
	for _, phase := range lives.NewLives(g, 11, n, clock).Phases {
		for _, h := range phase {
			path, _, _ := strings.Cut(h.Path, "?")
			name := strings.TrimPrefix(strings.TrimPrefix(path, "/webhooks/carriers/"), "/webhooks/")
			src, ok := sources.ByName(name)
			if !ok {
				t.Fatalf("no source for %s", h.Path)
			}
			hdr := http.Header{}
			for k, v := range h.Headers {
				hdr.Set(k, v)
			}
			ev, err := src.New("").Parse(h.Body, hdr, clock)
			if err != nil {
				t.Fatalf("%s: %v", h.What, err)
			}
			if ev.Kind != "" {
				out = append(out, ev)
			}
		}
	}
	return out
}

// Every event is idempotent by state alone: after 120 lives (redactions
// included), each event delivered again under a new id, so that its dedupe
// record cannot catch it, changes nothing, counts nothing and queues
// nothing. A late fulfillment or scan of an order customers/redact took is
// the case that used to fail: it stored the order and its parcels again.
func TestEveryEventIsIdempotentByState(t *testing.T) {
	e := newMemEnv(t)
	evs := livesEvents(t, 120)
	for _, ev := range evs {
		e.process(t, ev)
	}
	before := e.dump(t)
	failed := map[string]int{}
	for i, ev := range evs {
		again := ev
		again.ID = "replay-" + strconv.Itoa(i) + ":" + ev.ID
		res := e.process(t, again)
		// A privacy request keeps its dedupe record whatever it finds (it
		// fans out in steps); its copy must still find nothing to do.
		privacy := ev.Privacy != nil && res.Outcome == state.Applied && len(res.Changes) == 0
		if res.Outcome != state.Unchanged && !privacy || len(res.Messages) > 0 {
			failed[ev.Topic+" "+string(ev.Kind)]++
			if failed[ev.Topic+" "+string(ev.Kind)] == 1 {
				t.Logf("%s (%s): outcome %s, %d messages, changes %v", ev.ID, ev.Topic, res.Outcome, len(res.Messages), res.Changes)
			}
		}
	}
	after := e.dump(t)
	for k := range after {
		if strings.HasPrefix(k, "EVENT#") {
			delete(after, k)
		}
	}
	for k := range before {
		if strings.HasPrefix(k, "EVENT#") {
			delete(before, k)
		}
	}
	if d := diff(before, after); len(d) > 0 {
		sort.Strings(d)
		if len(d) > 20 {
			d = d[:20]
		}
		t.Errorf("the replay changed the state:\n%s", strings.Join(d, "\n"))
	}
	if len(failed) > 0 {
		t.Errorf("events not idempotent by state (topic kind: count of %d events): %v", len(evs), failed)
	}
}

// A late copy of an older fulfillment or product (Shopify redelivers under
// the same event id; without a dedupe record it is applied by state alone)
// reverts neither the parcel's carrier, link and spelling nor a variant's
// mapping, and writes nothing: the storefront's newest copy wins, whatever
// the arrival order (SPEC section 4).
func TestALateOlderStorefrontCopyRevertsNothing(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		e.process(t, orderEvent("orders/create", "c", snapshot(at(0, 10), "paid", "", nil)))
		created := fulfillmentEvent("fulfillments/create", "f1", f1)
		e.process(t, created)
		newer := f1
		newer.TrackingCompany, newer.TrackingURLs, newer.UpdatedAt = "FedEx", []string{"https://track.example.com/fedex"}, at(1, 15)
		e.process(t, fulfillmentEvent("fulfillments/update", "f1u", newer))

		product := func(updated time.Time, tracked bool) aftercare.Event {
			ev := shopifyEvent("products/update", "p-"+updated.Format("150405"), aftercare.EventProduct, updated)
			ev.Product = &aftercare.Product{ID: "p-kettle", UpdatedAt: updated,
				Variants: []aftercare.Variant{{ID: "v-kettle", InventoryItemID: "inv-kettle", Tracked: tracked}}}
			return ev
		}
		older := product(at(1, 8), true)
		e.process(t, older)
		e.process(t, product(at(1, 12), false))
		before := e.dump(t)

		// Under a new id (an older event arriving last), then the same id
		// (a redelivery, which keeps no dedupe record: it queued nothing).
		for _, late := range []aftercare.Event{again(created), again(older), created, older} {
			if res := e.process(t, late); res.Outcome != state.Unchanged {
				t.Errorf("late copy %s: outcome %s (changes %v), want unchanged", late.ID, res.Outcome, res.Changes)
			}
		}
		after := e.dump(t)
		if !reflect.DeepEqual(before, after) {
			for k := range after {
				if !reflect.DeepEqual(before[k], after[k]) {
					t.Errorf("%s changed:\n before %v\n after  %v", k, before[k], after[k])
				}
			}
		}
		_, got, err := e.store.Load(context.Background(), "", []state.Key{
			{Kind: state.ItemShipment, ID: aftercare.TrackingKey(f1.TrackingNumbers[0])},
			{Kind: state.ItemInventory, Shop: shop, ID: "inv-kettle"},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range got.Shipments {
			if s.Carrier != "FedEx" || s.TrackingURL != "https://track.example.com/fedex" {
				t.Errorf("parcel carrier %q link %q, want the newer fulfillment's", s.Carrier, s.TrackingURL)
			}
		}
		for _, inv := range got.Inventory {
			if inv.Tracked {
				t.Errorf("variant tracked again by the older product: %+v", inv)
			}
		}
		if len(got.Shipments) != 1 || len(got.Inventory) != 1 {
			t.Fatalf("loaded %d parcels, %d inventory items; want 1 each", len(got.Shipments), len(got.Inventory))
		}
	})
}
