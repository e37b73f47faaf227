package main

import (
	"context"
	"fmt"

	shopifyapp "github.com/aftercare/aftercare/infra/shopify"
)

func runAppConfig(_ context.Context, e *env, args []string) error {
	fs := flags(e, "app-config", "app-config [--client-id <id> --api-url <url>] [--eventbridge-arn <arn>] > infra/shopify/shopify.app.toml")
	c := shopifyapp.Placeholder
	fs.StringVar(&c.ClientID, "client-id", c.ClientID, "the app's client id")
	fs.StringVar(&c.APIURL, "api-url", c.APIURL, "the stack's HTTP API base URL (ShopifyWebhookUrl without /webhooks/shopify)")
	fs.StringVar(&c.EventBridgeARN, "eventbridge-arn", "", "deliver the topics to this EventBridge partner event source instead")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprint(e.stdout, shopifyapp.Render(c))
	return nil
}
