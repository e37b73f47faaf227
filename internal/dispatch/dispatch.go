// Package dispatch decides, at send time and against fresh state, whether a
// queued message may go out, and delivers it (transactional and team at least
// once, marketing at most once): consent, redaction, cancellation, holds, the
// marketing cap and SMS quiet hours are re-checked, the message id is claimed
// in the ledger with a lease that outlives the invocation, and every decision
// is recorded and counted.
package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/delivery"
	"github.com/aftercare/aftercare/internal/ledger"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/report"
)

// Decisions, as the ledger records them.
const (
	Sent       = ledger.Sent
	Held       = ledger.Held
	Suppressed = ledger.Suppressed
	Stale      = ledger.Stale
	Deferred   = ledger.Deferred
	Duplicate  = ledger.Duplicate
	Failed     = ledger.Failed
)

// whyUnknown is recorded for a marketing attempt whose outcome is unknown.
const whyUnknown = "outcome unknown; marketing is sent at most once"

// recordRetry is the first wait before writing a delivered message's record
// again; it doubles per try.
const recordRetry = 50 * time.Millisecond

// Store is the state dispatch reads and the ledger it writes.
type Store interface {
	// State reads the message's customer and order and its shop's install
	// marks (nil when absent) in one round trip.
	State(ctx context.Context, shop, customerID, orderID string) (*aftercare.Customer, *aftercare.Order, *aftercare.Install, error)
	// Claim takes the message id until lease. For marketing it also takes the
	// customer's cap slot (capSince: the slot is free if last taken before it);
	// on ErrCapped it returns when the slot was last taken.
	Claim(ctx context.Context, c ledger.Claim) (capTakenAt time.Time, err error)
	// Release gives a claim back after a failed delivery (r.Token, r.Why,
	// r.At; the report counts the message as failed).
	Release(ctx context.Context, r ledger.Record) error
	// Record writes a final decision to the ledger, and the customer when it
	// changed (lifecycle mark, last marketing time), with the report counters
	// both add, exactly once. Customer writes are conditioned on its version;
	// ErrConflict asks for a re-read.
	Record(ctx context.Context, r ledger.Record) error
}

// Sender delivers a rendered message's SPEC 6 JSON. A Sender that is also a
// delivery.Provider (the provider router) gets the whole rendered message.
type Sender interface {
	Send(ctx context.Context, id string, body []byte) error
}

// Queue puts messages back on the outbound queue (deferrals) and backs off
// failed deliveries.
type Queue interface {
	SendMessages(ctx context.Context, msgs []aftercare.Message, now time.Time) error
	RetryAfter(ctx context.Context, receiptHandle string, d time.Duration) error
}

// SettingsSource returns a shop's settings.
type SettingsSource interface {
	Settings(ctx context.Context, shop string) (aftercare.Settings, error)
}

// Dispatcher sends messages.
type Dispatcher struct {
	Store     Store
	Sender    Sender
	Queue     Queue
	Settings  SettingsSource
	Log       *slog.Logger
	Now       func() time.Time
	RetryBase time.Duration // first backoff after a failed delivery; doubles per attempt
	RetryMax  time.Duration // longest backoff (0: 1 h); with the queue's receives it sets the outage budget
	NewToken  func() string
	Digests   *Digests // renders weekly_report; nil: the digest goes out without numbers
	// Links makes marketing messages' unsubscribe URLs; nil sends none.
	Links Links
	// TombstoneKey finds a redacted customer's keyed tombstone (the
	// processor's key, UNSUBSCRIBE_SECRET), so a message queued before the
	// redaction is suppressed as "customer redacted", not as an unknown
	// customer. Empty: not looked for.
	TombstoneKey []byte
}

// Links makes the unsubscribe URL of a customer's channel (SPEC 12).
type Links interface {
	UnsubscribeURL(shop, customerID string, ch aftercare.Channel) string
}

// Digests renders the weekly_report team message: last week's headline
// numbers against the week before, read from the shop's day items (one
// Query of 14 days), and a signed, expiring link to the dashboard.
type Digests struct {
	Days interface {
		ReportDays(ctx context.Context, shop, from, to string) (map[string]report.Counters, error)
	}
	Base  string // the public API's base URL (PUBLIC_API_URL)
	Token string // REPORT_TOKEN, the key of the link's signature
}

