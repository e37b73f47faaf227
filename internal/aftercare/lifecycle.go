package aftercare

import (
	"sort"
	"strconv"
	"time"
)

// Work is one lifecycle message a customer may be due, named by its cause.
type Work struct {
	Kind      Kind      `json:"kind"`
	Mark      string    `json:"mark"` // the cause: key of Customer.Marks and of the message id
	DueAt     time.Time `json:"due_at"`
	OrderID   string    `json:"order_id,omitempty"`
	ProductID string    `json:"product_id,omitempty"`
	VariantID string    `json:"variant_id,omitempty"`
}

// Outcomes of a lifecycle decision.
const (
	OutcomeQueue = "queue" // send now
	OutcomeHeld  = "held"  // a hold pauses it; look again when the hold ends
	OutcomeStale = "stale" // too late to be useful: dropped and counted
	OutcomeSkip  = "skip"  // can never be sent (customer redacted, order cancelled)
	OutcomeWait  = "wait"  // not yet: not due, capped, out of stock or just queued
)

// Decision is what to do with one piece of work at one moment.
type Decision struct {
	Work
	Outcome string    `json:"outcome"`
	Why     string    `json:"why,omitempty"`
	Next    time.Time `json:"next,omitzero"` // when to look again (wait, held)
}

// StockView answers whether a variant can be bought now.
type StockView func(productID, variantID string) bool

// outOfStockRecheck is how often work waiting for stock is looked at again.
const outOfStockRecheck = 24 * time.Hour

// Work lists the lifecycle work still to decide, oldest due first. A queued
// message is in flight: dispatch settles its mark (sent, held, suppressed,
// stale), and only a held one comes back here.
func (c *Customer) Work(s Settings) []Work {
	var out []Work
	add := func(w Work) {
		if m, ok := c.Marks[w.Mark]; ok && m.State != MarkHeld {
			return
		}
		out = append(out, w)
	}
	for _, f := range c.FollowUps {
		add(Work{Kind: f.Kind, Mark: string(f.Kind) + ":" + f.OrderID, DueAt: f.DueAt, OrderID: f.OrderID})
	}
	if !c.FirstDeliveredAt.IsZero() {
		add(Work{Kind: KindCheckIn, Mark: string(KindCheckIn), DueAt: c.FirstDeliveredAt.Add(Days(s.FollowUps.CheckInDays))})
	}
	if last := c.LastOrderAt(); !last.IsZero() {
		if c.OrderCount() >= s.FollowUps.LapseMinOrders && len(c.Gaps()) > 0 {
			quiet := time.Duration(float64(c.MedianGap()) * s.FollowUps.LapseGapFactor)
			if min := Days(s.FollowUps.LapseMinDays); quiet < min {
				quiet = min
			}
			// "More than" the threshold: due just after it.
			add(Work{Kind: KindLapseNote, Mark: string(KindLapseNote) + ":" + TimeKey(last), DueAt: last.Add(quiet + time.Second)})
		} else {
			add(Work{Kind: KindWinBack, Mark: string(KindWinBack) + ":" + TimeKey(last), DueAt: last.Add(Days(s.FollowUps.WinBackDays))})
		}
	}
	for _, product := range sortedKeys(s.Replenishment) {
		p, ok := c.Purchases[product]
		if !ok {
			continue
		}
		add(Work{Kind: KindReplenishment, Mark: string(KindReplenishment) + ":" + product + ":" + TimeKey(p.At),
			DueAt: p.At.Add(Days(s.Replenishment[product])), OrderID: p.OrderID, ProductID: product, VariantID: p.VariantID})
	}
	for _, key := range sortedKeys(c.Backorders) {
		b := c.Backorders[key]
		if b.ReturnedAt.IsZero() {
			continue
		}
		add(Work{Kind: KindBackInStock, Mark: string(KindBackInStock) + ":" + b.OrderID + ":" + b.VariantID,
			DueAt: b.ReturnedAt, OrderID: b.OrderID, ProductID: b.ProductID, VariantID: b.VariantID})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DueAt.Before(out[j].DueAt) })
	return out
}

