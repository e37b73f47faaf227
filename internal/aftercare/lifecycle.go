package aftercare

import (
	"sort"
	"strings"
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

// Decision is what the send policy says about one piece of work at one moment.
type Decision struct {
	Work
	Ruling
}

// StockView answers whether a variant can be bought now.
type StockView func(productID, variantID string) bool

// outOfStockRecheck is how often work waiting for stock is looked at again.
const outOfStockRecheck = 24 * time.Hour

// Work lists the lifecycle work still to decide, oldest due first. A queued
// message is in flight: dispatch settles its mark (sent, held, suppressed,
// stale), and only a held one comes back here.
func (c *Customer) Work(s Settings) []Work {
	return c.work(s, false)
}

// work lists the lifecycle causes the customer's state names now; all keeps
// those already settled too.
func (c *Customer) work(s Settings, all bool) []Work {
	var out []Work
	add := func(w Work) {
		if m, ok := c.Marks[w.Mark]; ok && m.State != MarkHeld && !all {
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

// Decide asks the send policy about each piece of work at now. At most one
// marketing message is queued per customer per cap window: the cap counts
// from the last marketing sent, a message still in flight, or one queued by
// this very decision.
func (c *Customer) Decide(now time.Time, s Settings, inStock StockView) []Decision {
	work := c.Work(s)
	out := make([]Decision, 0, len(work))
	capFrom := c.LastMarketingAt
	for _, m := range c.Marks {
		if m.State == MarkQueued && m.At.After(capFrom) {
			capFrom = m.At
		}
	}
	for _, w := range work {
		r := Judge(Question{Stage: AtSchedule, Now: now, Settings: s, Customer: c, Kind: w.Kind, DueAt: w.DueAt,
			OrderID: w.OrderID, ProductID: w.ProductID, VariantID: w.VariantID, InStock: inStock, CapFrom: capFrom})
		if r.Verdict == VerdictSend {
			capFrom = now
		}
		out = append(out, Decision{Work: w, Ruling: r})
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
	c.PruneMarks(now, s)
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
		next := d.Until
		if d.Verdict == VerdictSend || d.Verdict == VerdictStale || d.Verdict == VerdictSuppressed {
			next = d.DueAt // actionable now: the next run picks it up
		}
		if !next.IsZero() && (c.ExamineAt.IsZero() || next.Before(c.ExamineAt)) {
			c.ExamineAt = next
		}
	}
}

// Marks are kept for MarkRetention after they settle, and at most MaxMarks.
const (
	MarkRetention = 400 * 24 * time.Hour
	MaxMarks      = 500
)

// RecoveryKinds are the messages whose effect the report measures: an order
// within RecoveryWindow after one was sent is a recovery.
var RecoveryKinds = []Kind{KindWinBack, KindLapseNote}

// RecoveryWindow is how long after a win-back or lapse note an order counts
// as recovered by it.
const RecoveryWindow = 30 * 24 * time.Hour

// PruneMarks drops settled marks older than MarkRetention that name no cause
// the customer's state still holds (the mark is what stops that cause being
// sent again) and that no kept order counts as recovered by (the report
// reads them), then keeps the newest MaxMarks. Without it a loyal customer's
// item grows with every message ever sent.
func (c *Customer) PruneMarks(now time.Time, s Settings) {
	old := false
	for _, m := range c.Marks {
		if m.State != MarkQueued && m.State != MarkHeld && now.Sub(m.At) > MarkRetention {
			old = true
			break
		}
	}
	if !old && len(c.Marks) <= MaxMarks {
		return // the common case, on every customer change: nothing to weigh
	}
	current := map[string]bool{}
	for _, w := range c.work(s, true) {
		current[w.Mark] = true
	}
	placed := c.Placed()
	recovers := func(key string, m Mark) bool {
		if m.State != MarkSent {
			return false
		}
		for _, k := range RecoveryKinds {
			if key == string(k) || strings.HasPrefix(key, string(k)+":") {
				for _, o := range placed {
					if o.At.After(m.At) && !o.At.After(m.At.Add(RecoveryWindow)) {
						return true
					}
				}
			}
		}
		return false
	}
	for key, m := range c.Marks {
		settled := m.State != MarkQueued && m.State != MarkHeld
		if settled && now.Sub(m.At) > MarkRetention && !current[key] && !recovers(key, m) {
			delete(c.Marks, key)
		}
	}
	if len(c.Marks) <= MaxMarks {
		return
	}
	keys := make([]string, 0, len(c.Marks))
	for k := range c.Marks {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := c.Marks[keys[i]], c.Marks[keys[j]]
		if !a.At.Equal(b.At) {
			return a.At.After(b.At)
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys[MaxMarks:] {
		if !current[k] {
			delete(c.Marks, k)
		}
	}
}
