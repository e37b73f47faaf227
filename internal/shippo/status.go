package shippo

import "github.com/aftercare/aftercare/internal/aftercare"

// outcome is what one Shippo status or substatus code means: a normalized
// status and the playbook it calls for ("" for normal progress).
type outcome struct {
	status    aftercare.ShipmentStatus
	exception aftercare.ExceptionKind
}

// table maps every documented tracking status (upper case) and substatus
// code (lower case); the spellings never collide, so one table holds both.
// A substatus is more specific than its status and is looked up first.
// Source: https://docs.goshippo.com/docs/tracking/tracking ("Event
// definitions": status, substatus and action required).
var table = map[string]outcome{
	// status
	"UNKNOWN":     {aftercare.StatusUnknown, ""},
	"PRE_TRANSIT": {aftercare.StatusPreTransit, ""},
	"TRANSIT":     {aftercare.StatusInTransit, ""},
	"DELIVERED":   {aftercare.StatusDelivered, ""},
	"RETURNED":    {aftercare.StatusReturned, aftercare.ExceptionReturned},
	"FAILURE":     {aftercare.StatusException, aftercare.ExceptionDelay}, // a delivery issue with no reason: the generic playbook

	// substatus code
	"information_received":  {aftercare.StatusPreTransit, ""},
	"address_issue":         {aftercare.StatusException, aftercare.ExceptionFailedDelivery},
	"contact_carrier":       {aftercare.StatusException, aftercare.ExceptionDelay}, // an unnamed problem: the generic playbook
	"delayed":               {aftercare.StatusException, aftercare.ExceptionDelay},
	"delivery_attempted":    {aftercare.StatusAttemptedDelivery, aftercare.ExceptionFailedDelivery},
	"delivery_rescheduled":  {aftercare.StatusInTransit, ""},
	"delivery_scheduled":    {aftercare.StatusInTransit, ""},
	"location_inaccessible": {aftercare.StatusException, aftercare.ExceptionFailedDelivery},
	"notice_left":           {aftercare.StatusAttemptedDelivery, aftercare.ExceptionFailedDelivery},
	"out_for_delivery":      {aftercare.StatusOutForDelivery, ""},
	"package_accepted":      {aftercare.StatusInTransit, ""},
	"package_arrived":       {aftercare.StatusInTransit, ""},
	"package_damaged":       {aftercare.StatusException, aftercare.ExceptionDamaged},
	"package_departed":      {aftercare.StatusInTransit, ""},
	"package_forwarded":     {aftercare.StatusInTransit, ""},
	"package_held":          {aftercare.StatusException, aftercare.ExceptionDelay},
	"package_processed":     {aftercare.StatusInTransit, ""},
	"package_processing":    {aftercare.StatusInTransit, ""},
	"pickup_available":      {aftercare.StatusAvailableForPickup, aftercare.ExceptionFailedDelivery},
	"reschedule_delivery":   {aftercare.StatusException, aftercare.ExceptionFailedDelivery}, // the recipient must contact the carrier
	"delivered":             {aftercare.StatusDelivered, ""},
	"return_to_sender":      {aftercare.StatusReturned, aftercare.ExceptionReturned},
	"package_unclaimed":     {aftercare.StatusException, aftercare.ExceptionFailedDelivery}, // pickup needed; it is not back with the sender yet
	"package_undeliverable": {aftercare.StatusException, aftercare.ExceptionFailedDelivery},
	"package_disposed":      {aftercare.StatusException, aftercare.ExceptionLost}, // destroyed: it will not arrive
	"package_lost":          {aftercare.StatusException, aftercare.ExceptionLost},
	"other":                 {"", ""}, // unrecognized carrier status: the status decides
}

// classify reads the substatus code when Shippo documents it, else the
// status.
func classify(status, code string) outcome {
	if o, ok := table[code]; ok && o.status != "" {
		return o
	}
	if o, ok := table[status]; ok && o.status != "" {
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
