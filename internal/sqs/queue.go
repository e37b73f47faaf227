// Package sqs is the SQS adapter: sending events and messages (batched ten to a
// call wherever more than one goes out) and consuming Lambda SQS batches with
// partial batch failures.
package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// API is the part of the SQS client the adapter uses.
type API interface {
	SendMessage(context.Context, *awssqs.SendMessageInput, ...func(*awssqs.Options)) (*awssqs.SendMessageOutput, error)
	SendMessageBatch(context.Context, *awssqs.SendMessageBatchInput, ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error)
	ChangeMessageVisibility(context.Context, *awssqs.ChangeMessageVisibilityInput, ...func(*awssqs.Options)) (*awssqs.ChangeMessageVisibilityOutput, error)
}

// Queue is one SQS queue.
type Queue struct {
	API API
	URL string
}

// Limits of SendMessageBatch and of DelaySeconds.
const (
	batchEntries = 10
	batchBytes   = 250 << 10
	maxDelay     = 15 * time.Minute
)

// Send queues one body in one round trip; id is carried as a message attribute
// for tracing.
func (q *Queue) Send(ctx context.Context, id string, body []byte) error {
	_, err := q.API.SendMessage(ctx, &awssqs.SendMessageInput{
		QueueUrl:          aws.String(q.URL),
		MessageBody:       aws.String(string(body)),
		MessageAttributes: idAttr(id),
	})
	return err
}

// Entry is one body to send.
type Entry struct {
	ID    string
	Body  []byte
	Delay time.Duration // at most 15 minutes
}

// SendBatch sends entries ten (and at most ~250 KiB) to a call, resending the
// entries SQS reports as failed once; it returns an error naming what could
// not be queued.
func (q *Queue) SendBatch(ctx context.Context, entries []Entry) error {
	var failed []string
	for start := 0; start < len(entries); {
		end, size := start, 0
		for end < len(entries) && end-start < batchEntries && (end == start || size+len(entries[end].Body) <= batchBytes) {
			size += len(entries[end].Body)
			end++
		}
		chunk := entries[start:end]
		start = end
		for attempt := 0; attempt < 2 && len(chunk) > 0; attempt++ {
			in := &awssqs.SendMessageBatchInput{QueueUrl: aws.String(q.URL)}
			for i, e := range chunk {
				in.Entries = append(in.Entries, types.SendMessageBatchRequestEntry{
					Id:                aws.String(strconv.Itoa(i)),
					MessageBody:       aws.String(string(e.Body)),
					DelaySeconds:      delaySeconds(e.Delay),
					MessageAttributes: idAttr(e.ID),
				})
			}
			out, err := q.API.SendMessageBatch(ctx, in)
			if err != nil {
				return fmt.Errorf("send batch: %w", err)
			}
			var retry []Entry
			for _, f := range out.Failed {
				i, _ := strconv.Atoi(aws.ToString(f.Id))
				if i >= 0 && i < len(chunk) {
					retry = append(retry, chunk[i])
				}
			}
			chunk = retry
		}
		for _, e := range chunk {
			failed = append(failed, e.ID)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("sqs refused %d of %d messages: %v", len(failed), len(entries), failed)
	}
	return nil
}

// SendMessages encodes and sends messages, deduplicated by id and batched.
// A message with NotBefore waits on the queue up to 15 minutes of it.
func (q *Queue) SendMessages(ctx context.Context, msgs []aftercare.Message, now time.Time) error {
	seen := make(map[string]bool, len(msgs))
	entries := make([]Entry, 0, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		if seen[m.ID] {
			continue
		}
		seen[m.ID] = true
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		entries = append(entries, Entry{ID: m.ID, Body: b, Delay: m.NotBefore.Sub(now)})
	}
	if len(entries) == 1 {
		return q.sendOne(ctx, entries[0])
	}
	return q.SendBatch(ctx, entries)
}

func (q *Queue) sendOne(ctx context.Context, e Entry) error {
	_, err := q.API.SendMessage(ctx, &awssqs.SendMessageInput{
		QueueUrl:          aws.String(q.URL),
		MessageBody:       aws.String(string(e.Body)),
		DelaySeconds:      delaySeconds(e.Delay),
		MessageAttributes: idAttr(e.ID),
	})
	return err
}

// RetryAfter makes a received message visible again after d (up to 12 hours),
// so a failed delivery backs off instead of retrying at once.
func (q *Queue) RetryAfter(ctx context.Context, receiptHandle string, d time.Duration) error {
	if receiptHandle == "" {
		return errors.New("no receipt handle")
	}
	secs := int32(d / time.Second)
	if secs > 43200 {
		secs = 43200
	}
	_, err := q.API.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(q.URL), ReceiptHandle: aws.String(receiptHandle), VisibilityTimeout: secs,
	})
	return err
}

func delaySeconds(d time.Duration) int32 {
	if d <= 0 {
		return 0
	}
	if d > maxDelay {
		d = maxDelay
	}
	return int32((d + time.Second - 1) / time.Second)
}

func idAttr(id string) map[string]types.MessageAttributeValue {
	if id == "" {
		return nil
	}
	return map[string]types.MessageAttributeValue{
		"id": {DataType: aws.String("String"), StringValue: aws.String(id)},
	}
}
