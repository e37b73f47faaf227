package state

import (
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// Merchant tags that open a playbook on the order.
var tagPlaybooks = map[string]aftercare.ExceptionKind{
	"aftercare:damaged":   aftercare.ExceptionDamaged,
	"aftercare:lost":      aftercare.ExceptionLost,
	"aftercare:backorder": aftercare.ExceptionBackorder,
}

// paidStatuses are the financial statuses of an order that is paid for.
var paidStatuses = map[string]bool{
	"paid": true, "partially_paid": true, "authorized": true, "partially_refunded": true, "refunded": true,
}

// applyOrder applies an order snapshot. Only a snapshot newer than what we
// have changes the order's fields; any snapshot may still link parcels and
// add the order to its customer's history, which are idempotent.
func applyOrder(t *tx, shop string, snap *aftercare.OrderSnapshot, at time.Time) {
	o := t.order(shop, snap.ID)
	var c *aftercare.Customer
	if snap.Customer != nil && snap.Customer.ID != "" {
		c = t.customer(shop, snap.Customer.ID)
	}
	ships := make([]*aftercare.Shipment, 0, len(snap.Fulfillments))
	for _, f := range snap.Fulfillments {
		for _, n := range f.TrackingNumbers {
			if key := aftercare.TrackingKey(n); key != "" {
				ships = append(ships, t.shipment(key))
			}
		}
	}
	stock := t.outOfStock(shop)
	st, _ := t.settingsFor(shop)
	if t.missing() {
		return
	}
	if o.CustomerID != "" && (c == nil || c.ID != o.CustomerID) {
		t.note("order %s moves from customer %s", o.ID, o.CustomerID)
	}

	first, hadCustomer := !o.Seen, o.CustomerID != ""
	if first && c != nil && c.Redacted && !snap.CreatedAt.After(c.RedactedAt) {
		// customers/redact deleted this order with its customer: a late
		// event about it stores nothing again, and the report, which
		// counted the order when it was placed, does not count it twice.
		t.note("order %s of a redacted customer is not stored again", o.ID)
		return
	}
	if first || snap.UpdatedAt.After(o.UpdatedAt) {
		wasCancelled := o.Cancelled()
		copySnapshot(o, snap)
		t.touchOrder(o)
		if first {
			t.change(Change{Type: OrderPlaced, Shop: shop, OrderID: o.ID, CustomerID: o.CustomerID, At: o.CreatedAt})
			detectBackorder(t, o, c, snap, stock)
		}
		if !wasCancelled && o.Cancelled() {
			cancelOrder(t, o, c, st)
		}
		applyTags(t, o, c)
		if o.FulfillmentStatus == "fulfilled" {
			closeOrderExceptions(t, o, c, "order fulfilled", true, func(e *aftercare.Exception) bool {
				return e.Subject == "" && (e.Kind == aftercare.ExceptionBackorder && e.Source != aftercare.ExceptionFromMerchant || e.Kind == aftercare.ExceptionDelay)
			})
			clearBackorders(t, o, c)
		}
	} else {
		t.note("snapshot of order %s (updated %s) is not newer than the stored one", o.ID, snap.UpdatedAt.Format(time.RFC3339))
	}
	if c != nil {
		applyCustomerInfo(t, c, snap.Customer)
		addToHistory(t, c, o)
	}
	i := 0
	for _, f := range snap.Fulfillments {
		f := f
		if f.OrderID == "" {
			f.OrderID = o.ID
		}
		var fs []*aftercare.Shipment
		for _, n := range f.TrackingNumbers {
			if aftercare.TrackingKey(n) != "" {
				fs = append(fs, ships[i])
				i++
			}
		}
		fulfill(t, o, &f, fs, at)
	}
	if !hadCustomer && o.CustomerID != "" {
		settleParcels(t, o)
	}
	if o.Shipped() {
		closeOrderExceptions(t, o, c, "shipped", true, func(e *aftercare.Exception) bool {
			return e.Subject == "" && e.Kind == aftercare.ExceptionDelay && e.Source == aftercare.ExceptionFromCheck
		})
	}
	settleDelivery(t, o, c, st)
}

func copySnapshot(o *aftercare.Order, snap *aftercare.OrderSnapshot) {
	o.Seen = true
	o.Name = snap.Name
	if snap.Customer != nil && snap.Customer.ID != "" {
		o.CustomerID = snap.Customer.ID
	}
	o.CreatedAt, o.UpdatedAt, o.CancelledAt = snap.CreatedAt.UTC(), snap.UpdatedAt.UTC(), snap.CancelledAt.UTC()
	o.FinancialStatus, o.FulfillmentStatus = snap.FinancialStatus, snap.FulfillmentStatus
	o.TotalCents, o.Currency, o.Test = snap.TotalCents, snap.Currency, snap.Test
	o.Tags = snap.Tags
	o.LineItems = snap.LineItems
	if o.PaidAt.IsZero() && paidStatuses[snap.FinancialStatus] {
		o.PaidAt = snap.ProcessedAt.UTC()
		if o.PaidAt.IsZero() {
			o.PaidAt = o.CreatedAt
		}
	}
}

// cancelOrder stops everything lifecycle about a cancelled order and holds the
// customer's marketing for the configured days.
func cancelOrder(t *tx, o *aftercare.Order, c *aftercare.Customer, st aftercare.Settings) {
	t.change(Change{Type: OrderCancelled, Shop: o.Shop, OrderID: o.ID, CustomerID: o.CustomerID, At: o.CancelledAt})
	closeOrderExceptions(t, o, c, "order cancelled", false, func(*aftercare.Exception) bool { return true })
	clearBackorders(t, o, c)
	if c == nil || c.Suppressed() {
		return
	}
	c.PutHold("cancelled:"+o.ID, aftercare.Hold{
		Reason: aftercare.HoldCancelled, OrderID: o.ID, Since: o.CancelledAt,
		Until: o.CancelledAt.Add(aftercare.Days(st.Holds.CancelledDays)),
	})
	kept := c.FollowUps[:0]
	for _, f := range c.FollowUps {
		if f.OrderID != o.ID {
			kept = append(kept, f)
		}
	}
	c.FollowUps = kept
	for product, p := range c.Purchases {
		if p.OrderID == o.ID {
			delete(c.Purchases, product)
		}
	}
	t.touchCustomer(c)
}

// applyTags opens and closes the playbooks merchants raise by tagging the order.
func applyTags(t *tx, o *aftercare.Order, c *aftercare.Customer) {
	if o.Cancelled() {
		return
	}
	has := map[aftercare.ExceptionKind]bool{}
	for _, tag := range o.Tags {
		if kind, ok := tagPlaybooks[strings.ToLower(strings.TrimSpace(tag))]; ok {
			has[kind] = true
		}
	}
	for _, kind := range []aftercare.ExceptionKind{aftercare.ExceptionDamaged, aftercare.ExceptionLost, aftercare.ExceptionBackorder} {
		key := aftercare.ExceptionKey(kind, "")
		open := o.Exceptions[key]
		switch {
		case has[kind] && !open.Open():
			openException(t, o, c, &aftercare.Exception{Kind: kind, Source: aftercare.ExceptionFromMerchant,
				What: "tagged aftercare:" + string(kind) + " by the shop", OpenedAt: o.UpdatedAt}, nil)
		case !has[kind] && open.Open() && open.Source == aftercare.ExceptionFromMerchant:
			closeException(t, o, c, key, o.UpdatedAt, "tag removed by the shop", true)
		}
	}
}

// detectBackorder opens the backorder playbook for a new order with a variant
// that is out of stock, and puts the order on that variant's waiting list.
func detectBackorder(t *tx, o *aftercare.Order, c *aftercare.Customer, snap *aftercare.OrderSnapshot, stock map[string]bool) {
	if o.Cancelled() || o.FulfillmentStatus == "fulfilled" || len(stock) == 0 {
		return
	}
	seen := map[string]bool{}
	for _, li := range snap.LineItems {
		if li.VariantID == "" || !stock[li.VariantID] || seen[li.VariantID] {
			continue
		}
		seen[li.VariantID] = true
		o.Backordered = append(o.Backordered, li.VariantID)
		t.putWait(&Wait{Shop: o.Shop, VariantID: li.VariantID, ProductID: li.ProductID, OrderID: o.ID, CustomerID: o.CustomerID, Since: o.CreatedAt})
		if c != nil && !c.Suppressed() {
			if c.Backorders == nil {
				c.Backorders = map[string]aftercare.Backorder{}
			}
			c.Backorders[o.ID+":"+li.VariantID] = aftercare.Backorder{OrderID: o.ID, VariantID: li.VariantID, ProductID: li.ProductID, Since: o.CreatedAt}
			t.touchCustomer(c)
		}
	}
	if len(o.Backordered) > 0 {
		openException(t, o, c, &aftercare.Exception{Kind: aftercare.ExceptionBackorder, Source: aftercare.ExceptionFromInventory,
			What: "ordered item out of stock", Detail: strings.Join(o.Backordered, ","), OpenedAt: o.CreatedAt}, nil)
	}
}

// clearBackorders drops an order from every waiting list it is on.
func clearBackorders(t *tx, o *aftercare.Order, c *aftercare.Customer) {
	for _, v := range o.Backordered {
		t.remove(Key{ItemWait, o.Shop, v + "#" + o.ID})
		if c != nil {
			if _, ok := c.Backorders[o.ID+":"+v]; ok {
				delete(c.Backorders, o.ID+":"+v)
				t.touchCustomer(c)
			}
		}
	}
	o.Backordered = nil
}

// addToHistory records the order in its customer's history and purchases.
func addToHistory(t *tx, c *aftercare.Customer, o *aftercare.Order) {
	// A test order (the merchant trying the checkout) is no purchase: it
	// counts nowhere in the report and starts no lifecycle.
	if c.Suppressed() || !o.Seen || o.Test {
		return
	}
	ref := aftercare.OrderRef{ID: o.ID, At: o.CreatedAt, Cents: o.TotalCents, Cancelled: o.Cancelled()}
	for _, cents := range o.Refunds {
		ref.Refunded += cents
	}
	if old, ok := c.OrderRef(o.ID); ok && *old == ref {
		return
	}
	c.AddOrder(ref)
	if old, _ := c.OrderRef(o.ID); old != nil {
		old.Refunded = ref.Refunded
	}
	if !o.Cancelled() {
		for _, li := range o.LineItems {
			if li.ProductID == "" {
				continue
			}
			if p, ok := c.Purchases[li.ProductID]; ok && !o.CreatedAt.After(p.At) {
				continue
			}
			if c.Purchases == nil {
				c.Purchases = map[string]aftercare.Purchase{}
			}
			c.Purchases[li.ProductID] = aftercare.Purchase{VariantID: li.VariantID, OrderID: o.ID, At: o.CreatedAt}
		}
	}
	t.touchCustomer(c)
}
