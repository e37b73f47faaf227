package state

import "github.com/aftercare/aftercare/internal/aftercare"

// applyEmailFeedback records SES's bounces and complaints on the customer the
// email was for: a hard bounce stops all email to that address, a complaint
// stops marketing email (Customer.ApplyEmailFeedback); dispatch's send policy
// reads them at send time.
func applyEmailFeedback(t *tx, shop string, r *aftercare.EmailFeedbackReport) {
	c := t.customer(shop, r.CustomerID)
	if c == nil || t.missing() {
		return
	}
	changed := false
	for _, f := range r.Feedback {
		changed = c.ApplyEmailFeedback(f) || changed
	}
	if changed {
		t.touchCustomer(c)
	} else {
		t.note("email feedback for %s changes nothing (another address, soft bounce, or already recorded)", c.ID)
	}
}
