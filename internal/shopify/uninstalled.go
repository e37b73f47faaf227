package shopify

import (
	"net/http"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// TopicAppUninstalled is sent when a merchant removes the app.
const TopicAppUninstalled = "app/uninstalled"

// EventShopUninstalled is the kind of the event app/uninstalled gives. It is
// not in the domain's kinds yet: the state change (mark the shop
// uninstalled, suppress and count every queued or future message, keep the
// data until shop/redact) is the state engine's, so the webhook path keeps
// ignoring the topic until the processor knows this kind.
const EventShopUninstalled aftercare.EventKind = "shop_uninstalled"

// Uninstall is what app/uninstalled says: which shop, and when.
type Uninstall struct {
	Shop string    `json:"shop"`
	At   time.Time `json:"at"`
}

// ParseUninstalled reads an app/uninstalled webhook (its body is the Shop
// object: id, domain, myshopify_domain, updated_at, ...). The shop is the
// X-Shopify-Shop-Domain header; a body naming another shop is refused.
func ParseUninstalled(body []byte, h http.Header, received time.Time) (aftercare.Event, *Uninstall, error) {
	ev := aftercare.Event{Source: aftercare.SourceShopify, Topic: TopicAppUninstalled, Received: received.UTC()}
	shop := strings.ToLower(strings.TrimSpace(h.Get(HeaderShop)))
	if shop == "" || !shopDomain(shop) {
		return ev, nil, aftercare.Errorf(aftercare.EINVALID, "%s is missing or not a shop domain", HeaderShop)
	}
	var s struct {
		MyshopifyDomain string `json:"myshopify_domain"`
		UpdatedAt       string `json:"updated_at"`
	}
	if err := decode(&ev, body, &s); err != nil {
		return ev, nil, err
	}
	if d := strings.ToLower(strings.TrimSpace(s.MyshopifyDomain)); d != "" && d != shop {
		return ev, nil, aftercare.Errorf(aftercare.EINVALID, "%s: body names another shop than %s", TopicAppUninstalled, HeaderShop)
	}
	at, err := stamp("updated_at", s.UpdatedAt)
	if err != nil {
		return ev, nil, err
	}
	ev.Shop, ev.Kind, ev.At = shop, EventShopUninstalled, first(at, ev.Received)
	ev.ID = "shopify:" + shop + ":" + TopicAppUninstalled + ":" + eventID(h, body)
	return ev, &Uninstall{Shop: shop, At: ev.At}, nil
}
