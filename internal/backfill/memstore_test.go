package backfill

import (
	"context"
	"sync"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/state"
)

// memStore is a minimal in-memory state.Store for the fast tier: enough to
// run the real processor and rules over imported history.
type memStore struct {
	mu     sync.Mutex
	items  map[state.Key]state.Item
	dedupe map[string]*state.Dedupe
}

func newMemStore() *memStore {
	return &memStore{items: map[state.Key]state.Item{}, dedupe: map[string]*state.Dedupe{}}
}

func (m *memStore) Load(_ context.Context, id string, keys []state.Key) (*state.Dedupe, map[state.Key]state.Item, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.dedupe[id]; ok && id != "" {
		return d, nil, nil
	}
	out := map[state.Key]state.Item{}
	for _, k := range keys {
		if it, ok := m.items[k]; ok {
			out[k] = it
		}
	}
	return nil, out, nil
}

func (m *memStore) Commit(_ context.Context, c *state.Commit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.dedupe[c.Dedupe.ID]; ok {
		return state.ErrDuplicate
	}
	for _, it := range c.Puts {
		if it.Version >= 0 && m.items[it.Key].Version != it.Version {
			return state.ErrConflict
		}
	}
	for _, it := range c.Puts {
		v := it.Version + 1
		if it.Version < 0 {
			v = 1
		}
		it.Version = v
		m.items[it.Key] = it
	}
	for _, k := range c.Deletes {
		delete(m.items, k)
	}
	m.dedupe[c.Dedupe.ID] = c.Dedupe
	return nil
}

func (m *memStore) Waiting(context.Context, string, string) ([]state.Item, error) { return nil, nil }

func (m *memStore) EachShopItem(_ context.Context, shop string, fn func(state.Item) error) error {
	m.mu.Lock()
	var items []state.Item
	for k, it := range m.items {
		if k.Shop == shop {
			items = append(items, it)
		}
	}
	m.mu.Unlock()
	for _, it := range items {
		if err := fn(it); err != nil {
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

// snapshot copies every stored document, for before/after comparisons.
func (m *memStore) snapshot() map[state.Key]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[state.Key]string{}
	for k, it := range m.items {
		out[k] = string(it.Doc)
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
