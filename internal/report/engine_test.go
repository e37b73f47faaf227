package report_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/rules"
	"github.com/aftercare/aftercare/internal/state"
)

// memStore is an in-memory state.Store that applies report.Change for every
// item a commit writes, in the commit: the seam core's store gives the
// DynamoDB transaction (Adds applied with UpdateItem ADD beside the event).
type memStore struct {
	mu        sync.Mutex
	loc       *time.Location
	items     map[state.Key]state.Entity // at their stored versions
	decisions map[state.Key]*report.Decision
	dedupe    map[string]*state.Dedupe
	days      map[string]report.Adds // shop -> day counters
}

func newMemStore(loc *time.Location) *memStore {
	return &memStore{loc: loc, items: map[state.Key]state.Entity{}, decisions: map[state.Key]*report.Decision{},
		dedupe: map[string]*state.Dedupe{}, days: map[string]report.Adds{}}
}

// Load hands out the stored entities themselves: the processor copies what
// it changes.
func (m *memStore) Load(_ context.Context, id string, keys []state.Key) (*state.Dedupe, *state.Loaded, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.dedupe[id]; ok && id != "" {
		return d, nil, nil
	}
	out := state.NewLoaded()
	for _, k := range keys {
		if e, ok := m.items[k]; ok {
			out.Add(e)
		}
	}
	return nil, out, nil
}

func (m *memStore) Commit(_ context.Context, c *state.Commit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c.Dedupe != nil {
		if _, ok := m.dedupe[c.Dedupe.ID]; ok {
			return state.ErrDuplicate
		}
	}
	for _, p := range c.Puts {
		old, had := m.items[p.Key()]
		if v := p.Version(); v >= 0 && ((had && old.Version() != v) || (!had && v != 0)) {
			return state.ErrConflict
		}
	}
	for _, p := range c.Puts {
		old, had := m.items[p.Key()]
		shop, now := entity(old, had), entity(p, true)
		if s := pick(shop.shop, now.shop); s != "" {
			m.add(s, report.Change(shop.v, now.v, m.loc))
		}
		p.SetVersion(max(p.Version(), 0) + 1)
		m.items[p.Key()] = p
	}
	for _, k := range c.Deletes {
		delete(m.items, k)
	}
	if c.Dedupe != nil {
		m.dedupe[c.Dedupe.ID] = c.Dedupe
	}
	return nil
}

func pick(a, b string) string {
	if b != "" {
		return b
	}
	return a
}

func (m *memStore) add(shop string, a report.Adds) {
	if m.days[shop] == nil {
		m.days[shop] = report.Adds{}
	}
	m.days[shop].Merge(a)
}

type decoded struct {
	shop string
	v    any
}

// entity is what the report sees of an order, customer or parcel.
func entity(e state.Entity, ok bool) decoded {
	if !ok {
		return decoded{}
	}
	switch {
	case e.Order != nil:
		return decoded{shop: e.Order.Shop, v: e.Order}
	case e.Customer != nil:
		return decoded{shop: e.Customer.Shop, v: e.Customer}
	case e.Shipment != nil:
		return decoded{shop: e.Shipment.Shop, v: e.Shipment}
	}
	return decoded{}
}

func (m *memStore) Waiting(context.Context, string, string) ([]*state.Wait, error) { return nil, nil }
func (m *memStore) EachShopItem(context.Context, string, func(state.Key, state.Entity) error) error {
	return nil
}
func (m *memStore) Delete(context.Context, []state.Key) error { return nil }
func (m *memStore) ShopPage(context.Context, string, string, int) ([]state.ShopItem, string, error) {
	return nil, "", nil
}
func (m *memStore) Traces(context.Context, string, string, string, int) ([]state.Trace, string, error) {
	return nil, "", nil
}
func (m *memStore) ScrubOutbox(context.Context, string, string, []string) error { return nil }

// dispatch records a delivery decision as dispatch does: a ledger decision
// and, for lifecycle kinds that were sent, the customer's mark.
func (m *memStore) dispatch(shop string, msg sentMessage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := state.Key{Kind: state.ItemLedger, Shop: shop, ID: msg.id}
	before := m.decisions[key]
	after := &report.Decision{Kind: msg.kind, Decision: msg.decision, At: msg.at}
	m.add(shop, report.Change(before, after, m.loc))
	m.decisions[key] = after
	if msg.decision != "sent" || msg.mark == "" {
		return
	}
	ck := state.Key{Kind: state.ItemCustomer, Shop: shop, ID: msg.customer}
	it, ok := m.items[ck]
	c := &aftercare.Customer{Shop: shop, ID: msg.customer}
	if ok {
		// Dispatch works on its own copy of the stored customer.
		b, _ := json.Marshal(it.Customer)
		if err := json.Unmarshal(b, c); err != nil {
			panic(err)
		}
	}
	prev := *c
	prev.Marks = map[string]aftercare.Mark{}
	for k, v := range c.Marks {
		prev.Marks[k] = v
	}
	c.SetMark(msg.mark, aftercare.Mark{State: aftercare.MarkSent, At: msg.at, ID: msg.id})
	var b any
	if ok {
		b = &prev
	}
	m.add(shop, report.Change(b, c, m.loc))
	if ok {
		c.Version = it.Version() + 1
	} else {
		c.Version = 1
	}
	m.items[ck] = state.Entity{Customer: c}
}

type sentMessage struct {
	id, customer, mark, decision string
	kind                         aftercare.Kind
	at                           time.Time
}

type nopOutbox struct{}

func (nopOutbox) SendMessages(context.Context, []aftercare.Message, time.Time) error { return nil }
func (nopOutbox) SendEvents(context.Context, []aftercare.Event) error                { return nil }

type fixedSettings struct{ s aftercare.Settings }

func (f fixedSettings) Settings(context.Context, string) (aftercare.Settings, error) { return f.s, nil }

// engine is the state processor over a memStore, with a fixed clock.
type engine struct {
	store *memStore
	proc  *state.Processor
}

func newEngine(st aftercare.Settings, now time.Time) *engine {
	ms := newMemStore(st.Location())
	return &engine{store: ms, proc: &state.Processor{
		Store: ms, Outbox: nopOutbox{}, Settings: fixedSettings{st}, Rules: rules.Rules{},
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return now },
	}}
}

// step is one thing that happens to the shop: an event or a dispatch decision.
type step struct {
	ev  *aftercare.Event
	msg *sentMessage
}

func (s step) String() string {
	if s.ev != nil {
		return s.ev.ID
	}
	return s.msg.id
}

func (e *engine) run(steps []step) error {
	for _, s := range steps {
		if s.msg != nil {
			e.store.dispatch(shopDomain, *s.msg)
			continue
		}
		ev := *s.ev
		if _, err := e.proc.Process(context.Background(), &ev); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
