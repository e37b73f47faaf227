package state_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/state"
)

func redactBuyer(id string) aftercare.Event {
	red := shopifyEvent("customers/redact", id, aftercare.EventCustomerRedact, at(7, 0))
	red.Privacy = &aftercare.PrivacyRequest{CustomerID: buyer.ID, Email: buyer.Email, Phone: buyer.Phone, Orders: []string{"5001"}}
	return red
}

// An event that read the order before the redaction and commits after it
// cannot write over the tombstone: the tombstone is conditioned on the
// order as the redaction read it, and moves its version on (an order
// written once, at version 1, is the case an unconditioned tombstone, also
// stored at version 1, lost).
func TestARacingWriteCannotOverwriteATombstone(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := newEnv(t)
		e.process(t, history()[0]) // orders/create: the order at version 1
		k := state.Key{Kind: state.ItemOrder, Shop: shop, ID: "5001"}
		_, before, err := e.store.Load(context.Background(), "", []state.Key{k})
		if err != nil || before.Orders[k] == nil {
			t.Fatalf("load the order: %v", err)
		}
		e.process(t, redactBuyer("race"))
		stale := *before.Orders[k] // as the racing event read it
		stale.Tags = append(stale.Tags, "late")
		err = e.store.Commit(context.Background(), &state.Commit{Puts: []state.Entity{{Order: &stale}}})
		if !errors.Is(err, state.ErrConflict) {
			t.Fatalf("a write of the order as read before the redaction: %v, want a conflict", err)
		}
		if o := e.dump(t)["SHOP#"+shop+"|ORDER#5001"]; o["redacted"] != true || o["customer_id"] != nil {
			t.Fatalf("the tombstone was overwritten: %v", o)
		}
	})
}

// A redaction whose tombstone commit fails is retried and finishes: the
// parcels' keyed tombstones go in one commit with their deletes, before the
// orders', so the retry still finds every parcel through its order.
func TestARedactionRetriedAfterAFailedCommitTombstonesEveryParcel(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := afterHistory(t, newEnv)
		var fails atomic.Int32
		fails.Store(1)
		e.proc.Store = &failingCommit{Store: e.store, fails: &fails}
		red := redactBuyer("retried")
		if _, err := e.proc.Process(context.Background(), &red); err == nil {
			t.Fatal("the first try should have failed")
		}
		e.proc.Store = e.store
		e.process(t, redactBuyer("retried"))
		tombs := 0
		for k := range e.dump(t) {
			switch {
			case strings.HasPrefix(k, "SHIPMENT#redacted-"):
				tombs++
			case strings.HasPrefix(k, "SHIPMENT#"):
				t.Errorf("a parcel of the redacted order is left: %s", k)
			}
		}
		if tombs != 2 {
			t.Fatalf("%d parcel tombstones, want 2", tombs)
		}
	})
}

// failingCommit fails the commits while fails is positive.
type failingCommit struct {
	state.Store
	fails *atomic.Int32
}

func (s *failingCommit) Commit(ctx context.Context, c *state.Commit) error {
	if s.fails.Add(-1) >= 0 {
		return errors.New("store unavailable")
	}
	return s.Store.Commit(ctx, c)
}

// A parcel another order has linked since (a shared or reused tracking
// number) is not the redacted customer's: it is neither deleted nor
// tombstoned, and its scans still apply.
func TestARelinkedParcelIsNotRedacted(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T) *env) {
		e := afterHistory(t, newEnv)
		other := snapshot(at(6, 12), "paid", "", nil)
		other.ID, other.Name = "5002", "#1002"
		c := aftercare.CustomerInfo{ID: "7002", Email: "grace@example.org", UpdatedAt: at(6, 12)}
		other.Customer, other.Email = &c, c.Email
		e.process(t, orderEvent("orders/create", "oc2", other))
		f := f1
		f.ID, f.OrderID, f.UpdatedAt, f.CreatedAt = "F9", "5002", at(6, 13), at(6, 13)
		e.process(t, fulfillmentEvent("fulfillments/create", "fc9", f))
		e.process(t, redactBuyer("relinked"))
		key := "SHIPMENT#" + aftercare.TrackingKey(f1.TrackingNumbers[0]) + "|SHIPMENT"
		if p := e.dump(t)[key]; p == nil || p["order_id"] != "5002" {
			t.Fatalf("the parcel linked to the other order: %v", p)
		}
		scan := carrierEvent(aftercare.SourceEasyPost, "after", f1.TrackingNumbers[0], "UPS", aftercare.StatusOutForDelivery, at(7, 9), "")
		if res := e.process(t, scan); res.Outcome != state.Applied {
			t.Fatalf("a scan of the other order's parcel: %+v", res)
		}
	})
}
