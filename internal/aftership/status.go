package aftership

import "github.com/aftercare/aftercare/internal/aftercare"

// outcome is what one AfterShip tag or subtag means: a normalized status and
// the playbook it calls for ("" for normal progress).
type outcome struct {
	status    aftercare.ShipmentStatus
	exception aftercare.ExceptionKind
}

// table maps every documented tag (delivery status) and subtag (delivery
// sub-status). Tags and subtags never share a spelling, so one table holds
// both; a subtag is more specific than its tag and is looked up first.
// Sources: https://www.aftership.com/docs/tracking/enum/delivery-statuses,
// https://www.aftership.com/docs/tracking/2026-07/enum/delivery-sub-statuses
// and, for the sub-statuses added on 2026-03-27,
// https://support.aftership.com/en/article/learn-about-delivery-sub-statuses-1b0hdlx
var table = map[string]outcome{
	// tags
	"Pending":            {aftercare.StatusUnknown, ""}, // AfterShip has no carrier information yet
	"InfoReceived":       {aftercare.StatusPreTransit, ""},
	"InTransit":          {aftercare.StatusInTransit, ""},
	"OutForDelivery":     {aftercare.StatusOutForDelivery, ""},
	"AttemptFail":        {aftercare.StatusAttemptedDelivery, aftercare.ExceptionFailedDelivery},
	"Delivered":          {aftercare.StatusDelivered, ""},
	"AvailableForPickup": {aftercare.StatusAvailableForPickup, aftercare.ExceptionFailedDelivery},
	"Exception":          {aftercare.StatusException, aftercare.ExceptionDelay}, // no specific reason: the generic playbook
	"Expired":            {aftercare.StatusUnknown, ""},                         // no news for 30 days; the stall check owns that

	"InfoReceived_001": {aftercare.StatusPreTransit, ""},

	"InTransit_001": {aftercare.StatusInTransit, ""}, // shipment on the way
	"InTransit_002": {aftercare.StatusInTransit, ""}, // accepted by the carrier
	"InTransit_003": {aftercare.StatusInTransit, ""}, // arrived at a hub or sorting center
	"InTransit_004": {aftercare.StatusInTransit, ""}, // arrived in the destination country
	"InTransit_005": {aftercare.StatusInTransit, ""}, // customs clearance completed
	"InTransit_006": {aftercare.StatusInTransit, ""}, // handed over to customs
	"InTransit_007": {aftercare.StatusInTransit, ""}, // departure scan
	"InTransit_008": {aftercare.StatusInTransit, ""}, // problem resolved, in transit again
	"InTransit_009": {aftercare.StatusInTransit, ""}, // forwarded to a different delivery address

	"OutForDelivery_001": {aftercare.StatusOutForDelivery, ""},
	"OutForDelivery_002": {aftercare.StatusAvailableForPickup, aftercare.ExceptionFailedDelivery}, // older lists: arrived and available for pickup
	"OutForDelivery_003": {aftercare.StatusOutForDelivery, ""},                                    // customer contacted before delivery
	"OutForDelivery_004": {aftercare.StatusOutForDelivery, ""},                                    // delivery appointment scheduled

	"AttemptFail_001": {aftercare.StatusAttemptedDelivery, aftercare.ExceptionFailedDelivery}, // failed attempt, notice left
	"AttemptFail_002": {aftercare.StatusAttemptedDelivery, aftercare.ExceptionFailedDelivery}, // recipient not available
	"AttemptFail_003": {aftercare.StatusAttemptedDelivery, aftercare.ExceptionFailedDelivery}, // business closed

	"Delivered_001": {aftercare.StatusDelivered, ""},
	"Delivered_002": {aftercare.StatusDelivered, ""}, // picked up by the customer
	"Delivered_003": {aftercare.StatusDelivered, ""}, // signed by the customer
	"Delivered_004": {aftercare.StatusDelivered, ""}, // cash on delivery collected
	"Delivered_005": {aftercare.StatusDelivered, ""}, // delivered to a neighbor

	"AvailableForPickup_001": {aftercare.StatusAvailableForPickup, aftercare.ExceptionFailedDelivery},

	"Exception_001": {aftercare.StatusException, aftercare.ExceptionDelay},          // shipping exception, no reason given
	"Exception_002": {aftercare.StatusException, aftercare.ExceptionFailedDelivery}, // customer moved
	"Exception_003": {aftercare.StatusException, aftercare.ExceptionReturned},       // customer refused delivery; it goes back
	"Exception_004": {aftercare.StatusException, aftercare.ExceptionDelay},          // customs clearance
	"Exception_005": {aftercare.StatusException, aftercare.ExceptionDelay},          // external factors
	"Exception_006": {aftercare.StatusException, aftercare.ExceptionDelay},          // held for payment
	"Exception_007": {aftercare.StatusException, aftercare.ExceptionFailedDelivery}, // incorrect address
	"Exception_008": {aftercare.StatusException, aftercare.ExceptionFailedDelivery}, // pickup missed
	"Exception_009": {aftercare.StatusException, aftercare.ExceptionReturned},       // rejected by the carrier; it goes back
	"Exception_010": {aftercare.StatusReturned, aftercare.ExceptionReturned},        // returning to sender
	"Exception_011": {aftercare.StatusReturned, aftercare.ExceptionReturned},        // returned to sender
	"Exception_012": {aftercare.StatusException, aftercare.ExceptionDamaged},        // shipment damaged
	"Exception_013": {aftercare.StatusException, aftercare.ExceptionLost},           // shipment lost
	"Exception_016": {aftercare.StatusException, aftercare.ExceptionDelay},          // processing issue: misroute, sorting error
	"Exception_017": {aftercare.StatusException, aftercare.ExceptionDelay},          // extreme weather
	"Exception_018": {aftercare.StatusException, aftercare.ExceptionDelay},          // held for incorrect or missing documents
	"Exception_019": {aftercare.StatusException, aftercare.ExceptionDelay},          // late flight
	"Exception_020": {aftercare.StatusCancelled, ""},                                // voided or cancelled by sender or carrier
	"Exception_021": {aftercare.StatusException, aftercare.ExceptionLost},           // disposed of: it will not arrive

	"Expired_001": {aftercare.StatusUnknown, ""},

	"Pending_001": {aftercare.StatusUnknown, ""},
	"Pending_002": {aftercare.StatusUnknown, ""},
	"Pending_003": {aftercare.StatusUnknown, ""},
	"Pending_004": {aftercare.StatusUnknown, ""},
	"Pending_005": {aftercare.StatusUnknown, ""},
	"Pending_006": {aftercare.StatusUnknown, ""},
}

// classify reads the subtag when AfterShip documents it, else the tag; a
// subtag added after this table falls back to its tag, so a new Exception_0xx
// still opens the generic playbook.
func classify(tag, subtag string) outcome {
	if o, ok := table[subtag]; ok {
		return o
	}
	if o, ok := table[tag]; ok {
		return o
	}
	return outcome{aftercare.StatusUnknown, ""}
}

// StatusTable is the documented status values this source maps and the
// normalized status each means ("" when a value says nothing about where the
// parcel is). The source registry publishes it so tests can range over every
// source's table.
func StatusTable() map[string]aftercare.ShipmentStatus {
	out := make(map[string]aftercare.ShipmentStatus, len(table))
	for k, o := range table {
		out[k] = o.status
	}
	return out
}
