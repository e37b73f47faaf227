// Package lifecycle runs the scheduled checks: timed follow-ups, win-back and
// lapse notes, replenishment, back-in-stock and stalled parcels and orders. It
// reads only what is due, by key, from the due index; every message id comes
// from its cause, so overlapping or repeated runs send nothing twice.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/state"
)

// Checks by name. "all" runs every one.
const (
	CheckAll           = "all"
	CheckFollowUps     = "followups"       // care_tips, review_request, check_in
	CheckWinBack       = "win_back"        // win_back and lapse_note
	CheckReplenishment = "replenishment"   // replenishment
	CheckBackInStock   = "back_in_stock"   // back_in_stock
	CheckStalled       = "stalled"         // parcels without scans, orders not shipped
	CheckDigest        = "weekly_report"   // the merchant's weekly digest, Monday 08:00 shop time
	CheckCounters      = "report_counters" // the report's counters folded from the table's stream
)

// Names lists the checks.
var Names = []string{CheckCounters, CheckFollowUps, CheckWinBack, CheckReplenishment, CheckBackInStock, CheckStalled, CheckDigest, CheckReconcile}

// checkOf names the check that sends a kind.
func checkOf(k aftercare.Kind) string {
	switch k {
	case aftercare.KindCareTips, aftercare.KindReviewRequest, aftercare.KindCheckIn:
		return CheckFollowUps
	case aftercare.KindWinBack, aftercare.KindLapseNote:
		return CheckWinBack
	case aftercare.KindReplenishment:
		return CheckReplenishment
	case aftercare.KindBackInStock:
		return CheckBackInStock
	}
	return ""
}

// Input is the scheduler's payload.
type Input struct {
	Check         string `json:"check"`
	ScheduledTime string `json:"scheduled_time"`
}

// Counts are one check's outcome.
type Counts struct {
	Examined int            `json:"examined"`
	Queued   int            `json:"queued"`
	Held     int            `json:"held"`
	Stale    int            `json:"stale"`
	Skipped  int            `json:"skipped"`
	Why      map[string]int `json:"skipped_why,omitempty"`
	// Shops has the reconcile check's counts by shop.
	Shops map[string]*Counts `json:"shops,omitempty"`
}

func (c *Counts) skip(why string) {
	c.Skipped++
	if c.Why == nil {
		c.Why = map[string]int{}
	}
	c.Why[why]++
}

// Result reports a run.
type Result struct {
	Check         string             `json:"check"`
	ScheduledTime time.Time          `json:"scheduled_time"`
	Complete      bool               `json:"complete"` // false: stopped at a checkpoint, the next run continues
	Checks        map[string]*Counts `json:"checks"`
	ItemsRead     int                `json:"items_read"`
	Messages      int                `json:"messages"`
	Events        int                `json:"events"`
	Undecodable   int                `json:"undecodable,omitempty"` // due items skipped: they could not be decoded (alarmed)
	DurationMS    int64              `json:"duration_ms"`
}

// Store is what the checks read and write.
type Store interface {
	// Due reads one page of items of a kind due up to a time in one shard,
	// starting after a cursor ("" for the start); next is "" at the end.
	// Items it cannot decode come as a *state.Undecodable error beside the
	// page's other items and its cursor.
	Due(ctx context.Context, kind string, shard int, upTo time.Time, cursor string, limit int) (items []state.Entity, next string, err error)
	// Save writes an entity back if it did not change since it was read.
	Save(ctx context.Context, e state.Entity) error
	// OutOfStock returns a shop's out-of-stock variants.
	OutOfStock(ctx context.Context, shop string) (map[string]bool, error)
	// Install returns a shop's install marks (nil when none are stored).
	Install(ctx context.Context, shop string) (*aftercare.Install, error)
	// Cursors and SaveCursors keep where a cut-short run stopped.
	Cursors(ctx context.Context, check string) (map[string]string, error)
	SaveCursors(ctx context.Context, check string, cursors map[string]string) error
	// ReconcileCursor and SaveReconcileCursor keep, per shop, up to when the
	// reconcile check has queued its order changes (zero: never).
	ReconcileCursor(ctx context.Context, shop string) (aftercare.ReconcileCursor, error)
	SaveReconcileCursor(ctx context.Context, shop string, c aftercare.ReconcileCursor) error
	ShardCount() int
}

