// Command LifecycleChecksFunction runs the scheduled checks:
// {"check": "all" | name, "scheduled_time": RFC 3339}.
package main

import (
	"net/http"
	"time"

	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/aftercare/aftercare/internal/app"
	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/handler"
	"github.com/aftercare/aftercare/internal/lifecycle"
	"github.com/aftercare/aftercare/internal/shopifyadmin"
	"github.com/aftercare/aftercare/internal/sqs"
)

func main() {
	a := app.New()
	cfg := app.Load(a, config.LoadChecks)
	store := a.FoldingStore(cfg.Common)
	c := &lifecycle.Checker{
		Store:    store,
		Outbox:   &sqs.Outbox{Messages: a.Queue(cfg.OutboundURL), Events: a.Queue(cfg.InboxURL)},
		Settings: a.Settings(cfg.Common, store),
		Log:      a.Log,
		// reconcile: the connected shops' tokens in SSM, their Admin API.
		Admin: &shopifyadmin.Shops{Tokens: &shopifyadmin.Tokens{SSM: awsssm.NewFromConfig(a.AWS)},
			BaseURL: cfg.AdminURL, HTTP: &http.Client{Timeout: 30 * time.Second}},
		Lookback: cfg.ReconcileLookback,
		Counters: store,
	}
	a.Start(handler.Checks(c, a.Log))
}
