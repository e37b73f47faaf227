// Package state is the state engine: it applies normalized events to orders,
// shipments, customers and inventory, idempotently and whatever the arrival
// order, and turns what changed into messages. It owns the Store interface its
// DynamoDB adapter implements; it holds no AWS types.
package state

import (
	"context"
	"errors"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// Item kinds the store keys.
const (
	ItemOrder     = "order"
	ItemCustomer  = "customer"
	ItemShipment  = "shipment"  // Shop is empty: carriers do not know the shop
	ItemInventory = "inventory" // one inventory item (ID = inventory_item_id)
	ItemWait      = "wait"      // an order waiting for a variant (ID = variant#order)
	ItemStock     = "stock"     // the shop's out-of-stock variant set (ID empty)
	ItemLedger    = "ledger"    // a message's delivery record (ID = message id)
	ItemSettings  = "settings"  // the shop's settings overrides (ID empty)
	ItemDigest    = "digest"    // a shop's weekly digest, on the due index (ID = the week's Monday; see digestPut)
	ItemCounters  = "counters"  // a shop's report counters of one day (ID = yyyy-mm-dd in the shop's zone; see DayKey)
)

// Key names one stored item.
type Key struct {
	Kind string
	Shop string
	ID   string
}

// Item is one stored entity as JSON, with its optimistic version and what the
// store indexes: when scheduled checks must look at it, and when it expires.
type Item struct {
	Key
	Doc       []byte
	Version   int64     // as loaded; 0 means it did not exist
	DueAt     time.Time // zero: not in the due index
	ExpiresAt time.Time // zero: kept
}

// Dedupe is the record that an event was applied, with what it sent, so a
// redelivery after a crash can send it again.
type Dedupe struct {
	ID       string              `json:"id"`
	Shop     string              `json:"shop,omitempty"`
	Topic    string              `json:"topic,omitempty"`
	At       time.Time           `json:"at"`
	Outbox   []aftercare.Message `json:"outbox,omitempty"`
	Internal []aftercare.Event   `json:"internal,omitempty"` // events for the inbox (fan-out)
}

// Commit is one atomic write: the dedupe record plus every state change.
type Commit struct {
	Dedupe   *Dedupe
	Puts     []Item // conditioned on Version (0: must not exist)
	Deletes  []Key
	StockOut map[string][]string // shop -> variants that ran out
	StockIn  map[string][]string // shop -> variants back in stock
	Adds     []Add               // counter increments, exactly once with the event
}

// Add increments counters of one day item (Kind ItemCounters) in the
// commit's transaction, so the merchant report counts each event exactly
// once, whatever the duplicates or retries. Adds to
// the same key in one commit are summed; a missing item or counter starts at 0.
type Add struct {
	Key      Key
	Counters map[string]int64
}

// MergeAdds sums adds by key (one transaction may touch an item once), in
// first-seen order.
func MergeAdds(adds []Add) []Add {
	var out []Add
	at := map[Key]int{}
	for _, a := range adds {
		i, ok := at[a.Key]
		if !ok {
			i = len(out)
			at[a.Key] = i
			out = append(out, Add{Key: a.Key, Counters: map[string]int64{}})
		}
		for name, n := range a.Counters {
			out[i].Counters[name] += n
		}
	}
	return out
}

// Errors a Store returns from Commit.
var (
	ErrDuplicate = errors.New("event already applied")
	ErrConflict  = errors.New("state changed since it was read")
)

// Store reads and writes state. Load is one round trip; Commit is one
// transaction.
type Store interface {
	// Load reads the dedupe record (when dedupeID is set) and the items that
	// exist among keys, with strongly consistent reads.
	Load(ctx context.Context, dedupeID string, keys []Key) (*Dedupe, map[Key]Item, error)
	// Commit writes c atomically: ErrDuplicate if c.Dedupe exists already,
	// ErrConflict if any put item changed since it was loaded.
	Commit(ctx context.Context, c *Commit) error
	// Waiting lists the orders waiting for a variant of a shop.
	Waiting(ctx context.Context, shop, variant string) ([]Item, error)
	// EachShopItem calls fn for every item of a shop, page by page.
	EachShopItem(ctx context.Context, shop string, fn func(Item) error) error
	// Delete removes items (idempotent, batched).
	Delete(ctx context.Context, keys []Key) error
}

// CounterReader reads counters items (missing ones are absent from the
// result): the seam the merchant report reads its aggregates through.
type CounterReader interface {
	Counters(ctx context.Context, keys []Key) (map[Key]map[string]int64, error)
}

// Outbox queues what an event produced: messages for DispatchFunction and
// internal events for this processor.
type Outbox interface {
	SendMessages(ctx context.Context, msgs []aftercare.Message, now time.Time) error
	SendEvents(ctx context.Context, evs []aftercare.Event) error
}

// SettingsSource returns a shop's settings (defaults merged with its overrides).
type SettingsSource interface {
	Settings(ctx context.Context, shop string) (aftercare.Settings, error)
}
