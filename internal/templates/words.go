package templates

import "github.com/aftercare/aftercare/internal/aftercare"

// facts are the default WhatHappened of kinds whose wording needs nothing
// else; build.go handles the rest.
var facts = map[aftercare.Kind]string{
	aftercare.KindOrderShipped:            "Your parcel is with the carrier and on its way.",
	aftercare.KindDeliveredSetup:          "Your order has been delivered.",
	aftercare.KindExceptionDelay:          "Your order is taking longer than expected to reach you.",
	aftercare.KindExceptionFailedDelivery: "The carrier tried to deliver your parcel but couldn't.",
	aftercare.KindExceptionDamaged:        "Your parcel was damaged on its way to you.",
	aftercare.KindExceptionLost:           "The carrier has lost track of your parcel.",
	aftercare.KindExceptionReturned:       "Your parcel is on its way back to us instead of to you.",
	aftercare.KindExceptionBackorder:      "An item in your order is out of stock for now.",
	aftercare.KindDataRequest:             "A customer asked for a copy of the personal data the shop holds about them.",
	aftercare.KindLapseNote:               "You've ordered from us regularly, and we haven't seen you for a while.",
	aftercare.KindReplenishment:           "By now you may be running low on what you bought last time.",
	aftercare.KindBackInStock:             "An item you were waiting for is back in stock.",
	aftercare.KindWeeklyReport:            "Last week's report is ready.", // report.Digest fills in the numbers
}

// actions are what the customer can do, per kind; the team's support task
// takes its next action from teamActions instead.
var actions = map[aftercare.Kind]string{
	aftercare.KindOrderShipped:       "Nothing to do for now: you can follow the parcel with its tracking number.",
	aftercare.KindDeliveredSetup:     "Check that everything arrived in good shape, then follow the setup steps before you first use it.",
	aftercare.KindExceptionDelay:     "Nothing for now. We're keeping an eye on it, and you'll hear from us when it's moving again.",
	aftercare.KindExceptionDamaged:   "Send us a photo of the damage and tell us whether you'd like a replacement or a refund.",
	aftercare.KindExceptionLost:      "Tell us whether you'd like a replacement or a refund. We'll deal with the carrier.",
	aftercare.KindExceptionReturned:  "Check the delivery address on your order and tell us whether to send it again or refund you.",
	aftercare.KindExceptionBackorder: "Nothing for now: we'll ship it as soon as it's back. If you'd rather not wait, tell us and we'll refund that item.",
	aftercare.KindExceptionResolved:  "Nothing more to do. If something still isn't right, tell us.",
	aftercare.KindDataRequest:        "Send the export to the customer within 30 days of the request.",
	aftercare.KindCheckIn:            "Tell us how it's holding up. If anything isn't right, we'll help.",
	aftercare.KindWinBack:            "Have a look at what's new in the shop.",
	aftercare.KindLapseNote:          "If anything put you off, we'd like to hear about it.",
	aftercare.KindReplenishment:      "Order again in good time, so you don't run out.",
	aftercare.KindBackInStock:        "If your order is still waiting for it, there's nothing to do: we'll send it on. If not, and you still want it, you can order it now.",
	aftercare.KindWeeklyReport:       "Open the dashboard for the whole picture.", // report.Digest gives the signed link
}

// teamFacts are the support task's default WhatHappened per playbook.
var teamFacts = map[aftercare.ExceptionKind]string{
	aftercare.ExceptionDelay:          "The order is late: its parcel has stalled, or it has not shipped in time.",
	aftercare.ExceptionFailedDelivery: "The carrier could not deliver the parcel.",
	aftercare.ExceptionDamaged:        "The parcel was reported damaged.",
	aftercare.ExceptionLost:           "The parcel was reported lost.",
	aftercare.ExceptionReturned:       "The parcel is being returned to the shop.",
	aftercare.ExceptionBackorder:      "An ordered item has no stock.",
}

// teamActions are the suggested next step per playbook: what fixes it.
var teamActions = map[aftercare.ExceptionKind]string{
	aftercare.ExceptionDelay:          "Check the parcel with the carrier (or ship the order) and give the customer a realistic date.",
	aftercare.ExceptionFailedDelivery: "Make sure the customer knows where to collect the parcel, or ask the carrier to redeliver.",
	aftercare.ExceptionDamaged:        "Open a carrier claim and offer a replacement or refund.",
	aftercare.ExceptionLost:           "Open a lost-parcel claim with the carrier and send a replacement or refund.",
	aftercare.ExceptionReturned:       "Confirm the customer's address, then reship or refund once the parcel is back.",
	aftercare.ExceptionBackorder:      "Give the customer a restock date, or offer a swap or a refund for the item.",
}

// resolvedFacts tell the customer which problem is over.
var resolvedFacts = map[aftercare.ExceptionKind]string{
	aftercare.ExceptionDelay:          "Your order is moving again.",
	aftercare.ExceptionFailedDelivery: "Your parcel is on its way to you again.",
	aftercare.ExceptionDamaged:        "The damage report on your parcel has been cleared.",
	aftercare.ExceptionLost:           "Your parcel has turned up and is moving again.",
	aftercare.ExceptionReturned:       "Your parcel is on its way to you again.",
	aftercare.ExceptionBackorder:      "The missing item is back in stock, so your order can go out.",
}

// problems name a playbook in a subject line or an SMS.
var problems = map[string]string{
	string(aftercare.ExceptionDelay):          "delay",
	string(aftercare.ExceptionFailedDelivery): "missed delivery",
	string(aftercare.ExceptionDamaged):        "damaged parcel",
	string(aftercare.ExceptionLost):           "lost parcel",
	string(aftercare.ExceptionReturned):       "returned parcel",
	string(aftercare.ExceptionBackorder):      "out-of-stock item",
}
