package shopify

import "sort"

// ComplianceTopics are the mandatory privacy topics. shopify.app.toml lists
// them under compliance_topics; they cannot be subscribed through the API.
var ComplianceTopics = []string{"customers/data_request", "customers/redact", "shop/redact"}

// notSubscribed are handled topics that are not worth a subscription:
// orders/edited carries no snapshot (the orders/updated sent with it does).
var notSubscribed = map[string]bool{"orders/edited": true}

// WebhookTopics lists every topic the app subscribes to, sorted: each topic a
// parser handles (app/uninstalled among them), except the compliance topics
// and those in notSubscribed. shopify.app.toml and `aftercare connect` both
// come from this list.
func WebhookTopics() []string {
	compliance := map[string]bool{}
	for _, t := range ComplianceTopics {
		compliance[t] = true
	}
	var out []string
	for t := range topics {
		if !compliance[t] && !notSubscribed[t] {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}
