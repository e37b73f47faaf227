package state_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/shopifyadmin"
	"github.com/aftercare/aftercare/internal/state"
	"github.com/aftercare/aftercare/internal/testenv"
)

// The same webhook delivered ten times gives the same state as once, and no
// message id that one delivery would not have produced.
func TestReplayTenTimesIsOnce(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		evs := history()
		for _, ev := range evs {
			e.process(t, ev)
		}
		once := e.dump(t)
		firstIDs := messageIDs(t, e.sent(t))
		for i := 1; i < 10; i++ {
			for _, ev := range evs {
				// A copy of an event that queued something finds its dedupe
				// record; a copy of one that did not has none and applies
				// again, changing nothing.
				res := e.process(t, ev)
				if res.Outcome != state.Duplicate && res.Outcome != state.Unchanged {
					t.Fatalf("replay %d of %s: outcome %s, want duplicate or unchanged", i, ev.ID, res.Outcome)
				}
			}
		}
		if again := e.dump(t); !reflect.DeepEqual(once, again) {
			t.Fatalf("state changed by replays:\n%s", strings.Join(diff(once, again), "\n"))

		}
		replayIDs := messageIDs(t, e.sent(t))
		for kind, ids := range replayIDs {
			for _, id := range ids {
				if !contains(firstIDs[kind], id) {
					t.Errorf("replay produced a new %s message %s", kind, id)
				}
			}
		}
		if len(firstIDs[aftercare.KindOrderShipped]) != 2 || len(firstIDs[aftercare.KindDeliveredSetup]) != 2 {
			t.Errorf("want one order_shipped and one delivered_setup per parcel, got %v", firstIDs)
		}
	})
}

// An event whose transaction committed but whose outbound send failed every
// time (until its copy was parked in the dead-letter queue) sends its
// messages when the copy is redriven, though the redriven copy arrives with
// receive count 1 and finds the event already applied. The message ids are
// the ones the first apply made, so dispatch's ledger delivers each once.
// Both kinds of dedupe record: a record of its own, and a carrier report's
// kept on its parcel.
func TestRedriveSendsTheStoredOutbox(t *testing.T) {
	for _, r := range records {
		t.Run(r.name, func(t *testing.T) {
			e := newMemEnv(t)
			evs := damagedHistory()
			for _, ev := range evs[:1] {
				e.process(t, ev)
			}
			e.sent(t)
			down := &failingOutbox{}
			var failed *aftercare.Event
			for i := 1; i < len(evs); i++ {
				down.ids = nil
				e.proc.Outbox = e.out
				if r.pick(&evs[i]) {
					e.proc.Outbox = down
				}
				if _, err := e.proc.Process(context.Background(), &evs[i]); err != nil && len(down.ids) > 0 {
					failed = &evs[i]
					break
				}
			}
			if failed == nil {
				t.Fatalf("no %s of the history queued a message", r.name)
			}
			want := down.ids
			e.sent(t)
			e.proc.Outbox = e.out
			res := e.process(t, *failed) // the redriven copy
			if res.Outcome != state.Duplicate {
				t.Fatalf("redriven copy: outcome %s, want duplicate", res.Outcome)
			}
			got := sentIDs(t, e)
			sort.Strings(want)
			if len(want) == 0 || !reflect.DeepEqual(got, want) {
				t.Fatalf("redrive queued %v, want the failed send's %v", got, want)
			}
			checkRecord(t, e, failed, r.keeper(failed))
		})
	}
}

// records are the places an event's dedupe record is kept: pick finds the
// event in the history, keeper names the item that keeps its record
// (empty: a record of its own).
var records = []struct {
	name   string
	pick   func(ev *aftercare.Event) bool
	keeper func(ev *aftercare.Event) string
}{
	{"order event", func(ev *aftercare.Event) bool { return ev.Kind == aftercare.EventOrder },
		func(*aftercare.Event) string { return "" }},
	{"fulfillment event", func(ev *aftercare.Event) bool {
		return ev.Kind == aftercare.EventTracking && ev.Tracking.TrackingNumber == ""
	}, func(ev *aftercare.Event) string { return "SHOP#" + ev.Shop + "|ORDER#" + ev.Tracking.OrderID }},
	{"Shopify fulfillment", func(ev *aftercare.Event) bool { return ev.Kind == aftercare.EventFulfillment },
		func(ev *aftercare.Event) string { return "SHOP#" + ev.Shop + "|ORDER#" + ev.Fulfillment.OrderID }},
	{"carrier report", func(ev *aftercare.Event) bool {
		return ev.Kind == aftercare.EventTracking && ev.Tracking.TrackingNumber != ""
	}, func(ev *aftercare.Event) string {
		return "SHIPMENT#" + aftercare.TrackingKey(ev.Tracking.TrackingNumber) + "|SHIPMENT"
	}},
}

// damagedHistory is the order's history with events of each kind that
// queue messages: the storefront reports a failed attempt on the second
// parcel before its delivery (a Shopify fulfillment opening a playbook),
// and at the end the merchant tags the order damaged (an order event).
func damagedHistory() []aftercare.Event {
	evs := history()
	attempt := f2
	attempt.Shipment, attempt.ShipmentDetail, attempt.UpdatedAt = aftercare.StatusAttemptedDelivery, "attempted_delivery", at(4, 10)
	var out []aftercare.Event
	for _, ev := range evs {
		if ev.ID == aftercare.SourceAfterShip+":as_2" { // the second parcel's delivery
			out = append(out, fulfillmentEvent("fulfillments/update", "fu2", attempt))
		}
		out = append(out, ev)
	}
	return append(out, orderEvent("orders/updated", "odmg",
		snapshot(at(6, 12), "paid", "fulfilled", []aftercare.Fulfillment{f1, f2}, "aftercare:damaged")))
}

