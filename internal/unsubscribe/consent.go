package unsubscribe

import (
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// Withdraw sets the channel's marketing consent to unsubscribed as of at,
// recording the source. It reports whether the customer changed: an already
// unsubscribed channel keeps its first withdrawal, and a redacted or deleted
// customer is left alone (nothing is sent to them anyway). A later Shopify
// consent with a newer time still replaces it (newer wins, SPEC 4).
func Withdraw(c *aftercare.Customer, ch aftercare.Channel, at time.Time, source string) bool {
	if c.Redacted || c.Deleted {
		return false
	}
	dst := &c.EmailConsent
	if ch == aftercare.ChannelSMS {
		dst = &c.SMSConsent
	}
	if dst.State == aftercare.ConsentUnsubscribed {
		return false
	}
	*dst = aftercare.Consent{State: aftercare.ConsentUnsubscribed, UpdatedAt: at.UTC(), Source: source}
	return true
}
