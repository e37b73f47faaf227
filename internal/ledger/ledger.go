// Package ledger names the delivery ledger's vocabulary: the claim a delivery
// takes on a message id, the decision recorded for each message, and the
// errors a ledger store answers with. Dispatch uses it; the DynamoDB adapter
// implements it.
package ledger

import (
	"errors"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/report"
)

// Decisions recorded per message: the send policy's final verdicts under
// their own names, plus what only delivery knows (duplicate, failed).
const (
	Sent       = "sent"
	Held       = string(aftercare.VerdictHeld)
	Suppressed = string(aftercare.VerdictSuppressed)
	Stale      = string(aftercare.VerdictStale)
	Deferred   = "deferred"
	Duplicate  = "duplicate"
	Failed     = "failed"
)

// DecisionOf is the ledger decision a send-policy verdict records.
func DecisionOf(v aftercare.Verdict) string {
	switch v {
	case aftercare.VerdictSend:
		return Sent
	case aftercare.VerdictWait:
		return Deferred
	}
	return string(v)
}

var (
	// ErrClaimed: the message has a final decision (sent, suppressed, ...).
	ErrClaimed = errors.New("message already sent or being sent")
	// ErrInFlight: another delivery holds a live lease on the message; Claim
	// returns when the lease ends. The holder may still die, so the message
	// is tried again after that, never acknowledged as a duplicate.
	ErrInFlight = errors.New("message being sent by another delivery")
	// ErrUnknownOutcome: an earlier attempt at a marketing message claimed it
	// and never recorded what happened (it died or timed out mid-send). The
	// customer may have it, and marketing goes at most once: it is not sent.
	ErrUnknownOutcome = errors.New("earlier attempt's outcome unknown")
	// ErrCapped: the customer got marketing within the cap window.
	ErrCapped = errors.New("marketing cap reached")
	// ErrConflict: the customer changed since it was read.
	ErrConflict = errors.New("customer changed since it was read")
)

// Claim asks for a message id.
type Claim struct {
	Shop, ID, Token string
	Kind            aftercare.Kind
	CustomerID      string
	Lease           time.Time // the invocation's deadline: a timed-out attempt frees it then
	Now             time.Time
	CapSince        time.Time // zero: not marketing; else the cap slot is free if last taken before this
}

// Record is one final decision.
type Record struct {
	Shop, ID   string
	Kind       aftercare.Kind
	Decision   string
	Why        string
	Channel    aftercare.Channel
	Token      string // set when the decision ends a claim
	At         time.Time
	CustomerID string
	OrderID    string
	Customer   *aftercare.Customer // changed customer to write, or nil
	// Zone is the shop's time zone: the report counts the decision on its
	// day there (nil: UTC).
	Zone *time.Location
	// Adds are further report counters to commit with the record: what the
	// customer's change adds (report.Change of the customer as read and as
	// written). The decision's own counters the store adds itself.
	Adds report.Adds
}

// Entry is one message's delivery record.
type Entry struct {
	ID, Status, Kind, Why, Channel, CustomerID, OrderID string
	Attempts                                            int64
	Counted                                             Counted // what the report counts for it
}

// Counted is the decision a ledger entry counts in the merchant report, with
// the time it was first taken; zero when the entry counts nothing yet.
type Counted struct {
	Decision string
	At       time.Time
}

// Recount is what a new decision adds to the report's day counters when it
// replaces prev: the message leaves its old decision's day and joins the new
// one. Taking the same decision again keeps its first time and adds nothing,
// so a message held run after run counts once, on the day it was first held.
// The store writes next on the entry in the same transaction as the adds,
// conditioned on the entry still counting prev: exactly once per decision.
func Recount(kind aftercare.Kind, prev Counted, decision string, at time.Time, zone *time.Location) (next Counted, adds report.Adds) {
	if zone == nil {
		zone = time.UTC
	}
	next = Counted{Decision: decision, At: at.UTC()}
	if prev.Decision == decision && !prev.At.IsZero() {
		next = prev
	}
	var before *report.Decision
	if prev.Decision != "" {
		before = &report.Decision{Kind: kind, Decision: prev.Decision, At: prev.At}
	}
	adds = report.Change(before, &report.Decision{Kind: kind, Decision: next.Decision, At: next.At}, zone)
	return next, adds
}
