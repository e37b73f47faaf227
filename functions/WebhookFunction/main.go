// Command WebhookFunction verifies, bounds, normalizes and queues webhooks
// behind the HTTP API (POST /webhooks/shopify, POST /webhooks/carriers/{carrier},
// GET /healthz). Its sources come from the registry in internal/sources.
package main

import (
	"github.com/aftercare/aftercare/internal/apigw"
	"github.com/aftercare/aftercare/internal/app"
	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/sources"
	"github.com/aftercare/aftercare/internal/webhook"
)

func main() {
	a := app.New()
	cfg := app.Load(a, config.LoadWebhook)
	shop, carriers := sources.Service(func(v string) string { return cfg.Secrets[v] })
	svc := &webhook.Service{Shopify: shop, Carriers: carriers, Queue: a.Queue(cfg.InboxURL), MaxBody: cfg.MaxBody, Log: a.Log}
	a.Start(apigw.New(svc.Routes(), a.Log))
}
