// Package memstore is the in-memory twin of the DynamoDB store, for the fast
// test tier: the same stores of the state engine, the scheduled checks and
// dispatch, with the same versions, conditions, due index, ledger claims and
// counters, held in maps behind one mutex. Entities are kept as typed copies,
// copied through their JSON form on the way in and out (as the table's doc
// attribute holds them), so no caller can alias what is stored. The contract tests in
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

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/ledger"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/state"
)

// Store holds the table in memory. The zero value is not ready: use New.
type Store struct {
	Shards    int // due index shards
	DedupeTTL time.Duration
	Now       func() time.Time

	mu        sync.Mutex
	items     map[state.Key]stored
	dedupe    map[string]*state.Dedupe
	stock     map[string]map[string]bool
	counters  map[state.Key]map[string]int64
	entries   map[state.Key]*entry // ledger
	caps      map[string]capSlot   // shop/customer
	cursors   map[string]map[string]string
	reconcile map[string]aftercare.ReconcileCursor
	settings  map[string][]byte
}

// stored is one entity as the table holds it.
type stored struct {
	e       state.Entity // the store's own copy, as written (its Version is the one it was written over)
	version int64        // the stored version
	due     time.Time    // as the index keeps it (milliseconds); zero: not in the index
}

// read returns a caller's copy at the stored version.
func (st stored) read() state.Entity {
	e := copyEntity(st.e)
	e.SetVersion(st.version)
	if e.Digest != nil {
		e.Digest.DueAt = st.due // a digest's due time lives only in the index
	}
	return e
}

// copyEntity copies an entity through its JSON form, as the table's doc
// attribute round-trips it.
func copyEntity(e state.Entity) state.Entity {
	out, ok := state.EntityOf(e.Key().Kind)
	if !ok {
		return state.Entity{}
	}
	b, err := json.Marshal(e.Body())
	if err != nil {
		panic(fmt.Sprintf("memstore: %v", err)) // entities are plain data: this cannot fail
	}
	if err := json.Unmarshal(b, out.Body()); err != nil {
		panic(fmt.Sprintf("memstore: %v", err))
	}
	return out
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
		items: map[state.Key]stored{}, dedupe: map[string]*state.Dedupe{}, stock: map[string]map[string]bool{},
		counters: map[state.Key]map[string]int64{}, entries: map[state.Key]*entry{}, caps: map[string]capSlot{},
		cursors: map[string]map[string]string{}, reconcile: map[string]aftercare.ReconcileCursor{}, settings: map[string][]byte{},
	}
}

// maxTransact mirrors DynamoDB's limit on items in one transaction.
const maxTransact = 100

// Load reads the dedupe record and the entities that exist among keys.
func (s *Store) Load(_ context.Context, dedupeID string, keys []state.Key) (*state.Dedupe, *state.Loaded, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d *state.Dedupe
	if dedupeID != "" {
		if got, ok := s.dedupe[dedupeID]; ok {
			d = cloneDedupe(got)
		}
	}
	out := state.NewLoaded()
	for _, k := range keys {
		if k.Kind == state.ItemStock {
			if set, ok := s.stock[k.Shop]; ok {
				out.Stock[k.Shop] = copySet(set)
			}
			continue
		}
		if st, ok := s.items[k]; ok {
			out.Add(st.read())
		}
	}
	return d, out, nil
}

