// Package memstore is the in-memory twin of the DynamoDB store, for the fast
// test tier: the same stores of the state engine, the scheduled checks and
// dispatch, with the same versions, conditions, due index, ledger claims and
// counters, held in maps behind one mutex. The contract tests in
// internal/storetest hold both implementations to the same behaviour.
package memstore

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aftercare/aftercare/internal/ledger"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/state"
)

// Store holds the table in memory. The zero value is not ready: use New.
type Store struct {
	Shards    int // due index shards
	DedupeTTL time.Duration
	Now       func() time.Time

	mu       sync.Mutex
	items    map[state.Key]state.Item // Version is the stored version
	dedupe   map[string]*state.Dedupe
	stock    map[string]map[string]bool
	counters map[state.Key]map[string]int64
	entries  map[state.Key]*entry // ledger
	caps     map[string]capSlot   // shop/customer
	cursors  map[string]map[string]string
	settings map[string][]byte
}

type entry struct {
	ledger.Entry
	token string
	lease time.Time
}

type capSlot struct {
	takenAt time.Time
	holder  string
}

// New returns an empty store.
func New() *Store {
	return &Store{
		items: map[state.Key]state.Item{}, dedupe: map[string]*state.Dedupe{}, stock: map[string]map[string]bool{},
		counters: map[state.Key]map[string]int64{}, entries: map[state.Key]*entry{}, caps: map[string]capSlot{},
		cursors: map[string]map[string]string{}, settings: map[string][]byte{},
	}
}

// maxTransact mirrors DynamoDB's limit on items in one transaction.
const maxTransact = 100

// Load reads the dedupe record and the items that exist among keys.
func (s *Store) Load(_ context.Context, dedupeID string, keys []state.Key) (*state.Dedupe, map[state.Key]state.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d *state.Dedupe
	if dedupeID != "" {
		if got, ok := s.dedupe[dedupeID]; ok {
			d = cloneDedupe(got)
		}
	}
	out := make(map[state.Key]state.Item, len(keys))
	for _, k := range keys {
		if it, ok := s.get(k); ok {
			out[k] = it
		}
	}
	return d, out, nil
}

// get returns an item as a reader sees it; the stock set reads as a JSON list,
// ledger and counters items as bare keys (their content has its own readers).
func (s *Store) get(k state.Key) (state.Item, bool) {
	switch k.Kind {
	case state.ItemStock:
		set, ok := s.stock[k.Shop]
		if !ok {
			return state.Item{}, false
		}
		doc, _ := json.Marshal(sortedSet(set))
		return state.Item{Key: k, Doc: doc}, true
	case state.ItemLedger:
		_, ok := s.entries[k]
		return state.Item{Key: k}, ok
	case state.ItemCounters:
		_, ok := s.counters[k]
		return state.Item{Key: k}, ok
	}
	it, ok := s.items[k]
	if ok {
		it.Doc = append([]byte(nil), it.Doc...)
	}
	return it, ok
}

