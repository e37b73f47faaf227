// Package admintest is a fake Shopify GraphQL Admin API for tests: the
// orders query the reconcile check pages through, answered in Shopify's
// response shapes (data, pageInfo cursors, extensions.cost with
// throttleStatus), for any number of shops on one server.
package admintest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Order is one order the fake knows, as the Admin API shows it.
type Order struct {
	ID          int64
	Updated     time.Time
	Fulfilled   bool // displayFulfillmentStatus FULFILLED, with one fulfillment
	CustomerID  string
	Email       string
	Created     time.Time
	TotalAmount string // default "45.00"
}

// Node is the order's JSON as the orders query returns it.
func (o Order) Node() string {
	created := o.Created
	if created.IsZero() {
		created = o.Updated.Add(-time.Hour)
	}
	amount := o.TotalAmount
	if amount == "" {
		amount = "45.00"
	}
	status, fulfillments := "UNFULFILLED", "[]"
	if o.Fulfilled {
		status = "FULFILLED"
		fulfillments = fmt.Sprintf(`[{"id":"gid://shopify/Fulfillment/%d","createdAt":%q,"status":"SUCCESS","trackingInfo":[{"company":"UPS","number":"1Z%d","url":null}]}]`,
			o.ID, o.Updated.Format(time.RFC3339), o.ID)
	}
	customer := "null"
	if o.CustomerID != "" {
		customer = fmt.Sprintf(`{"id":"gid://shopify/Customer/%s","email":%q,"phone":null,"firstName":"Sam","emailMarketingConsent":null}`, o.CustomerID, o.Email)
	}
	return fmt.Sprintf(`{"id":"gid://shopify/Order/%d","name":"#%d","createdAt":%q,"processedAt":%q,"updatedAt":%q,"cancelledAt":null,"test":false,"tags":[],`+
		`"displayFinancialStatus":"PAID","displayFulfillmentStatus":%q,"totalPriceSet":{"shopMoney":{"amount":%q,"currencyCode":"USD"}},`+
		`"customer":%s,"fulfillments":%s,"lineItems":{"nodes":[{"id":"gid://shopify/LineItem/%d","quantity":1,"title":"Tea","variant":{"id":"gid://shopify/ProductVariant/1"},"product":{"id":"gid://shopify/Product/1"}}]}}`,
		o.ID, o.ID, created.Format(time.RFC3339), created.Format(time.RFC3339), o.Updated.Format(time.RFC3339),
		status, amount, customer, fulfillments, o.ID)
}

// Cost is an extensions member with the throttle status Shopify sends.
func Cost(requested, available, restore float64) string {
	return fmt.Sprintf(`"extensions":{"cost":{"requestedQueryCost":%g,"actualQueryCost":%g,"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":%g,"restoreRate":%g}}}`,
		requested, requested, available, restore)
}

// Server answers the orders query for the shops it knows, by the Host the
// client sends (X-Shopify-Shop-Domain is not sent by the client, so a test
// tells shops apart by token: each shop has its own).
type Server struct {
	*httptest.Server
	PageSize int // orders a page (default 2, so paging is exercised)

	mu     sync.Mutex
	orders map[string][]Order // by token
	calls  map[string]int     // orders queries by token
	asked  map[string][]string
}

// New starts a fake, closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{PageSize: 2, orders: map[string][]Order{}, calls: map[string]int{}, asked: map[string][]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/admin/api/") || !strings.HasSuffix(r.URL.Path, "/graphql.json") {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Query     string         `json:"query"`
			Variables map[string]any `json:"variables"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || !strings.Contains(req.Query, "orders(") {
			t.Errorf("admintest: unexpected request %q (%v)", req.Query, err)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		token := r.Header.Get("X-Shopify-Access-Token")
		q, _ := req.Variables["q"].(string)
		after, _ := req.Variables["after"].(string)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, s.page(token, q, after))
	}))
	t.Cleanup(s.Close)
	return s
}

// Put sets (or replaces, by id) orders of the shop with this token.
func (s *Server) Put(token string, orders ...Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range orders {
		list := s.orders[token][:0:0]
		for _, old := range s.orders[token] {
			if old.ID != o.ID {
				list = append(list, old)
			}
		}
		s.orders[token] = append(list, o)
	}
}

// Calls is how many orders queries the shop with this token answered.
func (s *Server) Calls(token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[token]
}

// Asked lists the search queries the shop with this token was sent.
func (s *Server) Asked(token string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.asked[token]...)
}

// page filters by updated_at:>='<RFC 3339>' (whole seconds, as Shopify's
// search compares them), sorts by updatedAt and pages by an offset cursor.
func (s *Server) page(token, q, after string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[token]++
	s.asked[token] = append(s.asked[token], q)
	var since time.Time
	if v, ok := strings.CutPrefix(q, "updated_at:>='"); ok {
		since, _ = time.Parse(time.RFC3339, strings.TrimSuffix(v, "'"))
	}
	var match []Order
	for _, o := range s.orders[token] {
		if !o.Updated.Truncate(time.Second).Before(since) {
			match = append(match, o)
		}
	}
	sort.Slice(match, func(i, j int) bool {
		if !match[i].Updated.Equal(match[j].Updated) {
			return match[i].Updated.Before(match[j].Updated)
		}
		return match[i].ID < match[j].ID
	})
	from, _ := strconv.Atoi(after)
	to := min(len(match), from+max(1, s.PageSize))
	from = min(from, to)
	nodes := make([]string, 0, to-from)
	for _, o := range match[from:to] {
		nodes = append(nodes, o.Node())
	}
	return fmt.Sprintf(`{"data":{"orders":{"nodes":[%s],"pageInfo":{"hasNextPage":%t,"endCursor":"%d"}}},%s}`,
		strings.Join(nodes, ","), to < len(match), to, Cost(float64(2+len(nodes)), 1900, 100))
}
