package aftership

import (
	"strings"
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// The documented lists, copied from AfterShip's delivery statuses and
// delivery sub-statuses pages (see status.go) and the 2026-03-27 additions.
// A value AfterShip documents but the table lacks fails here.
var documentedTags = map[string]outcome{
	"Pending":            {"unknown", ""},
	"InfoReceived":       {"pre_transit", ""},
	"InTransit":          {"in_transit", ""},
	"OutForDelivery":     {"out_for_delivery", ""},
	"AttemptFail":        {"attempted_delivery", "failed_delivery"},
	"Delivered":          {"delivered", ""},
	"AvailableForPickup": {"available_for_pickup", "failed_delivery"},
	"Exception":          {"exception", "delay"},
	"Expired":            {"unknown", ""},
}

var documentedSubtags = map[string]outcome{
	"Delivered_001": {"delivered", ""}, "Delivered_002": {"delivered", ""}, "Delivered_003": {"delivered", ""},
	"Delivered_004": {"delivered", ""}, "Delivered_005": {"delivered", ""},
	"AvailableForPickup_001": {"available_for_pickup", "failed_delivery"},
	"Exception_001":          {"exception", "delay"},           // exception
	"Exception_002":          {"exception", "failed_delivery"}, // customer moved
	"Exception_003":          {"exception", "returned"},        // customer refused delivery
	"Exception_004":          {"exception", "delay"},           // delayed (customs clearance)
	"Exception_005":          {"exception", "delay"},           // delayed (external factors)
	"Exception_006":          {"exception", "delay"},           // held for payment
	"Exception_007":          {"exception", "failed_delivery"}, // incorrect address
	"Exception_008":          {"exception", "failed_delivery"}, // pick up missed
	"Exception_009":          {"exception", "returned"},        // rejected by carrier
	"Exception_010":          {"returned", "returned"},         // returning to sender
	"Exception_011":          {"returned", "returned"},         // returned to sender
	"Exception_012":          {"exception", "damaged"},         // shipment damage
	"Exception_013":          {"exception", "lost"},            // shipment lost
	"Exception_016":          {"exception", "delay"},           // delayed (processing issue)
	"Exception_017":          {"exception", "delay"},           // delayed (extreme weather)
	"Exception_018":          {"exception", "delay"},           // incorrect / missing documents
	"Exception_019":          {"exception", "delay"},           // delayed (late flight)
	"Exception_020":          {"cancelled", ""},                // shipment cancelled
	"Exception_021":          {"exception", "lost"},            // shipment disposed
	"AttemptFail_001":        {"attempted_delivery", "failed_delivery"},
	"AttemptFail_002":        {"attempted_delivery", "failed_delivery"},
	"AttemptFail_003":        {"attempted_delivery", "failed_delivery"},
	"InTransit_001":          {"in_transit", ""}, "InTransit_002": {"in_transit", ""}, "InTransit_003": {"in_transit", ""},
	"InTransit_004": {"in_transit", ""}, "InTransit_005": {"in_transit", ""}, "InTransit_006": {"in_transit", ""},
	"InTransit_007": {"in_transit", ""}, "InTransit_008": {"in_transit", ""}, "InTransit_009": {"in_transit", ""},
	"InfoReceived_001":   {"pre_transit", ""},
	"OutForDelivery_001": {"out_for_delivery", ""},
	"OutForDelivery_003": {"out_for_delivery", ""},
	"OutForDelivery_004": {"out_for_delivery", ""},
	"Pending_001":        {"unknown", ""}, "Pending_002": {"unknown", ""}, "Pending_003": {"unknown", ""},
	"Pending_004": {"unknown", ""}, "Pending_005": {"unknown", ""}, "Pending_006": {"unknown", ""},
	"Expired_001": {"unknown", ""},
}

func TestEveryTag(t *testing.T) {
	for tag, w := range documentedTags {
		if _, ok := table[tag]; !ok {
			t.Errorf("tag %q is documented but not in the table", tag)
		}
		if got := classify(tag, ""); got != w {
			t.Errorf("classify(%q, \"\") = %v, want %v", tag, got, w)
		}
	}
}

func TestEverySubtag(t *testing.T) {
	for sub, w := range documentedSubtags {
		tag, _, _ := strings.Cut(sub, "_")
		if _, ok := documentedTags[tag]; !ok {
			t.Errorf("subtag %q names no documented tag", sub)
		}
		if _, ok := table[sub]; !ok {
			t.Errorf("subtag %q is documented but not in the table", sub)
		}
		if got := classify(tag, sub); got != w {
			t.Errorf("classify(%q, %q) = %v, want %v", tag, sub, got, w)
		}
	}
}

// The table holds nothing the documented lists do not, except the one
// legacy subtag older AfterShip lists carried.
func TestNothingUndocumented(t *testing.T) {
	for v := range table {
		_, tag := documentedTags[v]
		_, sub := documentedSubtags[v]
		if !tag && !sub && v != "OutForDelivery_002" {
			t.Errorf("%q is in the table but not documented", v)
		}
	}
	if got := classify("OutForDelivery", "OutForDelivery_002"); got != (outcome{"available_for_pickup", "failed_delivery"}) {
		t.Errorf("legacy OutForDelivery_002 = %v", got)
	}
}

// Every outcome is valid, and a playbook is set exactly for the statuses
// that keep one open, matching the domain's default playbook where it has one.
func TestOutcomesAreConsistent(t *testing.T) {
	for v, o := range table {
		if !o.status.Valid() {
			t.Errorf("%s: status %q is not valid", v, o.status)
		}
		open := o.status == aftercare.StatusException || aftercare.ExceptionFor(o.status) != ""
		if (o.exception != "") != open {
			t.Errorf("%s: %v: playbook and status disagree", v, o)
		}
		if k := aftercare.ExceptionFor(o.status); k != "" && o.status != aftercare.StatusException && o.exception != k {
			t.Errorf("%s: %v: %s always calls for %s", v, o, o.status, k)
		}
	}
	if got := classify("", ""); got != (outcome{"unknown", ""}) {
		t.Errorf("classify of nothing = %v, want unknown", got)
	}
}
