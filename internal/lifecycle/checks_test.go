package lifecycle_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/dynamo/dynamotest"
	"github.com/aftercare/aftercare/internal/lifecycle"
	"github.com/aftercare/aftercare/internal/memstore"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/rules"
	"github.com/aftercare/aftercare/internal/settings"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/state"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const shop = "checks-shop.myshopify.com"

// store is what the checks' tests need of a store.
type store interface {
	state.Store
	lifecycle.Store
	ShopSettings(ctx context.Context, shop string) ([]byte, error)
	PutAll(ctx context.Context, items []state.Entity) error
}

// env wires the processor (to build state the way production does) and the
// checker to a store and queues: in memory (fast tier) or DynamoDB Local and
// moto (emulator tier).
type env struct {
	stack   *testenv.Stack       // emulator tier only
	db      *dynamotest.Counting // emulator tier only
	out     *memOutbox           // fast tier only
	store   store
	proc    *state.Processor
	checker *lifecycle.Checker
	now     time.Time
	seq     int
}

// stores runs a test against each store: in memory (always) and DynamoDB
// Local (skipped only under -short).
func stores(t *testing.T, fn func(t *testing.T, newEnv func(testing.TB) *env)) {
	t.Run("memory", func(t *testing.T) { fn(t, newMemEnv) })
	t.Run("dynamodb", func(t *testing.T) {
		testenv.NeedEmulators(t)
		fn(t, newEnv)
	})
}

func (e *env) wire(t testing.TB, st store, outbox lifecycle.Outbox, procOut state.Outbox) {
	t.Helper()
	e.store = st
	defaults := aftercare.DefaultSettings()
	defaults.DiscountCodes = map[string]string{"lapse_note": "MISSYOU15"}
	if err := defaults.Validate(); err != nil {
		t.Fatal(err)
	}
	log := obs.NewLogger(io.Discard, "ERROR")
	cache := &settings.Cache{Defaults: defaults, Load: st.ShopSettings}
	e.proc = &state.Processor{Store: st, Outbox: procOut, Settings: cache, Rules: rules.Rules{}, Log: log, Now: func() time.Time { return e.now }}
	e.checker = &lifecycle.Checker{Store: st, Outbox: outbox, Settings: cache, Log: log, PageSize: 50}
}

// newEnv is the emulator tier's env.
func newEnv(t testing.TB) *env {
	t.Helper()
	s := testenv.Fresh(t)
	e := &env{stack: s, db: dynamotest.NewCounting(s.DB)}
	outbox := &sqs.Outbox{Messages: &sqs.Queue{API: s.SQS, URL: s.Outbound}, Events: &sqs.Queue{API: s.SQS, URL: s.Inbox}}
	e.wire(t, &dynamo.Store{DB: e.db, Streams: s.Streams, Table: s.Table, Shards: 4, Now: func() time.Time { return e.now }}, outbox, outbox)
	return e
}

// newMemEnv is the fast tier's env.
func newMemEnv(t testing.TB) *env {
	t.Helper()
	e := &env{out: &memOutbox{}}
	m := memstore.New()
	m.Shards, m.Now = 4, func() time.Time { return e.now }
	e.wire(t, m, e.out, e.out)
	return e
}

// memOutbox keeps what was queued, as the queues would hold it.
type memOutbox struct {
	mu   sync.Mutex
	msgs []aftercare.Message
	evs  []aftercare.Event
}

func (o *memOutbox) SendMessages(_ context.Context, msgs []aftercare.Message, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, m := range msgs {
		var c aftercare.Message // through JSON, as the queue carries it
		b, _ := json.Marshal(m)
		if err := json.Unmarshal(b, &c); err != nil {
			return err
		}
		o.msgs = append(o.msgs, c)
	}
	return nil
}

func (o *memOutbox) SendEvents(_ context.Context, evs []aftercare.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, ev := range evs {
		var c aftercare.Event
		b, _ := json.Marshal(ev)
		if err := json.Unmarshal(b, &c); err != nil {
			return err
		}
		o.evs = append(o.evs, c)
	}
	return nil
}