// Commit applies c atomically: every condition is checked before anything is written.
func (s *Store) Commit(_ context.Context, c *state.Commit) error {
	adds := state.MergeAdds(c.Adds)
	n := len(c.Puts) + len(c.Deletes) + len(c.StockOut) + len(adds)
	for shop := range c.StockIn {
		if _, both := c.StockOut[shop]; !both {
			n++
		}
	}
	if c.Dedupe != nil {
		n++
	}
	if n > maxTransact {
		return fmt.Errorf("one event touches %d items, over the %d a transaction allows", n, maxTransact)
	}
	for _, a := range adds {
		if a.Key.Kind != state.ItemCounters {
			return fmt.Errorf("counters can only be added to a %s item, not %s", state.ItemCounters, a.Key.Kind)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Dedupe != nil {
		if _, ok := s.dedupe[c.Dedupe.ID]; ok {
			return state.ErrDuplicate
		}
	}
	for i, it := range c.Puts {
		if err := s.check(it); err != nil {
			return fmt.Errorf("%w (item %d)", err, i)
		}
	}
	if c.Dedupe != nil {
		s.dedupe[c.Dedupe.ID] = cloneDedupe(c.Dedupe)
	}
	for _, it := range c.Puts {
		s.put(it)
	}
	s.delete(c.Deletes)
	for shop, vs := range c.StockOut {
		if s.stock[shop] == nil {
			s.stock[shop] = map[string]bool{}
		}
		for _, v := range vs {
			s.stock[shop][v] = true
		}
	}
	for shop, vs := range c.StockIn {
		if s.stock[shop] == nil {
			s.stock[shop] = map[string]bool{} // UpdateItem creates the item, as DynamoDB does
		}
		for _, v := range vs {
			delete(s.stock[shop], v)
		}
	}
	for _, a := range adds {
		m := s.counters[a.Key]
		if m == nil {
			m = map[string]int64{}
			s.counters[a.Key] = m
		}
		for name, v := range a.Counters {
			m[name] += v
		}
	}
	return nil
}

// check is the optimistic condition: version 0 must not exist, a positive
// version must still be stored, a negative one writes unconditionally.
func (s *Store) check(it state.Item) error {
	cur, exists := s.items[it.Key]
	switch {
	case it.Version == 0 && exists:
		return state.ErrConflict
	case it.Version > 0 && (!exists || cur.Version != it.Version):
		return state.ErrConflict
	}
	return nil
}

func (s *Store) put(it state.Item) {
	v := it.Version + 1
	if it.Version < 0 {
		v = 1
	}
	it.Version = v
	it.Doc = append([]byte(nil), it.Doc...)
	it.DueAt = it.DueAt.UTC().Truncate(time.Millisecond) // the index keeps milliseconds
	if !it.ExpiresAt.IsZero() {
		it.ExpiresAt = time.Unix(it.ExpiresAt.Unix(), 0).UTC() // the TTL attribute keeps seconds
	}
	s.items[it.Key] = it
}

func (s *Store) delete(keys []state.Key) {
	for _, k := range keys {
		switch k.Kind {
		case state.ItemStock:
			delete(s.stock, k.Shop)
		case state.ItemLedger:
			delete(s.entries, k)
		case state.ItemCounters:
			delete(s.counters, k)
		case state.ItemSettings:
			delete(s.settings, k.Shop)
		default:
			delete(s.items, k)
		}
	}
}

// PutAll writes items unconditionally (bulk loaders).
func (s *Store) PutAll(_ context.Context, items []state.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range items {
		s.put(it)
	}
	return nil
}

// Waiting lists the orders waiting for a variant, in key order.
func (s *Store) Waiting(_ context.Context, shop, variant string) ([]state.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []state.Item
	for k := range s.items {
		if k.Kind == state.ItemWait && k.Shop == shop && strings.HasPrefix(k.ID, variant+"#") {
			it, _ := s.get(k)
			out = append(out, it)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// EachShopItem calls fn for every entity of a shop (not under the lock, so fn
// may write).
func (s *Store) EachShopItem(_ context.Context, shop string, fn func(state.Item) error) error {
	s.mu.Lock()
	var keys []state.Key
	for k := range s.items {
		if k.Shop == shop && k.Kind != state.ItemShipment {
			keys = append(keys, k)
		}
	}
	for k := range s.entries {
		if k.Shop == shop {
			keys = append(keys, k)
		}
	}
	for k := range s.counters {
		if k.Shop == shop {
			keys = append(keys, k)
		}
	}
	if _, ok := s.stock[shop]; ok {
		keys = append(keys, state.Key{Kind: state.ItemStock, Shop: shop})
	}
	if _, ok := s.settings[shop]; ok {
		keys = append(keys, state.Key{Kind: state.ItemSettings, Shop: shop})
	}
	sortKeys(keys)
	items := make([]state.Item, 0, len(keys))
	for _, k := range keys {
		it, ok := s.get(k)
		if k.Kind == state.ItemSettings {
			it, ok = state.Item{Key: k, Doc: append([]byte(nil), s.settings[shop]...)}, true
		}
		if ok {
			items = append(items, it)
		}
	}
	s.mu.Unlock()
	for _, it := range items {
		if err := fn(it); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes items (idempotent).
func (s *Store) Delete(_ context.Context, keys []state.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delete(keys)
	return nil
}

// Counters reads counters items; missing ones are absent.
func (s *Store) Counters(_ context.Context, keys []state.Key) (map[state.Key]map[string]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[state.Key]map[string]int64{}
	for _, k := range keys {
		if m, ok := s.counters[k]; ok {
			cp := make(map[string]int64, len(m))
			for n, v := range m {
				cp[n] = v
			}
			out[k] = cp
		}
	}
	return out, nil
}

// ShardCount is the number of due-index shards per kind.
func (s *Store) ShardCount() int { return max(s.Shards, 1) }

func (s *Store) shardOf(k state.Key) int {
	h := fnv.New32a()
	h.Write([]byte(k.Kind + "\x00" + k.Shop + "\x00" + k.ID))
	return int(h.Sum32() % uint32(s.ShardCount()))
}

type cursor struct {
	At  time.Time `json:"at"`
	Key state.Key `json:"key"`
}

func dueLess(a, b state.Item) bool {
	if !a.DueAt.Equal(b.DueAt) {
		return a.DueAt.Before(b.DueAt)
	}
	return keyLess(a.Key, b.Key)
}

// Due reads one page of the items of a kind due up to a time in one shard,
// oldest due first.
func (s *Store) Due(_ context.Context, kind string, shard int, upTo time.Time, after string, limit int) ([]state.Item, string, error) {
	var from *state.Item
	if after != "" {
		var c cursor
		if err := json.Unmarshal([]byte(after), &c); err != nil {
			return nil, "", err
		}
		from = &state.Item{Key: c.Key, DueAt: c.At}
	}
	upTo = upTo.UTC().Truncate(time.Millisecond)
	s.mu.Lock()
	var due []state.Item
	for k, it := range s.items {
		if k.Kind != kind || it.DueAt.IsZero() || it.DueAt.After(upTo) || s.shardOf(k) != shard {
			continue
		}
		if from != nil && !dueLess(*from, it) {
			continue
		}
		due = append(due, it)
	}
	s.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return dueLess(due[i], due[j]) })
	limit = max(limit, 1)
	next := ""
	if len(due) >= limit {
		due = due[:limit]
		last := due[len(due)-1]
		b, _ := json.Marshal(cursor{At: last.DueAt, Key: last.Key})
		next = string(b)
	}
	for i := range due {
		due[i].Doc = append([]byte(nil), due[i].Doc...)
	}
	return due, next, nil
}

// Save writes an item back if its version is still the one read.
func (s *Store) Save(_ context.Context, it state.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(it); err != nil {
		return err
	}
	s.put(it)
	return nil
}

// OutOfStock reads a shop's out-of-stock variants.
func (s *Store) OutOfStock(_ context.Context, shop string) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for v := range s.stock[shop] {
		out[v] = true
	}
	return out, nil
}

// Cursors reads where a cut-short run of a check stopped.
func (s *Store) Cursors(_ context.Context, check string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.cursors[check] {
		out[k] = v
	}
	return out, nil
}

// SaveCursors records (or, when empty, clears) where a run stopped.
func (s *Store) SaveCursors(_ context.Context, check string, cursors map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(cursors) == 0 {
		delete(s.cursors, check)
		return nil
	}
	cp := map[string]string{}
	for k, v := range cursors {
		cp[k] = v
	}
	s.cursors[check] = cp
	return nil
}

// ShopSettings reads a shop's settings override document (nil when none).
func (s *Store) ShopSettings(_ context.Context, shop string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if doc, ok := s.settings[shop]; ok {
		return append([]byte(nil), doc...), nil
	}
	return nil, nil
}

// PutShopSettings stores a shop's settings override document.
func (s *Store) PutShopSettings(_ context.Context, shop string, doc []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings[shop] = append([]byte(nil), doc...)
	return nil
}

func cloneDedupe(d *state.Dedupe) *state.Dedupe {
	b, _ := json.Marshal(d)
	out := &state.Dedupe{}
	_ = json.Unmarshal(b, out)
	return out
}

func sortedSet(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func keyLess(a, b state.Key) bool {
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if a.Shop != b.Shop {
		return a.Shop < b.Shop
	}
	return a.ID < b.ID
}

func sortKeys(keys []state.Key) {
	sort.Slice(keys, func(i, j int) bool { return keyLess(keys[i], keys[j]) })
}

// Items lists every stored entity with its version and due time, the stock
// sets as JSON lists (what a scan of the table would show; for tests).
func (s *Store) Items() []state.Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []state.Item
	for k := range s.items {
		it, _ := s.get(k)
		out = append(out, it)
	}
	for shop := range s.stock {
		it, _ := s.get(state.Key{Kind: state.ItemStock, Shop: shop})
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return keyLess(out[i].Key, out[j].Key) })
	return out
}

// Dedupes lists the dedupe records (for tests).
func (s *Store) Dedupes() []*state.Dedupe {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*state.Dedupe, 0, len(s.dedupe))
	for _, d := range s.dedupe {
		out = append(out, cloneDedupe(d))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ReportDays reads a shop's day counters from..to (report.DayFormat, inclusive),
// as the DynamoDB store's Query on the sort-key range does.
func (s *Store) ReportDays(_ context.Context, shop, from, to string) (map[string]report.Counters, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]report.Counters{}
	for k, m := range s.counters {
		if k.Shop != shop || k.ID < from || k.ID > to {
			continue
		}
		c := report.Counters{}
		for n, v := range m {
			if v != 0 {
				c[n] = v
			}
		}
		out[k.ID] = c
	}
	return out, nil
}
