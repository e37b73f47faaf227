package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/lifecycle"
	"github.com/aftercare/aftercare/internal/signature"
	"github.com/aftercare/aftercare/internal/sources"
)

// parser is each source's own Parse, to know which goldens are ignored topics.
func parser(t *testing.T, source string) func([]byte, http.Header) (aftercare.Event, error) {
	now := time.Now()
	src, ok := sources.ByName(source)
	if !ok {
		t.Fatalf("no source %s in the registry", source)
	}
	p := src.New("")
	return func(b []byte, h http.Header) (aftercare.Event, error) { return p.Parse(b, h, now) }
}

// goldenShop is the shop the golden privacy webhooks name in their body.
const goldenShop = "aftercare-demo.myshopify.com"

// asShop makes a golden body name shop instead of the golden shop, as that
// shop's own webhook would (privacy bodies must name the header's shop).
func asShop(body []byte, shop string) []byte {
	return bytes.ReplaceAll(body, []byte(`"`+goldenShop+`"`), []byte(`"`+shop+`"`))
}

// Issue 3: every golden webhook, correctly signed, is accepted (or, for topics
// aftercare does not use, acknowledged as ignored), lands on the inbox as a
// normalized event and is consumed by EventProcessorFunction, which records
// its dedupe item under the event id the webhook answer named.
func TestGoldenWebhooksReachTheProcessor(t *testing.T) {
	stack(t)
	shop := uniq("golden") + ".myshopify.com"
	type sent struct{ file, id string }
	var accepted []sent
	ignored := 0
	for _, src := range sources.All {
		source := src.Name
		files, _ := filepath.Glob(filepath.Join(root, src.Goldens(), "*.json"))
		if len(files) < 10 {
			t.Fatalf("%s: only %d golden webhooks", source, len(files))
		}
		for i, f := range files {
			body := readFile(t, strings.TrimPrefix(f, root+"/"))
			var h hook
			if source == aftercare.SourceShopify {
				topic := strings.ReplaceAll(strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".json"), "_30_items"), "__", "/")
				// Privacy bodies name their shop, which must be the header's.
				body = asShop(body, shop)
				h = shopifyHook(shop, topic, fmt.Sprintf("golden-%d", i), body)
			} else {
				h = carrierHook(t, source, body)
			}
			hdr := http.Header{}
			for k, v := range h.headers {
				hdr.Set(k, v)
			}
			want, err := parser(t, source)(body, hdr)
			if err != nil {
				t.Fatalf("%s does not parse: %v", f, err)
			}
			a := send(t, h)
			status, _ := a.Body["status"].(string)
			id, _ := a.Body["id"].(string)
			switch {
			case a.Status != http.StatusOK:
				t.Errorf("%s: %d %s", filepath.Base(f), a.Status, a.Raw)
			case want.Kind == "" && status != "ignored":
				t.Errorf("%s: %s, want ignored", filepath.Base(f), a.Raw)
			case want.Kind == "":
				ignored++
			case status != "accepted" || id != want.ID:
				t.Errorf("%s: %s, want accepted as %s", filepath.Base(f), a.Raw, want.ID)
			default:
				accepted = append(accepted, sent{filepath.Base(f), id})
			}
		}
	}
	if len(accepted) < 40 {
		t.Fatalf("only %d goldens accepted", len(accepted))
	}
	for _, a := range accepted {
		// An event that changes nothing writes nothing, not even its dedupe
		// record: the processor's log line says it was processed.
		eventually(t, 60*time.Second, "the processor to record "+a.file, func() bool { return processed(t, a.id, "applied") || processed(t, a.id, "unchanged") })
	}
	t.Logf("%d goldens accepted and processed, %d ignored", len(accepted), ignored)
}