// Commit applies c atomically: every condition is checked before anything is written.
func (s *Store) Commit(_ context.Context, c *state.Commit) error {
	adds := state.MergeAdds(c.Adds)
	n := len(c.Puts) + len(c.Deletes) + len(c.StockOut)
	if len(c.Puts) == 0 && c.Dedupe == nil {
		n += len(adds) // as in DynamoDB: counters ride on an item the commit writes, if any
	}
	for shop := range c.StockIn {
		if _, both := c.StockOut[shop]; !both {
			n++ // one update per shop's stock item, as in DynamoDB
		}
	}
	if c.Dedupe != nil {
		n++
	}
	if n > maxTransact {
		return fmt.Errorf("one event touches %d items, over the %d a transaction allows", n, maxTransact)
	}
	if err := checkCounters(adds); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Dedupe != nil {
		if _, ok := s.dedupe[c.Dedupe.ID]; ok {
			return state.ErrDuplicate
		}
	}
	for i, e := range c.Puts {
		if e.Body() == nil {
			return fmt.Errorf("memstore: an empty entity cannot be written (item %d)", i)
		}
		if err := s.check(e); err != nil {
			return fmt.Errorf("%w (item %d)", err, i)
		}
	}
	if c.Dedupe != nil {
		s.dedupe[c.Dedupe.ID] = cloneDedupe(c.Dedupe)
	}
	for _, e := range c.Puts {
		s.put(e)
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
	s.addCounters(adds)
	return nil
}

// checkCounters refuses adds to anything but a counters item, as the table
// does (ADD only ever lands on counters items).
func checkCounters(adds []state.Add) error {
	for _, a := range adds {
		if a.Key.Kind != state.ItemCounters {
			return fmt.Errorf("counters can only be added to a %s item, not %s", state.ItemCounters, a.Key.Kind)
		}
	}
	return nil
}

// addCounters applies adds (s.mu held); a missing item or counter starts at 0.
func (s *Store) addCounters(adds []state.Add) {
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
}

// check is the optimistic condition: version 0 must not exist, a positive
// version must still be stored, a negative one writes unconditionally.
func (s *Store) check(e state.Entity) error {
	cur, exists := s.items[e.Key()]
	switch v := e.Version(); {
	case v == 0 && exists:
		return state.ErrConflict
	case v > 0 && (!exists || cur.version != v):
		return state.ErrConflict
	}
	return nil
}

func (s *Store) put(e state.Entity) {
	st := stored{e: copyEntity(e), version: max(e.Version(), 0) + 1}
	if at := e.DueAt(); !at.IsZero() {
		st.due = at.UTC().Truncate(time.Millisecond) // the index keeps milliseconds
	}
	s.items[e.Key()] = st
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
		case state.ItemCap:
			delete(s.caps, k.Shop+"/"+k.ID)
		case state.ItemReconcile:
			delete(s.reconcile, k.Shop)
		default:
			delete(s.items, k)
		}
	}
}

// PutAll writes entities unconditionally (bulk loaders).
func (s *Store) PutAll(_ context.Context, items []state.Entity) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range items {
		s.put(e)
	}
	return nil
}

// Waiting lists the orders waiting for a variant, in key order.
func (s *Store) Waiting(_ context.Context, shop, variant string) ([]*state.Wait, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []state.Key
	for k := range s.items {
		if k.Kind == state.ItemWait && k.Shop == shop && strings.HasPrefix(k.ID, variant+"#") {
			keys = append(keys, k)
		}
	}
	state.SortKeys(keys)
	out := make([]*state.Wait, 0, len(keys))
	for _, k := range keys {
		out = append(out, s.items[k].read().Wait)
	}
	return out, nil
}

// EachShopItem calls fn for every item of a shop, with the entity when it is
// one (not under the lock, so fn may write).
func (s *Store) EachShopItem(_ context.Context, shop string, fn func(state.Key, state.Entity) error) error {
	s.mu.Lock()
	keys := s.shopKeys(shop)
	entities := make([]state.Entity, len(keys))
	for i, k := range keys {
		if st, ok := s.items[k]; ok {
			entities[i] = st.read()
		}
	}
	s.mu.Unlock()
	for i, k := range keys {
		if err := fn(k, entities[i]); err != nil {
			return err
		}
	}
	return nil
}

