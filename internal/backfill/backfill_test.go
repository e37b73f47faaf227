package backfill

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/rules"
	"github.com/aftercare/aftercare/internal/settings"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/state"
)

// now is the one clock of these tests; every date derives from it.
var now = time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC)

const shop = "demo.myshopify.com"

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// writeOrder writes one order of the bulk JSONL: the order line, then its
// line items with __parentId.
func writeOrder(w io.Writer, n int, customer int, created time.Time, fulfilled bool, items int) {
	status, fulfillments := "UNFULFILLED", "[]"
	if fulfilled {
		status = "FULFILLED"
		fulfillments = fmt.Sprintf(`[{"id":"gid://shopify/Fulfillment/%d","createdAt":%q,"status":"SUCCESS","trackingInfo":[{"company":"USPS","number":"9400%010d","url":null}]}]`,
			n, created.Add(days(1)).Format(time.RFC3339), n)
	}
	fmt.Fprintf(w, `{"id":"gid://shopify/Order/%d","name":"#%d","createdAt":%q,"processedAt":%q,"updatedAt":%q,"cancelledAt":null,"test":false,"displayFinancialStatus":"PAID","displayFulfillmentStatus":%q,"totalPriceSet":{"shopMoney":{"amount":"42.00","currencyCode":"USD"}},"customer":{"id":"gid://shopify/Customer/%d","email":"buyer%d@example.com","phone":null,"firstName":"Ada","emailMarketingConsent":{"marketingState":"SUBSCRIBED","consentUpdatedAt":%q}},"fulfillments":%s}`+"\n",
		n, 1000+n, created.Format(time.RFC3339), created.Format(time.RFC3339), created.Add(days(2)).Format(time.RFC3339), status,
		customer, customer, created.Add(-days(400)).Format(time.RFC3339), fulfillments)
	for i := 0; i < items; i++ {
		fmt.Fprintf(w, `{"id":"gid://shopify/LineItem/%d%02d","quantity":1,"variant":{"id":"gid://shopify/ProductVariant/5%d"},"product":{"id":"gid://shopify/Product/6%d"},"title":"Tea","__parentId":"gid://shopify/Order/%d"}`+"\n", n, i, i, i, n)
	}
}