// Issue 3: each bad input gets its answer, a JSON error, and nothing of it
// reaches the queue or the table.
func TestBadInputsLeaveNothingBehind(t *testing.T) {
	stack(t)
	shop := uniq("bad") + ".myshopify.com"
	order := readFile(t, "events/webhooks/shopify/orders__create.json")
	good := func(topic, id string, body []byte) hook { return shopifyHook(shop, topic, id, body) }
	with := func(h hook, k, v string) hook {
		c := hook{path: h.path, body: h.body, headers: map[string]string{}}
		for a, b := range h.headers {
			c.headers[a] = b
		}
		if v == "" {
			delete(c.headers, k)
		} else {
			c.headers[k] = v
		}
		return c
	}
	signed := func(body []byte) hook { return good("orders/create", "bad-1", body) }
	big := append([]byte(`{"id":1,"note":"`), bytes.Repeat([]byte("x"), 5<<20+1024)...)
	big = append(big, `"}`...)
	other := good("orders/create", "bad-2", order)
	other.body = append([]byte(nil), order...)
	other.body[10] ^= 1
	cases := []struct {
		name   string
		h      hook
		status int
	}{
		{"missing signature", with(good("orders/create", "bad-3", order), "X-Shopify-Hmac-Sha256", ""), 401},
		{"wrong secret", with(good("orders/create", "bad-4", order), "X-Shopify-Hmac-Sha256", signature.Base64([]byte("guess"), order)), 401},
		{"truncated signature", with(good("orders/create", "bad-5", order), "X-Shopify-Hmac-Sha256", signature.Base64([]byte(shopifySecret), order)[:20]), 401},
		{"signature over another body", other, 401},
		{"empty body", signed(nil), 400},
		{"not JSON", signed([]byte("<order><id>1</id></order>")), 400},
		{"JSON of the wrong shape", signed([]byte(`{"id":1,"line_items":"lots"}`)), 400},
		{"wrong content type", with(signed(order), "Content-Type", "text/xml"), 400},
		{"over the size cap", signed(big), 413},
		{"unknown carrier", carrierHook(t, "pigeon", []byte(`{}`)), 404},
	}
	// Every carrier of the registry: unsigned, and signed with another secret.
	for _, src := range sources.All {
		if !src.Carrier() {
			continue
		}
		body := readFile(t, src.Goldens()+"/"+src.Sample)
		unsigned := hook{path: src.Path, body: body, headers: map[string]string{"Content-Type": "application/json"}}
		wrong := unsigned
		hdr, q := src.Sign("not-the-secret", body)
		wrong.headers = map[string]string{"Content-Type": "application/json"}
		for k := range hdr {
			wrong.headers[k] = hdr.Get(k)
		}
		if len(q) > 0 {
			wrong.path += "?" + q.Encode()
		}
		cases = append(cases, struct {
			name   string
			h      hook
			status int
		}{src.Name + " unsigned", unsigned, 401}, struct {
			name   string
			h      hook
			status int
		}{src.Name + " signed with another secret", wrong, 401})
	}
	for _, c := range cases {
		a := send(t, c.h)
		if a.Status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, a.Status, a.Raw, c.status)
			continue
		}
		if e, _ := a.Body["error"].(map[string]any); e == nil || e["message"] == "" {
			t.Errorf("%s: no JSON error in %s", c.name, a.Raw)
		}
	}
	// API Gateway hands a body that is not UTF-8 over base64-encoded; the
	// signature still covers the raw bytes, so it verifies and is queued.
	latin1 := edit(t, order, func(m map[string]any) { m["id"] = 424242 })
	latin1 = bytes.Replace(latin1, []byte(`"note":null`), []byte("\"note\":\"caf\xe9\""), 1)
	if a := send(t, good("orders/create", "good-latin1", latin1)); a.Status != 200 || a.Body["status"] != "accepted" {
		t.Fatalf("base64 body: %d %s", a.Status, a.Raw)
	}
	wantID := "shopify:" + shop + ":orders/create:good-latin1"
	eventually(t, 60*time.Second, "the good event to be processed", func() bool { return processed(t, wantID, "applied") })
	settle(t)
	if got := eventsOfShop(t, "shopify", shop); len(got) != 1 || got[0] != wantID {
		t.Fatalf("events recorded for the shop: %v, want only the good one", got)
	}
}