// checkRecord checks where ev's dedupe record is kept.
func checkRecord(t *testing.T, e *env, ev *aftercare.Event, keeper string) {
	t.Helper()
	items := e.dump(t)
	_, own := items["EVENT#"+ev.ID+"|EVENT"]
	if keeper == "" {
		if !own {
			t.Errorf("%s keeps no dedupe record of its own", ev.ID)
		}
		return
	}
	if own {
		t.Errorf("%s has a dedupe record of its own; %s should keep it", ev.ID, keeper)
	}
	applied, _ := items[keeper]["applied"].([]any)
	kept := false
	for _, a := range applied {
		kept = kept || a.(map[string]any)["event"] == ev.ID
	}
	if !kept {
		t.Errorf("%s keeps no record of %s: %s", keeper, ev.ID, mustJSON(applied))
	}
}

// Two deliveries of one event race: the other one commits between this
// one's read and its commit, then dies before it sends (killed, or timed out
// while its commit was still on the way). This one's commit fails on the
// dedupe record; it must not take that as "the other sends": it reads the
// record and sends the stored outbox.
func TestALostCommitRaceSendsTheWinnersOutbox(t *testing.T) {
	winnerDiesUnsent(t, func(s state.Store, winner func()) state.Store {
		return &raceStore{Store: s, before: winner}
	})
}

// A BatchGetItem is no snapshot, so a copy can read the event's dedupe
// record before the winner's commit lands and the items after it. It then
// finds nothing to change; before acknowledging it must look for the dedupe
// record again and send the winner's outbox, or it is lost.
func TestATornFirstReadSendsTheWinnersOutbox(t *testing.T) {
	winnerDiesUnsent(t, func(s state.Store, winner func()) state.Store {
		return &tornStore{Store: s, between: winner}
	})
}

// An event's reads are rounds (the event's items, then what they name), so
// a copy can read the order before the winner's commit and the parcels
// after it: it finds the report already recorded and nothing to change, and
// must find the winner's record, which the order keeps, in its second look.
func TestATearBetweenReadsSendsTheWinnersOutbox(t *testing.T) {
	winnerDiesUnsent(t, func(s state.Store, winner func()) state.Store {
		return &afterFirstRead{Store: s, between: winner}
	})
}

// afterFirstRead runs between once, after the first read that asks for a
// dedupe record.
type afterFirstRead struct {
	state.Store
	once    sync.Once
	between func()
}

func (s *afterFirstRead) Load(ctx context.Context, dedupeID string, keys []state.Key) (*state.Dedupe, *state.Loaded, error) {
	d, items, err := s.Store.Load(ctx, dedupeID, keys)
	if dedupeID != "" {
		s.once.Do(s.between)
	}
	return d, items, err
}

// winnerDiesUnsent replays the history up to its first event after the
// order's creation that queues messages, then delivers that event while
// another copy of it (winner) commits at the moment race picks and fails to
// send: this delivery must send the winner's stored outbox.
func winnerDiesUnsent(t *testing.T, race func(s state.Store, winner func()) state.Store) {
	for _, r := range records {
		t.Run(r.name, func(t *testing.T) { winnerDiesUnsentAt(t, race, r.pick, r.keeper) })
	}
}

func winnerDiesUnsentAt(t *testing.T, race func(s state.Store, winner func()) state.Store, pick func(*aftercare.Event) bool,
	keeper func(*aftercare.Event) string) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		evs := damagedHistory()
		var ev aftercare.Event
		var want []string
		for i, x := range evs {
			if res := e.process(t, x); len(res.Messages) > 0 && i > 0 && pick(&x) {
				ev = x
				for _, m := range res.Messages {
					want = append(want, m.ID)
				}
				break
			}
		}
		if want == nil {
			t.Fatal("no event of the history queued a message")
		}
		e = newEnv(t)
		for _, x := range evs {
			if x.ID == ev.ID {
				break
			}
			e.process(t, x)
		}
		e.sent(t)
		shopSettings := e.store.(interface {
			ShopSettings(context.Context, string) ([]byte, error)
		}).ShopSettings
		winner := newProcessor(e, e.store, &failingOutbox{}, shopSettings)
		e.proc.Store = race(e.store, func() {
			if _, err := winner.Process(context.Background(), &ev); err == nil {
				t.Error("the winner's send should have failed")
			}
		})
		res := e.process(t, ev)
		if res.Outcome != state.Duplicate {
			t.Fatalf("this copy: outcome %s, want duplicate (it sends the winner's outbox)", res.Outcome)
		}
		got := sentIDs(t, e)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("sent %v, want the winner's outbox %v", got, want)
		}
		checkRecord(t, e, &ev, keeper(&ev))
	})
}

// tornStore tears the first read that asks for a dedupe record: the record
// is read, then between runs (another copy commits), then the items are read.
type tornStore struct {
	state.Store
	torn    bool
	between func()
}

func (s *tornStore) Load(ctx context.Context, dedupeID string, keys []state.Key) (*state.Dedupe, *state.Loaded, error) {
	if dedupeID == "" || s.torn {
		return s.Store.Load(ctx, dedupeID, keys)
	}
	s.torn = true
	d, _, err := s.Store.Load(ctx, dedupeID, nil)
	if err != nil {
		return nil, nil, err
	}
	s.between()
	_, items, err := s.Store.Load(ctx, "", keys)
	return d, items, err
}

// raceStore runs before once, just before the first commit.
type raceStore struct {
	state.Store
	once   sync.Once
	before func()
}

func (s *raceStore) Commit(ctx context.Context, c *state.Commit) error {
	s.once.Do(s.before)
	return s.Store.Commit(ctx, c)
}

// sentIDs takes the ids of every message queued since the last look, sorted.
func sentIDs(t *testing.T, e *env) []string {
	t.Helper()
	var got []string
	for _, ids := range messageIDs(t, e.sent(t)) {
		got = append(got, ids...)
	}
	sort.Strings(got)
	return got
}

