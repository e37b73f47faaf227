package state_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/state"
)

func uninstallEvent(eventID string, day, hour int) aftercare.Event {
	return shopifyEvent("app/uninstalled", eventID, aftercare.EventShopUninstalled, at(day, hour))
}

func (e *env) install(t *testing.T) *aftercare.Install {
	t.Helper()
	k := state.Key{Kind: state.ItemInstall, Shop: shop}
	_, l, err := e.store.Load(context.Background(), "", []state.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	return l.Installs[k]
}

// After app/uninstalled the processor still applies every event (the shop's
// data stays until shop/redact) but queues no message for the shop. A copy
// of the uninstall, or an older one arriving late, changes nothing; a
// reconnect newer than the uninstall lets messages go again.
func TestUninstalledShopQueuesNothing(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		if res := e.process(t, uninstallEvent("u1", 0, 8)); res.Outcome != state.Applied {
			t.Fatalf("uninstall: %+v", res)
		}
		marks := e.install(t)
		if !marks.Uninstalled() || !marks.UninstalledAt.Equal(at(0, 8)) {
			t.Fatalf("install marks %+v, want uninstalled at %s", marks, at(0, 8))
		}
		before := e.dump(t)
		if res := e.process(t, uninstallEvent("u1", 0, 8)); res.Outcome != state.Duplicate && res.Outcome != state.Unchanged {
			t.Fatalf("a copy: %+v, want duplicate or unchanged", res)
		}
		e.process(t, uninstallEvent("u0", 0, 7)) // an older uninstall, arriving late
		if got := e.install(t); !reflect.DeepEqual(got, marks) {
			t.Fatalf("an older uninstall changed the marks: %+v, was %+v", got, marks)
		}
		delete(before, "EVENT#shopify:"+shop+":app/uninstalled:u0|EVENT")
		after := e.dump(t)
		delete(after, "EVENT#shopify:"+shop+":app/uninstalled:u0|EVENT")
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("duplicates changed state:\n%s", strings.Join(diff(before, after), "\n"))
		}

		// A carrier's report that reads nothing but its parcel does not read
		// the shop's marks (two round trips per event, SPEC 9): what it
		// queues, dispatch suppresses (see the dispatch tests). Every event
		// that names its shop, or reads the order, queues nothing.
		notes, parcelOnly := 0, 0
		for _, ev := range history() {
			res := e.process(t, ev)
			if len(res.Messages) != 0 && (ev.Shop != "" || !strings.HasPrefix(ev.Topic, "tracker.")) {
				t.Fatalf("%s queued %d messages for an uninstalled shop", ev.ID, len(res.Messages))
			}
			parcelOnly += len(res.Messages)
			for _, n := range res.Notes {
				if strings.Contains(n, "uninstalled") {
					notes++
				}
			}
		}
		if got := e.sent(t); len(got) != parcelOnly {
			t.Fatalf("queued for an uninstalled shop: %v", got)
		}
		if notes == 0 {
			t.Fatal("the order's messages were never made: the history proves nothing")
		}
		if _, l, err := e.store.Load(context.Background(), "", []state.Key{{Kind: state.ItemOrder, Shop: shop, ID: "5001"}}); err != nil || l.Orders[state.Key{Kind: state.ItemOrder, Shop: shop, ID: "5001"}] == nil {
			t.Fatalf("the order must still be kept: %v", err)
		}

		dataRequest := func(id string, day int) aftercare.Event {
			ev := shopifyEvent("customers/data_request", id, aftercare.EventDataRequest, at(day, 12))
			ev.Privacy = &aftercare.PrivacyRequest{CustomerID: buyer.ID, DataRequestID: id}
			return ev
		}
		if res := e.process(t, dataRequest("dr-1", 6)); len(res.Messages) != 0 || len(e.sent(t)) != 0 {
			t.Fatalf("a data request export was queued for an uninstalled shop: %+v", res)
		}

		if changed, err := state.MarkInstalled(context.Background(), e.store, shop, at(7, 0)); err != nil || !changed {
			t.Fatalf("reconnect: %v %v", changed, err)
		}
		if changed, err := state.MarkInstalled(context.Background(), e.store, shop, at(7, 0)); err != nil || changed {
			t.Fatalf("a second connect changes nothing: %v %v", changed, err)
		}
		e.now = at(7, 1)
		tagged := orderEvent("orders/updated", "ou-damaged", snapshot(at(7, 1), "paid", "fulfilled", []aftercare.Fulfillment{f1, f2}, "aftercare:damaged"))
		if res := e.process(t, tagged); len(res.Messages) == 0 {
			t.Fatalf("after the reconnect the damaged playbook goes out: %+v", res)
		}
		if res := e.process(t, dataRequest("dr-2", 7)); len(res.Messages) != 1 {
			t.Fatalf("after the reconnect the data request export goes out: %+v", res)
		}
		// An uninstall older than the reconnect (a late copy) does not silence the shop again.
		e.process(t, uninstallEvent("u-late", 6, 0))
		if e.install(t).Uninstalled() {
			t.Fatalf("an uninstall older than the reconnect won: %+v", e.install(t))
		}
	})
}
