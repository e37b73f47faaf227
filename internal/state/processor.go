package state

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// Rules turns changes into messages.
type Rules interface {
	Messages(changes []Change, now time.Time) []aftercare.Message
}

// Processor applies events to state.
type Processor struct {
	Store    Store
	Outbox   Outbox
	Settings SettingsSource
	Rules    Rules
	Log      *slog.Logger
	Now      func() time.Time
	// TombstoneKey keys the ids of redacted customers' tombstones
	// (aftercare.TombstoneID); EventProcessorFunction derives it from
	// UNSUBSCRIBE_SECRET. Empty: tombstones stay at the customer's key.
	TombstoneKey []byte
	// RedactPage is how many items one shop/redact invocation deletes
	// before it queues its continuation (0: DefaultRedactPage).
	RedactPage int
	// Shops forgets a shop's Admin API access token when shop/redact has
	// removed its data (nil: no tokens are kept).
	Shops ShopTokens

	digests digestMemo
}

// Outcomes of processing one event.
const (
	Applied   = "applied"
	Duplicate = "duplicate"
	// Unchanged: the event changed nothing, counted nothing and queued
	// nothing, so nothing was written, not even its dedupe record: under
	// newer-wins a copy of it changes nothing either.
	Unchanged = "unchanged"
)

// Result says what processing one event did.
type Result struct {
	Outcome  string
	Changes  []Change
	Messages []aftercare.Message
	Notes    []string
}

// maxAttempts bounds optimistic retries when another writer wins a race.
const maxAttempts = 8

// maxRounds bounds the read rounds of one attempt (event, then what it names).
const maxRounds = 4

