package unsubscribe

import (
	"context"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/state"
)

// Customers is the store a withdrawal goes through (the table's store, or
// its in-memory twin): it reads the customer, applies the change and writes
// it back conditioned on the version read, retrying when an event won the
// race, and answers ENOTFOUND for a customer the shop does not have.
type Customers interface {
	UpdateCustomer(ctx context.Context, shop, id string, change func(*aftercare.Customer) bool, adds func(before, after *aftercare.Customer) []state.Add) error
}

// Settings gives a shop's settings: the report counts the unsubscribe on its
// day in the shop's time zone.
type Settings interface {
	Settings(ctx context.Context, shop string) (aftercare.Settings, error)
}

// StoreConsent withdraws consent on the stored customer and counts it in the
// shop's report, in one write.
type StoreConsent struct {
	Customers Customers
	Settings  Settings // nil: the default settings' zone
}

// Unsubscribe implements Consent.
func (s StoreConsent) Unsubscribe(ctx context.Context, shop, customerID string, ch aftercare.Channel, at time.Time, source string) error {
	st := aftercare.DefaultSettings()
	if s.Settings != nil {
		var err error
		if st, err = s.Settings.Settings(ctx, shop); err != nil {
			return err
		}
	}
	return s.Customers.UpdateCustomer(ctx, shop, customerID, func(c *aftercare.Customer) bool {
		return Withdraw(c, ch, at, source)
	}, func(before, after *aftercare.Customer) []state.Add {
		return state.DayAdds(shop, report.Change(before, after, st.Location()))
	})
}
