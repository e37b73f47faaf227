package shopifyadmin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/shopify"
	"github.com/aftercare/aftercare/internal/shopifyadmin/admintest"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var now = time.Date(2015, 6, 15, 8, 0, 0, 0, time.UTC)

const shop = "demo.myshopify.com"

// fakeShopify answers the GraphQL Admin API the way Shopify's documentation
// shows it: data, errors with extensions.code, extensions.cost with
// throttleStatus, connections with pageInfo cursors.
type fakeShopify struct {
	t        *testing.T
	mu       sync.Mutex
	calls    []string // operation names in order
	answer   func(op string, vars map[string]any) (status int, body string)
	srv      *httptest.Server
	slept    []time.Duration
	tokenSaw string
}

func newFake(t *testing.T, answer func(op string, vars map[string]any) (int, string)) (*fakeShopify, *Client) {
	f := &fakeShopify{t: t, answer: answer}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bulk/result.jsonl" {
			io.WriteString(w, bulkResult)
			return
		}
		if r.URL.Path != "/admin/api/"+APIVersion+"/graphql.json" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Query     string         `json:"query"`
			Variables map[string]any `json:"variables"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("request is not JSON: %v", err)
		}
		op := strings.Fields(strings.NewReplacer("(", " ", "{", " ").Replace(req.Query))[1]
		f.mu.Lock()
		f.calls = append(f.calls, op)
		f.tokenSaw = r.Header.Get("X-Shopify-Access-Token")
		f.mu.Unlock()
		status, body := answer(op, req.Variables)
		w.Header().Set("Content-Type", "application/json")
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "2.0")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(f.srv.Close)
	c := &Client{Shop: shop, Token: "shpat_test", BaseURL: f.srv.URL, HTTP: f.srv.Client(),
		Sleep: func(_ context.Context, d time.Duration) error {
			f.mu.Lock()
			f.slept = append(f.slept, d)
			f.mu.Unlock()
			return nil
		}}
	return f, c
}

// cost is the extensions member Shopify sends (admintest's, shared with the
// checks' tests).
func cost(requested, available, restore float64) string {
	return admintest.Cost(requested, available, restore)
}

func TestThrottledIsWaitedOutByTheRestoreRate(t *testing.T) {
	n := 0
	f, c := newFake(t, func(string, map[string]any) (int, string) {
		n++
		if n == 1 {
			// Shopify's THROTTLED answer: 200 with errors and the bucket's state.
			return 200, `{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED","documentation":"https://shopify.dev/api/usage/rate-limits"}}],` + cost(752, 2, 100) + `}`
		}
		return 200, `{"data":{"shop":{"name":"Demo"}},` + cost(752, 1248, 100) + `}`
	})
	var out struct {
		Shop struct{ Name string } `json:"shop"`
	}
	if _, err := c.Do(context.Background(), "query Shop { shop { name } }", nil, &out); err != nil {
		t.Fatal(err)
	}
	if out.Shop.Name != "Demo" || len(f.calls) != 2 || f.tokenSaw != "shpat_test" {
		t.Fatalf("name %q after %d calls (token %q)", out.Shop.Name, len(f.calls), f.tokenSaw)
	}
	// (752 - 2) / 100 points a second = 7.5 s, then no wait: 1248 is enough.
	if len(f.slept) != 1 || f.slept[0] != 7500*time.Millisecond {
		t.Fatalf("waited %v, want one wait of 7.5s", f.slept)
	}
}

func TestPacesItselfBeforeTheBucketRunsDry(t *testing.T) {
	f, c := newFake(t, func(string, map[string]any) (int, string) {
		return 200, `{"data":{},` + cost(300, 100, 50) + `}`
	})
	if _, err := c.Do(context.Background(), "query Q { shop { id } }", nil, nil); err != nil {
		t.Fatal(err)
	}
	// 100 left, the query costs 300: wait (300-100)/50 = 4 s before the next.
	if len(f.slept) != 1 || f.slept[0] != 4*time.Second || len(f.calls) != 1 {
		t.Fatalf("waited %v after %d calls", f.slept, len(f.calls))
	}
}

