package sqs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// counting counts SendMessageBatch calls on the real client.
type counting struct {
	*awssqs.Client
	batches atomic.Int64
}

func (c *counting) SendMessageBatch(ctx context.Context, in *awssqs.SendMessageBatchInput, o ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	c.batches.Add(1)
	if n := len(in.Entries); n > 10 {
		return nil, fmt.Errorf("%d entries in one batch", n)
	}
	return c.Client.SendMessageBatch(ctx, in, o...)
}

func receiveAll(t *testing.T, c *awssqs.Client, url string, want int) map[string]string {
	return receiveFor(t, c, url, want, 30*time.Second)
}

// receiveFor receives until want messages arrived or wait is over.
func receiveFor(t *testing.T, c *awssqs.Client, url string, want int, wait time.Duration) map[string]string {
	t.Helper()
	got := map[string]string{}
	deadline := time.Now().Add(wait)
	for len(got) < want && time.Now().Before(deadline) {
		out, err := c.ReceiveMessage(context.Background(), &awssqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			got[aws.ToString(m.MessageAttributes["id"].StringValue)] = aws.ToString(m.Body)
		}
	}
	return got
}

// Against moto: 23 messages go out in 3 SendMessageBatch calls, each
// carrying its id, and arrive intact.
func TestSendBatchTenToACall(t *testing.T) {
	s := testenv.Fresh(t)
	c := &counting{Client: s.SQS}
	q := &sqs.Queue{API: c, URL: s.Outbound}
	var entries []sqs.Entry
	for i := 0; i < 23; i++ {
		entries = append(entries, sqs.Entry{ID: fmt.Sprintf("m%d", i), Body: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	if err := q.SendBatch(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
	if n := c.batches.Load(); n != 3 {
		t.Fatalf("%d SendMessageBatch calls for 23 messages, want 3", n)
	}
	got := receiveAll(t, s.SQS, s.Outbound, 23)
	for i := 0; i < 23; i++ {
		if got[fmt.Sprintf("m%d", i)] != fmt.Sprintf(`{"n":%d}`, i) {
			t.Fatalf("message m%d: %q", i, got[fmt.Sprintf("m%d", i)])
		}
	}
}

// Big bodies split batches by size as well as count (SQS caps a batch at
// 256 KiB in all).
func TestSendBatchSplitsBySize(t *testing.T) {
	s := testenv.Fresh(t)
	c := &counting{Client: s.SQS}
	q := &sqs.Queue{API: c, URL: s.Inbox}
	body := []byte(`"` + strings.Repeat("x", 100<<10) + `"`)
	var entries []sqs.Entry
	for i := 0; i < 5; i++ {
		entries = append(entries, sqs.Entry{ID: fmt.Sprintf("big%d", i), Body: body})
	}
	if err := q.SendBatch(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
	if n := c.batches.Load(); n != 3 {
		t.Fatalf("%d calls for five 100 KiB bodies, want 3 (two per call)", n)
	}
	if got := receiveAll(t, s.SQS, s.Inbox, 5); len(got) != 5 {
		t.Fatalf("received %d of 5", len(got))
	}
}

// SendMessages drops repeated ids: the same cause twice in one outcome is one message.
func TestSendMessagesDedupes(t *testing.T) {
	s := testenv.Fresh(t)
	q := &sqs.Queue{API: s.SQS, URL: s.Outbound}
	now := time.Date(2024, 11, 20, 12, 0, 0, 0, time.UTC)
	m := aftercare.Message{Kind: aftercare.KindOrderShipped, Shop: "s.myshopify.com", OrderID: "1"}
	m.Stamp(now, "parcel-1")
	other := m
	other.Stamp(now, "parcel-2")
	if err := q.SendMessages(context.Background(), []aftercare.Message{m, m, other}, now); err != nil {
		t.Fatal(err)
	}
	got := receiveAll(t, s.SQS, s.Outbound, 2)
	if more := receiveFor(t, s.SQS, s.Outbound, 1, 2*time.Second); len(got) != 2 || len(more) != 0 {
		t.Fatalf("received %d then %d messages, want 2 then 0", len(got), len(more))
	}
}

// A record whose handler panics or fails is reported alone; the others of
// the batch succeed; records run in parallel, at most `parallel` at once.
func TestConsumeIsolatesFailures(t *testing.T) {
	const parallel = 3
	var running, peak atomic.Int64
	full := make(chan struct{}) // closed once `parallel` records run at the same time
	var once sync.Once
	ev := events.SQSEvent{}
	for i := 0; i < 12; i++ {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprint(i), Body: fmt.Sprint(i),
			Attributes: map[string]string{"ApproximateReceiveCount": "2", "SentTimestamp": "1763640000000"}})
	}
	resp := sqs.Consume(context.Background(), ev, parallel, func(_ context.Context, r sqs.Record) error {
		n := running.Add(1)
		defer running.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		if n == parallel {
			once.Do(func() { close(full) })
		}
		// The first records wait for each other: run one at a time, they never meet.
		select {
		case <-full:
		case <-time.After(10 * time.Second):
			return errors.New("records did not run in parallel")
		}
		if r.ReceiveCount != 2 || r.SentAt.Unix() != 1763640000 {
			return errors.New("record attributes lost")
		}
		switch string(r.Body) {
		case "3":
			panic("poison")
		case "7":
			return errors.New("transient")
		}
		return nil
	})
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if fmt.Sprint(failed) != "[3 7]" {
		t.Fatalf("failures %v, want [3 7]", failed)
	}
	if p := peak.Load(); p != parallel {
		t.Fatalf("%d records ran at once at most, want exactly %d", p, parallel)
	}
}
