package state

import (
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// applyFulfillment links a fulfillment's parcels to their order. The order may
// not exist yet (fulfillments can arrive first): a stub holds the link until
// its snapshot comes.
func applyFulfillment(t *tx, shop string, f *aftercare.Fulfillment, at time.Time) {
	o := t.order(shop, f.OrderID)
	var ships []*aftercare.Shipment
	for _, n := range f.TrackingNumbers {
		if key := aftercare.TrackingKey(n); key != "" {
			ships = append(ships, t.shipment(key))
		}
	}
	t.settingsFor(shop)
	if o == nil || t.missing() {
		return
	}
	fulfill(t, o, f, ships, at)
	settleDelivery(t, o, nil, t.settings[shop])
}

// fulfill records a fulfillment on its order, links its parcels, and applies
// the storefront's own shipment status and any fulfillment events that
// arrived before it.
func fulfill(t *tx, o *aftercare.Order, f *aftercare.Fulfillment, ships []*aftercare.Shipment, at time.Time) {
	if o.Fulfillments == nil {
		o.Fulfillments = map[string][]string{}
	}
	keys := o.Fulfillments[f.ID]
	for _, s := range ships {
		if !containsString(keys, s.Key) {
			keys = append(keys, s.Key)
		}
	}
	if f.ID != "" {
		o.Fulfillments[f.ID] = keys
	}
	t.touchOrder(o)
	when := f.UpdatedAt
	if when.IsZero() {
		when = at
	}
	created := f.CreatedAt
	if created.IsZero() {
		created = when
	}
	pending := o.PendingScans[f.ID]
	if len(pending) > 0 && len(ships) > 0 {
		delete(o.PendingScans, f.ID)
	}
	for i, n := range f.TrackingNumbers {
		if i >= len(ships) {
			break
		}
		s := ships[i]
		otherOrder := s.Linked() && (s.Shop != o.Shop || s.OrderID != o.ID)
		if otherOrder {
			s.Reused = true
			t.touchShipment(s)
		}
		owns := claims(s, o, f.ID, created)
		if owns {
			if otherOrder && s.Exception != "" {
				// The order before keeps no playbook about a parcel it no
				// longer has: closed quietly, its customer's hold lifted.
				before := t.order(s.Shop, s.OrderID)
				var theirs *aftercare.Customer
				if s.CustomerID != "" {
					theirs = t.customer(s.Shop, s.CustomerID)
				}
				if t.missing() {
					return
				}
				if before != nil {
					closeException(t, before, theirs, aftercare.ExceptionKey(s.Exception, s.Key), created, "its tracking number went to another order", false)
				}
			}
			if s.Linked() && (otherOrder || s.FulfillmentID != f.ID) {
				handOver(s, otherOrder)
			}
			// The storefront's spelling wins over a provider's, whatever
			// came first; of the owner's copies, the newest one's does, so
			// a late copy of an older one reverts nothing.
			if !when.Before(s.LinkAt) {
				s.TrackingNumber = n
				if f.TrackingCompany != "" {
					s.Carrier = f.TrackingCompany
				}
				if i < len(f.TrackingURLs) && f.TrackingURLs[i] != "" {
					s.TrackingURL = f.TrackingURLs[i]
				}
				s.LinkAt = when.UTC()
			}
			s.Shop, s.OrderID, s.FulfillmentID, s.OwnedSince = o.Shop, o.ID, f.ID, created.UTC()
			if o.Seen {
				s.Test = o.Test // a stub does not know yet; its snapshot tells (settleParcels)
			}
			if o.CustomerID != "" {
				s.CustomerID = o.CustomerID
			}
		} else {
			// A newer fulfillment owns the tracking number: this one's
			// reports go into the history all the same, tagged with it, so
			// the history is the same in any arrival order; fold follows
			// each trip's own fulfillment. The parcel is settled as its
			// owner's.
			t.note("%s belongs to a newer fulfillment than %s", parcelRef(s), f.ID)
		}
		t.touchShipment(s)
		for _, sc := range pending {
			sc.Fulfillment = f.ID
			mergeScan(s, sc)
		}
		// A fulfillment with tracking means a label exists (recorded at its
		// creation, so every delivery of it records the same report).
		mergeScan(s, aftercare.Scan{At: created.UTC(), Status: aftercare.StatusPreTransit, Detail: aftercare.Created, Source: aftercare.SourceShopify, Fulfillment: f.ID})
		switch {
		case f.Status == "cancelled":
			mergeScan(s, aftercare.Scan{At: when, Status: aftercare.StatusCancelled, Detail: "fulfillment cancelled", Source: aftercare.SourceShopify, Fulfillment: f.ID})
		case f.Shipment != "":
			mergeScan(s, aftercare.Scan{At: when, Status: f.Shipment, Detail: f.ShipmentDetail, Exception: f.ShipmentException, Source: aftercare.SourceShopify, Fulfillment: f.ID})
		}
		owner, cust := settleShipment(t, s)
		if owner != nil && !owns {
			// The caller settles the fulfillment's own order; the owner's
			// is settled here, as a report of its own would.
			if st, ok := t.settingsFor(owner.Shop); ok {
				settleDelivery(t, owner, cust, st)
			}
		}
	}
}

// claims reports whether fulfillment fid of order o owns parcel s: the
// newest-created fulfillment that names the tracking number does, ties
// broken by shop, order and fulfillment id, so every arrival order agrees.
func claims(s *aftercare.Shipment, o *aftercare.Order, fid string, created time.Time) bool {
	if !s.Linked() || (s.Shop == o.Shop && s.OrderID == o.ID && s.FulfillmentID == fid) {
		return true
	}
	since := s.OwnedSince
	if since.IsZero() {
		// Linked before owners were kept (2026-12-07): its fulfillment's
		// updated_at, which is never before that fulfillment's creation.
		since = s.LinkAt
	}
	if !created.Equal(since) {
		return created.After(since)
	}
	return o.Shop+"\x00"+o.ID+"\x00"+fid > s.Shop+"\x00"+s.OrderID+"\x00"+s.FulfillmentID
}

// handOver gives a parcel to a newer fulfillment, whose spelling, carrier
// and link it takes (LinkAt was the fulfillment's before); fold follows the
// new fulfillment's storefront reports, not the older one's. To another
// order, whom it tells and what it told about are the new order's: fold
// applies only the new trip's reports (TripStart) and forgets the markers
// of what an earlier trip told.
func handOver(s *aftercare.Shipment, otherOrder bool) {
	s.LinkAt = time.Time{}
	if otherOrder {
		s.CustomerID, s.Test, s.OrderStatus = "", false, ""
		s.Exception, s.Episode = "", ""
	}
}

// applyTracking applies one parcel report. Carrier reports name the tracking
// number; the storefront's fulfillment events name the fulfillment, which the
// order maps to its parcels (or keeps the report until the fulfillment comes).
func applyTracking(t *tx, shop, source string, u *aftercare.TrackingUpdate) {
	sc := aftercare.Scan{At: u.EventTime.UTC(), Status: u.Status, Detail: u.Detail, What: u.Message, Source: source,
		Exception: u.Exception, EstimatedDelivery: u.EstimatedDelivery.UTC()}
	if sc.Status == "" {
		sc.Status = aftercare.StatusUnknown
	}
	if u.TrackingNumber == "" {
		o := t.order(shop, u.OrderID)
		if o == nil {
			return
		}
		keys := o.Fulfillments[u.FulfillmentID]
		if len(keys) == 0 {
			if o.PendingScans == nil {
				o.PendingScans = map[string][]aftercare.Scan{}
			}
			for _, p := range o.PendingScans[u.FulfillmentID] {
				if p.At.Equal(sc.At) && p.Status == sc.Status {
					return
				}
			}
			o.PendingScans[u.FulfillmentID] = append(o.PendingScans[u.FulfillmentID], sc)
			t.touchOrder(o)
			t.note("fulfillment %s not seen yet: report kept on order %s", u.FulfillmentID, o.ID)
			return
		}
		ships := make([]*aftercare.Shipment, 0, len(keys))
		for _, k := range keys {
			ships = append(ships, t.shipment(k))
		}
		if t.missing() {
			return
		}
		sc.Fulfillment = u.FulfillmentID // fold follows it only while that fulfillment has the parcel
		for _, s := range ships {
			applyScanTo(t, s, sc)
		}
		return
	}
	s := t.shipment(aftercare.TrackingKey(u.TrackingNumber))
	if s == nil {
		return
	}
	if s.TrackingNumber == "" {
		s.TrackingNumber = u.TrackingNumber
	}
	if s.Carrier == "" {
		s.Carrier = u.Carrier
	}
	if s.TrackingURL == "" && u.TrackingURL != "" {
		s.TrackingURL = u.TrackingURL // the storefront's link, when it gives one, wins
		t.touchShipment(s)
	}
	applyScanTo(t, s, sc)
}

func containsString(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
