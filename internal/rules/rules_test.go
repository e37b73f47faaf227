package rules

import (
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/state"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func TestPlaybookIsNoticePlusSupportTask(t *testing.T) {
	e := &aftercare.Exception{Kind: aftercare.ExceptionDamaged, Subject: "1Z9", Source: aftercare.ExceptionFromCarrier, What: "Package damaged", Episode: "ep"}
	msgs := Rules{}.Messages([]state.Change{{Type: state.ExceptionOpened, Shop: "s", OrderID: "o", CustomerID: "c", Shipment: "1Z9", Exception: e}}, now)
	if len(msgs) != 2 || msgs[0].Kind != aftercare.KindExceptionDamaged || msgs[1].Kind != aftercare.KindSupportTask {
		t.Fatalf("want notice + support task, got %+v", msgs)
	}
	if msgs[0].ID == msgs[1].ID || msgs[1].Exception != aftercare.ExceptionDamaged || msgs[0].What != "Package damaged" {
		t.Fatalf("%+v", msgs)
	}
	again := Rules{}.Messages([]state.Change{{Type: state.ExceptionOpened, Shop: "s", OrderID: "o", CustomerID: "c", Shipment: "1Z9", Exception: e}}, now.Add(time.Hour))
	if again[0].ID != msgs[0].ID || again[1].ID != msgs[1].ID {
		t.Fatal("the same cause must give the same ids")
	}
}

// Internal wording (close reasons, "tagged by the shop") stays with the team.
func TestCustomersNeverSeeInternalReasons(t *testing.T) {
	tagged := &aftercare.Exception{Kind: aftercare.ExceptionLost, Source: aftercare.ExceptionFromMerchant, What: "tagged aftercare:lost by the shop", Episode: "e1"}
	closed := &aftercare.Exception{Kind: aftercare.ExceptionDelay, Subject: "1Z9", Episode: "e2", ClosedWhy: "moving again: in_transit"}
	msgs := Rules{}.Messages([]state.Change{
		{Type: state.ExceptionOpened, Shop: "s", OrderID: "o", CustomerID: "c", Exception: tagged, What: tagged.What},
		{Type: state.ExceptionClosed, Shop: "s", OrderID: "o", CustomerID: "c", Exception: closed, Resolved: true, What: closed.ClosedWhy},
	}, now)
	for _, m := range msgs {
		if m.Kind.Audience() == aftercare.AudienceCustomer && m.What != "" {
			t.Errorf("%s tells the customer %q", m.Kind, m.What)
		}
	}
	if msgs[1].Kind != aftercare.KindSupportTask || msgs[1].Detail == "" {
		t.Fatalf("the team keeps the internal note: %+v", msgs[1])
	}
}

func TestQuietClosesAndNobodyToTell(t *testing.T) {
	e := &aftercare.Exception{Kind: aftercare.ExceptionDelay, Episode: "e"}
	msgs := Rules{}.Messages([]state.Change{
		{Type: state.ExceptionClosed, Shop: "s", OrderID: "o", CustomerID: "c", Exception: e, Resolved: false},
		{Type: state.ShipmentShipped, Shop: "s", OrderID: "o", Shipment: "p"}, // no customer
	}, now)
	if len(msgs) != 0 {
		t.Fatalf("superseded closes are quiet and customer-less notices are dropped: %+v", msgs)
	}
}

// Backfilled history changes state but never tells anyone about the past:
// the same changes that send notices live send nothing when imported.
func TestHistorySendsNothing(t *testing.T) {
	e := &aftercare.Exception{Kind: aftercare.ExceptionDamaged, Source: aftercare.ExceptionFromMerchant, What: "tagged", Episode: "e"}
	changes := []state.Change{
		{Type: state.ShipmentShipped, Shop: "s", OrderID: "o", CustomerID: "c", Shipment: "p"},
		{Type: state.ShipmentDelivered, Shop: "s", OrderID: "o", CustomerID: "c", Shipment: "p"},
		{Type: state.ExceptionOpened, Shop: "s", OrderID: "o", CustomerID: "c", Exception: e},
		{Type: state.ExceptionClosed, Shop: "s", OrderID: "o", CustomerID: "c", Exception: e, Resolved: true},
	}
	if live := (Rules{}).Messages(changes, now); len(live) != 5 {
		t.Fatalf("live changes should send shipped, delivered, notice, task, resolved: %+v", live)
	}
	for i := range changes {
		changes[i].History = true
	}
	if msgs := (Rules{}).Messages(changes, now); len(msgs) != 0 {
		t.Fatalf("history sent %d messages: %+v", len(msgs), msgs)
	}
}
