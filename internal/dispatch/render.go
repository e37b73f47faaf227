package dispatch

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
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
	CreatedAt    string            `json:"created_at"`
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

// render builds the delivered JSON from the message and fresh state.
func render(m *aftercare.Message, c *aftercare.Customer, o *aftercare.Order, st aftercare.Settings, ch aftercare.Channel, digest *report.DigestText, now time.Time) ([]byte, error) {
	f := templates.Fields{
		WhatHappened: m.What, Carrier: m.Carrier, TrackingNumber: m.Tracking, Playbook: string(m.Exception), Detail: m.Detail,
	}
	if digest != nil {
		f.WhatHappened, f.NextAction, f.HelpURL = digest.WhatHappened, digest.NextAction, digest.Link
	}
	p := payload{
		ID: m.ID, Kind: m.Kind, Category: string(m.Kind.Category()), Audience: string(m.Kind.Audience()),
		Channel: ch, Shop: m.Shop, CreatedAt: m.CreatedAt.UTC().Format(time.RFC3339),
	}
	if c != nil && !c.Redacted {
		f.FirstName = c.FirstName
		p.Customer = &customerOut{ID: c.ID, Email: c.Email, Phone: c.Phone, FirstName: c.FirstName}
		if m.Kind.Audience() == aftercare.AudienceTeam {
			f.CustomerEmail, f.CustomerPhone = c.Email, c.Phone
		}
	} else if m.CustomerID != "" {
		p.Customer = &customerOut{ID: m.CustomerID}
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
	if m.Kind == aftercare.KindDataRequest && len(m.Export) > 0 {
		p.Body += "\n\n" + string(m.Export)
	}
	return json.Marshal(p)
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
