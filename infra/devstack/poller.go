package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSSource is one SQS event source mapping from the template.
type SQSSource struct {
	Function       string
	Event          string
	QueueARN       string
	QueueURL       string
	BatchSize      int
	Window         time.Duration // MaximumBatchingWindowInSeconds
	ReportFailures bool          // FunctionResponseTypes: [ReportBatchItemFailures]
}

// SQSSources lists the template's enabled SQS event sources, with queue URLs
// from the provisioned names.
func SQSSources(fns []Function, names *Names) ([]SQSSource, error) {
	var out []SQSSource
	for _, f := range fns {
		for en, e := range f.Events {
			if e.Type != "SQS" {
				continue
			}
			if v, ok := e.Properties["Enabled"].(bool); ok && !v {
				continue
			}
			arn, err := names.Resolve(e.Properties["Queue"])
			if err != nil {
				return nil, fmt.Errorf("%s event %s queue: %w", f.Name, en, err)
			}
			s := SQSSource{
				Function: f.Name, Event: en, QueueARN: arn,
				BatchSize: intOr(e.Properties["BatchSize"], 10),
				Window:    time.Duration(intOr(e.Properties["MaximumBatchingWindowInSeconds"], 0)) * time.Second,
			}
			for _, t := range asSlice(e.Properties["FunctionResponseTypes"]) {
				if asString(t) == "ReportBatchItemFailures" {
					s.ReportFailures = true
				}
			}
			for _, attrs := range names.Attributes {
				if attrs["Arn"] == arn && attrs["QueueUrl"] != "" {
					s.QueueURL = attrs["QueueUrl"]
				}
			}
			if s.QueueURL == "" {
				return nil, fmt.Errorf("%s event %s: queue %s is not provisioned locally", f.Name, en, arn)
			}
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b SQSSource) int { return strings.Compare(a.Function+a.Event, b.Function+b.Event) })
	return out, nil
}

// Poller does what Lambda's SQS event source mapping does: receive a batch,
// invoke the function with it, delete what succeeded. Failed messages come
// back after the visibility timeout, and the queue's redrive policy moves them
// to the dead-letter queue after maxReceiveCount receives.
type Poller struct {
	Source SQSSource
	SQS    *sqs.Client
	Fn     Invoker
	Log    *slog.Logger
	Wait   time.Duration // long-poll wait per receive (default 1 s: snappy locally)
	Region string
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if _, err := p.PollOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			p.log().Warn("sqs poll failed", "function", p.Source.Function, "queue", p.Source.QueueURL, "error", err.Error())
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
	}
}

func (p *Poller) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}

// PollOnce receives one batch (waiting up to the batching window for it to
// fill), invokes the function and settles the batch. It returns how many
// messages it received.
func (p *Poller) PollOnce(ctx context.Context) (int, error) {
	batch, err := p.receive(ctx)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	region := p.Region
	if region == "" {
		region = Region
	}
	payload, err := json.Marshal(BuildSQSEvent(batch, p.Source.QueueARN, region))
	if err != nil {
		return len(batch), err
	}
	res := p.Fn.Invoke(ctx, payload)
	del, failed := Settle(batch, res, p.Source.ReportFailures)
	if err := p.delete(ctx, del); err != nil {
		return len(batch), err
	}
	attrs := []any{"function", p.Source.Function, "queue", p.Source.QueueURL, "request_id", res.RequestID, "received", len(batch), "deleted", len(del), "failed", failed}
	if res.Error != nil {
		p.log().Warn("sqs batch failed; messages return after the visibility timeout", append(attrs, "error_type", res.Error.Type, "error", res.Error.Message)...)
	} else {
		p.log().Info("sqs batch", attrs...)
	}
	return len(batch), nil
}