func (e *env) apply(t testing.TB, ev aftercare.Event) {
	t.Helper()
	e.now = ev.At
	if _, err := e.proc.Process(context.Background(), &ev); err != nil {
		t.Fatalf("process %s: %v", ev.ID, err)
	}
}

// order places (and optionally cancels) an order for a customer at a time.
func (e *env) order(t *testing.T, customer string, at time.Time, cancelled bool) string {
	t.Helper()
	e.seq++
	id := fmt.Sprintf("%d", 9000+e.seq)
	snap := &aftercare.OrderSnapshot{ID: id, Name: "#" + id, CreatedAt: at, UpdatedAt: at, ProcessedAt: at,
		FinancialStatus: "paid", TotalCents: 4500, Currency: "USD",
		Customer: &aftercare.CustomerInfo{ID: customer, Email: customer + "@example.org", FirstName: "Sam", UpdatedAt: at,
			EmailConsent: aftercare.Consent{State: aftercare.ConsentSubscribed, UpdatedAt: at}},
		LineItems: []aftercare.LineItem{{ID: "1", VariantID: "v1", ProductID: "p1", Title: "Tea", Quantity: 1}}}
	if cancelled {
		snap.CancelledAt = at.Add(time.Hour)
		snap.UpdatedAt = snap.CancelledAt
	}
	e.apply(t, aftercare.Event{ID: "shopify:" + shop + ":orders/updated:" + id, Kind: aftercare.EventOrder, Source: "shopify",
		Topic: "orders/updated", Shop: shop, At: snap.UpdatedAt, Received: snap.UpdatedAt, Order: snap})
	return id
}

// deliver ships and delivers an order in one parcel at a time.
func (e *env) deliver(t *testing.T, orderID, customer string, shipped, delivered time.Time) string {
	t.Helper()
	tn := "TN" + orderID
	f := &aftercare.Fulfillment{ID: "F" + orderID, OrderID: orderID, Status: "success", TrackingNumbers: []string{tn},
		TrackingCompany: "UPS", CreatedAt: shipped, UpdatedAt: shipped}
	snap := &aftercare.OrderSnapshot{ID: orderID, Name: "#" + orderID, CreatedAt: shipped.Add(-time.Hour), UpdatedAt: shipped, ProcessedAt: shipped.Add(-time.Hour),
		FinancialStatus: "paid", FulfillmentStatus: "fulfilled", TotalCents: 4500,
		Customer:     &aftercare.CustomerInfo{ID: customer, Email: customer + "@example.org", UpdatedAt: shipped.Add(-time.Hour)},
		LineItems:    []aftercare.LineItem{{ID: "1", VariantID: "v1", ProductID: "p1", Title: "Tea", Quantity: 1}},
		Fulfillments: []aftercare.Fulfillment{*f}}
	e.apply(t, aftercare.Event{ID: "shopify:" + shop + ":orders/fulfilled:" + orderID, Kind: aftercare.EventOrder, Source: "shopify",
		Topic: "orders/fulfilled", Shop: shop, At: shipped, Received: shipped, Order: snap})
	scan := func(id string, st aftercare.ShipmentStatus, at time.Time) {
		e.apply(t, aftercare.Event{ID: "easypost:" + id, Kind: aftercare.EventTracking, Source: "easypost", Topic: "tracker.updated",
			At: at, Received: at, Tracking: &aftercare.TrackingUpdate{TrackingNumber: tn, Carrier: "UPS", Status: st, EventTime: at}})
	}
	scan("it-"+orderID, aftercare.StatusInTransit, shipped.Add(2*time.Hour))
	if !delivered.IsZero() {
		scan("dl-"+orderID, aftercare.StatusDelivered, delivered)
	}
	return tn
}

func (e *env) run(t testing.TB, check string, at time.Time) lifecycle.Result {
	t.Helper()
	e.now = at
	res, err := e.checker.Run(context.Background(), lifecycle.Input{Check: check, ScheduledTime: at.Format(time.RFC3339)})
	if err != nil {
		t.Fatalf("run %s at %s: %v", check, at, err)
	}
	if !res.Complete {
		t.Fatalf("run did not complete: %+v", res)
	}
	return res
}

