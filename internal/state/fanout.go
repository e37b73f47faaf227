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
func (p *Processor) fanOut(ctx context.Context, ev *aftercare.Event) (Result, error) {
	// The shop's install marks come with the dedupe read: an uninstalled
	// shop's data request makes no message (dispatch would suppress it).
	ik := Key{ItemInstall, ev.Shop, ""}
	d, marks, err := p.Store.Load(ctx, ev.ID, []Key{ik})
	if err != nil {
		return Result{}, err
	}
	if d != nil {
		return p.duplicate(ctx, ev, d, nil, nil)
	}
	var res Result
	switch ev.Kind {
	case aftercare.EventCustomerRedact:
		res, err = p.redactCustomer(ctx, ev)
	case aftercare.EventShopRedact:
		res, err = p.redactShop(ctx, ev)
	case aftercare.EventDataRequest:
		res, err = p.exportCustomer(ctx, ev, marks.Installs[ik].Uninstalled())
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

// relinked reports, of the parcels related found through a customer's
// orders, the ones another customer's order has linked since (a reused
// tracking number): they are that customer's now.
func relinked(keys []Key) func(*aftercare.Shipment) bool {
	theirs := map[Key]bool{}
	for _, k := range keys {
		if k.Kind == ItemOrder {
			theirs[k] = true
		}
	}
	return func(s *aftercare.Shipment) bool { return s.Linked() && !theirs[Key{ItemOrder, s.Shop, s.OrderID}] }
}

// related loads a privacy request's customers, their orders and the orders'
// parcels and waiting entries.
func (p *Processor) related(ctx context.Context, shop string, r *aftercare.PrivacyRequest) (*Loaded, []Key, error) {
	var keys []Key
	for _, id := range customerIDs(r) {
		keys = append(keys, Key{ItemCustomer, shop, id})
	}
	_, all, err := p.Store.Load(ctx, "", keys)
	if err != nil {
		return nil, nil, err
	}
	orders := map[string]bool{}
	for _, id := range r.Orders {
		orders[id] = true
	}
	for _, c := range all.Customers {
		for _, ref := range c.Orders {
			orders[ref.ID] = true
		}
	}
	keys = keys[:0]
	for id := range orders {
		keys = append(keys, Key{ItemOrder, shop, id})
	}
	SortKeys(keys)
	// The store chunks large loads itself (BatchGetItem takes 100 keys).
	var ships []Key
	found, err := p.load(ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	all.merge(found)
	for _, o := range found.Orders {
		for key := range o.Shipments {
			ships = append(ships, Key{ItemShipment, "", key})
		}
		for _, v := range o.Backordered {
			ships = append(ships, Key{ItemWait, shop, v + "#" + o.ID})
		}
	}
	SortKeys(ships)
	if found, err = p.load(ctx, ships); err != nil {
		return nil, nil, err
	}
	all.merge(found)
	var out []Key
	for _, m := range []map[Key]bool{keysOf(all.Customers), keysOf(all.Orders), keysOf(all.Shipments), keysOf(all.Waits)} {
		for k := range m {
			out = append(out, k)
		}
	}
	SortKeys(out)
	return all, out, nil
}

func keysOf[V any](m map[Key]V) map[Key]bool {
	out := make(map[Key]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// exportCustomer builds what we hold about a customer for the merchant and
// queues it as a data_request team message.
func (p *Processor) exportCustomer(ctx context.Context, ev *aftercare.Event, uninstalled bool) (Result, error) {
	all, keys, err := p.related(ctx, ev.Shop, ev.Privacy)
	if err != nil {
		return Result{}, err
	}
	// The export is the merchant's data_request document (a message body),
	// not the stored form: the store's encoding stays the store's.
	// Records of applied events (Applied) are bookkeeping, not their data.
	export := exportDoc{Shop: ev.Shop, RequestID: ev.Privacy.DataRequestID}
	elsewhere := relinked(keys)
	for _, k := range keys {
		switch k.Kind {
		case ItemCustomer:
			export.Customers = append(export.Customers, all.Customers[k])
		case ItemOrder:
			if o := all.Orders[k]; !o.Redacted { // a tombstone holds nothing of theirs
				o.Applied = nil
				export.Orders = append(export.Orders, o)
			}
		case ItemShipment:
			if s := all.Shipments[k]; !elsewhere(s) {
				s.Applied = nil
				export.Shipments = append(export.Shipments, s)
			}
		}
	}
	parts, err := export.split(MaxExportBytes)
	if err != nil {
		return Result{}, err
	}
	req := ev.Privacy.DataRequestID
	if req == "" {
		req = ev.ID
	}
	var changes []Change
	for i, b := range parts {
		changes = append(changes, Change{Type: DataRequested, Shop: ev.Shop, CustomerID: ev.Privacy.CustomerID, At: ev.At,
			Export: b, RequestID: req, Part: i + 1, Parts: len(parts)})
	}
	msgs := p.Rules.Messages(changes, p.now())
	if uninstalled {
		return Result{Changes: changes, Notes: []string{"data request export not queued: the app is uninstalled from the shop"}}, nil
	}
	if err := p.send(ctx, msgs, nil, p.now()); err != nil {
		return Result{}, err
	}
	return Result{Changes: changes, Messages: msgs}, nil
}

// MaxExportBytes bounds one data_request message's export, so the queued
// message stays under SQS's 256 KiB with room for its other fields.
const MaxExportBytes = 192 << 10

// exportDoc is the merchant's data_request document, or one part of it.
type exportDoc struct {
	Shop      string                `json:"shop"`
	RequestID string                `json:"data_request_id,omitempty"`
	Part      int                   `json:"part,omitempty"`  // set when the export comes in several messages
	Parts     int                   `json:"parts,omitempty"` // how many
	Customers []*aftercare.Customer `json:"customers"`
	Orders    []*aftercare.Order    `json:"orders"`
	Shipments []*aftercare.Shipment `json:"shipments"`
}

// split packs the export into whole documents of at most limit bytes each:
// the customers in the first, then orders and parcels in the order found,
// as many as fit. One part when everything fits (the common case, unchanged:
// no part numbers). Every record is bounded when stored, so one always fits.
func (d exportDoc) split(limit int) ([][]byte, error) {
	whole := d
	whole.Customers, whole.Orders, whole.Shipments = nonNil(d.Customers), nonNil(d.Orders), nonNil(d.Shipments)
	b, err := json.Marshal(whole)
	if err != nil || len(b) <= limit {
		return [][]byte{b}, err
	}
	// The envelope with part numbers, and each record's size with its comma.
	empty := exportDoc{Shop: d.Shop, RequestID: d.RequestID, Part: 1 << 20, Parts: 1 << 20,
		Customers: []*aftercare.Customer{}, Orders: []*aftercare.Order{}, Shipments: []*aftercare.Shipment{}}
	base, err := json.Marshal(empty)
	if err != nil {
		return nil, err
	}
	parts := []exportDoc{{Shop: d.Shop, RequestID: d.RequestID, Customers: d.Customers}}
	size := len(base)
	for _, c := range d.Customers {
		n, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		size += len(n) + 1
	}
	place := func(v any, put func(*exportDoc)) error {
		n, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if size+len(n)+1 > limit && size > len(base) {
			parts = append(parts, exportDoc{Shop: d.Shop, RequestID: d.RequestID})
			size = len(base)
		}
		put(&parts[len(parts)-1])
		size += len(n) + 1
		return nil
	}
	for _, o := range d.Orders {
		if err := place(o, func(p *exportDoc) { p.Orders = append(p.Orders, o) }); err != nil {
			return nil, err
		}
	}
	for _, s := range d.Shipments {
		if err := place(s, func(p *exportDoc) { p.Shipments = append(p.Shipments, s) }); err != nil {
			return nil, err
		}
	}
	out := make([][]byte, len(parts))
	for i, p := range parts {
		p.Part, p.Parts = i+1, len(parts)
		p.Customers, p.Orders, p.Shipments = nonNil(p.Customers), nonNil(p.Orders), nonNil(p.Shipments)
		if out[i], err = json.Marshal(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// nonNil gives an empty list for none, so the document always has its lists.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// restock queues one event per order waiting for a variant that came back.
func (p *Processor) restock(ctx context.Context, ev *aftercare.Event) (Result, error) {
	waits, err := p.Store.Waiting(ctx, ev.Shop, ev.Restock.VariantID)
	if err != nil {
		return Result{}, err
	}
	evs := make([]aftercare.Event, 0, len(waits))
	for _, w := range waits {
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

func (p *Processor) load(ctx context.Context, keys []Key) (*Loaded, error) {
	if len(keys) == 0 {
		return NewLoaded(), nil
	}
	_, items, err := p.Store.Load(ctx, "", keys)
	return items, err
}
