package aftercare

import "time"

// Sources of events.
const (
	SourceShopify   = "shopify"
	SourceEasyPost  = "easypost"
	SourceAfterShip = "aftership"
	SourceShippo    = "shippo"
)

// EventKind says which part of an Event is filled.
type EventKind string

const (
	EventOrder          EventKind = "order"       // OrderSnapshot
	EventFulfillment    EventKind = "fulfillment" // Fulfillment
	EventTracking       EventKind = "tracking"    // Tracking
	EventCustomer       EventKind = "customer"    // Customer profile (or deletion)
	EventConsent        EventKind = "consent"     // Consent for one channel
	EventInventory      EventKind = "inventory"   // Inventory level of one item at one location
	EventProduct        EventKind = "product"     // Product with its variants
	EventRefund         EventKind = "refund"      // Refund on an order
	EventCustomerRedact EventKind = "customer_redact"
	EventShopRedact     EventKind = "shop_redact"
	EventDataRequest    EventKind = "data_request"
	EventEmailFeedback  EventKind = "email_feedback" // EmailFeedback: SES bounces and complaints
	// EventShopUninstalled is app/uninstalled: At is when; no payload.
	EventShopUninstalled EventKind = "shop_uninstalled"

	// Internal events, queued by aftercare itself on the inbox.
	EventOverdue       EventKind = "overdue"        // a check found a parcel without scans or an order unshipped
	EventStockReturned EventKind = "stock_returned" // a variant came back in stock: fan out to waiting orders
	EventRestocked     EventKind = "restocked"      // one waiting order's variant is back
)

// SourceAftercare marks internal events.
const SourceAftercare = "aftercare"

// Event is one webhook, verified and normalized: small, vendor-free and safe to
// queue. ID is the dedupe key: every delivery of the same upstream event carries
// the same ID.
type Event struct {
	ID       string    `json:"id"`
	Kind     EventKind `json:"kind"`
	Source   string    `json:"source"`
	Topic    string    `json:"topic"`
	Shop     string    `json:"shop,omitempty"`
	At       time.Time `json:"at"`       // when it happened upstream (updated_at, scan time)
	Received time.Time `json:"received"` // when the webhook reached us
	// History marks an event imported from the shop's past (backfill): it
	// becomes state and lifecycle scheduling, never a message about itself.
	History bool `json:"history,omitempty"`

	Order       *OrderSnapshot  `json:"order,omitempty"`
	Fulfillment *Fulfillment    `json:"fulfillment,omitempty"`
	Tracking    *TrackingUpdate `json:"tracking,omitempty"`
	Customer    *CustomerInfo   `json:"customer,omitempty"`
	Consent     *ConsentUpdate  `json:"consent,omitempty"`
	Inventory   *InventoryLevel `json:"inventory,omitempty"`
	Product     *Product        `json:"product,omitempty"`
	Refund      *Refund         `json:"refund,omitempty"`
	Privacy     *PrivacyRequest `json:"privacy,omitempty"`
	Overdue     *Overdue        `json:"overdue,omitempty"`
	Restock     *Restock        `json:"restock,omitempty"`
	// EmailFeedback is what SES reported about an email to one customer.
	EmailFeedback *EmailFeedbackReport `json:"email_feedback,omitempty"`
}

// EmailFeedbackReport is one SES event about the email aftercare sent to a
// customer (found by the X-Aftercare-* headers SES echoes back).
type EmailFeedbackReport struct {
	CustomerID string          `json:"customer_id"`
	Feedback   []EmailFeedback `json:"feedback"`
}

// OrderSnapshot is an order as the storefront sends it.
type OrderSnapshot struct {
	ID                string        `json:"id"`
	Name              string        `json:"name"` // "#1001"
	Customer          *CustomerInfo `json:"customer,omitempty"`
	Email             string        `json:"email,omitempty"` // order contact, also for guest checkouts
	Phone             string        `json:"phone,omitempty"`
	CreatedAt         time.Time     `json:"created_at"`
	UpdatedAt         time.Time     `json:"updated_at"`
	ProcessedAt       time.Time     `json:"processed_at,omitzero"`
	CancelledAt       time.Time     `json:"cancelled_at,omitzero"`
	CancelReason      string        `json:"cancel_reason,omitempty"`
	FinancialStatus   string        `json:"financial_status,omitempty"`
	FulfillmentStatus string        `json:"fulfillment_status,omitempty"` // "", "partial", "fulfilled", "restocked"
	TotalCents        int64         `json:"total_cents"`
	Currency          string        `json:"currency,omitempty"`
	Tags              []string      `json:"tags,omitempty"`
	Test              bool          `json:"test,omitempty"`
	LineItems         []LineItem    `json:"line_items,omitempty"`
	LineItemCount     int           `json:"line_item_count,omitempty"` // before any truncation
	Fulfillments      []Fulfillment `json:"fulfillments,omitempty"`
}

// LineItem is one ordered product variant.
type LineItem struct {
	ID        string `json:"id"`
	VariantID string `json:"variant_id,omitempty"`
	ProductID string `json:"product_id,omitempty"`
	SKU       string `json:"sku,omitempty"`
	Title     string `json:"title,omitempty"`
	Quantity  int    `json:"quantity"`
}

