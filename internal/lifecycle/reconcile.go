package lifecycle

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// CheckReconcile heals missed webhooks: for each connected shop it asks the
// Admin API for the orders updated since the shop's cursor and queues them
// on the inbox as live order events (the processor applies them by the
// usual newer-wins rule and dedupes them by id).
const CheckReconcile = "reconcile"

// DefaultLookback is how far back the first reconcile of a shop asks (no
// cursor stored yet): a day, many check intervals, so a shop connected
// after an outage is healed for the day before. The history before that is
// the backfill's.
const DefaultLookback = 24 * time.Hour

// Admin is the connected shops' Admin API (shopifyadmin.Shops).
type Admin interface {
	// Connected lists the shops with a stored access token.
	Connected(ctx context.Context) ([]string, error)
	// OrdersSince pages through a shop's orders updated at or after since,
	// oldest change first, calling fn with each page.
	OrdersSince(ctx context.Context, shop string, since, now time.Time, fn func(aftercare.OrdersPage) error) (time.Time, error)
	// Disconnect deletes the shop's stored token.
	Disconnect(ctx context.Context, shop string) error
}

// errLate stops a shop's paging at a checkpoint.
var errLate = errors.New("out of time")

// adminError is a shop's Admin API (or its token) failing, as opposed to
// the queue or the table.
type adminError struct{ err error }

func (e *adminError) Error() string { return e.err.Error() }
func (e *adminError) Unwrap() error { return e.err }

// reconcile runs the reconcile check. It reports whether it got through
// every shop; a cut-short run has stored each shop's cursor after the last
// page it queued, so the next run continues there.
func (r *run) reconcile(ctx context.Context) (bool, error) {
	counts := r.res.Checks[CheckReconcile]
	if counts == nil || r.c.Admin == nil {
		return true, nil
	}
	shops, err := r.c.Admin.Connected(ctx)
	if err != nil {
		return false, aftercare.Wrap(aftercare.EUNAVAILABLE, err, "list the connected shops")
	}
	lookback := r.c.Lookback
	if lookback <= 0 {
		lookback = DefaultLookback
	}
	for _, shop := range shops {
		if r.late(ctx) {
			return false, nil
		}
		per := &Counts{}
		if counts.Shops == nil {
			counts.Shops = map[string]*Counts{}
		}
		counts.Shops[shop] = per
		gone, err := r.uninstalled(ctx, shop)
		if err != nil {
			return false, err
		}
		if gone {
			// Shopify revoked the token with the uninstall: keeping it only
			// keeps a secret of a shop that left. A reinstall connects again.
			if err := r.c.Admin.Disconnect(ctx, shop); err != nil {
				r.log().Warn("reconcile: token of an uninstalled shop not deleted", slog.String("shop", shop), slog.String("error", err.Error()))
			} else {
				r.log().Info("reconcile: token of an uninstalled shop deleted", slog.String("shop", shop))
			}
			per.skip(string(aftercare.ReasonUninstalled))
			counts.skip(string(aftercare.ReasonUninstalled))
			continue
		}
		done, err := r.reconcileShop(ctx, shop, lookback, per)
		var shopErr *adminError
		if errors.As(err, &shopErr) {
			// One shop's Admin API (a revoked token, an outage of its own)
			// does not hold up the others; its cursor stays for the next run.
			r.log().Warn("reconcile: shop not reconciled", slog.String("shop", shop), slog.String("error", shopErr.err.Error()))
			per.skip("admin api error")
			err, done = nil, true
		}
		counts.add(per)
		if err != nil || !done {
			return false, err
		}
	}
	return true, nil
}

// reconcileShop queues one shop's changed orders page by page, storing the
// cursor once each page is on the queue (a crash repeats at most a page,
// with the same event ids).
func (r *run) reconcileShop(ctx context.Context, shop string, lookback time.Duration, per *Counts) (bool, error) {
	cur, err := r.c.Store.ReconcileCursor(ctx, shop)
	if err != nil {
		return false, err
	}
	r.res.ItemsRead++
	since := cur.Since()
	if since.IsZero() {
		since = r.now.Add(-lookback)
	}
	log := r.log().With(slog.String("shop", shop), slog.String("check", CheckReconcile))
	var ours error // the queue's or the table's, which stop the run
	_, err = r.c.Admin.OrdersSince(ctx, shop, since, r.now, func(p aftercare.OrdersPage) error {
		var evs []aftercare.Event
		next := cur
		next.Orders = append([]string(nil), cur.Orders...)
		next.Recent = append([]aftercare.Queued(nil), cur.Recent...)
		for _, ev := range p.Events {
			per.Examined++
			if err := ev.Bound(); err != nil {
				per.skip("unstorable order")
				log.Warn("reconcile: order skipped, unstorable", slog.String("why", err.Error()))
				continue
			}
			if cur.Seen(ev.Order.ID, ev.Order.UpdatedAt) {
				per.skip("already queued")
				continue
			}
			evs = append(evs, ev)
			next.Advance(ev.Order.ID, ev.Order.UpdatedAt)
		}
		for _, id := range p.Skipped {
			per.Examined++
			per.skip("unreadable order")
			log.Warn("reconcile: order skipped, unreadable", slog.String("order", id))
		}
		if len(evs) > 0 {
			if err := r.c.Outbox.SendEvents(ctx, evs); err != nil {
				ours = aftercare.Wrap(aftercare.EUNAVAILABLE, err, "queue events")
				return ours
			}
			per.Queued += len(evs)
			r.res.Events += len(evs)
			if err := r.c.Store.SaveReconcileCursor(ctx, shop, next); err != nil {
				ours = err
				return ours
			}
			cur = next
		}
		if r.late(ctx) {
			return errLate
		}
		return nil
	})
	switch {
	case errors.Is(err, errLate):
		return false, nil
	case ours != nil:
		return false, ours
	case err != nil:
		return false, &adminError{err: err}
	}
	return true, nil
}

func (r *run) log() *slog.Logger {
	if r.c.Log != nil {
		return r.c.Log
	}
	return slog.Default()
}

// add sums a shop's counts into the check's.
func (c *Counts) add(o *Counts) {
	c.Examined += o.Examined
	c.Queued += o.Queued
	c.Held += o.Held
	c.Stale += o.Stale
	for why, n := range o.Why {
		for range n {
			c.skip(why)
		}
	}
}