// queued drains the outbound queue and returns the lifecycle messages by kind.
func (e *env) queued(t *testing.T) map[aftercare.Kind][]aftercare.Message {
	t.Helper()
	out := map[aftercare.Kind][]aftercare.Message{}
	if e.out != nil {
		e.out.mu.Lock()
		defer e.out.mu.Unlock()
		for _, m := range e.out.msgs {
			out[m.Kind] = append(out[m.Kind], m)
		}
		e.out.msgs = nil
		return out
	}
	for empty := 0; empty < 2; {
		res, err := e.stack.SQS.ReceiveMessage(context.Background(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(e.stack.Outbound), MaxNumberOfMessages: 10, VisibilityTimeout: 600})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) == 0 {
			empty++
			continue
		}
		for _, m := range res.Messages {
			var msg aftercare.Message
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &msg); err != nil {
				t.Fatal(err)
			}
			out[msg.Kind] = append(out[msg.Kind], msg)
		}
	}
	return out
}

// inbox drains the inbox and returns internal events.
func (e *env) inbox(t *testing.T) []aftercare.Event {
	t.Helper()
	var out []aftercare.Event
	if e.out != nil {
		e.out.mu.Lock()
		defer e.out.mu.Unlock()
		out, e.out.evs = e.out.evs, nil
		return out
	}
	for empty := 0; empty < 2; {
		res, err := e.stack.SQS.ReceiveMessage(context.Background(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(e.stack.Inbox), MaxNumberOfMessages: 10, VisibilityTimeout: 600})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) == 0 {
			empty++
			continue
		}
		for _, m := range res.Messages {
			var ev aftercare.Event
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
				t.Fatal(err)
			}
			out = append(out, ev)
		}
	}
	return out
}

var day = 24 * time.Hour

// A Monday long before any real today: no result depends on the day tests run.
var t0 = time.Date(2024, 1, 8, 10, 0, 0, 0, time.UTC)

// A customer whose last order was 95 days ago gets one win_back, and a second
// run sends nothing more; one who ordered 10 days ago gets nothing.
func TestWinBackOnceAndNotForRecentBuyers(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(testing.TB) *env) {
		e := newEnv(t)
		e.order(t, "c-quiet", t0, false)
		now := t0.Add(95 * day)
		e.order(t, "c-recent", now.Add(-10*day), false)
		res := e.run(t, lifecycle.CheckAll, now)
		msgs := e.queued(t)
		if len(msgs[aftercare.KindWinBack]) != 1 || msgs[aftercare.KindWinBack][0].CustomerID != "c-quiet" {
			t.Fatalf("want one win_back for c-quiet, got %v (result %+v)", msgs, res.Checks)
		}
		if n := res.Checks[lifecycle.CheckWinBack].Queued; n != 1 {
			t.Fatalf("counts: %+v", res.Checks[lifecycle.CheckWinBack])
		}
		again := e.run(t, lifecycle.CheckAll, now.Add(time.Hour))
		if m := e.queued(t); len(m) != 0 {
			t.Fatalf("a second run must send nothing more, got %v (%+v)", m, again.Checks)
		}
		// A queued message is in flight until dispatch settles its mark: later
		// runs leave it alone.
		first := msgs[aftercare.KindWinBack][0]
		e.run(t, lifecycle.CheckWinBack, now.Add(3*day))
		if m := e.queued(t); len(m) != 0 {
			t.Fatalf("a message in flight must not be queued again, got %v", kinds(m))
		}
		// Dispatch holds it (a hold came up meanwhile and has ended since):
		// the next run queues it again, under the same id, which the ledger
		// lets out once (see the dispatch tests).
		e.settle(t, first, aftercare.MarkHeld, now.Add(3*day))
		e.run(t, lifecycle.CheckWinBack, now.Add(4*day))
		requeued := e.queued(t)
		if len(requeued) != 1 || len(requeued[aftercare.KindWinBack]) != 1 || requeued[aftercare.KindWinBack][0].ID != first.ID {
			t.Fatalf("a held win_back comes back once under its id %s, got %v", first.ID, requeued)
		}
	})
}

