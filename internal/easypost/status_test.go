package easypost

import (
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// The documented lists, copied from https://docs.easypost.com/docs/trackers
// (Tracker "status" and "status_detail" possible values). A value EasyPost
// documents but the table lacks fails here.
var (
	documentedStatuses = []string{
		"unknown", "pre_transit", "in_transit", "out_for_delivery", "delivered",
		"available_for_pickup", "return_to_sender", "failure", "cancelled", "error",
	}
	documentedDetails = []string{
		"address_correction", "arrived_at_destination", "arrived_at_facility", "arrived_at_pickup_location",
		"awaiting_information", "cancelled", "damaged", "delayed", "delivery_exception", "departed_facility",
		"departed_origin_facility", "expired", "failure", "held", "in_transit", "label_created", "lost",
		"missorted", "out_for_delivery", "received_at_destination_facility", "received_at_origin_facility",
		"refused", "return", "status_update", "transferred_to_destination_carrier", "transit_exception",
		"unknown", "weather_delay",
	}
)

func TestStatusAlone(t *testing.T) {
	want := map[string]outcome{
		"unknown":              {"unknown", ""},
		"pre_transit":          {"pre_transit", ""},
		"in_transit":           {"in_transit", ""},
		"out_for_delivery":     {"out_for_delivery", ""},
		"delivered":            {"delivered", ""},
		"available_for_pickup": {"available_for_pickup", "failed_delivery"},
		"return_to_sender":     {"returned", "returned"},
		"failure":              {"exception", "delay"},
		"cancelled":            {"cancelled", ""},
		"error":                {"unknown", ""},
	}
	for _, s := range documentedStatuses {
		if _, ok := table[s]; !ok {
			t.Errorf("status %q is documented but not in the table", s)
		}
		if got := classify(s, ""); got != want[s] {
			t.Errorf("classify(%q, \"\") = %v, want %v", s, got, want[s])
		}
	}
}

// Each detail under in_transit: problem details turn a moving parcel into an
// exception with their playbook; normal ones leave it in transit.
func TestDetailUnderInTransit(t *testing.T) {
	want := map[string]outcome{
		"address_correction":                 {"exception", "failed_delivery"},
		"arrived_at_destination":             {"in_transit", ""},
		"arrived_at_facility":                {"in_transit", ""},
		"arrived_at_pickup_location":         {"available_for_pickup", "failed_delivery"},
		"awaiting_information":               {"in_transit", ""},
		"cancelled":                          {"in_transit", ""},
		"damaged":                            {"exception", "damaged"},
		"delayed":                            {"exception", "delay"},
		"delivery_exception":                 {"exception", "failed_delivery"},
		"departed_facility":                  {"in_transit", ""},
		"departed_origin_facility":           {"in_transit", ""},
		"expired":                            {"in_transit", ""},
		"failure":                            {"exception", "delay"},
		"held":                               {"exception", "delay"},
		"in_transit":                         {"in_transit", ""},
		"label_created":                      {"in_transit", ""},
		"lost":                               {"exception", "lost"},
		"missorted":                          {"exception", "delay"},
		"out_for_delivery":                   {"in_transit", ""},
		"received_at_destination_facility":   {"in_transit", ""},
		"received_at_origin_facility":        {"in_transit", ""},
		"refused":                            {"exception", "returned"},
		"return":                             {"returned", "returned"},
		"status_update":                      {"in_transit", ""},
		"transferred_to_destination_carrier": {"in_transit", ""},
		"transit_exception":                  {"exception", "delay"},
		"unknown":                            {"in_transit", ""},
		"weather_delay":                      {"exception", "delay"},
	}
	if len(want) != len(documentedDetails) {
		t.Fatalf("want covers %d details, the documented list has %d", len(want), len(documentedDetails))
	}
	for _, d := range documentedDetails {
		if _, ok := table[d]; !ok {
			t.Errorf("status_detail %q is documented but not in the table", d)
		}
		w, ok := want[d]
		if !ok {
			t.Errorf("no expectation for %q", d)
		}
		if got := classify("in_transit", d); got != w {
			t.Errorf("classify(in_transit, %q) = %v, want %v", d, got, w)
		}
	}
}

// Under an unknown status a detail speaks for itself.
func TestDetailUnderUnknown(t *testing.T) {
	cases := map[string]outcome{
		"label_created":          {"pre_transit", ""},
		"arrived_at_facility":    {"in_transit", ""},
		"out_for_delivery":       {"out_for_delivery", ""},
		"arrived_at_destination": {"in_transit", ""},
		"status_update":          {"unknown", ""},
		"expired":                {"unknown", ""},
		"cancelled":              {"cancelled", ""},
		"lost":                   {"exception", "lost"},
	}
	for d, w := range cases {
		if got := classify("unknown", d); got != w {
			t.Errorf("classify(unknown, %q) = %v, want %v", d, got, w)
		}
	}
}

// Final statuses keep their meaning whatever the detail says.
func TestFinalStatusesWin(t *testing.T) {
	for _, d := range documentedDetails {
		for status, w := range map[string]outcome{
			"delivered":        {"delivered", ""},
			"return_to_sender": {"returned", "returned"},
			"cancelled":        {"cancelled", ""},
		} {
			if got := classify(status, d); got != w {
				t.Errorf("classify(%s, %q) = %v, want %v", status, d, got, w)
			}
		}
	}
}

// Over every pair (and values EasyPost might add): the status is valid, and a
// playbook is set exactly for the statuses that keep one open, matching the
// domain's default playbook where it has one.
func TestEveryPairIsConsistent(t *testing.T) {
	// Every table key in both positions, so a value sent in the wrong field
	// is covered too.
	statuses := []string{"", "brand_new_status"}
	for v := range table {
		statuses = append(statuses, v)
	}
	details := append([]string{"brand_new_detail"}, statuses...)
	for _, s := range statuses {
		for _, d := range details {
			o := classify(s, d)
			if !o.status.Valid() {
				t.Errorf("classify(%q, %q) status %q is not valid", s, d, o.status)
			}
			open := o.status == aftercare.StatusException || aftercare.ExceptionFor(o.status) != ""
			if (o.exception != "") != open {
				t.Errorf("classify(%q, %q) = %v: playbook and status disagree", s, d, o)
			}
			if k := aftercare.ExceptionFor(o.status); k != "" && o.status != aftercare.StatusException && o.exception != k {
				t.Errorf("classify(%q, %q) = %v: %s always calls for %s", s, d, o, o.status, k)
			}
		}
	}
}
