package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// tx is one attempt at applying one event. It takes fresh copies of the
// loaded entities on first access, so an attempt that discovers it needs more
// items can be thrown away and replayed once they are loaded.
type tx struct {
	now      time.Time
	ev       *aftercare.Event
	base     *Loaded                       // as loaded, never mutated: each attempt copies what it touches
	loaded   map[Key]bool                  // asked for (present or known missing)
	settings map[string]aftercare.Settings // by shop
	tombOf   func(Key) (Key, bool)         // where a customer's keyed tombstone lives (nil: none)

	orders    map[Key]*aftercare.Order
	customers map[Key]*aftercare.Customer
	shipments map[Key]*aftercare.Shipment
	inventory map[Key]*Inventory
	stock     map[string]map[string]bool
	waits     map[Key]*Wait
	installs  map[Key]*aftercare.Install

	dirty    map[Key]bool
	tombs    map[Key]bool // redacted customers (stand-ins of keyed tombstones, or old tombstones): never written
	gone     map[Key]bool // tombstones of redacted orders and parcels: never written; an event that touches such an order is dropped
	deletes  map[Key]bool
	need     map[Key]bool
	needSet  map[string]bool // shops whose settings are missing
	stockOut map[string][]string
	stockIn  map[string][]string

	changes  []Change
	internal []aftercare.Event
	notes    []string
}

func newTx(ev *aftercare.Event, now time.Time) *tx {
	return &tx{
		now: now, ev: ev,
		base: NewLoaded(), loaded: map[Key]bool{}, settings: map[string]aftercare.Settings{},
	}
}

// reset forgets everything decoded or decided, keeping what was loaded.
func (t *tx) reset() {
	t.orders = map[Key]*aftercare.Order{}
	t.customers = map[Key]*aftercare.Customer{}
	t.shipments = map[Key]*aftercare.Shipment{}
	t.inventory = map[Key]*Inventory{}
	t.stock = map[string]map[string]bool{}
	t.waits = map[Key]*Wait{}
	t.installs = map[Key]*aftercare.Install{}
	t.dirty, t.deletes, t.need, t.needSet = map[Key]bool{}, map[Key]bool{}, map[Key]bool{}, map[string]bool{}
	t.tombs, t.gone = map[Key]bool{}, map[Key]bool{}
	t.stockOut, t.stockIn = map[string][]string{}, map[string][]string{}
	t.changes, t.internal, t.notes = nil, nil, nil
}

// missing reports whether this attempt asked for anything not loaded yet.
func (t *tx) missing() bool { return len(t.need) > 0 || len(t.needSet) > 0 }

// want records that k is needed; it reports whether k is loaded.
func (t *tx) want(k Key) bool {
	if t.loaded[k] {
		return true
	}
	t.need[k] = true
	return false
}

// order returns the order (a new one if it does not exist), or nil if it is
// not loaded yet.
func (t *tx) order(shop, id string) *aftercare.Order {
	k := Key{ItemOrder, shop, id}
	if o, ok := t.orders[k]; ok {
		return o
	}
	if !t.want(k) {
		return nil
	}
	o := clone(t.base.Orders[k])
	if o == nil {
		o = &aftercare.Order{Shop: shop, ID: id}
	}
	if o.Redacted {
		t.gone[k] = true
	}
	t.orders[k] = o
	return o
}

// customer returns the customer (a new one if it does not exist), or nil if
// it is not loaded yet. Its keyed tombstone is read with it (same round
// trip): a redacted customer comes back as a redacted stand-in, which every
// rule treats as suppressed and the commit never writes, so a late event
// cannot bring the customer back.
func (t *tx) customer(shop, id string) *aftercare.Customer {
	k := Key{ItemCustomer, shop, id}
	if c, ok := t.customers[k]; ok {
		return c
	}
	loaded, tk, keyed := t.wantWithTomb(k)
	if tomb := t.base.Customers[tk]; keyed && loaded && tomb != nil && tomb.Redacted {
		c := &aftercare.Customer{Shop: shop, ID: id, Redacted: true, RedactedAt: tomb.RedactedAt}
		t.customers[k] = c
		t.tombs[k] = true
		return c
	}
	if !loaded {
		return nil
	}
	c := clone(t.base.Customers[k])
	if c == nil {
		c = &aftercare.Customer{Shop: shop, ID: id}
	}
	if c.Redacted {
		// A tombstone of the scheme before keyed ones: kept as it is, and
		// nothing written by this event names the customer either.
		t.tombs[k] = true
	}
	t.customers[k] = c
	return c
}

