package backfill

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/shopify"
	"github.com/aftercare/aftercare/internal/shopifyadmin"
	"github.com/aftercare/aftercare/internal/state"
)

// A missed orders/fulfilled heals: the order arrived by webhook unfulfilled,
// the fulfilled webhook never came, and the reconcile query of orders
// updated since the cursor applies it through the normal path.
func TestReconcileAppliesAMissedFulfilledWebhook(t *testing.T) {
	body, err := os.ReadFile("../../events/webhooks/shopify/orders__create.json")
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(shopify.HeaderTopic, "orders/create")
	h.Set(shopify.HeaderShop, shop)
	h.Set(shopify.HeaderEventID, "evt-create-1")
	created, err := shopify.Source{}.Parse(body, h, now)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.apply(t, []aftercare.Event{created})
	id := created.Order.ID
	if o := e.order(t, id); o.FulfillmentStatus == "fulfilled" || o.Shipped() {
		t.Fatalf("the webhook order starts unshipped: %+v", o)
	}

	fulfilledAt := created.Order.UpdatedAt.Add(6 * time.Hour)
	cursor := created.Order.UpdatedAt
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, fmt.Sprintf(`{"data":{"orders":{"nodes":[{"id":"gid://shopify/Order/%s","name":%q,"createdAt":%q,"processedAt":%q,"updatedAt":%q,"cancelledAt":null,"test":false,"tags":[],
"displayFinancialStatus":"PAID","displayFulfillmentStatus":"FULFILLED","totalPriceSet":{"shopMoney":{"amount":"77.97","currencyCode":"USD"}},
"customer":{"id":"gid://shopify/Customer/%s","email":null,"phone":null,"firstName":null,"emailMarketingConsent":null},
"fulfillments":[{"id":"gid://shopify/Fulfillment/555","createdAt":%q,"status":"SUCCESS","trackingInfo":[{"company":"UPS","number":"1ZRECONCILE01","url":null}]}],
"lineItems":{"nodes":[]}}],"pageInfo":{"hasNextPage":false,"endCursor":"c1"}}},
"extensions":{"cost":{"requestedQueryCost":52,"actualQueryCost":12,"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":1988,"restoreRate":100.0}}}}`,
			id, created.Order.Name, created.Order.CreatedAt.Format(time.RFC3339), created.Order.CreatedAt.Format(time.RFC3339), fulfilledAt.Format(time.RFC3339),
			created.Order.Customer.ID, fulfilledAt.Format(time.RFC3339)))
	}))
	defer srv.Close()
	c := &shopifyadmin.Client{Shop: shop, Token: "t", BaseURL: srv.URL, HTTP: srv.Client()}
	var evs []aftercare.Event
	next, err := c.OrdersSince(context.Background(), cursor, now, func(p shopifyadmin.Page) error {
		evs = append(evs, p.Events...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !next.Equal(fulfilledAt.UTC()) || len(evs) != 1 {
		t.Fatalf("cursor %s, %d events", next, len(evs))
	}
	res := e.apply(t, evs)
	if res[0].Outcome != state.Applied {
		t.Fatalf("%+v", res[0])
	}
	o := e.order(t, id)
	if o.FulfillmentStatus != "fulfilled" || len(o.Fulfillments["555"]) != 1 {
		t.Fatalf("reconcile must apply the missed fulfillment: %+v", o)
	}
	// The next run with the new cursor sees the same order again: it
	// changes nothing.
	if res := e.apply(t, evs); res[0].Outcome != state.Unchanged && res[0].Outcome != state.Duplicate {
		t.Fatalf("second reconcile: %s, want nothing changed", res[0].Outcome)
	}
}
