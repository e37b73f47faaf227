// Command EventProcessorFunction applies inbox events to state, once and in
// any order, and queues the messages they call for.
package main

import (
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/aftercare/aftercare/internal/app"
	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/handler"
	"github.com/aftercare/aftercare/internal/rules"
	"github.com/aftercare/aftercare/internal/shopifyadmin"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/state"
)

func main() {
	a := app.New()
	cfg := app.Load(a, config.LoadProcessor)
	store := a.FoldingStore(cfg.Common)
	p := &state.Processor{
		Store:    store,
		Outbox:   &sqs.Outbox{Messages: a.Queue(cfg.OutboundURL), Events: a.Queue(cfg.InboxURL)},
		Settings: a.Settings(cfg.Common, store),
		Rules:    rules.Rules{},
		Log:      a.Log,
		// Redacted customers' tombstones are keyed by an HMAC under this.
		TombstoneKey: cfg.TombstoneKey,
		// shop/redact deletes the shop's Admin API token from SSM.
		Shops: &shopifyadmin.Shops{Tokens: &shopifyadmin.Tokens{SSM: awsssm.NewFromConfig(a.AWS)}},
	}
	a.Start(handler.Processor(p, a.Queue(cfg.InboxURL), handler.Backoff, a.Log))
}
