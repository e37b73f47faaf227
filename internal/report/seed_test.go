package report_test

import (
	"strconv"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/report"
)

const shopDomain = "seed-shop.myshopify.com"

// seedZone is the seeded shop's time zone: days are its days, not UTC's.
var seedZone = mustZone("America/New_York")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// seedSettings are the defaults in the seeded shop's zone.
func seedSettings() aftercare.Settings {
	s := aftercare.DefaultSettings()
	s.TimeZone = seedZone.String()
	if err := s.Validate(); err != nil {
		panic(err)
	}
	return s
}

// seedStart is day 0 of the seeded history, a Monday; every time in the
// history derives from it.
var seedStart = time.Date(2024, 5, 6, 0, 0, 0, 0, seedZone)

func day(d, hour int) time.Time {
	return seedStart.AddDate(0, 0, d).Add(time.Duration(hour) * time.Hour)
}

// seedRange is the 30 days the seeded history's expectations are about.
func seedRange() report.Range {
	f := time.Date(seedStart.Year(), seedStart.Month(), seedStart.Day(), 0, 0, 0, 0, time.UTC)
	return report.Range{From: f, To: f.AddDate(0, 0, 29)}
}

type buyer struct{ id, email string }

var (
	ann  = buyer{"c-ann", "ann@example.com"}
	ben  = buyer{"c-ben", "ben@example.com"}
	cleo = buyer{"c-cleo", "cleo@example.com"}
	dora = buyer{"c-dora", "dora@example.com"}
)

func orderEv(id string, b *buyer, created time.Time, cents int64, test bool, fulfillments ...aftercare.Fulfillment) aftercare.Event {
	snap := &aftercare.OrderSnapshot{
		ID: id, Name: "#" + id, CreatedAt: created, UpdatedAt: created.Add(time.Minute), ProcessedAt: created,
		FinancialStatus: "paid", TotalCents: cents, Currency: "USD", Test: test,
		LineItems:    []aftercare.LineItem{{ID: id + "-1", VariantID: "v-tea", ProductID: "p-tea", Title: "Tea", Quantity: 1}},
		Fulfillments: fulfillments,
	}
	if len(fulfillments) > 0 {
		snap.FulfillmentStatus = "fulfilled"
		snap.UpdatedAt = fulfillments[0].CreatedAt
	}
	if b != nil {
		snap.Email = b.email
		snap.Customer = &aftercare.CustomerInfo{ID: b.id, Email: b.email, FirstName: "Buyer",
			EmailConsent: aftercare.Consent{State: aftercare.ConsentSubscribed, UpdatedAt: created.AddDate(0, 0, -200)},
			UpdatedAt:    created.AddDate(0, 0, -200)}
	}
	topic := "orders/create"
	if len(fulfillments) > 0 {
		topic = "orders/fulfilled"
	}
	return aftercare.Event{ID: "shopify:" + topic + ":" + id, Kind: aftercare.EventOrder, Source: aftercare.SourceShopify,
		Topic: topic, Shop: shopDomain, At: snap.UpdatedAt, Received: snap.UpdatedAt, Order: snap}
}

func fulfillment(order, tracking, company string, at time.Time) aftercare.Fulfillment {
	return aftercare.Fulfillment{ID: "F-" + order, OrderID: order, Status: "success", TrackingNumbers: []string{tracking},
		TrackingCompany: company, CreatedAt: at, UpdatedAt: at}
}

func fulfillmentEv(f aftercare.Fulfillment) aftercare.Event {
	return aftercare.Event{ID: "shopify:fulfillments/create:" + f.ID, Kind: aftercare.EventFulfillment, Source: aftercare.SourceShopify,
		Topic: "fulfillments/create", Shop: shopDomain, At: f.UpdatedAt, Received: f.UpdatedAt, Fulfillment: &f}
}

var scanSeq int

func scan(tracking, carrier string, status aftercare.ShipmentStatus, at, eta time.Time, exc aftercare.ExceptionKind) aftercare.Event {
	scanSeq++
	return aftercare.Event{ID: "easypost:evt_" + strconv.Itoa(scanSeq) + tracking, Kind: aftercare.EventTracking, Source: aftercare.SourceEasyPost,
		Topic: "tracker.updated", At: at, Received: at, Tracking: &aftercare.TrackingUpdate{TrackingNumber: tracking, Carrier: carrier,
			Status: status, Detail: string(status), Exception: exc, EstimatedDelivery: eta, EventTime: at}}
}

func unsubscribe(b buyer, at time.Time) aftercare.Event {
	return aftercare.Event{ID: "shopify:consent:" + b.id, Kind: aftercare.EventConsent, Source: aftercare.SourceShopify,
		Topic: "customers_email_marketing_consent/update", Shop: shopDomain, At: at, Received: at,
		Consent: &aftercare.ConsentUpdate{CustomerID: b.id, Channel: aftercare.ChannelEmail, Contact: b.email,
			Consent: aftercare.Consent{State: aftercare.ConsentUnsubscribed, UpdatedAt: at}}}
}

func decision(id string, kind aftercare.Kind, dec string, at time.Time, b *buyer, mark string) step {
	m := &sentMessage{id: id, kind: kind, decision: dec, at: at, mark: mark}
	if b != nil {
		m.customer = b.id
	}
	return step{msg: m}
}

func ev(e aftercare.Event) step { return step{ev: &e} }

