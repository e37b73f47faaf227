package devstack_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/testenv"
)

// recorder keeps every event a poller invoked the function with.
type recorder struct {
	inner devstack.Invoker
	mu    sync.Mutex
	evs   []events.SQSEvent
}

func (r *recorder) Invoke(ctx context.Context, payload []byte) *devstack.Result {
	var ev events.SQSEvent
	_ = json.Unmarshal(payload, &ev)
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
	return r.inner.Invoke(ctx, payload)
}

func (r *recorder) deliveries(body string) []events.SQSMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []events.SQSMessage
	for _, ev := range r.evs {
		for _, rec := range ev.Records {
			if rec.Body == body {
				out = append(out, rec)
			}
		}
	}
	return out
}

func inboxPoller(t *testing.T, s *testenv.Stack, fn devstack.Invoker, visibility int) *devstack.Poller {
	t.Helper()
	if _, err := s.SQS.SetQueueAttributes(context.Background(), &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(s.Inbox), Attributes: map[string]string{"VisibilityTimeout": strconv.Itoa(visibility)},
	}); err != nil {
		t.Fatal(err)
	}
	return &devstack.Poller{
		Source: devstack.SQSSource{Function: "TestFunction", QueueURL: s.Inbox, QueueARN: s.Attributes["InboxQueue"]["Arn"], BatchSize: 10, Window: 300 * time.Millisecond, ReportFailures: true},
		SQS:    s.SQS, Fn: fn, Wait: time.Second,
	}
}

func send(t *testing.T, s *testenv.Stack, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		in := &sqs.SendMessageInput{QueueUrl: aws.String(s.Inbox), MessageBody: aws.String(b)}
		if b == "ok-1" {
			in.MessageAttributes = map[string]sqstypes.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("test")}}
		}
		if _, err := s.SQS.SendMessage(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
}

func queueCount(t *testing.T, s *testenv.Stack, url string) int {
	t.Helper()
	attrs, err := s.Env.QueueAttributes(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(attrs["ApproximateNumberOfMessages"])
	m, _ := strconv.Atoi(attrs["ApproximateNumberOfMessagesNotVisible"])
	return n + m
}

// With ReportBatchItemFailures, succeeded messages are deleted and the failed
// one returns after the visibility timeout until the queue's redrive policy
// (maxReceiveCount 15 in template.yaml) parks it in the dead-letter queue. The
// event is shaped as Lambda's.
func TestPollerPartialFailureAndRedrive(t *testing.T) {
	s := testenv.Fresh(t)
	r, _ := newRunner(t, 5*time.Second, nil)
	rec := &recorder{inner: r}
	p := inboxPoller(t, s, rec, 1)
	send(t, s, "ok-1", "ok-2", "fail-1")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var dlq []sqstypes.Message
	waitFor(t, 90*time.Second, "the failing message in the dead-letter queue", func() bool {
		out, err := s.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.InboxDLQ), WaitTimeSeconds: 0})
		if err != nil {
			t.Fatal(err)
		}
		dlq = append(dlq, out.Messages...)
		return len(dlq) > 0
	})
	if len(dlq) != 1 || aws.ToString(dlq[0].Body) != "fail-1" {
		t.Fatalf("dead-letter queue holds %v", dlq)
	}
	if n := queueCount(t, s, s.Inbox); n != 0 {
		t.Errorf("inbox still holds %d messages", n)
	}
	fails := rec.deliveries("fail-1")
	if len(fails) != 15 {
		t.Errorf("the failing message was delivered %d times, want maxReceiveCount = 15", len(fails))
	}
	for i, f := range fails {
		if f.Attributes["ApproximateReceiveCount"] != strconv.Itoa(i+1) {
			t.Errorf("delivery %d: ApproximateReceiveCount = %q", i+1, f.Attributes["ApproximateReceiveCount"])
		}
	}
	for _, body := range []string{"ok-1", "ok-2"} {
		if n := len(rec.deliveries(body)); n != 1 {
			t.Errorf("%s delivered %d times, want once", body, n)
		}
	}
	ok := rec.deliveries("ok-1")[0]
	sum := md5.Sum([]byte("ok-1"))
	if ok.EventSource != "aws:sqs" || ok.EventSourceARN != s.Attributes["InboxQueue"]["Arn"] || ok.AWSRegion != devstack.Region ||
		ok.Md5OfBody != hex.EncodeToString(sum[:]) || ok.MessageId == "" || ok.ReceiptHandle == "" {
		t.Errorf("record = %+v", ok)
	}
	for _, k := range []string{"ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp", "SenderId"} {
		if ok.Attributes[k] == "" {
			t.Errorf("record attributes lack %s: %v", k, ok.Attributes)
		}
	}
	b, _ := json.Marshal(ok.MessageAttributes)
	if string(b) != `{"kind":{"stringValue":"test","stringListValues":[],"binaryListValues":[],"dataType":"String"}}` {
		t.Errorf("messageAttributes = %s", b)
	}
}

