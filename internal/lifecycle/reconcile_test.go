package lifecycle_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/lifecycle"
	"github.com/aftercare/aftercare/internal/shopifyadmin"
	"github.com/aftercare/aftercare/internal/shopifyadmin/admintest"
	"github.com/aftercare/aftercare/internal/state"
)

// reconcileEnv connects shops (tokens in moto's SSM) to a fake Admin API
// and gives the checker the Admin source production wires.
func (e *env) reconcileEnv(t *testing.T, tokens map[string]string) *admintest.Server {
	t.Helper()
	client := ssm.New(ssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.stack.Env.SQSEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	store := &shopifyadmin.Tokens{SSM: client}
	for shop, token := range tokens {
		if err := store.Put(context.Background(), shop, token); err != nil {
			t.Fatal(err)
		}
	}
	fake := admintest.New(t)
	e.checker.Admin = &shopifyadmin.Shops{Tokens: store, BaseURL: fake.URL,
		Sleep: func(context.Context, time.Duration) error { return nil }}
	return fake
}

func (e *env) loadOrder(t *testing.T, shop, id string) *aftercare.Order {
	t.Helper()
	k := state.Key{Kind: state.ItemOrder, Shop: shop, ID: id}
	_, items, err := e.store.Load(context.Background(), "", []state.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	if items.Orders[k] == nil {
		t.Fatalf("no order %s/%s", shop, id)
	}
	return items.Orders[k]
}

// A missed orders/fulfilled is applied by reconcile: the store knows the
// order as paid, the Admin API has it fulfilled; the check queues the
// change, the processor applies it and the order is fulfilled. A second run
// queues nothing (the cursor moved past it); a later change is queued on the
// run after it; an uninstalled shop is skipped without an Admin API call.
func TestReconcileAppliesAMissedFulfillment(t *testing.T) {
	e := newEnv(t)
	const gone = "gone-shop.myshopify.com"
	id := e.order(t, "c-miss", t0, false)
	e.apply(t, aftercare.Event{ID: "shopify:" + gone + ":app/uninstalled:1", Kind: aftercare.EventShopUninstalled, Source: "shopify",
		Topic: "app/uninstalled", Shop: gone, At: t0, Received: t0})
	fake := e.reconcileEnv(t, map[string]string{shop: "shpat_live", gone: "shpat_gone"})
	if got := e.loadOrder(t, shop, id); got.Shipped() {
		t.Fatalf("the order starts paid, not shipped: %+v", got)
	}
	shipped := t0.Add(2 * time.Hour)
	fake.Put("shpat_live",
		admintest.Order{ID: 9001, Updated: shipped, Fulfilled: true, CustomerID: "c-miss", Email: "c-miss@example.org", Created: t0},
		admintest.Order{ID: 8001, Updated: t0.Add(-30 * time.Hour)}, // older than the first run's lookback
		admintest.Order{ID: 8002, Updated: t0.Add(time.Hour), CustomerID: "c-new", Email: "c-new@example.org"},
		admintest.Order{ID: 8003, Updated: shipped}, // the same second as the fulfillment: both are queued
	)
	fake.Put("shpat_gone", admintest.Order{ID: 7001, Updated: shipped})

	now := t0.Add(3 * time.Hour)
	res := e.run(t, lifecycle.CheckReconcile, now)
	c := res.Checks[lifecycle.CheckReconcile]
	if live := c.Shops[shop]; live == nil || live.Examined != 3 || live.Queued != 3 || live.Skipped != 0 {
		t.Fatalf("live shop: %+v (all %+v)", live, c)
	}
	if g := c.Shops[gone]; g == nil || g.Skipped != 1 || g.Why["uninstalled"] != 1 || fake.Calls("shpat_gone") != 0 {
		t.Fatalf("the uninstalled shop is skipped without a call: %+v, %d calls", g, fake.Calls("shpat_gone"))
	}
	if shops, err := e.checker.Admin.Connected(context.Background()); err != nil || len(shops) != 1 || shops[0] != shop {
		t.Fatalf("connected after the run: %v %v; the uninstalled shop's revoked token is deleted, the live one kept", shops, err)
	}
	if len(res.Checks) != 1 || c.Queued != 3 || res.Events != 3 {
		t.Fatalf("reconcile alone runs only reconcile: %+v", res)
	}
	if asked := fake.Asked("shpat_live"); len(asked) != 2 || asked[0] != "updated_at:>='"+now.Add(-lifecycle.DefaultLookback).Format(time.RFC3339)+"'" {
		t.Fatalf("first run asks a day back, two pages of two: %q", asked)
	}
	evs := e.inbox(t)
	if len(evs) != 3 {
		t.Fatalf("%d events on the inbox, want 3", len(evs))
	}
	for _, ev := range evs {
		if ev.Kind != aftercare.EventOrder || ev.History || ev.Shop != shop || !strings.HasPrefix(ev.ID, "shopify:"+shop+":orders/reconcile:") {
			t.Fatalf("reconcile queues live order events: %+v", ev)
		}
		e.apply(t, ev)
	}
	if got := e.loadOrder(t, shop, id); !got.Shipped() || got.FulfillmentStatus != "fulfilled" {
		t.Fatalf("after reconcile the order is fulfilled: %+v", got)
	}
	if got := e.loadOrder(t, shop, "8002"); got.PaidAt.IsZero() {
		t.Fatalf("an order never seen by webhook arrives: %+v", got)
	}
	// The same events again change nothing: their ids are their cause.
	for _, ev := range evs {
		if _, err := e.proc.Process(context.Background(), &ev); err != nil {
			t.Fatalf("replay %s: %v", ev.ID, err)
		}
	}

	again := e.run(t, lifecycle.CheckReconcile, now.Add(time.Hour))
	if live := again.Checks[lifecycle.CheckReconcile].Shops[shop]; live.Queued != 0 || again.Events != 0 {
		t.Fatalf("a second run queues nothing: %+v", live)
	}
	if evs := e.inbox(t); len(evs) != 0 {
		t.Fatalf("a second run queued %d events", len(evs))
	}
	if asked := fake.Asked("shpat_live"); asked[len(asked)-1] != "updated_at:>='"+shipped.Add(-aftercare.ReconcileOverlap).Format(time.RFC3339)+"'" {
		t.Fatalf("the second run starts the overlap before the cursor: %q", asked)
	}

	// Shopify's search index shows a change late, after a newer one moved
	// the cursor past it: the overlap finds it, once.
	fake.Put("shpat_live", admintest.Order{ID: 8004, Updated: shipped.Add(-30 * time.Second), CustomerID: "c-late", Email: "c-late@example.org"})
	late := e.run(t, lifecycle.CheckReconcile, now.Add(70*time.Minute))
	if live := late.Checks[lifecycle.CheckReconcile].Shops[shop]; live.Queued != 1 {
		t.Fatalf("the late-indexed change: %+v, want it queued", live)
	}
	for _, ev := range e.inbox(t) {
		e.apply(t, ev)
	}
	if again := e.run(t, lifecycle.CheckReconcile, now.Add(80*time.Minute)); again.Checks[lifecycle.CheckReconcile].Shops[shop].Queued != 0 {
		t.Fatalf("the late change queued twice: %+v", again.Checks[lifecycle.CheckReconcile].Shops[shop])
	}

	// A change after the cursor is queued on the next run.
	fake.Put("shpat_live", admintest.Order{ID: 8002, Updated: now.Add(90 * time.Minute), Fulfilled: true, CustomerID: "c-new", Email: "c-new@example.org"})
	third := e.run(t, lifecycle.CheckAll, now.Add(2*time.Hour))
	if live := third.Checks[lifecycle.CheckReconcile].Shops[shop]; live.Queued != 1 {
		t.Fatalf("the later change is queued once: %+v", live)
	}
	for _, ev := range e.inbox(t) {
		e.apply(t, ev)
	}
	if got := e.loadOrder(t, shop, "8002"); !got.Shipped() {
		t.Fatalf("the later fulfillment is applied: %+v", got)
	}
}

// Without an Admin source (no token store wired) the check does nothing.
func TestReconcileWithoutAdminDoesNothing(t *testing.T) {
	e := newMemEnv(t)
	res := e.run(t, lifecycle.CheckReconcile, t0)
	if c := res.Checks[lifecycle.CheckReconcile]; c == nil || c.Examined != 0 || res.ItemsRead != 0 || len(res.Checks) != 1 {
		t.Fatalf("%+v", res)
	}
}

// pagedAdmin is one shop's Admin API in memory, in fixed pages; cancel, when
// set, is called before the first page is handed over (the invocation runs
// out of time there).
type pagedAdmin struct {
	pages  [][]aftercare.Event
	cancel func()
	broken string // a shop listed before the test shop whose Admin API fails
}

func (a *pagedAdmin) Connected(context.Context) ([]string, error) {
	if a.broken != "" {
		return []string{a.broken, shop}, nil
	}
	return []string{shop}, nil
}

func (a *pagedAdmin) Disconnect(context.Context, string) error { return nil }

func (a *pagedAdmin) OrdersSince(_ context.Context, s string, since, _ time.Time, fn func(aftercare.OrdersPage) error) (time.Time, error) {
	if s == a.broken {
		return since, errors.New("shopify admin api: [API] Invalid API key or access token (unrecognized login or wrong password) (401)")
	}
	cursor := since
	for _, evs := range a.pages {
		p := aftercare.OrdersPage{Cursor: cursor}
		for _, ev := range evs {
			if !ev.Order.UpdatedAt.Before(since) {
				p.Events = append(p.Events, ev)
				p.Cursor = ev.Order.UpdatedAt
			}
		}
		if a.cancel != nil {
			a.cancel()
			a.cancel = nil
		}
		if err := fn(p); err != nil {
			return cursor, err
		}
		cursor = p.Cursor
	}
	return cursor, nil
}

func reconcileEvent(id string, at time.Time) aftercare.Event {
	return aftercare.Event{ID: "shopify:" + shop + ":orders/reconcile:" + id + ":" + at.Format(time.RFC3339Nano), Kind: aftercare.EventOrder,
		Source: "shopify", Topic: "orders/reconcile", Shop: shop, At: at, Received: at,
		Order: &aftercare.OrderSnapshot{ID: id, Name: "#" + id, CreatedAt: at, UpdatedAt: at, ProcessedAt: at, FinancialStatus: "paid"}}
}

// A run out of time stops after the page it queued, with the cursor there;
// the next run goes on from it and queues only the rest.
func TestReconcileStopsAtACheckpoint(t *testing.T) {
	e := newMemEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	a := &pagedAdmin{cancel: cancel, pages: [][]aftercare.Event{
		{reconcileEvent("1", t0.Add(-3*time.Hour)), reconcileEvent("2", t0.Add(-2*time.Hour))},
		{reconcileEvent("3", t0.Add(-time.Hour))},
	}}
	e.checker.Admin = a
	e.now = t0
	res, err := e.checker.Run(ctx, lifecycle.Input{Check: lifecycle.CheckReconcile, ScheduledTime: t0.Format(time.RFC3339)})
	if err != nil || res.Complete || res.Checks[lifecycle.CheckReconcile].Queued != 2 {
		t.Fatalf("cut short after the first page: %+v %v", res, err)
	}
	if cur, _ := e.store.ReconcileCursor(context.Background(), shop); !cur.At.Equal(t0.Add(-2*time.Hour)) || len(cur.Orders) != 1 || cur.Orders[0] != "2" {
		t.Fatalf("cursor %+v", cur)
	}
	if evs := e.inbox(t); len(evs) != 2 {
		t.Fatalf("%d queued", len(evs))
	}
	next := e.run(t, lifecycle.CheckReconcile, t0.Add(time.Minute))
	c := next.Checks[lifecycle.CheckReconcile]
	if c.Queued != 1 || c.Why["already queued"] != 1 {
		t.Fatalf("the next run queues the rest only: %+v", c)
	}
	if evs := e.inbox(t); len(evs) != 1 || evs[0].Order.ID != "3" {
		t.Fatalf("queued %+v", evs)
	}
}

// One shop's Admin API failing (a revoked token) is counted and logged; the
// other shops are reconciled all the same.
func TestReconcileOneShopFailingDoesNotHoldUpTheOthers(t *testing.T) {
	e := newMemEnv(t)
	e.checker.Admin = &pagedAdmin{broken: "revoked.myshopify.com", pages: [][]aftercare.Event{{reconcileEvent("1", t0.Add(-time.Hour))}}}
	res := e.run(t, lifecycle.CheckReconcile, t0)
	c := res.Checks[lifecycle.CheckReconcile]
	if c.Shops["revoked.myshopify.com"].Why["admin api error"] != 1 || c.Shops[shop].Queued != 1 || c.Queued != 1 || c.Skipped != 1 {
		t.Fatalf("%+v / %+v / %+v", c, c.Shops["revoked.myshopify.com"], c.Shops[shop])
	}
}
