package state

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// fanOut handles events whose work spans many items: privacy requests and a
// variant coming back in stock. Each step is idempotent (deletes, overwrites,
// sends with ids derived from the cause), so the dedupe record is written
// last: a crash part-way leaves the event to be redone, never half-applied.
func (p *Processor) fanOut(ctx context.Context, ev *aftercare.Event, redelivered bool) (Result, error) {
	d, _, err := p.Store.Load(ctx, ev.ID, nil)
	if err != nil {
		return Result{}, err
	}
	if d != nil {
		return p.duplicate(ctx, ev, d, redelivered)
	}
	var res Result
	switch ev.Kind {
	case aftercare.EventCustomerRedact:
		res, err = p.redactCustomer(ctx, ev)
	case aftercare.EventShopRedact:
		res, err = p.redactShop(ctx, ev)
	case aftercare.EventDataRequest:
		res, err = p.exportCustomer(ctx, ev)
	case aftercare.EventStockReturned:
		res, err = p.restock(ctx, ev)
	}
	if err != nil {
		return Result{}, err
	}
	err = p.Store.Commit(ctx, &Commit{Dedupe: &Dedupe{ID: ev.ID, Shop: ev.Shop, Topic: ev.Topic, At: p.now()}})
	if err != nil && !errors.Is(err, ErrDuplicate) {
		return Result{}, err
	}
	res.Outcome = Applied
	return res, nil
}

// customerIDs are the ids a privacy request may know a customer by: the
// storefront id and, for guest checkouts, the id derived from the email.
func customerIDs(r *aftercare.PrivacyRequest) []string {
	var ids []string
	if r.CustomerID != "" {
		ids = append(ids, r.CustomerID)
	}
	if g := aftercare.GuestID(r.Email); g != "" && g != r.CustomerID {
		ids = append(ids, g)
	}
	return ids
}

