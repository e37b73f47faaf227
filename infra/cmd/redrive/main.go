// Command redrive moves messages from a dead-letter queue back to its source
// queue once the cause is fixed. In AWS the console's "Start DLQ redrive" or
// `aws sqs start-message-move-task --source-arn <DLQ ARN>` does the same;
// this tool also works against the local stack (moto):
//
//	AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9324 go run ./infra/cmd/redrive \
//	  -from <DLQ URL> -to <queue URL>
//
// Each message is sent to the queue before it is deleted from the DLQ, so a
// crash can duplicate a message (harmless: events and messages are deduped)
// but never lose one.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/aftercare/aftercare/internal/config"
)

func main() {
	from := flag.String("from", "", "dead-letter queue URL")
	to := flag.String("to", "", "queue URL to move messages back to")
	max := flag.Int("max", 0, "move at most this many (0: all)")
	flag.Parse()
	if *from == "" || *to == "" {
		fmt.Fprintln(os.Stderr, "redrive: need -from DLQ_URL -to QUEUE_URL")
		os.Exit(2)
	}
	n, err := redrive(context.Background(), *from, *to, *max)
	fmt.Printf("moved %d messages\n", n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "redrive:", err)
		os.Exit(1)
	}
}

func redrive(ctx context.Context, from, to string, limit int) (int, error) {
	cfg, err := config.AWS(ctx)
	if err != nil {
		return 0, err
	}
	q := awssqs.NewFromConfig(cfg)
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
