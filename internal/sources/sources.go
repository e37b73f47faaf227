// Package sources is the registry of webhook sources: each one (Shopify and
// every carrier) is described once here, with its route, the variable that
// holds its secret, its verifier and parser, how its sender signs a body and
// its status table. Configuration, WebhookFunction, the local stack, the
// samples and the tests range over All, so adding a carrier is its package,
// its golden events, one line here and one template route (see the README,
// "Adding a carrier").
package sources

import (
	"net/http"
	"net/url"

	"golang.org/x/text/unicode/norm"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/aftership"
	"github.com/aftercare/aftercare/internal/easypost"
	"github.com/aftercare/aftercare/internal/shippo"
	"github.com/aftercare/aftercare/internal/shopify"
	"github.com/aftercare/aftercare/internal/signature"
	"github.com/aftercare/aftercare/internal/webhook"
)

// Source describes one webhook source.
type Source struct {
	// Name is the route name: "shopify", or the {carrier} of
	// /webhooks/carriers/{carrier}.
	Name string
	// Path is the HTTP route a sender posts to.
	Path string
	// Secret is the environment variable holding the signing secret or
	// token; in AWS the function gets Secret+"_PARAM", the name of the SSM
	// parameter holding it.
	Secret string
	// Required sources refuse to start without their secret; an optional
	// one without it answers 401 on its route.
	Required bool
	// New builds the verifier and parser with the secret.
	New func(secret string) webhook.Source
	// Sign is what the sender adds to a request: tests and samples sign
	// bodies with it.
	Sign func(secret string, body []byte) (http.Header, url.Values)
	// StatusTable is the provider's status values and what each means.
	StatusTable func() map[string]aftercare.ShipmentStatus
	// Sample is the golden webhook (under events/webhooks/<Name>/) that
	// becomes the API Gateway sample events/api/<Name>-<Sample>.
	Sample string
}

// Carrier reports whether the source sits under /webhooks/carriers/.
func (s Source) Carrier() bool { return s.Name != aftercare.SourceShopify }

// Goldens is the folder of the source's golden webhooks, from the project root.
func (s Source) Goldens() string { return "events/webhooks/" + s.Name }

// CarrierRoute is the one template route all carriers share.
const CarrierRoute = "/webhooks/carriers/{carrier}"

// All is every source, Shopify first.
var All = []Source{
	{
		Name: aftercare.SourceShopify, Path: "/webhooks/shopify", Secret: "SHOPIFY_WEBHOOK_SECRET", Required: true,
		New: func(s string) webhook.Source { return shopify.Source{Secret: s} },
		Sign: func(s string, body []byte) (http.Header, url.Values) {
			return header(shopify.HeaderHmac, signature.Base64([]byte(s), body)), nil
		},
		StatusTable: shopify.StatusTable, Sample: "orders__create.json",
	},
	{
		Name: aftercare.SourceEasyPost, Path: "/webhooks/carriers/easypost", Secret: "EASYPOST_WEBHOOK_SECRET",
		New: func(s string) webhook.Source { return easypost.Source{Secret: s} },
		Sign: func(s string, body []byte) (http.Header, url.Values) {
			return header(easypost.Header, "hmac-sha256-hex="+signature.Hex([]byte(norm.NFKD.String(s)), body)), nil
		},
		StatusTable: easypost.StatusTable, Sample: "tracker-updated-in-transit.json",
	},
	{
		Name: aftercare.SourceAfterShip, Path: "/webhooks/carriers/aftership", Secret: "AFTERSHIP_WEBHOOK_SECRET",
		New: func(s string) webhook.Source { return aftership.Source{Secret: s} },
		Sign: func(s string, body []byte) (http.Header, url.Values) {
			return header(aftership.Header, signature.Base64([]byte(s), body)), nil
		},
		StatusTable: aftership.StatusTable, Sample: "in-transit.json",
	},
	{
		Name: aftercare.SourceShippo, Path: "/webhooks/carriers/shippo", Secret: "SHIPPO_WEBHOOK_TOKEN",
		New: func(s string) webhook.Source { return shippo.Source{Token: s} },
		Sign: func(s string, _ []byte) (http.Header, url.Values) {
			return http.Header{}, url.Values{shippo.Param: {s}}
		},
		StatusTable: shippo.StatusTable, Sample: "transit.json",
	},
}

// ByName finds a source by its route name.
func ByName(name string) (Source, bool) {
	for _, s := range All {
		if s.Name == name {
			return s, true
		}
	}
	return Source{}, false
}

// Secrets lists every source's secret variable, in registry order.
func Secrets() []string {
	out := make([]string, len(All))
	for i, s := range All {
		out[i] = s.Secret
	}
	return out
}

// Service builds the ingest service's sources from secret values by variable
// name: Shopify on its own route, every carrier under /webhooks/carriers/.
func Service(secrets func(variable string) string) (shop webhook.Source, carriers map[string]webhook.Source) {
	carriers = map[string]webhook.Source{}
	for _, s := range All {
		src := s.New(secrets(s.Secret))
		if s.Carrier() {
			carriers[s.Name] = src
		} else {
			shop = src
		}
	}
	return shop, carriers
}

func header(k, v string) http.Header {
	h := http.Header{}
	h.Set(k, v)
	return h
}
