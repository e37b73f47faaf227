package dispatch_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dispatch"
)

// An export sent in parts says which part each message is, in its subject,
// and carries its own part of the document.
func TestDataRequestPartsAreNumbered(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T, ...int) *env) {
		e := newEnv(t)
		m := msg(aftercare.KindDataRequest, "c1", "", "dr-1", "part", "2", "3")
		m.Part, m.Parts, m.Export = 2, 3, json.RawMessage(`{"shop":"s","part":2,"parts":3,"orders":[{"id":"o7"}]}`)
		if r := e.handle(t, m); r.Decision != dispatch.Sent {
			t.Fatalf("decision %s (%s)", r.Decision, r.Why)
		}
		var p map[string]any
		if err := json.Unmarshal(e.sink.got[0], &p); err != nil {
			t.Fatal(err)
		}
		if s, _ := p["subject"].(string); !strings.HasSuffix(s, "(part 2 of 3)") {
			t.Errorf("subject %q, want the part named", s)
		}
		if b, _ := p["body"].(string); !strings.Contains(b, `"orders":[{"id":"o7"}]`) {
			t.Errorf("body lacks its part of the export: %q", b)
		}
	})
}

// A message queued before its customer was redacted is suppressed, and its
// ledger entry does not bring the customer's id back. Under a keyed
// tombstone the reason says so ("customer redacted"), which the report and
// the soak tell apart from a customer never known.
func TestRedactedCustomerLeavesNoIDInTheLedger(t *testing.T) {
	stores(t, func(t *testing.T, newEnv func(*testing.T, ...int) *env) {
		e := newEnv(t)
		key := []byte("dispatch-test-tombstone-key")
		e.d.TombstoneKey = key
		gone := customer("c-gone")
		gone.Redact(clock)
		e.put(t, gone, nil)
		keyed := customer(aftercare.TombstoneID(key, shop, "c-keyed"))
		keyed.Redact(clock)
		e.put(t, keyed, nil)
		for _, c := range []struct {
			m   *aftercare.Message
			why string
		}{
			{msg(aftercare.KindOrderShipped, "c-gone", "1001", "p1"), "customer redacted"},  // a tombstone at the customer's key (the old scheme)
			{msg(aftercare.KindOrderShipped, "c-keyed", "1002", "p2"), "customer redacted"}, // no customer item, a keyed tombstone
			{msg(aftercare.KindOrderShipped, "c-none", "1003", "p3"), "unknown customer"},   // neither
		} {
			m := c.m
			if r := e.handle(t, m); r.Decision != dispatch.Suppressed {
				t.Fatalf("%s: decision %s, want suppressed", m.CustomerID, r.Decision)
			}
			got := e.ledger(t)[m.ID]
			if got.ID == "" || got.CustomerID != "" {
				t.Errorf("ledger entry %+v: want it recorded without the customer", got)
			}
			if got.Why != c.why {
				t.Errorf("%s: ledger says %q, want %q", m.CustomerID, got.Why, c.why)
			}
		}
		if e.sink.delivered() != 0 {
			t.Fatal("delivered to a redacted customer")
		}
	})
}