// scenario is one order with a split shipment told by Shopify and a carrier:
// shipped holds the webhooks up to both parcels moving, delivered the two
// deliveries.
type scenario struct {
	shop, order, customer string
	parcels               [2]string // USPS via EasyPost, UPS via Shopify fulfillment events
	shipped, delivered    []hook
}

func newScenario(t *testing.T, prefix string) *scenario {
	sc := &scenario{shop: uniq(prefix) + ".myshopify.com"}
	n := rand.Int64N(1e12)
	sc.order, sc.customer = fmt.Sprint(5e12+n), fmt.Sprint(7e12+n)
	sc.parcels = [2]string{fmt.Sprintf("9400%018d", n), fmt.Sprintf("1Z999AA1%010d", n%1e10)}
	setOrder := func(m map[string]any) {
		m["id"] = sc.order
		c := m["customer"].(map[string]any)
		// Email, not SMS: an SMS in the shop's quiet hours would wait for the morning.
		c["id"], c["tags"] = sc.customer, "vip"
	}
	// The order was placed ten days before now; every golden moves with it.
	order := readFile(t, "events/webhooks/shopify/orders__create.json")
	var golden map[string]any
	if err := json.Unmarshal(order, &golden); err != nil {
		t.Fatal(err)
	}
	placedAt := now.Add(-10 * 24 * time.Hour)
	d := placedAt.Sub(goldenTime(t, golden["created_at"]))
	order = shift(t, order, d)
	paid := shift(t, readFile(t, "events/webhooks/shopify/orders__paid.json"), d)
	ful := shift(t, readFile(t, "events/webhooks/shopify/fulfillments__create.json"), d)
	fev := shift(t, readFile(t, "events/webhooks/shopify/fulfillment_events__create.json"), d)
	// The EasyPost goldens scan in another year; their in-transit scan moves
	// to a day after the order.
	transit := readFile(t, "events/webhooks/easypost/tracker-updated-in-transit.json")
	var tr struct {
		Result struct {
			TrackingDetails []struct {
				Datetime time.Time `json:"datetime"`
			} `json:"tracking_details"`
		} `json:"result"`
	}
	if err := json.Unmarshal(transit, &tr); err != nil || len(tr.Result.TrackingDetails) == 0 {
		t.Fatalf("easypost golden: %v", err)
	}
	de := placedAt.Add(24 * time.Hour).Sub(tr.Result.TrackingDetails[0].Datetime)
	transit = shift(t, transit, de)
	deliv := shift(t, readFile(t, "events/webhooks/easypost/tracker-updated-delivered.json"), de)
	f1, f2 := fmt.Sprint(4e12+n), fmt.Sprint(4e12+n+1)
	fulfill := func(id, tracking, company string) []byte {
		return edit(t, ful, func(m map[string]any) {
			m["id"], m["order_id"], m["tracking_company"] = id, sc.order, company
			m["tracking_number"], m["tracking_numbers"] = tracking, []string{tracking}
		})
	}
	event := func(id, status, at string) []byte {
		return edit(t, fev, func(m map[string]any) {
			m["id"], m["fulfillment_id"], m["order_id"], m["status"], m["happened_at"], m["message"] = id, f2, sc.order, status, at, status
		})
	}
	tracker := func(b []byte, id string) []byte {
		return edit(t, b, func(m map[string]any) {
			m["id"] = id
			m["result"].(map[string]any)["tracking_code"] = sc.parcels[0]
		})
	}
	sc.shipped = []hook{
		shopifyHook(sc.shop, "orders/create", "e-create", edit(t, order, setOrder)),
		shopifyHook(sc.shop, "orders/paid", "e-paid", edit(t, paid, setOrder)),
		shopifyHook(sc.shop, "fulfillments/create", "e-f1", fulfill(f1, sc.parcels[0], "USPS")),
		shopifyHook(sc.shop, "fulfillments/create", "e-f2", fulfill(f2, sc.parcels[1], "UPS")),
		carrierHook(t, "easypost", tracker(transit, "evt_transit_"+sc.order)),
		shopifyHook(sc.shop, "fulfillment_events/create", "e-ev1", event(fmt.Sprint(2e12+n), "in_transit", placedAt.Add(3*24*time.Hour).Format(time.RFC3339))),
	}
	sc.delivered = []hook{
		carrierHook(t, "easypost", tracker(deliv, "evt_delivered_"+sc.order)),
		shopifyHook(sc.shop, "fulfillment_events/create", "e-ev2", event(fmt.Sprint(2e12+n+1), "delivered", placedAt.Add(6*24*time.Hour).Format(time.RFC3339))),
	}
	return sc
}

