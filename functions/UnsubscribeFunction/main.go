// Command UnsubscribeFunction serves one-click unsubscribe behind the HTTP API
// (GET and POST /unsubscribe/{token}): it checks the signed token, withdraws
// the customer's marketing consent for the channel in the table and counts it
// in the shop's report.
package main

import (
	"github.com/aftercare/aftercare/internal/apigw"
	"github.com/aftercare/aftercare/internal/app"
	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/unsubscribe"
)

func main() {
	a := app.New()
	cfg := app.Load(a, func(g config.Getenv) (unsubscribe.Config, error) { return unsubscribe.LoadConfig(g) })
	common := app.Load(a, config.LoadCommon)
	store := a.Store(common)
	h := &unsubscribe.Handler{
		Signer:  unsubscribe.Signer{Secret: cfg.Secret},
		Consent: unsubscribe.StoreConsent{Customers: store, Settings: a.Settings(common, store)},
		Log:     a.Log,
	}
	a.Start(apigw.New(h, a.Log))
}
