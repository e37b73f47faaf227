// Command DispatchFunction re-checks each queued message against fresh state,
// then renders it and hands it to the shop's provider for its channel (SES,
// SNS, the signed webhook, or the log), at most once.
package main

import (
	"github.com/aftercare/aftercare/internal/app"
	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/delivery"
	"github.com/aftercare/aftercare/internal/dispatch"
	"github.com/aftercare/aftercare/internal/outbound"
	"github.com/aftercare/aftercare/internal/providers"
	"github.com/aftercare/aftercare/internal/unsubscribe"
)

func main() {
	a := app.New()
	cfg := app.Load(a, config.LoadDispatch)
	links := app.Load(a, func(g config.Getenv) (unsubscribe.Config, error) { return unsubscribe.LoadConfig(g) })
	chosen := app.Load(a, func(g config.Getenv) (delivery.Providers, error) { return delivery.LoadProviders(g) })
	router := app.Load(a, func(config.Getenv) (*delivery.Router, error) {
		return providers.New(providers.Config{Providers: chosen, DeliveryURL: cfg.DeliveryURL,
			SigningSecret: cfg.SigningSecret, Timeout: cfg.Timeout}, a.AWS, a.Log)
	})
	store := a.Store(cfg.Common)
	d := &dispatch.Dispatcher{
		Store:     store,
		Sender:    router,
		Links:     links.Links(),
		Queue:     a.Queue(cfg.OutboundURL),
		Settings:  a.Settings(cfg.Common, store),
		Log:       a.Log,
		RetryBase: cfg.RetryBase,
		RetryMax:  cfg.RetryMax,
		Digests:   &dispatch.Digests{Days: store, Base: cfg.PublicAPIURL, Token: cfg.ReportToken},
		// The processor keys redacted customers' tombstones with this secret.
		TombstoneKey: cfg.UnsubscribeSecret,
	}
	a.Start(outbound.Handler(d, a.Log))
}
