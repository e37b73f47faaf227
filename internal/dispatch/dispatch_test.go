package dispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/delivery"
	"github.com/aftercare/aftercare/internal/dispatch"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/dynamo/dynamotest"
	"github.com/aftercare/aftercare/internal/ledger"
	"github.com/aftercare/aftercare/internal/memstore"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/settings"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/state"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const shop = "dispatch-shop.myshopify.com"

var secret = []byte("test-delivery-secret")

// sink is a local delivery endpoint that answers with a script of statuses
// and checks every signature.
type sink struct {
	mu       sync.Mutex
	statuses []int // answers in order; the last repeats
	got      [][]byte
	ids      []string
	badSig   int
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if want := delivery.Sign(secret, body); r.Header.Get(delivery.HeaderSignature) != want {
		s.badSig++
	}
	status := 200
	if len(s.statuses) > 0 {
		status = s.statuses[0]
		if len(s.statuses) > 1 {
			s.statuses = s.statuses[1:]
		}
	}
	s.got = append(s.got, body)
	s.ids = append(s.ids, r.Header.Get(delivery.HeaderID))
	w.WriteHeader(status)
}

func (s *sink) delivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// store is what dispatch's tests need of a store.
type store interface {
	dispatch.Store
	state.Store
	Ledger(ctx context.Context, shop string) ([]ledger.Entry, error)
	ShopSettings(ctx context.Context, shop string) ([]byte, error)
}

type env struct {
	stack *testenv.Stack       // emulator tier only
	db    *dynamotest.Counting // emulator tier only
	store store
	queue *recordingQueue
	d     *dispatch.Dispatcher
	sink  *sink
	now   time.Time
}

// clock is the tests' now, a day long before any real today.
var clock = time.Date(2024, 6, 12, 15, 0, 0, 0, time.UTC) // 11:00 in New York

// stores runs a test against each store: in memory (always) and DynamoDB
// Local with moto (skipped only under -short).
func stores(t *testing.T, fn func(t *testing.T, newEnv func(*testing.T, ...int) *env)) {
	t.Run("memory", func(t *testing.T) { fn(t, newMemEnv) })
	t.Run("dynamodb", func(t *testing.T) {
		testenv.NeedEmulators(t)
		fn(t, newEnv)
	})
}

// recordingQueue records what dispatch re-queues, and passes it on to the
// real queue when there is one.
type recordingQueue struct {
	next     dispatch.Queue
	mu       sync.Mutex
	deferred []aftercare.Message
	retries  []time.Duration
}

func (q *recordingQueue) SendMessages(ctx context.Context, msgs []aftercare.Message, now time.Time) error {
	q.mu.Lock()
	q.deferred = append(q.deferred, msgs...)
	q.mu.Unlock()
	if q.next == nil {
		return nil
	}
	return q.next.SendMessages(ctx, msgs, now)
}

func (q *recordingQueue) RetryAfter(ctx context.Context, receiptHandle string, d time.Duration) error {
	q.mu.Lock()
	q.retries = append(q.retries, d)
	q.mu.Unlock()
	if q.next == nil {
		return nil
	}
	return q.next.RetryAfter(ctx, receiptHandle, d)
}

// backoffs are the visibility moves asked for so far.
func (q *recordingQueue) backoffs() []time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]time.Duration(nil), q.retries...)
}

func (q *recordingQueue) sent() []aftercare.Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]aftercare.Message(nil), q.deferred...)
}

func (e *env) wire(t *testing.T, st store, next dispatch.Queue) {
	t.Helper()
	e.store = st
	srv := httptest.NewServer(e.sink)
	t.Cleanup(srv.Close)
	defaults := aftercare.DefaultSettings()
	defaults.ShopName, defaults.TimeZone = "Test Shop", "America/New_York"
	defaults.HelpURLs = map[string]string{"tracking": "https://help.example.org/tracking", "support": "https://help.example.org/support"}
	if err := defaults.Validate(); err != nil {
		t.Fatal(err)
	}
	e.queue = &recordingQueue{next: next}
	e.d = &dispatch.Dispatcher{
		Store: st, Sender: delivery.New(srv.URL, secret, 5*time.Second),
		Queue:    e.queue,
		Settings: &settings.Cache{Defaults: defaults, Load: st.ShopSettings},
		Log:      obs.NewLogger(io.Discard, "ERROR"),
		Now:      func() time.Time { return e.now }, RetryBase: time.Second,
	}
}

