package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// DefaultRedactPage is how many items one shop/redact invocation deletes
// before it queues its continuation: a few seconds of BatchWriteItem calls,
// well inside the function's 30 s whatever the shop's size.
const DefaultRedactPage = 500

// tracePage bounds one read of a customer's ledger entries and dedupe records.
const tracePage = 100

// tombstonesPerCommit is well inside a transaction's 100 items.
const tombstonesPerCommit = 40 // a parcel's is a put and a delete

// tombstoneKey is where the tombstone of a customer or a parcel lives; ok is
// false when the processor has no key (the tombstone then stays at the
// item's own key, the scheme before keyed tombstones). A parcel's is keyed
// too: its tracking number leads to an address at the carrier's.
func (p *Processor) tombstoneKey(k Key) (Key, bool) {
	if len(p.TombstoneKey) == 0 || strings.HasPrefix(k.ID, "redacted-") {
		return Key{}, false
	}
	switch k.Kind {
	case ItemCustomer:
		return Key{ItemCustomer, k.Shop, aftercare.TombstoneID(p.TombstoneKey, k.Shop, k.ID)}, true
	case ItemShipment:
		return Key{ItemShipment, "", aftercare.TombstoneID(p.TombstoneKey, "", "parcel:"+k.ID)}, true
	}
	return Key{}, false
}

// redactCustomer removes everything that names a customer: their orders,
// parcels and waiting entries, their marketing cap slot, their ledger
// entries, and their messages in the stored outboxes of dedupe records; the
// customer item itself gives way to a tombstone that suppresses every later
// message, and each order and parcel to a tombstone of its id alone, so a
// late fulfillment or scan about it stores nothing again. Each step is
// idempotent; the dedupe record comes last (fanOut).
func (p *Processor) redactCustomer(ctx context.Context, ev *aftercare.Event) (Result, error) {
	all, keys, err := p.related(ctx, ev.Shop, ev.Privacy)
	if err != nil {
		return Result{}, err
	}
	ids := customerIDs(ev.Privacy)
	var gone []Key
	var parcels, orders []Commit // one tombstone each; parcels first (below)
	now := p.now()
	elsewhere := relinked(keys)
	for _, k := range keys {
		switch k.Kind {
		case ItemCustomer:
		case ItemOrder:
			if o := all.Orders[k]; !o.Redacted {
				// Conditioned on the order as read: a write of it racing the
				// redaction fails and retries into the tombstone, never over it.
				orders = append(orders, Commit{Puts: []Entity{{Order: &aftercare.Order{Shop: k.Shop, ID: k.ID,
					Redacted: true, RedactedAt: now, Version: o.Version}}}})
			}
		case ItemShipment:
			s := all.Shipments[k]
			if s.Redacted {
				continue
			}
			if elsewhere(s) {
				// Since linked to someone else's order (a reused tracking
				// number): it stays theirs, without the records of the
				// messages it queued to this customer.
				if s.Applied.Scrub(ev.Shop, ids) {
					parcels = append(parcels, Commit{Puts: []Entity{{Shipment: s}}})
				}
				continue
			}
			tomb := &aftercare.Shipment{Key: k.ID, Redacted: true, RedactedAt: now, ExpiresAt: now.Add(aftercare.OrphanTTL), Version: s.Version}
			c := Commit{Puts: []Entity{{Shipment: tomb}}}
			if tk, keyed := p.tombstoneKey(k); keyed {
				// The keyed tombstone and the parcel's delete in one commit:
				// a retry finds one or the other, never neither.
				tomb.Key, tomb.Version = tk.ID, -1
				c.Deletes = []Key{k}
			}
			parcels = append(parcels, c)
		default:
			gone = append(gone, k)
		}
	}
	for _, id := range ids {
		gone = append(gone, Key{ItemCap, ev.Shop, id})
	}
	if err := p.Store.Delete(ctx, gone); err != nil {
		return Result{}, err
	}
	// Parcels before their orders: a retry after a failure finds the
	// parcels through the orders not yet redacted. A transaction's worth at
	// a time; a conflict (an event wrote an order meanwhile) fails the
	// redaction, and its retry redoes what is left.
	for pending := append(parcels, orders...); len(pending) > 0; {
		n := min(len(pending), tombstonesPerCommit)
		c := &Commit{}
		for _, x := range pending[:n] {
			c.Puts = append(c.Puts, x.Puts...)
			c.Deletes = append(c.Deletes, x.Deletes...)
		}
		if err := p.Store.Commit(ctx, c); err != nil {
			return Result{}, err
		}
		pending = pending[n:]
	}
	ledgers, outboxes, err := p.eraseTraces(ctx, ev.Shop, ids)
	if err != nil {
		return Result{}, err
	}
	var res Result
	for _, id := range ids {
		wrote, err := p.tombstone(ctx, Key{ItemCustomer, ev.Shop, id})
		if err != nil {
			return Result{}, err
		}
		if wrote { // a copy of the request finds the tombstone: nothing new
			res.Changes = append(res.Changes, Change{Type: CustomerRedacted, Shop: ev.Shop, CustomerID: id, At: p.now()})
		}
	}
	res.Notes = append(res.Notes, "redacted "+strconv.Itoa(len(gone))+" items, "+strconv.Itoa(ledgers)+" ledger entries, "+
		strconv.Itoa(outboxes)+" stored outboxes")
	return res, nil
}

