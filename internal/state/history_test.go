package state_test

import (
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

const shop = "perm-shop.myshopify.com"

// customer of the realistic history, with personal data the redaction test
// looks for everywhere.
var buyer = aftercare.CustomerInfo{
	ID: "7001", Email: "ada.lovelace@example.org", Phone: "+15551234567", FirstName: "Ada", LastName: "Lovelace",
	EmailConsent: aftercare.Consent{State: aftercare.ConsentSubscribed, UpdatedAt: at(0, 9)},
	UpdatedAt:    at(0, 9),
}

func snapshot(updated time.Time, financial, fulfillment string, fulfillments []aftercare.Fulfillment, tags ...string) *aftercare.OrderSnapshot {
	c := buyer
	return &aftercare.OrderSnapshot{
		ID: "5001", Name: "#1001", Customer: &c, Email: buyer.Email,
		CreatedAt: at(0, 10), UpdatedAt: updated, ProcessedAt: at(0, 10),
		FinancialStatus: financial, FulfillmentStatus: fulfillment, TotalCents: 12900, Currency: "USD", Tags: tags,
		LineItems: []aftercare.LineItem{
			{ID: "1", VariantID: "v-kettle", ProductID: "p-kettle", SKU: "KET-1", Title: "Kettle", Quantity: 1},
			{ID: "2", VariantID: "v-filter", ProductID: "p-filter", SKU: "FIL-12", Title: "Filters (12)", Quantity: 2},
			{ID: "3", VariantID: "v-beans", ProductID: "p-beans", SKU: "BEAN-1", Title: "Beans", Quantity: 1},
		},
		LineItemCount: 3,
		Fulfillments:  fulfillments,
	}
}

var (
	f1 = aftercare.Fulfillment{ID: "F1", OrderID: "5001", Status: "success", TrackingNumbers: []string{"1Z999AA10123456784"},
		TrackingCompany: "UPS", CreatedAt: at(1, 9), UpdatedAt: at(1, 9), LineItemIDs: []string{"1"}}
	f2 = aftercare.Fulfillment{ID: "F2", OrderID: "5001", Status: "success", TrackingNumbers: []string{"9400 1000 0000 0000 0000 00"},
		TrackingCompany: "USPS", CreatedAt: at(1, 11), UpdatedAt: at(1, 11), LineItemIDs: []string{"2", "3"}}
)

func shopifyEvent(topic, eventID string, kind aftercare.EventKind, when time.Time) aftercare.Event {
	return aftercare.Event{ID: "shopify:" + shop + ":" + topic + ":" + eventID, Kind: kind, Source: aftercare.SourceShopify,
		Topic: topic, Shop: shop, At: when, Received: when}
}

func orderEvent(topic, eventID string, snap *aftercare.OrderSnapshot) aftercare.Event {
	ev := shopifyEvent(topic, eventID, aftercare.EventOrder, snap.UpdatedAt)
	ev.Order = snap
	return ev
}

func fulfillmentEvent(topic, eventID string, f aftercare.Fulfillment) aftercare.Event {
	ev := shopifyEvent(topic, eventID, aftercare.EventFulfillment, f.UpdatedAt)
	ev.Fulfillment = &f
	return ev
}

func carrierEvent(source, eventID, number, carrier string, status aftercare.ShipmentStatus, when time.Time, exc aftercare.ExceptionKind) aftercare.Event {
	return aftercare.Event{ID: source + ":" + eventID, Kind: aftercare.EventTracking, Source: source, Topic: "tracker.updated",
		At: when, Received: when, Tracking: &aftercare.TrackingUpdate{TrackingNumber: number, Carrier: carrier, Status: status,
			Detail: string(status), Exception: exc, EventTime: when}}
}

// history is one order's life: created, paid, fulfilled in two parcels,
// scanned by two providers and the storefront, delivered, then tagged, with
// a profile and a consent change on the side.
func history() []aftercare.Event {
	fe := shopifyEvent("fulfillment_events/create", "fe-1", aftercare.EventTracking, at(2, 8))
	fe.Tracking = &aftercare.TrackingUpdate{FulfillmentID: "F1", OrderID: "5001", Status: aftercare.StatusInTransit, Detail: "in_transit", EventTime: at(2, 8)}
	profile := buyer
	profile.FirstName, profile.UpdatedAt = "Augusta Ada", at(4, 9)
	cust := shopifyEvent("customers/update", "cu-1", aftercare.EventCustomer, profile.UpdatedAt)
	cust.Customer = &profile
	consent := shopifyEvent("customers_marketing_consent/update", "sms-1", aftercare.EventConsent, at(3, 9))
	consent.Consent = &aftercare.ConsentUpdate{CustomerID: buyer.ID, Channel: aftercare.ChannelSMS, Contact: buyer.Phone,
		Consent: aftercare.Consent{State: aftercare.ConsentSubscribed, UpdatedAt: at(3, 9)}}
	f1p := f1
	f1p.Shipment, f1p.ShipmentDetail, f1p.UpdatedAt = aftercare.StatusInTransit, "in_transit", at(2, 9)
	return []aftercare.Event{
		orderEvent("orders/create", "oc", snapshot(at(0, 10), "pending", "", nil)),
		orderEvent("orders/paid", "op", snapshot(at(0, 11), "paid", "", nil)),
		fulfillmentEvent("fulfillments/create", "fc1", f1),
		fulfillmentEvent("fulfillments/create", "fc2", f2),
		orderEvent("orders/partially_fulfilled", "opf", snapshot(at(1, 9), "paid", "partial", []aftercare.Fulfillment{f1})),
		orderEvent("orders/fulfilled", "of", snapshot(at(1, 11), "paid", "fulfilled", []aftercare.Fulfillment{f1, f2})),
		fe,
		fulfillmentEvent("fulfillments/update", "fu1", f1p),
		carrierEvent(aftercare.SourceEasyPost, "evt_1", f1.TrackingNumbers[0], "UPS", aftercare.StatusInTransit, at(2, 7), ""),
		carrierEvent(aftercare.SourceEasyPost, "evt_2", f1.TrackingNumbers[0], "UPS", aftercare.StatusOutForDelivery, at(4, 8), ""),
		carrierEvent(aftercare.SourceEasyPost, "evt_3", f1.TrackingNumbers[0], "UPS", aftercare.StatusDelivered, at(4, 15), ""),
		carrierEvent(aftercare.SourceAfterShip, "as_1", "9400100000000000000000", "usps", aftercare.StatusInTransit, at(2, 12), ""),
		carrierEvent(aftercare.SourceAfterShip, "as_2", "9400100000000000000000", "usps", aftercare.StatusDelivered, at(5, 14), ""),
		// A scan stamped after delivery (a carrier glitch): recorded, never applied.
		carrierEvent(aftercare.SourceAfterShip, "as_3", "9400100000000000000000", "usps", aftercare.StatusInTransit, at(5, 18), ""),
		orderEvent("orders/updated", "ou", snapshot(at(6, 10), "paid", "fulfilled", []aftercare.Fulfillment{f1, f2}, "vip")),
		cust,
		consent,
	}
}