// shopKeys lists every item of a shop, in key order (under the lock).
func (s *Store) shopKeys(shop string) []state.Key {
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
	for slot := range s.caps {
		if sh, id, _ := strings.Cut(slot, "/"); sh == shop {
			keys = append(keys, state.Key{Kind: state.ItemCap, Shop: shop, ID: id})
		}
	}
	state.SortKeys(keys)
	return keys
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

func dueLess(at time.Time, k state.Key, bt time.Time, bk state.Key) bool {
	if !at.Equal(bt) {
		return at.Before(bt)
	}
	return k.Less(bk)
}

// Due reads one page of the entities of a kind due up to a time in one
// shard, oldest due first.
func (s *Store) Due(_ context.Context, kind string, shard int, upTo time.Time, after string, limit int) ([]state.Entity, string, error) {
	var from *cursor
	if after != "" {
		from = &cursor{}
		if err := json.Unmarshal([]byte(after), from); err != nil {
			return nil, "", err
		}
	}
	upTo = upTo.UTC().Truncate(time.Millisecond)
	type dueItem struct {
		key state.Key
		st  stored
	}
	s.mu.Lock()
	var due []dueItem
	for k, st := range s.items {
		if k.Kind != kind || st.due.IsZero() || st.due.After(upTo) || s.shardOf(k) != shard {
			continue
		}
		if from != nil && !dueLess(from.At, from.Key, st.due, k) {
			continue
		}
		due = append(due, dueItem{k, st})
	}
	s.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return dueLess(due[i].st.due, due[i].key, due[j].st.due, due[j].key) })
	limit = max(limit, 1)
	next := ""
	if len(due) >= limit {
		due = due[:limit]
		last := due[len(due)-1]
		b, _ := json.Marshal(cursor{At: last.st.due, Key: last.key})
		next = string(b)
	}
	out := make([]state.Entity, len(due))
	for i, d := range due {
		out[i] = d.st.read()
	}
	return out, next, nil
}

// Save writes an entity back if its version is still the one read.
func (s *Store) Save(_ context.Context, e state.Entity) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(e); err != nil {
		return err
	}
	s.put(e)
	return nil
}

// OutOfStock reads a shop's out-of-stock variants.
func (s *Store) OutOfStock(_ context.Context, shop string) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copySet(s.stock[shop]), nil
}

// Install reads a shop's install marks (nil when none are stored).
func (s *Store) Install(_ context.Context, shop string) (*aftercare.Install, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.items[state.Key{Kind: state.ItemInstall, Shop: shop}]; ok {
		return st.read().Install, nil
	}
	return nil, nil
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

// ReconcileCursor reads up to when the reconcile check has queued a shop's
// order changes (zero: never).
func (s *Store) ReconcileCursor(_ context.Context, shop string) (aftercare.ReconcileCursor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.reconcile[shop]
	c.Orders, c.Recent = append([]string(nil), c.Orders...), append([]aftercare.Queued(nil), c.Recent...)
	return c, nil
}

// SaveReconcileCursor records a shop's reconcile cursor.
func (s *Store) SaveReconcileCursor(_ context.Context, shop string, c aftercare.ReconcileCursor) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.At, c.Orders, c.Recent = c.At.UTC(), append([]string(nil), c.Orders...), append([]aftercare.Queued(nil), c.Recent...)
	s.reconcile[shop] = c
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

func copySet(set map[string]bool) map[string]bool {
	out := make(map[string]bool, len(set))
	for v := range set {
		out[v] = true
	}
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

// Item is one stored item as a scan of the table would show it (for tests).
type Item struct {
	Key      state.Key
	Entity   state.Entity // at its stored version; zero for a stock set
	Variants []string     // a stock set's variants, sorted
	DueAt    time.Time    // as the due index keeps it
}

// Items lists every stored entity and stock set, by key (for tests).
func (s *Store) Items() []Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Item
	for k, st := range s.items {
		out = append(out, Item{Key: k, Entity: st.read(), DueAt: st.due})
	}
	for shop, set := range s.stock {
		out = append(out, Item{Key: state.Key{Kind: state.ItemStock, Shop: shop}, Variants: sortedSet(set)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key.Less(out[j].Key) })
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
