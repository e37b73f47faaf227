package state_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/state"
)

// A tracking number two orders name: the carrier reused it, or one box went
// out for two orders. The parcel is keyed by the number, so it can belong
// to one of them: the one whose fulfillment was created last.

// grace is the customer of order 6001, which reuses 5001's tracking number.
func grace() aftercare.CustomerInfo {
	g := buyer
	g.ID, g.Email, g.Phone, g.FirstName, g.LastName = "7002", "grace@example.org", "+15557654321", "Grace", "Hopper"
	return g
}

// orderB is order 6001 of grace, updated at updated.
func orderB(updated time.Time, fs ...aftercare.Fulfillment) *aftercare.OrderSnapshot {
	g := grace()
	s := snapshot(updated, "paid", "fulfilled", fs)
	s.ID, s.Name, s.Customer, s.Email = "6001", "#1002", &g, g.Email
	return s
}

// f9 is 6001's fulfillment with f1's tracking number, which the carrier
// reused four months after f1.
var f9 = aftercare.Fulfillment{ID: "F9", OrderID: "6001", Status: "success", TrackingNumbers: f1.TrackingNumbers,
	TrackingCompany: "UPS", CreatedAt: at(120, 10), UpdatedAt: at(120, 10), LineItemIDs: []string{"1"}}

var reusedKey = "SHIPMENT#" + aftercare.TrackingKey(f1.TrackingNumbers[0]) + "|SHIPMENT"

// parcelState is what must not depend on the arrival order (as project:
// not when we first saw it shipped, which is what its customer was told).
func parcelState(t *testing.T, e *env) string {
	t.Helper()
	p := e.dump(t)[reusedKey]
	return fmt.Sprint("shop=", p["shop"], " order=", p["order_id"], " fulfillment=", p["fulfillment_id"], " customer=", p["customer_id"],
		" carrier=", p["carrier"], " url=", p["tracking_url"], " link_at=", p["link_at"],
		" status=", p["status"], " status_at=", p["status_at"], " delivered_at=", p["delivered_at"],
		" test=", p["test"], " reused=", p["reused"], " owned_since=", p["owned_since"], " trip=", trip(p))
}

// trip lists the reports a parcel's status was folded from.
func trip(p map[string]any) []string {
	var out []string
	h, _ := p["history"].([]any)
	for _, x := range h {
		if sc := x.(map[string]any); sc["applied"] == true {
			out = append(out, fmt.Sprint(sc["at"], " ", sc["status"], " ", sc["source"]))
		}
	}
	return out
}

// told lists the messages res queued as kind/order/customer, sorted.
func told(res state.Result) []string {
	var out []string
	for _, m := range res.Messages {
		out = append(out, string(m.Kind)+"/"+m.OrderID+"/"+m.CustomerID)
	}
	sort.Strings(out)
	return out
}

func before(evs []aftercare.Event, id string) []aftercare.Event {
	for i, ev := range evs {
		if ev.ID == id {
			return evs[:i]
		}
	}
	return evs
}

