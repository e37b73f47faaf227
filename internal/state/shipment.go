package state

import (
	"sort"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// rank orders statuses by progress; it breaks ties between reports with the
// same time so the outcome never depends on arrival order.
var rank = map[aftercare.ShipmentStatus]int{
	aftercare.StatusUnknown: 0, aftercare.StatusPreTransit: 1, aftercare.StatusInTransit: 2,
	aftercare.StatusException: 3, aftercare.StatusOutForDelivery: 4, aftercare.StatusAttemptedDelivery: 5,
	aftercare.StatusAvailableForPickup: 6, aftercare.StatusDelivered: 7, aftercare.StatusReturned: 8,
	aftercare.StatusCancelled: 9,
}

// problem reports whether a status keeps a playbook open.
func problem(s aftercare.ShipmentStatus) bool {
	switch s {
	case aftercare.StatusException, aftercare.StatusAttemptedDelivery, aftercare.StatusAvailableForPickup, aftercare.StatusReturned:
		return true
	}
	return false
}

// mergeScan records one report on a parcel and recomputes its status. It
// reports whether the report was new (not an exact repeat) and whether the
// current status changed.
func mergeScan(s *aftercare.Shipment, sc aftercare.Scan) (recorded, changed bool) {
	for _, h := range s.History {
		if h.At.Equal(sc.At) && h.Status == sc.Status && h.Source == sc.Source && h.Detail == sc.Detail && h.Fulfillment == sc.Fulfillment {
			return false, false
		}
	}
	if sc.Exception == "" && problem(sc.Status) {
		sc.Exception = aftercare.ExceptionFor(sc.Status)
	}
	before := s.Status
	beforeAt := s.StatusAt
	s.History = append(s.History, sc)
	fold(s)
	return true, s.Status != before || !s.StatusAt.Equal(beforeAt)
}

// fold derives the parcel's status from its whole history, replayed in time
// order: each report replaces the status it may follow (newer wins, terminal
// statuses are final, unknown never overwrites what we know). Because the
// history is a set sorted by time, every arrival order gives the same result;
// a late report is recorded, and applied only where it belongs in time.
func fold(s *aftercare.Shipment) {
	h := s.History
	sort.SliceStable(h, func(i, j int) bool {
		a, b := h[i], h[j]
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		if rank[a.Status] != rank[b.Status] {
			return rank[a.Status] < rank[b.Status]
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Detail != b.Detail {
			return a.Detail < b.Detail
		}
		return a.Fulfillment < b.Fulfillment
	})
	if n := len(h); n > aftercare.MaxHistory {
		h = append([]aftercare.Scan(nil), h[n-aftercare.MaxHistory:]...)
	}
	s.History = h
	s.Status, s.Detail, s.What, s.StatusSource, s.Problem = "", "", "", "", ""
	var statusAt, eta, last time.Time
	trip := s.TripStart()
	earlierOwner := ""
	for _, sc := range h {
		if trip.IsZero() || sc.At.After(trip) {
			break // sorted: the rest is the current trip
		}
		if sc.Detail == aftercare.Created && sc.Fulfillment != "" {
			earlierOwner = sc.Fulfillment // the earlier trip's newest-created fulfillment
		}
	}
	var before aftercare.ShipmentStatus // an earlier trip's: its reports keep what they were in it (the report counts them there)
	for i := range h {
		sc := &h[i]
		earlier := !trip.IsZero() && !sc.At.After(trip)
		owner := s.FulfillmentID
		if earlier {
			owner = earlierOwner
		}
		if sc.Fulfillment != "" && owner != "" && sc.Fulfillment != owner {
			// A fulfillment another one superseded (redone, or cancelled
			// and its label given to another order): not this trip's word.
			sc.Applied, sc.Note = false, "another fulfillment's report"
			continue
		}
		if earlier {
			sc.Applied, sc.Note = sc.Status.CanFollow(before), ""
			if sc.Applied {
				before = sc.Status
			} else {
				sc.Note = "cannot follow " + string(before)
			}
			continue
		}
		if sc.At.After(last) {
			last = sc.At
		}
		if !sc.Status.CanFollow(s.Status) {
			sc.Applied, sc.Note = false, "cannot follow "+string(s.Status)
			continue
		}
		sc.Applied, sc.Note = true, ""
		s.Status, s.Detail, s.What, s.StatusSource = sc.Status, sc.Detail, sc.What, sc.Source
		statusAt = sc.At
		s.Problem = ""
		if problem(sc.Status) {
			s.Problem = sc.Exception
		}
		if !sc.EstimatedDelivery.IsZero() {
			eta = sc.EstimatedDelivery
		}
	}
	s.StatusAt, s.EstimatedDelivery, s.LastScanAt = statusAt, eta, last
	if !trip.IsZero() {
		// Told of an earlier trip (its reports came before a fulfillment
		// showed the number reused): this trip is still to be told.
		if !s.ShippedAt.After(trip) {
			s.ShippedAt = time.Time{}
		}
		if !s.DeliveredAt.After(trip) {
			s.DeliveredAt = time.Time{}
		}
	}
}

// applyScanTo records a report on a parcel and settles what it changed.
func applyScanTo(t *tx, s *aftercare.Shipment, sc aftercare.Scan) {
	recorded, changed := mergeScan(s, sc)
	if !recorded {
		t.note("repeat report for %s", parcelRef(s))
		return
	}
	if !changed {
		t.note("report for %s recorded; status stays %s", parcelRef(s), s.Status)
	}
	t.touchShipment(s)
	if o, c := settleShipment(t, s); o != nil {
		if st, ok := t.settingsFor(o.Shop); ok {
			settleDelivery(t, o, c, st)
		}
	}
}

// parcelRef names a parcel in a note by its carrier and order: notes go
// into the processor's log line, which outlives customers/redact, and a
// tracking number leads to an address at the carrier's.
func parcelRef(s *aftercare.Shipment) string {
	p := "parcel"
	if s.Carrier != "" {
		p = s.Carrier + " parcel"
	}
	if s.OrderID == "" {
		return "a " + p + " not yet linked to an order"
	}
	return "the " + p + " of order " + s.OrderID
}

// settleParcels settles an order's parcels once its customer is known: a
// fulfillment or a scan that came before the order's snapshot left them
// waiting for someone to tell.
func settleParcels(t *tx, o *aftercare.Order) {
	var keys []string
	for _, ks := range o.Fulfillments {
		keys = append(keys, ks...)
	}
	sort.Strings(keys)
	ships := make([]*aftercare.Shipment, 0, len(keys))
	for _, k := range keys {
		ships = append(ships, t.shipment(k))
	}
	if t.missing() {
		return
	}
	for _, s := range ships {
		if s.Shop != o.Shop || s.OrderID != o.ID {
			continue // a reused tracking number: another order's parcel now
		}
		if s.Linked() && s.Test != o.Test {
			s.Test = o.Test
			t.touchShipment(s)
		}
		if s.CustomerID == "" && s.Linked() {
			s.CustomerID = o.CustomerID
			t.touchShipment(s)
			settleShipment(t, s)
		}
	}
}

// settleShipment derives what a linked parcel's current status means for its
// order and customer: first shipped, delivered, a playbook opened or closed.
// It only loads the order and customer when one of those happens, so the
// common scan (still in transit) costs one read and one write. It returns the
// order (and customer, if loaded) it updated; the caller settles the order's
// delivery once every parcel of the event is in.
func settleShipment(t *tx, s *aftercare.Shipment) (*aftercare.Order, *aftercare.Customer) {
	if !s.Linked() {
		return nil, nil
	}
	if _, ok := t.settingsFor(s.Shop); !ok {
		return nil, nil
	}
	if s.CustomerID == "" {
		// Whom to tell comes with the order's snapshot, which may arrive after
		// the fulfillment and the scans: until it does nothing is decided, so
		// no notice is spent on a parcel with no one to tell. The snapshot
		// settles its parcels again (settleParcels).
		o := t.order(s.Shop, s.OrderID)
		if o == nil || t.missing() || !o.Seen {
			return nil, nil
		}
		s.CustomerID = o.CustomerID
	}
	if s.ShippedAt.IsZero() {
		switch s.Status {
		case aftercare.StatusInTransit, aftercare.StatusOutForDelivery:
			s.ShippedAt = s.StatusAt
			t.change(Change{Type: ShipmentShipped, Shop: s.Shop, OrderID: s.OrderID, CustomerID: s.CustomerID,
				Shipment: s.Key, Tracking: s.TrackingNumber, Carrier: s.Carrier, At: s.StatusAt, What: s.What,
				TrackingURL: s.TrackingURL, ETA: s.EstimatedDelivery})
		case aftercare.StatusDelivered, aftercare.StatusReturned, aftercare.StatusAttemptedDelivery,
			aftercare.StatusAvailableForPickup, aftercare.StatusException:
			// The customer hears about this parcel another way; never "shipped" later.
			s.ShippedAt = s.StatusAt
		}
	}
	delivered := s.Status == aftercare.StatusDelivered && s.DeliveredAt.IsZero()
	playbook := s.Exception != s.Problem
	// The order keeps each parcel's link and final status, not every scan.
	behind := s.OrderStatus != s.Status && (s.OrderStatus == "" || s.Status.Terminal())
	_, orderInTx := t.orders[Key{ItemOrder, s.Shop, s.OrderID}]
	if !delivered && !playbook && !behind && !orderInTx {
		return nil, nil
	}
	// Ask for the order and (when it will be touched) the customer together,
	// so they come in one read.
	o := t.order(s.Shop, s.OrderID)
	var c *aftercare.Customer
	if (delivered || playbook) && s.CustomerID != "" {
		c = t.customer(s.Shop, s.CustomerID)
	}
	if t.missing() {
		return nil, nil
	}
	if delivered {
		s.DeliveredAt = s.StatusAt
		t.change(Change{Type: ShipmentDelivered, Shop: s.Shop, OrderID: s.OrderID, CustomerID: s.CustomerID,
			Shipment: s.Key, Tracking: s.TrackingNumber, Carrier: s.Carrier, At: s.StatusAt, TrackingURL: s.TrackingURL})
	}
	if playbook {
		if s.Exception != "" {
			resolved := s.Problem == "" // moved on or delivered; else superseded by another playbook
			closeException(t, o, c, aftercare.ExceptionKey(s.Exception, s.Key), s.StatusAt, closeWhy(s), resolved)
			s.Exception, s.Episode = "", ""
		}
		if s.Problem != "" {
			source := aftercare.ExceptionFromCarrier
			if s.StatusSource == aftercare.SourceAftercare {
				source = aftercare.ExceptionFromCheck
			}
			e := openException(t, o, c, &aftercare.Exception{
				Kind: s.Problem, Subject: s.Key, Source: source, What: s.What, Detail: s.Detail, OpenedAt: s.StatusAt,
			}, s)
			s.Exception, s.Episode = e.Kind, e.Episode
		}
	}
	if o.Shipments == nil {
		o.Shipments = map[string]aftercare.Parcel{}
	}
	p := aftercare.Parcel{Status: s.Status}
	if s.Status == aftercare.StatusDelivered {
		p.DeliveredAt = s.StatusAt
	}
	o.Shipments[s.Key] = p
	s.OrderStatus = s.Status
	t.touchOrder(o)
	return o, c
}

// customerOf returns the order's customer, loading it if the caller has not;
// ok is false while it is still to be loaded.
func customerOf(t *tx, o *aftercare.Order, c *aftercare.Customer) (*aftercare.Customer, bool) {
	if c != nil || o.CustomerID == "" {
		return c, true
	}
	c = t.customer(o.Shop, o.CustomerID)
	return c, c != nil
}

func closeWhy(s *aftercare.Shipment) string {
	switch {
	case s.Status == aftercare.StatusDelivered:
		return "delivered"
	case s.Problem != "":
		return "superseded by " + string(s.Problem)
	}
	return "moving again: " + string(s.Status)
}

// settleDelivery marks the order delivered once every parcel is, at the time
// the last one arrived, and schedules the delivery follow-ups on the customer.
func settleDelivery(t *tx, o *aftercare.Order, c *aftercare.Customer, st aftercare.Settings) {
	if !o.DeliveredAt.IsZero() || o.Cancelled() || !o.AllDelivered() {
		return
	}
	last := o.LastDeliveredAt()
	if last.IsZero() {
		return
	}
	c, ok := customerOf(t, o, c)
	if !ok {
		return
	}
	o.DeliveredAt = last
	t.touchOrder(o)
	t.change(Change{Type: OrderDelivered, Shop: o.Shop, OrderID: o.ID, CustomerID: o.CustomerID, At: last})
	if c == nil || c.Suppressed() {
		return
	}

	if c.FirstDeliveredAt.IsZero() || last.Before(c.FirstDeliveredAt) {
		c.FirstDeliveredAt = last
	}
	c.FollowUps = append(c.FollowUps,
		aftercare.FollowUp{Kind: aftercare.KindReviewRequest, OrderID: o.ID, DueAt: last.Add(aftercare.Days(st.FollowUps.ReviewRequestDays))},
		aftercare.FollowUp{Kind: aftercare.KindCareTips, OrderID: o.ID, DueAt: last.Add(aftercare.Days(st.FollowUps.CareTipsDays))},
	)
	t.touchCustomer(c)
}
