// Package aftercare is the domain of the post-purchase care engine: the normalized
// events that webhooks become, the order, shipment and customer state they build,
// the messages that state triggers, shop settings and the error codes every edge
// maps to an answer. It holds no AWS, HTTP or vendor types; adapters live in
// packages named after their technology and depend on this one.
package aftercare
