package dispatch

import (
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// decide re-checks a message against fresh state with the one send policy
// the scheduled checks use too; only the stage and the facts differ.
func decide(m *aftercare.Message, c *aftercare.Customer, o *aftercare.Order, inst *aftercare.Install, st aftercare.Settings, now time.Time) aftercare.Ruling {
	var capFrom time.Time
	if c != nil {
		capFrom = c.LastMarketingAt
	}
	return aftercare.Judge(aftercare.Question{Stage: aftercare.AtSend, Now: now, Settings: st, Customer: c, Order: o,
		Kind: m.Kind, DueAt: m.DueAt, OrderID: m.OrderID, ProductID: m.ProductID, VariantID: m.VariantID,
		Exception: m.Exception, Shipment: m.Shipment, Episode: m.Episode, CapFrom: capFrom,
		Uninstalled: inst.Uninstalled()})
}