// Outbox queues messages for dispatch and internal events for the processor.
type Outbox interface {
	SendMessages(ctx context.Context, msgs []aftercare.Message, now time.Time) error
	SendEvents(ctx context.Context, evs []aftercare.Event) error
}

// SettingsSource returns a shop's settings.
type SettingsSource interface {
	Settings(ctx context.Context, shop string) (aftercare.Settings, error)
}

// Checker runs the checks.
type Checker struct {
	Store    Store
	Outbox   Outbox
	Settings SettingsSource
	Log      *slog.Logger
	Now      func() time.Time
	PageSize int           // items per Due call
	Margin   time.Duration // stop this long before the invocation's deadline
	MaxItems int           // stop at a checkpoint after examining this many items (0: no limit)
	// Admin is the connected shops' Admin API for the reconcile check (nil:
	// the check does nothing); Lookback is how far back a shop's first
	// reconcile asks (default DefaultLookback).
	Admin    Admin
	Lookback time.Duration
	// Counters folds the report's counters from the table's stream (nil:
	// the store adds them as it writes). Every run folds first, so the
	// stream's 24 hours are never outrun and the digest counts everything.
	Counters interface {
		Fold(ctx context.Context) (state.FoldStats, error)
	}
}

// Run runs one check (or all) as of the input's scheduled time.
func (c *Checker) Run(ctx context.Context, in Input) (Result, error) {
	start := time.Now()
	now, err := c.when(in.ScheduledTime)
	if err != nil {
		return Result{}, err
	}
	check := in.Check
	if check == "" {
		check = CheckAll
	}
	if check != CheckAll && !contains(Names, check) {
		return Result{}, aftercare.Errorf(aftercare.EINVALID, "unknown check %q (known: all, %s)", check, strings.Join(Names, ", "))
	}
	r := &run{c: c, now: now, check: check, res: Result{Check: check, ScheduledTime: now, Checks: map[string]*Counts{}},
		stock: map[string]map[string]bool{}, removed: map[string]bool{}}
	for _, name := range Names {
		if (check == CheckAll || check == name) && (name != CheckCounters || c.Counters != nil) {
			r.res.Checks[name] = &Counts{}
		}
	}
	kinds := []string{}
	switch check {
	case CheckAll, CheckFollowUps, CheckWinBack, CheckReplenishment, CheckBackInStock:
		kinds = append(kinds, state.ItemCustomer)
	}
	if check == CheckAll || check == CheckStalled {
		kinds = append(kinds, state.ItemShipment, state.ItemOrder)
	}
	if check == CheckAll || check == CheckDigest {
		kinds = append(kinds, state.ItemDigest)
	}
	var folded error
	if c.Counters != nil && (check == CheckAll || check == CheckCounters) {
		// A failed fold does not stop the due work; the run still fails,
		// for the alarm, and the next one folds what this one could not.
		st, err := c.Counters.Fold(ctx)
		r.res.Checks[CheckCounters].Examined = st.Records
		if err != nil {
			folded = fmt.Errorf("report counters: %w", err)
			c.Log.Error("report counters not folded", slog.String("error", err.Error()))
		}
	}
	complete := true
	if len(kinds) > 0 {
		complete, err = r.scan(ctx, kinds)
	}
	if err == nil && complete {
		// Reconcile last: the due work of this hour goes first, and the
		// events it queues are applied by the processor, not by this run.
		complete, err = r.reconcile(ctx)
	}
	r.res.Complete = complete
	r.res.DurationMS = time.Since(start).Milliseconds()
	return r.res, errors.Join(err, folded)
}

// when parses the scheduled time; the clock is the fallback.
func (c *Checker) when(s string) (time.Time, error) {
	if s == "" || strings.HasPrefix(s, "<") {
		if c.Now != nil {
			return c.Now().UTC(), nil
		}
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, aftercare.Errorf(aftercare.EINVALID, "scheduled_time %q is not RFC 3339", s)
	}
	return t.UTC(), nil
}