// settle records on the customer what dispatch decided about a message.
func (e *env) settle(t testing.TB, m aftercare.Message, mark string, at time.Time) {
	t.Helper()
	k := state.Key{Kind: state.ItemCustomer, Shop: m.Shop, ID: m.CustomerID}
	_, items, err := e.store.Load(context.Background(), "", []state.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	c := items.Customers[k]
	if c == nil {
		t.Fatalf("no customer %s", m.CustomerID)
	}
	c.SetMark(m.Mark, aftercare.Mark{State: mark, At: at, ID: m.ID})
	c.Refresh(at, aftercare.DefaultSettings())
	if err := e.store.Save(context.Background(), state.Entity{Customer: c}); err != nil {
		t.Fatal(err)
	}
}

// A monthly buyer quiet for 75 days gets a lapse_note, not a win_back.
func TestMonthlyBuyerGetsLapseNoteNotWinBack(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(testing.TB) *env) {
		e := newEnv(t)
		for i := 0; i < 4; i++ {
			e.order(t, "c-monthly", t0.Add(time.Duration(i*30)*day), false)
		}
		last := t0.Add(90 * day)
		e.run(t, lifecycle.CheckAll, last.Add(75*day))
		msgs := e.queued(t)
		if len(msgs[aftercare.KindLapseNote]) != 1 || len(msgs[aftercare.KindWinBack]) != 0 {
			t.Fatalf("want lapse_note only, got %v", kinds(msgs))
		}
		// Quiet for 50 days (under twice the 30-day median gap) is not a lapse yet.
		e2 := newEnv(t)
		for i := 0; i < 4; i++ {
			e2.order(t, "c-monthly", t0.Add(time.Duration(i*30)*day), false)
		}
		e2.run(t, lifecycle.CheckAll, last.Add(50*day))
		m := e2.queued(t)
		delete(m, aftercare.KindWeeklyReport) // the shop's weekly digests are due too
		if len(m) != 0 {
			t.Fatalf("50 days quiet is not yet a lapse for a monthly buyer: %v", kinds(m))
		}
	})
}

// A delivered order gets care_tips 14 days later; the same check 30 days
// later finds it stale; a cancelled order gets none.
func TestCareTipsOnTimeStaleWhenLateNoneWhenCancelled(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(testing.TB) *env) {
		delivered := t0.Add(3 * day)
		e := newEnv(t)
		o := e.order(t, "c-tips", t0, false)
		e.deliver(t, o, "c-tips", t0.Add(day), delivered)
		e.run(t, lifecycle.CheckFollowUps, delivered.Add(7*day))
		if msgs := e.queued(t); len(msgs[aftercare.KindReviewRequest]) != 1 || len(msgs[aftercare.KindCareTips]) != 0 {
			t.Fatalf("day 7: want review_request only, got %v", kinds(msgs))
		}
		res := e.run(t, lifecycle.CheckFollowUps, delivered.Add(14*day))
		msgs := e.queued(t)

		if len(msgs[aftercare.KindCareTips]) != 1 || msgs[aftercare.KindCareTips][0].OrderID != o {
			t.Fatalf("want care_tips for %s at 14 days, got %v (%+v)", o, kinds(msgs), res.Checks)
		}

		late := newEnv(t)
		o2 := late.order(t, "c-late", t0, false)
		late.deliver(t, o2, "c-late", t0.Add(day), delivered)
		res = late.run(t, lifecycle.CheckFollowUps, delivered.Add(30*day))
		if m := late.queued(t); len(m[aftercare.KindCareTips]) != 0 {
			t.Fatalf("30 days after delivery care_tips is stale, got %v", kinds(m))
		}
		if res.Checks[lifecycle.CheckFollowUps].Stale < 1 {
			t.Fatalf("stale follow-ups must be counted: %+v", res.Checks[lifecycle.CheckFollowUps])
		}

		cancelled := newEnv(t)
		o3 := cancelled.order(t, "c-cancel", t0, false)
		cancelled.deliver(t, o3, "c-cancel", t0.Add(day), delivered)
		cancelled.apply(t, aftercare.Event{ID: "shopify:" + shop + ":orders/cancelled:" + o3, Kind: aftercare.EventOrder, Source: "shopify",
			Topic: "orders/cancelled", Shop: shop, At: delivered.Add(day), Received: delivered.Add(day),
			Order: &aftercare.OrderSnapshot{ID: o3, Name: "#" + o3, CreatedAt: t0, UpdatedAt: delivered.Add(day), CancelledAt: delivered.Add(day),
				FinancialStatus: "refunded", FulfillmentStatus: "fulfilled", Customer: &aftercare.CustomerInfo{ID: "c-cancel"}}})
		_ = cancelled.queued(t) // the shipped and delivered notices of the setup
		cancelled.run(t, lifecycle.CheckFollowUps, delivered.Add(7*day))
		cancelled.run(t, lifecycle.CheckFollowUps, delivered.Add(14*day))
		if m := cancelled.queued(t); len(m) != 0 {
			t.Fatalf("a cancelled order gets no follow-ups, got %v", kinds(m))
		}
	})
}