// A function error, or a batchItemFailures naming a message not in the batch,
// fails the whole batch: nothing is deleted.
func TestPollerWholeBatchFailures(t *testing.T) {
	for _, bad := range []string{"boom", "badid"} {
		t.Run(bad, func(t *testing.T) {
			s := testenv.Fresh(t)
			r, _ := newRunner(t, 5*time.Second, nil)
			p := inboxPoller(t, s, r, 30)
			send(t, s, "ok-1", bad)
			n := 0
			for n < 2 {
				got, err := p.PollOnce(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if got == 0 {
					t.Fatalf("received %d of 2 messages", n)
				}
				n += got
			}
			if c := queueCount(t, s, s.Inbox); c != 2 {
				t.Errorf("inbox holds %d messages, want both kept", c)
			}
		})
	}
}

func TestSettle(t *testing.T) {
	batch := []sqstypes.Message{{MessageId: aws.String("a")}, {MessageId: aws.String("b")}, {MessageId: aws.String("c")}}
	ids := func(ms []sqstypes.Message) string {
		var s []string
		for _, m := range ms {
			s = append(s, aws.ToString(m.MessageId))
		}
		return strings.Join(s, ",")
	}
	cases := []struct {
		name    string
		res     *devstack.Result
		report  bool
		deleted string
	}{
		{"function error", &devstack.Result{Error: &devstack.FunctionError{Type: "x"}}, true, ""},
		{"success", &devstack.Result{Payload: []byte(`{"batchItemFailures":[]}`)}, true, "a,b,c"},
		{"null response", &devstack.Result{Payload: []byte(`null`)}, true, "a,b,c"},
		{"empty response", &devstack.Result{}, true, "a,b,c"},
		{"empty object", &devstack.Result{Payload: []byte(`{}`)}, true, "a,b,c"},
		{"null list", &devstack.Result{Payload: []byte(`{"batchItemFailures":null}`)}, true, "a,b,c"},
		{"partial", &devstack.Result{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":"b"}]}`)}, true, "a,c"},
		{"unknown id", &devstack.Result{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":"z"}]}`)}, true, ""},
		{"empty id", &devstack.Result{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":""}]}`)}, true, ""},
		{"null id", &devstack.Result{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":null}]}`)}, true, ""},
		{"invalid JSON", &devstack.Result{Payload: []byte(`{"batchItem`)}, true, ""},
		{"failures ignored without ReportBatchItemFailures", &devstack.Result{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":"b"}]}`)}, false, "a,b,c"},
	}
	for _, c := range cases {
		del, _ := devstack.Settle(batch, c.res, c.report)
		if got := ids(del); got != c.deleted {
			t.Errorf("%s: deleted %q, want %q", c.name, got, c.deleted)
		}
	}
}
