package aftercare

import (
	"strconv"
	"strings"
	"time"
)

// The send policy: one function, Judge, decides whether a message may go to a
// customer now. The scheduled checks ask it when they queue lifecycle work and
// dispatch asks it again at send time, so holds, caps, staleness, consent and
// suppression are written once. Marks and ledger decisions derive from its
// typed verdict.

// Verdict is what the policy decided.
type Verdict string

// Verdicts.
const (
	VerdictSend       Verdict = "send"       // may go now
	VerdictWait       Verdict = "wait"       // not yet (not due, out of stock, cap, quiet hours): look again at Until
	VerdictHeld       Verdict = "held"       // a hold pauses it until Until; it is not lost
	VerdictStale      Verdict = "stale"      // overtaken or too late: dropped and counted
	VerdictSuppressed Verdict = "suppressed" // can never be sent
)

// Reason says why, as a constant code; Ruling.Why renders it for people.
type Reason string

// Reasons.
const (
	ReasonNone            Reason = ""
	ReasonNotBefore       Reason = "not_before"   // deferred on the queue until NotBefore
	ReasonNotDue          Reason = "not_due"      // the work's due time has not come
	ReasonOutOfStock      Reason = "out_of_stock" // replenishment / back in stock needs the variant in stock
	ReasonCap             Reason = "marketing_cap"
	ReasonQuietHours      Reason = "quiet_hours" // SMS between quiet start and end, shop time
	ReasonHold            Reason = "hold"        // cancelled order, open exception, unfulfilled past promise
	ReasonLate            Reason = "late"        // a timed follow-up more than StaleAfterDays late
	ReasonResolved        Reason = "resolved"    // an exception notice whose exception is closed
	ReasonUnknownCustomer Reason = "unknown_customer"
	ReasonRedacted        Reason = "redacted"
	ReasonDeleted         Reason = "deleted"
	ReasonOrderCancelled  Reason = "order_cancelled"
	ReasonNoContact       Reason = "no_contact"
	ReasonNoConsent       Reason = "no_consent"
	ReasonCannotRender    Reason = "cannot_render"
	ReasonTestOrder       Reason = "test_order"  // Shopify "test": true: never a customer message
	ReasonBounced         Reason = "bounced"     // the address hard-bounced: no email at all
	ReasonComplained      Reason = "complained"  // a spam complaint: no marketing email
	ReasonUninstalled     Reason = "uninstalled" // the app is removed from the shop: nothing goes out
)

// Stage is when the policy is asked.
type Stage int

// Stages.
const (
	AtSchedule Stage = iota // a check decides whether to queue lifecycle work
	AtSend                  // dispatch re-checks a queued message against fresh state
)

// Question is what the policy needs to know about one message.
type Question struct {
	Stage    Stage
	Now      time.Time
	Settings Settings
	Customer *Customer // nil: unknown customer
	Order    *Order    // the message's order as stored now (send time), or nil

	Kind      Kind
	DueAt     time.Time // when the work fell due (zero: not timed)
	NotBefore time.Time // deferred on the queue until then
	OrderID   string
	ProductID string // replenishment, back in stock
	VariantID string
	Exception ExceptionKind // exception notices: which episode they are about
	Shipment  string
	Episode   string

	InStock StockView // schedule time: nil means in stock
	CapFrom time.Time // the last marketing moment the cap counts from (zero: none)
	// Uninstalled: the app is removed from the message's shop (Install.Uninstalled).
	Uninstalled bool
}

// Ruling is the policy's answer.
type Ruling struct {
	Verdict Verdict
	Reason  Reason
	Until   time.Time // wait, held: when to look again
	Channel Channel   // send time: the channel the message goes by
	Detail  string    // what completes Why (consent state, closing cause, days)
}

// Why is the reason in words, for logs, marks and the ledger (never compared).
func (r Ruling) Why() string {
	switch r.Reason {
	case ReasonNotBefore:
		return "waiting"
	case ReasonNotDue:
		return "not due"
	case ReasonOutOfStock:
		return "out of stock"
	case ReasonCap:
		return "marketing cap"
	case ReasonQuietHours:
		return "sms quiet hours"
	case ReasonHold:
		return "customer on hold until " + r.Until.UTC().Format(time.RFC3339)
	case ReasonLate:
		return "more than " + r.Detail + " days late"
	case ReasonResolved:
		return "already resolved: " + r.Detail
	case ReasonUnknownCustomer:
		return "unknown customer"
	case ReasonRedacted:
		return "customer redacted"
	case ReasonDeleted:
		return "customer deleted"
	case ReasonOrderCancelled:
		return "order cancelled"
	case ReasonNoContact:
		return "no " + string(r.Channel) + " contact"
	case ReasonNoConsent:
		return "no " + string(r.Channel) + " marketing consent (" + r.Detail + ")"
	case ReasonCannotRender:
		return "cannot render: " + r.Detail
	case ReasonTestOrder:
		return "test order"
	case ReasonBounced:
		return "email address hard-bounced"
	case ReasonComplained:
		return "spam complaint from this address"
	case ReasonUninstalled:
		return "app uninstalled from the shop"
	}
	return string(r.Reason)
}

// Mark is the lifecycle mark state a verdict leaves on its cause: queued when
// a check sends it on, sent when dispatch delivered it; empty for a wait.
func (v Verdict) Mark(at Stage) string {
	switch v {
	case VerdictSend:
		if at == AtSchedule {
			return MarkQueued
		}
		return MarkSent
	case VerdictHeld:
		return MarkHeld
	case VerdictStale:
		return MarkStale
	case VerdictSuppressed:
		return MarkSuppressed
	}
	return ""
}

