package state

import (
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// applyInventory applies one location's available quantity.
func applyInventory(t *tx, shop string, l *aftercare.InventoryLevel) {
	inv := t.inventoryItem(shop, l.InventoryItemID)
	if inv == nil {
		return
	}
	before := outOfStock(inv)
	cur, ok := inv.Levels[l.LocationID]
	if ok && !l.UpdatedAt.After(cur.At) {
		t.note("inventory level of %s at %s is not newer", l.InventoryItemID, l.LocationID)
		return
	}
	if inv.Levels == nil {
		inv.Levels = map[string]Level{}
	}
	inv.Levels[l.LocationID] = Level{Available: l.Available, At: l.UpdatedAt.UTC()}
	t.touch(ItemInventory, shop, inv.ID)
	stockFlip(t, inv, before, l.UpdatedAt)
}

// applyProduct learns which inventory item stocks each variant (inventory
// levels name only the item) and the variants' quantities.
func applyProduct(t *tx, shop string, p *aftercare.Product) {
	items := make([]*Inventory, len(p.Variants))
	for i, v := range p.Variants {
		if v.InventoryItemID != "" {
			items[i] = t.inventoryItem(shop, v.InventoryItemID)
		}
	}
	if t.missing() {
		return
	}
	for i, v := range p.Variants {
		inv := items[i]
		if inv == nil {
			continue
		}
		before := outOfStock(inv)
		if !p.UpdatedAt.Before(inv.ProductAt) {
			inv.VariantID, inv.ProductID, inv.Tracked = v.ID, p.ID, v.Tracked
			inv.ProductAt = p.UpdatedAt.UTC()
		}
		if v.InventoryQuantity != nil && p.UpdatedAt.After(inv.ProductQtyAt) {
			q := *v.InventoryQuantity
			inv.ProductQty, inv.ProductQtyAt = &q, p.UpdatedAt.UTC()
		}
		t.touch(ItemInventory, shop, inv.ID)
		stockFlip(t, inv, before, p.UpdatedAt)
	}
}

// outOfStock reports whether a known variant cannot be sold now.
func outOfStock(inv *Inventory) bool {
	return inv.VariantID != "" && inv.Tracked && !inv.InStock()
}

// stockFlip keeps the shop's out-of-stock set in step and, when a variant
// comes back, queues the fan-out to the orders waiting for it.
func stockFlip(t *tx, inv *Inventory, before bool, at time.Time) {
	after := outOfStock(inv)
	switch {
	case !before && after:
		without(t.stockIn, inv.Shop, inv.VariantID) // the last flip wins
		t.stockOut[inv.Shop] = append(t.stockOut[inv.Shop], inv.VariantID)
	case before && !after:
		without(t.stockOut, inv.Shop, inv.VariantID)
		t.stockIn[inv.Shop] = append(t.stockIn[inv.Shop], inv.VariantID)
		t.change(Change{Type: StockReturned, Shop: inv.Shop, VariantID: inv.VariantID, At: at})
		t.internal = append(t.internal, aftercare.Event{
			ID:   "aftercare:stock-returned:" + inv.Shop + ":" + inv.VariantID + ":" + aftercare.TimeKey(at),
			Kind: aftercare.EventStockReturned, Source: aftercare.SourceAftercare, Topic: "stock_returned",
			Shop: inv.Shop, At: at.UTC(), Received: t.now,
			Restock: &aftercare.Restock{VariantID: inv.VariantID, ProductID: inv.ProductID},
		})
	}
}

// applyRestocked settles one waiting order whose variant is back: its
// backorder playbook closes once nothing else is missing, and the customer
// becomes due a back-in-stock note.
func applyRestocked(t *tx, shop string, r *aftercare.Restock) {
	o := t.order(shop, r.OrderID)
	var c *aftercare.Customer
	if r.CustomerID != "" {
		c = t.customer(shop, r.CustomerID)
	}
	t.settingsFor(shop)
	if o == nil || t.missing() {
		return
	}
	t.remove(Key{ItemWait, shop, r.VariantID + "#" + r.OrderID})
	rest := o.Backordered[:0]
	found := false
	for _, v := range o.Backordered {
		if v == r.VariantID {
			found = true
			continue
		}
		rest = append(rest, v)
	}
	if !found {
		t.note("order %s no longer waits for %s", o.ID, r.VariantID)
		return
	}
	o.Backordered = rest
	t.touchOrder(o)
	if len(rest) == 0 {
		closeOrderExceptions(t, o, c, "back in stock", true, func(e *aftercare.Exception) bool {
			return e.Kind == aftercare.ExceptionBackorder && e.Source == aftercare.ExceptionFromInventory
		})
	}
	if c != nil && !c.Suppressed() {
		key := o.ID + ":" + r.VariantID
		if b, ok := c.Backorders[key]; ok && b.ReturnedAt.IsZero() {
			b.ReturnedAt = t.ev.At.UTC()
			c.Backorders[key] = b
			t.touchCustomer(c)
		}
	}
}

// applyRefund records a refund on the order and the customer's lifetime value;
// a refund also settles a damaged, lost or returned parcel's playbook.
func applyRefund(t *tx, shop string, r *aftercare.Refund) {
	o := t.order(shop, r.OrderID)
	if o == nil {
		return
	}
	var c *aftercare.Customer
	if o.CustomerID != "" {
		c = t.customer(shop, o.CustomerID)
	}
	t.settingsFor(shop)
	if t.missing() {
		return
	}
	if _, ok := o.Refunds[r.ID]; ok {
		t.note("refund %s already recorded", r.ID)
		return
	}
	if o.Refunds == nil {
		o.Refunds = map[string]int64{}
	}
	o.Refunds[r.ID] = r.AmountCents
	t.touchOrder(o)
	if c != nil && !c.Suppressed() {
		if ref, ok := c.OrderRef(o.ID); ok {
			ref.Refunded += r.AmountCents
			t.touchCustomer(c)
		}
	}
	closeOrderExceptions(t, o, c, "refunded", true, func(e *aftercare.Exception) bool {
		return e.Kind == aftercare.ExceptionDamaged || e.Kind == aftercare.ExceptionLost || e.Kind == aftercare.ExceptionReturned
	})
}

// applyOverdue opens a delay playbook for a parcel without scans or an order
// not shipped in time, unless things moved since the check looked.
func applyOverdue(t *tx, shop string, d *aftercare.Overdue, at time.Time) {
	if d.Shipment != "" {
		s := t.shipment(d.Shipment)
		if s == nil {
			return
		}
		if !s.Linked() || s.Exception != "" || !s.LastScanAt.Equal(d.Since) ||
			(s.Status != aftercare.StatusInTransit && s.Status != aftercare.StatusOutForDelivery) {
			t.note("%s moved since the check looked", parcelRef(s))
			return
		}
		applyScanTo(t, s, aftercare.Scan{At: at.UTC(), Status: aftercare.StatusException, Exception: aftercare.ExceptionDelay,
			Detail: "no_scan", What: d.What, Source: aftercare.SourceAftercare})
		return
	}
	o := t.order(shop, d.OrderID)
	if o == nil {
		return
	}
	var c *aftercare.Customer
	if o.CustomerID != "" {
		c = t.customer(shop, o.CustomerID)
	}
	t.settingsFor(shop)
	if t.missing() {
		return
	}
	if o.Shipped() || o.Cancelled() || !o.PaidAt.Equal(d.Since) {
		t.note("order %s shipped or changed since the check looked", o.ID)
		return
	}
	openException(t, o, c, &aftercare.Exception{Kind: aftercare.ExceptionDelay, Source: aftercare.ExceptionFromCheck,
		What: d.What, Detail: "unshipped", OpenedAt: at.UTC()}, nil)
}

// without takes a variant off a shop's list of flips.
func without(m map[string][]string, shop, v string) {
	out := m[shop][:0]
	for _, x := range m[shop] {
		if x != v {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		delete(m, shop)
		return
	}
	m[shop] = out
}