// text words the digest of the week before the message's due time.
func (g *Digests) text(ctx context.Context, m *aftercare.Message, st aftercare.Settings, now time.Time) (*report.DigestText, error) {
	loc := st.Location()
	at := m.DueAt
	if at.IsZero() {
		at = m.CreatedAt
	}
	week := report.LastWeek(at, loc)
	before := report.Range{From: week.From.AddDate(0, 0, -7), To: week.From.AddDate(0, 0, -1)}
	days, err := g.Days.ReportDays(ctx, m.Shop, before.From.Format(report.DayFormat), week.To.Format(report.DayFormat))
	if err != nil {
		return nil, aftercare.Wrap(aftercare.EUNAVAILABLE, err, "read report days")
	}
	cur, prev := map[string]report.Counters{}, map[string]report.Counters{}
	for day, c := range days {
		if day < week.From.Format(report.DayFormat) {
			prev[day] = c
		} else {
			cur[day] = c
		}
	}
	t := report.Digest(report.Compute(m.Shop, week, cur), report.Compute(m.Shop, before, prev), g.Base, g.Token, now)
	return &t, nil
}

// Delivery is how the queue handed the message over.
type Delivery struct {
	ReceiveCount  int
	ReceiptHandle string
	Deadline      time.Time // the invocation's deadline
}

// Result is what became of one message.
type Result struct {
	Decision string
	Why      string
	Channel  aftercare.Channel
	Body     []byte // what was delivered
}

// Handle decides about one message and delivers it if it may go. An error
// means the delivery failed and the queue must retry (with backoff).
func (d *Dispatcher) Handle(ctx context.Context, m *aftercare.Message, dv Delivery) (Result, error) {
	now := d.now()
	// Waiting out a deferral costs no state reads: ask the policy before loading.
	if r := aftercare.Judge(aftercare.Question{Stage: aftercare.AtSend, Now: now, NotBefore: m.NotBefore, Kind: m.Kind}); r.Reason == aftercare.ReasonNotBefore {
		return d.defer_(ctx, m, r, now)
	}
	st, err := d.Settings.Settings(ctx, m.Shop)
	if err != nil {
		return Result{}, err
	}
	c, o, inst, err := d.Store.State(ctx, m.Shop, m.CustomerID, m.OrderID)
	if err != nil {
		return Result{}, err
	}
	if c == nil && m.CustomerID != "" && len(d.TombstoneKey) > 0 {
		// Only when the customer is missing: one more read, rare.
		if c, err = d.redacted(ctx, m.Shop, m.CustomerID); err != nil {
			return Result{}, err
		}
	}
	v := decide(m, c, o, inst, st, now)
	switch {
	case v.Verdict == aftercare.VerdictWait:
		return d.defer_(ctx, m, v, now)
	case v.Verdict.Final():
		return d.settle(ctx, m, c, st, v, "", now)
	}
	token := d.token()
	capSince := time.Time{}
	if m.Kind.Category() == aftercare.Marketing {
		capSince = now.Add(-time.Duration(st.Caps.MarketingPerHours) * time.Hour)
	}
	lease := claimLease(dv.Deadline, now)
	taken, err := d.Store.Claim(ctx, ledger.Claim{Shop: m.Shop, ID: m.ID, Token: token, Kind: m.Kind, CustomerID: m.CustomerID,
		Lease: lease, Now: now, CapSince: capSince})
	switch {
	case errors.Is(err, ledger.ErrClaimed):
		d.count(ctx, m, Duplicate, "already settled")
		return Result{Decision: Duplicate, Why: "already settled"}, nil
	case errors.Is(err, ledger.ErrInFlight):
		// The holder may die before it records: look again just after its
		// lease ends rather than drop the message.
		if dv.ReceiptHandle != "" {
			if rerr := d.Queue.RetryAfter(ctx, dv.ReceiptHandle, taken.Sub(now)+time.Second); rerr != nil {
				d.Log.Warn("backoff", slog.String("message_id", m.ID), slog.String("error", rerr.Error()))
			}
		}
		return Result{Decision: Deferred, Why: "in flight elsewhere"}, aftercare.Wrap(aftercare.ECONFLICT, err, "claim %s", m.ID)
	case errors.Is(err, ledger.ErrUnknownOutcome):
		d.count(ctx, m, Failed, whyUnknown)
		return Result{Decision: Failed, Why: whyUnknown}, nil
	case errors.Is(err, ledger.ErrCapped):
		until := taken.Add(aftercare.Hours(st.Caps.MarketingPerHours))
		return d.defer_(ctx, m, aftercare.Ruling{Verdict: aftercare.VerdictWait, Reason: aftercare.ReasonCap, Until: until, Channel: v.Channel}, now)
	case err != nil:
		return Result{}, err
	}
	var digest *report.DigestText
	if m.Kind == aftercare.KindWeeklyReport && d.Digests != nil {
		if digest, err = d.Digests.text(ctx, m, st, now); err != nil {
			return d.fail(ctx, m, st, token, dv, err, now)
		}
	}
	out, err := render(m, c, o, st, v.Channel, digest, now, d.unsubscribeURL(m, v.Channel))
	if err != nil {
		// Retrying cannot fix a message that does not render: settle it,
		// with the reason, instead of cycling it into the dead-letter queue.
		v = aftercare.Ruling{Verdict: aftercare.VerdictSuppressed, Reason: aftercare.ReasonCannotRender, Channel: v.Channel, Detail: aftercare.ErrorMessage(err)}
		return d.settle(ctx, m, c, st, v, token, now)
	}
	if err := d.deliver(ctx, out); err != nil {
		if errors.Is(err, delivery.ErrUnknownOutcome) && m.Kind.Category() == aftercare.Marketing {
			// At most once: the claim stays taken, so no copy of this
			// message is attempted again.
			d.count(ctx, m, Failed, whyUnknown)
			return Result{Decision: Failed, Why: whyUnknown}, nil
		}
		return d.fail(ctx, m, st, token, dv, err, now)
	}
	v = aftercare.Ruling{Verdict: aftercare.VerdictSend, Channel: v.Channel}
	res, rerr := d.settle(ctx, m, c, st, v, token, now)
	res.Body = out.JSON
	return res, rerr
}