// Final reports whether the verdict settles the message for good (held comes
// back through the checks, but the message itself is settled).
func (v Verdict) Final() bool {
	return v == VerdictHeld || v == VerdictStale || v == VerdictSuppressed
}

// Judge applies SPEC section 5 to one message. The order matters: what can
// never be sent (redacted, cancelled, overtaken, no consent) is settled before
// what only has to wait (holds, stock, the cap, quiet hours). Rules that need
// facts only one stage has (the due time at schedule, the channel and fresh
// order at send) apply where those facts exist.
func Judge(q Question) Ruling {
	now, st, c := q.Now, q.Settings, q.Customer
	// A removed app speaks for the shop no more: not to customers, not to
	// its team, and not later either (so before any wait).
	if q.Uninstalled {
		return Ruling{Verdict: VerdictSuppressed, Reason: ReasonUninstalled}
	}
	if q.NotBefore.After(now) {
		return Ruling{Verdict: VerdictWait, Reason: ReasonNotBefore, Until: q.NotBefore}
	}
	cat := q.Kind.Category()
	if q.Kind.Audience() == AudienceTeam {
		return Ruling{Verdict: VerdictSend, Channel: ChannelEmail}
	}
	switch {
	case c == nil:
		return Ruling{Verdict: VerdictSuppressed, Reason: ReasonUnknownCustomer}
	case c.Redacted:
		return Ruling{Verdict: VerdictSuppressed, Reason: ReasonRedacted}
	case c.Deleted:
		return Ruling{Verdict: VerdictSuppressed, Reason: ReasonDeleted}
	case q.Order != nil && q.Order.Test:
		return Ruling{Verdict: VerdictSuppressed, Reason: ReasonTestOrder}
	case q.Stage == AtSchedule && q.DueAt.After(now):
		return Ruling{Verdict: VerdictWait, Reason: ReasonNotDue, Until: q.DueAt}
	case cat == Marketing && orderCancelled(q):
		return Ruling{Verdict: VerdictSuppressed, Reason: ReasonOrderCancelled}
	}
	if r, stale := staleness(q); stale {
		return r
	}
	var ch Channel
	if q.Stage == AtSend {
		ch = c.PreferredChannel(cat)
		if !c.CanReach(ch) {
			return Ruling{Verdict: VerdictSuppressed, Reason: ReasonNoContact, Channel: ch}
		}
		if ch == ChannelEmail {
			if r := c.emailBlock(cat); r != ReasonNone {
				return Ruling{Verdict: VerdictSuppressed, Reason: r, Channel: ch}
			}
		}
	}
	if cat == Marketing {
		if q.Stage == AtSend {
			if s := c.ConsentFor(ch).State; s != ConsentSubscribed {
				if s == "" {
					s = "none"
				}
				return Ruling{Verdict: VerdictSuppressed, Reason: ReasonNoConsent, Channel: ch, Detail: s}
			}
		}
		if until, held := c.HeldUntil(now, st); held {
			return Ruling{Verdict: VerdictHeld, Reason: ReasonHold, Until: until, Channel: ch}
		}
		if (q.Kind == KindReplenishment || q.Kind == KindBackInStock) && q.InStock != nil {
			if !q.InStock(q.ProductID, q.VariantID) {
				return Ruling{Verdict: VerdictWait, Reason: ReasonOutOfStock, Until: now.Add(outOfStockRecheck), Channel: ch}
			}
		}
		if capEnd := q.CapFrom.Add(Hours(st.Caps.MarketingPerHours)); !q.CapFrom.IsZero() && capEnd.After(now) {
			return Ruling{Verdict: VerdictWait, Reason: ReasonCap, Until: capEnd, Channel: ch}
		}
	}
	if ch == ChannelSMS {
		if until := st.QuietUntil(now); !until.IsZero() {
			return Ruling{Verdict: VerdictWait, Reason: ReasonQuietHours, Until: until, Channel: ch}
		}
	}
	return Ruling{Verdict: VerdictSend, Channel: ch}
}

// Hours is n hours as a duration (caps are set in hours).
func Hours(n int) time.Duration { return time.Duration(n) * time.Hour }

func orderCancelled(q Question) bool {
	if q.Order != nil && q.Order.Cancelled() {
		return true
	}
	return q.OrderID != "" && q.Customer.orderCancelled(q.OrderID)
}

// staleness catches messages the world has overtaken: a notice about a problem
// that is already resolved, or a timed follow-up that waited too long.
func staleness(q Question) (Ruling, bool) {
	if strings.HasPrefix(string(q.Kind), "exception_") && q.Kind != KindExceptionResolved && q.Order != nil {
		e := q.Order.Exceptions[ExceptionKey(q.Exception, q.Shipment)]
		if e != nil && e.Episode == q.Episode && !e.Open() {
			return Ruling{Verdict: VerdictStale, Reason: ReasonResolved, Detail: e.ClosedWhy}, true
		}
	}
	days := q.Settings.FollowUps.StaleAfterDays
	if Staleable(q.Kind) && !q.DueAt.IsZero() && q.Now.Sub(q.DueAt) > Days(days) {
		return Ruling{Verdict: VerdictStale, Reason: ReasonLate, Detail: strconv.Itoa(days)}, true
	}
	return Ruling{}, false
}