func historyFile(t *testing.T, orders int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "orders.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for n := 1; n <= orders; n++ {
		writeOrder(w, n, 1+n%7, now.Add(-days(400-n%300)), n%3 != 0, 1+n%3)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

// recorder is a Sender that keeps what it was given; failAt makes the
// batch with that index (from 1) fail, as a queue outage would.
type recorder struct {
	batches [][]sqs.Entry
	failAt  int
	calls   int
}

func (r *recorder) SendBatch(_ context.Context, entries []sqs.Entry) error {
	r.calls++
	if r.calls == r.failAt {
		return errors.New("sqs: service unavailable")
	}
	r.batches = append(r.batches, append([]sqs.Entry(nil), entries...))
	return nil
}

func (r *recorder) ids() []string {
	var out []string
	for _, b := range r.batches {
		for _, e := range b {
			out = append(out, e.ID)
		}
	}
	return out
}

func opts(file string) Options {
	return Options{Shop: shop, File: file, Now: func() time.Time { return now }}
}

func TestImportTwiceSendsTheSameIDs(t *testing.T) {
	file := historyFile(t, 95)
	var out bytes.Buffer
	first, second := &recorder{}, &recorder{}
	o := opts(file)
	o.Out = &out
	res, err := Import(context.Background(), first, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Orders != 95 || res.Sent != 95 || res.Batches != 10 || len(first.batches) != 10 {
		t.Fatalf("%+v, %d batches", res, len(first.batches))
	}
	for i, b := range first.batches {
		if len(b) > BatchSize || (i < 9 && len(b) != BatchSize) {
			t.Fatalf("batch %d has %d entries", i, len(b))
		}
	}
	if !strings.Contains(out.String(), "done 95 orders (95 queued, 0 skipped)") || !strings.Contains(out.String(), "orders/s") {
		t.Fatalf("progress line: %q", out.String())
	}
	if _, err := os.Stat(file + ".progress"); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a finished import leaves no progress file")
	}
	if _, err := Import(context.Background(), second, opts(file)); err != nil {
		t.Fatal(err)
	}
	if a, b := first.ids(), second.ids(); strings.Join(a, "\n") != strings.Join(b, "\n") || len(a) != 95 {
		t.Fatal("a second import must send exactly the same dedupe ids")
	}
	var ev aftercare.Event
	if err := json.Unmarshal(first.batches[0][0].Body, &ev); err != nil || !ev.History || ev.ID != first.batches[0][0].ID || ev.Kind != aftercare.EventOrder {
		t.Fatalf("queued body %+v (%v)", ev, err)
	}
}

func TestImportResumesAfterACrash(t *testing.T) {
	file := historyFile(t, 47)
	all := &recorder{}
	if _, err := Import(context.Background(), all, opts(file)); err != nil {
		t.Fatal(err)
	}
	crash := &recorder{failAt: 3}
	if _, err := Import(context.Background(), crash, opts(file)); err == nil || !strings.Contains(err.Error(), "resumes at byte") {
		t.Fatalf("want the outage reported, got %v", err)
	}
	b, err := os.ReadFile(file + ".progress")
	if err != nil {
		t.Fatal(err)
	}
	var p progress
	if json.Unmarshal(b, &p) != nil || p.Orders != 20 || p.Sent != 20 || p.Offset == 0 {
		t.Fatalf("progress after the crash: %s", b)
	}
	rest := &recorder{}
	res, err := Import(context.Background(), rest, opts(file))
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed != p.Offset || res.Orders != 27 {
		t.Fatalf("resumed %+v", res)
	}
	got := append(crash.ids(), rest.ids()...)
	if strings.Join(got, "\n") != strings.Join(all.ids(), "\n") {
		t.Fatalf("crash + resume sent %d ids, a clean run %d: not the same", len(got), len(all.ids()))
	}
	// A progress file of another shop or file is not used.
	if err := writeProgress(file+".progress", progress{Shop: "other.myshopify.com", Size: p.Size, Offset: p.Offset}); err != nil {
		t.Fatal(err)
	}
	res, err = Import(context.Background(), &recorder{}, opts(file))
	if err != nil || res.Resumed != 0 || res.Orders != 47 {
		t.Fatalf("%+v %v", res, err)
	}
}

// env is the real processor and rules over an in-memory store.
type env struct {
	store *memStore
	out   *outbox
	proc  *state.Processor
}

func newEnv(t *testing.T) *env {
	defaults := aftercare.DefaultSettings()
	if err := defaults.Validate(); err != nil {
		t.Fatal(err)
	}
	e := &env{store: newMemStore(), out: &outbox{}}
	e.proc = &state.Processor{Store: e.store, Outbox: e.out, Rules: rules.Rules{}, Log: slog.New(slog.DiscardHandler),
		Settings: &settings.Cache{Defaults: defaults, Load: func(context.Context, string) ([]byte, error) { return nil, nil }, Now: func() time.Time { return now }},
		Now:      func() time.Time { return now }}
	return e
}

func (e *env) apply(t *testing.T, evs []aftercare.Event) []state.Result {
	t.Helper()
	var out []state.Result
	for i := range evs {
		res, err := e.proc.Process(context.Background(), &evs[i])
		if err != nil {
			t.Fatalf("process %s: %v", evs[i].ID, err)
		}
		out = append(out, res)
	}
	return out
}

func (e *env) customer(t *testing.T, id string) *aftercare.Customer {
	t.Helper()
	c := e.store.items[state.Key{Kind: state.ItemCustomer, Shop: shop, ID: id}].Customer
	if c == nil {
		t.Fatalf("customer %s not stored", id)
	}
	return c
}

func (e *env) order(t *testing.T, id string) *aftercare.Order {
	t.Helper()
	o := e.store.items[state.Key{Kind: state.ItemOrder, Shop: shop, ID: id}].Order
	if o == nil {
		t.Fatalf("order %s not stored", id)
	}
	return o
}

// events reads what Import queued back into events, as the processor gets them.
func events(t *testing.T, r *recorder) []aftercare.Event {
	var out []aftercare.Event
	for _, b := range r.batches {
		for _, e := range b {
			var ev aftercare.Event
			if err := json.Unmarshal(e.Body, &ev); err != nil {
				t.Fatal(err)
			}
			out = append(out, ev)
		}
	}
	return out
}

// A loyal customer's history (five orders a month apart, the last 120 days
// ago, shipped with tracking) becomes state and
// lifecycle work, but not one message about the past; importing it again
// changes nothing; a later webhook for one of its orders applies by
// newer-wins.
func TestHistoryBecomesStateAndSendsNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "loyal.jsonl")
	var b bytes.Buffer
	last := now.Add(-days(120))
	for i := 0; i < 5; i++ {
		writeOrder(&b, 100+i, 77, last.Add(-days(30*(4-i))), true, 2)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if _, err := Import(context.Background(), rec, opts(path)); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	evs := events(t, rec)
	if len(evs) != 5 {
		t.Fatalf("%d events", len(evs))
	}
	for _, res := range e.apply(t, evs) {
		if res.Outcome != state.Applied || len(res.Messages) != 0 {
			t.Fatalf("history must apply and send nothing: %+v", res)
		}
	}
	if len(e.out.msgs) != 0 {
		t.Fatalf("queued %d messages about the past: %+v", len(e.out.msgs), e.out.msgs)
	}
	c := e.customer(t, "77")
	if len(c.Orders) != 5 || c.Email != "buyer77@example.com" {
		t.Fatalf("customer history %+v", c)
	}
	// Lifecycle sees it: quiet for 120 days against a 30-day median gap, a
	// loyal customer is due a lapse note now (and not the generic win-back).
	st := aftercare.DefaultSettings()
	kinds := map[aftercare.Kind]aftercare.Verdict{}
	for _, d := range c.Decide(now, st, nil) {
		kinds[d.Kind] = d.Verdict
	}
	if kinds[aftercare.KindLapseNote] != aftercare.VerdictSend {
		t.Fatalf("lapse note should be due for the loyal customer: %v", kinds)
	}
	if it := e.store.items[state.Key{Kind: state.ItemCustomer, Shop: shop, ID: "77"}]; it.DueAt().IsZero() || it.DueAt().After(now) {
		t.Fatalf("the customer must be on the due index for the next check, due %s", it.DueAt())
	}

	// Import again: every event changes nothing (history queues nothing, so
	// it keeps no dedupe record: a copy applies again, to the same state).
	before := e.store.snapshot()
	rec2 := &recorder{}
	if _, err := Import(context.Background(), rec2, opts(path)); err != nil {
		t.Fatal(err)
	}
	for _, res := range e.apply(t, events(t, rec2)) {
		if res.Outcome != state.Unchanged && res.Outcome != state.Duplicate {
			t.Fatalf("second import: %s, want nothing changed", res.Outcome)
		}
	}
	if after := e.store.snapshot(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatal("a second import changed state")
	}

	// A live webhook for the newest order, updated after the export, wins.
	order := e.order(t, "104")
	live := evs[4]
	live.History, live.Topic, live.ID = false, "orders/updated", "shopify:"+shop+":orders/updated:live-1"
	snap := *live.Order
	snap.UpdatedAt = order.UpdatedAt.Add(time.Hour)
	snap.CancelledAt = snap.UpdatedAt
	live.Order, live.At = &snap, snap.UpdatedAt
	e.apply(t, []aftercare.Event{live})
	if got := e.order(t, "104"); !got.Cancelled() {
		t.Fatal("a newer webhook must apply over imported history")
	}
	// ... and an older snapshot (the export replayed after it) does not undo it.
	stale := evs[4]
	stale.ID += ":replay"
	e.apply(t, []aftercare.Event{stale})
	if got := e.order(t, "104"); !got.Cancelled() {
		t.Fatal("an older imported snapshot must not undo a newer webhook")
	}
}

