package aftercare

import "unicode/utf8"

// Bounds on outside strings. Every event is bounded before anything of it is
// stored, so no item grows past DynamoDB's 400 KB and no key is unusable.
const (
	MaxID       = 255   // ids, keys, codes: longer is not an id (rejected)
	MaxName     = 255   // names and titles: cut
	MaxText     = 1000  // free text from a provider: cut
	MaxURL      = 2048  // a longer URL is dropped
	MaxContact  = 320   // an email (RFC 5321 path) or phone: a longer one is dropped
	MaxTags     = 250   // Shopify's own cap on tags
	MaxList     = 500   // line items, fulfillments, variants, tracking numbers
	MaxRedacted = 10000 // orders named by one privacy request
)

// Bound checks the event's identifiers and cuts its free text and lists to
// their bounds, in place. An identifier over MaxID is EINVALID: it cannot be
// a real one, and storing it would make a poison item.
func (ev *Event) Bound() error {
	b := bounder{}
	b.id("id", ev.ID)
	b.id("kind", string(ev.Kind))
	b.id("source", ev.Source)
	b.id("topic", ev.Topic)
	b.id("shop", ev.Shop)
	if o := ev.Order; o != nil {
		b.order(o)
	}
	if f := ev.Fulfillment; f != nil {
		b.fulfillment(f)
	}
	if t := ev.Tracking; t != nil {
		b.id("tracking_number", t.TrackingNumber)
		b.id("carrier", t.Carrier)
		b.id("status", string(t.Status))
		b.id("exception", string(t.Exception))
		b.id("fulfillment_id", t.FulfillmentID)
		b.id("order_id", t.OrderID)
		t.Detail = Cut(t.Detail, MaxText)
		t.Message = Cut(t.Message, MaxText)
		t.TrackingURL = drop(t.TrackingURL, MaxURL)
	}
	if c := ev.Customer; c != nil {
		b.customer(c)
	}
	if c := ev.Consent; c != nil {
		b.id("customer_id", c.CustomerID)
		b.id("channel", string(c.Channel))
		c.Contact = drop(c.Contact, MaxContact)
		b.consent(&c.Consent)
	}
	if i := ev.Inventory; i != nil {
		b.id("inventory_item_id", i.InventoryItemID)
		b.id("location_id", i.LocationID)
	}
	if p := ev.Product; p != nil {
		b.id("product_id", p.ID)
		p.Title = Cut(p.Title, MaxName)
		p.Variants = capList(p.Variants, MaxList)
		for i := range p.Variants {
			v := &p.Variants[i]
			b.id("variant_id", v.ID)
			b.id("inventory_item_id", v.InventoryItemID)
			v.SKU = Cut(v.SKU, MaxName)
			v.Title = Cut(v.Title, MaxName)
		}
	}
	if r := ev.Refund; r != nil {
		b.id("refund_id", r.ID)
		b.id("order_id", r.OrderID)
	}
	if p := ev.Privacy; p != nil {
		b.id("shop_id", p.ShopID)
		b.id("customer_id", p.CustomerID)
		b.id("data_request_id", p.DataRequestID)
		b.id("continue", p.Continue)
		p.Email = drop(p.Email, MaxContact)
		p.Phone = drop(p.Phone, MaxContact)
		p.Orders = capList(p.Orders, MaxRedacted)
		for _, id := range p.Orders {
			b.id("order_id", id)
		}
	}
	if o := ev.Overdue; o != nil {
		b.id("order_id", o.OrderID)
		b.id("shipment", o.Shipment)
		o.What = Cut(o.What, MaxName)
	}
	if r := ev.Restock; r != nil {
		b.id("variant_id", r.VariantID)
		b.id("product_id", r.ProductID)
		b.id("order_id", r.OrderID)
		b.id("customer_id", r.CustomerID)
	}
	if f := ev.EmailFeedback; f != nil {
		b.id("customer_id", f.CustomerID)
		f.Feedback = capList(f.Feedback, MaxList)
		for i := range f.Feedback {
			fb := &f.Feedback[i]
			b.id("feedback_type", fb.Type)
			b.id("message_id", fb.MessageID)
			fb.Address = drop(fb.Address, MaxContact)
			fb.Detail = Cut(fb.Detail, MaxText)
		}
	}
	return b.err
}