// A parcel with no scan for 3 days opens exception_delay once.
func TestStalledParcelOpensDelayOnce(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(testing.TB) *env) {
		e := newEnv(t)
		o := e.order(t, "c-stall", t0, false)
		tn := e.deliver(t, o, "c-stall", t0.Add(day), time.Time{}) // in transit, never delivered
		lastScan := t0.Add(day + 2*time.Hour)
		early := e.run(t, lifecycle.CheckStalled, lastScan.Add(2*day))
		if ev := e.inbox(t); len(ev) != 0 {
			t.Fatalf("2 days without a scan is not stalled: %v (%+v)", ev, early.Checks)
		}
		at := lastScan.Add(3*day + time.Hour)
		e.run(t, lifecycle.CheckStalled, at)
		evs := e.inbox(t)
		if len(evs) != 1 || evs[0].Kind != aftercare.EventOverdue || evs[0].Overdue.Shipment != aftercare.TrackingKey(tn) {
			t.Fatalf("want one overdue event for the parcel, got %+v", evs)
		}
		// The processor opens the playbook from it.
		e.now = at
		res, err := e.proc.Process(context.Background(), &evs[0])
		if err != nil {
			t.Fatal(err)
		}
		if k := countKinds(res.Messages); k[aftercare.KindExceptionDelay] != 1 || k[aftercare.KindSupportTask] != 1 {
			t.Fatalf("want exception_delay + support_task, got %v", k)
		}
		_ = e.queued(t)
		// Later runs do not raise it again.
		e.run(t, lifecycle.CheckStalled, at.Add(day))
		e.run(t, lifecycle.CheckAll, at.Add(2*day))
		if ev := e.inbox(t); len(ev) != 0 {
			t.Fatalf("the delay must open once, got %v more", len(ev))
		}
	})
}

// A paid order not shipped by its promise opens exception_delay; one whose
// promise broke more than the stale window ago (a year-old unfulfilled order
// from a backfill) opens nothing, is counted stale and leaves the due index.
func TestUnshippedOrderDelayOnlyWhileRecent(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(testing.TB) *env) {
		e := newEnv(t)
		recent := e.order(t, "c-late", t0, false)
		old := e.order(t, "c-old", t0.Add(-365*day), false)
		res := e.run(t, lifecycle.CheckStalled, t0.Add(7*day))
		evs := e.inbox(t)
		if len(evs) != 1 || evs[0].Kind != aftercare.EventOverdue || evs[0].Overdue.OrderID != recent {
			t.Fatalf("want one overdue event for the recent order %s, got %+v (%+v)", recent, evs, res.Checks)
		}
		if c := res.Checks[lifecycle.CheckStalled]; c.Stale != 1 {
			t.Fatalf("the order %s broke its promise a year ago: want it counted stale, got %+v", old, c)
		}
		again := e.run(t, lifecycle.CheckStalled, t0.Add(8*day))
		if c := again.Checks[lifecycle.CheckStalled]; c.Stale != 0 {
			t.Fatalf("a stale order must leave the due index: %+v", c)
		}
	})
}

func kinds(m map[aftercare.Kind][]aftercare.Message) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s×%d", k, len(v)))
	}
	sort.Strings(out)
	return out
}

func countKinds(msgs []aftercare.Message) map[aftercare.Kind]int {
	out := map[aftercare.Kind]int{}
	for _, m := range msgs {
		out[m.Kind]++
	}
	return out
}

