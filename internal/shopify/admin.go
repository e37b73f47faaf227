package shopify

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// Topics of events that did not come by webhook but from the Admin API.
const (
	TopicBackfill  = "orders/backfill"  // a bulk operation's history: marked History
	TopicReconcile = "orders/reconcile" // orders updated since the reconcile cursor
)

// AdminOrder is an Order as the GraphQL Admin API returns it: one line of the
// bulk operation for infra/shopify/backfill.graphql (line items arrive as
// their own lines and are added with AddLineItem), or one node of the orders
// query (line items under lineItems.nodes).
type AdminOrder struct {
	ID                       string `json:"id"`
	Name                     string `json:"name"`
	CreatedAt                string `json:"createdAt"`
	ProcessedAt              string `json:"processedAt"`
	UpdatedAt                string `json:"updatedAt"`
	CancelledAt              string `json:"cancelledAt"`
	Test                     bool   `json:"test"`
	Tags                     tags   `json:"tags"` // merchant playbook tags (aftercare:damaged)
	DisplayFinancialStatus   string `json:"displayFinancialStatus"`
	DisplayFulfillmentStatus string `json:"displayFulfillmentStatus"`
	TotalPriceSet            *struct {
		ShopMoney struct {
			Amount       json.RawMessage `json:"amount"`
			CurrencyCode string          `json:"currencyCode"`
		} `json:"shopMoney"`
	} `json:"totalPriceSet"`
	Customer *struct {
		ID                    string `json:"id"`
		Email                 string `json:"email"`
		Phone                 string `json:"phone"`
		FirstName             string `json:"firstName"`
		EmailMarketingConsent *struct {
			MarketingState   string `json:"marketingState"`
			ConsentUpdatedAt string `json:"consentUpdatedAt"`
		} `json:"emailMarketingConsent"`
	} `json:"customer"`
	Fulfillments []struct {
		ID           string `json:"id"`
		CreatedAt    string `json:"createdAt"`
		Status       string `json:"status"`
		TrackingInfo []struct {
			Company string `json:"company"`
			Number  string `json:"number"`
			URL     string `json:"url"`
		} `json:"trackingInfo"`
	} `json:"fulfillments"`
	LineItems *struct {
		Nodes []AdminLineItem `json:"nodes"`
	} `json:"lineItems,omitempty"`

	lineItemCount int // every line item seen, kept or not
}

// AdminLineItem is one line item of an AdminOrder.
type AdminLineItem struct {
	ID       string `json:"id"`
	Quantity int    `json:"quantity"`
	Title    string `json:"title"`
	Variant  *struct {
		ID string `json:"id"`
	} `json:"variant"`
	Product *struct {
		ID string `json:"id"`
	} `json:"product"`
}

// AddLineItem attaches a line item; past MaxLineItems it is only counted,
// so an order with a million lines stays small.
func (o *AdminOrder) AddLineItem(li AdminLineItem) {
	o.lineItemCount++
	if o.LineItems == nil {
		o.LineItems = &struct {
			Nodes []AdminLineItem `json:"nodes"`
		}{}
	}
	if len(o.LineItems.Nodes) < MaxLineItems {
		o.LineItems.Nodes = append(o.LineItems.Nodes, li)
	}
}

// GID returns the numeric id of a global id ("gid://shopify/Order/123" is
// "123"), the id webhooks use, so both paths name the same order.
func GID(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "gid://") {
		return s
	}
	s = s[strings.LastIndexByte(s, '/')+1:]
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	return s
}

// gidType returns the type of a global id ("Order", "LineItem").
func gidType(s string) string {
	rest, ok := strings.CutPrefix(s, "gid://shopify/")
	if !ok {
		return ""
	}
	t, _, _ := strings.Cut(rest, "/")
	return t
}

// fulfillmentStatuses maps Order.displayFulfillmentStatus to the REST
// fulfillment_status the state engine keys on.
var fulfillmentStatuses = map[string]string{
	"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial", "RESTOCKED": "restocked",
}