// seedHistory is a small shop's month: Ann orders twice (her parcel on time),
// Ben's parcel is damaged in transit and arrives late, Cleo's arrives late and
// she unsubscribes, Dora (a buyer from months before) comes back within 30
// days of a win-back, and a test order counts nowhere.
func seedHistory() []step {
	d := func(n int) time.Time { return day(n, 0) }
	doraFirst := day(-100, 15)
	return []step{
		ev(orderEv("1001", &ann, day(0, 10), 4000, false)),
		ev(fulfillmentEv(fulfillment("1001", "1ZANN0001", "UPS", day(1, 8)))),
		ev(orderEv("1001", &ann, day(0, 10), 4000, false, fulfillment("1001", "1ZANN0001", "UPS", day(1, 8)))),
		ev(scan("1ZANN0001", "UPS", aftercare.StatusInTransit, day(1, 9), d(4), "")),
		ev(scan("1ZANN0001", "UPS", aftercare.StatusOutForDelivery, day(3, 8), d(4), "")),
		ev(scan("1ZANN0001", "UPS", aftercare.StatusDelivered, day(3, 14), time.Time{}, "")),

		ev(orderEv("1002", &ben, day(2, 12), 6000, false)),
		ev(fulfillmentEv(fulfillment("1002", "9400BEN0002", "USPS", day(3, 7)))),
		ev(scan("9400BEN0002", "USPS", aftercare.StatusInTransit, day(3, 9), d(6), "")),
		ev(scan("9400BEN0002", "USPS", aftercare.StatusException, day(4, 10), d(6), aftercare.ExceptionDamaged)),
		ev(scan("9400BEN0002", "USPS", aftercare.StatusDelivered, day(7, 16), time.Time{}, "")),

		ev(orderEv("1003", &cleo, day(5, 9), 3000, false)),
		ev(fulfillmentEv(fulfillment("1003", "1ZCLEO0003", "UPS", day(6, 7)))),
		ev(scan("1ZCLEO0003", "UPS", aftercare.StatusInTransit, day(6, 9), d(8), "")),
		ev(scan("1ZCLEO0003", "UPS", aftercare.StatusDelivered, day(10, 13), time.Time{}, "")),
		ev(unsubscribe(cleo, day(14, 18))),

		ev(orderEv("0900", &dora, doraFirst, 2000, false)),
		decision("win_back-dora", aftercare.KindWinBack, "sent", day(5, 10), &dora, "win_back:"+aftercare.TimeKey(doraFirst)),
		ev(orderEv("1005", &dora, day(12, 20), 4500, false)),

		ev(orderEv("1004", nil, day(8, 11), 99900, true)),
		ev(orderEv("1006", &ann, day(20, 11), 2550, false)),

		decision("order_shipped-ann", aftercare.KindOrderShipped, "sent", day(1, 9), &ann, ""),
		decision("order_shipped-ben", aftercare.KindOrderShipped, "sent", day(3, 9), &ben, ""),
		decision("order_shipped-cleo", aftercare.KindOrderShipped, "sent", day(6, 9), &cleo, ""),
		decision("review_request-ann", aftercare.KindReviewRequest, "held", day(11, 9), &ann, ""),
		decision("care_tips-ben", aftercare.KindCareTips, "stale", day(15, 9), &ben, ""),
	}
}

// seedNow is the clock of the run: after the history.
var seedNow = day(31, 12)

// seedWant is the report of seedRange, worked out by hand from seedHistory.
const seedWant = `{
 "shop": "seed-shop.myshopify.com",
 "from": "2024-05-06",
 "to": "2024-06-04",
 "orders": {"count": 5, "revenue": "200.50", "currency": "USD"},
 "customers": {"new": 3, "returning": 1, "repeat_purchase_rate": 0.5, "median_days_to_second_order": 66},
 "deliveries": {"count": 3, "on_time": 1, "late": 2, "on_time_rate": 0.3333, "median_days_to_deliver": 4},
 "exceptions": {
  "backorder": {"opened": 0, "resolved": 0, "open": 0, "median_hours_to_resolve": null},
  "damaged": {"opened": 1, "resolved": 1, "open": 0, "median_hours_to_resolve": 78},
  "delay": {"opened": 0, "resolved": 0, "open": 0, "median_hours_to_resolve": null},
  "failed_delivery": {"opened": 0, "resolved": 0, "open": 0, "median_hours_to_resolve": null},
  "lost": {"opened": 0, "resolved": 0, "open": 0, "median_hours_to_resolve": null},
  "returned": {"opened": 0, "resolved": 0, "open": 0, "median_hours_to_resolve": null}
 },
 "messages": {
  "care_tips": {"sent": 0, "held": 0, "suppressed": 0, "stale": 1, "failed": 0},
  "order_shipped": {"sent": 3, "held": 0, "suppressed": 0, "stale": 0, "failed": 0},
  "review_request": {"sent": 0, "held": 1, "suppressed": 0, "stale": 0, "failed": 0},
  "win_back": {"sent": 1, "held": 0, "suppressed": 0, "stale": 0, "failed": 0}
 },
 "recovery": {
  "lapse_note": {"sent": 0, "recovered": 0, "revenue": "0.00"},
  "win_back": {"sent": 1, "recovered": 1, "revenue": "45.00"}
 },
 "unsubscribes": 1,
 "carriers": {
  "ups": {"parcels": 2, "exceptions": {}},
  "usps": {"parcels": 1, "exceptions": {"damaged": 1}}
 }
}`
