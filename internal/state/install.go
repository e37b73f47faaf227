package state

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/obs"
)

// install returns the shop's install marks (new ones if none are stored), or
// nil if they are not loaded yet.
func (t *tx) install(shop string) *aftercare.Install {
	k := Key{ItemInstall, shop, ""}
	if i, ok := t.installs[k]; ok {
		return i
	}
	if !t.want(k) {
		return nil
	}
	i := clone(t.base.Installs[k])
	if i == nil {
		i = &aftercare.Install{Shop: shop}
	}
	t.installs[k] = i
	return i
}

// applyUninstalled marks the shop uninstalled at at. Nothing else changes:
// the shop's data stays until shop/redact, and a later `aftercare connect`
// (an install newer than at) speaks for the shop again.
func applyUninstalled(t *tx, shop string, at time.Time) {
	i := t.install(shop)
	if i == nil {
		return
	}
	if i.MarkUninstalled(at) {
		t.dirty[Key{ItemInstall, shop, ""}] = true
		t.note("shop marked uninstalled at %s", at.UTC().Format(time.RFC3339))
	}
}

// wantInstalls asks for the install marks of the shops the event touches,
// without a round trip of their own: the event's own shop from the first
// read, and a shop whose items this attempt reads anyway (the order a
// carrier's parcel leads to). A carrier report that reads nothing more than
// its parcel does not learn its shop's marks; dispatch stops what it queues.
func wantInstalls(t *tx) {
	if t.ev.Shop != "" {
		t.install(t.ev.Shop)
	}
	var shops []string
	for k := range t.need {
		if k.Shop != "" && k.Kind != ItemInstall {
			shops = append(shops, k.Shop)
		}
	}
	for _, shop := range shops {
		t.install(shop)
	}
}

// installed splits off the messages for shops the app is uninstalled from:
// the processor queues nothing new for them (the same fact Judge suppresses
// on). Dispatch asks again at send time, for what was queued before the
// uninstall and for any shop whose marks this event did not read.
func (t *tx) installed(msgs []aftercare.Message) (keep, dropped []aftercare.Message) {
	keep = msgs[:0:0]
	for _, m := range msgs {
		if t.uninstalled(m.Shop) {
			dropped = append(dropped, m)
			continue
		}
		keep = append(keep, m)
	}
	if len(dropped) > 0 {
		t.note("%d messages not queued: the app is uninstalled from the shop", len(dropped))
	}
	return keep, dropped
}

// countDropped logs and counts, as dispatch does for what it settles, the
// messages an uninstalled shop did not get (ids only: no personal data).
func (p *Processor) countDropped(ctx context.Context, ev *aftercare.Event, dropped []aftercare.Message) {
	why := string(aftercare.ReasonUninstalled)
	for _, m := range dropped {
		obs.Record(ctx, p.Log, "message", "Messages", 1, map[string]string{"Shop": m.Shop, "Kind": string(m.Kind), "Decision": string(aftercare.VerdictSuppressed)},
			slog.String("event_id", ev.ID), slog.String("message_id", m.ID), slog.String("order_id", m.OrderID), slog.String("why", why))
	}
}

// uninstalled reports whether the shop's marks, as this attempt has them
// (or as an earlier round loaded them), say the app is removed.
func (t *tx) uninstalled(shop string) bool {
	k := Key{ItemInstall, shop, ""}
	if i, ok := t.installs[k]; ok {
		return i.Uninstalled()
	}
	return t.base.Installs[k].Uninstalled()
}

// MarkInstalled records that the app was connected to a shop at at, so an
// app/uninstalled older than that no longer silences it (`aftercare connect`
// calls it: Shopify sends no install webhook). The later mark wins, so a
// second run, or one older than the stored install, changes nothing. It
// reports whether the stored marks changed.
func MarkInstalled(ctx context.Context, s Store, shop string, at time.Time) (bool, error) {
	k := Key{ItemInstall, shop, ""}
	for attempt := 1; ; attempt++ {
		_, l, err := s.Load(ctx, "", []Key{k})
		if err != nil {
			return false, err
		}
		i := l.Installs[k]
		if i == nil {
			i = &aftercare.Install{Shop: shop}
		}
		if !i.MarkInstalled(at) {
			return false, nil
		}
		err = s.Commit(ctx, &Commit{Puts: []Entity{{Install: i}}})
		if !errors.Is(err, ErrConflict) || attempt == maxAttempts {
			return err == nil, err
		}
	}
}
