// Package shippo owns Shippo tracking webhooks: it checks the shared token
// Shippo sends in the webhook URL's query and turns track_updated events into
// normalized tracking events, mapping Shippo's tracking status and substatus
// code onto aftercare's statuses and playbooks.
package shippo

import (
	"net/http"
	"net/url"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/signature"
)

// Param is the query parameter that carries the token: Shippo signs nothing
// by default, so the webhook URL registered with it is
// .../webhooks/carriers/shippo?token=<SHIPPO_WEBHOOK_TOKEN>.
const Param = "token"

// Source verifies and parses Shippo tracking webhooks.
type Source struct{ Token string }

// Name is the route name, /webhooks/carriers/shippo.
func (Source) Name() string { return aftercare.SourceShippo }

// Verify checks the token before anything parses the body.
func (s Source) Verify(_ []byte, _ http.Header, q url.Values) error {
	if s.Token == "" {
		return aftercare.Errorf(aftercare.EUNAUTHORIZED, "Shippo webhooks are not configured (SHIPPO_WEBHOOK_TOKEN is empty)")
	}
	got := q.Get(Param)
	if got == "" {
		return aftercare.Errorf(aftercare.EUNAUTHORIZED, "missing %s query parameter", Param)
	}
	if !signature.EqualString(got, s.Token) {
		return aftercare.Errorf(aftercare.EUNAUTHORIZED, "%s query parameter does not match", Param)
	}
	return nil
}