// Whichever order the two orders' events come in, the parcel ends the
// same, as the newer fulfillment's, and the next report about it tells
// that order's customer and no one else.
func TestAReusedTrackingNumberBelongsToTheNewestFulfillment(t *testing.T) {
	delivered := f1
	delivered.Shipment, delivered.ShipmentDetail, delivered.UpdatedAt = aftercare.StatusDelivered, "delivered", at(2, 9)
	tie := f9
	tie.CreatedAt, tie.UpdatedAt = f1.CreatedAt, f1.CreatedAt
	reconciled := []aftercare.Fulfillment{f1, f2} // the Admin API's: no updated_at
	reconciled[0].UpdatedAt, reconciled[1].UpdatedAt = time.Time{}, time.Time{}
	reconcile := orderEvent("orders/updated", "reconcile-9", snapshot(at(125, 10), "paid", "fulfilled", reconciled, "vip", "note"))
	b := []aftercare.Event{orderEvent("orders/create", "oc-6001", orderB(at(120, 9))), fulfillmentEvent("fulfillments/create", "fc-6001", f9)}
	edited := f1
	edited.UpdatedAt = at(125, 0) // after 6001 took the number
	dhl := f9
	dhl.TrackingCompany, dhl.TrackingURLs = "DHL Express", []string{"https://tracking.example/dhl"}
	cases := []struct {
		name string
		a, b []aftercare.Event
		one  bool // one trip: the fulfillments were created together (one box), so the first's reports are the second's
	}{
		{"the first order's later snapshot and a late copy of its fulfillment", append(history(),
			orderEvent("orders/updated", "ou-late", snapshot(at(125, 10), "paid", "fulfilled", []aftercare.Fulfillment{f1, f2}, "vip")),
			fulfillmentEvent("fulfillments/update", "fu1-copy", f1)), b, false},
		{"the first order's reconcile snapshot, whose fulfillments carry no updated_at", append(history(), reconcile), b, false},
		{"the second order known first by its fulfillment, the first parcel still moving", before(history(), aftercare.SourceEasyPost+":evt_2"),
			[]aftercare.Event{b[1], b[0]}, false},
		{"the first fulfillment delivered by the storefront", []aftercare.Event{
			orderEvent("orders/create", "oc", snapshot(at(0, 10), "paid", "", nil)),
			fulfillmentEvent("fulfillments/create", "fc1", delivered),
			orderEvent("orders/fulfilled", "of", snapshot(at(2, 9), "paid", "fulfilled", []aftercare.Fulfillment{delivered}))}, b, false},
		{"the first parcel's carrier reports before its fulfillment", []aftercare.Event{
			orderEvent("orders/create", "oc", snapshot(at(0, 10), "paid", "", nil)),
			carrierEvent(aftercare.SourceEasyPost, "evt_1", f1.TrackingNumbers[0], "UPS", aftercare.StatusInTransit, at(2, 7), ""),
			carrierEvent(aftercare.SourceEasyPost, "evt_3", f1.TrackingNumbers[0], "UPS", aftercare.StatusDelivered, at(4, 15), ""),
			fulfillmentEvent("fulfillments/create", "fc1", f1)}, b, false},
		{"a later edit of the first order's fulfillment, the second order's carrier named otherwise", append(history(),
			fulfillmentEvent("fulfillments/update", "fu1-edit", edited)), []aftercare.Event{b[0], fulfillmentEvent("fulfillments/create", "fc-6001", dhl)}, false},
		{"both fulfillments created in the same second", history(),
			[]aftercare.Event{b[0], fulfillmentEvent("fulfillments/create", "fc-6001", tie)}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
				var parcels []string
				for _, evs := range [][]aftercare.Event{append(append([]aftercare.Event{}, c.a...), c.b...), append(append([]aftercare.Event{}, c.b...), c.a...)} {
					e := newEnv(t)
					for _, ev := range evs {
						e.process(t, ev)
					}
					p := parcelState(t, e)
					if !strings.Contains(p, " order=6001 ") || !strings.Contains(p, " customer=7002 ") || !strings.Contains(p, " reused=true ") {
						t.Fatalf("the parcel should be 6001's, grace's: %s", p)
					}
					parcels = append(parcels, p)
					if c.one {
						continue
					}
					if strings.Contains(p, "status=delivered") {
						t.Fatalf("the parcel starts its new trip delivered (the first order's trip): %s", p)
					}
					res := e.process(t, carrierEvent(aftercare.SourceEasyPost, "evt_b", f1.TrackingNumbers[0], "UPS", aftercare.StatusDelivered, at(121, 8), ""))
					if got := told(res); len(got) == 0 || len(onlyGrace(got)) != len(got) {
						t.Fatalf("the second order's delivery told %v, want grace about 6001 only", got)
					}
				}
				if parcels[0] != parcels[1] {
					t.Fatalf("the arrival order decided the parcel:\nfirst order first:  %s\nsecond order first: %s", parcels[0], parcels[1])
				}
			})
		})
	}
}

// onlyGrace keeps what tells grace about 6001.
func onlyGrace(said []string) []string {
	var out []string
	for _, s := range said {
		if strings.HasSuffix(s, "/6001/7002") || strings.HasSuffix(s, "/6001/") {
			out = append(out, s)
		}
	}
	return out
}

