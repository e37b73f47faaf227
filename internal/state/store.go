// Package state is the state engine: it applies normalized events to orders,
// shipments, customers and inventory, idempotently and whatever the arrival
// order, and turns what changed into messages. It owns the Store interface its
// DynamoDB adapter implements; it holds no AWS types.
package state

import (
	"context"
	"errors"
	"fmt"
	"sort"
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
	ItemInstall   = "install"   // the shop's app install and uninstall marks (ID empty)
	ItemCap       = "cap"       // a customer's marketing cap slot (ID = customer id; written by dispatch's claims)
	ItemReconcile = "reconcile" // the reconcile check's cursor of a shop (ID empty; kept beside the checkpoints, deleted by shop/redact)
)

// Key names one stored item.
type Key struct {
	Kind string
	Shop string
	ID   string
}

// Less orders keys by kind, shop and id: the one order reads, commits and
// folds go in, so what they do is the same every time.
func (k Key) Less(o Key) bool {
	if k.Kind != o.Kind {
		return k.Kind < o.Kind
	}
	if k.Shop != o.Shop {
		return k.Shop < o.Shop
	}
	return k.ID < o.ID
}

// SortKeys sorts keys by Less.
func SortKeys(keys []Key) {
	sort.Slice(keys, func(i, j int) bool { return keys[i].Less(keys[j]) })
}

// Ref names the item in an error or a log line: a parcel without its key,
// since the tracking number leads to an address at the carrier's and logs
// outlive customers/redact.
func (k Key) Ref() string {
	if k.Kind == ItemShipment {
		return k.Kind + " (tracking number withheld)"
	}
	return k.Kind + " " + k.Shop + "/" + k.ID
}

// Entity is one stored entity, typed: exactly one field is set. What the
// store needs beside the body travels on the entity itself: its optimistic
// Version as loaded (0: it must not exist yet; negative: write
// unconditionally), its due time (ExamineAt; zero keeps it out of the due
// index) and, for a parcel, when it expires (ExpiresAt). Encoding is the
// store's business.
type Entity struct {
	Order     *aftercare.Order
	Customer  *aftercare.Customer
	Shipment  *aftercare.Shipment
	Inventory *Inventory
	Wait      *Wait
	Digest    *Digest
	Install   *aftercare.Install
}

// Key names the entity's item.
func (e Entity) Key() Key {
	switch {
	case e.Order != nil:
		return Key{ItemOrder, e.Order.Shop, e.Order.ID}
	case e.Customer != nil:
		return Key{ItemCustomer, e.Customer.Shop, e.Customer.ID}
	case e.Shipment != nil:
		return Key{ItemShipment, "", e.Shipment.Key}
	case e.Inventory != nil:
		return Key{ItemInventory, e.Inventory.Shop, e.Inventory.ID}
	case e.Wait != nil:
		return Key{ItemWait, e.Wait.Shop, e.Wait.VariantID + "#" + e.Wait.OrderID}
	case e.Digest != nil:
		return Key{ItemDigest, e.Digest.Shop, e.Digest.Week}
	case e.Install != nil:
		return Key{ItemInstall, e.Install.Shop, ""}
	}
	return Key{}
}

// Version is the version the entity was loaded at.
func (e Entity) Version() int64 {
	switch {
	case e.Order != nil:
		return e.Order.Version
	case e.Customer != nil:
		return e.Customer.Version
	case e.Shipment != nil:
		return e.Shipment.Version
	case e.Inventory != nil:
		return e.Inventory.Version
	case e.Wait != nil:
		return e.Wait.Version
	case e.Digest != nil:
		return e.Digest.Version
	case e.Install != nil:
		return e.Install.Version
	}
	return 0
}

// SetVersion sets the version (stores set the stored one on what they read).
func (e Entity) SetVersion(v int64) {
	switch {
	case e.Order != nil:
		e.Order.Version = v
	case e.Customer != nil:
		e.Customer.Version = v
	case e.Shipment != nil:
		e.Shipment.Version = v
	case e.Inventory != nil:
		e.Inventory.Version = v
	case e.Wait != nil:
		e.Wait.Version = v
	case e.Digest != nil:
		e.Digest.Version = v
	case e.Install != nil:
		e.Install.Version = v
	}
}

// DueAt is when scheduled checks must look at the entity (zero: never).
func (e Entity) DueAt() time.Time {
	switch {
	case e.Order != nil:
		return e.Order.ExamineAt
	case e.Customer != nil:
		return e.Customer.ExamineAt
	case e.Shipment != nil:
		return e.Shipment.ExamineAt
	case e.Digest != nil:
		return e.Digest.DueAt
	}
	return time.Time{}
}

// ExpiresAt is when the store may drop the entity (zero: kept).
func (e Entity) ExpiresAt() time.Time {
	if e.Shipment != nil {
		return e.Shipment.ExpiresAt
	}
	return time.Time{}
}