// claimLease is when a claim taken now may be taken over. Not at the
// invocation's deadline: a write sent just before it (the record of a
// delivered message) can still land after the runtime killed the function,
// and a copy that took over in between would send again. The lease outlives
// the deadline by as long as the invocation had left, plus a margin.
func claimLease(deadline, now time.Time) time.Time {
	if deadline.IsZero() || deadline.Before(now) {
		return now.Add(time.Minute)
	}
	return deadline.Add(deadline.Sub(now) + leaseMargin)
}

// leaseMargin is added to every claim lease after the invocation's deadline.
const leaseMargin = 5 * time.Second

// settle records a final decision (and the customer's lifecycle mark),
// re-reading the customer if it changed meanwhile.
func (d *Dispatcher) settle(ctx context.Context, m *aftercare.Message, c *aftercare.Customer, st aftercare.Settings, v aftercare.Ruling, token string, now time.Time) (Result, error) {
	decision, why := ledger.DecisionOf(v.Verdict), v.Why()
	for attempt := 0; ; attempt++ {
		rec := ledger.Record{Shop: m.Shop, ID: m.ID, Kind: m.Kind, Decision: decision, Why: why, Channel: v.Channel,
			Token: token, At: now, CustomerID: m.CustomerID, OrderID: m.OrderID}
		if v.Reason == aftercare.ReasonRedacted || v.Reason == aftercare.ReasonUnknownCustomer {
			// A message that was queued before its customer was redacted
			// settles without naming them: the ledger would otherwise bring
			// back the id customers/redact just erased.
			rec.CustomerID = ""
		}
		rec.Customer = settleCustomer(m, c, st, v, now)
		rec.Zone = st.Location()
		if rec.Customer != nil {
			// Recoveries follow from the marks this write sets.
			rec.Adds = report.Change(c, rec.Customer, rec.Zone)
		}
		err := d.Store.Record(ctx, rec)
		if err == nil {
			break
		}
		if errors.Is(err, ledger.ErrClaimed) {
			// Another copy settled it first: this one is a duplicate, not
			// a failure to retry into the dead-letter queue.
			d.count(ctx, m, Duplicate, "already settled")
			return Result{Decision: Duplicate, Why: "already settled"}, nil
		}
		if attempt >= 5 {
			return Result{}, err
		}
		if !errors.Is(err, ledger.ErrConflict) {
			if token == "" {
				return Result{}, err
			}
			// Delivered but not yet recorded: if the claim ran out now,
			// another copy would send again. Retry the write a few times.
			select {
			case <-time.After(recordRetry << attempt):
				continue
			case <-ctx.Done():
				return Result{}, err
			}
		}
		if c, _, _, err = d.Store.State(ctx, m.Shop, m.CustomerID, ""); err != nil {
			return Result{}, err
		}
	}
	d.count(ctx, m, decision, why)
	return Result{Decision: decision, Why: why, Channel: v.Channel}, nil
}

