package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aftercare/aftercare/internal/shopifyadmin"
	"github.com/aftercare/aftercare/internal/sqs"
)

// runReconcile queues, as live events, the shop's orders updated since a
// time: what the scheduled reconcile check does for every connected shop,
// by hand (after an outage, or to heal one shop now).
func runReconcile(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "reconcile", "reconcile --shop <domain> --since <RFC 3339 time> [--queue <inbox URL or name>]")
	shop := fs.String("shop", "", "the shop's domain, example.myshopify.com")
	since := fs.String("since", "", "orders updated at or after this time, e.g. 2026-11-30T00:00:00Z")
	queue := fs.String("queue", os.Getenv("INBOX_QUEUE_URL"), "the inbox queue's URL or name ($INBOX_QUEUE_URL)")
	adminURL := fs.String("admin-url", "", "Admin API base URL (default https://<shop>; for tests)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := need(fs, "shop", *shop, "since", *since, "queue", *queue); err != nil {
		return err
	}
	from, err := time.Parse(time.RFC3339, *since)
	if err != nil {
		fmt.Fprintln(e.stderr, "--since must be an RFC 3339 time such as 2026-11-30T00:00:00Z")
		return errUsage
	}
	q, err := e.aws.SQS(ctx)
	if err != nil {
		return err
	}
	url, err := queueURL(ctx, q, *queue)
	if err != nil {
		return fmt.Errorf("find the inbox queue %q: %w", *queue, err)
	}
	tokens, err := tokenStore(ctx, e)
	if err != nil {
		return err
	}
	token, err := tokens.Get(ctx, *shop)
	if err != nil {
		return err
	}
	inbox := &sqs.Outbox{Events: &sqs.Queue{API: q, URL: url}}
	queued := 0
	cursor, err := adminClient(*shop, token, *adminURL).OrdersSince(ctx, from, time.Now(), func(p shopifyadmin.Page) error {
		for _, id := range p.Skipped {
			fmt.Fprintf(e.stderr, "reconcile %s: order %s skipped (unreadable)\n", *shop, id)
		}
		if len(p.Events) == 0 {
			return nil
		}
		queued += len(p.Events)
		return inbox.SendEvents(ctx, p.Events)
	})
	fmt.Fprintf(e.stdout, "%s: %d orders queued; next cursor %s\n", *shop, queued, cursor.Format(time.RFC3339))
	return err
}