// A reused number's new trip is told as any first trip: shipped on its
// first scan in transit, to the new order's customer.
func TestAReusedTrackingNumberStartsANewTrip(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		for _, ev := range append(history(), orderEvent("orders/create", "oc-6001", orderB(at(120, 9))), fulfillmentEvent("fulfillments/create", "fc-6001", f9)) {
			e.process(t, ev)
		}
		res := e.process(t, carrierEvent(aftercare.SourceEasyPost, "evt_b1", f1.TrackingNumbers[0], "UPS", aftercare.StatusInTransit, at(120, 16), ""))
		if got := told(res); len(got) != 1 || got[0] != "order_shipped/6001/7002" {
			t.Fatalf("the new trip's first scan in transit told %v, want order_shipped to grace about 6001", got)
		}
		if p := e.dump(t)[reusedKey]; p["status"] != "in_transit" {
			t.Fatalf("the new trip's parcel: %s", mustJSON(p))
		}
	})
}

// One order's two fulfillments naming one tracking number (a fulfillment
// redone): the newer-created one owns the parcel in every arrival order.
func TestTwoFulfillmentsOfOneOrderShareANumber(t *testing.T) {
	f3 := aftercare.Fulfillment{ID: "F3", OrderID: "5001", Status: "success", TrackingNumbers: f1.TrackingNumbers,
		TrackingCompany: "UPS", CreatedAt: at(1, 12), UpdatedAt: at(1, 12)}
	evs := []aftercare.Event{
		orderEvent("orders/create", "oc", snapshot(at(0, 10), "paid", "", nil)),
		fulfillmentEvent("fulfillments/create", "fc1", f1),
		fulfillmentEvent("fulfillments/create", "fc3", f3),
		orderEvent("orders/fulfilled", "of", snapshot(at(1, 12), "paid", "fulfilled", []aftercare.Fulfillment{f3, f1})),
	}
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		var want string
		for _, perm := range [][]int{{0, 1, 2, 3}, {0, 2, 1, 3}, {2, 1, 3, 0}, {3, 2, 1, 0}, {1, 3, 0, 2}} {
			e := newEnv(t)
			for _, i := range perm {
				e.process(t, evs[i])
			}
			got := parcelState(t, e)
			if !strings.Contains(got, " fulfillment=F3 ") {
				t.Fatalf("%v: the parcel should be F3's: %s", perm, got)
			}
			if want == "" {
				want = got
			} else if got != want {
				t.Fatalf("%v ended differently:\n%s\n%s", perm, got, want)
			}
		}
	})
}

// The first order's snapshot can come after both fulfillments: it settles
// its parcels, and the one 6001 took is not its to mark.
func TestAReusedTrackingNumberIsNotTheFirstOrdersToSettle(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		testOrder := snapshot(at(125, 10), "paid", "fulfilled", []aftercare.Fulfillment{f1})
		testOrder.Test = true
		for _, ev := range []aftercare.Event{fulfillmentEvent("fulfillments/create", "fc1", f1), orderEvent("orders/create", "oc-6001", orderB(at(120, 9))),
			fulfillmentEvent("fulfillments/create", "fc-6001", f9), orderEvent("orders/create", "oc", testOrder)} {
			e.process(t, ev)
		}
		if p := e.dump(t)[reusedKey]; p["order_id"] != "6001" || p["test"] == true {
			t.Fatalf("6001's parcel was marked by the first order's test snapshot: %s", mustJSON(p))
		}
	})
}