// failingOutbox refuses every send, remembering the message ids it refused.
type failingOutbox struct{ ids []string }

func (o *failingOutbox) SendMessages(_ context.Context, msgs []aftercare.Message, _ time.Time) error {
	for _, m := range msgs {
		o.ids = append(o.ids, m.ID)
	}
	return errors.New("queue unavailable")
}

func (o *failingOutbox) SendEvents(context.Context, []aftercare.Event) error {
	return errors.New("queue unavailable")
}

// The order's whole history applied in 20 random orders ends in identical
// state. Only the record of what customers were told (and item versions,
// which count writes) may differ: "shipped" is not said after "delivered".
func TestPermutationsGiveIdenticalState(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		base := newEnv(t)
		for _, ev := range history() {
			base.process(t, ev)
		}
		want := project(base.dump(t))
		checkHistoryOutcome(t, want)
		seed := testenv.Seed(t)
		rng := rand.New(rand.NewPCG(seed, 2026))
		for i := 0; i < 20; i++ {
			evs := history()
			rng.Shuffle(len(evs), func(a, b int) { evs[a], evs[b] = evs[b], evs[a] })
			e := newEnv(t)
			for _, ev := range evs {
				e.process(t, ev)
			}
			if got := project(e.dump(t)); !reflect.DeepEqual(want, got) {
				var order []string
				for _, ev := range evs {
					order = append(order, ev.ID)
				}
				t.Fatalf("permutation %d ended differently.\norder: %v\n%s", i, order, strings.Join(diff(want, got), "\n"))
			}
		}
	})
}

// project keeps the state that must not depend on arrival order.
func project(items map[string]map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for k, doc := range items {
		if strings.HasPrefix(k, "EVENT#") {
			continue
		}
		c := map[string]any{}
		for f, v := range doc {
			switch f {
			case "@version", "shipped_at", "order_status", "version", "applied": // applied: a parcel's dedupe records
				continue
			}
			c[f] = v
		}
		out[k] = c
	}
	return out
}

// ts is at(day, hour) as the documents store it.
func ts(day, hour int) string { return at(day, hour).Format(time.RFC3339) }

// checkHistoryOutcome pins what the history must end as.
func checkHistoryOutcome(t *testing.T, s map[string]map[string]any) {
	t.Helper()
	order := s["SHOP#"+shop+"|ORDER#5001"]
	if order == nil {
		t.Fatalf("no order in %s", mustJSON(s))
	}
	if order["delivered_at"] != ts(5, 14) || order["fulfillment_status"] != "fulfilled" || order["financial_status"] != "paid" {
		t.Errorf("order: %s", mustJSON(order))
	}
	if tags, _ := order["tags"].([]any); len(tags) != 1 || tags[0] != "vip" {
		t.Errorf("order tags: %v", order["tags"])
	}
	usps := s["SHIPMENT#9400100000000000000000|SHIPMENT"]
	if usps["status"] != "delivered" || usps["status_at"] != ts(5, 14) || usps["last_scan_at"] != ts(5, 18) {
		t.Errorf("usps parcel: %s", mustJSON(usps))
	}
	var late map[string]any
	for _, h := range usps["history"].([]any) {
		if m := h.(map[string]any); m["at"] == ts(5, 18) {
			late = m
		}
	}
	if late == nil || late["applied"] != false || late["note"] != "cannot follow delivered" {
		t.Errorf("the scan after delivery must be kept and not applied: %v", late)
	}
	ups := s["SHIPMENT#1Z999AA10123456784|SHIPMENT"]
	if ups["status"] != "delivered" || ups["order_id"] != "5001" || ups["customer_id"] != "7001" || ups["shop"] != shop {
		t.Errorf("ups parcel: %s", mustJSON(ups))
	}
	cust := s["SHOP#"+shop+"|CUSTOMER#7001"]
	if cust["first_name"] != "Augusta Ada" || cust["email"] != buyer.Email {
		t.Errorf("customer profile: %s", mustJSON(cust))
	}
	if sms, _ := cust["sms_consent"].(map[string]any); sms["state"] != "subscribed" {
		t.Errorf("sms consent: %v", cust["sms_consent"])
	}
	if orders, _ := cust["orders"].([]any); len(orders) != 1 || orders[0].(map[string]any)["cents"] != float64(12900) {
		t.Errorf("customer history: %v", cust["orders"])
	}
	if cust["first_delivered_at"] != ts(5, 14) {
		t.Errorf("first delivered: %v", cust["first_delivered_at"])
	}
	fu, _ := cust["follow_ups"].([]any)
	if len(fu) != 2 || fu[0].(map[string]any)["due_at"] != ts(12, 14) || fu[1].(map[string]any)["due_at"] != ts(19, 14) {
		t.Errorf("follow-ups (review +7d, care tips +14d): %v", cust["follow_ups"])
	}
}

