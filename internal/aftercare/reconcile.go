package aftercare

import "time"

// ReconcileOverlap is how far before its cursor a reconcile run asks
// again: Shopify's search index can show a change seconds after a newer
// one, which the cursor has already passed.
const ReconcileOverlap = 2 * time.Minute

// ReconcileCursor is up to where the reconcile check has queued a shop's
// order changes: the newest updatedAt seen, the orders seen updated at
// exactly that time, and the changes queued in the overlap before it. The
// next run asks from Since on and leaves out what the cursor names, so it
// queues nothing twice yet misses no order updated in the same second, nor
// one the index showed late. The zero value: never reconciled.
type ReconcileCursor struct {
	At     time.Time `json:"at"`
	Orders []string  `json:"orders,omitempty"`
	Recent []Queued  `json:"recent,omitempty"`
}

// Queued is one order change a reconcile run queued.
type Queued struct {
	ID string    `json:"id"`
	At time.Time `json:"at"`
}

// Since is where the next run asks from (zero: never reconciled).
func (c ReconcileCursor) Since() time.Time {
	if c.At.IsZero() {
		return c.At
	}
	return c.At.Add(-ReconcileOverlap)
}

// Seen reports whether an order change was queued up to the cursor.
func (c ReconcileCursor) Seen(orderID string, updated time.Time) bool {
	if updated.Before(c.Since()) {
		return true
	}
	if updated.Equal(c.At) {
		for _, id := range c.Orders {
			if id == orderID {
				return true
			}
		}
	}
	for _, q := range c.Recent {
		if q.ID == orderID && q.At.Equal(updated) {
			return true
		}
	}
	return false
}

// Advance moves the cursor over a queued order change.
func (c *ReconcileCursor) Advance(orderID string, updated time.Time) {
	switch {
	case c.Seen(orderID, updated):
		return
	case updated.After(c.At):
		for _, id := range c.Orders {
			c.Recent = append(c.Recent, Queued{ID: id, At: c.At})
		}
		c.At, c.Orders = updated.UTC(), []string{orderID}
	case updated.Equal(c.At):
		c.Orders = append(c.Orders, orderID)
	default:
		c.Recent = append(c.Recent, Queued{ID: orderID, At: updated.UTC()})
	}
	kept := c.Recent[:0]
	for _, q := range c.Recent {
		if !q.At.Before(c.Since()) {
			kept = append(kept, q)
		}
	}
	c.Recent = kept
}

// OrdersPage is one page of a shop's orders changed since a reconcile
// cursor, as normalized events, and the cursor to store once they are
// queued.
type OrdersPage struct {
	Events  []Event
	Cursor  time.Time // the newest updatedAt so far: the next run starts here
	Skipped []string  // orders that could not be normalized (bad data), by id
}