// Body is the entity itself (the one field that is set), or nil.
func (e Entity) Body() any {
	switch {
	case e.Order != nil:
		return e.Order
	case e.Customer != nil:
		return e.Customer
	case e.Shipment != nil:
		return e.Shipment
	case e.Inventory != nil:
		return e.Inventory
	case e.Wait != nil:
		return e.Wait
	case e.Digest != nil:
		return e.Digest
	case e.Install != nil:
		return e.Install
	}
	return nil
}

// EntityOf returns an empty entity of a kind, ready to be filled by a store;
// ok is false for kinds that are not entities (ledger, counters, settings, stock).
func EntityOf(kind string) (Entity, bool) {
	switch kind {
	case ItemOrder:
		return Entity{Order: &aftercare.Order{}}, true
	case ItemCustomer:
		return Entity{Customer: &aftercare.Customer{}}, true
	case ItemShipment:
		return Entity{Shipment: &aftercare.Shipment{}}, true
	case ItemInventory:
		return Entity{Inventory: &Inventory{}}, true
	case ItemWait:
		return Entity{Wait: &Wait{}}, true
	case ItemDigest:
		return Entity{Digest: &Digest{}}, true
	case ItemInstall:
		return Entity{Install: &aftercare.Install{}}, true
	}
	return Entity{}, false
}

// Loaded is what a Load found, typed and keyed by id; keys that do not exist
// are absent. Stock holds a shop's out-of-stock variants when its stock item
// exists.
type Loaded struct {
	Orders    map[Key]*aftercare.Order
	Customers map[Key]*aftercare.Customer
	Shipments map[Key]*aftercare.Shipment
	Inventory map[Key]*Inventory
	Waits     map[Key]*Wait
	Installs  map[Key]*aftercare.Install
	Stock     map[string]map[string]bool
}

// NewLoaded returns an empty set.
func NewLoaded() *Loaded {
	return &Loaded{
		Orders: map[Key]*aftercare.Order{}, Customers: map[Key]*aftercare.Customer{}, Shipments: map[Key]*aftercare.Shipment{},
		Inventory: map[Key]*Inventory{}, Waits: map[Key]*Wait{}, Installs: map[Key]*aftercare.Install{}, Stock: map[string]map[string]bool{},
	}
}

// Add files an entity under its key.
func (l *Loaded) Add(e Entity) {
	k := e.Key()
	switch {
	case e.Order != nil:
		l.Orders[k] = e.Order
	case e.Customer != nil:
		l.Customers[k] = e.Customer
	case e.Shipment != nil:
		l.Shipments[k] = e.Shipment
	case e.Inventory != nil:
		l.Inventory[k] = e.Inventory
	case e.Wait != nil:
		l.Waits[k] = e.Wait
	case e.Install != nil:
		l.Installs[k] = e.Install
	}
}

// Get returns the entity under k.
func (l *Loaded) Get(k Key) (Entity, bool) {
	var e Entity
	switch k.Kind {
	case ItemOrder:
		e.Order = l.Orders[k]
	case ItemCustomer:
		e.Customer = l.Customers[k]
	case ItemShipment:
		e.Shipment = l.Shipments[k]
	case ItemInventory:
		e.Inventory = l.Inventory[k]
	case ItemWait:
		e.Wait = l.Waits[k]
	case ItemInstall:
		e.Install = l.Installs[k]
	}
	return e, e.Body() != nil
}

// Len counts the entities and stock sets found.
func (l *Loaded) Len() int {
	return len(l.Orders) + len(l.Customers) + len(l.Shipments) + len(l.Inventory) + len(l.Waits) + len(l.Installs) + len(l.Stock)
}

// merge adds what o found.
func (l *Loaded) merge(o *Loaded) {
	if o == nil {
		return
	}
	for k, v := range o.Orders {
		l.Orders[k] = v
	}
	for k, v := range o.Customers {
		l.Customers[k] = v
	}
	for k, v := range o.Shipments {
		l.Shipments[k] = v
	}
	for k, v := range o.Inventory {
		l.Inventory[k] = v
	}
	for k, v := range o.Waits {
		l.Waits[k] = v
	}
	for k, v := range o.Installs {
		l.Installs[k] = v
	}
	for k, v := range o.Stock {
		l.Stock[k] = v
	}
}