// A playbook open on the first order's parcel when its number goes to
// another order is closed quietly: the first customer's marketing is no
// longer held for it, and the new order's customer hears nothing of it.
func TestAReusedTrackingNumberClosesTheFirstOrdersPlaybook(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		for _, ev := range append(before(history(), aftercare.SourceEasyPost+":evt_2"),
			carrierEvent(aftercare.SourceEasyPost, "evt_dmg", f1.TrackingNumbers[0], "UPS", aftercare.StatusException, at(3, 10), aftercare.ExceptionDamaged)) {
			e.process(t, ev)
		}
		customer := "SHOP#" + shop + "|CUSTOMER#7001"
		if holds := mustJSON(e.dump(t)[customer]["holds"]); !strings.Contains(holds, "exception:5001") {
			t.Fatalf("the damaged parcel should hold 7001's marketing: %s", holds)
		}
		var said []string
		for _, ev := range []aftercare.Event{orderEvent("orders/create", "oc-6001", orderB(at(120, 9))), fulfillmentEvent("fulfillments/create", "fc-6001", f9)} {
			said = append(said, told(e.process(t, ev))...)
		}
		if len(said) > 0 {
			t.Fatalf("the new order's customer was told %v", said)
		}
		d := e.dump(t)
		if holds := mustJSON(d[customer]["holds"]); strings.Contains(holds, "exception:5001") {
			t.Fatalf("7001's marketing is still held for a parcel their order no longer has: %s", holds)
		}
		order := mustJSON(d["SHOP#"+shop+"|ORDER#5001"]["exceptions"])
		if !strings.Contains(order, "its tracking number went to another order") {
			t.Fatalf("5001's damaged playbook should be closed: %s", order)
		}
		if p := d[reusedKey]; p["exception"] != nil || p["status"] != "pre_transit" {
			t.Fatalf("the new trip carries the first one's playbook or status: %s", mustJSON(p))
		}
	})
}

// What the first trip's reports said is not the new trip's: a parcel of
// the first order that never arrived leaves no estimate to the second.
func TestAReusedTrackingNumbersNewTripForgetsTheFirstTripsEstimate(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		moving := carrierEvent(aftercare.SourceEasyPost, "evt_eta", f1.TrackingNumbers[0], "UPS", aftercare.StatusInTransit, at(2, 7), "")
		moving.Tracking.EstimatedDelivery = at(5, 0)
		for _, ev := range append(before(history(), aftercare.SourceEasyPost+":evt_1"), moving,
			orderEvent("orders/create", "oc-6001", orderB(at(120, 9))), fulfillmentEvent("fulfillments/create", "fc-6001", f9),
			carrierEvent(aftercare.SourceEasyPost, "evt_b1", f1.TrackingNumbers[0], "UPS", aftercare.StatusInTransit, at(120, 16), "")) {
			e.process(t, ev)
		}
		if p := e.dump(t)[reusedKey]; p["estimated_delivery"] != nil || p["last_scan_at"] != ts(120, 16) {
			t.Fatalf("the new trip kept the first trip's estimate or last scan: %s", mustJSON(p))
		}
	})
}

// The merchant's report counts a reused number's trips as parcels of their
// own: the first trip's days stay as they were when the number moves on,
// and the second trip adds its own.
func TestAReusedTrackingNumberLeavesTheFirstTripsReportDays(t *testing.T) {
	byStorefront := f1
	byStorefront.Shipment, byStorefront.ShipmentDetail, byStorefront.UpdatedAt = aftercare.StatusDelivered, "delivered", at(4, 15)
	firsts := map[string][]aftercare.Event{
		"told by the carrier": history(),
		"told by the storefront alone": {
			orderEvent("orders/create", "oc", snapshot(at(0, 10), "paid", "", nil)),
			fulfillmentEvent("fulfillments/create", "fc1", f1),
			fulfillmentEvent("fulfillments/update", "fu1", byStorefront)},
	}
	for name, first := range firsts {
		t.Run(name, func(t *testing.T) {
			stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
				e := newEnv(t)
				for _, ev := range first {
					e.process(t, ev)
				}
				days := func() map[string]string {
					out := map[string]string{}
					for k, v := range e.dump(t) {
						if i := strings.Index(k, "|DAY#"); i >= 0 {
							out[k[i+1:]] = mustJSON(v)
						}
					}
					return out
				}
				before := days()
				for _, ev := range []aftercare.Event{orderEvent("orders/create", "oc-6001", orderB(at(120, 9))), fulfillmentEvent("fulfillments/create", "fc-6001", f9),
					carrierEvent(aftercare.SourceEasyPost, "evt_b1", f1.TrackingNumbers[0], "UPS", aftercare.StatusInTransit, at(120, 16), ""),
					carrierEvent(aftercare.SourceEasyPost, "evt_b2", f1.TrackingNumbers[0], "UPS", aftercare.StatusDelivered, at(121, 8), "")} {
					e.process(t, ev)
				}
				after := days()
				delivered := "DAY#" + at(4, 15).Format("2006-01-02") // the first trip's delivery day
				if before[delivered] == "" || before[delivered] != after[delivered] {
					t.Errorf("%s changed when the number moved on:\nbefore %s\nafter  %s", delivered, before[delivered], after[delivered])
				}
				if d := "DAY#" + at(121, 8).Format("2006-01-02"); !strings.Contains(after[d], "c_d") {
					t.Errorf("the second trip's delivery is not counted on %s: %s", d, after[d])
				}
			})
		})
	}
}

