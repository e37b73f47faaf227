package dispatch

import (
	"context"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/delivery"
)

// deliver hands the rendered message to the sender: the whole message to a
// provider (the router), its JSON to a plain Sender.
func (d *Dispatcher) deliver(ctx context.Context, out *delivery.Message) error {
	if p, ok := d.Sender.(delivery.Provider); ok {
		return p.Deliver(ctx, out)
	}
	return d.Sender.Send(ctx, out.ID, out.JSON)
}

// unsubscribeURL is the link of a marketing message to a customer.
func (d *Dispatcher) unsubscribeURL(m *aftercare.Message, ch aftercare.Channel) string {
	if d.Links == nil || m.Kind.Category() != aftercare.Marketing || m.CustomerID == "" {
		return ""
	}
	return d.Links.UnsubscribeURL(m.Shop, m.CustomerID, ch)
}

// Render is the rendering dispatch does at send time, for previews and tests:
// the message as the provider would get it.
func Render(m *aftercare.Message, c *aftercare.Customer, o *aftercare.Order, st aftercare.Settings, ch aftercare.Channel, now time.Time, unsubscribeURL string) (*delivery.Message, error) {
	return render(m, c, o, st, ch, nil, now, unsubscribeURL)
}
