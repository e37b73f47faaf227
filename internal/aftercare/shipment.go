package aftercare

import (
	"slices"
	"time"
)

// Shipment is one parcel, keyed by its tracking number so that a carrier update
// can find it before (or without) the storefront telling us whose it is.
type Shipment struct {
	Key            string `json:"key"` // TrackingKey(TrackingNumber)
	TrackingNumber string `json:"tracking_number"`
	Carrier        string `json:"carrier,omitempty"`
	TrackingURL    string `json:"tracking_url,omitempty"` // newest link any source gave
	// LinkAt is when the storefront's fulfillment last gave the spelling,
	// carrier and link (its updated_at): an older one's copy changes none.
	LinkAt time.Time `json:"link_at,omitzero"`
	// OwnedSince is when the fulfillment that owns the parcel was created:
	// a tracking number two orders name (reused by the carrier, or one box
	// for two orders) belongs to the newest-created fulfillment, whatever
	// the arrival order. Reused says more than one order has named it; its
	// trip then starts TripLead before OwnedSince (TripStart).
	OwnedSince        time.Time      `json:"owned_since,omitzero"`
	Reused            bool           `json:"reused,omitempty"`
	Shop              string         `json:"shop,omitempty"` // empty until linked to an order
	OrderID           string         `json:"order_id,omitempty"`
	CustomerID        string         `json:"customer_id,omitempty"`
	FulfillmentID     string         `json:"fulfillment_id,omitempty"`
	Test              bool           `json:"test,omitempty"` // its order is a test order: counts nowhere in the report
	Status            ShipmentStatus `json:"status,omitempty"`
	Detail            string         `json:"detail,omitempty"`
	What              string         `json:"what,omitempty"`
	StatusAt          time.Time      `json:"status_at,omitzero"`
	StatusSource      string         `json:"status_source,omitempty"` // who reported the current status
	OrderStatus       ShipmentStatus `json:"order_status,omitempty"`  // the status last written to the order
	LastScanAt        time.Time      `json:"last_scan_at,omitzero"`   // newest report of any status
	EstimatedDelivery time.Time      `json:"estimated_delivery,omitzero"`
	ShippedAt         time.Time      `json:"shipped_at,omitzero"`
	DeliveredAt       time.Time      `json:"delivered_at,omitzero"`
	Problem           ExceptionKind  `json:"problem,omitempty"`   // playbook the current status calls for
	Exception         ExceptionKind  `json:"exception,omitempty"` // playbook open on this parcel
	Episode           string         `json:"episode,omitempty"`
	History           []Scan         `json:"history,omitempty"`
	ExamineAt         time.Time      `json:"examine_at,omitzero"`
	ExpiresAt         time.Time      `json:"expires_at,omitzero"`
	// Redacted: customers/redact took the parcel's order; the tombstone of
	// its tracking key stops a late scan from storing the parcel again,
	// until it expires with the orphans (OrphanTTL).
	Redacted   bool      `json:"redacted,omitempty"`
	RedactedAt time.Time `json:"redacted_at,omitzero"`
	// Applied holds the dedupe records of the carrier reports that queued
	// messages about this parcel: the parcel is written by those reports
	// anyway, so a record of its own would be a second item in their
	// transaction and an owner-index entry (3 write units each).
	Applied AppliedLog `json:"applied,omitempty"`
	Version int64      `json:"version"`
}

// Applied is an event applied to the item that keeps it, with the messages
// it queued: a copy of the event finds it there and queues them again.
type Applied struct {
	Event  string    `json:"event"`
	At     time.Time `json:"at"`
	Outbox []Message `json:"outbox,omitempty"`
}

// AppliedLog is the records an item keeps, newest last.
type AppliedLog []Applied

// AppliedTTL is how long an item keeps an event's record: as long as a
// dedupe record of its own would live (dynamo.DefaultDedupeTTL).
const AppliedTTL = 30 * 24 * time.Hour

// MaxApplied bounds the records an item keeps: a parcel's reports queue a
// handful of messages in its life, and a keeper that is full leaves the
// next event's record to an item of its own rather than forget one.
const MaxApplied = 8

