// Package shopify owns Shopify webhooks: it checks X-Shopify-Hmac-Sha256 on
// the raw body and turns the handled topics (orders, fulfillments, fulfillment
// events, customers, consent, inventory, products, refunds, app/uninstalled
// and the mandatory privacy topics) into normalized events. Topics it does not handle are
// ignored without decoding the body.
package shopify

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/signature"
)

// Webhook headers, as Shopify sends them.
const (
	HeaderHmac      = "X-Shopify-Hmac-Sha256"
	HeaderTopic     = "X-Shopify-Topic"
	HeaderShop      = "X-Shopify-Shop-Domain"
	HeaderEventID   = "X-Shopify-Event-Id"   // the same for every delivery of one event
	HeaderWebhookID = "X-Shopify-Webhook-Id" // older senders: one per delivery
	HeaderTriggered = "X-Shopify-Triggered-At"
)

// Bounds on what one event may carry onto the queue and into keys.
const (
	MaxLineItems = 500 // an order keeps its first 500 line items; LineItemCount has the total
	MaxTitle     = 120 // bytes of a line item or product title
	maxKeyPart   = 128 // bytes of a shop domain, topic or event id
	maxID        = 96  // bytes of a Shopify id
)

// Source verifies and parses Shopify webhooks.
type Source struct{ Secret string }

// Name is the route name, /webhooks/shopify.
func (Source) Name() string { return aftercare.SourceShopify }

// Verify checks the base64 HMAC-SHA256 of the raw body, in constant time,
// before anything parses it.
func (s Source) Verify(body []byte, h http.Header, _ url.Values) error {
	if s.Secret == "" {
		return aftercare.Errorf(aftercare.EUNAUTHORIZED, "Shopify webhooks are not configured (SHOPIFY_WEBHOOK_SECRET is empty)")
	}
	sig := h.Get(HeaderHmac)
	if sig == "" {
		return aftercare.Errorf(aftercare.EUNAUTHORIZED, "missing %s header", HeaderHmac)
	}
	if len(sig) != base64.StdEncoding.EncodedLen(sha256.Size) {
		return aftercare.Errorf(aftercare.EUNAUTHORIZED, "%s must be %d base64 characters", HeaderHmac, base64.StdEncoding.EncodedLen(sha256.Size))
	}
	if !signature.ValidBase64([]byte(s.Secret), body, sig) {
		return aftercare.Errorf(aftercare.EUNAUTHORIZED, "%s does not match the body", HeaderHmac)
	}
	return nil
}

// Parse turns a verified body into one event. The dedupe key is shop + topic +
// X-Shopify-Event-Id, which every retry of one event shares.
func (s Source) Parse(body []byte, h http.Header, received time.Time) (aftercare.Event, error) {
	received = received.UTC()
	out := aftercare.Event{Source: aftercare.SourceShopify, Received: received}
	topic := strings.ToLower(strings.TrimSpace(h.Get(HeaderTopic)))
	if topic == "" {
		return out, aftercare.Errorf(aftercare.EINVALID, "missing %s header", HeaderTopic)
	}
	if !keyPart(topic) {
		return out, aftercare.Errorf(aftercare.EINVALID, "%s is not a topic name", HeaderTopic)
	}
	out.Topic = topic
	shop := strings.ToLower(strings.TrimSpace(h.Get(HeaderShop)))
	if shop != "" && !shopDomain(shop) {
		return out, aftercare.Errorf(aftercare.EINVALID, "%s %q is not a shop domain", HeaderShop, clip(shop))
	}
	out.Shop = shop
	parse, ok := topics[topic]
	if !ok {
		return out, nil // ignored, and never decoded
	}
	if !jsonObject(body) {
		return out, aftercare.Errorf(aftercare.EINVALID, "%s body is not the expected JSON: it must be an object", topic)
	}
	if err := parse(&out, body, received); err != nil {
		return out, err
	}
	// The privacy topics name the shop in the body too and bindShop has
	// made sure it is this header's shop.
	if out.Shop == "" {
		return out, aftercare.Errorf(aftercare.EINVALID, "missing %s header", HeaderShop)
	}
	if out.Kind == "" {
		return out, nil
	}
	out.ID = "shopify:" + out.Shop + ":" + topic + ":" + eventID(h, body)
	if out.At.IsZero() {
		out.At = received
	}
	if out.Kind == aftercare.EventShopUninstalled {
		out.At = uninstalledAt(h, received)
	}
	return out, nil
}

// eventID is X-Shopify-Event-Id, else X-Shopify-Webhook-Id, else a digest of
// the body: a sender without either header still dedupes exact repeats.
func eventID(h http.Header, body []byte) string {
	for _, k := range []string{HeaderEventID, HeaderWebhookID} {
		if v := strings.TrimSpace(h.Get(k)); v != "" {
			if keyPart(v) {
				return v
			}
			sum := sha256.Sum256([]byte(v)) // odd or huge header: keep keys short and printable
			return "h-" + hex.EncodeToString(sum[:16])
		}
	}
	sum := sha256.Sum256(body)
	return "sha256-" + hex.EncodeToString(sum[:16])
}

// jsonObject reports whether the body starts as a JSON object: every handled
// topic's payload is one, so null, arrays and scalars are refused up front
// (decoding null into a struct would otherwise succeed with every field empty).
func jsonObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c == '{'
	}
	return false
}

// keyPart accepts what may go into a key: short printable ASCII without spaces.
func keyPart(s string) bool {
	if len(s) == 0 || len(s) > maxKeyPart {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// shopDomain accepts host names such as example.myshopify.com.
func shopDomain(s string) bool {
	if len(s) > maxKeyPart {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// clip keeps error messages short when the input is huge.
func clip(s string) string { return truncate(s, 40) }
