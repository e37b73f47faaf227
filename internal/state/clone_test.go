package state

import (
	"reflect"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// A replayed attempt starts from what was loaded: the copy it works on
// shares no map, slice or pointer with it.
func TestCloneSharesNothing(t *testing.T) {
	at := time.Date(2024, 3, 1, 9, 0, 0, 0, time.FixedZone("EST", -5*3600))
	qty := 3
	o := &aftercare.Order{Shop: "s", ID: "1", Tags: []string{"gift"}, UpdatedAt: at,
		LineItems:    []aftercare.LineItem{{ID: "li", VariantID: "v1", Quantity: 1}},
		Fulfillments: map[string][]string{"f1": {"ups:1"}},
		Shipments:    map[string]aftercare.Parcel{"ups:1": {Status: aftercare.StatusInTransit}},
		Exceptions:   map[string]*aftercare.Exception{"delay": {Kind: "delay", OpenedAt: at}},
		Refunds:      map[string]int64{"r1": 500},
		PendingScans: map[string][]aftercare.Scan{"f2": {{At: at, Status: aftercare.StatusDelivered}}},
		Backordered:  []string{"v1"}, Version: 4}
	c := clone(o)
	if !reflect.DeepEqual(c, o) {
		t.Fatalf("clone differs:\n%+v\n%+v", c, o)
	}
	c.Tags[0], c.LineItems[0].Quantity, c.Fulfillments["f1"][0] = "x", 9, "x"
	c.Shipments["ups:1"] = aftercare.Parcel{Status: aftercare.StatusReturned}
	c.Exceptions["delay"].ClosedAt = at
	c.Refunds["r1"], c.PendingScans["f2"][0].Status, c.Backordered[0] = 0, aftercare.StatusUnknown, "x"
	if o.Tags[0] != "gift" || o.LineItems[0].Quantity != 1 || o.Fulfillments["f1"][0] != "ups:1" ||
		o.Shipments["ups:1"].Status != aftercare.StatusInTransit || !o.Exceptions["delay"].Open() ||
		o.Refunds["r1"] != 500 || o.PendingScans["f2"][0].Status != aftercare.StatusDelivered || o.Backordered[0] != "v1" {
		t.Fatalf("changing the copy changed the original: %+v", o)
	}
	if c.UpdatedAt.Location() != at.Location() {
		t.Fatal("times lose their zone")
	}
	inv := &Inventory{Shop: "s", ID: "i", ProductQty: &qty, Levels: map[string]Level{"loc": {Available: 2}}}
	ci := clone(inv)
	*ci.ProductQty, ci.Levels["loc"] = 0, Level{}
	if *inv.ProductQty != 3 || inv.Levels["loc"].Available != 2 {
		t.Fatalf("changing the copy changed the original: %+v", inv)
	}
	if clone[aftercare.Customer](nil) != nil {
		t.Fatal("clone of nil is not nil")
	}
}