// An order the shop tagged damaged sends nothing when imported as history,
// and opens the playbook when the same event comes live: the history mark
// is what keeps the past quiet, not the data.
func TestTheSameOrdersLiveDoSend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.jsonl")
	var b bytes.Buffer
	writeOrder(&b, 200, 88, now.Add(-days(3)), true, 1)
	tagged := strings.Replace(b.String(), `"name":"#1200",`, `"name":"#1200","tags":["aftercare:damaged"],`, 1)
	if err := os.WriteFile(path, []byte(tagged), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if _, err := Import(context.Background(), rec, opts(path)); err != nil {
		t.Fatal(err)
	}
	evs := events(t, rec)
	past := newEnv(t)
	past.apply(t, evs)
	if len(past.out.msgs) != 0 || len(past.order(t, "200").OpenExceptions()) != 1 {
		t.Fatalf("history keeps the exception as state and sends nothing: %+v", past.out.msgs)
	}
	evs[0].History = false
	e := newEnv(t)
	e.apply(t, evs)
	var kinds []string
	for _, m := range e.out.msgs {
		kinds = append(kinds, string(m.Kind))
	}
	sort.Strings(kinds)
	if strings.Join(kinds, ",") != "exception_damaged,support_task" {
		t.Fatalf("live, the tag opens the damaged playbook: %v", kinds)
	}
}

