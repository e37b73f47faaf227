// Package handler adapts the services to their Lambda event shapes: SQS
// batches with partial batch failures for the processor and dispatch, and the
// scheduler's input for the checks. Each logs one JSON line per item.
// DispatchFunction's handler is in package outbound.
package handler

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/lifecycle"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/state"
)

// parallel is how many records of a batch are worked on at once.
const parallel = 10

// Backoff is when a failed event is tried again: 5 s, doubling with each
// receive, at most 2 minutes. Without it a failure waits out the queue's
// whole visibility timeout (3 minutes) every time, and a poison message
// takes a quarter of an hour to reach the dead-letter queue.
func Backoff(receiveCount int) time.Duration {
	return aftercare.RetryDelay(5*time.Second, receiveCount, 2*time.Minute)
}

// Processor handles inbox batches; inbox moves a failed event's next
// delivery after backoff (nil: Backoff; tests scale it down). inbox may be
// nil (failures then wait for the queue's visibility timeout).
func Processor(p *state.Processor, inbox *sqs.Queue, backoff func(receiveCount int) time.Duration, log *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	if backoff == nil {
		backoff = Backoff
	}
	return func(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
		return sqs.Consume(ctx, e, parallel, func(ctx context.Context, r sqs.Record) (err error) {
			defer func() {
				if err != nil && inbox != nil {
					if rerr := inbox.RetryAfter(context.WithoutCancel(ctx), r.ReceiptHandle, backoff(r.ReceiveCount)); rerr != nil {
						log.Warn("event backoff", slog.String("message_id", r.MessageID), slog.String("error", rerr.Error()))
					}
				}
			}()
			start := time.Now()
			ev, ok, err := decodeInbox(r.Body, r.SentAt)
			switch {
			case err != nil:
				// Parked in the dead-letter queue after the retries, where it
				// can be read (and alarms), rather than dropped.
				log.Error("event", slog.String("message_id", r.MessageID), slog.String("source", ev.Source), slog.String("outcome", "unreadable"), slog.String("error", err.Error()))
				obs.Count(ctx, log, "UnreadableEvents", 1, map[string]string{"Source": ev.Source})
				return err
			case !ok:
				log.Info("event", slog.String("message_id", r.MessageID), slog.String("source", ev.Source), slog.String("topic", ev.Topic), slog.String("outcome", "ignored"))
				return nil
			}
			if ev.EmailFeedback != nil {
				for _, f := range ev.EmailFeedback.Feedback {
					obs.Count(ctx, log, "EmailFeedback", 1, map[string]string{"Shop": ev.Shop, "Type": f.Type})
				}
			}
			res, err := p.Process(ctx, &ev)
			attrs := []any{
				slog.String("event_id", ev.ID), slog.String("shop", ev.Shop), slog.String("kind", string(ev.Kind)),
				slog.String("topic", ev.Topic), slog.String("order_id", orderOf(&ev)), slog.Int("receive_count", r.ReceiveCount),
				slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
			}
			if err != nil {
				log.Error("event", append(attrs, slog.String("outcome", "failed"), slog.String("error", err.Error()))...)
				return err
			}
			changes := make([]string, 0, len(res.Changes))
			for _, c := range res.Changes {
				changes = append(changes, string(c.Type))
			}
			log.Info("event", append(attrs, slog.String("outcome", res.Outcome), slog.Any("changes", changes),
				slog.Int("messages", len(res.Messages)), slog.Any("notes", res.Notes))...)
			return nil
		}), nil
	}
}

// Checks handles the scheduler's input.
func Checks(c *lifecycle.Checker, log *slog.Logger) func(context.Context, lifecycle.Input) (lifecycle.Result, error) {
	return func(ctx context.Context, in lifecycle.Input) (lifecycle.Result, error) {
		res, err := c.Run(ctx, in)
		reqID := ""
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			reqID = lc.AwsRequestID
		}
		if err != nil {
			log.Error("checks", slog.String("request_id", reqID), slog.String("check", in.Check), slog.String("error", err.Error()))
			return res, err
		}
		log.Info("checks", slog.String("request_id", reqID), slog.String("check", res.Check), slog.Time("scheduled_time", res.ScheduledTime),
			slog.Bool("complete", res.Complete), slog.Any("counts", res.Checks), slog.Int("items_read", res.ItemsRead),
			slog.Int("messages", res.Messages), slog.Int("events", res.Events), slog.Int64("duration_ms", res.DurationMS))
		return res, nil
	}
}

func orderOf(ev *aftercare.Event) string {
	switch {
	case ev.Order != nil:
		return ev.Order.ID
	case ev.Fulfillment != nil:
		return ev.Fulfillment.OrderID
	case ev.Refund != nil:
		return ev.Refund.OrderID
	case ev.Tracking != nil:
		return ev.Tracking.OrderID
	}
	return ""
}
