package aftercare

import (
	"strings"
	"time"
)

// Email feedback types, as SES reports them.
const (
	FeedbackHardBounce = "hard_bounce" // permanent: the address does not exist or refuses us
	FeedbackSoftBounce = "soft_bounce" // transient: mailbox full, greylisting; SES already retried
	FeedbackComplaint  = "complaint"   // the recipient marked the email as spam
)

// EmailFeedback is a bounce or complaint about one email address.
type EmailFeedback struct {
	Type      string    `json:"type"`
	Address   string    `json:"address"`              // as SES reports it
	MessageID string    `json:"message_id,omitempty"` // ours (X-Aftercare-Message-Id), when SES sent the header back
	At        time.Time `json:"at"`
	Detail    string    `json:"detail,omitempty"` // SES's bounce subtype or complaint feedback type
}

// ApplyEmailFeedback records a bounce or complaint on the customer when it is
// about the customer's current address: a hard bounce stops all email to
// that address, a complaint stops marketing email. A soft bounce changes
// nothing (SES retried it already). It reports whether the customer changed;
// a new address (a later profile) clears both, as it is a different mailbox.
func (c *Customer) ApplyEmailFeedback(f EmailFeedback) bool {
	if c.Redacted || c.Email == "" || !strings.EqualFold(strings.TrimSpace(f.Address), c.Email) {
		return false
	}
	at := f.At.UTC()
	switch f.Type {
	case FeedbackHardBounce:
		if !c.EmailBouncedAt.IsZero() {
			return false
		}
		c.EmailBouncedAt, c.EmailFeedbackAddress = at, c.Email
	case FeedbackComplaint:
		if !c.EmailComplainedAt.IsZero() {
			return false
		}
		c.EmailComplainedAt, c.EmailFeedbackAddress = at, c.Email
	default:
		return false
	}
	return true
}

// EmailBlocked says why no email of the category may go to the customer's
// current address ("" when it may): a hard bounce blocks all email, a
// complaint blocks marketing.
func (c *Customer) EmailBlocked(cat Category) string {
	if r := c.emailBlock(cat); r != ReasonNone {
		return Ruling{Reason: r}.Why()
	}
	return ""
}

// emailBlock is EmailBlocked as the send policy's reason code.
func (c *Customer) emailBlock(cat Category) Reason {
	if c.EmailFeedbackAddress == "" || !strings.EqualFold(c.EmailFeedbackAddress, c.Email) {
		return ReasonNone // the feedback was about an address the customer no longer has
	}
	if !c.EmailBouncedAt.IsZero() {
		return ReasonBounced
	}
	if cat == Marketing && !c.EmailComplainedAt.IsZero() {
		return ReasonComplained
	}
	return ReasonNone
}
