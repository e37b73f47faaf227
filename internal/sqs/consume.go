package sqs

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Record is one received message, free of Lambda types.
type Record struct {
	MessageID     string
	ReceiptHandle string
	Body          []byte
	ReceiveCount  int // 1 on first delivery
	SentAt        time.Time
}

// Consume runs fn for each record of a batch, at most parallel at once, and
// reports the records whose fn failed (or panicked) as batch item failures, so
// SQS redelivers only those and, after the queue's maxReceiveCount, parks them
// in the dead-letter queue without blocking the rest of the batch.
func Consume(ctx context.Context, ev events.SQSEvent, parallel int, fn func(context.Context, Record) error) events.SQSEventResponse {
	if parallel < 1 {
		parallel = 1
	}
	failed := make([]bool, len(ev.Records))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range ev.Records {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			failed[i] = run(ctx, fn, toRecord(ev.Records[i])) != nil
		}(i)
	}
	wg.Wait()
	var resp events.SQSEventResponse
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp
}

// run calls fn, turning a panic into an error so one poison message cannot
// fail its whole batch.
func run(ctx context.Context, fn func(context.Context, Record) error, r Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return fn(ctx, r)
}

func toRecord(m events.SQSMessage) Record {
	r := Record{MessageID: m.MessageId, ReceiptHandle: m.ReceiptHandle, Body: []byte(m.Body), ReceiveCount: 1}
	if n, err := strconv.Atoi(m.Attributes["ApproximateReceiveCount"]); err == nil && n > 0 {
		r.ReceiveCount = n
	}
	if ms, err := strconv.ParseInt(m.Attributes["SentTimestamp"], 10, 64); err == nil {
		r.SentAt = time.UnixMilli(ms).UTC()
	}
	return r
}