// A customer redaction leaves no item anywhere holding their email, phone or
// name, and later events do not bring them back.
func TestRedactLeavesNoPersonalData(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		for _, ev := range history() {
			e.process(t, ev)
		}
		pii := []string{buyer.Email, buyer.Phone, "Lovelace", "Augusta", `"Ada"`}
		if !containsAny(mustJSON(e.dump(t)), pii) {
			t.Fatal("the history should have stored the customer's details before redaction")
		}
		red := shopifyEvent("customers/redact", "red-1", aftercare.EventCustomerRedact, at(7, 0))
		red.Privacy = &aftercare.PrivacyRequest{CustomerID: buyer.ID, Email: buyer.Email, Phone: buyer.Phone, Orders: []string{"5001"}}
		e.process(t, red)
		assertNoPII(t, e.dump(t), pii)

		days := func() map[string]report.Counters {
			d, err := e.store.(interface {
				ReportDays(ctx context.Context, shop, from, to string) (map[string]report.Counters, error)
			}).ReportDays(context.Background(), shop, "0000-00-00", "9999-99-99")
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		counted := days()
		late := orderEvent("orders/updated", "late", snapshot(at(8, 0), "paid", "fulfilled", []aftercare.Fulfillment{f1, f2}, "late"))
		e.process(t, late)
		// A fulfillment and a scan that come late (they name the order or the
		// parcel, not the customer) are dropped whole: nothing stored again,
		// no parcel, no second delivery counted.
		lateF := f2
		lateF.UpdatedAt = at(8, 1)
		for _, ev := range []aftercare.Event{
			fulfillmentEvent("fulfillments/update", "late-f", lateF),
			carrierEvent(aftercare.SourceAfterShip, "late-scan", f2.TrackingNumbers[0], "usps", aftercare.StatusDelivered, at(8, 2), ""),
		} {
			if res := e.process(t, ev); res.Outcome != state.Unchanged || len(res.Messages) > 0 {
				t.Errorf("%s about the redacted order: %+v, want unchanged", ev.Topic, res)
			}
		}
		after := e.dump(t)
		for k := range after {
			if strings.HasPrefix(k, "SHIPMENT#") && !strings.HasPrefix(k, "SHIPMENT#redacted-") {
				t.Errorf("a late event stored a parcel of the redacted order again: %s %v", k, after[k])
			}
		}
		assertNoPII(t, after, pii)
		// The redacted order is not stored again, nor counted a second time:
		// only its tombstone (its id, and when) is left.
		if o, ok := after["SHOP#"+shop+"|ORDER#5001"]; ok {
			for f := range o {
				switch f {
				case "shop", "id", "redacted", "redacted_at", "version", "@version":
				default:
					t.Errorf("a late event stored the redacted order again (%s): %v", f, o)
				}
			}
			if o["redacted"] != true {
				t.Errorf("the redacted order's tombstone is not marked redacted: %v", o)
			}
		}
		if got := days(); !reflect.DeepEqual(got, counted) {
			t.Errorf("a late event about a redacted order changed the report's days:\n got %v\nwant %v", got, counted)
		}
		if cust, ok := after["SHOP#"+shop+"|CUSTOMER#7001"]; ok {
			t.Fatalf("the customer item must give way to the keyed tombstone: %v", cust)
		}
		tomb := after["SHOP#"+shop+"|CUSTOMER#"+aftercare.TombstoneID(tombstoneKey, shop, "7001")]
		if tomb["redacted"] != true || len(tomb) > 6 {
			t.Fatalf("customer must stay a bare tombstone: %v", tomb)
		}
	})
}

func assertNoPII(t *testing.T, items map[string]map[string]any, pii []string) {
	t.Helper()
	for k, doc := range items {
		raw := k + mustJSON(doc)
		for _, p := range pii {
			if strings.Contains(raw, p) {
				t.Errorf("item %s still holds %q: %s", k, p, raw)
			}
		}
	}
}

// A carrier scan for a parcel nobody linked yet is kept, and once the
// fulfillment names it the customer hears "shipped" exactly once.
func TestCarrierBeforeFulfillmentLinksLater(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		scan := carrierEvent(aftercare.SourceEasyPost, "early", f1.TrackingNumbers[0], "UPS", aftercare.StatusInTransit, at(2, 7), "")
		if res := e.process(t, scan); len(res.Messages) != 0 {
			t.Fatalf("an unlinked parcel must not message anyone: %v", res.Messages)
		}
		e.process(t, orderEvent("orders/create", "oc", snapshot(at(0, 10), "paid", "", nil)))
		res := e.process(t, fulfillmentEvent("fulfillments/create", "fc1", f1))
		kinds := map[aftercare.Kind]int{}
		for _, m := range res.Messages {
			kinds[m.Kind]++
		}
		if kinds[aftercare.KindOrderShipped] != 1 || len(res.Messages) != 1 {
			t.Fatalf("linking an in-transit parcel: want one order_shipped, got %v", kinds)
		}
		again := e.process(t, carrierEvent(aftercare.SourceEasyPost, "later", f1.TrackingNumbers[0], "UPS", aftercare.StatusInTransit, at(3, 7), ""))
		if len(again.Messages) != 0 {
			t.Fatalf("a second in-transit scan must not repeat order_shipped: %v", again.Messages)
		}
	})
}

// A fulfillment and its first scan can both come before the order's snapshot
// (the order is still a stub with no customer): the notice waits for the
// snapshot to name whom to tell, and is sent then, once.
func TestShippedBeforeTheOrderIsKnown(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		var msgs []aftercare.Message
		for _, ev := range []aftercare.Event{
			fulfillmentEvent("fulfillments/create", "fc1", f1),
			carrierEvent(aftercare.SourceEasyPost, "early", f1.TrackingNumbers[0], "UPS", aftercare.StatusInTransit, at(2, 7), ""),
			orderEvent("orders/create", "oc", snapshot(at(0, 10), "paid", "", nil)),
			carrierEvent(aftercare.SourceEasyPost, "later", f1.TrackingNumbers[0], "UPS", aftercare.StatusInTransit, at(3, 7), ""),
			orderEvent("orders/updated", "ou", snapshot(at(1, 10), "paid", "partial", nil)),
		} {
			msgs = append(msgs, e.process(t, ev).Messages...)
		}
		if k := kindsOf(msgs); k[aftercare.KindOrderShipped] != 1 || len(msgs) != 1 || msgs[0].CustomerID != buyer.ID {
			t.Fatalf("want one order_shipped to the buyer once the snapshot names them, got %v", k)
		}
	})
}

