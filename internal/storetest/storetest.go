// Package storetest is the contract every store of aftercare keeps: one suite,
// run against the in-memory store (fast tier) and against DynamoDB Local
// (emulator tier), so the twin used by fast tests behaves as the table does.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dispatch"
	"github.com/aftercare/aftercare/internal/ledger"
	"github.com/aftercare/aftercare/internal/lifecycle"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/state"
)

// Store is everything a store implements: the state engine's, the checks',
// dispatch's, the report's counters, the ledger listing and shop settings.
type Store interface {
	state.Store
	state.CounterReader
	lifecycle.Store
	dispatch.Store
	Ledger(ctx context.Context, shop string) ([]ledger.Entry, error)
	ReportDays(ctx context.Context, shop, from, to string) (map[string]report.Counters, error)
	ShopSettings(ctx context.Context, shop string) ([]byte, error)
	PutShopSettings(ctx context.Context, shop string, doc []byte) error
	PutAll(ctx context.Context, items []state.Entity) error
	EachShopItem(ctx context.Context, shop string, fn func(state.Key, state.Entity) error) error
	UpdateCustomer(ctx context.Context, shop, id string, change func(*aftercare.Customer) bool, adds func(before, after *aftercare.Customer) []state.Add) error
}

// Now is the clock the suite's data is dated by (a fixed day long past, so no
// result depends on the real date).
var Now = time.Date(2024, 5, 14, 10, 0, 0, 0, time.UTC)

const shop = "contract.myshopify.com"

// Run runs the contract against stores made by open (a fresh, empty store per call).
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"VersionsAndConditions", versions},
		{"DedupeIsAtomicWithTheChange", dedupe},
		{"ConflictWritesNothing", conflict},
		{"DeletesAndStock", deletesAndStock},
		{"WaitingAndShopItems", waitingAndShopItems},
		{"DueIndexPages", dueIndex},
		{"Cursors", cursors},
		{"ReconcileCursors", reconcileCursors},
		{"CountersExactlyOnce", counters},
		{"TransactionLimit", transactionLimit},
		{"LedgerClaims", ledgerClaims},
		{"MarketingCapSlot", capSlot},
		{"RecordWithCustomer", recordWithCustomer},
		{"DecisionsCountOnce", decisionsCount},
		{"DayItemsByRange", dayItems},
		{"Settings", settingsDocs},
		{"TypedCopies", typedCopies},
		{"UpdateCustomer", updateCustomer},
		{"InstallMarks", installMarks},
		{"RedactLeavesNoTrace", redactLeavesNoTrace},
		{"ShopRedactPages", shopRedactPages},
		{"DataRequestInParts", dataRequestInParts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var ctx = context.Background()

func key(kind, id string) state.Key {
	if kind == state.ItemShipment {
		return state.Key{Kind: kind, ID: id}
	}
	return state.Key{Kind: kind, Shop: shop, ID: id}
}

func order(id, name string, version int64) state.Entity {
	return state.Entity{Order: &aftercare.Order{Shop: shop, ID: id, Name: name, Version: version}}
}

func inventory(id string, qty int) state.Entity {
	return state.Entity{Inventory: &state.Inventory{Shop: shop, ID: id, VariantID: "v" + id, ProductQty: &qty}}
}

func wait(variant, orderID, product string) state.Entity {
	return state.Entity{Wait: &state.Wait{Shop: shop, VariantID: variant, OrderID: orderID, ProductID: product, Since: Now, Version: -1}}
}

func customer(id string, due time.Time) state.Entity {
	return state.Entity{Customer: &aftercare.Customer{Shop: shop, ID: id, Email: id + "@example.org", ExamineAt: due}}
}

func mustCommit(t *testing.T, s Store, c *state.Commit) {
	t.Helper()
	if err := s.Commit(ctx, c); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

func load(t *testing.T, s Store, keys ...state.Key) *state.Loaded {
	t.Helper()
	_, l, err := s.Load(ctx, "", keys)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func versions(t *testing.T, s Store) {
	k := key(state.ItemOrder, "1001")
	due := Now.Add(3 * time.Hour)
	first := order("1001", "#1001", 0)
	first.Order.ExamineAt = due
	mustCommit(t, s, &state.Commit{Puts: []state.Entity{first}})
	if o := load(t, s, k).Orders[k]; o == nil || o.Version != 1 || o.Name != "#1001" || !o.ExamineAt.Equal(due) {
		t.Fatalf("new order: %+v, want version 1 and its fields", o)
	}
	if err := s.Commit(ctx, &state.Commit{Puts: []state.Entity{order("1002", "#1002", 0), {}}}); err == nil {
		t.Fatal("a commit with an empty entity was accepted")
	}
	if load(t, s, key(state.ItemOrder, "1002")).Len() != 0 {
		t.Fatal("a refused commit wrote its other puts")
	}
	if err := s.Commit(ctx, &state.Commit{Puts: []state.Entity{order("1001", "again", 0)}}); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("creating an existing item: %v, want ErrConflict", err)
	}
	mustCommit(t, s, &state.Commit{Puts: []state.Entity{order("1001", "v2", 1)}})
	if err := s.Commit(ctx, &state.Commit{Puts: []state.Entity{order("1001", "late", 1)}}); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("writing over a newer version: %v, want ErrConflict", err)
	}
	if err := s.Save(ctx, order("1001", "saved", 1)); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("Save over a newer version: %v, want ErrConflict", err)
	}
	if err := s.Save(ctx, order("1001", "saved", 2)); err != nil {
		t.Fatal(err)
	}
	w := key(state.ItemWait, "v1#1001")
	for _, p := range []string{"p0", "p1"} { // version -1: unconditional
		mustCommit(t, s, &state.Commit{Puts: []state.Entity{wait("v1", "1001", p)}})
	}
	got := load(t, s, k, w, key(state.ItemOrder, "missing"))
	if got.Len() != 2 || got.Orders[k].Version != 3 || got.Orders[k].Name != "saved" || got.Waits[w].ProductID != "p1" || got.Waits[w].Version != 1 {
		t.Fatalf("after updates: order %+v wait %+v (%d found)", got.Orders[k], got.Waits[w], got.Len())
	}
	if e, ok := got.Get(w); !ok || e.Wait == nil || e.Key() != w {
		t.Fatalf("Get(%v) = %+v %v", w, e, ok)
	}
	exp := Now.Add(48 * time.Hour)
	sk := key(state.ItemShipment, "ups:1Z")
	mustCommit(t, s, &state.Commit{Puts: []state.Entity{{Shipment: &aftercare.Shipment{Key: "ups:1Z", Carrier: "ups", ExpiresAt: exp}}}})
	if got := load(t, s, sk).Shipments[sk]; got == nil || !got.ExpiresAt.Equal(exp) || got.Shop != "" || got.Carrier != "ups" || got.Version != 1 {
		t.Fatalf("parcel: %+v", got)
	}
}

