// Command DispatchFunction re-checks each queued message against fresh state,
// then renders, signs and delivers it at most once.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/delivery"
	"github.com/aftercare/aftercare/internal/dispatch"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/outbound"
	"github.com/aftercare/aftercare/internal/providers"
	"github.com/aftercare/aftercare/internal/settings"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/unsubscribe"
)

func main() {
	cfg, err := config.LoadDispatch(os.Getenv)
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
	store := &dynamo.Store{DB: dynamodb.NewFromConfig(aws), Table: cfg.Table, Shards: cfg.Shards}
	links, err := unsubscribe.LoadConfig(os.Getenv)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	chosen, err := delivery.LoadProviders(os.Getenv)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	router, err := providers.New(providers.Config{Providers: chosen, DeliveryURL: cfg.DeliveryURL,
		SigningSecret: cfg.SigningSecret, Timeout: cfg.Timeout}, aws, log)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	d := &dispatch.Dispatcher{
		Store:     store,
		Sender:    router,
		Links:     links.Links(),
		Queue:     &sqs.Queue{API: awssqs.NewFromConfig(aws), URL: cfg.OutboundURL},
		Settings:  &settings.Cache{Defaults: cfg.Settings, Load: store.ShopSettings, Log: log},
		Log:       log,
		RetryBase: cfg.RetryBase,
	}
	lambda.Start(outbound.Handler(d, log))
}
