// Package easypost owns EasyPost tracking webhooks: it checks their
// X-Hmac-Signature on the raw body and turns tracker.created and
// tracker.updated events into normalized tracking events, mapping EasyPost's
// Tracker status and status_detail onto aftercare's statuses and playbooks.
package easypost

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/signature"
)

// Header and prefix of EasyPost's webhook signature:
// "X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256(NFKD(secret), body)>".
const (
	Header = "X-Hmac-Signature"
	prefix = "hmac-sha256-hex="
)

// Source verifies and parses EasyPost tracking webhooks.
type Source struct{ Secret string }

// Name is the route name, /webhooks/carriers/easypost.
func (Source) Name() string { return aftercare.SourceEasyPost }

// Verify checks the signature on the raw body before anything parses it.
// EasyPost keys the HMAC with the NFKD normal form of the secret (its client
// libraries do the same), so a secret typed with composed accents still
// matches.
func (s Source) Verify(body []byte, h http.Header, _ url.Values) error {
	if s.Secret == "" {
		return aftercare.Errorf(aftercare.EUNAUTHORIZED, "EasyPost webhooks are not configured (EASYPOST_WEBHOOK_SECRET is empty)")
	}
	sig := h.Get(Header)
	if sig == "" {
		return aftercare.Errorf(aftercare.EUNAUTHORIZED, "missing %s header", Header)
	}
	hexSig, ok := strings.CutPrefix(sig, prefix)
	if !ok {
		return aftercare.Errorf(aftercare.EUNAUTHORIZED, "%s must start with %q", Header, prefix)
	}
	if len(hexSig) != hex.EncodedLen(sha256.Size) {
		return aftercare.Errorf(aftercare.EUNAUTHORIZED, "%s must carry %d hex digits", Header, hex.EncodedLen(sha256.Size))
	}
	if !signature.ValidHex([]byte(norm.NFKD.String(s.Secret)), body, hexSig) {
		return aftercare.Errorf(aftercare.EUNAUTHORIZED, "%s does not match the body", Header)
	}
	return nil
}