// sendShuffled sends every hook times times, all in one random order.
func sendShuffled(t *testing.T, hooks []hook, times int) {
	t.Helper()
	var all []hook
	for i := 0; i < times; i++ {
		all = append(all, hooks...)
	}
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for _, h := range all {
		if a := send(t, h); a.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", h.path, a.Status, a.Raw)
		}
	}
}

// Issue 5: the same webhooks replayed ten times, in random order, give
// exactly one message per cause: the split shipment gets one order_shipped
// per parcel, then one delivered_setup per parcel; every delivery is signed.
// (A parcel whose first news is its delivery gets no "shipped" notice after
// the fact, by design, so the deliveries follow the shipping in this test.)
// An order at the body cap (SPEC 3: at least 5 MiB accepted), as a store
// with thousands of line items sends it, goes through the real function
// processes: accepted, applied, and within the memory the template gives
// them (TestMain's headroom check reads their REPORT records).
func TestOrderAtTheSizeCapIsAccepted(t *testing.T) {
	stack(t)
	shop := uniq("cap") + ".myshopify.com"
	order := readFile(t, "events/webhooks/shopify/orders__create.json")
	var body []byte
	for n := 1; ; n *= 2 {
		next := edit(t, order, func(m map[string]any) {
			items := m["line_items"].([]any)
			item := items[0].(map[string]any)
			var many []any
			for i := range n {
				c := map[string]any{}
				for k, v := range item {
					c[k] = v
				}
				c["id"] = 9000000 + i
				many = append(many, c)
			}
			m["line_items"] = many
		})
		if len(next) > 5<<20-64<<10 {
			break
		}
		body = next
	}
	// Pad the last doubling's shortfall with a note, up to just under the cap.
	body = edit(t, body, func(m map[string]any) { m["note"] = strings.Repeat("n", 5<<20-16<<10-len(body)) })
	if len(body) <= 5<<20-32<<10 || len(body) > 5<<20 {
		t.Fatalf("body of %d bytes, want just under 5 MiB", len(body))
	}
	a := send(t, shopifyHook(shop, "orders/create", "cap-1", body))
	if a.Status != 200 || a.Body["status"] != "accepted" {
		t.Fatalf("order of %d bytes: %d %s, want 200 accepted", len(body), a.Status, a.Raw)
	}
	id := "shopify:" + shop + ":orders/create:cap-1"
	eventually(t, 60*time.Second, "the order at the cap to be applied", func() bool { return processed(t, id, "applied") })
}

