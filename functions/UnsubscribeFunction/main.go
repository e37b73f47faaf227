// Command UnsubscribeFunction serves one-click unsubscribe behind the HTTP API
// (GET and POST /unsubscribe/{token}): it checks the signed token and withdraws
// the customer's marketing consent for the channel in the table.
package main

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aftercare/aftercare/internal/apigw"
	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/unsubscribe"
)

func main() {
	log := obs.NewLogger(os.Stdout, os.Getenv("LOG_LEVEL"))
	cfg, err := unsubscribe.LoadConfig(os.Getenv)
	table := os.Getenv("TABLE_NAME")
	if err == nil && table == "" {
		err = errors.New("config: TABLE_NAME is not set")
	}
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	aws, err := config.AWS(context.Background())
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	h := &unsubscribe.Handler{
		Signer:  unsubscribe.Signer{Secret: cfg.Secret},
		Consent: &unsubscribe.Dynamo{DB: dynamodb.NewFromConfig(aws), Table: table},
		Log:     log,
	}
	lambda.Start(apigw.New(h, log))
}