// newEnv is the emulator tier's env.
func newEnv(t *testing.T, statuses ...int) *env {
	t.Helper()
	s := testenv.Fresh(t)
	e := &env{stack: s, db: dynamotest.NewCounting(s.DB), sink: &sink{statuses: statuses}, now: clock}
	e.wire(t, &dynamo.Store{DB: e.db, Streams: s.Streams, Table: s.Table, Shards: 4, Now: func() time.Time { return e.now }}, &sqs.Queue{API: s.SQS, URL: s.Outbound})
	return e
}

// newMemEnv is the fast tier's env: the in-memory store, a recording queue.
func newMemEnv(t *testing.T, statuses ...int) *env {
	t.Helper()
	e := &env{sink: &sink{statuses: statuses}, now: clock}
	m := memstore.New()
	m.Shards, m.Now = 4, func() time.Time { return e.now }
	e.wire(t, m, nil)
	return e
}

// put stores a customer (and optionally an order) as the processor would.
func (e *env) put(t *testing.T, c *aftercare.Customer, o *aftercare.Order) {
	t.Helper()
	items := []state.Entity{{Customer: c}}
	if o != nil {
		items = append(items, state.Entity{Order: o})
	}
	if err := e.store.Commit(context.Background(), &state.Commit{Puts: items}); err != nil {
		t.Fatal(err)
	}
}

func customer(id string) *aftercare.Customer {
	return &aftercare.Customer{Shop: shop, ID: id, Email: id + "@example.org", FirstName: "Ada", Phone: "+15550001111",
		EmailConsent: aftercare.Consent{State: aftercare.ConsentSubscribed}}
}

func order(id, customerID string) *aftercare.Order {
	return &aftercare.Order{Shop: shop, ID: id, Name: "#" + id, CustomerID: customerID, Seen: true,
		LineItems: []aftercare.LineItem{{ID: "1", Title: "Pour-over kettle", Quantity: 1}}}
}

func msg(kind aftercare.Kind, customerID, orderID string, cause ...string) *aftercare.Message {
	m := &aftercare.Message{Kind: kind, Shop: shop, CustomerID: customerID, OrderID: orderID, Carrier: "UPS", Tracking: "1Z999"}
	return m.Stamp(clock.Add(-time.Hour), append([]string{customerID, orderID}, cause...)...)
}

func (e *env) handle(t *testing.T, m *aftercare.Message) dispatch.Result {
	t.Helper()
	res, err := e.d.Handle(context.Background(), m, dispatch.Delivery{ReceiveCount: 1, Deadline: e.now.Add(time.Minute)})
	if err != nil {
		t.Fatalf("handle %s: %v", m.ID, err)
	}
	return res
}

func (e *env) ledger(t *testing.T) map[string]ledger.Entry {
	t.Helper()
	list, err := e.store.Ledger(context.Background(), shop)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]ledger.Entry{}
	for _, l := range list {
		out[l.ID] = l
	}
	return out
}

// A message handled many times, and concurrently, is delivered once, signed.
func TestDeliveredOnceSigned(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T, ...int) *env) {
		e := newEnv(t)
		e.put(t, customer("c1"), order("1001", "c1"))
		m := msg(aftercare.KindOrderShipped, "c1", "1001", "parcel-1")
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = e.d.Handle(context.Background(), m, dispatch.Delivery{ReceiveCount: 1, Deadline: e.now.Add(time.Minute)})
			}()
		}
		wg.Wait()
		for i := 0; i < 3; i++ {
			if r := e.handle(t, m); r.Decision != dispatch.Duplicate {
				t.Fatalf("repeat %d: decision %s", i, r.Decision)
			}
		}
		if n := e.sink.delivered(); n != 1 {
			t.Fatalf("delivered %d times, want once", n)
		}
		if e.sink.badSig != 0 {
			t.Fatalf("%d deliveries with a bad signature", e.sink.badSig)
		}
		var p map[string]any
		if err := json.Unmarshal(e.sink.got[0], &p); err != nil {
			t.Fatal(err)
		}
		if p["id"] != m.ID || p["kind"] != "order_shipped" || p["category"] != "transactional" || p["audience"] != "customer" ||
			p["channel"] != "email" || p["shop"] != shop || e.sink.ids[0] != m.ID {
			t.Fatalf("delivery body: %s", e.sink.got[0])
		}
		if o, _ := p["order"].(map[string]any); o["name"] != "#1001" {
			t.Fatalf("order in delivery: %v", p["order"])
		}
		fields, _ := p["fields"].(map[string]any)
		for _, f := range []string{"order_number", "next_action", "support_contact", "help_url", "what_happened"} {
			if s, _ := fields[f].(string); s == "" {
				t.Errorf("field %s missing: %v", f, fields)
			}
		}
		if fields["help_url"] != "https://help.example.org/tracking" {
			t.Errorf("help_url of a shipping notice: %v, want the shop's tracking help", fields["help_url"])
		}
		if got := e.ledger(t)[m.ID]; got.Status != dispatch.Sent {
			t.Fatalf("ledger: %+v", got)
		}
	})
}

