// Command EventProcessorFunction applies inbox events to state, once and in
// any order, and queues the messages they call for.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/handler"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/rules"
	"github.com/aftercare/aftercare/internal/settings"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/state"
)

func main() {
	cfg, err := config.LoadProcessor(os.Getenv)
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
	q := awssqs.NewFromConfig(aws)
	store := &dynamo.Store{DB: dynamodb.NewFromConfig(aws), Table: cfg.Table, Shards: cfg.Shards}
	p := &state.Processor{
		Store:    store,
		Outbox:   &sqs.Outbox{Messages: &sqs.Queue{API: q, URL: cfg.OutboundURL}, Events: &sqs.Queue{API: q, URL: cfg.InboxURL}},
		Settings: &settings.Cache{Defaults: cfg.Settings, Load: store.ShopSettings, Log: log},
		Rules:    rules.Rules{},
		Log:      log,
	}
	lambda.Start(handler.Processor(p, &sqs.Queue{API: q, URL: cfg.InboxURL}, log))
}