func TestReplayedOutOfOrderOneMessagePerCause(t *testing.T) {
	st := stack(t)
	sc := newScenario(t, "ok-flow")
	sendShuffled(t, sc.shipped, 10)
	settle(t)
	if k := kinds(sc.deliveries()); k["order_shipped"] != 2 || len(k) != 1 {
		t.Fatalf("after shipping: %v, want order_shipped twice (one per parcel) and nothing else", k)
	}
	sendShuffled(t, append(sc.delivered, sc.shipped...), 10)
	settle(t)
	got := sc.deliveries()
	seen := map[string]bool{}
	for _, d := range got {
		if seen[d.ID] {
			t.Errorf("message %s (%s) delivered twice", d.ID, d.Kind)
		}
		seen[d.ID] = true
		if d.Order != sc.order {
			t.Errorf("%s about order %q, want %s", d.Kind, d.Order, sc.order)
		}
	}
	if k := kinds(got); k["order_shipped"] != 2 || k["delivered_setup"] != 2 || len(k) != 2 {
		t.Errorf("delivered %v, want order_shipped and delivered_setup once per parcel", k)
	}
	// The report counts the same lives once: the counters each write
	// carried, folded from the table's stream by ReportFunction's process.
	rep := reportOf(t, st.HTTPURL, sc.shop, now.AddDate(0, 0, -12), now.AddDate(0, 0, 1))
	sent := func(kind string) int64 {
		if m := rep.Messages[kind]; m != nil {
			return m.Sent
		}
		return 0
	}
	if rep.Orders.Count != 1 || rep.Customers.New != 1 || rep.Deliveries.Count != 2 || sent("order_shipped") != 2 || sent("delivered_setup") != 2 {
		t.Errorf("report after every webhook ten times: orders %d, new customers %d, deliveries %d, order_shipped sent %d, delivered_setup sent %d; want 1, 1, 2, 2, 2",
			rep.Orders.Count, rep.Customers.New, rep.Deliveries.Count, sent("order_shipped"), sent("delivered_setup"))
	}
	snk.mu.Lock()
	defer snk.mu.Unlock()
	if snk.badSigs != 0 {
		t.Errorf("%d deliveries with a bad signature", snk.badSigs)
	}
}

func (sc *scenario) deliveries() []delivered { return snk.forShop(sc.shop) }

// dataRequest sends a customers/data_request, which queues exactly one
// message (the export for the merchant's team).
func dataRequest(t *testing.T, shop string) {
	t.Helper()
	body := asShop(readFile(t, "events/webhooks/shopify/customers__data_request.json"), shop)
	if a := send(t, shopifyHook(shop, "customers/data_request", "dr-1", body)); a.Status != http.StatusOK {
		t.Fatalf("data request: %d %s", a.Status, a.Raw)
	}
}

// Issue 5: a sink answering 500, 500, then 200 gets the message exactly once.
func TestFlakySinkDeliversOnce(t *testing.T) {
	stack(t)
	shop := uniq("flaky") + ".myshopify.com"
	dataRequest(t, shop)
	eventually(t, 90*time.Second, "the third attempt to succeed", func() bool { return len(snk.forShop(shop)) > 0 })
	settle(t)
	got := snk.forShop(shop)
	if len(got) != 1 || got[0].Kind != "data_request" || snk.attemptsFor(got[0].ID) != 3 {
		t.Fatalf("deliveries %+v, attempts %d; want one data_request after 3 attempts", got, snk.attemptsFor(got[0].ID))
	}
}

// Issue 5: a sink that always fails leaves the message in the dead-letter
// queue after the template's retries: not lost, not delivered.
func TestFailingSinkDeadLetters(t *testing.T) {
	s := stack(t)
	shop := uniq("down") + ".myshopify.com"
	dataRequest(t, shop)
	var body string
	eventually(t, 120*time.Second, "the message to reach the outbound DLQ", func() bool {
		out, err := sqsc.ReceiveMessage(context.Background(), &awssqs.ReceiveMessageInput{
			QueueUrl: aws.String(s.Queues["OutboundDeadLetterQueue"]), MaxNumberOfMessages: 10, VisibilityTimeout: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			if strings.Contains(aws.ToString(m.Body), shop) {
				body = aws.ToString(m.Body)
				return true
			}
		}
		return false
	})
	var msg aftercare.Message
	if err := json.Unmarshal([]byte(body), &msg); err != nil || msg.Kind != aftercare.KindDataRequest {
		t.Fatalf("dead letter %q: %v", body, err)
	}
	if n := snk.attemptsFor(msg.ID); n != 14 {
		t.Errorf("%d delivery attempts before the DLQ, want the template's maxReceiveCount 14", n)
	}
	if len(snk.forShop(shop)) != 0 {
		t.Errorf("a failing sink counted as delivered")
	}
}

// Issue 2: the Invoke API runs LifecycleChecksFunction as `aws lambda invoke
// --endpoint-url` would, and the checks honour scheduled_time.
func TestInvokeLifecycleChecks(t *testing.T) {
	s := stack(t)
	in := fmt.Sprintf(`{"check": "all", "scheduled_time": %q}`, now.Format(time.RFC3339))
	resp, err := http.Post(s.InvokeURL+"/2015-03-31/functions/LifecycleChecksFunction/invocations", "application/json", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var res struct {
		Check         string         `json:"check"`
		ScheduledTime time.Time      `json:"scheduled_time"`
		Complete      bool           `json:"complete"`
		Checks        map[string]any `json:"checks"`
	}
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" || json.Unmarshal(raw, &res) != nil {
		t.Fatalf("invoke: %d %s %s", resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), raw)
	}
	if res.Check != "all" || !res.ScheduledTime.Equal(now) || !res.Complete || len(res.Checks) != len(lifecycle.Names) {
		t.Fatalf("result %s", raw)
	}
}

