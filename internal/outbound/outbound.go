// Package outbound is DispatchFunction's Lambda handler: outbound SQS batches
// with partial batch failures. It lives apart from the other handlers so only
// the function that renders messages loads the templates.
package outbound

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dispatch"
	"github.com/aftercare/aftercare/internal/sqs"
)

// parallel is how many messages of a batch are worked on at once.
const parallel = 10

// Handler handles outbound batches.
func Handler(d *dispatch.Dispatcher, log *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
		deadline, _ := ctx.Deadline()
		return sqs.Consume(ctx, e, parallel, func(ctx context.Context, r sqs.Record) error {
			var m aftercare.Message
			if err := json.Unmarshal(r.Body, &m); err != nil || m.ID == "" || !m.Kind.Valid() {
				log.Error("message", slog.String("sqs_message_id", r.MessageID), slog.String("outcome", "unreadable"))
				return aftercare.Errorf(aftercare.EINVALID, "unreadable message %s", r.MessageID)
			}
			_, err := d.Handle(ctx, &m, dispatch.Delivery{ReceiveCount: r.ReceiveCount, ReceiptHandle: r.ReceiptHandle, Deadline: deadline})
			return err
		}), nil
	}
}