type run struct {
	c     *Checker
	now   time.Time
	check string
	res   Result
	stock map[string]map[string]bool
	// removed says, by shop, whether the app is uninstalled from it (read
	// once a run).
	removed map[string]bool

	// Messages wait here to go out ten to a SendMessageBatch; an item is
	// written back only once every message it queued is on the queue.
	pending []aftercare.Message
	saves   []pendingSave
	queued  int // messages handed to pending so far
	sent    int // messages on the queue so far
	due     int // due items read so far
}

type pendingSave struct {
	item  state.Entity
	after int // write once this many messages are sent
}

// scan walks the due index shard by shard, resuming where a cut-short run
// stopped. It reports whether it got through everything due.
func (r *run) scan(ctx context.Context, kinds []string) (bool, error) {
	cursors, err := r.c.Store.Cursors(ctx, r.check)
	if err != nil {
		return false, err
	}
	next := map[string]string{}
	page := r.c.PageSize
	if page <= 0 {
		page = 100
	}
	for _, kind := range kinds {
		for shard := 0; shard < r.c.Store.ShardCount(); shard++ {
			slot := fmt.Sprintf("%s#%d", kind, shard)
			cursor := cursors[slot]
			for {
				if r.late(ctx) || (r.c.MaxItems > 0 && r.due >= r.c.MaxItems) {
					next[slot] = cursor
					r.keepRest(kinds, kind, shard, cursors, next)
					if err := r.flush(ctx, true); err != nil {
						return false, err
					}
					return false, r.c.Store.SaveCursors(ctx, r.check, next)
				}
				limit := page
				if r.c.MaxItems > 0 {
					limit = max(1, min(page, r.c.MaxItems-r.due))
				}
				items, after, err := r.c.Store.Due(ctx, kind, shard, r.now, cursor, limit)
				if bad := (*state.Undecodable)(nil); errors.As(err, &bad) {
					r.undecodable(ctx, kind, bad)
					err = nil
				}
				if err != nil {
					return false, err
				}
				r.res.ItemsRead += len(items)
				r.due += len(items)
				if err := r.page(ctx, items); err != nil {
					return false, err
				}
				cursor = after
				if after == "" {
					break
				}
			}
		}
	}
	if err := r.flush(ctx, true); err != nil {
		return false, err
	}
	return true, r.c.Store.SaveCursors(ctx, r.check, nil)
}

// undecodable counts, logs (keys only) and meters due items that could not
// be decoded, and the run goes on past them. They stay on the due index, so
// the UndecodableItems alarm fires every run until the item is repaired or
// deleted: a corrupt item is an operator's to look at, not to drop.
func (r *run) undecodable(ctx context.Context, kind string, bad *state.Undecodable) {
	r.res.Undecodable += len(bad.Keys)
	keys := make([]string, 0, len(bad.Keys))
	for _, k := range bad.Keys {
		keys = append(keys, k.Kind+" "+k.Shop+" "+k.ID)
	}
	log := r.c.Log
	if log == nil {
		log = slog.Default()
	}
	log.ErrorContext(ctx, "undecodable due items skipped", slog.String("kind", kind), slog.Any("keys", keys))
	obs.Count(ctx, log, "UndecodableItems", len(bad.Keys), nil) // no dimensions: one alarm watches it
}

// keepRest carries saved cursors of the slots this run did not reach.
func (r *run) keepRest(kinds []string, kind string, shard int, old, next map[string]string) {
	reached := true
	for _, k := range kinds {
		for s := 0; s < r.c.Store.ShardCount(); s++ {
			slot := fmt.Sprintf("%s#%d", k, s)
			if k == kind && s == shard {
				reached = false
				continue
			}
			if !reached {
				if v, ok := old[slot]; ok {
					next[slot] = v
				}
			}
		}
	}
}

// late reports whether the invocation is about to run out of time.
func (r *run) late(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	if !ok {
		return ctx.Err() != nil
	}
	margin := r.c.Margin
	if margin <= 0 {
		margin = 15 * time.Second
	}
	return time.Until(dl) < margin
}