// invoke calls a function through the local Invoke API.
func invoke(t *testing.T, fn, payload string) []byte {
	t.Helper()
	resp, err := http.Post(stack(t).InvokeURL+"/2015-03-31/functions/"+fn+"/invocations", "application/json", strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("invoke %s: %d %s %s", fn, resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), raw)
	}
	return raw
}

// Issues 5 and 6 through the stack: two customers' orders are delivered, one
// is then cancelled. The follow-up check run 14 days after delivery sends
// care_tips for the kept order only; review_request (due 7 days after
// delivery) is by then more than 7 days late and is dropped as stale.
func TestFollowUpsSkipCancelledOrders(t *testing.T) {
	stack(t)
	shop := uniq("ok-life") + ".myshopify.com"
	// Both orders were delivered 15 days before now: care_tips (14 days
	// after delivery) is a day late, review_request (7 days) eight days late.
	fulfilled := readFile(t, "events/webhooks/shopify/orders__fulfilled.json")
	var golden struct {
		Fulfillments []struct {
			CreatedAt time.Time `json:"created_at"`
		} `json:"fulfillments"`
	}
	if err := json.Unmarshal(fulfilled, &golden); err != nil || len(golden.Fulfillments) == 0 {
		t.Fatalf("orders/fulfilled golden: %v", err)
	}
	// The order is delivered when its last parcel is.
	deliveredAt := now.Add(-15 * 24 * time.Hour)
	fulfilled = shift(t, fulfilled, deliveredAt.Sub(golden.Fulfillments[len(golden.Fulfillments)-1].CreatedAt))
	checkAt := fmt.Sprintf(`{"check": "followups", "scheduled_time": %q}`, now.Format(time.RFC3339))
	n := rand.Int64N(1e12)
	order := func(i int64, cancelled bool) []byte {
		return edit(t, fulfilled, func(m map[string]any) {
			m["id"] = fmt.Sprint(5e12 + n + i)
			c := m["customer"].(map[string]any)
			c["id"], c["tags"], c["email"] = fmt.Sprint(7e12+n+i), "vip", fmt.Sprintf("buyer%d@example.com", i)
			m["email"] = c["email"]
			for j, f := range m["fulfillments"].([]any) {
				f := f.(map[string]any)
				num := fmt.Sprintf("9400%016d%02d", n+i, j)
				f["id"], f["order_id"], f["tracking_number"], f["tracking_numbers"], f["shipment_status"] = fmt.Sprint(4e12+n+i*10+int64(j)), m["id"], num, []string{num}, "delivered"
			}
			if cancelled {
				cancelledAt := deliveredAt.Add(22*time.Hour + 30*time.Minute)
				m["cancelled_at"], m["cancel_reason"], m["updated_at"] = cancelledAt.Format(time.RFC3339), "customer", cancelledAt.Add(time.Second).Format(time.RFC3339)
			}
		})
	}
	for _, h := range []hook{
		shopifyHook(shop, "orders/fulfilled", "kept", order(1, false)),
		shopifyHook(shop, "orders/fulfilled", "doomed", order(2, false)),
		shopifyHook(shop, "orders/cancelled", "doomed-cancel", order(2, true)),
	} {
		if a := send(t, h); a.Status != http.StatusOK {
			t.Fatalf("%d %s", a.Status, a.Raw)
		}
	}
	settle(t)
	before := kinds(snk.forShop(shop))
	raw := invoke(t, "LifecycleChecksFunction", checkAt)
	settle(t)
	var care []delivered
	for _, d := range snk.forShop(shop) {
		if d.Kind == "care_tips" {
			care = append(care, d)
		}
	}
	if len(care) != 1 || care[0].Order != fmt.Sprint(5e12+n+1) {
		t.Fatalf("care_tips deliveries %+v, want one for the kept order (check result %s)", care, raw)
	}
	if k := kinds(snk.forShop(shop)); k["review_request"] != 0 {
		t.Errorf("a stale review_request was sent: %v", k)
	}
	// Running the same check again sends nothing more.
	invoke(t, "LifecycleChecksFunction", checkAt)
	settle(t)
	if k := kinds(snk.forShop(shop)); k["care_tips"] != 1 {
		t.Errorf("after a second run: %v", k)
	}
	t.Logf("before the check %v; check result %s", before, raw)
}

