package state

import (
	"fmt"
	"sync"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/report"
)

// The merchant report's day counters are kept here, in one place: every
// order, customer and parcel a commit puts adds report.Change(as loaded, as
// written) to its shop's day items, in the event's own transaction. A
// duplicate event commits nothing, so it adds nothing; any arrival order
// that ends in the same state adds the same counters.

// DayKey is the counters item of one shop's day (report.DayFormat, in the
// shop's time zone).
func DayKey(shop, day string) Key { return Key{Kind: ItemCounters, Shop: shop, ID: day} }

// DayAdds turns a shop's report increments into commit adds, one per day
// item (one transaction may touch an item once).
func DayAdds(shop string, a report.Adds) []Add {
	out := make([]Add, 0, len(a))
	for _, day := range a.Days() {
		out = append(out, Add{Key: DayKey(shop, day), Counters: a[day]})
	}
	return out
}

// wantZones asks for the settings of every shop whose entities this attempt
// writes: the counters' days are days in the shop's time zone, and every
// write of an entity must count it in the same zone.
func wantZones(t *tx) {
	for k := range t.dirty {
		switch k.Kind {
		case ItemOrder, ItemCustomer:
			t.settingsFor(k.Shop)
		case ItemShipment:
			if s := t.shipments[k]; s != nil && s.Shop != "" {
				t.settingsFor(s.Shop)
			}
		}
	}
}

// Digest is the document of a shop's weekly digest item.
type Digest struct {
	Shop    string    `json:"shop"`
	Week    string    `json:"week"` // the week's Monday, report.DayFormat
	DueAt   time.Time `json:"-"`    // kept by the store's due index, not in the document
	Version int64     `json:"-"`
}

// digestPut puts the shop's digest item of the current week on the due
// index for the Monday after, 08:00 shop time, where the scheduled checks
// find it by key. Every counted event of the week writes the same item
// (unconditionally, so concurrent events do not race on a version); the
// check that queues the digest takes it off the index.
func digestPut(shop string, now time.Time, loc *time.Location) Entity {
	week, due := report.DigestAt(now, loc)
	return Entity{Digest: &Digest{Shop: shop, Week: week.From.Format(report.DayFormat), DueAt: due, Version: -1}}
}

// dayAdds is what the commit's puts add to the report: for each entity,
// its contribution as written minus its contribution as loaded; and, for
// each shop counted, its digest item.
func (t *tx) dayAdds(puts []Entity) ([]Add, []Entity, error) {
	byShop := map[string]report.Adds{}
	var shops []string
	for _, e := range puts {
		k := e.Key()
		var before, after any // untyped nil before: the entity is new
		switch {
		case e.Order != nil:
			after = e.Order
			if o := t.base.Orders[k]; o != nil {
				before = o
			}
		case e.Customer != nil:
			after = e.Customer
			if c := t.base.Customers[k]; c != nil {
				before = c
			}
		case e.Shipment != nil:
			after = e.Shipment
			if s := t.base.Shipments[k]; s != nil {
				before = s
			}
		default:
			continue
		}
		it := struct{ Kind, ID, Shop string }{k.Kind, k.ID, k.Shop}
		shop := it.Shop
		if s, ok := after.(*aftercare.Shipment); ok {
			shop = s.Shop // carriers do not know the shop; an unlinked parcel counts nowhere
			if b, _ := before.(*aftercare.Shipment); b != nil && b.Shop != "" && b.Shop != s.Shop {
				// Another shop's order took the tracking number: the earlier
				// trip stays counted in the shop it was, and this shop counts
				// from its own trip on.
				before = report.EarlierTrip(s)
			}
		}
		if shop == "" {
			continue
		}
		st, ok := t.settings[shop]
		if !ok {
			return nil, nil, fmt.Errorf("count %s %s: settings of %s not loaded", it.Kind, it.ID, shop)
		}
		a := report.Change(before, after, st.Location())
		if len(a) == 0 {
			continue
		}
		if byShop[shop] == nil {
			byShop[shop] = report.Adds{}
			shops = append(shops, shop)
		}
		byShop[shop].Merge(a)
	}
	var out []Add
	var digests []Entity
	for _, shop := range shops {
		out = append(out, DayAdds(shop, byShop[shop])...)
		digests = append(digests, digestPut(shop, t.now, t.settings[shop].Location()))
	}
	return out, digests, nil
}

// digestMemo remembers, per shop, the week whose digest item this process
// has committed. Every counted event of a week would write the same item;
// a warm processor writes it once a week per shop instead (two write units
// of a transaction, and its index write, saved per event). A cold one
// writes it again, which is harmless: the put is idempotent.
type digestMemo struct {
	mu    sync.Mutex
	weeks map[string]string // shop -> week
}

// maxDigestMemo bounds the memo; past it, it starts over.
const maxDigestMemo = 10000

// unseen drops the digest puts already committed.
func (m *digestMemo) unseen(puts []Entity) []Entity {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := puts[:0:0]
	for _, e := range puts {
		if m.weeks[e.Digest.Shop] != e.Digest.Week {
			out = append(out, e)
		}
	}
	return out
}

// seen records committed digest puts.
func (m *digestMemo) seen(puts []Entity) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.weeks == nil || len(m.weeks) > maxDigestMemo {
		m.weeks = map[string]string{}
	}
	for _, e := range puts {
		m.weeks[e.Digest.Shop] = e.Digest.Week
	}
}
