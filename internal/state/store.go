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