func (b *bounder) order(o *OrderSnapshot) {
	b.id("order_id", o.ID)
	o.Name = Cut(o.Name, MaxName)
	o.Email = drop(o.Email, MaxContact)
	o.Phone = drop(o.Phone, MaxContact)
	o.CancelReason = Cut(o.CancelReason, MaxName)
	b.id("financial_status", o.FinancialStatus)
	b.id("fulfillment_status", o.FulfillmentStatus)
	b.id("currency", o.Currency)
	o.Tags = b.tags(o.Tags)
	if c := o.Customer; c != nil {
		b.customer(c)
	}
	if len(o.LineItems) > MaxList {
		o.LineItemCount = max(o.LineItemCount, len(o.LineItems))
		o.LineItems = o.LineItems[:MaxList]
	}
	for i := range o.LineItems {
		li := &o.LineItems[i]
		b.id("line_item_id", li.ID)
		b.id("variant_id", li.VariantID)
		b.id("product_id", li.ProductID)
		li.SKU = Cut(li.SKU, MaxName)
		li.Title = Cut(li.Title, MaxName)
	}
	o.Fulfillments = capList(o.Fulfillments, MaxList)
	for i := range o.Fulfillments {
		b.fulfillment(&o.Fulfillments[i])
	}
}

func (b *bounder) fulfillment(f *Fulfillment) {
	b.id("fulfillment_id", f.ID)
	b.id("order_id", f.OrderID)
	b.id("fulfillment_status", f.Status)
	b.id("shipment_status", string(f.Shipment))
	b.id("shipment_exception", string(f.ShipmentException))
	f.TrackingCompany = Cut(f.TrackingCompany, MaxName)
	f.ShipmentDetail = Cut(f.ShipmentDetail, MaxText)
	f.TrackingNumbers = capList(f.TrackingNumbers, MaxList)
	for _, n := range f.TrackingNumbers {
		b.id("tracking_number", n)
	}
	f.TrackingURLs = capList(f.TrackingURLs, MaxList)
	for i, u := range f.TrackingURLs {
		f.TrackingURLs[i] = drop(u, MaxURL)
	}
	f.LineItemIDs = capList(f.LineItemIDs, MaxList)
	for _, id := range f.LineItemIDs {
		b.id("line_item_id", id)
	}
}

func (b *bounder) customer(c *CustomerInfo) {
	b.id("customer_id", c.ID)
	c.Email = drop(c.Email, MaxContact)
	c.Phone = drop(c.Phone, MaxContact)
	c.FirstName = Cut(c.FirstName, MaxName)
	c.LastName = Cut(c.LastName, MaxName)
	c.Tags = b.tags(c.Tags)
	b.consent(&c.EmailConsent)
	b.consent(&c.SMSConsent)
}

func (b *bounder) consent(c *Consent) {
	b.id("consent_state", c.State)
	c.Source = Cut(c.Source, MaxName)
}

func (b *bounder) tags(tags []string) []string {
	tags = capList(tags, MaxTags)
	for i, t := range tags {
		tags[i] = Cut(t, MaxName)
	}
	return tags
}

// bounder keeps the first identifier found over its bound.
type bounder struct{ err error }

func (b *bounder) id(field, v string) {
	if b.err == nil && len(v) > MaxID {
		b.err = Errorf(EINVALID, "%s is %d bytes, over the %d an identifier may have", field, len(v), MaxID)
	}
}

// Cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// drop empties a value that is too long to be usable (a URL, an address):
// a cut one would be wrong, not shorter.
func drop(s string, n int) string {
	if len(s) > n {
		return ""
	}
	return s
}

func capList[T any](l []T, n int) []T {
	if len(l) > n {
		return l[:n]
	}
	return l
}