// A shop's weekly digest is queued once, by the run in Monday 08:00-08:59 of
// the shop's zone after the week, found by key on the due index: not by the
// 07:xx run, not again by another 08:xx run or the 09:xx one.
func TestWeeklyDigestOnceMondayMorning(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(testing.TB) *env) {
		e := newEnv(t)
		if err := e.store.(interface {
			PutShopSettings(ctx context.Context, shop string, doc []byte) error
		}).PutShopSettings(context.Background(), shop, []byte(`{"time_zone": "Asia/Tokyo"}`)); err != nil {
			t.Fatal(err)
		}
		e.order(t, "c-digest", t0, false) // Monday 2024-01-08 19:00 in Tokyo
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		monday := time.Date(2024, 1, 15, 0, 0, 0, 0, tokyo)
		want := report.DigestMessage(shop, report.Range{From: time.Date(2024, 1, 8, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 1, 14, 0, 0, 0, 0, time.UTC)}, t0)
		for _, step := range []struct {
			at   time.Time
			want int
		}{
			{monday.Add(7*time.Hour + 30*time.Minute), 0}, // 07:30: not yet
			{monday.Add(8*time.Hour + 10*time.Minute), 1}, // 08:10: the digest run
			{monday.Add(8*time.Hour + 40*time.Minute), 0}, // another run that hour
			{monday.Add(9*time.Hour + 10*time.Minute), 0},
		} {
			res := e.run(t, lifecycle.CheckAll, step.at.UTC())
			got := e.queued(t)[aftercare.KindWeeklyReport]
			if len(got) != step.want || res.Checks[lifecycle.CheckDigest].Queued != step.want {
				t.Fatalf("run at %s Tokyo: %d weekly_report (%+v), want %d", step.at.Format("Mon 15:04"), len(got), res.Checks[lifecycle.CheckDigest], step.want)
			}
			if step.want == 1 && (got[0].ID != want.ID || got[0].Shop != shop || got[0].Kind.Audience() != aftercare.AudienceTeam) {
				t.Fatalf("digest %+v, want id %s (from shop and week)", got[0], want.ID)
			}
		}
	})
}

// uninstall applies app/uninstalled to the test shop at a time.
func (e *env) uninstall(t *testing.T, id string, at time.Time) {
	t.Helper()
	e.apply(t, aftercare.Event{ID: "shopify:" + shop + ":app/uninstalled:" + id, Kind: aftercare.EventShopUninstalled, Source: "shopify",
		Topic: "app/uninstalled", Shop: shop, At: at, Received: at})
}

// An uninstalled shop's due work is skipped and counted under "uninstalled"
// (nothing queued, no mark settled), then set aside: the next hourly run
// reads none of it. A reconnect brings the work back once its week is over.
func TestUninstalledShopIsSkippedAndSetAside(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(testing.TB) *env) {
		e := newEnv(t)
		e.order(t, "c-quiet", t0, false) // paid, never shipped: also a stalled order and a digest
		now := t0.Add(95 * day)
		e.uninstall(t, "u1", now.Add(-day))
		e.uninstall(t, "u0", now.Add(-2*day)) // an older copy, late: changes nothing
		res := e.run(t, lifecycle.CheckAll, now)
		if m := e.queued(t); len(m) != 0 {
			t.Fatalf("nothing goes out for an uninstalled shop, got %v", kinds(m))
		}
		if evs := e.inbox(t); len(evs) != 0 {
			t.Fatalf("no playbook events for an uninstalled shop, got %d", len(evs))
		}
		for _, name := range []string{lifecycle.CheckWinBack, lifecycle.CheckStalled, lifecycle.CheckDigest} {
			c := res.Checks[name]
			if c.Queued != 0 || c.Skipped != 1 || c.Why["uninstalled"] != 1 {
				t.Errorf("%s: %+v, want one skipped as uninstalled", name, c)
			}
		}
		again := e.run(t, lifecycle.CheckAll, now.Add(time.Hour))
		if again.ItemsRead != 0 {
			t.Fatalf("the next run re-read %d set-aside items (%+v)", again.ItemsRead, again.Checks)
		}
		if changed, err := state.MarkInstalled(context.Background(), e.store, shop, now.Add(2*time.Hour)); err != nil || !changed {
			t.Fatalf("reconnect: %v %v", changed, err)
		}
		back := e.run(t, lifecycle.CheckWinBack, now.Add(8*day))
		if m := e.queued(t); len(m[aftercare.KindWinBack]) != 1 || back.Checks[lifecycle.CheckWinBack].Queued != 1 {
			t.Fatalf("after the reconnect the win_back goes out once, got %v (%+v)", kinds(m), back.Checks)
		}
	})
}

