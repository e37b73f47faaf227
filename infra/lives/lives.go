// Package lives generates realistic order lives (orders, split shipments,
// carrier scans, exceptions, repeat buyers) as signed webhooks, for the soak
// and the cost runs.
package lives

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/aftership"
	"github.com/aftercare/aftercare/internal/easypost"
	"github.com/aftercare/aftercare/internal/shippo"
	"github.com/aftercare/aftercare/internal/signature"
)

// Secrets of infra/local/env.json, which the stack loads like `make dev`.
const (
	shopifySecret   = "local-shopify-secret"
	easypostSecret  = "local-easypost-secret"
	aftershipSecret = "local-aftership-secret"
	shippoToken     = "local-shippo-token"
	DeliverySecret  = "local-delivery-secret"
)

// Hook is one signed webhook as a sender posts it.
type Hook struct {
	Path    string
	Headers map[string]string
	Body    []byte
	What    string // topic or carrier status, for the report
}

// Plan is every webhook of a soak in phases: each phase is sent (shuffled,
// with duplicates) and drained before the next, as days pass between an
// order, its shipping and its delivery. Within a phase anything goes.
type Plan struct {
	Phases [][]Hook
	Lives  int
	Dups   int
	Moved  int // sent out of order
}

func (p *Plan) Count() int {
	n := 0
	for _, ph := range p.Phases {
		n += len(ph)
	}
	return n
}

// Goldens are the golden webhooks the lives are cut from.
type Goldens map[string]map[string]any

