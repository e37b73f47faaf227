package main

import (
	"bytes"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/shopify"
)

// One injected now; the plan's dates derive from it.
var testNow = time.Date(2015, 12, 2, 6, 0, 0, 0, time.UTC)

func testGoldens(t *testing.T) goldens {
	t.Helper()
	root, err := devstack.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	g, err := loadGoldens(root)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// The same seed plans the same webhooks, byte for byte; another seed does not.
func TestPlanIsDeterministic(t *testing.T) {
	g := testGoldens(t)
	a, b := newPlan(g, 3, 400, testNow), newPlan(g, 3, 400, testNow)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two plans of one seed differ")
	}
	if c := newPlan(g, 4, 400, testNow); reflect.DeepEqual(a.Phases, c.Phases) {
		t.Fatal("another seed planned the same webhooks")
	}
}

// N webhooks exactly, about a tenth of them duplicates, a fifth moved, every
// carrier and the privacy and consent topics present, every Shopify body
// parsing under its topic, and every scan dated before now.
func TestPlanShape(t *testing.T) {
	g := testGoldens(t)
	p := newPlan(g, 1, 1000, testNow)
	if p.Count() != 1000 {
		t.Fatalf("%d webhooks, want 1000", p.Count())
	}
	if p.Dups < 60 || p.Dups > 110 {
		t.Errorf("%d duplicates, want about 10%%", p.Dups)
	}
	if p.Moved < 150 {
		t.Errorf("%d moved out of order, want about 20%%", p.Moved)
	}
	seen := map[string]int{}
	for _, ph := range p.Phases {
		for _, h := range ph {
			seen[h.What]++
			if !strings.HasPrefix(h.Path, "/webhooks/shopify") {
				if at := eventTime(strings.Fields(h.What)[0], h.Body); !at.Before(testNow) {
					t.Errorf("%s scan at %s, not before now", h.What, at)
				}
				continue
			}
			hdr := http.Header{}
			for k, v := range h.Headers {
				hdr.Set(k, v)
			}
			if _, err := (shopify.Source{}).Parse(bytes.Clone(h.Body), hdr, testNow); err != nil {
				t.Errorf("%s does not parse: %v", h.What, err)
			}
		}
	}
	for _, want := range []string{"orders/create", "orders/paid", "orders/updated", "orders/cancelled", "fulfillments/create",
		"customers/redact", "customers_email_marketing_consent/update", "easypost transit", "aftership delivered", "shippo delay",
		"easypost damaged", "aftership returned", "shippo failed"} {
		if seen[want] == 0 {
			t.Errorf("no %s in the plan (%v)", want, seen)
		}
	}
}

// A redaction comes after every other webhook of the lives (Shopify sends
// customers/redact days after the request), so it can never race one: the
// last phase holds the redactions and nothing else.
func TestPlanRedactsLast(t *testing.T) {
	p := newPlan(testGoldens(t), 1, 3000, testNow)
	last := len(p.Phases) - 1
	n := 0
	for i, ph := range p.Phases {
		for _, h := range ph {
			if (h.What == "customers/redact") != (i == last) {
				t.Errorf("%s in phase %d of %d", h.What, i+1, len(p.Phases))
			}
			if i == last {
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no customers/redact in the plan")
	}
}