// A burst of reports about one parcel, worked on in parallel as a Lambda
// batch is, all apply: the losers of each optimistic race retry, none fails.
func TestParallelReportsOnOneParcel(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		e.process(t, orderEvent("orders/create", "oc", snapshot(at(0, 10), "paid", "", nil)))
		e.process(t, fulfillmentEvent("fulfillments/create", "fc1", f1))
		var wg sync.WaitGroup
		errs := make(chan error, 10)
		for i := 0; i < 10; i++ {
			ev := carrierEvent(aftercare.SourceEasyPost, fmt.Sprintf("burst-%d", i), f1.TrackingNumbers[0], "UPS", aftercare.StatusInTransit, at(2, i), "")
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.proc.Process(context.Background(), &ev); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("a parallel report failed: %v", err)
		}
		var ship map[string]any
		for k, v := range e.dump(t) {
			if strings.HasPrefix(k, "SHIPMENT#") {
				ship = v
			}
		}
		if h, _ := ship["history"].([]any); len(h) < 11 {
			t.Fatalf("parcel history has %d reports, want the label plus all 10 scans", len(h))
		}
	})
}

// An exception opens its playbook (notice + support task) and a hold, and the
// parcel moving on resolves it and lifts the hold.
func TestExceptionOpensAndResolves(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		e.process(t, orderEvent("orders/create", "oc", snapshot(at(0, 10), "paid", "", nil)))
		e.process(t, fulfillmentEvent("fulfillments/create", "fc1", f1))
		res := e.process(t, carrierEvent(aftercare.SourceAfterShip, "x1", f1.TrackingNumbers[0], "ups", aftercare.StatusException, at(2, 7), aftercare.ExceptionDamaged))
		kinds := kindsOf(res.Messages)
		if kinds[aftercare.KindExceptionDamaged] != 1 || kinds[aftercare.KindSupportTask] != 1 {
			t.Fatalf("damaged parcel: want a notice and a support task, got %v", kinds)
		}
		cust := e.dump(t)["SHOP#"+shop+"|CUSTOMER#7001"]
		if holds, _ := cust["holds"].(map[string]any); len(holds) != 1 {
			t.Fatalf("want one hold while the exception is open, got %v", cust["holds"])
		}
		res = e.process(t, carrierEvent(aftercare.SourceAfterShip, "x2", f1.TrackingNumbers[0], "ups", aftercare.StatusInTransit, at(3, 7), ""))
		if k := kindsOf(res.Messages); k[aftercare.KindExceptionResolved] != 1 {
			t.Fatalf("moving on must resolve: %v", k)
		}
		cust = e.dump(t)["SHOP#"+shop+"|CUSTOMER#7001"]
		if holds, _ := cust["holds"].(map[string]any); len(holds) != 0 {
			t.Fatalf("hold must lift with the exception, got %v", cust["holds"])
		}
	})
}

// Round trips per processed event, counted on the common paths.
func TestRoundTripsPerEvent(t *testing.T) {
	e := newEnv(t)
	evs := history()
	e.process(t, evs[0]) // warms the shop's settings cache
	steps := []struct {
		name   string
		ev     aftercare.Event
		budget int
	}{
		{"orders/paid", evs[1], 2},
		{"fulfillments/create", evs[2], 2},
		{"fulfillments/create (second parcel)", evs[3], 2},
		{"orders/partially_fulfilled", evs[4], 2},
		{"carrier scan in transit (linked)", evs[8], 2},
		{"carrier scan in transit (second parcel)", evs[11], 2},
		{"fulfillment_events/create (names the fulfillment, not the parcel)", evs[6], 3},
		{"carrier scan out for delivery", evs[9], 2},
		{"carrier scan delivered (order and customer learn it)", evs[10], 3},
		{"customers/update", evs[15], 2},
		{"customers_marketing_consent/update", evs[16], 2},
		{"duplicate delivery (it queued messages: its stored outbox is sent again)", evs[8], 2},
		// Queuing nothing, it kept no dedupe record: its copy is applied by
		// state, changes nothing, and looks for the record once more.
		{"duplicate delivery (it queued nothing)", evs[15], 2},
		// Changing nothing, it writes nothing; it reads its dedupe record once
		// more before acknowledging (TestATornFirstReadSendsTheWinnersOutbox).
		{"the same scan again under another id (changes nothing)", again(evs[9]), 2},
		{"the same profile again under another id (changes nothing)", again(evs[15]), 2},
	}
	for _, s := range steps {
		e.db.Reset()
		e.process(t, s.ev)
		st := e.db.Stats()
		t.Logf("%-70s %d round trips %v, %.1f capacity units", s.name, st.Total, st.Calls, st.Capacity)
		if st.Total > s.budget {
			t.Errorf("%s: %d round trips %v, budget %d", s.name, st.Total, st.Calls, s.budget)
		}
	}
}

// again is an event's report sent once more under a new id, as carriers do.
func again(ev aftercare.Event) aftercare.Event {
	ev.ID += "-again"
	return ev
}

func kindsOf(msgs []aftercare.Message) map[aftercare.Kind]int {
	out := map[aftercare.Kind]int{}
	for _, m := range msgs {
		out[m.Kind]++
	}
	return out
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// The report's day counters commit with the events that cause them: after
// the history and its redelivered duplicates, the shop's days hold exactly
// one order, its customer, two deliveries, and nothing twice.
func TestDayCountersCommitWithTheEvent(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		for _, ev := range history() {
			e.process(t, ev)
		}
		for _, ev := range history() {
			e.process(t, ev) // duplicates
		}
		from, to := at(-1, 0), at(10, 0)
		days, err := e.store.(interface {
			ReportDays(ctx context.Context, shop, from, to string) (map[string]report.Counters, error)
		}).ReportDays(context.Background(), shop, from.Format(report.DayFormat), to.Format(report.DayFormat))
		if err != nil {
			t.Fatal(err)
		}
		r := report.Compute(shop, report.Range{From: from, To: to}, days)
		if r.Orders.Count != 1 || r.Orders.Revenue != "129.00" || r.Customers.New != 1 || r.Customers.Returning != 0 {
			t.Errorf("orders %+v customers %+v, want one order of 129.00 by one new customer", r.Orders, r.Customers)
		}
		if r.Deliveries.Count != 2 {
			t.Errorf("deliveries %+v, want both parcels once", r.Deliveries)
		}
		if len(days) == 0 || days[at(0, 0).Format(report.DayFormat)]["o"] != 1 {
			t.Errorf("day items %v: want the order on its creation day", days)
		}
	})
}

