// Package rules turns state changes into messages: the transactional notices
// (shipped, delivered, each exception playbook and its resolution), the team's
// support tasks and privacy exports. Every message id is derived from its
// cause, so a replayed or reordered webhook can only produce the same ids.
package rules

import (
	"strconv"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/state"
)

// Rules is the rule set; it has no state of its own.
type Rules struct{}

// Messages returns what the changes call for, in order.
func (Rules) Messages(changes []state.Change, now time.Time) []aftercare.Message {
	var out []aftercare.Message
	add := func(m aftercare.Message, cause ...string) {
		if m.Kind.Audience() == aftercare.AudienceCustomer && m.CustomerID == "" {
			return // nobody to tell; the team still gets its task
		}
		m.Stamp(now, cause...)
		out = append(out, m)
	}
	for _, ch := range changes {
		if ch.History {
			continue // imported history: nothing is sent about the past
		}
		base := aftercare.Message{
			Shop: ch.Shop, CustomerID: ch.CustomerID, OrderID: ch.OrderID, Shipment: ch.Shipment,
			Tracking: ch.Tracking, Carrier: ch.Carrier, What: ch.What,
			TrackingURL: ch.TrackingURL, EstimatedDelivery: ch.ETA,
		}
		switch ch.Type {
		case state.ShipmentShipped:
			m := base
			m.Kind = aftercare.KindOrderShipped
			add(m, ch.Shipment)
		case state.ShipmentDelivered:
			m := base
			m.Kind = aftercare.KindDeliveredSetup
			add(m, ch.Shipment)
		case state.ExceptionOpened:
			e := ch.Exception
			key := aftercare.ExceptionKey(e.Kind, e.Subject)
			m := base
			m.Kind, m.Exception, m.Episode, m.Detail = e.Kind.MessageKind(), e.Kind, e.Episode, e.Detail
			if m.What == "" {
				m.What = e.What
			}
			if e.Source == aftercare.ExceptionFromMerchant {
				// "Tagged by the shop" is for the team; the customer gets the
				// playbook's own words.
				m.What, m.Detail = "", e.What
			}
			add(m, ch.OrderID, key, e.Episode)
			task := m
			task.Kind = aftercare.KindSupportTask
			add(task, string(e.Kind), ch.OrderID, key, e.Episode)
		case state.ExceptionClosed:
			if !ch.Resolved {
				continue
			}
			e := ch.Exception
			m := base
			// The close reason ("moving again: in_transit") is internal: the
			// template words the resolution for the customer.
			m.Kind, m.Exception, m.Episode, m.Detail, m.What = aftercare.KindExceptionResolved, e.Kind, e.Episode, e.ClosedWhy, ""
			m.Shipment = e.Subject
			add(m, ch.OrderID, aftercare.ExceptionKey(e.Kind, e.Subject), e.Episode)
		case state.DataRequested:
			m := base
			m.Kind, m.Export = aftercare.KindDataRequest, ch.Export
			if ch.Parts > 1 {
				m.Part, m.Parts = ch.Part, ch.Parts
				add(m, ch.RequestID, "part", strconv.Itoa(ch.Part), strconv.Itoa(ch.Parts))
				continue
			}
			add(m, ch.RequestID)
		}
	}
	return out
}
