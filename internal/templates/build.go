package templates

import (
	"fmt"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// Build fills the contract parts of f that follow from the kind and the
// settings, keeping whatever the caller already knows: ShopName,
// SupportContact, HelpURL, the kind's DiscountCode (customer messages only),
// a default WhatHappened and the NextAction for the reader.
func Build(kind aftercare.Kind, s aftercare.Settings, f Fields) Fields {
	if f.ShopName == "" {
		f.ShopName = s.ShopName
	}
	if f.SupportContact == "" {
		f.SupportContact = s.SupportContact()
	}
	if f.HelpURL == "" {
		f.HelpURL = s.HelpURL(helpIssue(kind, f.Playbook))
	}
	if f.DiscountCode == "" && kind.Audience() == aftercare.AudienceCustomer {
		f.DiscountCode = s.DiscountCodes[string(kind)]
	}
	if f.WhatHappened == "" {
		f.WhatHappened = whatHappened(kind, s, f)
	}
	if f.NextAction == "" {
		f.NextAction = nextAction(kind, f)
	}
	return f
}

// helpIssue is the help-link issue type. A support task links the page of its
// playbook, the one the customer's notice links, so the team sees what the
// customer sees.
func helpIssue(kind aftercare.Kind, playbook string) string {
	if kind == aftercare.KindSupportTask && knownPlaybook(playbook) {
		return playbook
	}
	return kind.HelpIssue()
}

func whatHappened(kind aftercare.Kind, s aftercare.Settings, f Fields) string {
	p := aftercare.ExceptionKind(f.Playbook)
	switch kind {
	case aftercare.KindSupportTask:
		return or(teamFacts[p], "An exception playbook opened on this order.")
	case aftercare.KindExceptionResolved:
		return or(resolvedFacts[p], "The problem with your order is sorted out.")
	case aftercare.KindCareTips:
		return yourOrder(f) + " arrived " + about(s.FollowUps.CareTipsDays) + " ago."
	case aftercare.KindReviewRequest:
		return yourOrder(f) + " arrived " + about(s.FollowUps.ReviewRequestDays) + " ago."
	case aftercare.KindCheckIn:
		return "Your first order with us arrived " + about(s.FollowUps.CheckInDays) + " ago."
	case aftercare.KindWinBack:
		return "It's been " + about(s.FollowUps.WinBackDays) + " since your last order."
	}
	return facts[kind]
}

func nextAction(kind aftercare.Kind, f Fields) string {
	switch kind {
	case aftercare.KindSupportTask:
		return or(teamActions[aftercare.ExceptionKind(f.Playbook)], "Look into the order and reply to the customer.")
	case aftercare.KindExceptionFailedDelivery:
		return "Collect the parcel or arrange a new delivery with " + or(f.Carrier, "the carrier") +
			" soon, before it's sent back to us."
	case aftercare.KindCareTips:
		if f.HelpURL != "" {
			return "Our care guide has more tips."
		}
		return "If you're not sure how to look after it, ask us and we'll help."
	case aftercare.KindReviewRequest:
		if f.HelpURL != "" {
			return "If you have a minute, leave a short review. It helps other customers choose."
		}
		return "If you have a minute, tell us how it's going. It helps us and other customers."
	}
	return actions[kind]
}

// about puts a follow-up delay in the words a person would use; the delays
// are settings, so the wording cannot be fixed in a template.
func about(days int) string {
	switch {
	case days <= 1:
		return "a day"
	case days < 6:
		return "a few days"
	case days < 11:
		return "about a week"
	case days < 18:
		return "about two weeks"
	case days < 25:
		return "about three weeks"
	case days < 45:
		return "about a month"
	case days < 330:
		return fmt.Sprintf("about %d months", (days+15)/30)
	}
	return "about a year"
}

func yourOrder(f Fields) string {
	if f.OrderNumber == "" {
		return "Your order"
	}
	return "Your order " + f.OrderNumber
}

func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