// The sink failing twice then accepting gives exactly one delivered message;
// each failure releases the claim so the retry can take it.
func TestRetriedUntilDelivered(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T, ...int) *env) {
		e := newEnv(t, 500, 503, 200)
		e.put(t, customer("c2"), order("1002", "c2"))
		m := msg(aftercare.KindExceptionDelay, "c2", "1002", "episode-1")
		for i := 0; i < 2; i++ {
			res, err := e.d.Handle(context.Background(), m, dispatch.Delivery{ReceiveCount: i + 1, Deadline: e.now.Add(time.Minute)})
			if err == nil || res.Decision != dispatch.Failed {
				t.Fatalf("attempt %d: want a failure, got %+v %v", i+1, res, err)
			}
			if l := e.ledger(t)[m.ID]; l.Status != dispatch.Failed || l.Attempts != int64(i+1) {
				t.Fatalf("after failure %d ledger: %+v", i+1, l)
			}
		}
		if r := e.handle(t, m); r.Decision != dispatch.Sent {
			t.Fatalf("third attempt: %+v", r)
		}
		if r := e.handle(t, m); r.Decision != dispatch.Duplicate {
			t.Fatalf("after delivery: %+v", r)
		}
		if e.sink.delivered() != 3 {
			t.Fatalf("want 3 posts (2 refused, 1 accepted), got %d", e.sink.delivered())
		}
	})
}

// A claim left by an invocation that timed out blocks others only until its
// lease (the invocation's deadline) ends; a completed delivery never frees.
func TestClaimLeaseEndsWithTheInvocation(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T, ...int) *env) {
		e := newEnv(t)
		e.put(t, customer("c3"), order("1003", "c3"))
		m := msg(aftercare.KindDeliveredSetup, "c3", "1003", "parcel-3")
		// An invocation claims, then dies mid-delivery (no release, no record).
		if _, err := e.store.Claim(context.Background(), ledger.Claim{Shop: shop, ID: m.ID, Token: "dead", Kind: m.Kind, Lease: e.now.Add(30 * time.Second), Now: e.now}); err != nil {
			t.Fatal(err)
		}
		// Within its lease the holder may still record; it may also have died,
		// so the copy is not acknowledged as a duplicate: it is retried after
		// the lease, with its visibility moved past the lease's end.
		r, err := e.d.Handle(context.Background(), m, dispatch.Delivery{ReceiveCount: 1, ReceiptHandle: "rh", Deadline: e.now.Add(time.Minute)})
		if !errors.Is(err, ledger.ErrInFlight) || r.Decision == dispatch.Duplicate {
			t.Fatalf("within the dead invocation's lease: %+v, %v", r, err)
		}
		if d := e.queue.backoffs(); len(d) != 1 || d[0] != 31*time.Second {
			t.Fatalf("backoffs %v, want one of 31s (the lease's rest and a second)", d)
		}
		e.now = e.now.Add(31 * time.Second)
		if r := e.handle(t, m); r.Decision != dispatch.Sent {
			t.Fatalf("after the lease: %+v", r)
		}
		e.now = e.now.Add(400 * 24 * time.Hour / 2)
		if r := e.handle(t, m); r.Decision != dispatch.Duplicate {
			t.Fatalf("a sent message stays sent: %+v", r)
		}
		if e.sink.delivered() != 1 {
			t.Fatalf("delivered %d times", e.sink.delivered())
		}
	})
}

