package aftercare

import (
	"testing"
	"time"
)

// TestJudge walks every rule of SPEC section 5 through the one send policy,
// at both stages it is asked: when a check queues work and when dispatch sends.
func TestJudge(t *testing.T) {
	now := time.Date(2024, 3, 6, 12, 0, 0, 0, time.UTC) // 12:00 UTC: outside quiet hours
	night := time.Date(2024, 3, 6, 22, 30, 0, 0, time.UTC)
	st := DefaultSettings()

	subscribed := func() *Customer {
		return &Customer{Shop: "s", ID: "c", Email: "c@example.org", EmailConsent: Consent{State: ConsentSubscribed},
			Orders: []OrderRef{{ID: "o1", At: now.Add(-20 * day), Cents: 1000}}}
	}
	texter := func() *Customer {
		c := subscribed()
		c.Email, c.Phone, c.Tags = "", "+15550100", []string{"prefers-sms"}
		c.SMSConsent = Consent{State: ConsentSubscribed}
		return c
	}
	cancelledOrder := &Order{Shop: "s", ID: "o1", CancelledAt: now.Add(-time.Hour)}
	resolved := &Order{Shop: "s", ID: "o1", Exceptions: map[string]*Exception{
		ExceptionKey(ExceptionDelay, "1Z"): {Kind: ExceptionDelay, Subject: "1Z", Episode: "e1", OpenedAt: now.Add(-2 * day), ClosedAt: now.Add(-time.Hour), ClosedWhy: "delivered"},
	}}
	reopened := &Order{Shop: "s", ID: "o1", Exceptions: map[string]*Exception{
		ExceptionKey(ExceptionDelay, "1Z"): {Kind: ExceptionDelay, Subject: "1Z", Episode: "e2", OpenedAt: now.Add(-time.Hour)},
	}}

	type tc struct {
		name    string
		q       Question
		mutate  func(*Customer)
		nilCust bool
		verdict Verdict
		reason  Reason
		until   time.Time
		channel Channel
	}
	sched := func(k Kind, due time.Time) Question {
		return Question{Stage: AtSchedule, Now: now, Settings: st, Kind: k, DueAt: due, OrderID: "o1"}
	}
	send := func(k Kind) Question {
		return Question{Stage: AtSend, Now: now, Settings: st, Kind: k, OrderID: "o1"}
	}
	withOrder := func(q Question, o *Order) Question { q.Order = o; return q }
	withCap := func(q Question, from time.Time) Question { q.CapFrom = from; return q }
	at := func(q Question, t time.Time) Question { q.Now = t; return q }

	cases := []tc{
		// Due times and staleness (timed follow-ups more than 7 days late).
		{name: "follow-up due", q: sched(KindCareTips, now.Add(-time.Hour)), verdict: VerdictSend},
		{name: "follow-up not due yet", q: sched(KindCareTips, now.Add(time.Hour)), verdict: VerdictWait, reason: ReasonNotDue, until: now.Add(time.Hour)},
		{name: "follow-up exactly 7 days late", q: sched(KindReviewRequest, now.Add(-7*day)), verdict: VerdictSend},
		{name: "follow-up over 7 days late", q: sched(KindReviewRequest, now.Add(-7*day-time.Second)), verdict: VerdictStale, reason: ReasonLate},
		{name: "stale again at send", q: func() Question { q := send(KindCheckIn); q.DueAt = now.Add(-8 * day); return q }(), verdict: VerdictStale, reason: ReasonLate},
		{name: "win-back never stale", q: sched(KindWinBack, now.Add(-60*day)), verdict: VerdictSend},
		{name: "send time ignores due (queued already)", q: func() Question { q := send(KindCareTips); q.DueAt = now.Add(time.Hour); return q }(), verdict: VerdictSend, channel: ChannelEmail},
		{name: "queue deferral", q: func() Question { q := send(KindCareTips); q.NotBefore = now.Add(time.Minute); return q }(), verdict: VerdictWait, reason: ReasonNotBefore, until: now.Add(time.Minute)},

		// Redaction, deletion, unknown customers.
		{name: "redacted", q: send(KindOrderShipped), mutate: func(c *Customer) { c.Redact(now) }, verdict: VerdictSuppressed, reason: ReasonRedacted},
		{name: "redacted at schedule", q: sched(KindWinBack, now.Add(-day)), mutate: func(c *Customer) { c.Redact(now) }, verdict: VerdictSuppressed, reason: ReasonRedacted},
		{name: "deleted", q: send(KindOrderShipped), mutate: func(c *Customer) { c.Deleted = true }, verdict: VerdictSuppressed, reason: ReasonDeleted},
		{name: "deleted, not due", q: sched(KindCareTips, now.Add(day)), mutate: func(c *Customer) { c.Deleted = true }, verdict: VerdictSuppressed, reason: ReasonDeleted},
		{name: "unknown customer", q: send(KindOrderShipped), nilCust: true, verdict: VerdictSuppressed, reason: ReasonUnknownCustomer},
		{name: "team messages go regardless", q: send(KindSupportTask), nilCust: true, verdict: VerdictSend, channel: ChannelEmail},

		// A cancelled order gets no further lifecycle messages.
		{name: "cancelled order at schedule", q: sched(KindCareTips, now.Add(-time.Hour)), mutate: func(c *Customer) { c.Orders[0].Cancelled = true }, verdict: VerdictSuppressed, reason: ReasonOrderCancelled},
		{name: "cancelled order at send", q: withOrder(send(KindReviewRequest), cancelledOrder), verdict: VerdictSuppressed, reason: ReasonOrderCancelled},
		{name: "cancelled and late: cancelled wins", q: sched(KindReviewRequest, now.Add(-9*day)), mutate: func(c *Customer) { c.Orders[0].Cancelled = true }, verdict: VerdictSuppressed, reason: ReasonOrderCancelled},
		{name: "transactional about a cancelled order still goes", q: withOrder(send(KindExceptionDelay), cancelledOrder), verdict: VerdictSend, channel: ChannelEmail},

		// Exception notices the world has overtaken.
		{name: "exception already resolved", q: func() Question {
			q := withOrder(send(KindExceptionDelay), resolved)
			q.Exception, q.Shipment, q.Episode = ExceptionDelay, "1Z", "e1"
			return q
		}(), verdict: VerdictStale, reason: ReasonResolved},
		{name: "exception of an older episode", q: func() Question {
			q := withOrder(send(KindExceptionDelay), reopened)
			q.Exception, q.Shipment, q.Episode = ExceptionDelay, "1Z", "e1"
			return q
		}(), verdict: VerdictSend, channel: ChannelEmail},

		// Contact and consent (checked at send, where the channel is chosen).
		{name: "no email contact", q: send(KindOrderShipped), mutate: func(c *Customer) { c.Email = "" }, verdict: VerdictSuppressed, reason: ReasonNoContact, channel: ChannelEmail},
		{name: "transactional needs no consent", q: send(KindOrderShipped), mutate: func(c *Customer) { c.EmailConsent = Consent{} }, verdict: VerdictSend, channel: ChannelEmail},
		{name: "marketing without consent", q: send(KindWinBack), mutate: func(c *Customer) { c.EmailConsent = Consent{} }, verdict: VerdictSuppressed, reason: ReasonNoConsent, channel: ChannelEmail},
		{name: "marketing after unsubscribe", q: send(KindWinBack), mutate: func(c *Customer) { c.EmailConsent = Consent{State: ConsentUnsubscribed} }, verdict: VerdictSuppressed, reason: ReasonNoConsent, channel: ChannelEmail},

		// Holds: a cancelled order (14 days), an open exception; bounded by max_days.
		{name: "hold for a cancellation", q: sched(KindWinBack, now.Add(-day)), mutate: func(c *Customer) {
			c.PutHold("cancelled:o2", Hold{Reason: HoldCancelled, OrderID: "o2", Since: now.Add(-day), Until: now.Add(13 * day)})
		}, verdict: VerdictHeld, reason: ReasonHold, until: now.Add(13 * day)},
		{name: "hold for an open exception at send", q: send(KindCareTips), mutate: func(c *Customer) {
			c.PutHold("exception:o1", Hold{Reason: HoldException, OrderID: "o1", Since: now.Add(-day)})
		}, verdict: VerdictHeld, reason: ReasonHold, until: now.Add(29 * day), channel: ChannelEmail},
		{name: "hold past max_days no longer holds", q: sched(KindWinBack, now.Add(-day)), mutate: func(c *Customer) {
			c.PutHold("exception:o1", Hold{Reason: HoldException, OrderID: "o1", Since: now.Add(-31 * day)})
		}, verdict: VerdictSend},
		{name: "holds do not stop transactional", q: send(KindOrderShipped), mutate: func(c *Customer) {
			c.PutHold("exception:o1", Hold{Reason: HoldException, OrderID: "o1", Since: now.Add(-day)})
		}, verdict: VerdictSend, channel: ChannelEmail},

		// Stock for replenishment and back in stock.
		{name: "replenishment out of stock", q: func() Question {
			q := sched(KindReplenishment, now.Add(-time.Hour))
			q.VariantID, q.InStock = "v1", func(_, v string) bool { return v != "v1" }
			return q
		}(), verdict: VerdictWait, reason: ReasonOutOfStock, until: now.Add(24 * time.Hour)},
		{name: "back in stock, in stock", q: func() Question {
			q := sched(KindBackInStock, now.Add(-time.Hour))
			q.VariantID, q.InStock = "v1", func(string, string) bool { return true }
			return q
		}(), verdict: VerdictSend},

		// One marketing message per 24 hours.
		{name: "cap at schedule", q: withCap(sched(KindWinBack, now.Add(-day)), now.Add(-2*time.Hour)), verdict: VerdictWait, reason: ReasonCap, until: now.Add(22 * time.Hour)},
		{name: "cap at send", q: withCap(send(KindWinBack), now.Add(-23*time.Hour)), verdict: VerdictWait, reason: ReasonCap, until: now.Add(time.Hour), channel: ChannelEmail},
		{name: "cap window over", q: withCap(send(KindWinBack), now.Add(-24*time.Hour)), verdict: VerdictSend, channel: ChannelEmail},
		{name: "cap does not apply to transactional", q: withCap(send(KindOrderShipped), now.Add(-time.Hour)), verdict: VerdictSend, channel: ChannelEmail},

		// SMS quiet hours 21:00-08:00 shop time: deferred, never dropped.
		{name: "sms in quiet hours", q: at(send(KindOrderShipped), night), mutate: func(c *Customer) { *c = *texter() }, verdict: VerdictWait, reason: ReasonQuietHours,
			until: time.Date(2024, 3, 7, 8, 0, 0, 0, time.UTC), channel: ChannelSMS},
		{name: "sms in the day", q: send(KindOrderShipped), mutate: func(c *Customer) { *c = *texter() }, verdict: VerdictSend, channel: ChannelSMS},
		{name: "email in quiet hours goes", q: at(send(KindOrderShipped), night), verdict: VerdictSend, channel: ChannelEmail},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := c.q
			if !c.nilCust {
				q.Customer = subscribed()
				if c.mutate != nil {
					c.mutate(q.Customer)
				}
			}
			r := Judge(q)
			if r.Verdict != c.verdict || r.Reason != c.reason || !r.Until.Equal(c.until) || r.Channel != c.channel {
				t.Fatalf("got %s/%s until %s by %q (%s), want %s/%s until %s by %q",
					r.Verdict, r.Reason, r.Until, r.Channel, r.Why(), c.verdict, c.reason, c.until, c.channel)
			}
			if r.Why() == "" && r.Reason != ReasonNone {
				t.Fatalf("reason %s has no words", r.Reason)
			}
		})
	}
}

