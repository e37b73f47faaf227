package aftercare

import "time"

// OrdersPage is one page of a shop's orders changed since a reconcile
// cursor, as normalized events, and the cursor to store once they are
// queued.
type OrdersPage struct {
	Events  []Event
	Cursor  time.Time // the newest updatedAt so far: the next run starts here
	Skipped []string  // orders that could not be normalized (bad data), by id
}
