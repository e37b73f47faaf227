package aftercare

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// Kind is what a message is about.
type Kind string

const (
	KindOrderShipped            Kind = "order_shipped"
	KindDeliveredSetup          Kind = "delivered_setup"
	KindExceptionDelay          Kind = "exception_delay"
	KindExceptionFailedDelivery Kind = "exception_failed_delivery"
	KindExceptionDamaged        Kind = "exception_damaged"
	KindExceptionLost           Kind = "exception_lost"
	KindExceptionReturned       Kind = "exception_returned"
	KindExceptionBackorder      Kind = "exception_backorder"
	KindExceptionResolved       Kind = "exception_resolved"
	KindSupportTask             Kind = "support_task"
	KindDataRequest             Kind = "data_request"
	KindCareTips                Kind = "care_tips"
	KindReviewRequest           Kind = "review_request"
	KindCheckIn                 Kind = "check_in"
	KindWinBack                 Kind = "win_back"
	KindLapseNote               Kind = "lapse_note"
	KindReplenishment           Kind = "replenishment"
	KindBackInStock             Kind = "back_in_stock"
	KindWeeklyReport            Kind = "weekly_report"
)

// Category decides which consent a message needs.
type Category string

const (
	Transactional Category = "transactional"
	Marketing     Category = "marketing"
)

// Audience is who reads the message.
type Audience string

const (
	AudienceCustomer Audience = "customer"
	AudienceTeam     Audience = "team"
)

// Kinds lists every message kind.
var Kinds = []Kind{
	KindOrderShipped, KindDeliveredSetup, KindExceptionDelay, KindExceptionFailedDelivery,
	KindExceptionDamaged, KindExceptionLost, KindExceptionReturned, KindExceptionBackorder,
	KindExceptionResolved, KindSupportTask, KindDataRequest, KindCareTips, KindReviewRequest,
	KindCheckIn, KindWinBack, KindLapseNote, KindReplenishment, KindBackInStock, KindWeeklyReport,
}

// Category of the kind: lifecycle kinds are marketing, the rest transactional.
func (k Kind) Category() Category {
	switch k {
	case KindCareTips, KindReviewRequest, KindCheckIn, KindWinBack, KindLapseNote,
		KindReplenishment, KindBackInStock:
		return Marketing
	}
	return Transactional
}

// Audience of the kind.
func (k Kind) Audience() Audience {
	if k == KindSupportTask || k == KindDataRequest || k == KindWeeklyReport {
		return AudienceTeam
	}
	return AudienceCustomer
}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Message is one thing to tell someone, queued for DispatchFunction. It carries
// ids and the cause, not contact data: dispatch reads fresh state at send time.
type Message struct {
	ID         string        `json:"id"`
	Kind       Kind          `json:"kind"`
	Shop       string        `json:"shop"`
	CustomerID string        `json:"customer_id,omitempty"`
	OrderID    string        `json:"order_id,omitempty"`
	Shipment   string        `json:"shipment,omitempty"`  // tracking key
	Exception  ExceptionKind `json:"exception,omitempty"` // the playbook (support_task, exception_resolved)
	Episode    string        `json:"episode,omitempty"`   // which opening of that exception
	What       string        `json:"what,omitempty"`      // what happened, in the source's words
	Detail     string        `json:"detail,omitempty"`    // the carrier's raw status detail
	Carrier    string        `json:"carrier,omitempty"`
	Tracking   string        `json:"tracking,omitempty"` // tracking number as printed
	// TrackingURL and EstimatedDelivery come from the parcel when known.
	TrackingURL       string          `json:"tracking_url,omitempty"`
	EstimatedDelivery time.Time       `json:"estimated_delivery,omitzero"`
	ProductID         string          `json:"product_id,omitempty"`
	VariantID         string          `json:"variant_id,omitempty"`
	Mark              string          `json:"mark,omitempty"` // lifecycle mark on the customer this message settles
	DueAt             time.Time       `json:"due_at,omitzero"`
	CreatedAt         time.Time       `json:"created_at"`
	NotBefore         time.Time       `json:"not_before,omitzero"` // deferred (quiet hours, cap) until then
	Export            json.RawMessage `json:"export,omitempty"`    // data_request payload for the merchant
	// Part and Parts number the messages of an export too large for one
	// (each part a whole export document of some of the records).
	Part  int `json:"part,omitempty"`
	Parts int `json:"parts,omitempty"`
}

// MessageID derives a message id from its cause, so that every repeat of the same
// cause (a replayed webhook, a re-run check) yields the same id and the ledger
// lets it out once.
func MessageID(kind Kind, shop string, cause ...string) string {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(shop))
	for _, c := range cause {
		h.Write([]byte{0})
		h.Write([]byte(c))
	}
	return string(kind) + "-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Stamp gives m its id from the cause and its kind's creation time.
func (m *Message) Stamp(now time.Time, cause ...string) *Message {
	m.ID = MessageID(m.Kind, m.Shop, cause...)
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now.UTC()
	}
	return m
}

// TimeKey formats a time as part of a cause: stable and sortable.
func TimeKey(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// HelpIssue maps a kind to the help-link issue type of the settings.
func (k Kind) HelpIssue() string {
	s := string(k)
	switch {
	case strings.HasPrefix(s, "exception_") && k != KindExceptionResolved:
		return strings.TrimPrefix(s, "exception_")
	case k == KindOrderShipped || k == KindExceptionResolved:
		return "tracking"
	case k == KindDeliveredSetup || k == KindCareTips || k == KindCheckIn:
		return "setup"
	case k == KindReviewRequest:
		return "review"
	case k == KindReplenishment || k == KindBackInStock || k == KindWinBack || k == KindLapseNote:
		return "shop"
	}
	return "support"
}