// When the reuse shows only late (the first order's reports and its
// fulfillment come after the second order's), the parcel and its owner's
// order are settled again as soon as it does.
func TestAReusedTrackingNumberIsSettledWhenTheReuseShows(t *testing.T) {
	n := f1.TrackingNumbers[0]
	scan := func(id string, st aftercare.ShipmentStatus, when time.Time) aftercare.Event {
		return carrierEvent(aftercare.SourceEasyPost, id, n, "UPS", st, when, "")
	}
	cases := []struct {
		name   string
		before []aftercare.Event // then the first order's snapshot and fulfillment
		said   string            // what the first order's fulfillment tells
		check  func(d map[string]map[string]any) bool
	}{
		{"the second trip in transit is told as shipped",
			[]aftercare.Event{scan("evt_1", aftercare.StatusInTransit, at(2, 7)), scan("evt_3", aftercare.StatusDelivered, at(4, 15)),
				fulfillmentEvent("fulfillments/create", "fc-6001", f9), scan("evt_b1", aftercare.StatusInTransit, at(120, 16))},
			"order_shipped/6001/7002",
			func(d map[string]map[string]any) bool {
				return d[reusedKey]["status"] == "in_transit" && d[reusedKey]["shipped_at"] == ts(120, 16)
			}},
		{"the second trip delivered marks its order delivered (the first ended in a return)",
			[]aftercare.Event{fulfillmentEvent("fulfillments/create", "fc-6001", f9), scan("evt_1", aftercare.StatusInTransit, at(2, 7)),
				scan("evt_r", aftercare.StatusReturned, at(5, 7)), scan("evt_b1", aftercare.StatusInTransit, at(120, 16)),
				scan("evt_b2", aftercare.StatusDelivered, at(121, 8))},
			"",
			func(d map[string]map[string]any) bool {
				return d[reusedKey]["status"] == "delivered" && d["SHOP#"+shop+"|ORDER#6001"]["delivered_at"] == ts(121, 8)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
				e := newEnv(t)
				for _, ev := range append(append([]aftercare.Event{orderEvent("orders/create", "oc-6001", orderB(at(120, 9)))}, c.before...),
					orderEvent("orders/create", "oc", snapshot(at(0, 10), "paid", "", nil))) {
					e.process(t, ev)
				}
				res := e.process(t, fulfillmentEvent("fulfillments/create", "fc1", f1))
				if c.said != "" {
					if got := told(res); len(got) != 1 || got[0] != c.said {
						t.Fatalf("the first order's fulfillment, showing the reuse, told %v; want %s", got, c.said)
					}
				}
				if d := e.dump(t); !c.check(d) {
					t.Fatalf("after the reuse showed: parcel %s, order 6001 %s", mustJSON(d[reusedKey]), mustJSON(d["SHOP#"+shop+"|ORDER#6001"]))
				}
			})
		})
	}
}

