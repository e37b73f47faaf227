package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/shopify"
	"github.com/aftercare/aftercare/internal/shopifyadmin"
	"github.com/aftercare/aftercare/internal/state"
)

func runConnect(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "connect", "connect --shop <domain> --uri <webhook URL or EventBridge ARN> [--token-stdin] [--table <name>]")
	shop := fs.String("shop", "", "the shop's domain, example.myshopify.com")
	uri := fs.String("uri", "", "where Shopify delivers: the stack's ShopifyWebhookUrl output, or the EventBridge partner event source ARN")
	tokenStdin := fs.Bool("token-stdin", false, "read the shop's Admin API access token from stdin and store it in SSM (else $SHOPIFY_ADMIN_TOKEN, else the stored one)")
	adminURL := fs.String("admin-url", "", "Admin API base URL (default https://<shop>; for tests)")
	table := fs.String("table", os.Getenv("TABLE_NAME"), "the stack's table ($TABLE_NAME): marks the shop installed, so an earlier app/uninstalled no longer stops its messages")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := need(fs, "shop", *shop, "uri", *uri); err != nil {
		return err
	}
	if !strings.HasPrefix(*uri, "https://") && !strings.HasPrefix(*uri, "arn:aws:events:") {
		fmt.Fprintln(e.stderr, "--uri must be an https:// URL or an arn:aws:events: event source ARN")
		return errUsage
	}
	token := os.Getenv("SHOPIFY_ADMIN_TOKEN")
	if *tokenStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read the token from stdin: %w", err)
		}
		token = strings.TrimSpace(line)
	}
	tokens, err := tokenStore(ctx, e)
	if err != nil {
		return err
	}
	if token != "" {
		if err := tokens.Put(ctx, *shop, token); err != nil {
			return fmt.Errorf("store the token at %s: %w", shopifyadmin.TokenName(*shop), err)
		}
		fmt.Fprintf(e.stdout, "stored the access token at %s (SecureString)\n", shopifyadmin.TokenName(*shop))
	} else if token, err = tokens.Get(ctx, *shop); err != nil {
		return err
	}
	c := adminClient(*shop, token, *adminURL)
	changes, err := c.Connect(ctx, shopify.WebhookTopics(), *uri)
	created, updated := 0, 0
	for _, ch := range changes {
		fmt.Fprintln(e.stdout, ch)
		switch ch.Action {
		case "created":
			created++
		case "updated":
			updated++
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %d created, %d updated, %d unchanged (compliance topics come from shopify.app.toml)\n",
		*shop, created, updated, len(changes)-created-updated)
	return markInstalled(ctx, e, *table, *shop)
}

// markInstalled records the (re)install: Shopify sends no install webhook,
// and connecting is what a merchant's reinstall comes with. The mark is
// dated now, so it wins against any app/uninstalled received before it.
func markInstalled(ctx context.Context, e *env, table, shop string) error {
	if table == "" {
		fmt.Fprintln(e.stderr, "no --table (or $TABLE_NAME): the shop is not marked installed; if the app was uninstalled before, its messages stay stopped")
		return nil
	}
	db, err := e.aws.DynamoDB(ctx)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	changed, err := state.MarkInstalled(ctx, &dynamo.Store{DB: db, Table: table}, shop, now)
	if err != nil {
		return fmt.Errorf("mark %s installed in %s: %w", shop, table, err)
	}
	if changed {
		fmt.Fprintf(e.stdout, "%s: marked installed at %s\n", shop, now.Format(time.RFC3339))
	}
	return nil
}

func tokenStore(ctx context.Context, e *env) (*shopifyadmin.Tokens, error) {
	s, err := e.aws.SSM(ctx)
	if err != nil {
		return nil, err
	}
	return &shopifyadmin.Tokens{SSM: s}, nil
}

func adminClient(shop, token, base string) *shopifyadmin.Client {
	return &shopifyadmin.Client{Shop: shop, Token: token, BaseURL: base, HTTP: &http.Client{Timeout: 60 * time.Second}}
}