func dedupe(t *testing.T, s Store) {
	d := &state.Dedupe{ID: "ev-1", Shop: shop, Topic: "orders/paid", At: Now,
		Outbox: []aftercare.Message{{ID: "m1", Kind: aftercare.KindOrderShipped, Shop: shop}}}
	k := key(state.ItemOrder, "1")
	mustCommit(t, s, &state.Commit{Dedupe: d, Puts: []state.Entity{order("1", "#1", 0)}})
	got, items, err := s.Load(ctx, "ev-1", []state.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.ID != "ev-1" || len(got.Outbox) != 1 || got.Outbox[0].ID != "m1" || !got.At.Equal(Now) || items.Orders[k] == nil || items.Orders[k].Version != 1 {
		t.Fatalf("dedupe record %+v, items %+v", got, items)
	}
	other := key(state.ItemOrder, "2")
	err = s.Commit(ctx, &state.Commit{Dedupe: &state.Dedupe{ID: "ev-1", At: Now}, Puts: []state.Entity{order("2", "#2", 0)}})
	if !errors.Is(err, state.ErrDuplicate) {
		t.Fatalf("second commit of an event: %v, want ErrDuplicate", err)
	}
	if load(t, s, other).Len() != 0 {
		t.Fatal("a duplicate event's change was written")
	}
	// A dedupe record alone is one item: the same answer without a transaction.
	if err := s.Commit(ctx, &state.Commit{Dedupe: &state.Dedupe{ID: "ev-1", At: Now}}); !errors.Is(err, state.ErrDuplicate) {
		t.Fatalf("second commit of an event, its dedupe record alone: %v, want ErrDuplicate", err)
	}
	if got, _, _ := s.Load(ctx, "ev-unknown", nil); got != nil {
		t.Fatalf("unknown event has a dedupe record: %+v", got)
	}
}

func conflict(t *testing.T, s Store) {
	a, b := key(state.ItemOrder, "a"), key(state.ItemCustomer, "b")
	mustCommit(t, s, &state.Commit{Puts: []state.Entity{customer("b", time.Time{})}})
	stale := customer("b", time.Time{})
	stale.Customer.Version, stale.Customer.Email = 7, "changed@example.org"
	err := s.Commit(ctx, &state.Commit{
		Dedupe:   &state.Dedupe{ID: "ev-c", At: Now},
		Puts:     []state.Entity{order("a", "#a", 0), stale},
		StockOut: map[string][]string{shop: {"v9"}},
		Adds:     []state.Add{{Key: key(state.ItemCounters, "day"), Counters: map[string]int64{"orders": 1}}},
	})
	if !errors.Is(err, state.ErrConflict) {
		t.Fatalf("stale version: %v, want ErrConflict", err)
	}
	if got := load(t, s, a, b); got.Len() != 1 || got.Customers[b].Email != "b@example.org" {
		t.Fatalf("a failed commit wrote something: %+v", got)
	}
	if d, _, _ := s.Load(ctx, "ev-c", nil); d != nil {
		t.Fatal("a failed commit wrote its dedupe record")
	}
	if out, _ := s.OutOfStock(ctx, shop); len(out) != 0 {
		t.Fatalf("a failed commit changed stock: %v", out)
	}
	if c, _ := s.Counters(ctx, []state.Key{key(state.ItemCounters, "day")}); len(c) != 0 {
		t.Fatalf("a failed commit added counters: %v", c)
	}
}

func deletesAndStock(t *testing.T, s Store) {
	a, b := key(state.ItemOrder, "a"), key(state.ItemOrder, "b")
	mustCommit(t, s, &state.Commit{Puts: []state.Entity{order("a", "#a", 0), order("b", "#b", 0)},
		StockOut: map[string][]string{shop: {"v1", "v2", "v3"}}})
	mustCommit(t, s, &state.Commit{Deletes: []state.Key{a}, StockIn: map[string][]string{shop: {"v2"}}})
	stockKey := key(state.ItemStock, "")
	got := load(t, s, a, b, stockKey)
	if _, ok := got.Orders[a]; ok || got.Orders[b] == nil || got.Len() != 2 {
		t.Fatalf("after delete: %+v", got)
	}
	if !reflect.DeepEqual(got.Stock[shop], map[string]bool{"v1": true, "v3": true}) {
		t.Fatalf("stock set %v", got.Stock[shop])
	}
	if none := load(t, s, state.Key{Kind: state.ItemStock, Shop: "other.myshopify.com"}); len(none.Stock) != 0 {
		t.Fatalf("a shop without a stock item loads %v", none.Stock)
	}
	// Out and in for one shop in one commit: both apply.
	mustCommit(t, s, &state.Commit{StockOut: map[string][]string{shop: {"v4"}}, StockIn: map[string][]string{shop: {"v1"}}})
	out, err := s.OutOfStock(ctx, shop)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, map[string]bool{"v3": true, "v4": true}) {
		t.Fatalf("out of stock %v", out)
	}
	many := make([]state.Key, 0, 60)
	var puts []state.Entity
	for i := range 160 { // over one BatchGetItem's 100 keys: the store chunks
		k := key(state.ItemInventory, fmt.Sprint(i))
		many = append(many, k)
		puts = append(puts, inventory(fmt.Sprint(i), i))
	}
	mustCommit(t, s, &state.Commit{Puts: puts[:30]})
	puts[0] = inventory("0", 99) // PutAll writes whether or not the item exists
	if err := s.PutAll(ctx, puts[:31]); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, s, &state.Commit{Puts: puts[31:100]})
	if err := s.PutAll(ctx, puts[100:]); err != nil {
		t.Fatal(err)
	}
	if got := load(t, s, many[0]).Inventory[many[0]]; got == nil || got.Available() != 99 || got.VariantID != "v0" {
		t.Fatalf("PutAll did not overwrite: %+v", got)
	}
	if got := load(t, s, many...); len(got.Inventory) != 160 || got.Inventory[many[159]].Available() != 159 {
		t.Fatalf("loaded %d of 160", len(got.Inventory))
	}
	if err := s.Delete(ctx, append(many, key(state.ItemOrder, "never-was"))); err != nil {
		t.Fatal(err)
	}
	if n := load(t, s, many...).Len(); n != 0 {
		t.Fatalf("%d items left after Delete", n)
	}
}