// page handles one page of due items: decide, queue what goes out, and write
// each item back (after its messages are queued) so it is not due again
// until it should be.
func (r *run) page(ctx context.Context, items []state.Entity) error {
	var evs []aftercare.Event
	for _, it := range items {
		var err error
		var save *state.Entity
		var m []aftercare.Message
		var e []aftercare.Event
		gone, err := r.uninstalled(ctx, shopOf(it))
		if err != nil {
			return err
		}
		switch {
		case gone:
			save, err = r.setAside(ctx, it)
		case it.Customer != nil:
			var c *aftercare.Customer
			if m, c, err = r.customer(ctx, it.Customer); c != nil {
				save = &state.Entity{Customer: c}
			}
		case it.Shipment != nil:
			e = r.shipment(it.Shipment)
		case it.Order != nil:
			e, save, err = r.order(ctx, it.Order)
		case it.Digest != nil:
			m, save, err = r.digest(it.Digest)
		}
		if err != nil {
			return err
		}
		evs = append(evs, e...)
		r.pending = append(r.pending, m...)
		r.queued += len(m)
		if save != nil {
			r.saves = append(r.saves, pendingSave{item: *save, after: r.queued})
		}
	}
	if len(evs) > 0 {
		if err := r.c.Outbox.SendEvents(ctx, evs); err != nil {
			return aftercare.Wrap(aftercare.EUNAVAILABLE, err, "queue events")
		}
		r.res.Events += len(evs)
	}
	return r.flush(ctx, false)
}

// flushAt is how many messages may wait before full batches go out.
const flushAt = 50

// flush sends waiting messages (only whole batches of ten unless all is
// true) and then writes back the items whose messages are all queued. Queue
// first: a crash before the write re-queues the same ids next run, which the
// ledger lets out once; the reverse order could lose them.
func (r *run) flush(ctx context.Context, all bool) error {
	n := len(r.pending)
	if !all {
		if n < flushAt {
			n = 0
		} else {
			n -= n % 10
		}
	}
	if n > 0 {
		if err := r.c.Outbox.SendMessages(ctx, r.pending[:n], r.now); err != nil {
			return aftercare.Wrap(aftercare.EUNAVAILABLE, err, "queue messages")
		}
		r.pending = append(r.pending[:0], r.pending[n:]...)
		r.sent += n
		r.res.Messages += n
	}
	var ready []state.Entity
	keep := r.saves[:0]
	for _, s := range r.saves {
		if s.after > r.sent {
			keep = append(keep, s)
			continue
		}
		ready = append(ready, s.item)
	}
	r.saves = keep
	return r.save(ctx, ready)
}

// saveParallel bounds the concurrent write-backs of one flush.
const saveParallel = 8

// save writes items back, a few at a time. A conflict means the processor
// changed the item meanwhile: it is due again if it should be, and the next
// run decides afresh.
func (r *run) save(ctx context.Context, items []state.Entity) error {
	errs := make([]error, len(items))
	sem := make(chan struct{}, saveParallel)
	var wg sync.WaitGroup
	for i := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := r.c.Store.Save(ctx, items[i]); err != nil && !errors.Is(err, state.ErrConflict) {
				errs[i] = err
			}
		}(i)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// customer decides a due customer's lifecycle work.
// It returns the customer to write back when something changed (c is the
// store's fresh copy, so it is changed in place).
func (r *run) customer(ctx context.Context, c *aftercare.Customer) ([]aftercare.Message, *aftercare.Customer, error) {
	st, err := r.c.Settings.Settings(ctx, c.Shop)
	if err != nil {
		return nil, nil, err
	}
	out, err := r.outOfStock(ctx, c.Shop)
	if err != nil {
		return nil, nil, err
	}
	inStock := func(_, variant string) bool { return variant == "" || !out[variant] }
	var msgs []aftercare.Message
	changed := false
	for _, d := range c.Decide(r.now, st, inStock) {
		name := checkOf(d.Kind)
		counts := r.res.Checks[name]
		if counts == nil {
			continue // another check's work
		}
		if d.Reason == aftercare.ReasonNotDue {
			continue
		}
		counts.Examined++
		switch d.Verdict {
		case aftercare.VerdictSend:
			m := aftercare.Message{Kind: d.Kind, Shop: c.Shop, CustomerID: c.ID, OrderID: d.OrderID,
				ProductID: d.ProductID, VariantID: d.VariantID, Mark: d.Mark, DueAt: d.DueAt}
			m.Stamp(r.now, c.ID, d.Mark)
			msgs = append(msgs, m)
			c.SetMark(d.Mark, aftercare.Mark{State: d.Verdict.Mark(aftercare.AtSchedule), At: r.now, ID: m.ID})
			counts.Queued++
		case aftercare.VerdictHeld, aftercare.VerdictStale, aftercare.VerdictSuppressed:
			c.SetMark(d.Mark, aftercare.Mark{State: d.Verdict.Mark(aftercare.AtSchedule), At: r.now, Why: d.Why()})
			switch d.Verdict {
			case aftercare.VerdictHeld:
				counts.Held++
			case aftercare.VerdictStale:
				counts.Stale++
			default:
				counts.skip(d.Why())
			}
		default:
			counts.skip(d.Why())
			continue
		}
		changed = true
	}
	before := c.ExamineAt
	c.Refresh(r.now, st)
	if !changed && c.ExamineAt.Equal(before) {
		return msgs, nil, nil
	}
	return msgs, c, nil
}

