// Command UnsubscribeFunction serves one-click unsubscribe behind the HTTP API
// (GET and POST /unsubscribe/{token}): it checks the signed token and withdraws
// the customer's marketing consent for the channel in the table.
package main

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aftercare/aftercare/internal/apigw"
	"github.com/aftercare/aftercare/internal/app"
	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/unsubscribe"
)

func main() {
	a := app.New()
	cfg := app.Load(a, func(g config.Getenv) (unsubscribe.Config, error) { return unsubscribe.LoadConfig(g) })
	table := app.Load(a, func(g config.Getenv) (string, error) {
		if t := g("TABLE_NAME"); t != "" {
			return t, nil
		}
		return "", errors.New("config: TABLE_NAME is not set")
	})
	h := &unsubscribe.Handler{
		Signer:  unsubscribe.Signer{Secret: cfg.Secret},
		Consent: unsubscribe.StoreConsent{Customers: &dynamo.Store{DB: dynamodb.NewFromConfig(a.AWS), Table: table}},
		Log:     a.Log,
	}
	a.Start(apigw.New(h, a.Log))
}