// Delivery semantics per category when the endpoint hangs past the client's
// timeout (the outcome is unknown: it may have the message): a transactional
// message is retried (at least once; receivers dedupe on the id), a
// marketing message is recorded and never attempted again (at most once),
// neither by a redelivered copy nor after its claim runs out.
func TestUnknownOutcomeByCategory(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T, ...int) *env) {
		e := newEnv(t)
		var posts atomic.Int32
		hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			posts.Add(1)
			select {
			case <-r.Context().Done():
			case <-time.After(time.Second):
			}
		}))
		t.Cleanup(hang.Close)
		e.d.Sender = delivery.New(hang.URL, secret, 50*time.Millisecond)
		e.put(t, customer("c30"), order("1030", "c30"))

		tx := msg(aftercare.KindOrderShipped, "c30", "1030", "parcel-30")
		if _, err := e.d.Handle(context.Background(), tx, dispatch.Delivery{ReceiveCount: 1, Deadline: e.now.Add(time.Minute)}); err == nil {
			t.Fatal("transactional with an unknown outcome: want an error, so the queue retries")
		}
		if _, err := e.d.Handle(context.Background(), tx, dispatch.Delivery{ReceiveCount: 2, Deadline: e.now.Add(time.Minute)}); err == nil {
			t.Fatal("transactional retry: want another attempt (and error)")
		}
		if n := posts.Load(); n != 2 {
			t.Fatalf("transactional: %d posts, want 2 (retried)", n)
		}

		wb := msg(aftercare.KindWinBack, "c30", "", "lapsed")
		r, err := e.d.Handle(context.Background(), wb, dispatch.Delivery{ReceiveCount: 1, Deadline: e.now.Add(time.Minute)})
		if err != nil || r.Decision != dispatch.Failed {
			t.Fatalf("marketing with an unknown outcome: %+v, %v; want failed and acknowledged", r, err)
		}
		e.now = e.now.Add(3 * time.Minute) // the claim's lease is over
		r, err = e.d.Handle(context.Background(), wb, dispatch.Delivery{ReceiveCount: 1, Deadline: e.now.Add(time.Minute)})
		if err != nil || r.Decision != dispatch.Failed {
			t.Fatalf("a later copy of the marketing message: %+v, %v; want failed, not attempted", r, err)
		}
		if n := posts.Load(); n != 3 {
			t.Fatalf("%d posts, want 3 (2 transactional, 1 marketing)", n)
		}
	})
}

// A copy whose decision another copy recorded first is a duplicate,
// acknowledged: never an error that cycles it into the dead-letter queue.
func TestSettledByAnotherCopyIsDuplicate(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T, ...int) *env) {
		e := newEnv(t)
		e.put(t, customer("c31"), order("1031", "c31"))
		m := msg(aftercare.KindOrderShipped, "c31", "1031", "parcel-31")
		if r := e.handle(t, m); r.Decision != dispatch.Sent {
			t.Fatalf("first copy: %+v", r)
		}
		// The customer is gone by the time the second copy runs: its
		// suppression (an unclaimed decision) meets the recorded delivery.
		c, _, _, err := e.store.State(context.Background(), shop, "c31", "")
		if err != nil {
			t.Fatal(err)
		}
		c.Redact(e.now)
		if err := e.store.Commit(context.Background(), &state.Commit{Puts: []state.Entity{{Customer: c}}}); err != nil {
			t.Fatal(err)
		}
		if r := e.handle(t, m); r.Decision != dispatch.Duplicate {
			t.Fatalf("second copy: %+v, want duplicate", r)
		}
	})
}

// Email consent "unsubscribed": no marketing email, transactional still sent.
func TestUnsubscribedGetsTransactionalOnly(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T, ...int) *env) {
		e := newEnv(t)
		c := customer("c4")
		c.EmailConsent = aftercare.Consent{State: aftercare.ConsentUnsubscribed}
		e.put(t, c, order("1004", "c4"))
		if r := e.handle(t, msg(aftercare.KindWinBack, "c4", "", "last-order")); r.Decision != dispatch.Suppressed {
			t.Fatalf("win_back to an unsubscribed customer: %+v", r)
		}
		if r := e.handle(t, msg(aftercare.KindOrderShipped, "c4", "1004", "p")); r.Decision != dispatch.Sent {
			t.Fatalf("order_shipped: %+v", r)
		}
		if e.sink.delivered() != 1 {
			t.Fatalf("delivered %d", e.sink.delivered())
		}
	})
}