// related loads a privacy request's customers, their orders and the orders'
// parcels.
func (p *Processor) related(ctx context.Context, shop string, r *aftercare.PrivacyRequest) (map[Key]Item, []Key, error) {
	var keys []Key
	for _, id := range customerIDs(r) {
		keys = append(keys, Key{ItemCustomer, shop, id})
	}
	_, customers, err := p.Store.Load(ctx, "", keys)
	if err != nil {
		return nil, nil, err
	}
	orders := map[string]bool{}
	for _, id := range r.Orders {
		orders[id] = true
	}
	all := map[Key]Item{}
	for k, it := range customers {
		all[k] = it
		var c aftercare.Customer
		if err := json.Unmarshal(it.Doc, &c); err != nil {
			return nil, nil, err
		}
		for _, ref := range c.Orders {
			orders[ref.ID] = true
		}
	}
	keys = keys[:0]
	for id := range orders {
		keys = append(keys, Key{ItemOrder, shop, id})
	}
	sortKeys(keys)
	// The store chunks large loads itself (BatchGetItem takes 100 keys).
	var ships []Key
	items, err := p.load(ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	for k, it := range items {
		all[k] = it
		var o aftercare.Order
		if err := json.Unmarshal(it.Doc, &o); err != nil {
			return nil, nil, err
		}
		for key := range o.Shipments {
			ships = append(ships, Key{ItemShipment, "", key})
		}
		for _, v := range o.Backordered {
			ships = append(ships, Key{ItemWait, shop, v + "#" + o.ID})
		}
	}
	sortKeys(ships)
	if items, err = p.load(ctx, ships); err != nil {
		return nil, nil, err
	}
	for k, it := range items {
		all[k] = it
	}
	out := make([]Key, 0, len(all))
	for k := range all {
		out = append(out, k)
	}
	sortKeys(out)
	return all, out, nil
}

// redactCustomer removes a customer's personal data, orders and parcels and
// leaves a tombstone that suppresses every future message to them.
func (p *Processor) redactCustomer(ctx context.Context, ev *aftercare.Event) (Result, error) {
	all, keys, err := p.related(ctx, ev.Shop, ev.Privacy)
	if err != nil {
		return Result{}, err
	}
	var gone []Key
	for _, k := range keys {
		if k.Kind != ItemCustomer {
			gone = append(gone, k)
		}
	}
	if err := p.Store.Delete(ctx, gone); err != nil {
		return Result{}, err
	}
	var res Result
	for _, id := range customerIDs(ev.Privacy) {
		k := Key{ItemCustomer, ev.Shop, id}
		tomb := aftercare.Customer{Shop: ev.Shop, ID: id}
		tomb.Redact(p.now())
		doc, _ := json.Marshal(&tomb)
		for attempt := 0; ; attempt++ {
			err := p.Store.Commit(ctx, &Commit{Puts: []Item{{Key: k, Doc: doc, Version: all[k].Version}}})
			if err == nil {
				break
			}
			if !errors.Is(err, ErrConflict) || attempt == maxAttempts {
				return Result{}, err
			}
			// Something wrote the customer meanwhile: tombstone the newest version.
			_, items, lerr := p.Store.Load(ctx, "", []Key{k})
			if lerr != nil {
				return Result{}, lerr
			}
			all[k] = items[k]
		}
		res.Changes = append(res.Changes, Change{Type: CustomerRedacted, Shop: ev.Shop, CustomerID: id, At: p.now()})
	}
	res.Notes = append(res.Notes, "redacted "+strconv.Itoa(len(gone))+" items")
	return res, nil
}

// redactShop deletes every item of a shop and the parcels linked to it.
func (p *Processor) redactShop(ctx context.Context, ev *aftercare.Event) (Result, error) {
	var keys []Key
	seen := map[Key]bool{}
	err := p.Store.EachShopItem(ctx, ev.Shop, func(it Item) error {
		keys = append(keys, it.Key)
		if it.Kind == ItemOrder {
			var o aftercare.Order
			if err := json.Unmarshal(it.Doc, &o); err != nil {
				return err
			}
			for key := range o.Shipments {
				k := Key{ItemShipment, "", key}
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	if err := p.Store.Delete(ctx, keys); err != nil {
		return Result{}, err
	}
	return Result{Notes: []string{"deleted " + strconv.Itoa(len(keys)) + " items"}}, nil
}

// exportCustomer builds what we hold about a customer for the merchant and
// queues it as a data_request team message.
func (p *Processor) exportCustomer(ctx context.Context, ev *aftercare.Event) (Result, error) {
	all, keys, err := p.related(ctx, ev.Shop, ev.Privacy)
	if err != nil {
		return Result{}, err
	}
	export := struct {
		Shop      string            `json:"shop"`
		RequestID string            `json:"data_request_id,omitempty"`
		Customers []json.RawMessage `json:"customers"`
		Orders    []json.RawMessage `json:"orders"`
		Shipments []json.RawMessage `json:"shipments"`
	}{Shop: ev.Shop, RequestID: ev.Privacy.DataRequestID, Customers: []json.RawMessage{}, Orders: []json.RawMessage{}, Shipments: []json.RawMessage{}}
	for _, k := range keys {
		doc := json.RawMessage(all[k].Doc)
		switch k.Kind {
		case ItemCustomer:
			export.Customers = append(export.Customers, doc)
		case ItemOrder:
			export.Orders = append(export.Orders, doc)
		case ItemShipment:
			export.Shipments = append(export.Shipments, doc)
		}
	}
	b, err := json.Marshal(export)
	if err != nil {
		return Result{}, err
	}
	req := ev.Privacy.DataRequestID
	if req == "" {
		req = ev.ID
	}
	ch := Change{Type: DataRequested, Shop: ev.Shop, CustomerID: ev.Privacy.CustomerID, At: ev.At, Export: b, RequestID: req}
	msgs := p.Rules.Messages([]Change{ch}, p.now())
	if err := p.send(ctx, msgs, nil, p.now()); err != nil {
		return Result{}, err
	}
	return Result{Changes: []Change{ch}, Messages: msgs}, nil
}

// restock queues one event per order waiting for a variant that came back.
func (p *Processor) restock(ctx context.Context, ev *aftercare.Event) (Result, error) {
	waits, err := p.Store.Waiting(ctx, ev.Shop, ev.Restock.VariantID)
	if err != nil {
		return Result{}, err
	}
	evs := make([]aftercare.Event, 0, len(waits))
	for _, it := range waits {
		var w Wait
		if err := json.Unmarshal(it.Doc, &w); err != nil {
			return Result{}, err
		}
		evs = append(evs, aftercare.Event{
			ID:   "aftercare:restocked:" + ev.Shop + ":" + w.VariantID + ":" + w.OrderID + ":" + aftercare.TimeKey(ev.At),
			Kind: aftercare.EventRestocked, Source: aftercare.SourceAftercare, Topic: "restocked",
			Shop: ev.Shop, At: ev.At, Received: p.now(),
			Restock: &aftercare.Restock{VariantID: w.VariantID, ProductID: w.ProductID, OrderID: w.OrderID, CustomerID: w.CustomerID},
		})
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].ID < evs[j].ID })
	if err := p.send(ctx, nil, evs, p.now()); err != nil {
		return Result{}, err
	}
	return Result{Notes: []string{"waiting orders: " + strconv.Itoa(len(evs))}}, nil
}

func (p *Processor) load(ctx context.Context, keys []Key) (map[Key]Item, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	_, items, err := p.Store.Load(ctx, "", keys)
	return items, err
}