// Prune drops the records older than AppliedTTL at at.
func (l *AppliedLog) Prune(at time.Time) {
	var kept AppliedLog
	for _, a := range *l {
		if a.At.Add(AppliedTTL).After(at) {
			kept = append(kept, a)
		}
	}
	*l = kept
}

// Room reports whether the log, pruned, can take one more record.
func (l AppliedLog) Room() bool { return len(l) < MaxApplied }

// Remember records that event ev, applied at at, queued outbox.
func (l *AppliedLog) Remember(ev string, at time.Time, outbox []Message) {
	*l = append(*l, Applied{Event: ev, At: at, Outbox: outbox})
}

// Scrub drops the shop's messages to any of customers from the records,
// which stay (each event is still recognised); it reports whether it
// dropped any.
func (l AppliedLog) Scrub(shop string, customers []string) bool {
	dropped := false
	for i := range l {
		var kept []Message
		for _, m := range l[i].Outbox {
			if m.Shop == shop && slices.Contains(customers, m.CustomerID) {
				dropped = true
				continue
			}
			kept = append(kept, m)
		}
		l[i].Outbox = kept
	}
	return dropped
}

// Recalled returns the record of event ev, if the item keeps one.
func (l AppliedLog) Recalled(ev string) (Applied, bool) {
	for _, a := range l {
		if a.Event == ev {
			return a, true
		}
	}
	return Applied{}, false
}

// Scan is one report about a parcel, kept whether or not it changed the status.
type Scan struct {
	At                time.Time      `json:"at"`
	Status            ShipmentStatus `json:"status"`
	Detail            string         `json:"detail,omitempty"`
	What              string         `json:"what,omitempty"`
	Source            string         `json:"source"`
	Applied           bool           `json:"applied"`
	Note              string         `json:"note,omitempty"` // why it was not applied
	Exception         ExceptionKind  `json:"exception,omitempty"`
	EstimatedDelivery time.Time      `json:"estimated_delivery,omitzero"`
	// Fulfillment is the storefront fulfillment a storefront report is
	// about: a parcel follows only its trip's fulfillment's (a newer one
	// supersedes another's, which may have been cancelled).
	Fulfillment string `json:"fulfillment,omitempty"`
}

// Created is the storefront's report of a fulfillment's creation (its label).
const Created = "fulfillment created"

// MaxHistory bounds the scans kept per parcel.
const MaxHistory = 60

// TripLead is how long before its fulfillment is created a parcel's first
// report can come (a label bought and scanned, the storefront told later).
// Of a tracking number another order named before, older reports are of an
// earlier trip: carriers reuse numbers after months, not days.
const TripLead = 14 * 24 * time.Hour

// OrphanTTL is how long a parcel nobody linked to an order is kept.
const OrphanTTL = 60 * 24 * time.Hour

// TripStart is when the parcel's current trip began, for a tracking number
// more than one order has named: TripLead before its owner's fulfillment
// was created. Zero (the whole history) for a number only one order named.
// One box for two orders is one trip, reports and all.
func (s *Shipment) TripStart() time.Time {
	if !s.Reused || s.OwnedSince.IsZero() {
		return time.Time{}
	}
	return s.OwnedSince.Add(-TripLead)
}

// Linked reports whether the parcel belongs to a known order.
func (s *Shipment) Linked() bool { return s.Shop != "" && s.OrderID != "" }

// Refresh recomputes when the stall check must look at this parcel: when it has
// been moving without a scan for the configured days.
func (s *Shipment) Refresh(st Settings) {
	s.ExamineAt = time.Time{}
	if !s.Linked() {
		s.ExpiresAt = s.LastScanAt.Add(OrphanTTL)
		return
	}
	s.ExpiresAt = time.Time{}
	if s.Exception != "" {
		return // a playbook is already open; the next scan resolves it
	}
	switch s.Status {
	case StatusInTransit, StatusOutForDelivery:
		s.ExamineAt = s.LastScanAt.Add(Days(st.Stall.NoScanDays))
	}
}