// shop/redact removes the shop's report days with everything else of the
// shop: nothing keyed by the shop, and none of its parcels, is left; its
// Admin API access token goes too (another shop's stays).
func TestShopRedactDeletesReportDays(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		tokens := e.shopTokens(t, shop, "other.myshopify.com")
		for _, ev := range history() {
			e.process(t, ev)
		}
		daysBefore := 0
		for k := range e.dump(t) {
			if strings.HasPrefix(k, "SHOP#"+shop+"|DAY#") {
				daysBefore++
			}
		}
		if daysBefore == 0 {
			t.Fatal("the history left no report days to redact")
		}
		cursors := e.store.(interface {
			ReconcileCursor(ctx context.Context, shop string) (aftercare.ReconcileCursor, error)
			SaveReconcileCursor(ctx context.Context, shop string, c aftercare.ReconcileCursor) error
		})
		if err := cursors.SaveReconcileCursor(context.Background(), shop, aftercare.ReconcileCursor{At: at(8, 0), Orders: []string{"5001"}}); err != nil {
			t.Fatal(err)
		}
		if err := cursors.SaveReconcileCursor(context.Background(), "other.myshopify.com", aftercare.ReconcileCursor{At: at(8, 0)}); err != nil {
			t.Fatal(err)
		}
		redact := shopifyEvent("shop/redact", "sr", aftercare.EventShopRedact, at(9, 0))
		e.process(t, redact)
		for k := range e.dump(t) {
			if strings.HasPrefix(k, "SHOP#") || strings.HasPrefix(k, "SHIPMENT#") || strings.Contains(k, "SHOP#"+shop) {
				t.Errorf("left after shop/redact: %s", k)
			}
		}
		if c, err := cursors.ReconcileCursor(context.Background(), shop); err != nil || !c.At.IsZero() || len(c.Orders) != 0 {
			t.Errorf("the shop's reconcile cursor is left: %+v %v", c, err)
		}
		if c, _ := cursors.ReconcileCursor(context.Background(), "other.myshopify.com"); c.At.IsZero() {
			t.Error("another shop's reconcile cursor was deleted")
		}
		if left := tokens(); len(left) != 1 || left[0] != "other.myshopify.com" {
			t.Errorf("access tokens left after shop/redact: %v, want only the other shop's", left)
		}
		// A copy of the last step (its retry) deletes nothing twice and fails on nothing.
		e.process(t, shopifyEvent("shop/redact", "sr-again", aftercare.EventShopRedact, at(9, 1)))
	})
}

// shopTokens stores an access token for each shop where the processor
// keeps them (moto's SSM through the production token store in the
// emulator tier, a map in the fast tier) and returns a lister of the shops
// that still have one.
func (e *env) shopTokens(t *testing.T, shops ...string) func() []string {
	t.Helper()
	ctx := context.Background()
	if e.stack == nil {
		m := &mapTokens{m: map[string]bool{}}
		for _, s := range shops {
			m.m[s] = true
		}
		e.proc.Shops = m
		return m.shops
	}
	client := awsssm.New(awsssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.stack.Env.SQSEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	store := &shopifyadmin.Tokens{SSM: client}
	for _, s := range shops {
		if err := store.Put(ctx, s, "shpat_"+s); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, s := range shops {
			_ = store.Delete(ctx, s)
		}
	})
	e.proc.Shops = &shopifyadmin.Shops{Tokens: store}
	return func() []string {
		var left []string
		for _, s := range shops {
			if _, err := store.Get(ctx, s); err == nil {
				left = append(left, s)
			}
		}
		return left
	}
}

type mapTokens struct {
	mu sync.Mutex
	m  map[string]bool
}

func (m *mapTokens) Disconnect(_ context.Context, shop string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, shop)
	return nil
}

func (m *mapTokens) shops() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for s := range m.m {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// A test order placed by a real customer counts nowhere: not in the
// customer's numbers, and its parcel not in the deliveries, whichever of
// its order snapshot and fulfillment arrives first.
func TestTestOrdersCountNowhere(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		trial := snapshot(at(3, 10), "paid", "", nil)
		trial.ID, trial.Name, trial.Test, trial.CreatedAt = "5002", "#1002", true, at(3, 10)
		ft := aftercare.Fulfillment{ID: "F9", OrderID: "5002", Status: "success", TrackingNumbers: []string{"1Z999AA10000000009"},
			TrackingCompany: "UPS", CreatedAt: at(3, 12), UpdatedAt: at(3, 12)}
		extra := []aftercare.Event{
			orderEvent("orders/create", "oc-test", trial),
			fulfillmentEvent("fulfillments/create", "fc-test", ft),
			carrierEvent(aftercare.SourceEasyPost, "evt_t1", ft.TrackingNumbers[0], "UPS", aftercare.StatusInTransit, at(3, 14), ""),
			carrierEvent(aftercare.SourceEasyPost, "evt_t2", ft.TrackingNumbers[0], "UPS", aftercare.StatusDelivered, at(4, 12), ""),
		}
		for _, order := range [][]int{{0, 1, 2, 3}, {1, 2, 3, 0}, {3, 1, 0, 2}} {
			e := newEnv(t)
			for _, ev := range history() {
				e.process(t, ev)
			}
			for _, i := range order {
				e.process(t, extra[i])
			}
			from, to := at(-1, 0), at(10, 0)
			days, err := e.store.(interface {
				ReportDays(ctx context.Context, shop, from, to string) (map[string]report.Counters, error)
			}).ReportDays(context.Background(), shop, from.Format(report.DayFormat), to.Format(report.DayFormat))
			if err != nil {
				t.Fatal(err)
			}
			r := report.Compute(shop, report.Range{From: from, To: to}, days)
			if r.Orders.Count != 1 || r.Customers.New != 1 || r.Customers.Returning != 0 || r.Customers.RepeatPurchaseRate != 0 {
				t.Errorf("arrival %v: orders %+v customers %+v, want the real order only", order, r.Orders, r.Customers)
			}
			if r.Deliveries.Count != 2 {
				t.Errorf("arrival %v: deliveries %+v, want the real order's two parcels", order, r.Deliveries)
			}
			cust := e.dump(t)["SHOP#"+shop+"|CUSTOMER#"+buyer.ID]
			if orders, _ := cust["orders"].([]any); len(orders) != 1 {
				t.Errorf("arrival %v: customer history %v, want the real order only", order, cust["orders"])
			}
		}
	})
}

