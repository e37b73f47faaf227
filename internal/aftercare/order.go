package aftercare

import (
	"sort"
	"time"
)

// Order is what we know of one order: the newest storefront snapshot plus what
// carriers, refunds and checks added. Orders hold no personal data; contact
// details live on the Customer only, so one redaction removes them.
type Order struct {
	Shop              string                `json:"shop"`
	ID                string                `json:"id"`
	Name              string                `json:"name,omitempty"`
	CustomerID        string                `json:"customer_id,omitempty"`
	Seen              bool                  `json:"seen,omitempty"` // a snapshot was applied (else a stub made by a fulfillment)
	CreatedAt         time.Time             `json:"created_at,omitzero"`
	UpdatedAt         time.Time             `json:"updated_at,omitzero"`
	CancelledAt       time.Time             `json:"cancelled_at,omitzero"`
	PaidAt            time.Time             `json:"paid_at,omitzero"`
	FinancialStatus   string                `json:"financial_status,omitempty"`
	FulfillmentStatus string                `json:"fulfillment_status,omitempty"`
	TotalCents        int64                 `json:"total_cents,omitempty"`
	Currency          string                `json:"currency,omitempty"`
	Tags              []string              `json:"tags,omitempty"`
	Test              bool                  `json:"test,omitempty"`
	LineItems         []LineItem            `json:"line_items,omitempty"`
	Fulfillments      map[string][]string   `json:"fulfillments,omitempty"` // fulfillment id -> tracking keys
	Shipments         map[string]Parcel     `json:"shipments,omitempty"`    // tracking key -> what the order knows of it
	Exceptions        map[string]*Exception `json:"exceptions,omitempty"`
	Refunds           map[string]int64      `json:"refunds,omitempty"`
	PendingScans      map[string][]Scan     `json:"pending_scans,omitempty"` // fulfillment events seen before their fulfillment
	Backordered       []string              `json:"backordered,omitempty"`   // variant ids waiting for stock
	DeliveredAt       time.Time             `json:"delivered_at,omitzero"`
	PromiseAt         time.Time             `json:"promise_at,omitzero"` // unshipped after this opens a delay playbook
	ExamineAt         time.Time             `json:"examine_at,omitzero"`
	// Redacted: customers/redact took the order; only this tombstone of
	// its id is left, so that a late webhook about it stores nothing again.
	Redacted   bool      `json:"redacted,omitempty"`
	RedactedAt time.Time `json:"redacted_at,omitzero"`
	// Applied holds the dedupe records of the Shopify fulfillment events
	// (which name the order, not the parcel) that queued messages and
	// wrote the order anyway (see Shipment.Applied).
	Applied AppliedLog `json:"applied,omitempty"`
	Version int64      `json:"version"`
}

// Parcel is an order's view of one of its parcels: linked, and how it ended.
type Parcel struct {
	Status      ShipmentStatus `json:"status"`
	DeliveredAt time.Time      `json:"delivered_at,omitzero"`
}

// Exception is one opening of a playbook on an order or one of its parcels.
type Exception struct {
	Kind      ExceptionKind `json:"kind"`
	Subject   string        `json:"subject,omitempty"` // tracking key, "" for the order itself
	Source    string        `json:"source"`            // carrier, merchant, check, inventory
	What      string        `json:"what,omitempty"`
	Detail    string        `json:"detail,omitempty"`
	Episode   string        `json:"episode"`
	OpenedAt  time.Time     `json:"opened_at"`
	ClosedAt  time.Time     `json:"closed_at,omitzero"`
	ClosedWhy string        `json:"closed_why,omitempty"`
}

// Open reports whether the exception is still open.
func (e *Exception) Open() bool { return e != nil && e.ClosedAt.IsZero() }

// ExceptionKey names an exception slot: one per playbook and subject.
func ExceptionKey(kind ExceptionKind, subject string) string {
	if subject == "" {
		subject = "order"
	}
	return string(kind) + ":" + subject
}

// Sources of exceptions.
const (
	ExceptionFromCarrier   = "carrier"
	ExceptionFromMerchant  = "merchant"
	ExceptionFromCheck     = "check"
	ExceptionFromInventory = "inventory"
)

// Cancelled reports whether the order was cancelled.
func (o *Order) Cancelled() bool { return !o.CancelledAt.IsZero() }

// OpenExceptions returns the open exceptions, oldest first.
func (o *Order) OpenExceptions() []*Exception {
	var out []*Exception
	for _, e := range o.Exceptions {
		if e.Open() {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].OpenedAt.Equal(out[j].OpenedAt) {
			return out[i].OpenedAt.Before(out[j].OpenedAt)
		}
		return out[i].Episode < out[j].Episode
	})
	return out
}

// Shipped reports whether any parcel of the order has left or the storefront
// marked it fulfilled.
func (o *Order) Shipped() bool {
	if o.FulfillmentStatus == "fulfilled" || o.FulfillmentStatus == "partial" || len(o.Fulfillments) > 0 {
		return true
	}
	for _, p := range o.Shipments {
		if p.Status != "" && p.Status != StatusCancelled {
			return true
		}
	}
	return false
}

// AllDelivered reports whether the storefront calls the order fulfilled and
// every parcel we know of is delivered. Waiting for "fulfilled" keeps a split
// order from counting as delivered before its last parcel is even known.
func (o *Order) AllDelivered() bool {
	if !o.Seen || o.FulfillmentStatus != "fulfilled" || len(o.Shipments) == 0 {
		return false
	}

	for _, p := range o.Shipments {
		if p.Status != StatusDelivered && p.Status != StatusCancelled {
			return false
		}
	}
	return true
}

// LastDeliveredAt is when the last of the order's parcels was delivered.
func (o *Order) LastDeliveredAt() time.Time {
	var last time.Time
	for _, p := range o.Shipments {
		if p.DeliveredAt.After(last) {
			last = p.DeliveredAt
		}
	}
	return last
}

// Refresh recomputes when the stalled-order check must look at this order: at
// its promise while it is paid, open and unshipped.
func (o *Order) Refresh(s Settings) {
	o.ExamineAt = time.Time{}
	if o.PaidAt.IsZero() {
		return
	}
	if o.PromiseAt.IsZero() {
		o.PromiseAt = s.AddBusinessDays(o.PaidAt, s.Stall.UnshippedBusinessDays)
	}
	if o.Cancelled() || o.Shipped() || o.Test {
		return
	}

	if e := o.Exceptions[ExceptionKey(ExceptionDelay, "")]; e.Open() {
		return // already raised; shipping closes it
	}
	o.ExamineAt = o.PromiseAt
}
