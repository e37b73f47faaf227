package state

import (
	"github.com/aftercare/aftercare/internal/aftercare"
)

// applyCustomer applies a customer profile (customers/create, update, delete).
func applyCustomer(t *tx, shop string, info *aftercare.CustomerInfo) {
	c := t.customer(shop, info.ID)
	t.settingsFor(shop)
	if c == nil || t.missing() {
		return
	}
	if info.Deleted {
		if !c.Deleted {
			// Deleted in the shop: stop messaging and drop contact details.
			c.Deleted = true
			c.Email, c.Phone, c.FirstName, c.LastName = "", "", "", ""
			t.touchCustomer(c)
		}
		return
	}
	applyCustomerInfo(t, c, info)
}

// applyCustomerInfo merges a profile into a customer: contact details when the
// profile is newer, each channel's consent when its own change is newer.
// Redacted or deleted customers keep their tombstone.
func applyCustomerInfo(t *tx, c *aftercare.Customer, info *aftercare.CustomerInfo) {
	if info == nil || c.Suppressed() {
		return
	}
	changed := false
	set := func(dst *string, v string) {
		if v != "" && *dst != v {
			*dst, changed = v, true
		}
	}
	switch {
	case !info.UpdatedAt.IsZero() && info.UpdatedAt.After(c.ProfileAt):
		set(&c.Email, info.Email)
		set(&c.Phone, info.Phone)
		set(&c.FirstName, info.FirstName)
		set(&c.LastName, info.LastName)
		if !equalStrings(c.Tags, info.Tags) {
			c.Tags, changed = info.Tags, true
		}
		// A newer profile that changes nothing is not written for its time
		// alone: Shopify bumps updated_at with every order (orders_count,
		// total_spent), and rewriting the customer for it cost two write
		// units per order event. What this gives up: a profile that changed
		// and changed back, its middle copy arriving last, is applied.
		c.ProfileAt = info.UpdatedAt.UTC()
	case info.UpdatedAt.IsZero():
		// A guest checkout carries no profile time: fill gaps only.
		if c.Email == "" {
			set(&c.Email, info.Email)
		}
		if c.Phone == "" {
			set(&c.Phone, info.Phone)
		}
	}
	if mergeConsent(&c.EmailConsent, info.EmailConsent, info) {
		changed = true
	}
	if mergeConsent(&c.SMSConsent, info.SMSConsent, info) {
		changed = true
	}
	if changed {
		t.touchCustomer(c)
	}
}

// mergeConsent takes a newer consent. A consent without its own time counts
// as of the profile that carries it.
func mergeConsent(dst *aftercare.Consent, in aftercare.Consent, info *aftercare.CustomerInfo) bool {
	if in.State == "" {
		return false
	}
	if in.UpdatedAt.IsZero() {
		in.UpdatedAt = info.UpdatedAt
	}
	in.UpdatedAt = in.UpdatedAt.UTC()
	if dst.State != "" && !in.UpdatedAt.After(dst.UpdatedAt) {
		return false
	}
	if *dst == in {
		return false
	}
	*dst = in
	return true
}

// applyConsent applies a consent change for one channel.
func applyConsent(t *tx, shop string, u *aftercare.ConsentUpdate) {
	c := t.customer(shop, u.CustomerID)
	t.settingsFor(shop)
	if c == nil || t.missing() {
		return
	}
	if c.Suppressed() {
		t.note("consent for suppressed customer %s ignored", c.ID)
		return
	}
	dst := &c.EmailConsent
	contact := &c.Email
	if u.Channel == aftercare.ChannelSMS {
		dst, contact = &c.SMSConsent, &c.Phone
	}
	changed := mergeConsent(dst, u.Consent, &aftercare.CustomerInfo{UpdatedAt: t.ev.At})
	if *contact == "" && u.Contact != "" {
		*contact, changed = u.Contact, true
	}
	if changed {
		t.touchCustomer(c)
	} else {
		t.note("consent for %s not newer than the stored one", c.ID)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
