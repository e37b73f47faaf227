package aftercare

import "strings"

// ShipmentStatus is a parcel's status normalized across all sources.
type ShipmentStatus string

const (
	StatusPreTransit         ShipmentStatus = "pre_transit"
	StatusInTransit          ShipmentStatus = "in_transit"
	StatusOutForDelivery     ShipmentStatus = "out_for_delivery"
	StatusAttemptedDelivery  ShipmentStatus = "attempted_delivery"
	StatusAvailableForPickup ShipmentStatus = "available_for_pickup"
	StatusDelivered          ShipmentStatus = "delivered"
	StatusException          ShipmentStatus = "exception"
	StatusReturned           ShipmentStatus = "returned"
	StatusCancelled          ShipmentStatus = "cancelled"
	StatusUnknown            ShipmentStatus = "unknown"
)

// Statuses lists every normalized status.
var Statuses = []ShipmentStatus{
	StatusPreTransit, StatusInTransit, StatusOutForDelivery, StatusAttemptedDelivery,
	StatusAvailableForPickup, StatusDelivered, StatusException, StatusReturned,
	StatusCancelled, StatusUnknown,
}

// Valid reports whether s is one of Statuses.
func (s ShipmentStatus) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Terminal statuses end a parcel's journey: a later report never moves it back.
func (s ShipmentStatus) Terminal() bool {
	return s == StatusDelivered || s == StatusReturned || s == StatusCancelled
}

// Moving reports whether the parcel is with the carrier (picked up or later).
func (s ShipmentStatus) Moving() bool {
	switch s {
	case StatusInTransit, StatusOutForDelivery, StatusAttemptedDelivery, StatusAvailableForPickup, StatusException:
		return true
	}
	return false
}

// CanFollow reports whether a newer report with status next may replace cur.
// Newer reports win, except that terminal statuses are final (delivered may
// still become returned) and unknown never overwrites what we know.
func (next ShipmentStatus) CanFollow(cur ShipmentStatus) bool {
	switch {
	case next == StatusUnknown || next == "":
		return cur == "" || cur == StatusUnknown
	case cur == StatusDelivered:
		return next == StatusReturned
	case cur.Terminal():
		return false
	}
	return true
}

// ExceptionKind names an exception playbook.
type ExceptionKind string

const (
	ExceptionDelay          ExceptionKind = "delay"
	ExceptionFailedDelivery ExceptionKind = "failed_delivery"
	ExceptionDamaged        ExceptionKind = "damaged"
	ExceptionLost           ExceptionKind = "lost"
	ExceptionReturned       ExceptionKind = "returned"
	ExceptionBackorder      ExceptionKind = "backorder"
)

// ExceptionKinds lists every playbook.
var ExceptionKinds = []ExceptionKind{
	ExceptionDelay, ExceptionFailedDelivery, ExceptionDamaged, ExceptionLost,
	ExceptionReturned, ExceptionBackorder,
}

// MessageKind is the customer notice that opens this playbook.
func (k ExceptionKind) MessageKind() Kind { return Kind("exception_" + string(k)) }

// ExceptionFor is the playbook a status calls for when the source named none.
func ExceptionFor(s ShipmentStatus) ExceptionKind {
	switch s {
	case StatusAttemptedDelivery, StatusAvailableForPickup:
		return ExceptionFailedDelivery
	case StatusReturned:
		return ExceptionReturned
	case StatusException:
		return ExceptionDelay
	}
	return ""
}

// TrackingKey normalizes a tracking number into the key of its shipment:
// upper case, letters and digits only. Carriers print the same number with
// spaces or dashes; the storefront and the tracking provider must meet.
func TrackingKey(number string) string {
	var b strings.Builder
	b.Grow(len(number))
	for _, r := range number {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// CarrierSlug normalizes a carrier name ("UPS", "ups", "USPS Returns", "DHL Express",
// "DHLExpress", "dhl") to a short lower-case slug for display and matching.
func CarrierSlug(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	s := b.String()
	for _, a := range carrierAliases {
		if strings.HasPrefix(s, a.prefix) {
			return a.slug
		}
	}
	return s
}

var carrierAliases = []struct{ prefix, slug string }{
	{"usps", "usps"}, {"unitedstatespostal", "usps"},
	{"ups", "ups"}, {"unitedparcel", "ups"},
	{"fedex", "fedex"}, {"federalexpress", "fedex"},
	{"dhl", "dhl"},
	{"canadapost", "canada_post"}, {"royalmail", "royal_mail"},
	{"australiapost", "australia_post"}, {"auspost", "australia_post"},
	{"ontrac", "ontrac"}, {"lasership", "lasership"},
}