func waitingAndShopItems(t *testing.T, s Store) {
	mustCommit(t, s, &state.Commit{Puts: []state.Entity{
		wait("v1", "o1", "p1"), wait("v1", "o2", "p1"), wait("v10", "o3", "p10"),
		customer("c1", time.Time{}),
		{Order: &aftercare.Order{Shop: "other.myshopify.com", ID: "x"}},
		{Shipment: &aftercare.Shipment{Key: "ups:1"}},
	}, Adds: []state.Add{{Key: key(state.ItemCounters, "2024-05-14"), Counters: map[string]int64{"orders": 1}}}})
	ws, err := s.Waiting(ctx, shop, "v1")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, w := range ws {
		ids = append(ids, w.VariantID+"#"+w.OrderID+"/"+w.ProductID)
	}
	if !reflect.DeepEqual(ids, []string{"v1#o1/p1", "v1#o2/p1"}) {
		t.Fatalf("waiting for v1: %v", ids)
	}
	seen := map[state.Key]bool{}
	var c1 *aftercare.Customer
	err = s.EachShopItem(ctx, shop, func(k state.Key, e state.Entity) error {
		seen[k] = true
		if e.Body() != nil && e.Key() != k {
			t.Errorf("item %v carries the entity of %v", k, e.Key())
		}
		if k.Kind == state.ItemCustomer {
			c1 = e.Customer
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if c1 == nil || c1.Email != "c1@example.org" || c1.Version != 1 {
		t.Fatalf("shop items: customer %+v", c1)
	}
	want := map[state.Key]bool{key(state.ItemWait, "v1#o1"): true, key(state.ItemWait, "v1#o2"): true, key(state.ItemWait, "v10#o3"): true,
		key(state.ItemCustomer, "c1"): true, key(state.ItemCounters, "2024-05-14"): true}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("shop items %v, want %v", seen, want)
	}
}

func dueIndex(t *testing.T, s Store) {
	var puts []state.Entity
	wantDue := map[string]bool{}
	for i := range 40 {
		at := Now.Add(time.Duration(i-20) * time.Hour)
		id := fmt.Sprintf("c%02d", i)
		puts = append(puts, customer(id, at))
		if !at.After(Now) {
			wantDue[id] = true
		}
	}
	puts = append(puts, customer("never", time.Time{})) // not in the index
	dueOrder := order("o-due", "#o", 0)
	dueOrder.Order.ExamineAt = Now.Add(-time.Hour)
	puts = append(puts, dueOrder)
	mustCommit(t, s, &state.Commit{Puts: puts})
	got := map[string]bool{}
	pages := 0
	for shard := range s.ShardCount() {
		cursor := ""
		var last time.Time
		for {
			items, next, err := s.Due(ctx, state.ItemCustomer, shard, Now, cursor, 3)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(items) > 3 {
				t.Fatalf("page of %d over the limit of 3", len(items))
			}
			for _, it := range items {
				c := it.Customer
				if c == nil || c.Version != 1 || c.Email != c.ID+"@example.org" {
					t.Fatalf("due item %+v, want a customer at version 1", it)
				}
				if got[c.ID] {
					t.Fatalf("%s read twice", c.ID)
				}
				if c.ExamineAt.Before(last) {
					t.Fatalf("shard %d not oldest first: %s after %s", shard, c.ExamineAt, last)
				}
				last = c.ExamineAt
				got[c.ID] = true
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	if !reflect.DeepEqual(got, wantDue) {
		t.Fatalf("due up to now: %d items %v, want %d", len(got), got, len(wantDue))
	}
	if pages < 7 {
		t.Fatalf("%d pages for %d items at 3 a page", pages, len(wantDue))
	}
}

func cursors(t *testing.T, s Store) {
	if c, err := s.Cursors(ctx, "follow_ups"); err != nil || len(c) != 0 {
		t.Fatalf("no cursors yet: %v %v", c, err)
	}
	want := map[string]string{"customer/0": "abc", "shipment/3": "def"}
	if err := s.SaveCursors(ctx, "follow_ups", want); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Cursors(ctx, "follow_ups"); !reflect.DeepEqual(c, want) {
		t.Fatalf("cursors %v", c)
	}
	if err := s.SaveCursors(ctx, "follow_ups", nil); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Cursors(ctx, "follow_ups"); len(c) != 0 {
		t.Fatalf("cleared cursors %v", c)
	}
}

// reconcileCursors: one cursor per shop, nanoseconds kept, zero before the first.
func reconcileCursors(t *testing.T, s Store) {
	if c, err := s.ReconcileCursor(ctx, shop); err != nil || !c.At.IsZero() || len(c.Orders) != 0 {
		t.Fatalf("no cursor yet: %+v %v", c, err)
	}
	want := aftercare.ReconcileCursor{At: Now.Add(-90 * time.Minute).Add(123456789), Orders: []string{"71", "72"}}
	if err := s.SaveReconcileCursor(ctx, shop, want); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveReconcileCursor(ctx, "other.myshopify.com", aftercare.ReconcileCursor{At: Now}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReconcileCursor(ctx, shop); err != nil || !got.At.Equal(want.At) || !reflect.DeepEqual(got.Orders, want.Orders) {
		t.Fatalf("cursor %+v %v, want %+v", got, err, want)
	}
	if err := s.SaveReconcileCursor(ctx, shop, aftercare.ReconcileCursor{At: Now, Orders: []string{"73"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ReconcileCursor(ctx, shop); !got.At.Equal(Now) || !reflect.DeepEqual(got.Orders, []string{"73"}) {
		t.Fatalf("advanced cursor %+v", got)
	}
	if c, _ := s.Cursors(ctx, "reconcile"); len(c) != 0 {
		t.Fatalf("the reconcile cursors are not a check's checkpoint: %v", c)
	}
}

func counters(t *testing.T, s Store) {
	day, week := key(state.ItemCounters, "day#2024-05-14"), key(state.ItemCounters, "week#2024-W20")
	ev := func(id string, adds ...state.Add) error {
		return s.Commit(ctx, &state.Commit{Dedupe: &state.Dedupe{ID: id, At: Now}, Adds: adds})
	}
	paid := []state.Add{
		{Key: day, Counters: map[string]int64{"orders": 1, "revenue_cents": 2900}},
		{Key: day, Counters: map[string]int64{"orders": 1}}, // same item twice in one commit: summed
		{Key: week, Counters: map[string]int64{"orders": 2}},
	}
	if err := ev("ev-1", paid...); err != nil {
		t.Fatal(err)
	}
	for range 3 { // redelivered: counted once
		if err := ev("ev-1", paid...); !errors.Is(err, state.ErrDuplicate) {
			t.Fatalf("duplicate: %v", err)
		}
	}
	if err := ev("ev-2", state.Add{Key: day, Counters: map[string]int64{"orders": 1, "refund_cents": -500}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Counters(ctx, []state.Key{day, week, key(state.ItemCounters, "none")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[state.Key]map[string]int64{
		day:  {"orders": 3, "revenue_cents": 2900, "refund_cents": -500},
		week: {"orders": 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("counters %v, want %v", got, want)
	}
	if err := ev("ev-3", state.Add{Key: key(state.ItemOrder, "1"), Counters: map[string]int64{"x": 1}}); err == nil {
		t.Fatal("counters added to an order item")
	}
}

func transactionLimit(t *testing.T, s Store) {
	var puts []state.Entity
	for i := range 100 {
		puts = append(puts, inventory(fmt.Sprint(i), i))
	}
	add := state.Add{Key: key(state.ItemCounters, "d"), Counters: map[string]int64{"n": 1}}
	if err := s.Commit(ctx, &state.Commit{Dedupe: &state.Dedupe{ID: "big", At: Now}, Puts: puts, Adds: []state.Add{add}}); err == nil {
		t.Fatal("101 items in one commit were accepted")
	}
	// Exactly 100: the counters ride on an item the commit writes anyway.
	mustCommit(t, s, &state.Commit{Puts: puts, Adds: []state.Add{add}})
	if c, _ := s.Counters(ctx, []state.Key{add.Key}); c[add.Key]["n"] != 1 {
		t.Fatalf("100-item commit: counters %v", c)
	}
}

func entries(t *testing.T, s Store) map[string]ledger.Entry {
	t.Helper()
	list, err := s.Ledger(ctx, shop)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]ledger.Entry{}
	for _, e := range list {
		out[e.ID] = e
	}
	return out
}

func ledgerClaims(t *testing.T, s Store) {
	claim := func(id, token string, now time.Time) (time.Time, error) {
		return s.Claim(ctx, ledger.Claim{Shop: shop, ID: id, Token: token, Kind: aftercare.KindOrderShipped, CustomerID: "c1",
			Lease: now.Add(time.Minute), Now: now})
	}
	if _, err := claim("m1", "t1", Now); err != nil {
		t.Fatal(err)
	}
	if until, err := claim("m1", "t2", Now.Add(30*time.Second)); !errors.Is(err, ledger.ErrInFlight) || !until.Equal(Now.Add(time.Minute)) {
		t.Fatalf("claim during a live lease: %v (until %v)", err, until)
	}
	if _, err := claim("m1", "t3", Now.Add(2*time.Minute)); err != nil { // lease over: a timed-out attempt frees it
		t.Fatalf("claim after the lease: %v", err)
	}
	if err := s.Release(ctx, ledger.Record{Shop: shop, ID: "m1", Kind: aftercare.KindOrderShipped, Token: "t1", Why: "stale token", At: Now}); err != nil { // not the holder: no effect
		t.Fatal(err)
	}
	if e := entries(t, s)["m1"]; e.Status != "claimed" || e.Attempts != 2 {
		t.Fatalf("after a stale release: %+v", e)
	}
	if err := s.Release(ctx, ledger.Record{Shop: shop, ID: "m1", Kind: aftercare.KindOrderShipped, Token: "t3", Why: "503 from sink", At: Now}); err != nil {
		t.Fatal(err)
	}
	if e := entries(t, s)["m1"]; e.Status != ledger.Failed || e.Why != "503 from sink" {
		t.Fatalf("released: %+v", e)
	}
	if _, err := claim("m1", "t4", Now.Add(3*time.Minute)); err != nil {
		t.Fatalf("claim after a failure: %v", err)
	}
	if err := s.Record(ctx, ledger.Record{Shop: shop, ID: "m1", Kind: aftercare.KindOrderShipped, Decision: ledger.Sent, Token: "t4",
		Channel: aftercare.ChannelEmail, At: Now, CustomerID: "c1", OrderID: "o1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := claim("m1", "t5", Now.Add(time.Hour)); !errors.Is(err, ledger.ErrClaimed) {
		t.Fatalf("claim of a sent message: %v", err)
	}
	if err := s.Record(ctx, ledger.Record{Shop: shop, ID: "m1", Decision: ledger.Suppressed, At: Now}); !errors.Is(err, ledger.ErrClaimed) {
		t.Fatalf("an unclaimed decision over a delivery: %v", err)
	}
	if err := s.Record(ctx, ledger.Record{Shop: shop, ID: "m2", Kind: aftercare.KindWinBack, Decision: ledger.Held, Why: "hold", At: Now}); err != nil {
		t.Fatal(err)
	}
	if _, err := claim("m2", "t6", Now.Add(time.Hour)); err != nil { // held comes back
		t.Fatalf("claim of a held message: %v", err)
	}
	// Marketing goes at most once: an expired claim is an attempt whose
	// outcome nobody knows, and no later copy takes it over.
	market := func(token string, now time.Time) (time.Time, error) {
		return s.Claim(ctx, ledger.Claim{Shop: shop, ID: "m3", Token: token, Kind: aftercare.KindWinBack, CustomerID: "c9",
			Lease: now.Add(time.Minute), Now: now, CapSince: now.Add(-time.Hour)})
	}
	if _, err := market("t7", Now); err != nil {
		t.Fatal(err)
	}
	if _, err := market("t8", Now.Add(30*time.Second)); !errors.Is(err, ledger.ErrInFlight) {
		t.Fatalf("marketing claim during a live lease: %v", err)
	}
	if _, err := market("t9", Now.Add(2*time.Minute)); !errors.Is(err, ledger.ErrUnknownOutcome) {
		t.Fatalf("marketing claim after an attempt that died: %v", err)
	}
	got := entries(t, s)
	// The entry names no customer (customers/redact has nothing to find).
	if e := got["m1"]; e.Status != ledger.Sent || e.Channel != "email" || e.OrderID != "o1" || e.CustomerID != "" || e.Attempts != 3 {
		t.Fatalf("sent entry: %+v", e)
	}
	if e := got["m2"]; e.Status != "claimed" {
		t.Fatalf("re-claimed held entry: %+v", e)
	}
}

func capSlot(t *testing.T, s Store) {
	since := func(now time.Time) time.Time { return now.Add(-24 * time.Hour) }
	claim := func(id, token string, now time.Time) (time.Time, error) {
		return s.Claim(ctx, ledger.Claim{Shop: shop, ID: id, Token: token, Kind: aftercare.KindWinBack, CustomerID: "c1",
			Lease: now.Add(time.Minute), Now: now, CapSince: since(now)})
	}
	if _, err := claim("w1", "t1", Now); err != nil {
		t.Fatal(err)
	}
	taken, err := claim("w2", "t2", Now.Add(time.Hour))
	if !errors.Is(err, ledger.ErrCapped) || !taken.Equal(Now) {
		t.Fatalf("second marketing within the window: %s %v, want capped at %s", taken, err, Now)
	}
	if e := entries(t, s)["w2"]; e.ID != "" {
		t.Fatalf("a capped claim left a ledger entry: %+v", e)
	}
	// A failed delivery gives the slot back.
	if err := s.Release(ctx, ledger.Record{Shop: shop, ID: "w1", Kind: aftercare.KindWinBack, Token: "t1", Why: "timeout", At: Now, CustomerID: "c1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := claim("w2", "t3", Now.Add(2*time.Hour)); err != nil {
		t.Fatalf("after the holder failed: %v", err)
	}
	if _, err := claim("w3", "t4", Now.Add(26*time.Hour+time.Second)); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func recordWithCustomer(t *testing.T, s Store) {
	c := &aftercare.Customer{Shop: shop, ID: "c9", Email: "c9@example.org", ExamineAt: Now.Add(time.Hour)}
	o := &aftercare.Order{Shop: shop, ID: "o9", Name: "#9"}
	mustCommit(t, s, &state.Commit{Puts: []state.Entity{{Customer: c}, {Order: o}}})
	gc, gotOrder, _, err := s.State(ctx, shop, "c9", "o9")
	if err != nil || gc == nil || gotOrder == nil || gc.Email != c.Email || gc.Version != 1 || gotOrder.Name != "#9" || gotOrder.Version != 1 {
		t.Fatalf("state: %+v %+v %v", gc, gotOrder, err)
	}
	if gc, gotOrder, _, err := s.State(ctx, shop, "nobody", ""); err != nil || gc != nil || gotOrder != nil {
		t.Fatalf("unknown customer: %+v %+v %v", gc, gotOrder, err)
	}
	gc.LastMarketingAt = Now
	gc.ExamineAt = Now.Add(-time.Hour)
	if err := s.Record(ctx, ledger.Record{Shop: shop, ID: "r1", Decision: ledger.Stale, At: Now, Customer: gc}); err != nil {
		t.Fatal(err)
	}
	stale := *gc // version 1 again: the customer is at 2 now
	if err := s.Record(ctx, ledger.Record{Shop: shop, ID: "r2", Decision: ledger.Stale, At: Now, Customer: &stale}); !errors.Is(err, ledger.ErrConflict) {
		t.Fatalf("record over a changed customer: %v, want ErrConflict", err)
	}
	if e := entries(t, s)["r2"]; e.ID != "" {
		t.Fatalf("a conflicting record wrote its entry: %+v", e)
	}
	after, _, _, _ := s.State(ctx, shop, "c9", "")
	if after.Version != 2 || !after.LastMarketingAt.Equal(Now) {
		t.Fatalf("customer after record: %+v", after)
	}
	found := false
	for shard := range s.ShardCount() {
		items, _, err := s.Due(ctx, state.ItemCustomer, shard, Now, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			found = found || (it.Customer != nil && it.Customer.ID == "c9")
		}
	}
	if !found {
		t.Fatal("the recorded customer's new due time is not in the index")
	}
}

func settingsDocs(t *testing.T, s Store) {
	if d, err := s.ShopSettings(ctx, shop); err != nil || d != nil {
		t.Fatalf("no settings yet: %s %v", d, err)
	}
	if err := s.PutShopSettings(ctx, shop, []byte(`{"shop_name":"Tea"}`)); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.ShopSettings(ctx, shop); string(d) != `{"shop_name":"Tea"}` {
		t.Fatalf("settings %s", d)
	}
}

// typedCopies: what a caller loads or commits is its own; changing it later
// changes nothing stored.
func typedCopies(t *testing.T, s Store) {
	k := key(state.ItemCustomer, "alias")
	c := &aftercare.Customer{Shop: shop, ID: "alias", Email: "a@example.org", Tags: []string{"vip"},
		Marks: map[string]aftercare.Mark{"win_back": {State: "sent", At: Now}}}
	mustCommit(t, s, &state.Commit{Puts: []state.Entity{{Customer: c}}})
	c.Email, c.Tags[0], c.Marks["win_back"] = "changed@example.org", "changed", aftercare.Mark{State: "held"}
	got := load(t, s, k).Customers[k]
	if got.Email != "a@example.org" || got.Tags[0] != "vip" || got.Marks["win_back"].State != "sent" {
		t.Fatalf("the committed customer changed with the caller's copy: %+v", got)
	}
	got.Tags[0], got.Marks["win_back"] = "changed", aftercare.Mark{State: "held"}
	again := load(t, s, k).Customers[k]
	if again.Tags[0] != "vip" || again.Marks["win_back"].State != "sent" {
		t.Fatalf("the stored customer changed with a loaded copy: %+v", again)
	}
	gc, _, _, err := s.State(ctx, shop, "alias", "")
	if err != nil || gc == again {
		t.Fatalf("State returned a shared copy: %v", err)
	}
}

// updateCustomer: a change outside an event moves the version on, writes
// only when something changed, and keeps the customer in the due index.
func updateCustomer(t *testing.T, s Store) {
	unsubscribe := func(c *aftercare.Customer) bool {
		if c.EmailConsent.State == aftercare.ConsentUnsubscribed {
			return false
		}
		c.EmailConsent = aftercare.Consent{State: aftercare.ConsentUnsubscribed, UpdatedAt: Now}
		return true
	}
	// adds counts each change, as the report counts an unsubscribe.
	day := key(state.ItemCounters, "2015-06-01")
	counted := func(before, after *aftercare.Customer) []state.Add {
		if before.EmailConsent.State == after.EmailConsent.State {
			return nil
		}
		return []state.Add{{Key: day, Counters: map[string]int64{"unsubscribes": 1}}}
	}
	if err := s.UpdateCustomer(ctx, shop, "nobody", unsubscribe, counted); aftercare.ErrorCode(err) != aftercare.ENOTFOUND {
		t.Fatalf("unknown customer: %v, want ENOTFOUND", err)
	}
	c := customer("u1", Now.Add(-time.Hour))
	c.Customer.EmailConsent = aftercare.Consent{State: aftercare.ConsentSubscribed, UpdatedAt: Now.Add(-48 * time.Hour)}
	mustCommit(t, s, &state.Commit{Puts: []state.Entity{c}})
	for range 2 { // the second is a no-op: nothing written
		if err := s.UpdateCustomer(ctx, shop, "u1", unsubscribe, counted); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := s.Counters(ctx, []state.Key{day}); err != nil || c[day]["unsubscribes"] != 1 {
		t.Fatalf("counted with the change, once: %v %v", c, err)
	}
	got, _, _, err := s.State(ctx, shop, "u1", "")
	if err != nil || got.Version != 2 || got.EmailConsent.State != aftercare.ConsentUnsubscribed || got.Email != "u1@example.org" {
		t.Fatalf("after UpdateCustomer: %+v %v", got, err)
	}
	found := false
	for shard := range s.ShardCount() {
		items, _, err := s.Due(ctx, state.ItemCustomer, shard, Now, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Customer != nil && it.Customer.ID == "u1" {
				found = it.Customer.Version == 2
			}
		}
	}
	if !found {
		t.Fatal("the updated customer left the due index")
	}
}

// days reads the shop's day counters around Now.
func days(t *testing.T, s Store) map[string]report.Counters {
	t.Helper()
	got, err := s.ReportDays(ctx, shop, Now.AddDate(0, 0, -10).Format(report.DayFormat), Now.AddDate(0, 0, 10).Format(report.DayFormat))
	if err != nil {
		t.Fatal(err)
	}
	for d, c := range got {
		if len(c) == 0 {
			delete(got, d)
		}
	}
	return got
}

// Every ledger decision moves the report's counters exactly once with the
// entry: a held message counts on the day it was first held, and when it is
// later sent it leaves that day; a failure counts until the retry succeeds;
// a refused write counts nothing.
func decisionsCount(t *testing.T, s Store) {
	day := func(n int) time.Time { return Now.AddDate(0, 0, n) }
	name := func(n int) string { return day(n).Format(report.DayFormat) }
	claim := func(id, token string, at time.Time) {
		t.Helper()
		if _, err := s.Claim(ctx, ledger.Claim{Shop: shop, ID: id, Token: token, Kind: aftercare.KindWinBack, Lease: at.Add(time.Minute), Now: at}); err != nil {
			t.Fatal(err)
		}
	}
	held := ledger.Record{Shop: shop, ID: "h1", Kind: aftercare.KindWinBack, Decision: ledger.Held, Why: "hold"}
	for i := 0; i < 3; i++ { // re-held run after run: still one, on the first day
		held.At = day(i)
		if err := s.Record(ctx, held); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := days(t, s), map[string]report.Counters{name(0): {"m:win_back:held": 1}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("held three times: %v, want %v", got, want)
	}
	claim("h1", "t1", day(3))
	if err := s.Release(ctx, ledger.Record{Shop: shop, ID: "h1", Kind: aftercare.KindWinBack, Token: "t1", Why: "503", At: day(3)}); err != nil {
		t.Fatal(err)
	}
	claim("h1", "t2", day(4))
	if err := s.Release(ctx, ledger.Record{Shop: shop, ID: "h1", Kind: aftercare.KindWinBack, Token: "t2", Why: "503", At: day(4)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, ledger.Record{Shop: shop, ID: "h1", Kind: aftercare.KindWinBack, Token: "t1", Why: "late", At: day(4)}); err != nil {
		t.Fatal(err) // a stale holder's release: no effect, nothing counted
	}
	if got, want := days(t, s), map[string]report.Counters{name(3): {"m:win_back:failed": 1}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("held then failed twice: %v, want %v", got, want)
	}
	claim("h1", "t3", day(5))
	sent := ledger.Record{Shop: shop, ID: "h1", Kind: aftercare.KindWinBack, Decision: ledger.Sent, Token: "t3", At: day(5),
		Adds: report.Adds{name(5): {"u": 1}}} // what a customer change adds rides along
	if err := s.Record(ctx, sent); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, sent); !errors.Is(err, ledger.ErrClaimed) { // the claim is spent: refused, nothing counted
		t.Fatalf("second record with a spent token: %v", err)
	}
	if err := s.Record(ctx, ledger.Record{Shop: shop, ID: "h1", Kind: aftercare.KindWinBack, Decision: ledger.Suppressed, At: day(6)}); !errors.Is(err, ledger.ErrClaimed) {
		t.Fatalf("unclaimed decision over a delivery: %v", err)
	}
	if got, want := days(t, s), map[string]report.Counters{name(5): {"m:win_back:sent": 1, "u": 1}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("finally sent: %v, want %v", got, want)
	}
	if e := entries(t, s)["h1"]; e.Counted.Decision != ledger.Sent || !e.Counted.At.Equal(day(5)) {
		t.Fatalf("entry counts %+v, want sent at %s", e.Counted, day(5))
	}
	// A customer write that conflicts commits neither the entry nor its counters.
	c := &aftercare.Customer{Shop: shop, ID: "c7"}
	mustCommit(t, s, &state.Commit{Puts: []state.Entity{{Customer: c}}})
	c.Version = 0 // stale: the stored one is at 1
	err := s.Record(ctx, ledger.Record{Shop: shop, ID: "s1", Kind: aftercare.KindWinBack, Decision: ledger.Stale, At: day(6), Customer: c,
		Adds: report.Adds{name(6): {"u": 1}}})
	if !errors.Is(err, ledger.ErrConflict) {
		t.Fatalf("record over a changed customer: %v", err)
	}
	if got := days(t, s); got[name(6)] != nil {
		t.Fatalf("a refused record counted: %v", got[name(6)])
	}
	// Days are the shop's: 05:00 UTC is 19:00 the evening before in Honolulu.
	hnl, _ := time.LoadLocation("Pacific/Honolulu")
	if err := s.Record(ctx, ledger.Record{Shop: shop, ID: "z1", Kind: aftercare.KindWinBack, Decision: ledger.Stale, At: day(-3).Add(-5 * time.Hour), Zone: hnl}); err != nil {
		t.Fatal(err)
	}
	if got := days(t, s)[day(-4).Format(report.DayFormat)]; got["m:win_back:stale"] != 1 {
		t.Fatalf("a decision at 05:00 UTC counts on the Honolulu day before: %v", days(t, s))
	}
}

// Day items are read by range, only the shop's, only the days asked for;
// shop/redact's listing of the shop's items includes them.
func dayItems(t *testing.T, s Store) {
	for i, d := range []string{"2024-05-01", "2024-05-02", "2024-05-09"} {
		mustCommit(t, s, &state.Commit{Adds: []state.Add{
			{Key: state.DayKey(shop, d), Counters: map[string]int64{"o": int64(i + 1)}},
			{Key: state.DayKey("other.myshopify.com", d), Counters: map[string]int64{"o": 9}},
		}})
	}
	got, err := s.ReportDays(ctx, shop, "2024-05-02", "2024-05-09")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]report.Counters{"2024-05-02": {"o": 2}, "2024-05-09": {"o": 3}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("days: %v, want %v", got, want)
	}
	var listed []state.Key
	if err := s.EachShopItem(ctx, shop, func(k state.Key, _ state.Entity) error {
		listed = append(listed, k)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 3 || listed[0] != state.DayKey(shop, "2024-05-01") {
		t.Fatalf("shop items: %v, want its three day items", listed)
	}
	if err := s.Delete(ctx, listed); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ReportDays(ctx, shop, "2024-01-01", "2024-12-31"); len(got) != 0 {
		t.Fatalf("deleted days still read: %v", got)
	}
}

// installMarks: a shop's install item is an entity like the others (versioned,
// typed on the way back, listed with the shop's items so shop/redact removes
// it, never on the due index); dispatch reads it with the customer and order,
// the checks on its own, and MarkInstalled lets only a newer install win.
func installMarks(t *testing.T, s Store) {
	k := state.Key{Kind: state.ItemInstall, Shop: shop}
	if got := load(t, s, k).Installs[k]; got != nil {
		t.Fatalf("a fresh store has install marks: %+v", got)
	}
	if _, _, inst, err := s.State(ctx, shop, "nobody", ""); err != nil || inst != nil {
		t.Fatalf("State without marks: %+v %v", inst, err)
	}
	gone := Now.Add(-time.Hour)
	mustCommit(t, s, &state.Commit{Puts: []state.Entity{{Install: &aftercare.Install{Shop: shop, UninstalledAt: gone}}}})
	got := load(t, s, k).Installs[k]
	if got == nil || got.Version != 1 || !got.UninstalledAt.Equal(gone) || !got.Uninstalled() {
		t.Fatalf("install marks after the uninstall: %+v", got)
	}
	if err := s.Commit(ctx, &state.Commit{Puts: []state.Entity{{Install: &aftercare.Install{Shop: shop}}}}); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("creating existing marks: %v, want ErrConflict", err)
	}
	mustCommit(t, s, &state.Commit{Puts: []state.Entity{customer("c-inst", time.Time{})}})
	c, _, inst, err := s.State(ctx, shop, "c-inst", "")
	if err != nil || c == nil || inst == nil || !inst.Uninstalled() {
		t.Fatalf("State: customer %v marks %+v %v", c != nil, inst, err)
	}
	if inst, err := s.Install(ctx, shop); err != nil || inst == nil || !inst.UninstalledAt.Equal(gone) {
		t.Fatalf("Install: %+v %v", inst, err)
	}
	if inst, err := s.Install(ctx, "other.myshopify.com"); err != nil || inst != nil {
		t.Fatalf("another shop's marks: %+v %v", inst, err)
	}
	if changed, err := state.MarkInstalled(ctx, s, shop, gone.Add(-time.Minute)); err != nil || !changed {
		t.Fatalf("an install older than the uninstall is still recorded: %v %v", changed, err)
	}
	if inst, _ := s.Install(ctx, shop); !inst.Uninstalled() {
		t.Fatalf("an install older than the uninstall must not win: %+v", inst)
	}
	if changed, err := state.MarkInstalled(ctx, s, shop, Now); err != nil || !changed {
		t.Fatalf("reconnect: %v %v", changed, err)
	}
	if changed, err := state.MarkInstalled(ctx, s, shop, Now); err != nil || changed {
		t.Fatalf("the same reconnect again: %v %v", changed, err)
	}
	if inst, _ := s.Install(ctx, shop); inst.Uninstalled() || !inst.InstalledAt.Equal(Now) || inst.Version != 3 {
		t.Fatalf("after the reconnect: %+v", inst)
	}
	listed := false
	if err := s.EachShopItem(ctx, shop, func(key state.Key, e state.Entity) error {
		if key == k {
			listed = e.Install != nil && e.Install.InstalledAt.Equal(Now)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !listed {
		t.Fatal("the install item is not listed, typed, among the shop's items")
	}
	for shard := 0; shard < s.ShardCount(); shard++ {
		items, _, err := s.Due(ctx, state.ItemInstall, shard, Now.Add(1000*time.Hour), "", 100)
		if err != nil || len(items) != 0 {
			t.Fatalf("install marks on the due index: %d %v", len(items), err)
		}
	}
}