func (r *run) outOfStock(ctx context.Context, shop string) (map[string]bool, error) {
	if s, ok := r.stock[shop]; ok {
		return s, nil
	}
	s, err := r.c.Store.OutOfStock(ctx, shop)
	if err != nil {
		return nil, err
	}
	r.stock[shop] = s
	r.res.ItemsRead++
	return s, nil
}

// shipment asks the processor to open a delay playbook for a parcel that has
// been moving without a scan for too long.
func (r *run) shipment(s *aftercare.Shipment) []aftercare.Event {
	counts := r.res.Checks[CheckStalled]
	counts.Examined++
	if !s.Linked() || s.Exception != "" || (s.Status != aftercare.StatusInTransit && s.Status != aftercare.StatusOutForDelivery) {
		counts.skip("parcel moved on")
		return nil
	}
	days := int(r.now.Sub(s.LastScanAt).Hours() / 24)
	counts.Queued++
	return []aftercare.Event{{
		ID:   "aftercare:overdue:shipment:" + s.Key + ":" + aftercare.TimeKey(s.LastScanAt),
		Kind: aftercare.EventOverdue, Source: aftercare.SourceAftercare, Topic: "overdue", Shop: s.Shop,
		At: r.now, Received: r.now,
		Overdue: &aftercare.Overdue{OrderID: s.OrderID, Shipment: s.Key, Since: s.LastScanAt,
			What: fmt.Sprintf("no carrier scan for %d days", days)},
	}}
}

