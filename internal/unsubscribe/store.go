package unsubscribe

import (
	"context"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// Customers is the store a withdrawal goes through (the table's store, or
// its in-memory twin): it reads the customer, applies the change and writes
// it back conditioned on the version read, retrying when an event won the
// race, and answers ENOTFOUND for a customer the shop does not have.
type Customers interface {
	UpdateCustomer(ctx context.Context, shop, id string, change func(*aftercare.Customer) bool) error
}

// StoreConsent withdraws consent on the stored customer.
type StoreConsent struct {
	Customers Customers
}

// Unsubscribe implements Consent.
func (s StoreConsent) Unsubscribe(ctx context.Context, shop, customerID string, ch aftercare.Channel, at time.Time, source string) error {
	return s.Customers.UpdateCustomer(ctx, shop, customerID, func(c *aftercare.Customer) bool {
		return Withdraw(c, ch, at, source)
	})
}
