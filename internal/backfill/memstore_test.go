package backfill

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/state"
)

// memStore is a minimal in-memory state.Store for the fast tier: enough to
// run the real processor and rules over imported history. It keeps the
// entities committed to it, each at its stored version.
type memStore struct {
	mu     sync.Mutex
	items  map[state.Key]state.Entity
	dedupe map[string]*state.Dedupe
}

func newMemStore() *memStore {
	return &memStore{items: map[state.Key]state.Entity{}, dedupe: map[string]*state.Dedupe{}}
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

func (m *memStore) version(k state.Key) int64 {
	if e, ok := m.items[k]; ok {
		return e.Version()
	}
	return 0
}

func (m *memStore) Commit(_ context.Context, c *state.Commit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c.Dedupe != nil && m.dedupe[c.Dedupe.ID] != nil {
		return state.ErrDuplicate
	}
	for _, e := range c.Puts {
		if v := e.Version(); v >= 0 && m.version(e.Key()) != v {
			return state.ErrConflict
		}
	}
	for _, e := range c.Puts {
		e.SetVersion(max(e.Version(), 0) + 1)
		m.items[e.Key()] = e
	}
	for _, k := range c.Deletes {
		delete(m.items, k)
	}
	if c.Dedupe != nil { // an event that queues nothing has none
		m.dedupe[c.Dedupe.ID] = c.Dedupe
	}
	return nil
}

func (m *memStore) Waiting(context.Context, string, string) ([]*state.Wait, error) { return nil, nil }
func (m *memStore) ShopPage(context.Context, string, string, int) ([]state.ShopItem, string, error) {
	return nil, "", nil
}
func (m *memStore) Traces(context.Context, string, string, string, int) ([]state.Trace, string, error) {
	return nil, "", nil
}
func (m *memStore) ScrubOutbox(context.Context, string, string, []string) error { return nil }

func (m *memStore) EachShopItem(_ context.Context, shop string, fn func(state.Key, state.Entity) error) error {
	m.mu.Lock()
	var keys []state.Key
	for k := range m.items {
		if k.Shop == shop {
			keys = append(keys, k)
		}
	}
	m.mu.Unlock()
	for _, k := range keys {
		if err := fn(k, m.items[k]); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) Delete(_ context.Context, keys []state.Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.items, k)
	}
	return nil
}

// snapshot renders every stored entity, for before/after comparisons.
func (m *memStore) snapshot() map[state.Key]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[state.Key]string{}
	for k, e := range m.items {
		b, err := json.Marshal(e.Body())
		if err != nil {
			panic(err)
		}
		out[k] = string(b)
	}
	return out
}

// outbox records what the processor queued.
type outbox struct {
	mu   sync.Mutex
	msgs []aftercare.Message
	evs  []aftercare.Event
}

func (o *outbox) SendMessages(_ context.Context, msgs []aftercare.Message, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, msgs...)
	return nil
}

func (o *outbox) SendEvents(_ context.Context, evs []aftercare.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.evs = append(o.evs, evs...)
	return nil
}
