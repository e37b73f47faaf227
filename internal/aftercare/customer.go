package aftercare

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"time"
)

// Customer is one buyer of one shop: contact, consent, a summary of their order
// history, the holds on their marketing and the lifecycle work they are due.
// It is the only place that holds personal data.
type Customer struct {
	Shop         string    `json:"shop"`
	ID           string    `json:"id"`
	Email        string    `json:"email,omitempty"`
	Phone        string    `json:"phone,omitempty"`
	FirstName    string    `json:"first_name,omitempty"`
	LastName     string    `json:"last_name,omitempty"`
	Tags         []string  `json:"tags,omitempty"`
	EmailConsent Consent   `json:"email_consent,omitzero"`
	SMSConsent   Consent   `json:"sms_consent,omitzero"`
	ProfileAt    time.Time `json:"profile_at,omitzero"` // updated_at of the newest profile applied
	// Bounces and complaints SES reported for EmailFeedbackAddress (ApplyEmailFeedback).
	EmailBouncedAt       time.Time `json:"email_bounced_at,omitzero"`
	EmailComplainedAt    time.Time `json:"email_complained_at,omitzero"`
	EmailFeedbackAddress string    `json:"email_feedback_address,omitempty"`

	Orders        []OrderRef `json:"orders,omitempty"` // oldest first, at most MaxOrderRefs
	EarlierOrders int        `json:"earlier_orders,omitempty"`
	EarlierCents  int64      `json:"earlier_cents,omitempty"`
	FirstOrderAt  time.Time  `json:"first_order_at,omitzero"`

	FirstDeliveredAt time.Time            `json:"first_delivered_at,omitzero"`
	Purchases        map[string]Purchase  `json:"purchases,omitempty"`  // product id -> latest purchase
	Backorders       map[string]Backorder `json:"backorders,omitempty"` // order:variant -> wait for stock
	FollowUps        []FollowUp           `json:"follow_ups,omitempty"`
	Holds            map[string]Hold      `json:"holds,omitempty"`
	Marks            map[string]Mark      `json:"marks,omitempty"` // lifecycle cause -> what became of it
	LastMarketingAt  time.Time            `json:"last_marketing_at,omitzero"`

	Redacted   bool      `json:"redacted,omitempty"` // customers/redact: nothing is ever sent again
	RedactedAt time.Time `json:"redacted_at,omitzero"`
	Deleted    bool      `json:"deleted,omitempty"` // customers/delete

	ExamineAt time.Time `json:"examine_at,omitzero"`
	Version   int64     `json:"version"`
}

// OrderRef is one order in a customer's history.
type OrderRef struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	Cents     int64     `json:"cents"`
	Refunded  int64     `json:"refunded,omitempty"`
	Cancelled bool      `json:"cancelled,omitempty"`
}

// Purchase is the latest purchase of one product.
type Purchase struct {
	VariantID string    `json:"variant_id,omitempty"`
	OrderID   string    `json:"order_id"`
	At        time.Time `json:"at"`
}

// Backorder is an ordered variant that had no stock.
type Backorder struct {
	OrderID    string    `json:"order_id"`
	VariantID  string    `json:"variant_id"`
	ProductID  string    `json:"product_id,omitempty"`
	Since      time.Time `json:"since"`
	ReturnedAt time.Time `json:"returned_at,omitzero"` // stock came back
}

// FollowUp is a timed message about one delivered order.
type FollowUp struct {
	Kind    Kind      `json:"kind"`
	OrderID string    `json:"order_id"`
	DueAt   time.Time `json:"due_at"`
}

// Hold pauses marketing to the customer.
type Hold struct {
	Reason  string    `json:"reason"` // cancelled, exception
	OrderID string    `json:"order_id"`
	Since   time.Time `json:"since"`
	Until   time.Time `json:"until,omitzero"` // zero: until lifted (bounded by Holds.MaxDays)
}

// Mark records what became of one lifecycle cause.
type Mark struct {
	State string    `json:"state"` // MarkQueued, MarkSent, MarkHeld, MarkStale, MarkSuppressed
	At    time.Time `json:"at"`
	ID    string    `json:"id,omitempty"`
	Why   string    `json:"why,omitempty"`
}

// Mark states.
const (
	MarkQueued     = "queued"
	MarkSent       = "sent"
	MarkHeld       = "held"
	MarkStale      = "stale"
	MarkSuppressed = "suppressed"
)

// Hold reasons.
const (
	HoldCancelled = "cancelled"
	HoldException = "exception"
)

// MaxOrderRefs bounds the history kept on the item; older orders are folded
// into EarlierOrders/EarlierCents.
const MaxOrderRefs = 100

// GuestID names a customer who checked out without an account, from the email,
// so that a later redaction request (which carries the email) finds them.
func GuestID(email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(email))
	return "guest-" + hex.EncodeToString(sum[:8])
}

// Suppressed reports whether nothing may be sent to the customer at all.
func (c *Customer) Suppressed() bool { return c.Redacted || c.Deleted }

// HasTag reports whether the customer carries the tag (case-insensitive).
func (c *Customer) HasTag(tag string) bool {
	for _, t := range c.Tags {
		if strings.EqualFold(strings.TrimSpace(t), tag) {
			return true
		}
	}
	return false
}

// Placed returns the non-cancelled orders, oldest first.
func (c *Customer) Placed() []OrderRef {
	out := make([]OrderRef, 0, len(c.Orders))
	for _, o := range c.Orders {
		if !o.Cancelled {
			out = append(out, o)
		}
	}
	return out
}

