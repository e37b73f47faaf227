// Package aftership owns AfterShip Tracking webhooks: it checks their
// aftership-hmac-sha256 signature on the raw body and turns tracking_update
// events into normalized tracking events, mapping AfterShip's delivery
// status (tag) and sub-status (subtag) onto aftercare's statuses and
// playbooks.
package aftership

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/signature"
)

// Header carries base64(HMAC-SHA256(secret, raw body)).
const Header = "aftership-hmac-sha256"

// Source verifies and parses AfterShip tracking webhooks.
type Source struct{ Secret string }

// Name is the route name, /webhooks/carriers/aftership.
func (Source) Name() string { return aftercare.SourceAfterShip }

// Verify checks the signature on the raw body before anything parses it.
func (s Source) Verify(body []byte, h http.Header, _ url.Values) error {
	if s.Secret == "" {
		return aftercare.Errorf(aftercare.EUNAUTHORIZED, "AfterShip webhooks are not configured (AFTERSHIP_WEBHOOK_SECRET is empty)")
	}
	sig := h.Get(Header)
	if sig == "" {
		return aftercare.Errorf(aftercare.EUNAUTHORIZED, "missing %s header", Header)
	}
	if len(sig) != base64.StdEncoding.EncodedLen(sha256.Size) {
		return aftercare.Errorf(aftercare.EUNAUTHORIZED, "%s must be %d base64 characters", Header, base64.StdEncoding.EncodedLen(sha256.Size))
	}
	if !signature.ValidBase64([]byte(s.Secret), body, sig) {
		return aftercare.Errorf(aftercare.EUNAUTHORIZED, "%s does not match the body", Header)
	}
	return nil
}