// eraseTraces deletes the customers' ledger entries and drops their messages
// from stored outboxes, a bounded page at a time. The ledger entries are
// deleted, not kept with an opaque id: the ledger's once-only guarantee is
// only needed while a message can still be produced and sent, and nothing
// can be sent to a redacted customer any more (the outboxes no longer hold
// their messages, their entities are gone, and the tombstone suppresses
// whatever a late event would cause). The report's day counters keep the
// decisions' counts, which name nobody.
func (p *Processor) eraseTraces(ctx context.Context, shop string, ids []string) (ledgers, outboxes int, err error) {
	for _, id := range ids {
		cursor := ""
		for {
			traces, next, err := p.Store.Traces(ctx, shop, id, cursor, tracePage)
			if err != nil {
				return 0, 0, err
			}
			var entries []Key
			for _, t := range traces {
				if t.EventID != "" {
					if err := p.Store.ScrubOutbox(ctx, t.EventID, shop, ids); err != nil {
						return 0, 0, err
					}
					outboxes++
					continue
				}
				entries = append(entries, t.Key)
			}
			if err := p.Store.Delete(ctx, entries); err != nil {
				return 0, 0, err
			}
			ledgers += len(entries)
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return ledgers, outboxes, nil
}

// tombstone writes the redacted customer's tombstone. With a key, it lives
// under the keyed aftercare.TombstoneID and the customer's own item is deleted; an
// older tombstone at the customer's key (the scheme before) is replaced the
// same way. Without a key, the tombstone stays at the customer's key. It
// reports whether it wrote the tombstone (false: one was there already).
func (p *Processor) tombstone(ctx context.Context, k Key) (bool, error) {
	tk, keyed := p.tombstoneKey(k)
	if !keyed {
		tk = k
	}
	for attempt := 0; ; attempt++ {
		keys := []Key{k}
		if keyed {
			keys = append(keys, tk)
		}
		_, found, err := p.Store.Load(ctx, "", keys)
		if err != nil {
			return false, err
		}
		c := &Commit{}
		// A keyed tombstone written before stays as it is (its redaction
		// time included); only the customer's own item may be left to go.
		if old := found.Customers[tk]; !keyed || old == nil || !old.Redacted {
			version := int64(0)
			if old != nil {
				version = old.Version
			}
			tomb := &aftercare.Customer{Shop: k.Shop, ID: tk.ID, Version: version}
			tomb.Redact(p.now())
			c.Puts = []Entity{{Customer: tomb}}
		}
		if keyed && found.Customers[k] != nil {
			c.Deletes = []Key{k}
		}
		if len(c.Puts) == 0 && len(c.Deletes) == 0 {
			return false, nil
		}
		err = p.Store.Commit(ctx, c)
		if err == nil {
			return len(c.Puts) > 0, nil
		}
		if !errors.Is(err, ErrConflict) || attempt == maxAttempts {
			return false, err
		}
		// Something wrote the customer meanwhile: read again.
	}
}

// redactShop deletes one bounded page of the shop's items (and the parcels
// of the orders on it), then queues a continuation event carrying the
// cursor; when the shop's own items are gone it drops the shop's messages
// from stored outboxes the same way. Each continuation's id derives from the
// event and its cursor, so a duplicate continuation dedupes (and redoing a
// page deletes nothing twice).
func (p *Processor) redactShop(ctx context.Context, ev *aftercare.Event) (Result, error) {
	req := aftercare.PrivacyRequest{}
	if ev.Privacy != nil {
		req = *ev.Privacy
	}
	limit := p.RedactPage
	if limit <= 0 {
		limit = DefaultRedactPage
	}
	phase, cursor, _ := strings.Cut(req.Continue, ":")
	var res Result
	next := ""
	if phase != "outbox" {
		items, more, err := p.Store.ShopPage(ctx, ev.Shop, cursor, limit)
		if err != nil {
			return Result{}, err
		}
		keys := make([]Key, 0, len(items))
		seen := map[Key]bool{}
		for _, it := range items {
			keys = append(keys, it.Key)
			if o := it.Entity.Order; o != nil {
				for key := range o.Shipments {
					if sk := (Key{ItemShipment, "", key}); !seen[sk] {
						seen[sk] = true
						keys = append(keys, sk)
					}
				}
			}
		}
		SortKeys(keys)
		if err := p.Store.Delete(ctx, keys); err != nil {
			return Result{}, err
		}
		res.Notes = append(res.Notes, "deleted "+strconv.Itoa(len(keys))+" items")
		if more != "" {
			next = "items:" + more
		} else {
			cursor = "" // the shop's items are gone: its outboxes next, from the first
		}
	}
	if next == "" {
		traces, more, err := p.Store.Traces(ctx, ev.Shop, "", cursor, limit)
		if err != nil {
			return Result{}, err
		}
		var entries []Key
		for _, t := range traces {
			if t.EventID == "" {
				entries = append(entries, t.Key)
			} else if err := p.Store.ScrubOutbox(ctx, t.EventID, ev.Shop, nil); err != nil {
				return Result{}, err
			}
		}
		if err := p.Store.Delete(ctx, entries); err != nil {
			return Result{}, err
		}
		res.Notes = append(res.Notes, "scrubbed "+strconv.Itoa(len(traces))+" traces")
		if more != "" {
			next = "outbox:" + more
		}
	}
	if next == "" {
		// Last, what lives outside the shop's partition: its access token
		// (Shopify revoked it at the uninstall 48 hours before; kept, the
		// reconcile check would try it every hour), then its reconcile
		// cursor beside the checks' checkpoints. Both deletes are
		// idempotent, so a retry of this step is safe.
		if p.Shops != nil {
			if err := p.Shops.Disconnect(ctx, ev.Shop); err != nil {
				return Result{}, aftercare.Wrap(aftercare.EUNAVAILABLE, err, "delete the access token of %s", ev.Shop)
			}
			res.Notes = append(res.Notes, "deleted the access token")
		}
		if err := p.Store.Delete(ctx, []Key{{Kind: ItemReconcile, Shop: ev.Shop}}); err != nil {
			return Result{}, err
		}
		res.Notes = append(res.Notes, "deleted the reconcile cursor")
		return res, nil
	}
	req.Continue = next
	cont := aftercare.Event{
		ID:   "aftercare:shop_redact:" + ev.Shop + ":" + continuationID(ev.ID, next),
		Kind: aftercare.EventShopRedact, Source: aftercare.SourceAftercare, Topic: ev.Topic,
		Shop: ev.Shop, At: ev.At, Received: p.now(), Privacy: &req,
	}
	if err := p.send(ctx, nil, []aftercare.Event{cont}, p.now()); err != nil {
		return Result{}, err
	}
	res.Notes = append(res.Notes, "continues as "+cont.ID)
	return res, nil
}

// continuationID names the continuation of an event at a cursor.
func continuationID(eventID, cursor string) string {
	sum := sha256.Sum256([]byte(eventID + "\x00" + cursor))
	return hex.EncodeToString(sum[:12])
}
