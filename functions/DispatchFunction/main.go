// Command DispatchFunction re-checks each queued message against fresh state,
// then renders, signs and delivers it at most once.
package main

import (
	"github.com/aftercare/aftercare/internal/app"
	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/delivery"
	"github.com/aftercare/aftercare/internal/dispatch"
	"github.com/aftercare/aftercare/internal/outbound"
)

func main() {
	a := app.New()
	cfg := app.Load(a, config.LoadDispatch)
	store := a.Store(cfg.Common)
	var sender dispatch.Sender = delivery.Log{Log: a.Log}
	if cfg.DeliveryURL != "" {
		sender = delivery.New(cfg.DeliveryURL, cfg.SigningSecret, cfg.Timeout)
	}
	d := &dispatch.Dispatcher{
		Store:     store,
		Sender:    sender,
		Queue:     a.Queue(cfg.OutboundURL),
		Settings:  a.Settings(cfg.Common, store),
		Log:       a.Log,
		RetryBase: cfg.RetryBase,
		Digests:   &dispatch.Digests{Days: store, Base: cfg.PublicAPIURL, Token: cfg.ReportToken},
	}
	a.Start(outbound.Handler(d, a.Log))
}