// wantWithTomb asks for k and, when it has one, its keyed tombstone tk in
// the same round trip; loaded reports whether both are in.
func (t *tx) wantWithTomb(k Key) (loaded bool, tk Key, keyed bool) {
	loaded = t.want(k)
	if t.tombOf == nil {
		return loaded, Key{}, false
	}
	if tk, keyed = t.tombOf(k); keyed {
		loaded = t.want(tk) && loaded
	}
	return loaded, tk, keyed
}

// shipment returns the parcel (a new one if it does not exist), or nil if
// it is not loaded yet. Its keyed tombstone is read with it, as a
// customer's: a parcel whose order customers/redact took comes back as a
// redacted stand-in linked to no order, which the commit never writes.
func (t *tx) shipment(key string) *aftercare.Shipment {
	k := Key{ItemShipment, "", key}
	if s, ok := t.shipments[k]; ok {
		return s
	}
	loaded, tk, keyed := t.wantWithTomb(k)
	if tomb := t.base.Shipments[tk]; keyed && loaded && tomb != nil && tomb.Redacted {
		s := &aftercare.Shipment{Key: key, Redacted: true, RedactedAt: tomb.RedactedAt}
		t.shipments[k] = s
		t.gone[k] = true
		return s
	}
	if !loaded {
		return nil
	}
	s := clone(t.base.Shipments[k])
	if s == nil {
		s = &aftercare.Shipment{Key: key}
	}
	if s.Redacted {
		t.gone[k] = true
	}
	t.shipments[k] = s
	return s
}

func (t *tx) inventoryItem(shop, id string) *Inventory {
	k := Key{ItemInventory, shop, id}
	if inv, ok := t.inventory[k]; ok {
		return inv
	}
	if !t.want(k) {
		return nil
	}
	inv := clone(t.base.Inventory[k])
	if inv == nil {
		inv = &Inventory{Shop: shop, ID: id}
	}
	t.inventory[k] = inv
	return inv
}

// outOfStock returns the shop's out-of-stock variants, or nil if not loaded.
func (t *tx) outOfStock(shop string) map[string]bool {
	if s, ok := t.stock[shop]; ok {
		return s
	}
	k := Key{ItemStock, shop, ""}
	if !t.want(k) {
		return nil
	}
	set := make(map[string]bool, len(t.base.Stock[shop]))
	for v := range t.base.Stock[shop] {
		set[v] = true
	}
	t.stock[shop] = set
	return set
}

// settingsFor returns a shop's settings; ok is false until they are fetched.
func (t *tx) settingsFor(shop string) (aftercare.Settings, bool) {
	s, ok := t.settings[shop]
	if !ok {
		t.needSet[shop] = true
	}
	return s, ok
}

func (t *tx) touch(kind, shop, id string) { t.dirty[Key{kind, shop, id}] = true }

func (t *tx) touchOrder(o *aftercare.Order)       { t.touch(ItemOrder, o.Shop, o.ID) }
func (t *tx) touchCustomer(c *aftercare.Customer) { t.touch(ItemCustomer, c.Shop, c.ID) }
func (t *tx) touchShipment(s *aftercare.Shipment) { t.touch(ItemShipment, "", s.Key) }

// putWait records an order waiting for a variant (written unconditionally).
func (t *tx) putWait(w *Wait) {
	k := Key{ItemWait, w.Shop, w.VariantID + "#" + w.OrderID}
	w.Version = -1
	t.waits[k] = w
	t.dirty[k] = true
	delete(t.deletes, k)
}

// remove deletes an item in this commit.
func (t *tx) remove(k Key) {
	t.deletes[k] = true
	delete(t.dirty, k)
}

func (t *tx) change(c Change) {
	c.History = t.ev.History
	t.changes = append(t.changes, c)
}

