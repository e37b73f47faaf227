// Command WebhookFunction verifies, bounds, normalizes and queues webhooks
// behind the HTTP API (POST /webhooks/shopify, POST /webhooks/carriers/{carrier},
// GET /healthz).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aftercare/aftercare/internal/aftership"
	"github.com/aftercare/aftercare/internal/apigw"
	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/easypost"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/shippo"
	"github.com/aftercare/aftercare/internal/shopify"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/webhook"
)

func main() {
	cfg, err := config.LoadWebhook(os.Getenv)
	log := obs.NewLogger(os.Stdout, cfg.LogLevel)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	aws, err := config.AWS(context.Background())
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	svc := &webhook.Service{
		Shopify: shopify.Source{Secret: cfg.ShopifySecret},
		Carriers: map[string]webhook.Source{
			"easypost":  easypost.Source{Secret: cfg.EasyPostSecret},
			"aftership": aftership.Source{Secret: cfg.AfterShipSecret},
			"shippo":    shippo.Source{Token: cfg.ShippoToken},
		},
		Queue:   &sqs.Queue{API: awssqs.NewFromConfig(aws), URL: cfg.InboxURL},
		MaxBody: cfg.MaxBody,
		Log:     log,
	}
	lambda.Start(apigw.New(svc.Routes(), log))
}