// Event turns the order into the same normalized event an orders/updated
// webhook with this snapshot gives. The id is stable for one version of the
// order (its updatedAt), so importing it twice dedupes and a newer webhook
// wins by the usual updated_at rule.
func (a *AdminOrder) Event(shop, topic string, history bool, received time.Time) (aftercare.Event, error) {
	ev := aftercare.Event{Source: aftercare.SourceShopify, Topic: topic, Shop: shop, Received: received.UTC(), History: history}
	if !shopDomain(shop) || shop == "" {
		return ev, aftercare.Errorf(aftercare.EINVALID, "%q is not a shop domain", clip(shop))
	}
	o, err := a.rest()
	if err != nil {
		return ev, err
	}
	snap, err := o.snapshot(topic)
	if err != nil {
		return ev, err
	}
	if a.lineItemCount > snap.LineItemCount {
		snap.LineItemCount = a.lineItemCount
	}
	ev.Kind, ev.Order, ev.At = aftercare.EventOrder, snap, first(snap.UpdatedAt, snap.ProcessedAt, snap.CreatedAt)
	if ev.At.IsZero() {
		ev.At = ev.Received
	}
	ev.ID = "shopify:" + shop + ":" + topic + ":" + snap.ID + ":" + ev.At.UTC().Format(time.RFC3339Nano)
	return ev, nil
}

// rest maps the GraphQL shape onto the webhook's, so one normalization
// (snapshot) serves both and they cannot drift apart.
func (a *AdminOrder) rest() (*order, error) {
	o := &order{
		ID: id(GID(a.ID)), Name: a.Name, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, ProcessedAt: a.ProcessedAt,
		CancelledAt: a.CancelledAt, Test: a.Test, Tags: a.Tags, FinancialStatus: strings.ToLower(a.DisplayFinancialStatus),
		FulfillmentStatus: fulfillmentStatuses[a.DisplayFulfillmentStatus],
	}
	if len(o.ID) > maxID {
		return nil, aftercare.Errorf(aftercare.EINVALID, "order id of %d bytes is too long", len(o.ID))
	}
	if p := a.TotalPriceSet; p != nil && len(p.ShopMoney.Amount) > 0 {
		if err := o.TotalPrice.UnmarshalJSON(p.ShopMoney.Amount); err != nil {
			return nil, aftercare.Wrap(aftercare.EINVALID, err, "order %s totalPriceSet: %s", clip(string(o.ID)), err.Error())
		}
		o.Currency = truncate(p.ShopMoney.CurrencyCode, 8)
	}
	if c := a.Customer; c != nil && GID(c.ID) != "" {
		cu := &customer{ID: id(truncate(GID(c.ID), maxID)), Email: c.Email, Phone: c.Phone, FirstName: c.FirstName}
		if m := c.EmailMarketingConsent; m != nil {
			cu.EmailMarketingConsent = &consent{State: m.MarketingState, ConsentUpdatedAt: m.ConsentUpdatedAt}
		}
		o.Customer = cu
	}
	if a.LineItems != nil {
		for _, li := range a.LineItems.Nodes {
			l := lineItem{ID: id(truncate(GID(li.ID), maxID)), Title: li.Title, Quantity: li.Quantity}
			if li.Variant != nil {
				l.VariantID = id(truncate(GID(li.Variant.ID), maxID))
			}
			if li.Product != nil {
				l.ProductID = id(truncate(GID(li.Product.ID), maxID))
			}
			o.LineItems = append(o.LineItems, l)
		}
	}
	for _, f := range a.Fulfillments {
		rf := fulfillment{ID: id(truncate(GID(f.ID), maxID)), Status: strings.ToLower(f.Status), CreatedAt: f.CreatedAt}
		for _, t := range f.TrackingInfo {
			if rf.TrackingCompany == "" {
				rf.TrackingCompany = truncate(t.Company, maxName)
			}
			rf.TrackingNumbers = append(rf.TrackingNumbers, t.Number)
		}
		o.Fulfillments = append(o.Fulfillments, rf)
	}
	return o, nil
}