// order asks the processor to open a delay playbook for a paid order not
// shipped by its promise. A promise broken more than the stale window ago
// (history from a backfill or a reconcile, an order that never ships) gets
// no playbook: its notice would tell the customer about the past. It is
// counted stale and taken off the due index until its next change.
func (r *run) order(ctx context.Context, o *aftercare.Order) ([]aftercare.Event, *state.Entity, error) {
	counts := r.res.Checks[CheckStalled]
	counts.Examined++
	if o.PaidAt.IsZero() || o.Cancelled() || o.Shipped() {
		counts.skip("order shipped or cancelled")
		return nil, nil, nil
	}
	st, err := r.c.Settings.Settings(ctx, o.Shop)
	if err != nil {
		return nil, nil, err
	}
	if r.now.Sub(o.PromiseAt) > aftercare.Days(st.FollowUps.StaleAfterDays) {
		counts.Stale++
		off := *o
		off.ExamineAt = time.Time{}
		return nil, &state.Entity{Order: &off}, nil
	}
	counts.Queued++
	return []aftercare.Event{{
		ID:   "aftercare:overdue:order:" + o.Shop + ":" + o.ID + ":" + aftercare.TimeKey(o.PaidAt),
		Kind: aftercare.EventOverdue, Source: aftercare.SourceAftercare, Topic: "overdue", Shop: o.Shop,
		At: r.now, Received: r.now,
		Overdue: &aftercare.Overdue{OrderID: o.ID, Since: o.PaidAt, What: "paid but not shipped by " + o.PromiseAt.Format("Mon Jan 2")},
	}}, nil, nil
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// digest queues a shop's weekly_report for the week its due item names (the
// item is due from the Monday after, 08:00 shop time) and takes the item off
// the due index. The message id derives from shop and week, so a rerun, or a
// run that crashed before the write-back, queues it once.
func (r *run) digest(d *state.Digest) ([]aftercare.Message, *state.Entity, error) {
	from, err := time.Parse(report.DayFormat, d.Week)
	if err != nil {
		return nil, nil, fmt.Errorf("digest %s/%s: week %q: %w", d.Shop, d.Week, d.Week, err)
	}
	counts := r.res.Checks[CheckDigest]
	counts.Examined++
	counts.Queued++
	m := report.DigestMessage(d.Shop, report.Range{From: from, To: from.AddDate(0, 0, 6)}, r.now)
	m.DueAt = d.DueAt
	// Written back off the due index: queued once.
	done := *d
	done.DueAt = time.Time{}
	return []aftercare.Message{m}, &state.Entity{Digest: &done}, nil
}

// shopOf is the shop a due item belongs to ("" for a parcel not linked to
// an order yet).
func shopOf(it state.Entity) string {
	switch {
	case it.Customer != nil:
		return it.Customer.Shop
	case it.Shipment != nil:
		return it.Shipment.Shop
	case it.Order != nil:
		return it.Order.Shop
	case it.Digest != nil:
		return it.Digest.Shop
	}
	return ""
}

// uninstalled reports whether the app is removed from the shop.
func (r *run) uninstalled(ctx context.Context, shop string) (bool, error) {
	if shop == "" {
		return false, nil
	}
	if gone, ok := r.removed[shop]; ok {
		return gone, nil
	}
	inst, err := r.c.Store.Install(ctx, shop)
	if err != nil {
		return false, err
	}
	r.res.ItemsRead++
	r.removed[shop] = inst.Uninstalled()
	return r.removed[shop], nil
}

// setAsideFor is how long an uninstalled shop's due item is put aside. The
// item is not decided (its marks stay as they are, nothing is queued) and
// not left due, so an uninstalled shop costs a read a week per item instead
// of one an hour; shop/redact (Shopify sends it two days after the
// uninstall) removes the items for good. A reconnected shop's work resumes
// at the latest a week later; follow-ups late by more than the stale window
// by then are dropped as stale, as they should be.
const setAsideFor = 7 * 24 * time.Hour

// setAside counts an uninstalled shop's due item as skipped and returns it
// to write back with its due time a week on. A weekly digest goes off the
// due index instead: a past week's numbers are not worth sending late.
func (r *run) setAside(ctx context.Context, it state.Entity) (*state.Entity, error) {
	why := string(aftercare.ReasonUninstalled)
	later := r.now.Add(setAsideFor)
	switch {
	case it.Customer != nil:
		c := *it.Customer
		st, err := r.c.Settings.Settings(ctx, c.Shop)
		if err != nil {
			return nil, err
		}
		// Counted once in each check that had work due for the customer.
		seen := map[string]bool{}
		for _, d := range c.Decide(r.now, st, nil) {
			name := checkOf(d.Kind)
			counts := r.res.Checks[name]
			if counts == nil || seen[name] || d.Reason == aftercare.ReasonNotDue {
				continue
			}
			seen[name] = true
			counts.Examined++
			counts.skip(why)
		}
		c.ExamineAt = later
		return &state.Entity{Customer: &c}, nil
	case it.Shipment != nil:
		r.stalledAside(why)
		s := *it.Shipment
		s.ExamineAt = later
		return &state.Entity{Shipment: &s}, nil
	case it.Order != nil:
		r.stalledAside(why)
		o := *it.Order
		o.ExamineAt = later
		return &state.Entity{Order: &o}, nil
	case it.Digest != nil:
		if counts := r.res.Checks[CheckDigest]; counts != nil {
			counts.Examined++
			counts.skip(why)
		}
		d := *it.Digest
		d.DueAt = time.Time{}
		return &state.Entity{Digest: &d}, nil
	}
	return nil, nil
}

func (r *run) stalledAside(why string) {
	if counts := r.res.Checks[CheckStalled]; counts != nil {
		counts.Examined++
		counts.skip(why)
	}
}
