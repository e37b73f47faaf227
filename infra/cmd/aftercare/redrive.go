package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// runRedrive moves messages from a dead-letter queue back to its source
// queue once the cause is fixed. In AWS the console's "Start DLQ redrive" or
// `aws sqs start-message-move-task` does the same; this also works against
// the local stack. Each message is sent before it is deleted from the DLQ,
// so a crash can duplicate one (harmless: events and messages are deduped)
// but never lose one.
func runRedrive(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "redrive", "redrive --from <DLQ URL or name> --to <queue URL or name> [--max N]")
	from := fs.String("from", "", "dead-letter queue URL or name")
	to := fs.String("to", "", "queue URL or name to move messages back to")
	limit := fs.Int("max", 0, "move at most this many (0: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := need(fs, "from", *from, "to", *to); err != nil {
		return err
	}
	q, err := e.aws.SQS(ctx)
	if err != nil {
		return err
	}
	src, err := queueURL(ctx, q, *from)
	if err != nil {
		return err
	}
	dst, err := queueURL(ctx, q, *to)
	if err != nil {
		return err
	}
	n, err := redrive(ctx, q, src, dst, *limit)
	fmt.Fprintf(e.stdout, "moved %d messages\n", n)
	return err
}

func redrive(ctx context.Context, q *awssqs.Client, from, to string, limit int) (int, error) {
	moved := 0
	for limit == 0 || moved < limit {
		out, err := q.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(from), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, VisibilityTimeout: 60, MessageAttributeNames: []string{"All"}})
		if err != nil {
			return moved, err
		}
		if len(out.Messages) == 0 {
			return moved, nil
		}
		for _, m := range out.Messages {
			if limit > 0 && moved >= limit {
				return moved, nil
			}
			attrs := map[string]types.MessageAttributeValue{}
			for k, v := range m.MessageAttributes {
				attrs[k] = v
			}
			if _, err := q.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(to), MessageBody: m.Body, MessageAttributes: attrs}); err != nil {
				return moved, err
			}
			if _, err := q.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(from), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return moved, err
			}
			moved++
		}
	}
	return moved, nil
}