// ShopTokens keeps shops' Admin API access tokens (SSM Parameter Store in
// AWS).
type ShopTokens interface {
	// Disconnect deletes the shop's token; none stored is no error.
	Disconnect(ctx context.Context, shop string) error
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
	Puts     []Entity // each conditioned on its Version (0: must not exist; negative: unconditional)
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

// FoldStats is what one fold of the report's counters did (a store that
// carries counters on its writes and adds them to the day items later:
// dynamo.Store.Fold).
type FoldStats struct {
	Shards  int // stream shards read
	Records int // stream records read
	Counted int // records that carried counters
	Writes  int // fold writes committed (the counters with the shard's mark)
	Reads   int // GetRecords calls
	Races   int // writes refused because another fold moved the mark first
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

// Undecodable names stored items a read could not decode (a corrupt or
// foreign document). A page read returns it beside the page's other items
// and its cursor, so one bad item never stops a walk at the same place.
type Undecodable struct {
	Keys []Key
}

func (u *Undecodable) Error() string {
	return fmt.Sprintf("%d stored items could not be decoded", len(u.Keys))
}

// Errors a Store returns from Commit.
var (
	ErrDuplicate = errors.New("event already applied")
	ErrConflict  = errors.New("state changed since it was read")
)

// Store reads and writes state in the domain's types; implementations own
// encoding, key formats and batch sizes. Load is one round trip (for up to a
// hundred keys); Commit is one transaction.
type Store interface {
	// Load reads the dedupe record (when dedupeID is set) and the entities
	// that exist among keys, with strongly consistent reads. The result is
	// the caller's: the store keeps no reference to it.
	Load(ctx context.Context, dedupeID string, keys []Key) (*Dedupe, *Loaded, error)
	// Commit writes c atomically: ErrDuplicate if c.Dedupe exists already,
	// ErrConflict if any put item changed since it was loaded.
	Commit(ctx context.Context, c *Commit) error
	// Waiting lists the orders waiting for a variant of a shop.
	Waiting(ctx context.Context, shop, variant string) ([]*Wait, error)
	// ShopPage reads at most limit items of a shop after cursor (empty: from
	// the first), with the entity when the item is one (zero for ledger,
	// counters, stock, settings, cap slots); next is empty after the last
	// page. A cursor stays valid when the items before it are deleted.
	ShopPage(ctx context.Context, shop, cursor string, limit int) (items []ShopItem, next string, err error)
	// Traces reads at most limit of the items outside the entities that name
	// a customer of a shop (every customer when customerID is empty): their
	// ledger entries and the dedupe records whose stored outbox names them.
	// Paged like ShopPage.
	Traces(ctx context.Context, shop, customerID, cursor string, limit int) (traces []Trace, next string, err error)
	// ScrubOutbox drops from a dedupe record's stored outbox every message and
	// internal event of the shop that names one of customers (all of the
	// shop's when customers is nil); the record itself stays, so the event
	// is still never applied twice. A missing record is not an error.
	ScrubOutbox(ctx context.Context, eventID, shop string, customers []string) error
	// Delete removes items (idempotent, batched).
	Delete(ctx context.Context, keys []Key) error
}

// ShopItem is one item of a shop as ShopPage reads it.
type ShopItem struct {
	Key    Key
	Entity Entity // zero when the item is not an entity
}

// Trace is an item that names a customer beside their entities: a ledger
// entry (Key, kind ItemLedger) or a dedupe record (EventID).
type Trace struct {
	Key     Key
	EventID string
}

// Owner is the customer a dedupe record is found by (Store.Traces): the
// first customer its outbox or internal events name, as shop and id; empty
// when they name none. Events name one customer at most in practice; a
// record that named more is still safe for the others, because a redrive
// re-sends nothing to a redacted customer (Processor.duplicate).
func (d *Dedupe) Owner() (shop, customer string) {
	for _, m := range d.Outbox {
		if m.CustomerID != "" {
			return m.Shop, m.CustomerID
		}
	}
	for _, e := range d.Internal {
		if id := eventCustomer(&e); id != "" {
			return e.Shop, id
		}
	}
	return "", ""
}

// Scrub drops what names one of customers of shop (every message and
// internal event of the shop when customers is nil); it reports whether
// anything was dropped.
func (d *Dedupe) Scrub(shop string, customers []string) bool {
	names := func(s, id string) bool {
		if s != shop {
			return false
		}
		if customers == nil {
			return true
		}
		for _, c := range customers {
			if id == c {
				return true
			}
		}
		return false
	}
	n := len(d.Outbox) + len(d.Internal)
	var out []aftercare.Message
	for _, m := range d.Outbox {
		if !names(m.Shop, m.CustomerID) {
			out = append(out, m)
		}
	}
	var evs []aftercare.Event
	for _, e := range d.Internal {
		if !names(e.Shop, eventCustomer(&e)) {
			evs = append(evs, e)
		}
	}
	d.Outbox, d.Internal = out, evs
	return len(out)+len(evs) != n
}

// eventCustomer is the customer an internal event names, if any.
func eventCustomer(e *aftercare.Event) string {
	if e.Restock != nil {
		return e.Restock.CustomerID
	}
	return ""
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
