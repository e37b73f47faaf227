package memstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aftercare/aftercare/internal/state"
)

// ShopPage reads at most limit of a shop's items after cursor, in key order;
// the cursor is the last key read, so it stays valid when the items before
// it are deleted (as the table's ExclusiveStartKey does).
func (s *Store) ShopPage(_ context.Context, shop, cursor string, limit int) ([]state.ShopItem, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var after *state.Key
	if cursor != "" {
		kind, id, _ := strings.Cut(cursor, "\x00")
		after = &state.Key{Kind: kind, Shop: shop, ID: id}
	}
	var out []state.ShopItem
	next := ""
	for _, k := range s.shopKeys(shop) {
		if after != nil && !after.Less(k) {
			continue
		}
		if len(out) == max(limit, 1) {
			last := out[len(out)-1].Key
			next = last.Kind + "\x00" + last.ID
			break
		}
		it := state.ShopItem{Key: k}
		if st, ok := s.items[k]; ok {
			it.Entity = st.read()
		}
		out = append(out, it)
	}
	return out, next, nil
}

// trace is one entry of the owner index the table keeps.
type trace struct {
	sortKey string // <customer>#<kind>#<id>, as the index sorts
	t       state.Trace
}

// Traces reads the items outside the entities that name a customer of a
// shop (every customer's when customerID is empty), as the table's owner
// index holds them: ledger entries by their customer, dedupe records by
// their Owner.
func (s *Store) Traces(_ context.Context, shop, customerID, cursor string, limit int) ([]state.Trace, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []trace
	for k, e := range s.entries {
		if k.Shop == shop && e.CustomerID != "" {
			all = append(all, trace{e.CustomerID + "#MESSAGE#" + k.ID, state.Trace{Key: k}})
		}
	}
	for id, d := range s.dedupe {
		if sh, owner := d.Owner(); sh == shop && owner != "" {
			all = append(all, trace{owner + "#EVENT#" + id, state.Trace{EventID: id}})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].sortKey < all[j].sortKey })
	var out []state.Trace
	next := ""
	last := ""
	for _, tr := range all {
		if (customerID != "" && !strings.HasPrefix(tr.sortKey, customerID+"#")) || (cursor != "" && tr.sortKey <= cursor) {
			continue
		}
		if len(out) == max(limit, 1) {
			next = last
			break
		}
		out = append(out, tr.t)
		last = tr.sortKey
	}
	return out, next, nil
}

// ScrubOutbox drops what names the customers from a dedupe record's outbox.
func (s *Store) ScrubOutbox(_ context.Context, eventID, shop string, customers []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.dedupe[eventID]; ok {
		d.Scrub(shop, customers)
	}
	return nil
}

// Dump lists every item as text, as a scan of the table shows it: entities,
// stock sets, ledger entries, cap slots, counters, settings, dedupe records
// (for tests).
func (s *Store) Dump(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	add := func(key string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			b = []byte(err.Error())
		}
		out = append(out, key+" "+string(b))
	}
	for k, st := range s.items {
		add(fmt.Sprintf("%s|%s|%s", k.Kind, k.Shop, k.ID), st.read().Body())
	}
	for shop, set := range s.stock {
		add("stock|"+shop, sortedSet(set))
	}
	for k, e := range s.entries {
		add(fmt.Sprintf("MESSAGE#%s|%s", k.Shop, k.ID), e.Entry)
	}
	for slot, c := range s.caps {
		add("CAP#"+slot, c.holder)
	}
	for k, c := range s.counters {
		add(fmt.Sprintf("DAY#%s|%s", k.Shop, k.ID), c)
	}
	for shop, doc := range s.settings {
		add("SETTINGS#"+shop, string(doc))
	}
	for id, d := range s.dedupe {
		add("EVENT#"+id, d)
	}
	sort.Strings(out)
	return out, nil
}
