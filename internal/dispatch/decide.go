package dispatch

import (
	"strconv"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// verdict is what the send-time checks decided; an empty Decision means send.
type verdict struct {
	Decision string
	Why      string
	Channel  aftercare.Channel
	Until    time.Time // deferred until
}

// decide re-checks a message against fresh state. The order matters: what can
// never be sent (redacted, cancelled, no consent) is settled before what only
// has to wait (holds, the cap, quiet hours).
func decide(m *aftercare.Message, c *aftercare.Customer, o *aftercare.Order, st aftercare.Settings, now time.Time) verdict {
	cat := m.Kind.Category()
	if m.Kind.Audience() == aftercare.AudienceTeam {
		return verdict{Channel: aftercare.ChannelEmail}
	}
	switch {
	case c == nil:
		return verdict{Decision: Suppressed, Why: "unknown customer"}
	case c.Redacted:
		return verdict{Decision: Suppressed, Why: "customer redacted"}
	case c.Deleted:
		return verdict{Decision: Suppressed, Why: "customer deleted"}
	case o != nil && o.Test:
		return verdict{Decision: Suppressed, Why: "test order"}
	case cat == aftercare.Marketing && o != nil && o.Cancelled():
		return verdict{Decision: Suppressed, Why: "order cancelled"}
	}
	if v, stale := staleness(m, o, st, now); stale {
		return v
	}
	ch := c.PreferredChannel(cat)
	if !c.CanReach(ch) {
		return verdict{Decision: Suppressed, Why: "no " + string(ch) + " contact", Channel: ch}
	}
	if ch == aftercare.ChannelEmail {
		if why := c.EmailBlocked(cat); why != "" {
			return verdict{Decision: Suppressed, Why: why, Channel: ch}
		}
	}
	if cat == aftercare.Marketing {
		if s := c.ConsentFor(ch).State; s != aftercare.ConsentSubscribed {
			if s == "" {
				s = "none"
			}
			return verdict{Decision: Suppressed, Why: "no " + string(ch) + " marketing consent (" + s + ")", Channel: ch}
		}
		if until, held := c.HeldUntil(now, st); held {
			return verdict{Decision: Held, Why: "customer on hold until " + until.Format(time.RFC3339), Channel: ch}
		}
		if capEnd := c.LastMarketingAt.Add(time.Duration(st.Caps.MarketingPerHours) * time.Hour); !c.LastMarketingAt.IsZero() && capEnd.After(now) {
			return verdict{Decision: Deferred, Why: "marketing cap", Until: capEnd, Channel: ch}
		}
	}
	if ch == aftercare.ChannelSMS {
		if q := st.QuietUntil(now); !q.IsZero() {
			return verdict{Decision: Deferred, Why: "sms quiet hours", Until: q, Channel: ch}
		}
	}
	return verdict{Channel: ch}
}

// staleness catches messages the world has overtaken: a notice about a problem
// that is already resolved, or a timed follow-up that waited too long.
func staleness(m *aftercare.Message, o *aftercare.Order, st aftercare.Settings, now time.Time) (verdict, bool) {
	if strings.HasPrefix(string(m.Kind), "exception_") && m.Kind != aftercare.KindExceptionResolved && o != nil {
		e := o.Exceptions[aftercare.ExceptionKey(m.Exception, m.Shipment)]
		if e != nil && e.Episode == m.Episode && !e.Open() {
			return verdict{Decision: Stale, Why: "already resolved: " + e.ClosedWhy}, true
		}
	}
	if aftercare.Staleable(m.Kind) && !m.DueAt.IsZero() && now.Sub(m.DueAt) > aftercare.Days(st.FollowUps.StaleAfterDays) {
		return verdict{Decision: Stale, Why: "more than " + strconv.Itoa(st.FollowUps.StaleAfterDays) + " days late"}, true
	}
	return verdict{}, false
}
