package templates

import (
	"github.com/aftercare/aftercare/internal/aftercare"
)

// orderUse says whether a kind's message is about one order.
type orderUse int

const (
	noOrder    orderUse = iota // about the customer: an order number is left out
	maybeOrder                 // shown when the caller knows it
	needsOrder                 // rendering fails without it
)

// need is what a kind requires beyond the contract fields every kind requires
// (WhatHappened, NextAction, SupportContact; HelpURL is shown when the shop
// has help links). Render fails when a requirement is missing: a notice about
// "your order" that does not say which one is worse than a retried message.
type need struct {
	order    orderUse
	playbook bool // names the exception: Playbook must be a known one
}

// needs is the one table of what each kind requires. Tests use it too.
var needs = map[aftercare.Kind]need{
	aftercare.KindOrderShipped:            {order: needsOrder},
	aftercare.KindDeliveredSetup:          {order: needsOrder},
	aftercare.KindExceptionDelay:          {order: needsOrder},
	aftercare.KindExceptionFailedDelivery: {order: needsOrder},
	aftercare.KindExceptionDamaged:        {order: needsOrder},
	aftercare.KindExceptionLost:           {order: needsOrder},
	aftercare.KindExceptionReturned:       {order: needsOrder},
	aftercare.KindExceptionBackorder:      {order: needsOrder},
	aftercare.KindExceptionResolved:       {order: needsOrder, playbook: true},
	aftercare.KindSupportTask:             {order: needsOrder, playbook: true},
	aftercare.KindDataRequest:             {order: noOrder},
	aftercare.KindCareTips:                {order: needsOrder},
	aftercare.KindReviewRequest:           {order: needsOrder},
	aftercare.KindCheckIn:                 {order: noOrder}, // about the customer's first months, not one parcel
	aftercare.KindWinBack:                 {order: noOrder},
	aftercare.KindLapseNote:               {order: noOrder},
	aftercare.KindReplenishment:           {order: maybeOrder},
	aftercare.KindBackInStock:             {order: maybeOrder},
	aftercare.KindWeeklyReport:            {order: noOrder},
}

// channels a kind is written for: team messages are email only.
func channels(k aftercare.Kind) []aftercare.Channel {
	if k.Audience() == aftercare.AudienceTeam {
		return []aftercare.Channel{aftercare.ChannelEmail}
	}
	return []aftercare.Channel{aftercare.ChannelEmail, aftercare.ChannelSMS}
}

// check reports the first requirement f misses.
func (n need) check(k aftercare.Kind, f Fields) error {
	missing := func(field string) error {
		return aftercare.Errorf(aftercare.EINVALID, "templates: %s needs %s", k, field)
	}
	switch {
	case f.WhatHappened == "":
		return missing("WhatHappened")
	case f.NextAction == "":
		return missing("NextAction")
	case f.SupportContact == "":
		return missing("SupportContact")
	case n.order == needsOrder && f.OrderNumber == "":
		return missing("OrderNumber")
	case n.playbook && !knownPlaybook(f.Playbook):
		return aftercare.Errorf(aftercare.EINVALID, "templates: %s needs a known Playbook, got %q", k, f.Playbook)
	}
	return nil
}

func knownPlaybook(p string) bool {
	for _, e := range aftercare.ExceptionKinds {
		if string(e) == p {
			return true
		}
	}
	return false
}