// Process applies one event exactly once. A copy of an event applied before
// sends its stored outbox again (see duplicate).
func (p *Processor) Process(ctx context.Context, ev *aftercare.Event) (Result, error) {
	if err := validate(ev); err != nil {
		return Result{}, err
	}
	switch ev.Kind {
	case aftercare.EventCustomerRedact, aftercare.EventShopRedact, aftercare.EventDataRequest, aftercare.EventStockReturned:
		return p.fanOut(ctx, ev)
	}
	for attempt := 1; ; attempt++ {
		res, err := p.attempt(ctx, ev)
		if !errors.Is(err, ErrConflict) {
			return res, err
		}
		if attempt == maxAttempts {
			return Result{}, aftercare.Errorf(aftercare.ECONFLICT, "event %s lost %d races in a row; the queue will retry it", ev.ID, maxAttempts)
		}
		p.Log.Debug("conflict, retrying", slog.String("event_id", ev.ID), slog.Int("attempt", attempt))
		// A burst of reports about one parcel is worked on in parallel;
		// without a random wait the same writers collide again at once.
		select {
		case <-time.After(time.Duration(rand.Int64N(int64(10 * time.Millisecond << attempt)))):
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
}

func (p *Processor) attempt(ctx context.Context, ev *aftercare.Event) (Result, error) {
	now := p.now()
	t := newTx(ev, now)
	t.tombOf = p.tombstoneKey
	t.reset()
	step(t) // pure: names the first items it needs
	dedupeID := ev.ID
	for round := 0; t.missing() || dedupeID != ""; round++ {
		if round == maxRounds {
			return Result{}, fmt.Errorf("event %s still needs items after %d reads", ev.ID, maxRounds)
		}
		keys := make([]Key, 0, len(t.need))
		for k := range t.need {
			keys = append(keys, k)
		}
		SortKeys(keys)
		if len(keys) > 0 || dedupeID != "" {
			d, items, err := p.Store.Load(ctx, dedupeID, keys)
			if err != nil {
				return Result{}, err
			}
			if d == nil {
				d = recalled(ev, items)
			}
			if d != nil {
				return p.duplicate(ctx, ev, d, keys, items)
			}
			dedupeID = ""
			for _, k := range keys {
				t.loaded[k] = true
			}
			t.base.merge(items)
		}
		for shop := range t.needSet {
			s, err := p.Settings.Settings(ctx, shop)
			if err != nil {
				return Result{}, err
			}
			t.settings[shop] = s
		}
		t.reset()
		step(t)
	}
	if k, ok := t.touchedGone(); ok {
		return Result{Outcome: Unchanged, Notes: []string{"about " + string(k.Kind) + " " + k.ID + ", which customers/redact took: nothing kept"}}, nil
	}
	msgs, dropped := t.installed(t.forRedacted(p.Rules.Messages(t.changes, now)))
	puts, err := t.puts()
	if err != nil {
		return Result{}, err
	}
	adds, digests, err := t.dayAdds(puts)
	if err != nil {
		return Result{}, err
	}
	digests = p.digests.unseen(digests)
	puts = append(puts, digests...)
	if len(puts) == 0 && len(t.deletes) == 0 && len(t.stockOut) == 0 && len(t.stockIn) == 0 && len(adds) == 0 &&
		len(msgs) == 0 && len(t.internal) == 0 && len(dropped) == 0 {
		// The first read is no snapshot: a copy's commit landing during it
		// can show in the items but not in the dedupe record. Look again
		// before acknowledging, or the outbox of a copy that died before
		// sending it is never sent.
		// The same holds for a keeper's record, read with the keeper: an
		// event's reads can show what its copy applied to one item (a
		// parcel) and not the record it left on another (the order).
		keys := keepers(ev)
		d, items, err := p.Store.Load(ctx, ev.ID, keys)
		if err != nil {
			return Result{}, err
		}
		if d == nil {
			d = recalled(ev, items)
		}
		if d != nil {
			return p.duplicate(ctx, ev, d, keys, items)
		}
		return Result{Outcome: Unchanged, Changes: t.changes, Notes: t.notes}, nil
	}
	c := &Commit{
		Puts:     puts,
		Deletes:  sortedKeys(t.deletes),
		StockOut: t.stockOut,
		StockIn:  t.stockIn,
		Adds:     adds,
	}
	// The dedupe record keeps what a copy of the event must send again (its
	// outbox, its internal events, the messages an uninstall dropped) and
	// the stock flips that go with them. An event that queues none of that
	// goes without one (2 write units, most events): its copy, however late,
	// changes nothing, since every field follows the newest report (orders
	// and profiles by updated_at, a parcel's status as a fold over its
	// history, a fulfillment's carrier and link and a product's variants by
	// their updated_at) and a repeat is recognised
	// (TestEveryEventIsIdempotentByState, TestALateOlderStorefrontCopyRevertsNothing).
	//
	// A carrier report that queues only messages keeps its record on the
	// parcel or order it names, when it writes that anyway (keeper) and the
	// keeper has room; every such item written sheds its expired records.
	for _, e := range puts {
		if l := appliedLog(e); l != nil {
			l.Prune(now)
		}
	}
	if len(t.internal) == 0 && len(dropped) == 0 && len(t.stockOut) == 0 && len(t.stockIn) == 0 {
		if len(msgs) > 0 {
			if l := keptOn(ev, puts); l != nil && l.Room() {
				l.Remember(ev.ID, now, msgs)
			} else {
				c.Dedupe = &Dedupe{ID: ev.ID, Shop: ev.Shop, Topic: ev.Topic, At: now, Outbox: msgs}
			}
		}
	} else {
		c.Dedupe = &Dedupe{ID: ev.ID, Shop: ev.Shop, Topic: ev.Topic, At: now, Outbox: msgs, Internal: t.internal}
	}
	switch err := p.Store.Commit(ctx, c); {
	case errors.Is(err, ErrDuplicate):
		// A concurrent delivery of the same event committed first. It may
		// have died before its send (killed, or timed out with its commit
		// still on the way): try again, and the next read finds its dedupe
		// record and sends its stored outbox (see duplicate).
		return Result{}, fmt.Errorf("%w: event %s committed by another delivery", ErrConflict, ev.ID)
	case err != nil:
		return Result{}, err
	}
	p.digests.seen(digests)
	if err := p.send(ctx, msgs, t.internal, now); err != nil {
		return Result{}, err
	}
	p.countDropped(ctx, ev, dropped)
	return Result{Outcome: Applied, Changes: t.changes, Messages: msgs, Notes: t.notes}, nil
}

// keepers are the items that may keep an event's dedupe record, in order of
// preference: what a carrier report or a Shopify fulfillment (event) names
// and so reads first, the parcel or the order. The first one the commit
// writes anyway keeps it; other events keep a record of their own.
func keepers(ev *aftercare.Event) []Key {
	switch {
	case ev.Kind == aftercare.EventTracking && ev.Tracking != nil:
		if ev.Tracking.TrackingNumber != "" {
			return []Key{{ItemShipment, "", aftercare.TrackingKey(ev.Tracking.TrackingNumber)}}
		}
		if ev.Shop != "" && ev.Tracking.OrderID != "" {
			return []Key{{ItemOrder, ev.Shop, ev.Tracking.OrderID}}
		}
	case ev.Kind == aftercare.EventFulfillment && ev.Fulfillment != nil && ev.Shop != "":
		keys := []Key{{ItemOrder, ev.Shop, ev.Fulfillment.OrderID}}
		for _, n := range ev.Fulfillment.TrackingNumbers {
			if k := aftercare.TrackingKey(n); k != "" {
				keys = append(keys, Key{ItemShipment, "", k})
			}
		}
		return keys
	}
	return nil
}

// keptOn is the record log of the first keeper among a commit's puts (nil:
// the commit writes none, so the event needs a record of its own).
func keptOn(ev *aftercare.Event, puts []Entity) *aftercare.AppliedLog {
	for _, k := range keepers(ev) {
		for _, e := range puts {
			if l := appliedLog(e); l != nil && e.Key() == k {
				return l
			}
		}
	}
	return nil
}

// appliedLog is the record log of an entity that can keep one.
func appliedLog(e Entity) *aftercare.AppliedLog {
	switch {
	case e.Shipment != nil:
		return &e.Shipment.Applied
	case e.Order != nil:
		return &e.Order.Applied
	}
	return nil
}

// recalled is the dedupe record one of the event's keepers holds, if it was
// loaded and holds one.
func recalled(ev *aftercare.Event, items *Loaded) *Dedupe {
	if items == nil {
		return nil
	}
	for _, k := range keepers(ev) {
		e, ok := items.Get(k)
		if !ok {
			continue
		}
		if l := appliedLog(e); l != nil {
			if a, ok := l.Recalled(ev.ID); ok {
				return &Dedupe{ID: ev.ID, Shop: ev.Shop, Topic: ev.Topic, At: a.At, Outbox: a.Outbox}
			}
		}
	}
	return nil
}

// duplicate acknowledges an event applied before and sends its stored outbox
// again, whatever the receive count: the attempt that committed may have died
// before its send reached the queue, and a copy redriven from the dead-letter
// queue arrives with receive count 1. Sending again never delivers twice:
// dispatch claims each message id in its ledger, and internal events dedupe
// on their own ids.
//
// Nothing is re-sent to a redacted customer: customers/redact drops their
// messages from stored outboxes, and whatever a record still holds for a
// customer whose tombstone exists is dropped here (read with the event's
// own items when they include the customer, as they do for customer events,
// so the common duplicate stays one round trip).
func (p *Processor) duplicate(ctx context.Context, ev *aftercare.Event, d *Dedupe, asked []Key, got *Loaded) (Result, error) {
	if err := p.dropRedacted(ctx, d, asked, got); err != nil {
		return Result{}, err
	}
	if len(d.Outbox) > 0 || len(d.Internal) > 0 {
		if err := p.send(ctx, d.Outbox, d.Internal, p.now()); err != nil {
			return Result{}, err
		}
		return Result{Outcome: Duplicate, Messages: d.Outbox, Notes: []string{"outbox sent again"}}, nil
	}
	return Result{Outcome: Duplicate}, nil
}

// dropRedacted removes from d what names a redacted customer.
func (p *Processor) dropRedacted(ctx context.Context, d *Dedupe, asked []Key, got *Loaded) error {
	named := map[Key]bool{}
	for _, m := range d.Outbox {
		if m.CustomerID != "" {
			named[Key{ItemCustomer, m.Shop, m.CustomerID}] = true
		}
	}
	for i := range d.Internal {
		if id := eventCustomer(&d.Internal[i]); id != "" {
			named[Key{ItemCustomer, d.Internal[i].Shop, id}] = true
		}
	}
	if len(named) == 0 {
		return nil
	}
	have := map[Key]bool{}
	for _, k := range asked {
		have[k] = true
	}
	if got == nil {
		got = NewLoaded()
	}
	var need []Key
	for k := range named {
		keys := []Key{k}
		if tk, ok := p.tombstoneKey(k); ok {
			keys = append(keys, tk)
		}
		for _, k := range keys {
			if !have[k] {
				need = append(need, k)
			}
		}
	}
	if len(need) > 0 {
		SortKeys(need)
		found, err := p.load(ctx, need)
		if err != nil {
			return err
		}
		got.merge(found)
	}
	byShop := map[string][]string{}
	for k := range named {
		tk, _ := p.tombstoneKey(k)
		if c := got.Customers[k]; (c != nil && c.Redacted) || (got.Customers[tk] != nil && got.Customers[tk].Redacted) {
			byShop[k.Shop] = append(byShop[k.Shop], k.ID)
		}
	}
	for shop, ids := range byShop {
		d.Scrub(shop, ids)
	}
	return nil
}

func (p *Processor) send(ctx context.Context, msgs []aftercare.Message, evs []aftercare.Event, now time.Time) error {
	if len(msgs) > 0 {
		if err := p.Outbox.SendMessages(ctx, msgs, now); err != nil {
			return aftercare.Wrap(aftercare.EUNAVAILABLE, err, "queue messages")
		}
	}
	if len(evs) > 0 {
		if err := p.Outbox.SendEvents(ctx, evs); err != nil {
			return aftercare.Wrap(aftercare.EUNAVAILABLE, err, "queue internal events")
		}
	}
	return nil
}

func (p *Processor) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

// step applies the event to whatever the tx has loaded.
func step(t *tx) {
	ev := t.ev
	switch ev.Kind {
	case aftercare.EventOrder:
		applyOrder(t, ev.Shop, ev.Order, ev.At)
	case aftercare.EventFulfillment:
		applyFulfillment(t, ev.Shop, ev.Fulfillment, ev.At)
	case aftercare.EventTracking:
		applyTracking(t, ev.Shop, ev.Source, ev.Tracking)
	case aftercare.EventCustomer:
		applyCustomer(t, ev.Shop, ev.Customer)
	case aftercare.EventConsent:
		applyConsent(t, ev.Shop, ev.Consent)
	case aftercare.EventInventory:
		applyInventory(t, ev.Shop, ev.Inventory)
	case aftercare.EventProduct:
		applyProduct(t, ev.Shop, ev.Product)
	case aftercare.EventRefund:
		applyRefund(t, ev.Shop, ev.Refund)
	case aftercare.EventOverdue:
		applyOverdue(t, ev.Shop, ev.Overdue, ev.At)
	case aftercare.EventRestocked:
		applyRestocked(t, ev.Shop, ev.Restock)
	case aftercare.EventEmailFeedback:
		applyEmailFeedback(t, ev.Shop, ev.EmailFeedback)
	case aftercare.EventShopUninstalled:
		applyUninstalled(t, ev.Shop, ev.At)
	}
	wantZones(t)
	wantInstalls(t)
}

// validate rejects events that cannot be applied; they fail every retry and
// end in the dead-letter queue, where they can be read and redriven.
func validate(ev *aftercare.Event) error {
	bad := func(what string) error {
		return aftercare.Errorf(aftercare.EINVALID, "event %q (%s): %s", ev.ID, ev.Kind, what)
	}
	if ev.ID == "" {
		return bad("no id")
	}
	needShop := true
	var missing bool
	switch ev.Kind {
	case aftercare.EventOrder:
		missing = ev.Order == nil || ev.Order.ID == ""
	case aftercare.EventFulfillment:
		missing = ev.Fulfillment == nil || ev.Fulfillment.OrderID == ""
	case aftercare.EventTracking:
		needShop = false
		missing = ev.Tracking == nil || (ev.Tracking.TrackingNumber == "" && (ev.Tracking.OrderID == "" || ev.Shop == ""))
	case aftercare.EventCustomer:
		missing = ev.Customer == nil || ev.Customer.ID == ""
	case aftercare.EventConsent:
		missing = ev.Consent == nil || ev.Consent.CustomerID == ""
	case aftercare.EventInventory:
		missing = ev.Inventory == nil || ev.Inventory.InventoryItemID == ""
	case aftercare.EventProduct:
		missing = ev.Product == nil
	case aftercare.EventRefund:
		missing = ev.Refund == nil || ev.Refund.OrderID == ""
	case aftercare.EventCustomerRedact, aftercare.EventDataRequest:
		missing = ev.Privacy == nil
	case aftercare.EventShopRedact, aftercare.EventShopUninstalled:
	case aftercare.EventOverdue:
		missing = ev.Overdue == nil
	case aftercare.EventStockReturned, aftercare.EventRestocked:
		missing = ev.Restock == nil || ev.Restock.VariantID == ""
	case aftercare.EventEmailFeedback:
		missing = ev.EmailFeedback == nil || ev.EmailFeedback.CustomerID == ""
	default:
		return bad("unknown kind")
	}
	if missing {
		return bad("payload missing")
	}
	if needShop && ev.Shop == "" {
		return bad("no shop")
	}
	return nil
}

func sortedKeys(m map[Key]bool) []Key {
	keys := make([]Key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	SortKeys(keys)
	return keys
}
