package templates

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fields is what every template may use. The five contract fields are filled
// for every message.
type Fields struct {
	OrderNumber    string // "#1001"; empty when the message is not about an order
	WhatHappened   string // plain words: what happened (for exceptions, from the carrier's detail)
	NextAction     string // the suggested next action for the reader
	SupportContact string // Settings.SupportContact()
	HelpURL        string // Settings.HelpURL for the kind's issue type

	ShopName, FirstName, Carrier, TrackingNumber, EstimatedDelivery, DiscountCode string
	// Items is comma-separated product titles, may be empty. For replenishment
	// and back_in_stock it should name only the product the message is about.
	Items string

	// TrackingURL is the carrier's tracking page (http(s) only); EstimatedDate
	// the expected delivery day as an RFC 3339 date, for the contract fields
	// (EstimatedDelivery is the same day in words, for people).
	TrackingURL, EstimatedDate string
	// UnsubscribeURL is the one-click link of a marketing message.
	UnsubscribeURL string

	Playbook string // for support_task and exception_resolved: which exception ("damaged", "delay", ...)
	Detail   string // raw carrier detail, for the team

	CustomerEmail, CustomerPhone string // for team messages only
}

// Rendered is one message ready to deliver.
type Rendered struct {
	Subject string            // empty for SMS
	Body    string            // plain text
	Fields  map[string]string // the delivery contract's "fields"
}

// contract is the delivery contract's "fields": order_number only when the
// message is about an order, the other four always.
func (f Fields) contract() map[string]string {
	m := map[string]string{
		"what_happened":   f.WhatHappened,
		"next_action":     f.NextAction,
		"support_contact": f.SupportContact,
		"help_url":        f.HelpURL,
	}
	if f.OrderNumber != "" {
		m["order_number"] = f.OrderNumber
	}
	// SPEC 13: the parcel, when the message is about one and it is known.
	for k, v := range map[string]string{"carrier": f.Carrier, "tracking_number": f.TrackingNumber,
		"tracking_url": f.TrackingURL, "estimated_delivery": f.EstimatedDate} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// tidy puts every field on one line with single spaces: carrier details and
// product titles arrive with newlines, tabs and runs of spaces, and a stray
// newline in a subject or an SMS breaks the message.
func (f Fields) tidy() Fields {
	for _, x := range f.strings() {
		*x.p = oneLine(*x.p)
	}
	// Both are shown as sentences; sources write "paid but not shipped ...".
	f.WhatHappened = capitalize(f.WhatHappened)
	f.NextAction = capitalize(f.NextAction)
	return f
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || unicode.IsUpper(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// field is one string field and the name templates call it by.
type field struct {
	name string
	p    *string
}

// strings points at every field, with its name, for code that treats them
// all alike: tidy, the dry run, and the template engine, which looks fields
// up in this table instead of by reflection.
func (f *Fields) strings() []field {
	return []field{
		{"OrderNumber", &f.OrderNumber}, {"WhatHappened", &f.WhatHappened}, {"NextAction", &f.NextAction},
		{"SupportContact", &f.SupportContact}, {"HelpURL", &f.HelpURL}, {"ShopName", &f.ShopName},
		{"FirstName", &f.FirstName}, {"Carrier", &f.Carrier}, {"TrackingNumber", &f.TrackingNumber},
		{"EstimatedDelivery", &f.EstimatedDelivery}, {"DiscountCode", &f.DiscountCode}, {"Items", &f.Items},
		{"Playbook", &f.Playbook}, {"Detail", &f.Detail}, {"CustomerEmail", &f.CustomerEmail},
		{"CustomerPhone", &f.CustomerPhone}, {"TrackingURL", &f.TrackingURL}, {"EstimatedDate", &f.EstimatedDate},
		{"UnsubscribeURL", &f.UnsubscribeURL},
	}
}

// values are the fields in the order of strings, as the engine reads them.
func (f *Fields) values() []string {
	fs := f.strings()
	v := make([]string, len(fs))
	for i, x := range fs {
		v[i] = *x.p
	}
	return v
}