func (p *Poller) receive(ctx context.Context) ([]sqstypes.Message, error) {
	size := max(p.Source.BatchSize, 1)
	wait := p.Wait
	if wait <= 0 {
		wait = time.Second
	}
	var batch []sqstypes.Message
	var windowEnd time.Time
	for len(batch) < size {
		w := wait
		if len(batch) > 0 {
			left := time.Until(windowEnd)
			if left <= 0 {
				break
			}
			w = min(w, left)
		}
		out, err := p.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(p.Source.QueueURL),
			MaxNumberOfMessages: int32(min(size-len(batch), 10)),
			WaitTimeSeconds:     int32(w / time.Second),
			//lint:ignore SA1019 emulators that predate MessageSystemAttributeNames only know this one
			AttributeNames:              []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if len(batch) > 0 && ctx.Err() == nil {
				break // invoke with what we have; the error will show on the next poll
			}
			return nil, err
		}
		if len(batch) == 0 {
			if len(out.Messages) == 0 {
				return nil, nil
			}
			windowEnd = time.Now().Add(p.Source.Window)
		}
		batch = append(batch, out.Messages...)
		if p.Source.Window <= 0 {
			break
		}
		if len(out.Messages) == 0 && w < time.Second {
			// Short polls return at once; do not spin until the window ends.
			select {
			case <-ctx.Done():
				return batch, nil
			case <-time.After(min(100*time.Millisecond, time.Until(windowEnd))):
			}
		}
	}
	return batch, nil
}

func (p *Poller) delete(ctx context.Context, msgs []sqstypes.Message) error {
	for chunk := range slices.Chunk(msgs, 10) {
		in := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.Source.QueueURL)}
		for i, m := range chunk {
			in.Entries = append(in.Entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
		out, err := p.SQS.DeleteMessageBatch(context.WithoutCancel(ctx), in)
		if err != nil {
			return fmt.Errorf("delete batch: %w", err)
		}
		for _, f := range out.Failed {
			p.log().Warn("sqs delete failed", "function", p.Source.Function, "queue", p.Source.QueueURL, "code", aws.ToString(f.Code), "error", aws.ToString(f.Message))
		}
	}
	return nil
}

// Settle decides, as Lambda does, which messages of an invoked batch to delete.
// A function error keeps them all. With ReportBatchItemFailures, the response's
// batchItemFailures are kept and the rest deleted; an empty or null response or
// list means all succeeded, while an invalid response or an identifier that is
// empty or not in the batch fails the whole batch.
func Settle(batch []sqstypes.Message, res *Result, reportFailures bool) (del []sqstypes.Message, failed int) {
	if res.Error != nil {
		return nil, len(batch)
	}
	if !reportFailures {
		return batch, 0
	}
	body := strings.TrimSpace(string(res.Payload))
	if body == "" || body == "null" {
		return batch, 0
	}
	var resp struct {
		Failures []struct {
			ID *string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		return nil, len(batch)
	}
	keep := map[string]bool{}
	for _, f := range resp.Failures {
		if f.ID == nil || *f.ID == "" {
			return nil, len(batch)
		}
		found := false
		for _, m := range batch {
			if aws.ToString(m.MessageId) == *f.ID {
				found = true
				break
			}
		}
		if !found {
			return nil, len(batch)
		}
		keep[*f.ID] = true
	}
	for _, m := range batch {
		if !keep[aws.ToString(m.MessageId)] {
			del = append(del, m)
		}
	}
	return del, len(keep)
}

// The system attributes Lambda passes on.
var lambdaSQSAttributes = []string{
	"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp",
	"SequenceNumber", "MessageGroupId", "MessageDeduplicationId", "AWSTraceHeader", "DeadLetterQueueSourceArn",
}

// BuildSQSEvent turns received messages into Lambda's SQS event.
func BuildSQSEvent(msgs []sqstypes.Message, queueARN, region string) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		rec := events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Attributes:             map[string]string{},
			MessageAttributes:      map[string]events.SQSMessageAttribute{},
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			EventSource:            "aws:sqs",
			EventSourceARN:         queueARN,
			AWSRegion:              region,
		}
		for _, k := range lambdaSQSAttributes {
			if v, ok := m.Attributes[k]; ok {
				rec.Attributes[k] = v
			}
		}
		for k, a := range m.MessageAttributes {
			ma := events.SQSMessageAttribute{
				StringValue: a.StringValue, BinaryValue: a.BinaryValue,
				StringListValues: a.StringListValues, BinaryListValues: a.BinaryListValues,
				DataType: aws.ToString(a.DataType),
			}
			if ma.StringListValues == nil {
				ma.StringListValues = []string{}
			}
			if ma.BinaryListValues == nil {
				ma.BinaryListValues = [][]byte{}
			}
			rec.MessageAttributes[k] = ma
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}