// Staleable kinds are timed follow-ups: late by more than StaleAfterDays they
// are dropped. Win-back and lapse notes stay true as long as the customer is quiet.
func Staleable(k Kind) bool {
	switch k {
	case KindCareTips, KindReviewRequest, KindCheckIn, KindReplenishment, KindBackInStock:
		return true
	}
	return false
}

// Decide says, for each piece of work, what to do at now. At most one marketing
// message is queued per customer per cap window.
func (c *Customer) Decide(now time.Time, s Settings, inStock StockView) []Decision {
	work := c.Work(s)
	out := make([]Decision, 0, len(work))
	if c.Suppressed() {
		why := "customer redacted"
		if !c.Redacted {
			why = "customer deleted"
		}
		for _, w := range work {
			out = append(out, Decision{Work: w, Outcome: OutcomeSkip, Why: why})
		}
		return out
	}
	capWindow := time.Duration(s.Caps.MarketingPerHours) * time.Hour
	recent := c.LastMarketingAt
	for _, m := range c.Marks {
		if m.State == MarkQueued && m.At.After(recent) {
			recent = m.At
		}
	}
	capEnd := time.Time{}
	if !recent.IsZero() {
		capEnd = recent.Add(capWindow)
	}
	heldUntil, held := c.HeldUntil(now, s)
	queued := false
	for _, w := range work {
		d := Decision{Work: w}
		switch {
		case w.DueAt.After(now):
			d.Outcome, d.Why, d.Next = OutcomeWait, "not due", w.DueAt
		case Staleable(w.Kind) && now.Sub(w.DueAt) > Days(s.FollowUps.StaleAfterDays):

			d.Outcome, d.Why = OutcomeStale, "more than "+strconv.Itoa(s.FollowUps.StaleAfterDays)+" days late"
		case w.OrderID != "" && c.orderCancelled(w.OrderID):
			d.Outcome, d.Why = OutcomeSkip, "order cancelled"
		case held:
			d.Outcome, d.Why, d.Next = OutcomeHeld, "customer on hold", heldUntil
		case (w.Kind == KindReplenishment || w.Kind == KindBackInStock) && inStock != nil && !inStock(w.ProductID, w.VariantID):
			d.Outcome, d.Why, d.Next = OutcomeWait, "out of stock", now.Add(outOfStockRecheck)
		case queued:
			d.Outcome, d.Why, d.Next = OutcomeWait, "marketing cap", now.Add(capWindow)
		case capEnd.After(now):
			d.Outcome, d.Why, d.Next = OutcomeWait, "marketing cap", capEnd
		default:
			d.Outcome = OutcomeQueue
			queued = true
		}
		out = append(out, d)
	}
	return out
}

func (c *Customer) orderCancelled(id string) bool {
	ref, ok := c.OrderRef(id)
	return ok && ref.Cancelled
}

// Refresh prunes ended holds and settled follow-ups and recomputes when the
// checks must look at this customer next: the earliest moment any pending
// work could change.
func (c *Customer) Refresh(now time.Time, s Settings) {
	c.PruneHolds(now, s)
	// Keep a follow-up until dispatch settles it: a held one comes back.
	kept := c.FollowUps[:0]
	for _, f := range c.FollowUps {
		m, ok := c.Marks[string(f.Kind)+":"+f.OrderID]
		if !ok || m.State == MarkQueued || m.State == MarkHeld {
			kept = append(kept, f)
		}
	}
	c.FollowUps = kept
	if len(c.FollowUps) == 0 {
		c.FollowUps = nil
	}
	c.ExamineAt = time.Time{}
	for _, d := range c.Decide(now, s, nil) {
		next := d.Next
		if d.Outcome == OutcomeQueue || d.Outcome == OutcomeStale || d.Outcome == OutcomeSkip {
			next = d.DueAt // actionable now: the next run picks it up
		}
		if !next.IsZero() && (c.ExamineAt.IsZero() || next.Before(c.ExamineAt)) {
			c.ExamineAt = next
		}
	}
}