// A warm processor writes a shop's digest item once a week, not with every
// counted event; a cold one (a new process) writes it again.
func TestDigestItemWrittenOncePerWeekPerProcess(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		evs := history()
		digests := func() []state.Key {
			var keys []state.Key
			for k := range e.dump(t) {
				if strings.HasPrefix(k, "SHOP#"+shop+"|DIGEST#") {
					keys = append(keys, state.Key{Kind: state.ItemDigest, Shop: shop, ID: strings.TrimPrefix(k, "SHOP#"+shop+"|DIGEST#")})
				}
			}
			return keys
		}
		e.process(t, evs[0])
		e.process(t, evs[1]) // paid: counted
		keys := digests()
		if len(keys) != 1 {
			t.Fatalf("after a counted event: digest items %v, want one", keys)
		}
		// Gone behind the processor's back: a warm processor does not write it again.
		if err := e.store.Delete(context.Background(), keys); err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs[2:10] {
			e.process(t, ev)
		}
		if got := digests(); len(got) != 0 {
			t.Fatalf("a warm processor wrote the week's digest item again: %v", got)
		}
		p := e.proc
		e.proc = &state.Processor{Store: p.Store, Outbox: p.Outbox, Settings: p.Settings, Rules: p.Rules, Log: p.Log, Now: p.Now}
		e.process(t, evs[10]) // delivered: counted
		if got := digests(); len(got) != 1 || got[0] != keys[0] {
			t.Fatalf("a cold processor's counted event: digest items %v, want %v", got, keys)
		}
	})
}

// An order snapshot that repeats what its parcels already know changes the
// order but writes no parcel: rewriting one unchanged costs two write units
// of the transaction for nothing.
func TestAnUnchangedParcelIsNotRewritten(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		for _, ev := range history() {
			e.process(t, ev)
		}
		before := e.dump(t)
		e.process(t, orderEvent("orders/updated", "ou-tag", snapshot(at(8, 0), "paid", "fulfilled", []aftercare.Fulfillment{f1, f2}, "vip")))
		after := e.dump(t)
		order := "SHOP#" + shop + "|ORDER#5001"
		if before[order]["@version"] == after[order]["@version"] {
			t.Fatalf("the newer snapshot must change the order (version %v)", after[order]["@version"])
		}
		parcels := 0
		for k, doc := range before {
			if !strings.HasPrefix(k, "SHIPMENT#") {
				continue
			}
			parcels++
			if got := after[k]["@version"]; got != doc["@version"] {
				t.Errorf("%s rewritten (version %v -> %v) though nothing about it changed:\n%s", k, doc["@version"], got, strings.Join(diff(map[string]map[string]any{k: doc}, map[string]map[string]any{k: after[k]}), "\n"))
			}
		}
		if parcels != 2 {
			t.Fatalf("the history should leave two parcels, found %d", parcels)
		}
	})
}

// Shopify bumps the customer's updated_at with every order: a newer profile
// that changes nothing does not rewrite the customer, and one that changes
// a field does.
func TestAProfileNewerOnlyInTimeIsNotWritten(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := afterHistory(t, newEnv)
		customer := "SHOP#" + shop + "|CUSTOMER#7001"
		before := e.dump(t)
		snap := snapshot(at(8, 0), "paid", "fulfilled", []aftercare.Fulfillment{f1, f2}, "vip")
		snap.Customer.UpdatedAt = at(8, 0)
		snap.Customer.FirstName, _ = before[customer]["first_name"].(string) // as the history left it
		e.process(t, orderEvent("orders/updated", "ou-time", snap))
		after := e.dump(t)
		if before[customer]["@version"] != after[customer]["@version"] {
			t.Fatalf("the customer was rewritten for its profile's time alone:\n%s", strings.Join(diff(map[string]map[string]any{customer: before[customer]}, map[string]map[string]any{customer: after[customer]}), "\n"))
		}
		snap = snapshot(at(9, 0), "paid", "fulfilled", []aftercare.Fulfillment{f1, f2}, "vip")
		snap.Customer.UpdatedAt, snap.Customer.LastName = at(9, 0), "King"
		snap.Customer.FirstName, _ = before[customer]["first_name"].(string)
		e.process(t, orderEvent("orders/updated", "ou-name", snap))
		if got := e.dump(t)[customer]; got["@version"] == after[customer]["@version"] || got["last_name"] != "King" {
			t.Fatalf("a newer profile with a new name must be written: version %v, last name %v", got["@version"], got["last_name"])
		}
	})
}

