package templates

import (
	"strings"
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// testSettings are the defaults of a shop that filled in everything: both
// support channels, a help link per issue type, and, when codes is true, the
// win-back and lapse discount codes.
func testSettings(codes bool) aftercare.Settings {
	s := aftercare.DefaultSettings()
	s.ShopName = "Juniper & Oak Home Goods"
	s.SupportEmail = "hello@juniperandoak.example"
	s.SupportPhone = "+1 555 010 0199"
	for _, issue := range aftercare.HelpIssues {
		s.HelpURLs[issue] = "https://juniperandoak.example/pages/help/" + strings.ReplaceAll(issue, "_", "-")
	}
	if codes {
		s.DiscountCodes[string(aftercare.KindWinBack)] = "WELCOMEBACK15"
		s.DiscountCodes[string(aftercare.KindLapseNote)] = "THANKYOU20"
	}
	if err := s.Validate(); err != nil {
		panic(err)
	}
	return s
}

// playbookOf is the exception a kind is about, for the kinds that name one.
func playbookOf(k aftercare.Kind) aftercare.ExceptionKind {
	if p, ok := strings.CutPrefix(string(k), "exception_"); ok && k != aftercare.KindExceptionResolved {
		return aftercare.ExceptionKind(p)
	}
	switch k {
	case aftercare.KindSupportTask:
		return aftercare.ExceptionDamaged
	case aftercare.KindExceptionResolved:
		return aftercare.ExceptionDelay
	}
	return ""
}

// stateFields is what dispatch knows from state for a message of kind k:
// carrier words for exceptions, the order when the kind is about one.
func stateFields(k aftercare.Kind, firstName string) Fields {
	f := Fields{FirstName: firstName, Playbook: string(playbookOf(k))}
	if needs[k].order != noOrder {
		f.OrderNumber = "#1001"
		f.Items = "Linen apron, Beeswax food wraps (set of 3)"
	}
	if strings.HasPrefix(string(k), "exception_") || k == aftercare.KindOrderShipped || k == aftercare.KindSupportTask {
		f.Carrier, f.TrackingNumber = "UPS", "1Z999AA10123456784"
	}
	if k.Audience() == aftercare.AudienceTeam {
		f.CustomerEmail, f.CustomerPhone = "ada.lovelace@example.com", "+44 7700 900123"
	}
	switch {
	case k == aftercare.KindExceptionResolved: // the default wording says which problem is over
	case f.Playbook == string(aftercare.ExceptionDamaged):
		f.WhatHappened, f.Detail = "Package damaged in transit; carrier is contacting the shipper", "DAMAGED - CONTENTS INSPECTED"
	case f.Playbook == string(aftercare.ExceptionFailedDelivery):
		f.WhatHappened, f.Detail = "Delivery attempted - no one available to sign", "attempted_delivery: NO ACCESS"
	}
	return f
}

// renderAll renders every kind on every channel from state fields and the
// settings s, and hands each message to check.
func renderAll(t *testing.T, s aftercare.Settings, firstName string, check func(aftercare.Kind, aftercare.Channel, Rendered)) {
	t.Helper()
	for _, k := range aftercare.Kinds {
		for _, ch := range channels(k) {
			r, err := Render(k, ch, Build(k, s, stateFields(k, firstName)))
			if err != nil {
				t.Fatalf("%s %s: %v", k, ch, err)
			}
			check(k, ch, r)
		}
	}
}
