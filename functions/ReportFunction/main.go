// Command ReportFunction answers GET /report (and /report.html): the merchant's
// report as JSON for the report token's bearer, or as the dashboard page.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aftercare/aftercare/internal/apigw"
	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/report"
)

func main() {
	cfg, err := report.LoadConfig(os.Getenv)
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
	store := &dynamo.Store{DB: dynamodb.NewFromConfig(aws), Table: cfg.Table}
	h := &report.Handler{Days: store, Token: cfg.Token, Log: log}
	lambda.Start(apigw.New(h, log))
}
