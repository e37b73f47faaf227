package dispatch

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/delivery"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/templates"
)

// payload is the delivery contract (SPEC section 6).
type payload struct {
	ID           string            `json:"id"`
	Kind         aftercare.Kind    `json:"kind"`
	Category     string            `json:"category"`
	Audience     string            `json:"audience"`
	Channel      aftercare.Channel `json:"channel"`
	Shop         string            `json:"shop"`
	Customer     *customerOut      `json:"customer,omitempty"`
	Order        *orderOut         `json:"order,omitempty"`
	Subject      string            `json:"subject"`
	Body         string            `json:"body"`
	Fields       map[string]string `json:"fields"`
	DiscountCode string            `json:"discount_code,omitempty"`
	// UnsubscribeURL is on marketing messages only (SPEC 12).
	UnsubscribeURL string `json:"unsubscribe_url,omitempty"`
	CreatedAt      string `json:"created_at"`
}

type customerOut struct {
	ID        string `json:"id"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	FirstName string `json:"first_name,omitempty"`
}

type orderOut struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// render builds the rendered message from the message and fresh state: the
// text, the HTML, the addresses and the SPEC 6 JSON, one value for whichever
// provider delivers it.
func render(m *aftercare.Message, c *aftercare.Customer, o *aftercare.Order, st aftercare.Settings, ch aftercare.Channel, digest *report.DigestText, now time.Time, unsubscribeURL string) (*delivery.Message, error) {
	f := templates.Fields{
		WhatHappened: m.What, Carrier: m.Carrier, TrackingNumber: m.Tracking, Playbook: string(m.Exception), Detail: m.Detail,
		TrackingURL: m.TrackingURL, UnsubscribeURL: unsubscribeURL,
	}
	if !m.EstimatedDelivery.IsZero() {
		day := m.EstimatedDelivery.In(st.Location())
		f.EstimatedDate, f.EstimatedDelivery = day.Format(time.DateOnly), day.Format("Monday, January 2")
	}
	team := m.Kind.Audience() == aftercare.AudienceTeam
	if team {
		ch = aftercare.ChannelEmail
	}
	if digest != nil {
		f.WhatHappened, f.NextAction, f.HelpURL = digest.WhatHappened, digest.NextAction, digest.Link
	}
	p := payload{
		ID: m.ID, Kind: m.Kind, Category: string(m.Kind.Category()), Audience: string(m.Kind.Audience()),
		Channel: ch, Shop: m.Shop, CreatedAt: m.CreatedAt.UTC().Format(time.RFC3339), UnsubscribeURL: unsubscribeURL,
	}
	out := &delivery.Message{
		ID: m.ID, Kind: m.Kind, Category: m.Kind.Category(), Audience: m.Kind.Audience(), Channel: ch, Shop: m.Shop,
		OrderID: m.OrderID, From: st.Sender(), FromName: st.ShopName, ReplyTo: st.SupportEmail, UnsubscribeURL: unsubscribeURL,
		EmailProvider: st.Channels.EmailProvider, SMSProvider: st.Channels.SMSProvider,
	}
	if c != nil && !c.Redacted {
		f.FirstName = c.FirstName
		p.Customer = &customerOut{ID: c.ID, Email: c.Email, Phone: c.Phone, FirstName: c.FirstName}
		if team {
			f.CustomerEmail, f.CustomerPhone = c.Email, c.Phone
		} else {
			out.CustomerID = c.ID
			out.To, out.ToName = c.Email, strings.TrimSpace(c.FirstName+" "+c.LastName)
			if ch == aftercare.ChannelSMS {
				out.To, out.ToName = c.Phone, ""
			}
		}
	} else if m.CustomerID != "" {
		p.Customer = &customerOut{ID: m.CustomerID}
	}
	if team {
		// Team messages go to the shop's team, never to the customer they name.
		out.To, out.ToName = st.TeamAddress(), st.ShopName+" team"
	}
	if o != nil {
		f.OrderNumber = o.Name
		p.Order = &orderOut{ID: o.ID, Name: o.Name}
		f.Items = items(m, o)
	} else if m.OrderID != "" {
		p.Order = &orderOut{ID: m.OrderID}
	}
	f = templates.Build(m.Kind, st, f)
	r, err := templates.Render(m.Kind, ch, f)
	if err != nil {
		return nil, err
	}
	p.Subject, p.Body, p.Fields, p.DiscountCode = r.Subject, r.Body, r.Fields, f.DiscountCode
	if m.Kind == aftercare.KindDataRequest && m.Parts > 1 {
		p.Subject = fmt.Sprintf("%s (part %d of %d)", p.Subject, m.Part, m.Parts)
		r.Subject = p.Subject
	}
	if m.Kind == aftercare.KindDataRequest && len(m.Export) > 0 {
		p.Body += "\n\n" + string(m.Export)
	}
	out.Subject, out.Text = r.Subject, p.Body
	if ch == aftercare.ChannelEmail {
		out.HTML = templates.HTML(r, f)
	}
	if out.JSON, err = json.Marshal(p); err != nil {
		return nil, err
	}
	return out, nil
}

// items names what the message is about: the one product for stock and
// replenishment notes, else everything on the order.
func items(m *aftercare.Message, o *aftercare.Order) string {
	var out []string
	for _, li := range o.LineItems {
		if li.Title == "" {
			continue
		}
		if m.VariantID != "" || m.ProductID != "" {
			if (m.VariantID == "" || li.VariantID != m.VariantID) && (m.ProductID == "" || li.ProductID != m.ProductID) {
				continue
			}
		}
		out = append(out, li.Title)
	}
	return strings.Join(out, ", ")
}
