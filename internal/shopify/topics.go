package shopify

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// topics maps each handled topic to its parser. Every parser fills Kind and
// the matching part of the event, and At when the payload says when.
var topics = map[string]func(ev *aftercare.Event, body []byte, received time.Time) error{
	"orders/create":                            parseOrder,
	"orders/updated":                           parseOrder,
	"orders/paid":                              parseOrder,
	"orders/cancelled":                         parseOrder,
	"orders/fulfilled":                         parseOrder,
	"orders/partially_fulfilled":               parseOrder,
	"orders/edited":                            parseOrderEdit, // carries no snapshot: ignored, orders/updated follows
	"fulfillments/create":                      parseFulfillment,
	"fulfillments/update":                      parseFulfillment,
	"fulfillment_events/create":                parseFulfillmentEvent,
	"customers/create":                         parseCustomer,
	"customers/update":                         parseCustomer,
	"customers/enable":                         parseCustomer,
	"customers/disable":                        parseCustomer,
	"customers/delete":                         parseCustomerDelete,
	"customers_email_marketing_consent/update": parseEmailConsent,
	"customers_marketing_consent/update":       parseSMSConsent,
	"inventory_levels/update":                  parseInventory,
	"products/create":                          parseProduct,
	"products/update":                          parseProduct,
	"refunds/create":                           parseRefund,
	"customers/data_request":                   parsePrivacy(aftercare.EventDataRequest),
	"customers/redact":                         parsePrivacy(aftercare.EventCustomerRedact),
	"shop/redact":                              parsePrivacy(aftercare.EventShopRedact),
	TopicAppUninstalled:                        parseUninstalled,
}

// decode reads the body into v; any syntax or shape error is a 400.
func decode(ev *aftercare.Event, body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return aftercare.Wrap(aftercare.EINVALID, err, "%s body is not the expected JSON: %s", ev.Topic, clip(err.Error()))
	}
	return nil
}

// stamp reads a payload time, naming the field when it is unreadable.
func stamp(field, s string) (time.Time, error) {
	t, err := aftercare.ParseTime(strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, aftercare.Wrap(aftercare.EINVALID, err, "%s: %s", field, aftercare.ErrorMessage(err))
	}
	return t, nil
}

