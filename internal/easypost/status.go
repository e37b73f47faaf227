package easypost

import "github.com/aftercare/aftercare/internal/aftercare"

// outcome is what one EasyPost value means: a normalized status ("" when the
// value says nothing about where the parcel is) and the playbook it calls for
// ("" for normal progress).
type outcome struct {
	status    aftercare.ShipmentStatus
	exception aftercare.ExceptionKind
}

// table maps every documented Tracker status and status_detail value. The two
// lists share names (in_transit, out_for_delivery, failure, cancelled,
// unknown) with the same meaning, so one table holds both.
// Source: https://docs.easypost.com/docs/trackers (Tracker object, status and
// status_detail "Possible values"; the same lists are in EasyPost's client
// libraries' TrackingDetail documentation).
var table = map[string]outcome{
	// status
	"unknown":              {aftercare.StatusUnknown, ""},
	"pre_transit":          {aftercare.StatusPreTransit, ""},
	"in_transit":           {aftercare.StatusInTransit, ""},
	"out_for_delivery":     {aftercare.StatusOutForDelivery, ""},
	"delivered":            {aftercare.StatusDelivered, ""},
	"available_for_pickup": {aftercare.StatusAvailableForPickup, aftercare.ExceptionFailedDelivery},
	"return_to_sender":     {aftercare.StatusReturned, aftercare.ExceptionReturned},
	"failure":              {aftercare.StatusException, aftercare.ExceptionDelay}, // a failure with no detail: the generic playbook
	"cancelled":            {aftercare.StatusCancelled, ""},
	"error":                {aftercare.StatusUnknown, ""}, // EasyPost could not track it; says nothing about the parcel

	// status_detail
	"address_correction":                 {aftercare.StatusException, aftercare.ExceptionFailedDelivery}, // an address problem the recipient may need to fix
	"arrived_at_destination":             {aftercare.StatusInTransit, ""},
	"arrived_at_facility":                {aftercare.StatusInTransit, ""},
	"arrived_at_pickup_location":         {aftercare.StatusAvailableForPickup, aftercare.ExceptionFailedDelivery},
	"awaiting_information":               {aftercare.StatusPreTransit, ""},
	"damaged":                            {aftercare.StatusException, aftercare.ExceptionDamaged},
	"delayed":                            {aftercare.StatusException, aftercare.ExceptionDelay},
	"delivery_exception":                 {aftercare.StatusException, aftercare.ExceptionFailedDelivery},
	"departed_facility":                  {aftercare.StatusInTransit, ""},
	"departed_origin_facility":           {aftercare.StatusInTransit, ""},
	"expired":                            {"", ""}, // tracking went quiet; the stall check owns that
	"held":                               {aftercare.StatusException, aftercare.ExceptionDelay},
	"label_created":                      {aftercare.StatusPreTransit, ""},
	"lost":                               {aftercare.StatusException, aftercare.ExceptionLost},
	"missorted":                          {aftercare.StatusException, aftercare.ExceptionDelay},
	"received_at_destination_facility":   {aftercare.StatusInTransit, ""},
	"received_at_origin_facility":        {aftercare.StatusInTransit, ""},
	"refused":                            {aftercare.StatusException, aftercare.ExceptionReturned}, // refused parcels go back to the sender
	"return":                             {aftercare.StatusReturned, aftercare.ExceptionReturned},
	"status_update":                      {"", ""}, // informational scan
	"transferred_to_destination_carrier": {aftercare.StatusInTransit, ""},
	"transit_exception":                  {aftercare.StatusException, aftercare.ExceptionDelay},
	"weather_delay":                      {aftercare.StatusException, aftercare.ExceptionDelay},
}

// classify combines a Tracker's status and status_detail. A problem detail
// decides the playbook and, under any status that is not final, the status
// too: in_transit with weather_delay is a carrier delay, so it opens the
// delay playbook. A normal detail only fills in an unknown status.
func classify(status, detail string) outcome {
	base, ok := table[status]
	if !ok || base.status == "" { // a detail-only value in the status field says nothing
		base = outcome{aftercare.StatusUnknown, ""}
	}
	d := table[detail]
	switch {
	case d.exception != "" && !base.status.Terminal():
		return d
	case base.status == aftercare.StatusUnknown && d.status != "":
		return d
	}
	return base
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