// Marks and ledger states come from the verdict, in one place.
func TestVerdictMarks(t *testing.T) {
	want := map[Verdict][2]string{
		VerdictSend:       {MarkQueued, MarkSent},
		VerdictHeld:       {MarkHeld, MarkHeld},
		VerdictStale:      {MarkStale, MarkStale},
		VerdictSuppressed: {MarkSuppressed, MarkSuppressed},
		VerdictWait:       {"", ""},
	}
	for v, w := range want {
		if got := [2]string{v.Mark(AtSchedule), v.Mark(AtSend)}; got != w {
			t.Errorf("%s marks %v, want %v", v, got, w)
		}
		if v.Final() != (w[0] != "" && v != VerdictSend) {
			t.Errorf("%s final = %v", v, v.Final())
		}
	}
}

// At schedule the cap counts a message this decision queued: one per window.
func TestDecideQueuesOneMarketingPerWindow(t *testing.T) {
	now := time.Date(2024, 3, 6, 12, 0, 0, 0, time.UTC)
	st := DefaultSettings()
	c := &Customer{Shop: "s", ID: "c", Email: "c@example.org", FirstDeliveredAt: now.Add(-91 * day),
		Orders: []OrderRef{{ID: "o1", At: now.Add(-95 * day), Cents: 100}}}
	var sent, capped int
	for _, d := range c.Decide(now, st, nil) {
		switch {
		case d.Verdict == VerdictSend:
			sent++
		case d.Reason == ReasonCap && d.Until.Equal(now.Add(24*time.Hour)):
			capped++
		}
	}
	if sent != 1 || capped != 1 {
		t.Fatalf("check_in and win_back both due: %d queued, %d capped; want 1 and 1", sent, capped)
	}
}