func (t *tx) note(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

// puts lists every touched entity, refreshing what the due index and the
// time to live derive from it.
func (t *tx) puts() ([]Entity, error) {
	keys := make([]Key, 0, len(t.dirty))
	for k := range t.dirty {
		if !t.deletes[k] && !t.tombs[k] && !t.gone[k] {
			keys = append(keys, k)
		}
	}
	SortKeys(keys)
	out := make([]Entity, 0, len(keys))
	for _, k := range keys {
		var e Entity
		switch k.Kind {
		case ItemOrder:
			o := t.orders[k]
			o.CustomerID = t.unredacted(o.Shop, o.CustomerID)
			if st, ok := t.settings[o.Shop]; ok {
				o.Refresh(st)
			}
			e.Order = o
		case ItemCustomer:
			c := t.customers[k]
			if st, ok := t.settings[c.Shop]; ok {
				c.Refresh(t.now, st)
			}
			e.Customer = c
		case ItemShipment:
			s := t.shipments[k]
			s.CustomerID = t.unredacted(s.Shop, s.CustomerID)
			st, ok := t.settings[s.Shop]
			if !ok {
				st = aftercare.DefaultSettings()
			}
			s.Refresh(st)
			e.Shipment = s
		case ItemInventory:
			e.Inventory = t.inventory[k]
		case ItemWait:
			e.Wait = t.waits[k]
			e.Wait.CustomerID = t.unredacted(e.Wait.Shop, e.Wait.CustomerID)
		case ItemInstall:
			e.Install = t.installs[k]
		default:
			return nil, fmt.Errorf("cannot write a %s item", k.Kind)
		}
		if same, err := t.unchanged(k, e); err != nil {
			return nil, err
		} else if same {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// unchanged reports whether e would store exactly what is stored already
// (its document, due time and expiry): an order snapshot or fulfillment that
// repeats what a parcel knows touches the parcel without changing it (a
// product webhook its inventory items, likewise), and
// rewriting it would cost write units for nothing (two in a transaction).
// What another event changes meanwhile is not lost: an event that changes
// what this one read writes it, and its own decisions, and every message is
// decided again from fresh state at send time.
func (t *tx) unchanged(k Key, e Entity) (bool, error) {
	base, found := t.base.Get(k)
	if !found || base.Version() != e.Version() || !base.DueAt().Equal(e.DueAt()) || !base.ExpiresAt().Equal(e.ExpiresAt()) {
		return false, nil
	}
	now, err := json.Marshal(e.Body())
	if err != nil {
		return false, err
	}
	was, err := json.Marshal(base.Body())
	if err != nil {
		return false, err
	}
	return bytes.Equal(now, was), nil
}

// unredacted is the customer id an item may keep: none for a redacted
// customer, so a late event about their order or parcel stores nothing that
// names them again.
func (t *tx) unredacted(shop, customerID string) string {
	if customerID != "" && t.tombs[Key{ItemCustomer, shop, customerID}] {
		return ""
	}
	return customerID
}

// forRedacted drops the messages a late event made for a redacted customer
// (they could never be sent, and the event's stored outbox would name the
// customer again); a team message keeps its work but not the customer's id.
func (t *tx) forRedacted(msgs []aftercare.Message) []aftercare.Message {
	out := msgs[:0]
	for _, m := range msgs {
		if m.CustomerID != t.unredacted(m.Shop, m.CustomerID) {
			if m.Kind.Audience() != aftercare.AudienceTeam {
				continue
			}
			m.CustomerID = ""
		}
		out = append(out, m)
	}
	return out
}

// touchedGone reports whether the event changed a redacted order: it is
// about an order customers/redact took, so none of it is kept (no entity,
// count or message), and it is a no-op however often it comes. A redacted
// parcel is only never written: its stand-in is linked to no order, so a
// late scan of it changes nothing else, while another order that names the
// same tracking number (a shared or placeholder one) still applies.
func (t *tx) touchedGone() (Key, bool) {
	for k := range t.gone {
		if k.Kind == ItemOrder && t.dirty[k] {
			return k, true
		}
	}
	return Key{}, false
}
