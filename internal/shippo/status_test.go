package shippo

import (
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// The documented lists, copied from https://docs.goshippo.com/docs/tracking/tracking
// ("Event definitions"), each substatus under the status it is documented
// for. A value Shippo documents but the table lacks fails here.
var documentedStatuses = map[string]outcome{
	"PRE_TRANSIT": {"pre_transit", ""},
	"TRANSIT":     {"in_transit", ""},
	"DELIVERED":   {"delivered", ""},
	"RETURNED":    {"returned", "returned"},
	"FAILURE":     {"exception", "delay"},
	"UNKNOWN":     {"unknown", ""},
}

var documentedSubstatuses = []struct {
	status, code string
	want         outcome
}{
	{"PRE_TRANSIT", "information_received", outcome{"pre_transit", ""}},
	{"TRANSIT", "address_issue", outcome{"exception", "failed_delivery"}},
	{"TRANSIT", "contact_carrier", outcome{"exception", "delay"}},
	{"TRANSIT", "delayed", outcome{"exception", "delay"}},
	{"TRANSIT", "delivery_attempted", outcome{"attempted_delivery", "failed_delivery"}},
	{"TRANSIT", "delivery_rescheduled", outcome{"in_transit", ""}},
	{"TRANSIT", "delivery_scheduled", outcome{"in_transit", ""}},
	{"TRANSIT", "location_inaccessible", outcome{"exception", "failed_delivery"}},
	{"TRANSIT", "notice_left", outcome{"attempted_delivery", "failed_delivery"}},
	{"TRANSIT", "out_for_delivery", outcome{"out_for_delivery", ""}},
	{"TRANSIT", "package_accepted", outcome{"in_transit", ""}},
	{"TRANSIT", "package_arrived", outcome{"in_transit", ""}},
	{"TRANSIT", "package_damaged", outcome{"exception", "damaged"}},
	{"TRANSIT", "package_departed", outcome{"in_transit", ""}},
	{"TRANSIT", "package_forwarded", outcome{"in_transit", ""}},
	{"TRANSIT", "package_held", outcome{"exception", "delay"}},
	{"TRANSIT", "package_processed", outcome{"in_transit", ""}},
	{"TRANSIT", "package_processing", outcome{"in_transit", ""}},
	{"TRANSIT", "pickup_available", outcome{"available_for_pickup", "failed_delivery"}},
	{"TRANSIT", "reschedule_delivery", outcome{"exception", "failed_delivery"}},
	{"DELIVERED", "delivered", outcome{"delivered", ""}},
	{"RETURNED", "return_to_sender", outcome{"returned", "returned"}},
	{"RETURNED", "package_unclaimed", outcome{"exception", "failed_delivery"}},
	{"FAILURE", "package_undeliverable", outcome{"exception", "failed_delivery"}},
	{"FAILURE", "package_disposed", outcome{"exception", "lost"}},
	{"FAILURE", "package_lost", outcome{"exception", "lost"}},
	{"UNKNOWN", "other", outcome{"unknown", ""}},
}

func TestEveryStatus(t *testing.T) {
	for s, w := range documentedStatuses {
		if _, ok := table[s]; !ok {
			t.Errorf("status %q is documented but not in the table", s)
		}
		if got := classify(s, ""); got != w {
			t.Errorf("classify(%q, \"\") = %v, want %v", s, got, w)
		}
	}
}

func TestEverySubstatus(t *testing.T) {
	for _, c := range documentedSubstatuses {
		if _, ok := table[c.code]; !ok {
			t.Errorf("substatus %q is documented but not in the table", c.code)
		}
		if got := classify(c.status, c.code); got != c.want {
			t.Errorf("classify(%q, %q) = %v, want %v", c.status, c.code, got, c.want)
		}
	}
	// "other" carries no meaning of its own: the status decides.
	for s, w := range documentedStatuses {
		if got := classify(s, "other"); got != w {
			t.Errorf("classify(%q, other) = %v, want %v", s, got, w)
		}
	}
}

func TestNothingUndocumented(t *testing.T) {
	documented := map[string]bool{}
	for s := range documentedStatuses {
		documented[s] = true
	}
	for _, c := range documentedSubstatuses {
		documented[c.code] = true
	}
	for v := range table {
		if !documented[v] {
			t.Errorf("%q is in the table but not documented", v)
		}
	}
}

// Every outcome is valid, and a playbook is set exactly for the statuses
// that keep one open, matching the domain's default playbook where it has one.
func TestOutcomesAreConsistent(t *testing.T) {
	for v := range table {
		for _, o := range []outcome{classify(v, ""), classify("", v)} {
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
	}
}