// An open exception holds marketing (and the hold is recorded on the
// customer's lifecycle mark) while transactional notices go out; a cancelled
// order gets no lifecycle message.
func TestHoldsAndCancellation(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T, ...int) *env) {
		e := newEnv(t)
		c := customer("c5")
		c.Holds = map[string]aftercare.Hold{"exception:1005:delay:order": {Reason: aftercare.HoldException, OrderID: "1005", Since: e.now.Add(-time.Hour)}}
		c.FollowUps = []aftercare.FollowUp{{Kind: aftercare.KindCareTips, OrderID: "1005", DueAt: e.now.Add(-time.Hour)}}
		e.put(t, c, order("1005", "c5"))
		care := msg(aftercare.KindCareTips, "c5", "1005", "care")
		care.Mark, care.DueAt = "care_tips:1005", e.now.Add(-time.Hour)
		if r := e.handle(t, care); r.Decision != dispatch.Held {
			t.Fatalf("marketing under a hold: %+v", r)
		}
		got, _, _, err := e.store.State(context.Background(), shop, "c5", "")
		if err != nil {
			t.Fatal(err)
		}
		if mk := got.Marks["care_tips:1005"]; mk.State != aftercare.MarkHeld {
			t.Fatalf("the hold must be recorded on the mark so the checks re-examine it: %+v", got.Marks)
		}
		if r := e.handle(t, msg(aftercare.KindExceptionDelay, "c5", "1005", "ep")); r.Decision != dispatch.Sent {
			t.Fatalf("transactional under a hold: %+v", r)
		}

		o := order("1006", "c6")
		o.CancelledAt = e.now.Add(-time.Hour)
		e.put(t, customer("c6"), o)
		if r := e.handle(t, msg(aftercare.KindReviewRequest, "c6", "1006", "review")); r.Decision != dispatch.Suppressed || r.Why != "order cancelled" {
			t.Fatalf("review_request for a cancelled order: %+v", r)
		}
	})
}

// SMS in the shop's quiet hours waits (re-queued with not_before) instead of
// being dropped; a second marketing message within 24 hours waits too.
func TestQuietHoursAndCapDefer(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T, ...int) *env) {
		e := newEnv(t)
		e.now = clock.Add(12 * time.Hour) // 23:00 in New York
		c := customer("c7")
		c.Tags = []string{"prefers-sms"}
		e.put(t, c, order("1007", "c7"))
		shipped := msg(aftercare.KindOrderShipped, "c7", "1007", "p7")
		r := e.handle(t, shipped)
		if r.Decision != dispatch.Deferred || r.Why != "sms quiet hours" {
			t.Fatalf("sms at 23:00: %+v", r)
		}
		// Re-queued, not dropped: one copy of the same message, not before 08:00 in New York.
		morning := clock.Add(21 * time.Hour) // 08:00 EDT the next day
		if q := e.queue.sent(); len(q) != 1 || q[0].ID != shipped.ID || !q[0].NotBefore.Equal(morning) {
			t.Fatalf("want one copy of %s re-queued until %s, got %+v", shipped.ID, morning, q)
		}
		if e.stack != nil {
			res, err := e.stack.SQS.ReceiveMessage(context.Background(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(e.stack.Outbound), WaitTimeSeconds: 1, MaxNumberOfMessages: 10})
			if err != nil {
				t.Fatal(err)
			}
			// The re-queued copy waits on the queue (up to 15 minutes a hop).
			if len(res.Messages) != 0 {
				t.Fatalf("the deferred copy must not be visible at once, got %d", len(res.Messages))
			}
		}
		if e.sink.delivered() != 0 {
			t.Fatal("nothing may be sent in quiet hours")
		}

		e.now = clock.Add(24 * time.Hour)
		e.put(t, customer("c8"), nil)
		if r := e.handle(t, msg(aftercare.KindWinBack, "c8", "", "a")); r.Decision != dispatch.Sent {
			t.Fatalf("first marketing: %+v", r)
		}
		second := msg(aftercare.KindReplenishment, "c8", "", "b")
		if r := e.handle(t, second); r.Decision != dispatch.Deferred || r.Why != "marketing cap" {
			t.Fatalf("second marketing within 24h: %+v", r)
		}
		if q := e.queue.sent(); len(q) != 2 || q[1].ID != second.ID || !q[1].NotBefore.Equal(e.now.Add(24*time.Hour)) {
			t.Fatalf("want the capped message re-queued until the cap ends at %s, got %+v", e.now.Add(24*time.Hour), q)
		}
	})
}