// first returns the first non-zero time.
func first(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// --- orders ---

type order struct {
	ID                id            `json:"id"`
	Name              string        `json:"name"`
	Email             string        `json:"email"`
	ContactEmail      string        `json:"contact_email"`
	Phone             string        `json:"phone"`
	CreatedAt         string        `json:"created_at"`
	UpdatedAt         string        `json:"updated_at"`
	ProcessedAt       string        `json:"processed_at"`
	CancelledAt       string        `json:"cancelled_at"`
	CancelReason      string        `json:"cancel_reason"`
	FinancialStatus   string        `json:"financial_status"`
	FulfillmentStatus string        `json:"fulfillment_status"`
	TotalPrice        money         `json:"total_price"`
	Currency          string        `json:"currency"`
	Tags              tags          `json:"tags"`
	Test              bool          `json:"test"`
	Customer          *customer     `json:"customer"`
	LineItems         []lineItem    `json:"line_items"`
	Fulfillments      []fulfillment `json:"fulfillments"`
}

type lineItem struct {
	ID        id     `json:"id"`
	VariantID id     `json:"variant_id"`
	ProductID id     `json:"product_id"`
	SKU       string `json:"sku"`
	Title     string `json:"title"`
	Quantity  int    `json:"quantity"`
}

func parseOrder(ev *aftercare.Event, body []byte, _ time.Time) error {
	var o order
	if err := decode(ev, body, &o); err != nil {
		return err
	}
	snap, err := o.snapshot(ev.Topic)
	if err != nil {
		return err
	}
	ev.Kind, ev.Order, ev.At = aftercare.EventOrder, snap, first(snap.UpdatedAt, snap.ProcessedAt, snap.CreatedAt)
	return nil
}

func (o *order) snapshot(topic string) (*aftercare.OrderSnapshot, error) {
	if o.ID == "" {
		return nil, aftercare.Errorf(aftercare.EINVALID, "%s: order id is missing", topic)
	}
	s := &aftercare.OrderSnapshot{
		ID: string(o.ID), Name: o.Name, Email: strings.TrimSpace(o.Email), Phone: strings.TrimSpace(o.Phone),
		CancelReason: o.CancelReason, FinancialStatus: o.FinancialStatus, FulfillmentStatus: o.FulfillmentStatus,
		TotalCents: int64(o.TotalPrice), Currency: o.Currency, Tags: o.Tags, Test: o.Test, LineItemCount: len(o.LineItems),
	}
	if s.Email == "" {
		s.Email = strings.TrimSpace(o.ContactEmail)
	}
	var err error
	for _, f := range []struct {
		name string
		in   string
		out  *time.Time
	}{{"created_at", o.CreatedAt, &s.CreatedAt}, {"updated_at", o.UpdatedAt, &s.UpdatedAt}, {"processed_at", o.ProcessedAt, &s.ProcessedAt}, {"cancelled_at", o.CancelledAt, &s.CancelledAt}} {
		if *f.out, err = stamp(f.name, f.in); err != nil {
			return nil, err
		}
	}
	if o.Customer != nil && o.Customer.ID != "" {
		if s.Customer, err = o.Customer.info(); err != nil {
			return nil, err
		}
		// The order's contact fills in what the customer record lacks.
		if s.Customer.Email == "" {
			s.Customer.Email = s.Email
		}
		if s.Customer.Phone == "" {
			s.Customer.Phone = s.Phone
		}
	} else if g := aftercare.GuestID(s.Email); g != "" {
		// A guest checkout: named by email so a later redaction finds them.
		s.Customer = &aftercare.CustomerInfo{ID: g, Email: s.Email, Phone: s.Phone}
	}
	items := o.LineItems
	if len(items) > MaxLineItems {
		items = items[:MaxLineItems]
	}
	if len(items) > 0 {
		s.LineItems = make([]aftercare.LineItem, len(items))
		for i, li := range items {
			s.LineItems[i] = aftercare.LineItem{ID: string(li.ID), VariantID: string(li.VariantID), ProductID: string(li.ProductID),
				SKU: truncate(li.SKU, MaxTitle), Title: truncate(li.Title, MaxTitle), Quantity: li.Quantity}
		}
	}
	for i := range o.Fulfillments {
		f, err := o.Fulfillments[i].normalize(string(o.ID))
		if err != nil {
			return nil, err
		}
		s.Fulfillments = append(s.Fulfillments, *f)
	}
	return s, nil
}

// orders/edited carries only the edit, not the order; the orders/updated that
// Shopify sends with it has the snapshot.
func parseOrderEdit(*aftercare.Event, []byte, time.Time) error { return nil }

// --- fulfillments ---

type fulfillment struct {
	ID              id       `json:"id"`
	OrderID         id       `json:"order_id"`
	Status          string   `json:"status"`
	TrackingNumber  string   `json:"tracking_number"`
	TrackingNumbers []string `json:"tracking_numbers"`
	TrackingCompany string   `json:"tracking_company"`
	TrackingURL     string   `json:"tracking_url"`
	TrackingURLs    []string `json:"tracking_urls"` // in tracking_numbers' order
	ShipmentStatus  string   `json:"shipment_status"`
	CreatedAt       string   `json:"created_at"`
	UpdatedAt       string   `json:"updated_at"`
	LineItems       []struct {
		ID id `json:"id"`
	} `json:"line_items"`
}

// maxTracking bounds the parcels one fulfillment may name.
const maxTracking = 20

func (f *fulfillment) normalize(orderID string) (*aftercare.Fulfillment, error) {
	if f.ID == "" {
		return nil, aftercare.Errorf(aftercare.EINVALID, "fulfillment id is missing")
	}
	out := &aftercare.Fulfillment{ID: string(f.ID), OrderID: string(f.OrderID), Status: f.Status, TrackingCompany: f.TrackingCompany}
	if out.OrderID == "" {
		out.OrderID = orderID
	}
	if out.OrderID == "" {
		return nil, aftercare.Errorf(aftercare.EINVALID, "fulfillment %s has no order_id", f.ID)
	}
	seen := map[string]bool{}
	urls := append([]string{f.TrackingURL}, f.TrackingURLs...)
	anyURL := false
	for i, n := range append([]string{f.TrackingNumber}, f.TrackingNumbers...) {
		n = strings.TrimSpace(n)
		k := aftercare.TrackingKey(n)
		if k == "" || seen[k] || len(out.TrackingNumbers) >= maxTracking {
			continue
		}
		seen[k] = true
		out.TrackingNumbers = append(out.TrackingNumbers, truncate(n, maxKeyPart))
		link := ""
		if i < len(urls) {
			link = aftercare.TrackingLink(urls[i])
		}
		out.TrackingURLs = append(out.TrackingURLs, link)
		anyURL = anyURL || link != ""
	}
	if !anyURL {
		out.TrackingURLs = nil
	}
	if f.ShipmentStatus != "" {
		o := shipmentStatus(f.ShipmentStatus)
		out.Shipment, out.ShipmentDetail, out.ShipmentException = o.status, f.ShipmentStatus, o.exception
	}
	var err error
	if out.CreatedAt, err = stamp("created_at", f.CreatedAt); err != nil {
		return nil, err
	}
	if out.UpdatedAt, err = stamp("updated_at", f.UpdatedAt); err != nil {
		return nil, err
	}
	for _, li := range f.LineItems {
		if li.ID != "" && len(out.LineItemIDs) < MaxLineItems {
			out.LineItemIDs = append(out.LineItemIDs, string(li.ID))
		}
	}
	return out, nil
}

func parseFulfillment(ev *aftercare.Event, body []byte, _ time.Time) error {
	var f fulfillment
	if err := decode(ev, body, &f); err != nil {
		return err
	}
	n, err := f.normalize("")
	if err != nil {
		return err
	}
	ev.Kind, ev.Fulfillment, ev.At = aftercare.EventFulfillment, n, first(n.UpdatedAt, n.CreatedAt)
	return nil
}

type fulfillmentEvent struct {
	ID                  id     `json:"id"`
	FulfillmentID       id     `json:"fulfillment_id"`
	OrderID             id     `json:"order_id"`
	Status              string `json:"status"`
	Message             string `json:"message"`
	HappenedAt          string `json:"happened_at"`
	EstimatedDeliveryAt string `json:"estimated_delivery_at"`
	CreatedAt           string `json:"created_at"`
}

// maxMessage bounds a provider's human text.
const maxMessage = 500

func parseFulfillmentEvent(ev *aftercare.Event, body []byte, received time.Time) error {
	var e fulfillmentEvent
	if err := decode(ev, body, &e); err != nil {
		return err
	}
	switch {
	case e.FulfillmentID == "":
		return aftercare.Errorf(aftercare.EINVALID, "fulfillment event has no fulfillment_id")
	case e.OrderID == "":
		return aftercare.Errorf(aftercare.EINVALID, "fulfillment event has no order_id")
	}
	happened, err := stamp("happened_at", e.HappenedAt)
	if err != nil {
		return err
	}
	created, err := stamp("created_at", e.CreatedAt)
	if err != nil {
		return err
	}
	eta, err := stamp("estimated_delivery_at", e.EstimatedDeliveryAt)
	if err != nil {
		return err
	}
	o := shipmentStatus(e.Status)
	at := first(happened, created, received)
	ev.Kind, ev.At = aftercare.EventTracking, at
	ev.Tracking = &aftercare.TrackingUpdate{
		Status: o.status, Detail: e.Status, Message: truncate(e.Message, maxMessage), Exception: o.exception,
		EstimatedDelivery: eta, EventTime: at, FulfillmentID: string(e.FulfillmentID), OrderID: string(e.OrderID),
	}
	return nil
}

// --- customers and consent ---

type customer struct {
	ID                    id       `json:"id"`
	Email                 string   `json:"email"`
	Phone                 string   `json:"phone"`
	FirstName             string   `json:"first_name"`
	LastName              string   `json:"last_name"`
	Tags                  tags     `json:"tags"`
	UpdatedAt             string   `json:"updated_at"`
	EmailMarketingConsent *consent `json:"email_marketing_consent"`
	SMSMarketingConsent   *consent `json:"sms_marketing_consent"`
}

type consent struct {
	State            string `json:"state"`
	ConsentUpdatedAt string `json:"consent_updated_at"`
}

// maxName bounds names and contacts.
const maxName = 255

func (c *customer) info() (*aftercare.CustomerInfo, error) {
	out := &aftercare.CustomerInfo{ID: string(c.ID), Email: truncate(strings.TrimSpace(c.Email), maxName), Phone: truncate(strings.TrimSpace(c.Phone), maxName),
		FirstName: truncate(c.FirstName, maxName), LastName: truncate(c.LastName, maxName), Tags: c.Tags}
	var err error
	if out.UpdatedAt, err = stamp("customer updated_at", c.UpdatedAt); err != nil {
		return nil, err
	}
	if out.EmailConsent, err = c.EmailMarketingConsent.normalize("email_marketing_consent"); err != nil {
		return nil, err
	}
	if out.SMSConsent, err = c.SMSMarketingConsent.normalize("sms_marketing_consent"); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *consent) normalize(field string) (aftercare.Consent, error) {
	if c == nil || c.State == "" {
		return aftercare.Consent{}, nil
	}
	at, err := stamp(field+".consent_updated_at", c.ConsentUpdatedAt)
	return aftercare.Consent{State: strings.ToLower(c.State), UpdatedAt: at}, err
}

func parseCustomer(ev *aftercare.Event, body []byte, _ time.Time) error {
	var c customer
	if err := decode(ev, body, &c); err != nil {
		return err
	}
	if c.ID == "" {
		return aftercare.Errorf(aftercare.EINVALID, "%s: customer id is missing", ev.Topic)
	}
	info, err := c.info()
	if err != nil {
		return err
	}
	ev.Kind, ev.Customer, ev.At = aftercare.EventCustomer, info, info.UpdatedAt
	return nil
}

func parseCustomerDelete(ev *aftercare.Event, body []byte, _ time.Time) error {
	var c struct {
		ID id `json:"id"`
	}
	if err := decode(ev, body, &c); err != nil {
		return err
	}
	if c.ID == "" {
		return aftercare.Errorf(aftercare.EINVALID, "%s: customer id is missing", ev.Topic)
	}
	ev.Kind, ev.Customer = aftercare.EventCustomer, &aftercare.CustomerInfo{ID: string(c.ID), Deleted: true}
	return nil
}

func parseEmailConsent(ev *aftercare.Event, body []byte, _ time.Time) error {
	var c struct {
		CustomerID id       `json:"customer_id"`
		Email      string   `json:"email_address"`
		Consent    *consent `json:"email_marketing_consent"`
	}
	if err := decode(ev, body, &c); err != nil {
		return err
	}
	return consentEvent(ev, c.CustomerID, aftercare.ChannelEmail, c.Email, c.Consent, "email_marketing_consent")
}

func parseSMSConsent(ev *aftercare.Event, body []byte, _ time.Time) error {
	var c struct {
		ID         id       `json:"id"`
		CustomerID id       `json:"customer_id"`
		Phone      string   `json:"phone"`
		Consent    *consent `json:"sms_marketing_consent"`
	}
	if err := decode(ev, body, &c); err != nil {
		return err
	}
	if c.CustomerID == "" {
		c.CustomerID = c.ID
	}
	return consentEvent(ev, c.CustomerID, aftercare.ChannelSMS, c.Phone, c.Consent, "sms_marketing_consent")
}

// consentEvent builds a consent change. A payload with no state (Shopify's
// own test payload sends null) says nothing and is ignored.
func consentEvent(ev *aftercare.Event, customerID id, ch aftercare.Channel, contact string, c *consent, field string) error {
	if customerID == "" {
		return aftercare.Errorf(aftercare.EINVALID, "%s: customer id is missing", ev.Topic)
	}
	con, err := c.normalize(field)
	if err != nil || con.State == "" {
		return err
	}
	ev.Kind, ev.At = aftercare.EventConsent, con.UpdatedAt
	ev.Consent = &aftercare.ConsentUpdate{CustomerID: string(customerID), Channel: ch, Contact: truncate(strings.TrimSpace(contact), maxName), Consent: con}
	return nil
}

// --- inventory and products ---

func parseInventory(ev *aftercare.Event, body []byte, _ time.Time) error {
	var l struct {
		InventoryItemID id     `json:"inventory_item_id"`
		LocationID      id     `json:"location_id"`
		Available       *int   `json:"available"`
		UpdatedAt       string `json:"updated_at"`
	}
	if err := decode(ev, body, &l); err != nil {
		return err
	}
	if l.InventoryItemID == "" || l.LocationID == "" {
		return aftercare.Errorf(aftercare.EINVALID, "%s: inventory_item_id and location_id are required", ev.Topic)
	}
	if l.Available == nil {
		return nil // the item stopped being tracked at this location: nothing to apply
	}
	at, err := stamp("updated_at", l.UpdatedAt)
	if err != nil {
		return err
	}
	ev.Kind, ev.At = aftercare.EventInventory, at
	ev.Inventory = &aftercare.InventoryLevel{InventoryItemID: string(l.InventoryItemID), LocationID: string(l.LocationID), Available: *l.Available, UpdatedAt: at}
	return nil
}

// maxVariants bounds a product's variants on the queue.
const maxVariants = 1000

func parseProduct(ev *aftercare.Event, body []byte, _ time.Time) error {
	var p struct {
		ID        id     `json:"id"`
		Title     string `json:"title"`
		UpdatedAt string `json:"updated_at"`
		Variants  []struct {
			ID                  id     `json:"id"`
			InventoryItemID     id     `json:"inventory_item_id"`
			SKU                 string `json:"sku"`
			Title               string `json:"title"`
			InventoryQuantity   *int   `json:"inventory_quantity"`
			InventoryManagement string `json:"inventory_management"`
		} `json:"variants"`
	}
	if err := decode(ev, body, &p); err != nil {
		return err
	}
	if p.ID == "" {
		return aftercare.Errorf(aftercare.EINVALID, "%s: product id is missing", ev.Topic)
	}
	at, err := stamp("updated_at", p.UpdatedAt)
	if err != nil {
		return err
	}
	out := &aftercare.Product{ID: string(p.ID), Title: truncate(p.Title, MaxTitle), UpdatedAt: at}
	for _, v := range p.Variants {
		if v.ID == "" || len(out.Variants) >= maxVariants {
			continue
		}
		out.Variants = append(out.Variants, aftercare.Variant{ID: string(v.ID), InventoryItemID: string(v.InventoryItemID), SKU: truncate(v.SKU, MaxTitle),
			Title: truncate(v.Title, MaxTitle), InventoryQuantity: v.InventoryQuantity, Tracked: v.InventoryManagement != ""})
	}
	ev.Kind, ev.Product, ev.At = aftercare.EventProduct, out, at
	return nil
}

// --- refunds ---

func parseRefund(ev *aftercare.Event, body []byte, _ time.Time) error {
	var r struct {
		ID           id     `json:"id"`
		OrderID      id     `json:"order_id"`
		CreatedAt    string `json:"created_at"`
		Transactions []struct {
			Amount money  `json:"amount"`
			Kind   string `json:"kind"`
			Status string `json:"status"`
		} `json:"transactions"`
	}
	if err := decode(ev, body, &r); err != nil {
		return err
	}
	if r.ID == "" || r.OrderID == "" {
		return aftercare.Errorf(aftercare.EINVALID, "%s: id and order_id are required", ev.Topic)
	}
	at, err := stamp("created_at", r.CreatedAt)
	if err != nil {
		return err
	}
	out := &aftercare.Refund{ID: string(r.ID), OrderID: string(r.OrderID), CreatedAt: at}
	for _, t := range r.Transactions {
		// Only money that actually went back counts: not failed or pending tries.
		if t.Kind == "refund" && (t.Status == "" || t.Status == "success") {
			out.AmountCents += int64(t.Amount)
		}
	}
	ev.Kind, ev.Refund, ev.At = aftercare.EventRefund, out, at
	return nil
}

// --- privacy ---

func parsePrivacy(kind aftercare.EventKind) func(*aftercare.Event, []byte, time.Time) error {
	return func(ev *aftercare.Event, body []byte, _ time.Time) error {
		var p struct {
			ShopID     id     `json:"shop_id"`
			ShopDomain string `json:"shop_domain"`
			Customer   *struct {
				ID    id     `json:"id"`
				Email string `json:"email"`
				Phone string `json:"phone"`
			} `json:"customer"`
			OrdersToRedact  ids `json:"orders_to_redact"`
			OrdersRequested ids `json:"orders_requested"`
			DataRequest     *struct {
				ID id `json:"id"`
			} `json:"data_request"`
		}
		if err := decode(ev, body, &p); err != nil {
			return err
		}
		if err := bindShop(ev, p.ShopDomain, string(p.ShopID)); err != nil {
			return err
		}
		req := &aftercare.PrivacyRequest{ShopID: string(p.ShopID), Orders: append(p.OrdersToRedact.strings(), p.OrdersRequested.strings()...)}
		if p.Customer != nil {
			req.CustomerID, req.Email, req.Phone = string(p.Customer.ID), strings.TrimSpace(p.Customer.Email), strings.TrimSpace(p.Customer.Phone)
		}
		if p.DataRequest != nil {
			req.DataRequestID = string(p.DataRequest.ID)
		}
		if kind != aftercare.EventShopRedact && req.CustomerID == "" && req.Email == "" {
			return aftercare.Errorf(aftercare.EINVALID, "%s: the customer's id or email is required", ev.Topic)
		}
		ev.Kind, ev.Privacy = kind, req
		return nil
	}
}

// bindShop ties a privacy request to the shop that sent it. The HMAC covers
// the body but not X-Shopify-Shop-Domain, so without this one signed body
// could be replayed with another shop's header (shop/redact would then delete
// that shop). The body's shop_domain must be present and equal to the header;
// shop_id, when sent, must be a Shopify id and travels with the request so a
// stored shop id can be compared too.
func bindShop(ev *aftercare.Event, bodyDomain, shopID string) error {
	d := strings.ToLower(strings.TrimSpace(bodyDomain))
	switch {
	case d == "":
		return aftercare.Errorf(aftercare.EINVALID, "%s: shop_domain is required", ev.Topic)
	case !shopDomain(d):
		return aftercare.Errorf(aftercare.EINVALID, "%s: shop_domain %q is not a shop domain", ev.Topic, clip(d))
	case ev.Shop == "":
		return aftercare.Errorf(aftercare.EINVALID, "missing %s header", HeaderShop)
	case d != ev.Shop:
		return aftercare.Errorf(aftercare.EINVALID, "%s: the body's shop_domain does not match %s", ev.Topic, HeaderShop)
	case shopID != "" && !numericID(shopID):
		return aftercare.Errorf(aftercare.EINVALID, "%s: shop_id %q is not a Shopify id", ev.Topic, clip(shopID))
	}
	return nil
}

// numericID accepts Shopify's numeric ids.
func numericID(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