// Fulfillment is one shipment the storefront created for an order.
type Fulfillment struct {
	ID              string   `json:"id"`
	OrderID         string   `json:"order_id"`
	Status          string   `json:"status,omitempty"` // Shopify fulfillment status: success, cancelled, ...
	TrackingNumbers []string `json:"tracking_numbers,omitempty"`
	TrackingCompany string   `json:"tracking_company,omitempty"`
	// TrackingURLs are the carrier's pages, in TrackingNumbers' order (TrackingLink-checked).
	TrackingURLs   []string       `json:"tracking_urls,omitempty"`
	Shipment       ShipmentStatus `json:"shipment_status,omitempty"` // normalized shipment_status, "" when absent
	ShipmentDetail string         `json:"shipment_detail,omitempty"` // raw shipment_status
	// ShipmentException is the playbook shipment_status calls for, if any.
	ShipmentException ExceptionKind `json:"shipment_exception,omitempty"`
	CreatedAt         time.Time     `json:"created_at,omitzero"`
	UpdatedAt         time.Time     `json:"updated_at,omitzero"`
	LineItemIDs       []string      `json:"line_item_ids,omitempty"`
}

// TrackingUpdate is one status report about a parcel from a carrier, a tracking
// provider or the storefront's fulfillment events.
type TrackingUpdate struct {
	TrackingNumber    string         `json:"tracking_number,omitempty"`
	Carrier           string         `json:"carrier,omitempty"`
	Status            ShipmentStatus `json:"status"`
	Detail            string         `json:"detail,omitempty"`    // provider's own status (and substatus)
	Message           string         `json:"message,omitempty"`   // human text from the provider
	Exception         ExceptionKind  `json:"exception,omitempty"` // which playbook a problem status calls for
	EstimatedDelivery time.Time      `json:"estimated_delivery,omitzero"`
	EventTime         time.Time      `json:"event_time"`
	TrackingURL       string         `json:"tracking_url,omitempty"` // the provider's public page (TrackingLink-checked)
	// Set for Shopify fulfillment events, which name the fulfillment, not the parcel.
	FulfillmentID string `json:"fulfillment_id,omitempty"`
	OrderID       string `json:"order_id,omitempty"`
}

// CustomerInfo is a customer profile with contact and consent.
type CustomerInfo struct {
	ID           string    `json:"id"`
	Email        string    `json:"email,omitempty"`
	Phone        string    `json:"phone,omitempty"`
	FirstName    string    `json:"first_name,omitempty"`
	LastName     string    `json:"last_name,omitempty"`
	Tags         []string  `json:"tags,omitempty"`
	EmailConsent Consent   `json:"email_consent,omitzero"`
	SMSConsent   Consent   `json:"sms_consent,omitzero"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
	Deleted      bool      `json:"deleted,omitempty"` // customers/delete
}

// Consent states as Shopify names them.
const (
	ConsentSubscribed    = "subscribed"
	ConsentNotSubscribed = "not_subscribed"
	ConsentUnsubscribed  = "unsubscribed"
	ConsentPending       = "pending"
	ConsentRedacted      = "redacted"
	ConsentInvalid       = "invalid"
)

// Consent is the marketing consent for one channel.
type Consent struct {
	State     string    `json:"state,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	Source    string    `json:"source,omitempty"` // who changed it when not Shopify (e.g. one_click unsubscribe)
}

// Channels.
type Channel string

const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
)

// ConsentUpdate changes the consent of one channel.
type ConsentUpdate struct {
	CustomerID string  `json:"customer_id"`
	Channel    Channel `json:"channel"`
	Contact    string  `json:"contact,omitempty"` // the address or number it applies to
	Consent    Consent `json:"consent"`
}

// InventoryLevel is the available quantity of one inventory item at one location.
type InventoryLevel struct {
	InventoryItemID string    `json:"inventory_item_id"`
	LocationID      string    `json:"location_id"`
	Available       int       `json:"available"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Product carries the variant to inventory item mapping the stock rules need.
type Product struct {
	ID        string    `json:"id"`
	Title     string    `json:"title,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	Variants  []Variant `json:"variants,omitempty"`
}

// Variant is one purchasable variant of a product.
type Variant struct {
	ID                string `json:"id"`
	InventoryItemID   string `json:"inventory_item_id,omitempty"`
	SKU               string `json:"sku,omitempty"`
	Title             string `json:"title,omitempty"`
	InventoryQuantity *int   `json:"inventory_quantity,omitempty"`
	Tracked           bool   `json:"tracked,omitempty"` // inventory_management is set
}

// Refund is money returned on an order.
type Refund struct {
	ID          string    `json:"id"`
	OrderID     string    `json:"order_id"`
	AmountCents int64     `json:"amount_cents"`
	CreatedAt   time.Time `json:"created_at"`
}

// PrivacyRequest is one of the mandatory privacy webhooks.
type PrivacyRequest struct {
	ShopID        string   `json:"shop_id,omitempty"` // as the body sent it, bound to the shop domain
	CustomerID    string   `json:"customer_id,omitempty"`
	Email         string   `json:"email,omitempty"`
	Phone         string   `json:"phone,omitempty"`
	Orders        []string `json:"orders,omitempty"` // orders_to_redact or orders_requested
	DataRequestID string   `json:"data_request_id,omitempty"`
	// Continue is where a shop/redact that did not fit one invocation goes
	// on: set only on the continuation events the processor queues itself.
	Continue string `json:"continue,omitempty"`
}

// Overdue says a check found a parcel with no scan for too long (Shipment set)
// or a paid order still unshipped past its promise.
type Overdue struct {
	OrderID  string    `json:"order_id,omitempty"`
	Shipment string    `json:"shipment,omitempty"` // tracking key
	Since    time.Time `json:"since"`              // last scan, or when the order was paid
	What     string    `json:"what"`
}

// Restock says a variant is back in stock, for every waiting order
// (EventStockReturned) or for one (EventRestocked).
type Restock struct {
	VariantID  string `json:"variant_id"`
	ProductID  string `json:"product_id,omitempty"`
	OrderID    string `json:"order_id,omitempty"`
	CustomerID string `json:"customer_id,omitempty"`
}