// discard is a Sender that only counts.
type discard struct{ sent int }

func (d *discard) SendBatch(_ context.Context, entries []sqs.Entry) error {
	d.sent += len(entries)
	return nil
}

// peakHeap imports file and samples the live heap while it runs: the peak
// above what was live before.
func peakHeap(t *testing.T, file string) (peak uint64, res Result) {
	t.Helper()
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		var top uint64
		var m runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			top = max(top, m.HeapInuse)
			select {
			case <-stop:
				done <- top
				return
			case <-tick.C:
			}
		}
	}()
	d := &discard{}
	res, err := Import(context.Background(), d, opts(file))
	close(stop)
	top := <-done
	if err != nil {
		t.Fatal(err)
	}
	if top < base.HeapInuse {
		return 0, res
	}
	return top - base.HeapInuse, res
}

// The import streams: ten times the orders (a 10,000-order file) needs about
// the same memory as 1,000, far less than the file. Memory, not time, so the
// machine's load cannot move the verdict.
func TestImportStreamsInBoundedMemory(t *testing.T) {
	small, large := historyFile(t, 1000), historyFile(t, 10000)
	st, _ := os.Stat(large)
	peakSmall, rs := peakHeap(t, small)
	peakLarge, rl := peakHeap(t, large)
	t.Logf("1,000 orders: peak heap +%d KB; 10,000 orders (%d KB file): +%d KB; %d and %d events queued",
		peakSmall>>10, st.Size()>>10, peakLarge>>10, rs.Sent, rl.Sent)
	if rl.Orders != 10000 || rs.Orders != 1000 {
		t.Fatalf("read %d and %d orders", rs.Orders, rl.Orders)
	}
	if peakLarge > 2*peakSmall+4<<20 {
		t.Errorf("10,000 orders took +%d KB of heap, 1,000 took +%d KB: memory grows with the file", peakLarge>>10, peakSmall>>10)
	}
	if peakLarge > uint64(st.Size())/2 {
		t.Errorf("peak heap +%d KB for a %d KB file: the import holds the file", peakLarge>>10, st.Size()>>10)
	}
}