// Two marketing messages for one customer dispatched at the same moment: the
// cap slot lets exactly one through.
func TestCapHoldsUnderConcurrency(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T, ...int) *env) {
		e := newEnv(t)
		e.put(t, customer("c9"), nil)
		kinds := []aftercare.Kind{aftercare.KindWinBack, aftercare.KindReplenishment, aftercare.KindCheckIn, aftercare.KindBackInStock}
		var wg sync.WaitGroup
		for _, k := range kinds {
			wg.Add(1)
			go func(k aftercare.Kind) {
				defer wg.Done()
				_, _ = e.d.Handle(context.Background(), msg(k, "c9", "", string(k)), dispatch.Delivery{ReceiveCount: 1, Deadline: e.now.Add(time.Minute)})
			}(k)
		}
		wg.Wait()
		if n := e.sink.delivered(); n != 1 {
			t.Fatalf("want exactly one marketing message through the cap, got %d", n)
		}
	})
}

// A notice about a problem that was resolved before it went out is stale.
func TestResolvedExceptionNoticeIsStale(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T, ...int) *env) {
		e := newEnv(t)
		o := order("1010", "c10")
		o.Exceptions = map[string]*aftercare.Exception{"lost:order": {Kind: aftercare.ExceptionLost, Episode: "ep1", OpenedAt: e.now.Add(-2 * time.Hour),
			ClosedAt: e.now.Add(-time.Hour), ClosedWhy: "delivered"}}
		e.put(t, customer("c10"), o)
		m := msg(aftercare.KindExceptionLost, "c10", "1010", "x")
		m.Exception, m.Episode = aftercare.ExceptionLost, "ep1"
		if r := e.handle(t, m); r.Decision != dispatch.Stale {
			t.Fatalf("notice of a resolved exception: %+v", r)
		}
	})
}

// Dispatch costs at most three DynamoDB round trips per message: state read,
// ledger claim, record.
func TestRoundTripsPerMessage(t *testing.T) {
	e := newEnv(t)
	e.put(t, customer("c11"), order("1011", "c11"))
	_, _ = e.d.Settings.Settings(context.Background(), shop) // warm the settings cache
	for _, m := range []*aftercare.Message{
		msg(aftercare.KindOrderShipped, "c11", "1011", "p"),
		msg(aftercare.KindWinBack, "c11", "", "w"),
	} {
		e.db.Reset()
		if r := e.handle(t, m); r.Decision != dispatch.Sent {
			t.Fatalf("%s: %+v", m.Kind, r)
		}
		st := e.db.Stats()
		t.Logf("%s: %d round trips %v", m.Kind, st.Total, st.Calls)
		if st.Total > 3 {
			t.Errorf("%s: %d round trips, budget 3", m.Kind, st.Total)
		}
	}
}

// days reads the shop's report counters around the clock.
func (e *env) days(t *testing.T) map[string]report.Counters {
	t.Helper()
	got, err := e.store.(interface {
		ReportDays(ctx context.Context, shop, from, to string) (map[string]report.Counters, error)
	}).ReportDays(context.Background(), shop, clock.AddDate(0, 0, -5).Format(report.DayFormat), clock.AddDate(0, 0, 5).Format(report.DayFormat))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Every decision dispatch records counts in the shop's report once, with the
// ledger write: a failed delivery counts as failed until its retry is sent;
// a marketing message held run after run counts on the day it was first
// held, and leaves that day when it is sent; the customer's change goes with
// the record (a win-back followed by an order counts its recovery).
func TestDecisionsCountInTheReport(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T, ...int) *env) {
		e := newEnv(t, 503, 200)
		ny, _ := time.LoadLocation("America/New_York")
		day := func(tm time.Time) string { return tm.In(ny).Format(report.DayFormat) }
		first := e.now

		e.put(t, customer("c21"), order("1021", "c21"))
		delay := msg(aftercare.KindExceptionDelay, "c21", "1021", "episode")
		if res, err := e.d.Handle(context.Background(), delay, dispatch.Delivery{ReceiveCount: 1, Deadline: e.now.Add(time.Minute)}); err == nil || res.Decision != dispatch.Failed {
			t.Fatalf("first attempt: %+v %v, want a failure", res, err)
		}
		if got := e.days(t)[day(first)]["m:exception_delay:failed"]; got != 1 {
			t.Fatalf("after the failure: %v", e.days(t))
		}
		if r := e.handle(t, delay); r.Decision != dispatch.Sent {
			t.Fatalf("retry: %+v", r)
		}

		c := customer("c20")
		c.Holds = map[string]aftercare.Hold{"exception:1020:delay:order": {Reason: aftercare.HoldException, OrderID: "1020", Since: e.now.Add(-time.Hour)}}
		e.put(t, c, order("1020", "c20"))
		care := msg(aftercare.KindCareTips, "c20", "1020", "care")
		care.Mark, care.DueAt = "care_tips:1020", e.now.Add(-time.Hour)
		for i := 0; i < 2; i++ {
			if r := e.handle(t, care); r.Decision != dispatch.Held {
				t.Fatalf("run %d under a hold: %+v", i, r)
			}
			e.now = e.now.Add(time.Hour)
		}
		if got := e.days(t)[day(first)]["m:care_tips:held"]; got != 1 {
			t.Fatalf("held twice: %v, want one held", e.days(t))
		}
		e.now = first.Add(24 * time.Hour)
		got, _, _, err := e.store.State(context.Background(), shop, "c20", "")
		if err != nil {
			t.Fatal(err)
		}
		got.Holds = nil
		e.put(t, got, nil)
		if r := e.handle(t, care); r.Decision != dispatch.Sent {
			t.Fatalf("after the hold lifted: %+v", r)
		}

		// The storefront's clock runs ahead: the order is stamped after the send.
		w := customer("c22")
		w.Orders = []aftercare.OrderRef{{ID: "1022", At: e.now.Add(10 * time.Minute), Cents: 4000}}
		e.put(t, w, nil)
		wb := msg(aftercare.KindWinBack, "c22", "", "w")
		wb.Mark = "win_back:1"
		if r := e.handle(t, wb); r.Decision != dispatch.Sent {
			t.Fatalf("win_back: %+v", r)
		}

		want := map[string]report.Counters{
			day(first):                     {"m:exception_delay:sent": 1},
			day(first.Add(24 * time.Hour)): {"m:care_tips:sent": 1, "m:win_back:sent": 1, "rv:win_back": 1, "rc:win_back": 4000},
		}
		if got := e.days(t); !reflect.DeepEqual(got, want) {
			t.Fatalf("report days:\n got %v\nwant %v", got, want)
		}
	})
}

