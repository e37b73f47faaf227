package shopify

import (
	"net/http"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// TopicAppUninstalled is sent when a merchant removes the app.
const TopicAppUninstalled = "app/uninstalled"

// parseUninstalled reads an app/uninstalled webhook. Its body is the Shop
// object (id, domain, myshopify_domain, updated_at, ...). The HMAC covers
// the body but not X-Shopify-Shop-Domain, so, as for the privacy topics, the
// body's myshopify_domain must be present and name the header's shop: a
// signed body replayed with another shop's header would otherwise silence
// that shop.
//
// The event's time is when Shopify triggered the webhook (uninstalledAt), else
// when it reached us: the body's updated_at is when the shop's own record
// last changed, which may be long before the uninstall (and before a later
// reconnect, which would then seem newer).
func parseUninstalled(ev *aftercare.Event, body []byte, received time.Time) error {
	var s struct {
		MyshopifyDomain string `json:"myshopify_domain"`
	}
	if err := decode(ev, body, &s); err != nil {
		return err
	}
	d := strings.ToLower(strings.TrimSpace(s.MyshopifyDomain))
	switch {
	case d == "":
		return aftercare.Errorf(aftercare.EINVALID, "%s: myshopify_domain is required", ev.Topic)
	case ev.Shop == "":
		return aftercare.Errorf(aftercare.EINVALID, "missing %s header", HeaderShop)
	case d != ev.Shop:
		return aftercare.Errorf(aftercare.EINVALID, "%s: the body's myshopify_domain does not match %s", ev.Topic, HeaderShop)
	}
	ev.Kind, ev.At = aftercare.EventShopUninstalled, received
	return nil
}

// uninstalledAt is X-Shopify-Triggered-At when it reads as a time no later
// than the webhook's arrival, else the arrival: a retry Shopify delivers
// after the merchant reconnected keeps the time of the uninstall, so the
// reconnect stays newer. The header is not signed, but it can only move the
// time back, never past the arrival.
func uninstalledAt(h http.Header, received time.Time) time.Time {
	t, err := aftercare.ParseTime(strings.TrimSpace(h.Get(HeaderTriggered)))
	if err != nil || t.IsZero() || t.After(received) {
		return received
	}
	return t.UTC()
}
