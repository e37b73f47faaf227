package aftercare

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCutKeepsWholeRunes(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"},   // é is 2 bytes: not split
		{"日本語", 4, "日"},  // 3-byte runes
		{"日本語", 6, "日本"}, // on a boundary
		{"x", 0, ""},
	} {
		if got := Cut(c.in, c.n); got != c.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestBoundCutsTextAndLists(t *testing.T) {
	long := strings.Repeat("ü", 3000) // 6,000 bytes
	items := make([]LineItem, 700)
	for i := range items {
		items[i] = LineItem{ID: "li", Title: long, Quantity: 1}
	}
	tags := make([]string, 400)
	for i := range tags {
		tags[i] = long
	}
	ev := Event{ID: "shopify:1", Kind: EventOrder, Source: SourceShopify, Topic: "orders/create", Shop: "s.myshopify.com",
		Order: &OrderSnapshot{ID: "1", Name: long, Email: strings.Repeat("a", 400) + "@example.org", Tags: tags, LineItems: items, LineItemCount: 700,
			Customer:     &CustomerInfo{ID: "c1", FirstName: long, Email: "ok@example.org"},
			Fulfillments: []Fulfillment{{ID: "f1", ShipmentDetail: long, TrackingURLs: []string{"https://t.example/" + strings.Repeat("x", 3000)}}}}}
	if err := ev.Bound(); err != nil {
		t.Fatal(err)
	}
	o := ev.Order
	if len(o.Name) != 254 || !utf8.ValidString(o.Name) {
		t.Errorf("name: %d bytes, valid %v", len(o.Name), utf8.ValidString(o.Name))
	}
	if o.Email != "" || o.Customer.Email != "ok@example.org" {
		t.Errorf("an address over 320 bytes is dropped, a good one kept: %q %q", o.Email, o.Customer.Email)
	}
	if len(o.Tags) != MaxTags || len(o.Tags[0]) > MaxName {
		t.Errorf("tags: %d, first %d bytes", len(o.Tags), len(o.Tags[0]))
	}
	if len(o.LineItems) != MaxList || o.LineItemCount != 700 || len(o.LineItems[0].Title) > MaxName {
		t.Errorf("line items: %d kept of %d", len(o.LineItems), o.LineItemCount)
	}
	if len(o.Customer.FirstName) > MaxName || len(o.Fulfillments[0].ShipmentDetail) > MaxText || o.Fulfillments[0].TrackingURLs[0] != "" {
		t.Errorf("customer name %d, detail %d, url %q", len(o.Customer.FirstName), len(o.Fulfillments[0].ShipmentDetail), o.Fulfillments[0].TrackingURLs[0])
	}
}

func TestBoundRefusesOverlongIDs(t *testing.T) {
	long := strings.Repeat("1", MaxID+1)
	for name, ev := range map[string]Event{
		"event id":        {ID: long},
		"shop":            {ID: "e", Shop: long},
		"order id":        {ID: "e", Order: &OrderSnapshot{ID: long}},
		"line item":       {ID: "e", Order: &OrderSnapshot{ID: "1", LineItems: []LineItem{{ID: "1", VariantID: long}}}},
		"tracking number": {ID: "e", Tracking: &TrackingUpdate{TrackingNumber: long}},
		"fulfillment":     {ID: "e", Fulfillment: &Fulfillment{ID: "f", TrackingNumbers: []string{"ok", long}}},
		"customer":        {ID: "e", Customer: &CustomerInfo{ID: long}},
		"redacted order":  {ID: "e", Privacy: &PrivacyRequest{Orders: []string{long}}},
		"variant":         {ID: "e", Product: &Product{ID: "p", Variants: []Variant{{ID: long}}}},
	} {
		err := ev.Bound()
		if ErrorCode(err) != EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	ok := Event{ID: strings.Repeat("1", MaxID), Tracking: &TrackingUpdate{TrackingNumber: strings.Repeat("Z", MaxID)}}
	if err := ok.Bound(); err != nil {
		t.Errorf("at the bound: %v", err)
	}
}

// FuzzBound: whatever event arrives, Bound either refuses it or leaves every
// string and list within its bound, valid UTF-8 still valid, and a second
// Bound changes nothing.
func FuzzBound(f *testing.F) {
	f.Add(`{"id":"e","kind":"order","order":{"id":"1","name":"#1001","tags":["a"],"line_items":[{"id":"1","title":"Mug"}]}}`)
	f.Add(`{"id":"e","kind":"tracking","tracking":{"tracking_number":"EZ1","message":"` + strings.Repeat("é", 900) + `"}}`)
	f.Add(`{"id":"e","privacy":{"orders":["1","2"],"email":"a@b.c"}}`)
	f.Fuzz(func(t *testing.T, raw string) {
		var ev Event
		if json.Unmarshal([]byte(raw), &ev) != nil {
			return
		}
		if err := ev.Bound(); err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("refusal must be EINVALID: %v", err)
			}
			return
		}
		walk(t, reflect.ValueOf(ev), "event")
		again := ev
		b1, _ := json.Marshal(ev)
		if err := again.Bound(); err != nil {
			t.Fatal(err)
		}
		if b2, _ := json.Marshal(again); string(b1) != string(b2) {
			t.Fatal("a second Bound changed the event")
		}
	})
}

// walk checks every string and slice reachable from v.
func walk(t *testing.T, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walk(t, v.Elem(), path)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walk(t, v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	case reflect.Slice:
		if v.Len() > MaxRedacted {
			t.Fatalf("%s has %d entries", path, v.Len())
		}
		if v.Len() > MaxList && !strings.HasSuffix(path, "Privacy.Orders") {
			t.Fatalf("%s has %d entries", path, v.Len())
		}
		for i := range v.Len() {
			walk(t, v.Index(i), path)
		}
	case reflect.String:
		if v.Len() > MaxURL {
			t.Fatalf("%s is %d bytes", path, v.Len())
		}
	}
}