func TestErrorsAreClear(t *testing.T) {
	for name, tc := range map[string]struct {
		status int
		body   string
		calls  int
		want   string
		code   string
	}{
		"graphql error": {200, `{"errors":[{"message":"Field 'nope' doesn't exist on type 'Shop'","locations":[{"line":1,"column":9}],"path":["query","shop","nope"],"extensions":{"code":"undefinedField","typeName":"Shop","fieldName":"nope"}}]}`, 1, "Field 'nope' doesn't exist on type 'Shop' (undefinedField)", ""},
		"bad token":     {401, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`, 1, "refused the access token", aftercare.EUNAUTHORIZED},
		"not json":      {200, `<html>`, 1, "not JSON", ""},
		"always 503":    {503, `upstream`, 3, "gave up after 2 retries", ""},
		"always 429":    {429, `{"errors":"Exceeded 2 calls per second for api client."}`, 3, "HTTP 429", ""},
	} {
		t.Run(name, func(t *testing.T) {
			f, c := newFake(t, func(string, map[string]any) (int, string) { return tc.status, tc.body })
			c.MaxRetries = 2
			_, err := c.Do(context.Background(), "query Q { shop { nope } }", nil, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || len(f.calls) != tc.calls {
				t.Fatalf("got %v after %d calls, want %q after %d", err, len(f.calls), tc.want, tc.calls)
			}
			if tc.code != "" && aftercare.ErrorCode(err) != tc.code {
				t.Fatalf("code %s, want %s", aftercare.ErrorCode(err), tc.code)
			}
		})
	}
}

// subscriptionsServer keeps subscriptions like Shopify does, paged by two.
func subscriptionsServer(t *testing.T, subs map[string]*Subscription) func(string, map[string]any) (int, string) {
	next := 1
	return func(op string, vars map[string]any) (int, string) {
		switch op {
		case "Subscriptions":
			var all []*Subscription
			for _, s := range subs {
				all = append(all, s)
			}
			sortSubs(all)
			start := 0
			if a, ok := vars["after"].(string); ok {
				fmt.Sscanf(a, "cursor-%d", &start)
			}
			end := min(start+2, len(all))
			b, _ := json.Marshal(all[start:end])
			return 200, fmt.Sprintf(`{"data":{"webhookSubscriptions":{"nodes":%s,"pageInfo":{"hasNextPage":%t,"endCursor":"cursor-%d"}}},%s}`, b, end < len(all), end, cost(12, 1988, 100))
		case "Create":
			topic := vars["topic"].(string)
			uri := vars["sub"].(map[string]any)["uri"].(string)
			if !strings.HasPrefix(uri, "https://") && !strings.HasPrefix(uri, "arn:aws:events:") {
				return 200, `{"data":{"webhookSubscriptionCreate":{"webhookSubscription":null,"userErrors":[{"field":["webhookSubscription","uri"],"message":"Address is invalid"}]}}}`
			}
			id := fmt.Sprintf("gid://shopify/WebhookSubscription/%d", next)
			next++
			subs[id] = &Subscription{ID: id, Topic: topic, URI: uri}
			b, _ := json.Marshal(subs[id])
			return 200, `{"data":{"webhookSubscriptionCreate":{"webhookSubscription":` + string(b) + `,"userErrors":[]}},` + cost(10, 1978, 100) + `}`
		case "Update":
			s := subs[vars["id"].(string)]
			s.URI = vars["sub"].(map[string]any)["uri"].(string)
			b, _ := json.Marshal(s)
			return 200, `{"data":{"webhookSubscriptionUpdate":{"webhookSubscription":` + string(b) + `,"userErrors":[]}},` + cost(10, 1978, 100) + `}`
		}
		t.Errorf("unexpected operation %s", op)
		return 400, `{}`
	}
}

func sortSubs(s []*Subscription) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j].ID < s[i].ID {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

func TestConnectIsIdempotent(t *testing.T) {
	subs := map[string]*Subscription{
		"gid://shopify/WebhookSubscription/900": {ID: "gid://shopify/WebhookSubscription/900", Topic: "ORDERS_CREATE", URI: "https://old.example.com/webhooks/shopify"},
		"gid://shopify/WebhookSubscription/901": {ID: "gid://shopify/WebhookSubscription/901", Topic: "CARTS_CREATE", URI: "https://other-app.example.com"},
	}
	f, c := newFake(t, subscriptionsServer(t, subs))
	topics := shopify.WebhookTopics()
	const uri = "https://abc123.execute-api.us-east-1.amazonaws.com/webhooks/shopify"
	changes, err := c.Connect(context.Background(), topics, uri)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, ch := range changes {
		count[ch.Action]++
	}
	if len(changes) != len(topics) || count["updated"] != 1 || count["created"] != len(topics)-1 {
		t.Fatalf("first connect: %v", count)
	}
	if subs["gid://shopify/WebhookSubscription/900"].URI != uri || subs["gid://shopify/WebhookSubscription/901"].URI != "https://other-app.example.com" {
		t.Fatal("orders/create must move to the new URI and other topics stay as they are")
	}
	if got := changes[0].String(); !strings.Contains(got, changes[0].Topic) {
		t.Fatalf("change line %q", got)
	}
	f.calls = nil
	again, err := c.Connect(context.Background(), topics, uri)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range again {
		if ch.Action != "unchanged" {
			t.Fatalf("second connect changed %s: %s", ch.Topic, ch.Action)
		}
	}
	for _, op := range f.calls {
		if op != "Subscriptions" {
			t.Fatalf("second connect ran %s", op)
		}
	}
	if _, err := c.Connect(context.Background(), []string{"carts/update"}, "ftp://nope"); aftercare.ErrorCode(err) != aftercare.EINVALID || !strings.Contains(err.Error(), "Address is invalid") {
		t.Fatalf("user errors must surface: %v", err)
	}
}

func TestTopicEnum(t *testing.T) {
	for in, want := range map[string]string{"orders/create": "ORDERS_CREATE", "customers_email_marketing_consent/update": "CUSTOMERS_EMAIL_MARKETING_CONSENT_UPDATE", "app/uninstalled": "APP_UNINSTALLED"} {
		if got := TopicEnum(in); got != want {
			t.Errorf("%s: %s", in, got)
		}
	}
}

const bulkResult = `{"id":"gid://shopify/Order/1","name":"#1001","createdAt":"2025-06-01T10:00:00Z","updatedAt":"2025-06-03T10:00:00Z","displayFinancialStatus":"PAID","displayFulfillmentStatus":"FULFILLED","totalPriceSet":{"shopMoney":{"amount":"20.00","currencyCode":"USD"}},"customer":{"id":"gid://shopify/Customer/7","email":"ada@example.com"},"fulfillments":[]}
{"id":"gid://shopify/LineItem/11","quantity":1,"title":"Tea","variant":{"id":"gid://shopify/ProductVariant/3"},"product":{"id":"gid://shopify/Product/4"},"__parentId":"gid://shopify/Order/1"}
`

func TestBulkOperationCompletesAfterTwoPolls(t *testing.T) {
	polls := 0
	var f *fakeShopify
	f, c := newFake(t, func(op string, vars map[string]any) (int, string) {
		switch op {
		case "Run":
			if !strings.Contains(vars["query"].(string), "orders") {
				t.Errorf("bulk query %q", vars["query"])
			}
			return 200, `{"data":{"bulkOperationRunQuery":{"bulkOperation":{"id":"gid://shopify/BulkOperation/720918","status":"CREATED"},"userErrors":[]}},` + cost(10, 1990, 100) + `}`
		case "Poll":
			polls++
			if vars["id"] != "gid://shopify/BulkOperation/720918" {
				t.Errorf("polled %v", vars["id"])
			}
			if polls == 1 {
				return 200, `{"data":{"node":{"id":"gid://shopify/BulkOperation/720918","status":"RUNNING","errorCode":null,"objectCount":"1","url":null}},` + cost(1, 1999, 100) + `}`
			}
			return 200, `{"data":{"node":{"id":"gid://shopify/BulkOperation/720918","status":"COMPLETED","errorCode":null,"objectCount":"2","url":"` + f.srv.URL + `/bulk/result.jsonl"}},` + cost(1, 1999, 100) + `}`
		}
		return 400, `{}`
	})
	query, err := os.ReadFile("../../infra/shopify/backfill.graphql")
	if err != nil {
		t.Fatal(err)
	}
	op, err := c.RunBulkQuery(context.Background(), string(query), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if polls != 2 || op.Status != "COMPLETED" || op.ObjectCount != "2" || len(f.slept) != 2 {
		t.Fatalf("op %+v after %d polls, waits %v", op, polls, f.slept)
	}
	var b strings.Builder
	n, err := c.Download(context.Background(), op, &b)
	if err != nil || n != int64(len(bulkResult)) || b.String() != bulkResult {
		t.Fatalf("downloaded %d bytes: %v", n, err)
	}
	got := 0
	r := shopify.NewBulkReader(strings.NewReader(b.String()), 0, shop, func() time.Time { return now })
	for {
		o, err := r.Next()
		if err != nil {
			break
		}
		got++
		if o.Event.Order.ID != "1" || len(o.Event.Order.LineItems) != 1 || !o.Event.History {
			t.Fatalf("%+v", o.Event.Order)
		}
	}
	if got != 1 {
		t.Fatalf("read %d orders", got)
	}
}

func TestBulkOperationFailure(t *testing.T) {
	_, c := newFake(t, func(op string, _ map[string]any) (int, string) {
		if op == "Run" {
			return 200, `{"data":{"bulkOperationRunQuery":{"bulkOperation":{"id":"gid://shopify/BulkOperation/1","status":"CREATED"},"userErrors":[]}}}`
		}
		return 200, `{"data":{"node":{"id":"gid://shopify/BulkOperation/1","status":"FAILED","errorCode":"ACCESS_DENIED","objectCount":"0","url":null}}}`
	})
	if _, err := c.RunBulkQuery(context.Background(), "{ orders { edges { node { id } } } }", time.Second); err == nil || !strings.Contains(err.Error(), "ACCESS_DENIED") {
		t.Fatalf("want the error code, got %v", err)
	}
	_, c = newFake(t, func(string, map[string]any) (int, string) {
		return 200, `{"data":{"bulkOperationRunQuery":{"bulkOperation":null,"userErrors":[{"field":["query"],"message":"A bulk query operation for this app and shop is already in progress"}]}}}`
	})
	if _, err := c.RunBulkQuery(context.Background(), "{ orders { edges { node { id } } } }", time.Second); err == nil || !strings.Contains(err.Error(), "already in progress") {
		t.Fatalf("user errors must surface: %v", err)
	}
}

func orderNode(n int, updated time.Time) string {
	return admintest.Order{ID: int64(n), Updated: updated, Fulfilled: true, CustomerID: "5", Email: "ada@example.com"}.Node()
}

func TestOrdersSincePagesWithCursors(t *testing.T) {
	since := now.Add(-2 * time.Hour)
	pages := [][]string{
		{orderNode(1, since.Add(10*time.Minute)), orderNode(2, since.Add(20*time.Minute))},
		{orderNode(3, since.Add(30*time.Minute)), `{"id":"gid://shopify/Order/4","createdAt":"soon"}`},
		{orderNode(5, since.Add(50*time.Minute))},
	}
	f, c := newFake(t, func(op string, vars map[string]any) (int, string) {
		if op != "Orders" || vars["q"] != "updated_at:>='"+since.Format(time.RFC3339)+"'" {
			t.Errorf("%s %v", op, vars)
		}
		i := 0
		if a, ok := vars["after"].(string); ok {
			fmt.Sscanf(a, "eyJsYXN0X2lkIjo%d", &i)
		}
		return 200, fmt.Sprintf(`{"data":{"orders":{"nodes":[%s],"pageInfo":{"hasNextPage":%t,"endCursor":"eyJsYXN0X2lkIjo%d"}}},%s}`,
			strings.Join(pages[i], ","), i+1 < len(pages), i+1, cost(202, 1500, 100))
	})
	var ids []string
	var cursors []time.Time
	cursor, err := c.OrdersSince(context.Background(), since, now, func(p Page) error {
		for _, ev := range p.Events {
			if ev.History || ev.Topic != shopify.TopicReconcile || ev.Kind != aftercare.EventOrder {
				t.Errorf("reconcile events are live orders: %+v", ev)
			}
			ids = append(ids, ev.Order.ID)
		}
		cursors = append(cursors, p.Cursor)
		if len(cursors) == 2 && (len(p.Skipped) != 1 || p.Skipped[0] != "4") {
			t.Errorf("the bad order is reported, not sent: %v", p.Skipped)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids, ",") != "1,2,3,5" || len(f.calls) != 3 || !cursor.Equal(since.Add(50*time.Minute)) || !cursors[0].Equal(since.Add(20*time.Minute)) {
		t.Fatalf("ids %v over %d calls, cursor %s (pages %v)", ids, len(f.calls), cursor, cursors)
	}
	// A failing consumer stops the run and keeps the cursor of the last page it took.
	cursor, err = c.OrdersSince(context.Background(), since, now, func(p Page) error {
		if p.Cursor.After(since.Add(25 * time.Minute)) {
			return fmt.Errorf("queue down")
		}
		return nil
	})
	if err == nil || !cursor.Equal(since.Add(20*time.Minute)) {
		t.Fatalf("cursor %s, err %v", cursor, err)
	}
}
