package aftercare

import "time"

// ReconcileCursor is up to where the reconcile check has queued a shop's
// order changes: the newest updatedAt seen, and the orders seen updated at
// exactly that time (the next run asks from At on, ">=", and leaves those
// out, so it queues nothing twice yet misses no order updated in the same
// second). The zero value: never reconciled.
type ReconcileCursor struct {
	At     time.Time `json:"at"`
	Orders []string  `json:"orders,omitempty"`
}

// Seen reports whether an order change was queued up to the cursor.
func (c ReconcileCursor) Seen(orderID string, updated time.Time) bool {
	if updated.Before(c.At) {
		return true
	}
	if !updated.Equal(c.At) {
		return false
	}
	for _, id := range c.Orders {
		if id == orderID {
			return true
		}
	}
	return false
}

// Advance moves the cursor over a queued order change.
func (c *ReconcileCursor) Advance(orderID string, updated time.Time) {
	switch {
	case updated.After(c.At):
		c.At, c.Orders = updated.UTC(), []string{orderID}
	case updated.Equal(c.At) && !c.Seen(orderID, updated):
		c.Orders = append(c.Orders, orderID)
	}
}

// OrdersPage is one page of a shop's orders changed since a reconcile
// cursor, as normalized events, and the cursor to store once they are
// queued.
type OrdersPage struct {
	Events  []Event
	Cursor  time.Time // the newest updatedAt so far: the next run starts here
	Skipped []string  // orders that could not be normalized (bad data), by id
}