// The weekly digest carries last week's headline numbers against the week
// before, read from the shop's day items, and a signed, expiring link to the
// dashboard; a repeat of the same week's message is not sent again.
func TestWeeklyDigestRendersTheWeek(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T, ...int) *env) {
		e := newEnv(t)
		days := e.store.(interface {
			ReportDays(ctx context.Context, shop, from, to string) (map[string]report.Counters, error)
		})
		e.d.Digests = &dispatch.Digests{Days: days, Base: "http://127.0.0.1:3000", Token: "test-report-token-0123"}
		ny, _ := time.LoadLocation("America/New_York")
		week, due := report.DigestAt(clock.AddDate(0, 0, -7), ny) // the week before the clock's
		adds := report.Adds{}
		adds.Add(week.From.AddDate(0, 0, 1).Format(report.DayFormat), "o", 3)
		adds.Add(week.From.AddDate(0, 0, -3).Format(report.DayFormat), "o", 2) // the week before: 2
		if err := e.store.Commit(context.Background(), &state.Commit{Adds: state.DayAdds(shop, adds)}); err != nil {
			t.Fatal(err)
		}
		e.now = due.Add(10 * time.Minute)
		m := report.DigestMessage(shop, week, due)
		m.DueAt = due
		r := e.handle(t, &m)
		if r.Decision != dispatch.Sent {
			t.Fatalf("digest: %+v", r)
		}
		var p struct {
			Audience string            `json:"audience"`
			Body     string            `json:"body"`
			Fields   map[string]string `json:"fields"`
		}
		if err := json.Unmarshal(e.sink.got[0], &p); err != nil {
			t.Fatal(err)
		}
		link := p.Fields["help_url"]
		if p.Audience != "team" || !strings.Contains(p.Body, "Orders: 3 (") || !strings.HasPrefix(link, "http://127.0.0.1:3000/report") ||
			!strings.Contains(link, "sig=") || !strings.Contains(link, "from="+week.From.Format(report.DayFormat)) {
			t.Fatalf("digest body %q link %q", p.Body, link)
		}
		if r := e.handle(t, &m); r.Decision != dispatch.Duplicate {
			t.Fatalf("the same week again: %+v", r)
		}
	})
}

