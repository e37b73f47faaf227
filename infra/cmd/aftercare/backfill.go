package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	shopifyapp "github.com/aftercare/aftercare/infra/shopify"
	"github.com/aftercare/aftercare/internal/backfill"
	"github.com/aftercare/aftercare/internal/sqs"
)

func runBackfill(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "backfill", "backfill --shop <domain> --file <orders.jsonl> [--fetch] [--queue <inbox URL or name>]")
	shop := fs.String("shop", "", "the shop's domain, example.myshopify.com")
	file := fs.String("file", "", "the bulk operation's JSONL (with --fetch: where to save it; default <shop>-orders.jsonl)")
	fetch := fs.Bool("fetch", false, "run the bulk operation of infra/shopify/backfill.graphql first (needs the token `connect` stored)")
	queue := fs.String("queue", os.Getenv("INBOX_QUEUE_URL"), "the inbox queue's URL or name (the stack's InboxQueueUrl output; $INBOX_QUEUE_URL)")
	progress := fs.String("progress", "", "resume file (default <file>.progress)")
	adminURL := fs.String("admin-url", "", "Admin API base URL (default https://<shop>; for tests)")
	poll := fs.Duration("poll", 5*time.Second, "how often --fetch polls the bulk operation")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *fetch && *file == "" {
		*file = *shop + "-orders.jsonl"
	}
	if err := need(fs, "shop", *shop, "file", *file, "queue", *queue); err != nil {
		return err
	}
	q, err := e.aws.SQS(ctx)
	if err != nil {
		return err
	}
	url, err := queueURL(ctx, q, *queue)
	if err != nil {
		return fmt.Errorf("find the inbox queue %q: %w", *queue, err)
	}
	if *fetch {
		if err := fetchHistory(ctx, e, *shop, *file, *adminURL, *poll); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	res, err := backfill.Import(ctx, &sqs.Queue{API: q, URL: url}, backfill.Options{
		Shop: *shop, File: *file, Progress: *progress, Now: time.Now, Out: e.stderr, Log: log,
	})
	if err != nil {
		return err
	}
	from := ""
	if res.Resumed > 0 {
		from = fmt.Sprintf(" (resumed at byte %d)", res.Resumed)
	}
	fmt.Fprintf(e.stdout, "%s: %d orders read, %d events queued in %d batches, %d skipped%s\n", *shop, res.Orders, res.Sent, res.Batches, res.Skipped, from)
	return nil
}

// fetchHistory runs the backfill bulk query and saves its JSONL to file.
func fetchHistory(ctx context.Context, e *env, shop, file, adminURL string, poll time.Duration) error {
	tokens, err := tokenStore(ctx, e)
	if err != nil {
		return err
	}
	token, err := tokens.Get(ctx, shop)
	if err != nil {
		return err
	}
	c := adminClient(shop, token, adminURL)
	fmt.Fprintf(e.stderr, "backfill %s: running the bulk operation (this can take minutes for a large shop)\n", shop)
	op, err := c.RunBulkQuery(ctx, shopifyapp.BackfillQuery, poll)
	if err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	n, err := c.Download(ctx, op, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download the bulk result: %w", err)
	}
	fmt.Fprintf(e.stderr, "backfill %s: %s objects, %.1f MB saved to %s\n", shop, op.ObjectCount, float64(n)/1e6, file)
	return nil
}
