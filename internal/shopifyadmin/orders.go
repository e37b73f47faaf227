package shopifyadmin

import (
	"context"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/shopify"
)

// OrdersPage bounds one page of the orders query. 50 orders with up to 100
// line items each stays well under the 1,000-point single-query limit.
const OrdersPage = 50

const ordersQuery = `query Orders($q: String!, $after: String, $first: Int!) {
  orders(first: $first, after: $after, query: $q, sortKey: UPDATED_AT) {
    nodes {
      id name createdAt processedAt updatedAt cancelledAt test tags
      displayFinancialStatus displayFulfillmentStatus
      totalPriceSet { shopMoney { amount currencyCode } }
      customer { id email phone firstName emailMarketingConsent { marketingState consentUpdatedAt } }
      fulfillments { id createdAt status trackingInfo { company number url } }
      lineItems(first: 100) { nodes { id quantity title variant { id } product { id } } }
    }
    pageInfo { hasNextPage endCursor }
  }
}`

// Page is one page of orders updated since the cursor, as normalized events,
// and the cursor to store once they are queued.
type Page = aftercare.OrdersPage

// OrdersSince pages through the shop's orders updated at or after since,
// oldest change first, calling fn with each page's events. The reconcile
// check queues each page and then stores Page.Cursor, so a crash repeats at
// most one page (harmless: the event ids are the same, and newer-wins).
// ">=" rather than ">": Shopify's search compares whole seconds, and an
// order updated twice in the cursor's second must not be missed.
func (c *Client) OrdersSince(ctx context.Context, since time.Time, now time.Time, fn func(Page) error) (time.Time, error) {
	cursor := since.UTC()
	q := "updated_at:>='" + cursor.Format(time.RFC3339) + "'"
	var after any
	for {
		var data struct {
			Orders struct {
				Nodes    []shopify.AdminOrder `json:"nodes"`
				PageInfo pageInfo             `json:"pageInfo"`
			} `json:"orders"`
		}
		if _, err := c.Do(ctx, ordersQuery, map[string]any{"q": q, "after": after, "first": OrdersPage}, &data); err != nil {
			return cursor, err
		}
		page := Page{Cursor: cursor}
		for i := range data.Orders.Nodes {
			o := &data.Orders.Nodes[i]
			ev, err := o.Event(c.Shop, shopify.TopicReconcile, false, now)
			if err != nil {
				page.Skipped = append(page.Skipped, shopify.GID(o.ID))
				continue
			}
			if ev.Order.UpdatedAt.After(page.Cursor) {
				page.Cursor = ev.Order.UpdatedAt.UTC()
			}
			page.Events = append(page.Events, ev)
		}
		if err := fn(page); err != nil {
			return cursor, err
		}
		cursor = page.Cursor
		if !data.Orders.PageInfo.HasNextPage {
			return cursor, nil
		}
		after = data.Orders.PageInfo.EndCursor
	}
}