// One box for two orders of one customer is one trip: its customer is
// told it shipped and arrived once, in either arrival order.
func TestOneBoxForTwoOrdersIsToldOnce(t *testing.T) {
	n := f1.TrackingNumbers[0]
	second := snapshot(at(1, 10), "paid", "fulfilled", nil)
	second.ID, second.Name = "5002", "#1003"
	fb := aftercare.Fulfillment{ID: "F5", OrderID: "5002", Status: "success", TrackingNumbers: f1.TrackingNumbers,
		TrackingCompany: "UPS", CreatedAt: at(1, 10), UpdatedAt: at(1, 10), LineItemIDs: []string{"1"}}
	a := []aftercare.Event{orderEvent("orders/create", "oc", snapshot(at(0, 10), "paid", "", nil)), fulfillmentEvent("fulfillments/create", "fc1", f1)}
	b := []aftercare.Event{orderEvent("orders/create", "oc-5002", second), fulfillmentEvent("fulfillments/create", "fc-5002", fb)}
	scans := []aftercare.Event{
		carrierEvent(aftercare.SourceEasyPost, "evt_1", n, "UPS", aftercare.StatusInTransit, at(2, 7), ""),
		carrierEvent(aftercare.SourceEasyPost, "evt_3", n, "UPS", aftercare.StatusDelivered, at(4, 15), ""),
	}
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		for _, evs := range [][]aftercare.Event{
			append(append(append([]aftercare.Event{}, a...), scans[0]), append(b, scans[1])...),
			append(append(append([]aftercare.Event{}, b...), scans...), a...),
		} {
			e := newEnv(t)
			count := map[string]int{}
			for _, ev := range evs {
				for _, m := range e.process(t, ev).Messages {
					count[string(m.Kind)]++
				}
			}
			if count["order_shipped"] != 1 || count["delivered_setup"] != 1 {
				t.Fatalf("one box: told %v, want shipped and delivered once", count)
			}
		}
	})
}

// A tracking number another shop's order takes on the same deployment:
// each shop's report counts its own trip, never less than it had.
func TestAReusedTrackingNumberAcrossShopsCountsEachShopsTrip(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := afterHistory(t, newEnv)
		days := func(of string) map[string]report.Counters {
			got, err := e.store.(interface {
				ReportDays(ctx context.Context, shop, from, to string) (map[string]report.Counters, error)
			}).ReportDays(context.Background(), of, "0000-00-00", "9999-99-99")
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		mine := days(shop)
		other := "other-shop.myshopify.com"
		dhl := f9 // the other shop names the carrier otherwise: the first trip must not move to its name
		dhl.TrackingCompany = "DHL Express"
		evs := []aftercare.Event{orderEvent("orders/create", "oc-6001", orderB(at(120, 9))), fulfillmentEvent("fulfillments/create", "fc-6001", dhl),
			carrierEvent(aftercare.SourceEasyPost, "evt_b2", f1.TrackingNumbers[0], "UPS", aftercare.StatusDelivered, at(121, 8), "")}
		for i := range evs[:2] {
			evs[i].Shop, evs[i].ID = other, strings.Replace(evs[i].ID, shop, other, 1)
		}
		for _, ev := range evs {
			e.process(t, ev)
		}
		if got := days(shop); !reflect.DeepEqual(got, mine) {
			t.Fatalf("%s's report changed when %s's order took the number:\nbefore %v\nafter  %v", shop, other, mine, got)
		}
		theirs := days(other)
		if theirs[at(121, 8).Format("2006-01-02")]["d"] != 1 {
			t.Fatalf("%s does not count its delivery: %v", other, theirs)
		}
		for d, cs := range theirs {
			for name, n := range cs {
				if n < 0 {
					t.Fatalf("%s counts %s %d on %s", other, name, n, d)
				}
			}
		}
	})
}