// One item on the due index that cannot be decoded is skipped, counted and
// metered; every other due item is handled and the run completes, this run
// and the next (it stays due: the alarm keeps firing until it is repaired).
func TestUndecodableDueItemIsSkippedAndCounted(t *testing.T) {
	testenv.NeedEmulators(t)
	e := newEnv(t)
	var logs bytes.Buffer
	e.checker.Log = obs.NewLogger(&logs, "INFO")
	now := t0.Add(200 * day)
	seedCustomers(t, e, 30, 5, now)
	// Corrupt one due customer's document in place (it keeps its due keys).
	_, err := e.stack.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(e.stack.Table),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "SHOP#" + shop},
			"sk": &types.AttributeValueMemberS{Value: "CUSTOMER#cust-000002"}},
		UpdateExpression:          aws.String("SET docz = :junk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":junk": &types.AttributeValueMemberB{Value: []byte("not deflate")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		res := e.run(t, lifecycle.CheckWinBack, now)
		if res.Undecodable != 1 {
			t.Fatalf("run %d: undecodable %d, want 1 (%+v)", run, res.Undecodable, res)
		}
		if run == 1 && res.Messages != 4 {
			t.Fatalf("run %d: %d messages, want the 4 other due win-backs", run, res.Messages)
		}
	}
	out := logs.String()
	if !strings.Contains(out, "undecodable due items skipped") || !strings.Contains(out, "cust-000002") ||
		!strings.Contains(out, `"UndecodableItems"`) {
		t.Fatalf("no error line or metric naming the item:\n%s", out)
	}
	if strings.Contains(out, "@example.org") {
		t.Fatal("the log names an email address")
	}
}

// fakeFold stands in for the table's stream fold.
type fakeFold struct {
	calls int
	err   error
}

func (f *fakeFold) Fold(context.Context) (state.FoldStats, error) {
	f.calls++
	return state.FoldStats{Records: 7}, f.err
}

// Every run folds the report's counters first; a fold that fails does not
// stop the run's due work, but the run fails (for the function's error
// alarm), and the next run folds again.
func TestEveryRunFoldsTheReportCountersFirst(t *testing.T) {
	e := newMemEnv(t)
	e.order(t, "c-fold", t0, false)
	fold := &fakeFold{err: errors.New("stream unavailable")}
	e.checker.Counters = fold
	e.now = t0.Add(91 * 24 * time.Hour) // the customer's win_back is due
	res, err := e.checker.Run(context.Background(), lifecycle.Input{Check: lifecycle.CheckAll, ScheduledTime: e.now.Format(time.RFC3339)})
	if err == nil || !strings.Contains(err.Error(), "report counters") || !res.Complete || fold.calls != 1 {
		t.Fatalf("a failed fold: err %v, complete %v, folds %d; want the run done and failed", err, res.Complete, fold.calls)
	}
	if got := e.queued(t)[aftercare.KindWinBack]; len(got) != 1 {
		t.Fatalf("win_back queued %d times, want once: the due work runs whether or not the fold does", len(got))
	}
	fold.err = nil
	res = e.run(t, lifecycle.CheckAll, e.now.Add(time.Hour))
	if fold.calls != 2 || res.Checks[lifecycle.CheckCounters] == nil || res.Checks[lifecycle.CheckCounters].Examined != 7 {
		t.Fatalf("fold called %d times, result %+v", fold.calls, res.Checks[lifecycle.CheckCounters])
	}
	// Without a folding store the check is not reported at all.
	e.checker.Counters = nil
	if res := e.run(t, lifecycle.CheckAll, e.now.Add(time.Hour)); res.Checks[lifecycle.CheckCounters] != nil {
		t.Fatalf("report_counters reported without a fold: %+v", res.Checks)
	}
}