// Issue 10 item 1 (SPEC 16): the HMAC covers the body but not
// X-Shopify-Shop-Domain. A signed privacy body of one shop replayed under
// another shop's header is refused with a JSON 400 and changes nothing; the
// same request bound to its own shop does act, so the refusal is the binding.
func TestPrivacyReplayUnderAnotherShopChangesNothing(t *testing.T) {
	stack(t)
	victim := uniq("victim") + ".myshopify.com"
	order := readFile(t, "events/webhooks/shopify/orders__create.json")
	if a := send(t, shopifyHook(victim, "orders/create", "victim-order", order)); a.Status != http.StatusOK {
		t.Fatalf("the victim's order: %d %s", a.Status, a.Raw)
	}
	orderEvent := "shopify:" + victim + ":orders/create:victim-order"
	eventually(t, 60*time.Second, "the victim's order to be processed", func() bool { return processed(t, orderEvent, "applied") })
	before := shopItems(t, victim)
	if before == 0 {
		t.Fatal("the victim shop has no items to protect")
	}
	for _, topic := range []string{"shop/redact", "customers/redact", "customers/data_request"} {
		// Signed exactly as Shopify signed it for the golden shop.
		body := readFile(t, "events/webhooks/shopify/"+strings.ReplaceAll(topic, "/", "__")+".json")
		a := send(t, shopifyHook(victim, topic, "replay-"+topic, body))
		if a.Status != http.StatusBadRequest {
			t.Errorf("%s replayed under the victim's header: %d %s, want 400", topic, a.Status, a.Raw)
		}
		if e, _ := a.Body["error"].(map[string]any); e == nil || !strings.Contains(fmt.Sprint(e["message"]), "shop_domain") {
			t.Errorf("%s: no JSON error naming shop_domain: %s", topic, a.Raw)
		}
	}
	settle(t)
	if got := eventsOfShop(t, "shopify", victim); len(got) != 1 || got[0] != orderEvent {
		t.Errorf("events recorded for the victim: %v, want only its order", got)
	}
	if after := shopItems(t, victim); after != before {
		t.Errorf("the victim shop had %d items, now %d", before, after)
	}

	// The shop's own shop/redact, bound to its header, is applied.
	own := asShop(readFile(t, "events/webhooks/shopify/shop__redact.json"), victim)
	if a := send(t, shopifyHook(victim, "shop/redact", "own-redact", own)); a.Status != http.StatusOK {
		t.Fatalf("the shop's own shop/redact: %d %s", a.Status, a.Raw)
	}
	eventually(t, 60*time.Second, "the shop's own redaction to remove its items", func() bool { return shopItems(t, victim) < before })
}

// shopItems counts the items under the shop's partition (README, data model).
func shopItems(t *testing.T, shop string) int {
	t.Helper()
	out, err := ddb.Query(context.Background(), &dynamodb.QueryInput{
		TableName:              aws.String(stack(t).Table),
		KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":p": &ddbtypes.AttributeValueMemberS{Value: "SHOP#" + shop},
		},
		Select: ddbtypes.SelectCount,
	})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	return int(out.Count)
}
