package shopify

import "github.com/aftercare/aftercare/internal/aftercare"

// outcome is what one Shopify shipment status means: a normalized status and
// the playbook it calls for ("" for normal progress).
type outcome struct {
	status    aftercare.ShipmentStatus
	exception aftercare.ExceptionKind
}

// statuses maps every documented fulfillment shipment_status and fulfillment
// event status (the two share one list). Source: Shopify Admin REST
// Fulfillment.shipment_status and FulfillmentEvent.status, plus the newer
// picked_up and delayed values of FulfillmentEventStatus.
var statuses = map[string]outcome{
	"label_printed":      {aftercare.StatusPreTransit, ""},
	"label_purchased":    {aftercare.StatusPreTransit, ""},
	"confirmed":          {aftercare.StatusPreTransit, ""},
	"carrier_picked_up":  {aftercare.StatusInTransit, ""},
	"in_transit":         {aftercare.StatusInTransit, ""},
	"out_for_delivery":   {aftercare.StatusOutForDelivery, ""},
	"attempted_delivery": {aftercare.StatusAttemptedDelivery, aftercare.ExceptionFailedDelivery},
	"ready_for_pickup":   {aftercare.StatusAvailableForPickup, aftercare.ExceptionFailedDelivery},
	"picked_up":          {aftercare.StatusDelivered, ""}, // collected by the customer
	"delivered":          {aftercare.StatusDelivered, ""},
	"delayed":            {aftercare.StatusException, aftercare.ExceptionDelay},
	// failure: tracking broke or the carrier reported a problem it did not name.
	"failure": {aftercare.StatusException, aftercare.ExceptionDelay},
}

// shipmentStatus maps a Shopify status; anything unknown is StatusUnknown
// (the raw value stays on the event as detail).
func shipmentStatus(s string) outcome {
	if o, ok := statuses[s]; ok {
		return o
	}
	return outcome{aftercare.StatusUnknown, ""}
}

// StatusTable is the documented status values this source maps and the
// normalized status each means ("" when a value says nothing about where the
// parcel is). The source registry publishes it so tests can range over every
// source's table.
func StatusTable() map[string]aftercare.ShipmentStatus {
	out := make(map[string]aftercare.ShipmentStatus, len(statuses))
	for k, o := range statuses {
		out[k] = o.status
	}
	return out
}