// After app/uninstalled every queued message for the shop, customer or team,
// transactional or marketing, is suppressed with reason uninstalled, recorded
// and counted, and none is delivered. A reconnect (an install newer than the
// uninstall) lets new messages go again.
func TestUninstalledShopSuppressesEveryMessage(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T, ...int) *env) {
		e := newEnv(t)
		e.put(t, customer("c40"), order("1040", "c40"))
		gone := &aftercare.Install{Shop: shop, UninstalledAt: clock.Add(-30 * time.Minute)}
		if err := e.store.Commit(context.Background(), &state.Commit{Puts: []state.Entity{{Install: gone}}}); err != nil {
			t.Fatal(err)
		}
		msgs := []*aftercare.Message{
			msg(aftercare.KindOrderShipped, "c40", "1040", "parcel"),
			msg(aftercare.KindWinBack, "c40", "", "last-order"),
			msg(aftercare.KindSupportTask, "c40", "1040", "damaged"),
		}
		for _, m := range msgs {
			if r := e.handle(t, m); r.Decision != dispatch.Suppressed || r.Why != "app uninstalled from the shop" {
				t.Fatalf("%s: %s (%s), want suppressed: app uninstalled", m.Kind, r.Decision, r.Why)
			}
		}
		if n := e.sink.delivered(); n != 0 {
			t.Fatalf("%d messages delivered for an uninstalled shop", n)
		}
		entries := e.ledger(t)
		ny, _ := time.LoadLocation("America/New_York")
		counted := e.days(t)[clock.In(ny).Format(report.DayFormat)]
		for _, m := range msgs {
			if entries[m.ID].Status != dispatch.Suppressed {
				t.Errorf("%s: ledger %+v, want suppressed", m.Kind, entries[m.ID])
			}
			if got := counted["m:"+string(m.Kind)+":suppressed"]; got != 1 {
				t.Errorf("%s: counted %d suppressed, want 1 (%v)", m.Kind, got, counted)
			}
		}
		if changed, err := state.MarkInstalled(context.Background(), e.store, shop, clock.Add(-time.Minute)); err != nil || !changed {
			t.Fatalf("reconnect: %v %v", changed, err)
		}
		if r := e.handle(t, msg(aftercare.KindOrderShipped, "c40", "1040", "second parcel")); r.Decision != dispatch.Sent {
			t.Fatalf("after the reconnect: %s (%s), want sent", r.Decision, r.Why)
		}
	})
}

// lateRecord loses the first Record's answer, as a write held by the network
// past the function's timeout: the invocation never hears back, and the
// write lands later (land).
type lateRecord struct {
	dispatch.Store
	held *ledger.Record
}

func (s *lateRecord) Record(ctx context.Context, r ledger.Record) error {
	if s.held == nil || s.held.ID == r.ID {
		s.held = &r
		return errors.New("connection reset")
	}
	return s.Store.Record(ctx, r)
}

func (s *lateRecord) land(ctx context.Context) error { return s.Store.Record(ctx, *s.held) }

// A delivered message whose record lands after the invocation died is not
// sent again by the copy the queue hands over at the deadline: the claim's
// lease outlives the invocation, the copy waits, then finds it settled.
func TestARecordLandingAfterTheDeadlineIsNotSentTwice(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T, ...int) *env) {
		e := newEnv(t)
		e.put(t, customer("c41"), order("1041", "c41"))
		m := msg(aftercare.KindOrderShipped, "c41", "1041", "parcel-41")
		late := &lateRecord{Store: e.d.Store}
		e.d.Store = late
		deadline := e.now.Add(12 * time.Second)
		if _, err := e.d.Handle(context.Background(), m, dispatch.Delivery{ReceiveCount: 1, ReceiptHandle: "rh", Deadline: deadline}); err == nil {
			t.Fatal("a record that never answered was taken as written")
		}
		// Visibility equal to the timeout: the copy comes as the first dies.
		e.now = deadline.Add(time.Second)
		r, err := e.d.Handle(context.Background(), m, dispatch.Delivery{ReceiveCount: 2, ReceiptHandle: "rh2", Deadline: e.now.Add(12 * time.Second)})
		if !errors.Is(err, ledger.ErrInFlight) || r.Decision != dispatch.Deferred {
			t.Fatalf("copy just after the deadline: %s (%s), %v; want deferred while the record may still land", r.Decision, r.Why, err)
		}
		if err := late.land(context.Background()); err != nil {
			t.Fatal(err)
		}
		b := e.queue.backoffs()
		e.now = e.now.Add(b[len(b)-1])
		if r := e.handle(t, m); r.Decision != dispatch.Duplicate {
			t.Fatalf("copy after the lease: %s (%s), want duplicate", r.Decision, r.Why)
		}
		if n := e.sink.delivered(); n != 1 {
			t.Fatalf("delivered %d times, want once", n)
		}
	})
}
