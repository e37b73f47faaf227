package state

import (
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// holdKey names the marketing hold an open exception puts on its customer.
func holdKey(orderID, exceptionKey string) string { return "exception:" + orderID + ":" + exceptionKey }

// openException opens a playbook on an order (unless that slot is already
// open), holds the customer's marketing and records the change. s is the
// parcel it is about, or nil for the order itself.
func openException(t *tx, o *aftercare.Order, c *aftercare.Customer, e *aftercare.Exception, s *aftercare.Shipment) *aftercare.Exception {
	key := aftercare.ExceptionKey(e.Kind, e.Subject)
	if cur := o.Exceptions[key]; cur.Open() {
		return cur
	}
	if o.Exceptions == nil {
		o.Exceptions = map[string]*aftercare.Exception{}
	}
	if e.OpenedAt.IsZero() {
		e.OpenedAt = t.now
	}
	e.Episode = aftercare.TimeKey(e.OpenedAt)
	o.Exceptions[key] = e
	t.touchOrder(o)
	if c != nil && !c.Suppressed() {
		c.PutHold(holdKey(o.ID, key), aftercare.Hold{Reason: aftercare.HoldException, OrderID: o.ID, Since: t.now})
		t.touchCustomer(c)
	}
	ch := Change{Type: ExceptionOpened, Shop: o.Shop, OrderID: o.ID, CustomerID: o.CustomerID, Exception: copyException(e), At: e.OpenedAt, What: e.What}
	if s != nil {
		ch.Shipment, ch.Tracking, ch.Carrier = s.Key, s.TrackingNumber, s.Carrier
		ch.TrackingURL, ch.ETA = s.TrackingURL, s.EstimatedDelivery
		if ch.CustomerID == "" {
			ch.CustomerID = s.CustomerID
		}
	}
	t.change(ch)
	return e
}

// closeException closes an open playbook and lifts its hold. resolved says the
// problem went away (the customer is told); otherwise it was superseded or
// made moot (a cancelled order) and closes quietly.
func closeException(t *tx, o *aftercare.Order, c *aftercare.Customer, key string, at time.Time, why string, resolved bool) {
	e := o.Exceptions[key]
	if !e.Open() {
		return
	}
	if at.IsZero() || at.Before(e.OpenedAt) {
		at = t.now
	}
	e.ClosedAt, e.ClosedWhy = at, why
	t.touchOrder(o)
	if c != nil && c.LiftHold(holdKey(o.ID, key)) {
		t.touchCustomer(c)
	}
	t.change(Change{Type: ExceptionClosed, Shop: o.Shop, OrderID: o.ID, CustomerID: o.CustomerID, Shipment: e.Subject,
		Exception: copyException(e), Resolved: resolved, At: at, What: why})
}

// closeOrderExceptions closes every open playbook of an order that matches keep.
func closeOrderExceptions(t *tx, o *aftercare.Order, c *aftercare.Customer, why string, resolved bool, match func(*aftercare.Exception) bool) {
	for _, e := range o.OpenExceptions() {
		if match(e) {
			closeException(t, o, c, aftercare.ExceptionKey(e.Kind, e.Subject), t.now, why, resolved)
		}
	}
}

func copyException(e *aftercare.Exception) *aftercare.Exception {
	c := *e
	return &c
}