// OrderCount counts the customer's non-cancelled orders.
func (c *Customer) OrderCount() int { return c.EarlierOrders + len(c.Placed()) }

// LastOrderAt is the time of the newest non-cancelled order.
func (c *Customer) LastOrderAt() time.Time {
	p := c.Placed()
	if len(p) == 0 {
		return time.Time{}
	}
	return p[len(p)-1].At
}

// LifetimeCents is what the customer spent, net of refunds.
func (c *Customer) LifetimeCents() int64 {
	total := c.EarlierCents
	for _, o := range c.Placed() {
		total += o.Cents - o.Refunded
	}
	return total
}

// Gaps are the times between consecutive non-cancelled orders.
func (c *Customer) Gaps() []time.Duration {
	p := c.Placed()
	var gaps []time.Duration
	for i := 1; i < len(p); i++ {
		gaps = append(gaps, p[i].At.Sub(p[i-1].At))
	}
	return gaps
}

// MedianGap is the median of Gaps, zero without two orders.
func (c *Customer) MedianGap() time.Duration {
	g := c.Gaps()
	if len(g) == 0 {
		return 0
	}
	sort.Slice(g, func(i, j int) bool { return g[i] < g[j] })
	if len(g)%2 == 1 {
		return g[len(g)/2]
	}
	return (g[len(g)/2-1] + g[len(g)/2]) / 2
}

// AddOrder records an order in the history (or updates it). It reports whether
// the order is new to this customer.
func (c *Customer) AddOrder(ref OrderRef) bool {
	for i := range c.Orders {
		if c.Orders[i].ID == ref.ID {
			refunded := c.Orders[i].Refunded
			c.Orders[i] = ref
			c.Orders[i].Refunded = refunded
			c.sortOrders()
			return false
		}
	}
	c.Orders = append(c.Orders, ref)
	c.sortOrders()
	if c.FirstOrderAt.IsZero() || ref.At.Before(c.FirstOrderAt) {
		c.FirstOrderAt = ref.At
	}
	for len(c.Orders) > MaxOrderRefs {
		old := c.Orders[0]
		if !old.Cancelled {
			c.EarlierOrders++
			c.EarlierCents += old.Cents - old.Refunded
		}
		c.Orders = c.Orders[1:]
	}
	return true
}

func (c *Customer) sortOrders() {
	sort.SliceStable(c.Orders, func(i, j int) bool {
		if !c.Orders[i].At.Equal(c.Orders[j].At) {
			return c.Orders[i].At.Before(c.Orders[j].At)
		}
		return c.Orders[i].ID < c.Orders[j].ID
	})
}

// OrderRef returns the history entry of an order.
func (c *Customer) OrderRef(id string) (*OrderRef, bool) {
	for i := range c.Orders {
		if c.Orders[i].ID == id {
			return &c.Orders[i], true
		}
	}
	return nil, false
}

// PutHold places or replaces a hold.
func (c *Customer) PutHold(key string, h Hold) {
	if c.Holds == nil {
		c.Holds = map[string]Hold{}
	}
	c.Holds[key] = h
}

// LiftHold removes a hold; it reports whether one was there.
func (c *Customer) LiftHold(key string) bool {
	if _, ok := c.Holds[key]; !ok {
		return false
	}
	delete(c.Holds, key)
	return true
}

// End is when the hold stops applying.
func (h Hold) End(s Settings) time.Time {
	limit := h.Since.Add(Days(s.Holds.MaxDays))
	if !h.Until.IsZero() && h.Until.Before(limit) {
		return h.Until
	}
	return limit
}

// HeldUntil reports whether marketing is held at now, and until when the
// longest current hold lasts.
func (c *Customer) HeldUntil(now time.Time, s Settings) (time.Time, bool) {
	var until time.Time
	for _, h := range c.Holds {
		if end := h.End(s); end.After(now) && end.After(until) {
			until = end
		}
	}
	return until, !until.IsZero()
}

// PruneHolds drops holds that ended before now.
func (c *Customer) PruneHolds(now time.Time, s Settings) {
	for k, h := range c.Holds {
		if !h.End(s).After(now) {
			delete(c.Holds, k)
		}
	}
}

// SetMark records what became of a lifecycle cause.
func (c *Customer) SetMark(key string, m Mark) {
	if c.Marks == nil {
		c.Marks = map[string]Mark{}
	}
	c.Marks[key] = m
}

// CanReach reports whether the customer has a contact for the channel.
func (c *Customer) CanReach(ch Channel) bool {
	if ch == ChannelSMS {
		return c.Phone != ""
	}
	return c.Email != ""
}

// ConsentFor returns the marketing consent of a channel.
func (c *Customer) ConsentFor(ch Channel) Consent {
	if ch == ChannelSMS {
		return c.SMSConsent
	}
	return c.EmailConsent
}

// PreferredChannel is SMS when the customer can be texted and asked for it
// (tag prefers-sms), else email. For marketing, SMS also needs SMS consent.
func (c *Customer) PreferredChannel(cat Category) Channel {
	if c.Phone != "" && c.HasTag("prefers-sms") {
		if cat != Marketing || c.SMSConsent.State == ConsentSubscribed {
			return ChannelSMS
		}
	}
	if c.Email == "" && c.Phone != "" && (cat != Marketing || c.SMSConsent.State == ConsentSubscribed) {
		return ChannelSMS
	}
	return ChannelEmail
}

// Redact removes every personal detail and history, keeping only the tombstone
// that suppresses all future messages.
func (c *Customer) Redact(now time.Time) {
	*c = Customer{Shop: c.Shop, ID: c.ID, Redacted: true, RedactedAt: now.UTC(), Version: c.Version}
}