// A merchant cancels an order's fulfillment and gives its label to another
// order an hour later: the parcel is the second order's, its trip goes on
// (the first fulfillment's cancellation is not the parcel's), and the
// second order's customer is told it shipped and arrived, in either
// arrival order.
func TestALabelMovedToAnotherOrderIsThatOrdersParcel(t *testing.T) {
	n := f1.TrackingNumbers[0]
	cancelled := f1
	cancelled.Status, cancelled.UpdatedAt = "cancelled", at(1, 10)
	moved := f9
	moved.CreatedAt, moved.UpdatedAt = at(1, 11), at(1, 11)
	a := []aftercare.Event{orderEvent("orders/create", "oc", snapshot(at(0, 10), "paid", "", nil)),
		fulfillmentEvent("fulfillments/create", "fc1", f1), fulfillmentEvent("fulfillments/update", "fu1", cancelled)}
	b := []aftercare.Event{orderEvent("orders/create", "oc-6001", orderB(at(1, 10))), fulfillmentEvent("fulfillments/create", "fc-6001", moved)}
	scans := []aftercare.Event{
		carrierEvent(aftercare.SourceEasyPost, "evt_1", n, "UPS", aftercare.StatusInTransit, at(2, 7), ""),
		carrierEvent(aftercare.SourceEasyPost, "evt_3", n, "UPS", aftercare.StatusDelivered, at(4, 15), ""),
	}
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		var parcels []string
		for _, evs := range [][]aftercare.Event{append(append(append([]aftercare.Event{}, a...), b...), scans...), append(append(append([]aftercare.Event{}, b...), scans...), a...)} {
			e := newEnv(t)
			var said []string
			for _, ev := range evs {
				said = append(said, told(e.process(t, ev))...)
			}
			sort.Strings(said)
			p := parcelState(t, e)
			if !strings.Contains(p, " order=6001 ") || !strings.Contains(p, " status=delivered ") {
				t.Fatalf("the moved label's parcel: %s", p)
			}
			if strings.Join(said, " ") != "delivered_setup/6001/7002 order_shipped/6001/7002" {
				t.Fatalf("told %v, want grace told 6001 shipped and delivered", said)
			}
			parcels = append(parcels, p)
		}
		if parcels[0] != parcels[1] {
			t.Fatalf("the arrival order decided the parcel:\n%s\n%s", parcels[0], parcels[1])
		}
	})
}

// An order redoes its fulfillment (the first cancelled, a second with the
// same label), and months later the carrier reuses the number for another
// order: the first trip is the redone fulfillment's, counted the same in
// the report whichever order came first.
func TestARedoneFulfillmentsTripKeepsItsReportWhenTheNumberIsReused(t *testing.T) {
	n := f1.TrackingNumbers[0]
	cancelled := f1
	cancelled.Status, cancelled.UpdatedAt = "cancelled", at(1, 11)
	f3 := f1
	f3.ID, f3.CreatedAt, f3.UpdatedAt = "F3", at(1, 12), at(1, 12)
	a := []aftercare.Event{orderEvent("orders/create", "oc", snapshot(at(0, 10), "paid", "", nil)),
		fulfillmentEvent("fulfillments/create", "fc1", f1), fulfillmentEvent("fulfillments/update", "fu1", cancelled),
		fulfillmentEvent("fulfillments/create", "fc3", f3),
		carrierEvent(aftercare.SourceEasyPost, "evt_1", n, "UPS", aftercare.StatusInTransit, at(2, 7), ""),
		carrierEvent(aftercare.SourceEasyPost, "evt_3", n, "UPS", aftercare.StatusDelivered, at(4, 15), "")}
	b := []aftercare.Event{orderEvent("orders/create", "oc-6001", orderB(at(120, 9))), fulfillmentEvent("fulfillments/create", "fc-6001", f9)}
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		var parcels, reports []string
		for _, evs := range [][]aftercare.Event{append(append([]aftercare.Event{}, a...), b...), append(append([]aftercare.Event{}, b...), a...)} {
			e := newEnv(t)
			for _, ev := range evs {
				e.process(t, ev)
			}
			days, err := e.store.(interface {
				ReportDays(ctx context.Context, shop, from, to string) (map[string]report.Counters, error)
			}).ReportDays(context.Background(), shop, "0000-00-00", "9999-99-99")
			if err != nil {
				t.Fatal(err)
			}
			delivered := at(4, 15).Format("2006-01-02")
			if days[delivered]["d"] != 1 {
				t.Fatalf("the first trip's delivery is not counted on %s: %v", delivered, days)
			}
			delete(days, at(0, 10).Format("2006-01-02")) // the orders' own day: placed in either order, counted there
			parcels, reports = append(parcels, parcelState(t, e)), append(reports, fmt.Sprint(days))
		}
		if parcels[0] != parcels[1] || reports[0] != reports[1] {
			t.Fatalf("the arrival order decided the parcel or the report:\n%s\n%s\n%s\n%s", parcels[0], parcels[1], reports[0], reports[1])
		}
	})
}