// settleCustomer applies a decision to the customer: marketing sent moves the
// cap clock, and a lifecycle message settles its cause's mark. It returns nil
// when the customer need not be written.
func settleCustomer(m *aftercare.Message, c *aftercare.Customer, st aftercare.Settings, v aftercare.Ruling, now time.Time) *aftercare.Customer {
	if c == nil || c.Redacted {
		return nil
	}
	marketing := m.Kind.Category() == aftercare.Marketing && v.Verdict == aftercare.VerdictSend
	if m.Mark == "" && !marketing {
		return nil
	}
	cc := *c
	if marketing {
		cc.LastMarketingAt = now
	}
	if m.Mark != "" {
		marks := make(map[string]aftercare.Mark, len(c.Marks)+1)
		for k, v := range c.Marks {
			marks[k] = v
		}
		cc.Marks = marks
		cc.SetMark(m.Mark, aftercare.Mark{State: v.Verdict.Mark(aftercare.AtSend), At: now, ID: m.ID, Why: v.Why()})
	}
	cc.Refresh(now, st)
	return &cc
}

// defer_ puts the message back on the queue to wait until the ruling's time;
// SQS holds it up to 15 minutes a hop and the hop costs no state reads. A hop
// of a deferral already counted is not counted again.
func (d *Dispatcher) defer_(ctx context.Context, m *aftercare.Message, r aftercare.Ruling, now time.Time) (Result, error) {
	next := *m
	next.NotBefore = r.Until
	if err := d.Queue.SendMessages(ctx, []aftercare.Message{next}, now); err != nil {
		return Result{}, err
	}
	if r.Reason != aftercare.ReasonNotBefore {
		d.count(ctx, m, Deferred, r.Why())
	}
	return Result{Decision: Deferred, Why: r.Why()}, nil
}

// fail releases the claim and backs the message off, then reports the failure
// so the queue retries it and, after its redrive count, dead-letters it.
func (d *Dispatcher) fail(ctx context.Context, m *aftercare.Message, st aftercare.Settings, token string, dv Delivery, cause error, now time.Time) (Result, error) {
	rel := ledger.Record{Shop: m.Shop, ID: m.ID, Kind: m.Kind, Decision: Failed, Why: cause.Error(), Token: token,
		At: now, CustomerID: m.CustomerID, OrderID: m.OrderID, Zone: st.Location()}
	if err := d.Store.Release(ctx, rel); err != nil {
		d.Log.Error("release claim", slog.String("message_id", m.ID), slog.String("error", err.Error()))
	}
	if dv.ReceiptHandle != "" {
		if err := d.Queue.RetryAfter(ctx, dv.ReceiptHandle, d.backoff(dv.ReceiveCount)); err != nil {
			d.Log.Warn("backoff", slog.String("message_id", m.ID), slog.String("error", err.Error()))
		}
	}
	d.count(ctx, m, Failed, cause.Error())
	return Result{Decision: Failed, Why: cause.Error()}, aftercare.Wrap(aftercare.EUNAVAILABLE, cause, "deliver %s", m.ID)
}

func (d *Dispatcher) backoff(receiveCount int) time.Duration {
	base := d.RetryBase
	if base <= 0 {
		base = 30 * time.Second
	}
	longest := d.RetryMax
	if longest <= 0 {
		longest = time.Hour
	}
	// SQS moves a message's visibility by at most 12 hours.
	return aftercare.RetryDelay(base, receiveCount, min(longest, 12*time.Hour))
}

func (d *Dispatcher) count(ctx context.Context, m *aftercare.Message, decision, why string) {
	obs.Record(ctx, d.Log, "message", "Messages", 1, map[string]string{"Shop": m.Shop, "Kind": string(m.Kind), "Decision": decision},
		slog.String("message_id", m.ID), slog.String("order_id", m.OrderID), slog.String("customer_id", m.CustomerID), slog.String("why", why))
}

// redacted is the stand-in of a customer whose keyed tombstone exists (the
// policy suppresses every message to it), or nil.
func (d *Dispatcher) redacted(ctx context.Context, shop, customerID string) (*aftercare.Customer, error) {
	tomb, _, _, err := d.Store.State(ctx, shop, aftercare.TombstoneID(d.TombstoneKey, shop, customerID), "")
	if err != nil || tomb == nil || !tomb.Redacted {
		return nil, err
	}
	return &aftercare.Customer{Shop: shop, ID: customerID, Redacted: true, RedactedAt: tomb.RedactedAt}, nil
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

func (d *Dispatcher) token() string {
	if d.NewToken != nil {
		return d.NewToken()
	}
	return randomToken()
}