// A keeper with no room (MaxApplied records younger than AppliedTTL) leaves
// the next event's record to an item of its own rather than forget an older
// one, and that record re-sends as any other, even when the event applied
// again would write something.
func TestAFullKeeperLeavesTheRecordToAnItemOfItsOwn(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		evs := damagedHistory()
		var ev aftercare.Event
		for _, x := range evs {
			if x.Kind == aftercare.EventFulfillment && x.Fulfillment.Shipment == aftercare.StatusAttemptedDelivery {
				ev = x
				break
			}
			e.process(t, x)
		}
		ctx := context.Background()
		k := state.Key{Kind: state.ItemOrder, Shop: shop, ID: "5001"}
		pk := state.Key{Kind: state.ItemShipment, ID: aftercare.TrackingKey(ev.Fulfillment.TrackingNumbers[0])}
		_, items, err := e.store.Load(ctx, "", []state.Key{k, pk})
		if err != nil {
			t.Fatal(err)
		}
		o, parcel := items.Orders[k], items.Shipments[pk]
		for i := len(o.Applied); i < aftercare.MaxApplied; i++ {
			o.Applied.Remember(fmt.Sprint("filler-", i), e.now, nil)
		}
		if err := e.store.Commit(ctx, &state.Commit{Puts: []state.Entity{{Order: o}}}); err != nil {
			t.Fatal(err)
		}
		e.sent(t)
		down, up := &failingOutbox{}, e.proc.Outbox
		e.proc.Outbox = down
		if _, err := e.proc.Process(ctx, &ev); err == nil || len(down.ids) == 0 {
			t.Fatalf("the failed attempt should have queued messages and failed: %v %v", err, down.ids)
		}
		checkRecord(t, e, &ev, "")
		// Before the copy comes, the parcel is put back as it was before the
		// event: applied again, the event would write, so only its record,
		// read first, tells it is a copy and re-sends. (A Shopify
		// fulfillment applied again changes nothing today; this stands for
		// any state the event would change again, so the record, not the
		// look before acknowledging, must catch it.)
		e.proc.Outbox = up
		_, now, err := e.store.Load(ctx, "", []state.Key{pk})
		if err != nil {
			t.Fatal(err)
		}
		parcel.Version = now.Shipments[pk].Version
		if err := e.store.Commit(ctx, &state.Commit{Puts: []state.Entity{{Shipment: parcel}}}); err != nil {
			t.Fatal(err)
		}
		e.sent(t)
		if res := e.process(t, ev); res.Outcome != state.Duplicate {
			t.Fatalf("redriven copy: outcome %s, want duplicate", res.Outcome)
		}
		want := down.ids
		sort.Strings(want)
		if got := sentIDs(t, e); !reflect.DeepEqual(got, want) {
			t.Fatalf("redrive queued %v, want the failed send's %v", got, want)
		}
	})
}

// A tracking number reused for another customer's order moves the parcel
// to them. Its records of the messages it queued to the first customer go
// with neither: customers/redact scrubs them from the parcel it must keep,
// and neither customer's data request export shows a record or the other
// customer's parcel.
func TestAReusedTrackingNumberKeepsNothingOfTheRedactedCustomer(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := afterHistory(t, newEnv)
		other := buyer
		other.ID, other.Email, other.Phone, other.FirstName, other.LastName = "7002", "grace@example.org", "+15557654321", "Grace", "Hopper"
		snap := snapshot(at(8, 9), "paid", "fulfilled", nil)
		snap.ID, snap.Name, snap.Customer, snap.Email = "6001", "#1002", &other, other.Email
		reused := aftercare.Fulfillment{ID: "F9", OrderID: "6001", Status: "success", TrackingNumbers: f1.TrackingNumbers,
			TrackingCompany: "UPS", CreatedAt: at(8, 10), UpdatedAt: at(8, 10), LineItemIDs: []string{"1"}}
		e.process(t, orderEvent("orders/create", "oc-6001", snap))
		e.process(t, fulfillmentEvent("fulfillments/create", "fc-6001", reused))
		parcelKey := "SHIPMENT#" + aftercare.TrackingKey(f1.TrackingNumbers[0]) + "|SHIPMENT"
		parcel := e.dump(t)[parcelKey]
		if parcel["order_id"] != "6001" || !strings.Contains(mustJSON(parcel["applied"]), `"7001"`) {
			t.Fatalf("the parcel should be linked to 6001 and still hold records naming 7001: %s", mustJSON(parcel))
		}

		exportOf := func(customer, id string) string {
			t.Helper()
			ev := shopifyEvent("customers/data_request", id, aftercare.EventDataRequest, at(9, 12))
			ev.Privacy = &aftercare.PrivacyRequest{CustomerID: customer, DataRequestID: id}
			res := e.process(t, ev)
			if len(res.Messages) != 1 {
				t.Fatalf("data request %s: %d messages", id, len(res.Messages))
			}
			return string(res.Messages[0].Export)
		}
		// (A scan's "applied" is a boolean; the records' list is "applied":[.)
		if x := exportOf("7001", "dr-7001"); strings.Contains(x, `"applied":[`) || strings.Contains(x, "6001") || strings.Contains(x, "7002") {
			t.Errorf("7001's export holds records or the other customer's parcel: %s", x)
		}
		if x := exportOf("7002", "dr-7002"); strings.Contains(x, `"applied":[`) || strings.Contains(x, "7001") ||
			!strings.Contains(x, aftercare.TrackingKey(f1.TrackingNumbers[0])) {
			t.Errorf("7002's export should hold their parcel, without records: %s", x)
		}

		red := shopifyEvent("customers/redact", "red-7001", aftercare.EventCustomerRedact, at(10, 0))
		red.Privacy = &aftercare.PrivacyRequest{CustomerID: buyer.ID, Email: buyer.Email, Phone: buyer.Phone, Orders: []string{"5001"}}
		e.process(t, red)
		parcel = e.dump(t)[parcelKey]
		if parcel["order_id"] != "6001" {
			t.Fatalf("the parcel of 6001 must stay: %s", mustJSON(parcel))
		}
		if raw := mustJSON(parcel); strings.Contains(raw, "7001") || strings.Contains(raw, "5001") {
			t.Errorf("the parcel kept by 6001 still names the redacted customer or their order: %s", raw)
		}
	})
}
