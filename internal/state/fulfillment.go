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
	fulfill(t, o, nil, f, ships, at)
	settleDelivery(t, o, nil, t.settings[shop])
}

// fulfill records a fulfillment on its order, links its parcels, and applies
// the storefront's own shipment status and any fulfillment events that
// arrived before it.
func fulfill(t *tx, o *aftercare.Order, c *aftercare.Customer, f *aftercare.Fulfillment, ships []*aftercare.Shipment, at time.Time) {
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
	pending := o.PendingScans[f.ID]
	if len(pending) > 0 && len(ships) > 0 {
		delete(o.PendingScans, f.ID)
	}
	for i, n := range f.TrackingNumbers {
		if i >= len(ships) {
			break
		}
		s := ships[i]
		// The storefront's spelling wins over a provider's, whatever came
		// first; of the storefront's own, the newest fulfillment's does, so
		// a late copy of an older one reverts nothing (order-insensitive).
		// So does the link: a tracking number reused for another order
		// belongs to the newest fulfillment that names it, and a late copy
		// of the older one does not take the parcel back.
		newest := !when.Before(s.LinkAt)
		if newest {
			s.TrackingNumber = n
			if f.TrackingCompany != "" {
				s.Carrier = f.TrackingCompany
			}
			if i < len(f.TrackingURLs) && f.TrackingURLs[i] != "" {
				s.TrackingURL = f.TrackingURLs[i]
			}
			s.LinkAt = when.UTC()
		}
		if newest || s.OrderID == "" {
			s.Shop, s.OrderID, s.FulfillmentID = o.Shop, o.ID, f.ID
		}
		if s.Shop == o.Shop && s.OrderID == o.ID {
			if o.Seen {
				s.Test = o.Test // a stub does not know yet; its snapshot tells (settleParcels)
			}
			if o.CustomerID != "" {
				s.CustomerID = o.CustomerID
			}
		}
		t.touchShipment(s)
		for _, sc := range pending {
			mergeScan(s, sc)
		}
		// A fulfillment with tracking means a label exists (recorded at its
		// creation, so every delivery of it records the same report).
		created := f.CreatedAt
		if created.IsZero() {
			created = when
		}
		mergeScan(s, aftercare.Scan{At: created.UTC(), Status: aftercare.StatusPreTransit, Detail: "fulfillment created", Source: aftercare.SourceShopify})
		switch {
		case f.Status == "cancelled":
			mergeScan(s, aftercare.Scan{At: when, Status: aftercare.StatusCancelled, Detail: "fulfillment cancelled", Source: aftercare.SourceShopify})
		case f.Shipment != "":
			mergeScan(s, aftercare.Scan{At: when, Status: f.Shipment, Detail: f.ShipmentDetail, Exception: f.ShipmentException, Source: aftercare.SourceShopify})
		}

		settleShipment(t, s)
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
