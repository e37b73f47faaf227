// Package ledger names the delivery ledger's vocabulary: the claim a delivery
// takes on a message id, the decision recorded for each message, and the
// errors a ledger store answers with. Dispatch uses it; the DynamoDB adapter
// implements it.
package ledger

import (
	"errors"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
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
	// ErrClaimed: the message is sent, or another delivery holds a live lease on it.
	ErrClaimed = errors.New("message already sent or being sent")
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
}

// Entry is one message's delivery record.
type Entry struct {
	ID, Status, Kind, Why, Channel, CustomerID, OrderID string
	Attempts                                            int64
}
