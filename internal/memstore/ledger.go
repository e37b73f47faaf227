package memstore

import (
	"context"
	"sort"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/ledger"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/state"
)

const statusClaimed = "claimed"

// State reads a message's customer and order and the shop's install marks (nil when absent).
func (s *Store) State(_ context.Context, shop, customerID, orderID string) (*aftercare.Customer, *aftercare.Order, *aftercare.Install, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var c *aftercare.Customer
	var o *aftercare.Order
	var i *aftercare.Install
	if st, ok := s.items[state.Key{Kind: state.ItemCustomer, Shop: shop, ID: customerID}]; ok && customerID != "" {
		c = st.read().Customer
	}
	if st, ok := s.items[state.Key{Kind: state.ItemOrder, Shop: shop, ID: orderID}]; ok && orderID != "" {
		o = st.read().Order
	}
	if st, ok := s.items[state.Key{Kind: state.ItemInstall, Shop: shop}]; ok && shop != "" {
		i = st.read().Install
	}
	return c, o, i, nil
}

// UpdateCustomer changes one customer outside an event, as the DynamoDB
// store does: the version moves on, the due index stays as it was, and the
// counters adds reports for the change are added with it.
func (s *Store) UpdateCustomer(_ context.Context, shop, id string, change func(*aftercare.Customer) bool, adds func(before, after *aftercare.Customer) []state.Add) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.items[state.Key{Kind: state.ItemCustomer, Shop: shop, ID: id}]
	if !ok {
		return aftercare.Errorf(aftercare.ENOTFOUND, "no customer %s in %s", id, shop)
	}
	e := st.read()
	before := st.read().Customer
	if !change(e.Customer) {
		return nil
	}
	var counted []state.Add
	if adds != nil {
		counted = state.MergeAdds(adds(before, e.Customer))
	}
	if err := checkCounters(counted); err != nil {
		return err
	}
	st.e, st.version = copyEntity(e), st.version+1
	s.items[e.Key()] = st
	s.addCounters(counted)
	return nil
}

// Claim takes a message id until its lease ends, and for marketing the
// customer's cap slot with it, as the DynamoDB ledger does in one transaction.
func (s *Store) Claim(_ context.Context, c ledger.Claim) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := state.Key{Kind: state.ItemLedger, Shop: c.Shop, ID: c.ID}
	e, exists := s.entries[k]
	if exists {
		switch {
		case e.Status == statusClaimed && !e.lease.Before(c.Now):
			return e.lease, ledger.ErrInFlight
		case e.Status == statusClaimed && !c.CapSince.IsZero():
			return time.Time{}, ledger.ErrUnknownOutcome
		case e.Status != statusClaimed && e.Status != ledger.Held && e.Status != ledger.Failed:
			return time.Time{}, ledger.ErrClaimed
		}
	}
	marketing := !c.CapSince.IsZero() && c.CustomerID != ""
	slotKey := c.Shop + "/" + c.CustomerID
	if marketing {
		if slot, ok := s.caps[slotKey]; ok && !slot.takenAt.IsZero() && !slot.takenAt.Before(c.CapSince) && slot.holder != c.ID {
			return slot.takenAt, ledger.ErrCapped
		}
		s.caps[slotKey] = capSlot{takenAt: c.Now.Truncate(time.Millisecond), holder: c.ID}
	}
	if !exists {
		e = &entry{Entry: ledger.Entry{ID: c.ID}}
		s.entries[k] = e
	}
	e.Status, e.token, e.lease = statusClaimed, c.Token, c.Lease
	// The entry names no customer, as in the table (its id is a hash of the cause).
	e.Kind, e.CustomerID = string(c.Kind), ""
	e.Attempts++
	return time.Time{}, nil
}

// Release gives a claim back after a failed delivery (counted as failed in
// the report, on r.At's day) and frees the cap slot the message took.
func (s *Store) Release(_ context.Context, r ledger.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	shop, id := r.Shop, r.ID
	e, ok := s.entries[state.Key{Kind: state.ItemLedger, Shop: shop, ID: id}]
	if !ok || e.token != r.Token {
		return nil // the lease ran out and someone else holds it now
	}
	e.Status, e.Why, e.token, e.lease = ledger.Failed, truncate(r.Why, 500), "", time.Time{}
	s.recount(shop, &e.Entry, aftercare.Kind(e.Kind), ledger.Failed, r.At, r.Zone, nil)
	slotKey := shop + "/" + r.CustomerID
	if slot, ok := s.caps[slotKey]; ok && r.CustomerID != "" && slot.holder == id {
		delete(s.caps, slotKey)
	}
	return nil
}

// Record writes a final decision, and the changed customer with it.
func (s *Store) Record(_ context.Context, r ledger.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := state.Key{Kind: state.ItemLedger, Shop: r.Shop, ID: r.ID}
	e, exists := s.entries[k]
	if r.Token != "" {
		if !exists || e.token != r.Token {
			return ledger.ErrClaimed
		}
	} else if exists && (e.Status == ledger.Sent || e.Status == statusClaimed) {
		return ledger.ErrClaimed // never overwrite a delivery or a live claim
	}
	item := state.Entity{Customer: r.Customer}
	if r.Customer != nil {
		if err := s.check(item); err != nil {
			return ledger.ErrConflict
		}
	}
	if !exists {
		e = &entry{Entry: ledger.Entry{ID: r.ID}}
		s.entries[k] = e
	}
	e.Status, e.Why, e.Channel, e.Kind = r.Decision, truncate(r.Why, 500), string(r.Channel), string(r.Kind)
	e.CustomerID, e.OrderID, e.token, e.lease = "", r.OrderID, "", time.Time{}
	if r.Customer != nil {
		s.put(item)
	}
	s.recount(r.Shop, &e.Entry, r.Kind, r.Decision, r.At, r.Zone, r.Adds)
	return nil
}

// recount moves the entry's report count to its new decision and adds that
// (and extra, the customer's change) to the shop's day counters, under the
// same lock as the entry: exactly once with the decision.
func (s *Store) recount(shop string, e *ledger.Entry, kind aftercare.Kind, decision string, at time.Time, zone *time.Location, extra report.Adds) {
	next, adds := ledger.Recount(kind, e.Counted, decision, at, zone)
	e.Counted = next
	adds.Merge(extra)
	s.addCounters(state.DayAdds(shop, adds))
}

// Ledger lists a shop's ledger entries, by message id.
func (s *Store) Ledger(_ context.Context, shop string) ([]ledger.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ledger.Entry
	for k, e := range s.entries {
		if k.Shop == shop {
			out = append(out, e.Entry)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