func LoadGoldens(root string) (Goldens, error) {
	g := Goldens{}
	files, err := filepath.Glob(filepath.Join(root, "events/webhooks/*/*.json"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		g[filepath.Base(filepath.Dir(f))+"/"+strings.TrimSuffix(filepath.Base(f), ".json")] = m
	}
	return g, nil
}

// copyOf deep-copies a golden, so each life edits its own.
func (g Goldens) copyOf(name string) map[string]any {
	m, ok := g[name]
	if !ok {
		panic("no golden webhook " + name)
	}
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// carrier scans per outcome, from each carrier's Goldens.
var scans = map[string]map[string]string{
	"easypost": {"transit": "easypost/tracker-updated-in-transit", "delivered": "easypost/tracker-updated-delivered",
		"delay": "easypost/tracker-updated-weather-delay", "damaged": "easypost/tracker-updated-damaged",
		"returned": "easypost/tracker-updated-return-to-sender", "failed": "easypost/tracker-updated-delivery-exception"},
	"aftership": {"transit": "aftership/in-transit", "delivered": "aftership/delivered", "delay": "aftership/weather-delay",
		"damaged": "aftership/damaged", "returned": "aftership/returned-to-sender", "failed": "aftership/attempt-fail"},
	"shippo": {"transit": "shippo/transit", "delivered": "shippo/delivered", "delay": "shippo/delayed",
		"damaged": "shippo/lost", "returned": "shippo/returned", "failed": "shippo/delivery-attempted"},
}

var carriers = []string{"easypost", "aftership", "shippo"}

// NewPlan generates order lives from seed until n webhooks (duplicates
// included, about 10%) are planned; every date derives from now.
func NewPlan(g Goldens, seed uint64, n int, now time.Time) *Plan {
	return plan(g, seed, now, func(hooks, _ int) bool { return float64(hooks)*1.1 >= float64(n) },
		func(hooks int) int { return n - hooks })
}

// NewLives generates exactly n order lives from seed, with about 10% of
// their webhooks delivered twice; every date derives from now.
func NewLives(g Goldens, seed uint64, n int, now time.Time) *Plan {
	return plan(g, seed, now, func(_, lives int) bool { return lives >= n },
		func(hooks int) int { return hooks / 10 })
}

// plan adds lives until enough says stop, then copies(webhooks) duplicates.
func plan(g Goldens, seed uint64, now time.Time, enough func(hooks, lives int) bool, copies func(hooks int) int) *Plan {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	shops := []string{"soak-a.myshopify.com", "soak-b.myshopify.com", "soak-c.myshopify.com"}
	// Order, shipping, delivery, aftermath, then redaction: Shopify sends
	// customers/redact days after the request (months if the customer has
	// recent orders), so it lands after every other webhook of the life.
	phases := make([][]Hook, 5)
	type cust struct {
		shop, id string
	}
	var customers []cust
	base := func() int {
		c := 0
		for _, ph := range phases {
			c += len(ph)
		}
		return c
	}
	lives := 0
	for !enough(base(), lives) {
		lives++
		life := lives
		var c cust
		if len(customers) > 0 && rng.IntN(5) == 0 {
			c = customers[rng.IntN(len(customers))] // a returning buyer
		} else {
			c = cust{shops[rng.IntN(len(shops))], fmt.Sprint(7_000_000_000_000 + life)}
			customers = append(customers, c)
		}
		orderID := fmt.Sprint(5_000_000_000_000 + life)
		// Most orders are recent enough for their follow-ups to come due at
		// now (delivered 4 to 22 days ago); some are old enough for win-back.
		placed := now.Add(-time.Duration(8*24+rng.IntN(18*24)) * time.Hour)
		if rng.IntN(12) == 0 {
			placed = now.Add(-time.Duration(91*24+rng.IntN(6*24)) * time.Hour)
		}
		ev := func(step string) string { return fmt.Sprintf("soak-%d-%s", life, step) }
		orderBody := func(golden string, updated time.Time, f func(m map[string]any)) []byte {
			m := g.copyOf(golden)
			m["id"], m["name"], m["order_number"] = orderID, fmt.Sprintf("#%d", 10000+life), 10000+life
			m["created_at"], m["processed_at"], m["updated_at"] = stamp(placed), stamp(placed), stamp(updated)
			m["email"], m["contact_email"], m["phone"] = "buyer"+c.id+"@example.com", "buyer"+c.id+"@example.com", nil
			cu, _ := m["customer"].(map[string]any)
			if cu == nil {
				cu = map[string]any{}
				m["customer"] = cu
			}
			// Email, not SMS: an SMS in the shop's quiet hours waits for the morning.
			cu["id"], cu["email"], cu["phone"], cu["tags"] = c.id, "buyer"+c.id+"@example.com", nil, "vip"
			cu["updated_at"], cu["created_at"] = stamp(updated), stamp(placed.Add(-30*24*time.Hour))
			cu["email_marketing_consent"] = map[string]any{"state": "subscribed", "opt_in_level": "single_opt_in", "consent_updated_at": stamp(placed.Add(-30 * 24 * time.Hour))}
			delete(cu, "sms_marketing_consent")
			delete(cu, "default_address")
			delete(m, "shipping_address")
			delete(m, "billing_address")
			if f != nil {
				f(m)
			}
			return mustJSON(m)
		}
		phases[0] = append(phases[0],
			shopifyHook(c.shop, "orders/create", ev("create"), orderBody("shopify/orders__create", placed, nil)),
			shopifyHook(c.shop, "orders/paid", ev("paid"), orderBody("shopify/orders__paid", placed.Add(time.Hour), nil)))
		if rng.IntN(10) == 0 { // a consent change
			m := g.copyOf("shopify/customers_email_marketing_consent__update")
			m["customer_id"], m["email_address"] = c.id, "buyer"+c.id+"@example.com"
			state := "subscribed"
			if rng.IntN(2) == 0 {
				state = "unsubscribed"
			}
			m["email_marketing_consent"].(map[string]any)["state"] = state
			m["email_marketing_consent"].(map[string]any)["consent_updated_at"] = stamp(placed.Add(2 * time.Hour))
			phases[0] = append(phases[0], shopifyHook(c.shop, "customers_email_marketing_consent/update", ev("consent"), mustJSON(m)))
		}
		if rng.IntN(12) == 0 { // cancelled before shipping
			cancelled := placed.Add(3 * time.Hour)
			phases[1] = append(phases[1], shopifyHook(c.shop, "orders/cancelled", ev("cancel"), orderBody("shopify/orders__cancelled", cancelled.Add(time.Second), func(m map[string]any) {
				m["cancelled_at"], m["closed_at"] = stamp(cancelled), stamp(cancelled)
			})))
			continue
		}
		parcels := 1
		if rng.IntN(10) < 3 {
			parcels = 2 // a split shipment
		}
		for p := range parcels {
			carrier := carriers[rng.IntN(len(carriers))]
			tracking := fmt.Sprintf("SOAK%d%02dX%d", life, p, seed%1000)
			shipped := placed.Add(time.Duration(20+p*3) * time.Hour)
			f := g.copyOf("shopify/fulfillments__create")
			company := map[string]string{"easypost": "USPS", "aftership": "UPS", "shippo": "USPS"}[carrier]
			f["id"], f["order_id"], f["tracking_company"] = fmt.Sprint(4_000_000_000_000+life*10+p), orderID, company
			f["tracking_number"], f["tracking_numbers"] = tracking, []string{tracking}
			f["tracking_url"], f["tracking_urls"] = "https://track.example.com/"+tracking, []string{"https://track.example.com/" + tracking}
			f["created_at"], f["updated_at"] = stamp(shipped), stamp(shipped)
			phases[1] = append(phases[1],
				shopifyHook(c.shop, "fulfillments/create", ev(fmt.Sprintf("f%d", p)), mustJSON(f)),
				carrierScan(g, carrier, "transit", tracking, orderID, fmt.Sprintf("%d-%d-t", life, p), shipped.Add(6*time.Hour)))
			switch r := rng.IntN(100); {
			case r < 70:
				phases[2] = append(phases[2], carrierScan(g, carrier, "delivered", tracking, orderID, fmt.Sprintf("%d-%d-d", life, p), shipped.Add(72*time.Hour)))
			case r < 80: // delayed, then delivered: the notice, then the resolution
				phases[2] = append(phases[2], carrierScan(g, carrier, "delay", tracking, orderID, fmt.Sprintf("%d-%d-x", life, p), shipped.Add(48*time.Hour)))
				phases[3] = append(phases[3], carrierScan(g, carrier, "delivered", tracking, orderID, fmt.Sprintf("%d-%d-d", life, p), shipped.Add(96*time.Hour)))
			case r < 86:
				phases[2] = append(phases[2], carrierScan(g, carrier, "damaged", tracking, orderID, fmt.Sprintf("%d-%d-x", life, p), shipped.Add(48*time.Hour)))
			case r < 92:
				phases[2] = append(phases[2], carrierScan(g, carrier, "returned", tracking, orderID, fmt.Sprintf("%d-%d-x", life, p), shipped.Add(60*time.Hour)))
			default:
				phases[2] = append(phases[2], carrierScan(g, carrier, "failed", tracking, orderID, fmt.Sprintf("%d-%d-x", life, p), shipped.Add(60*time.Hour)))
			}
		}
		// Shopify tells the order it is fulfilled once every parcel is out.
		lastShipped := placed.Add(time.Duration(20+(parcels-1)*3) * time.Hour)
		phases[1] = append(phases[1], shopifyHook(c.shop, "orders/updated", ev("fulfilled"), orderBody("shopify/orders__paid", lastShipped.Add(time.Hour), func(m map[string]any) {
			m["fulfillment_status"] = "fulfilled"
			delete(m, "fulfillments")
		})))
		if rng.IntN(50) == 0 { // the buyer asks to be forgotten, after everything else
			m := g.copyOf("shopify/customers__redact")
			m["shop_domain"] = c.shop
			m["customer"] = map[string]any{"id": c.id, "email": "buyer" + c.id + "@example.com"}
			m["orders_to_redact"] = []any{orderID}
			phases[4] = append(phases[4], shopifyHook(c.shop, "customers/redact", ev("redact"), mustJSON(m)))
		}
	}
	p := &Plan{Lives: lives}
	// Duplicates: Shopify and carriers redeliver; each copy lands later in
	// its phase. Then a fifth of each phase moves to a random later place.
	dups := copies(base())
	for range dups {
		ph := rng.IntN(len(phases))
		for len(phases[ph]) == 0 {
			ph = rng.IntN(len(phases))
		}
		i := rng.IntN(len(phases[ph]))
		j := i + 1 + rng.IntN(len(phases[ph])-i)
		phases[ph] = append(phases[ph][:j], append([]Hook{phases[ph][i]}, phases[ph][j:]...)...)
	}
	p.Dups = dups
	for ph := range phases {
		h := phases[ph]
		for range len(h) / 5 {
			i := rng.IntN(len(h))
			j := rng.IntN(len(h))
			if i > j {
				i, j = j, i
			}
			if i == j {
				continue
			}
			moved := h[i]
			copy(h[i:j], h[i+1:j+1])
			h[j] = moved
			p.Moved++
		}
	}
	p.Phases = phases
	return p
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// stampRE matches a date, or a date and time with or without a zone
// (AfterShip's checkpoint_time has none), inside a JSON string.
var stampRE = regexp.MustCompile(`"(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?)?"`)

// carrierScan is a carrier's golden scan moved to tracking, order and time:
// its latest timestamp lands on at, every other one keeps its distance.
func carrierScan(g Goldens, carrier, outcome, tracking, orderID, uniq string, at time.Time) Hook {
	name := scans[carrier][outcome]
	m := g.copyOf(name)
	var old string
	switch carrier {
	case "easypost":
		m["id"] = "evt_soak_" + uniq
		old, _ = m["result"].(map[string]any)["tracking_code"].(string)
	case "aftership":
		m["event_id"] = "soak-" + uniq
		msg := m["msg"].(map[string]any)
		old, _ = msg["tracking_number"].(string)
		msg["order_id"] = orderID
	case "shippo":
		old, _ = m["data"].(map[string]any)["tracking_number"].(string)
		renameObjectIDs(m, uniq)
	}
	body := mustJSON(m)
	if old != "" {
		body = bytes.ReplaceAll(body, []byte(old), []byte(tracking))
	}
	body = shiftTo(body, at, EventTime(carrier, body))
	return carrierHook(carrier, body, carrier+" "+outcome)
}

// EventTime is when the carrier's own parser says a scan happened.
func EventTime(carrier string, body []byte) time.Time {
	var (
		ev  aftercare.Event
		err error
	)
	switch carrier {
	case "easypost":
		ev, err = easypost.Source{}.Parse(body, nil, time.Time{})
	case "aftership":
		ev, err = aftership.Source{}.Parse(body, nil, time.Time{})
	default:
		ev, err = shippo.Source{}.Parse(body, nil, time.Time{})
	}
	if err != nil {
		panic(fmt.Sprintf("golden %s scan does not parse: %v", carrier, err))
	}
	return ev.At
}

// renameObjectIDs makes every Shippo object id unique to this scan (the
// event's dedupe id is its tracking status's object id).
func renameObjectIDs(v any, uniq string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "object_id" {
				x[k] = s + "-" + uniq
				continue
			}
			renameObjectIDs(e, uniq)
		}
	case []any:
		for _, e := range x {
			renameObjectIDs(e, uniq)
		}
	}
}

// shiftTo moves every timestamp of a body by the same amount, so that the
// one at from lands on at.
func shiftTo(body []byte, at, from time.Time) []byte {
	d := at.Sub(from)
	return stampRE.ReplaceAllFunc(body, func(m []byte) []byte {
		s := strings.Trim(string(m), `"`)
		if !strings.Contains(s, "T") {
			day, err := time.Parse(time.DateOnly, s)
			if err != nil {
				return m
			}
			return []byte(`"` + day.Add(d).Format(time.DateOnly) + `"`)
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return []byte(`"` + t.Add(d).In(t.Location()).Format(time.RFC3339Nano) + `"`)
		}
		t, err := time.Parse("2006-01-02T15:04:05", s)
		if err != nil {
			return m
		}
		return []byte(`"` + t.Add(d).Format("2006-01-02T15:04:05") + `"`)
	})
}

func shopifyHook(shop, topic, eventID string, body []byte) Hook {
	return Hook{Path: "/webhooks/shopify", Body: body, What: topic, Headers: map[string]string{
		"Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop,
		"X-Shopify-Event-Id": eventID, "X-Shopify-Hmac-Sha256": signature.Base64([]byte(shopifySecret), body),
	}}
}

func carrierHook(carrier string, body []byte, what string) Hook {
	h := Hook{Path: "/webhooks/carriers/" + carrier, Body: body, What: what, Headers: map[string]string{"Content-Type": "application/json"}}
	switch carrier {
	case "easypost":
		h.Headers["X-Hmac-Signature"] = "hmac-sha256-hex=" + signature.Hex([]byte(easypostSecret), body)
	case "aftership":
		h.Headers["aftership-hmac-sha256"] = signature.Base64([]byte(aftershipSecret), body)
	case "shippo":
		h.Path += "?token=" + shippoToken
	}
	return h
}
