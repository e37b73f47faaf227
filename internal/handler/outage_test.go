package handler_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/handler"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/testenv"
)

// stoppable stands between the processor and DynamoDB Local; while stopped
// it hangs up every connection, as a stopped DynamoDB does for its clients.
type stoppable struct {
	rp      *httputil.ReverseProxy
	stopped atomic.Bool
	refused atomic.Int64
}

func (s *stoppable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.stopped.Load() {
		s.refused.Add(1)
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = c.Close()
		}
		return
	}
	s.rp.ServeHTTP(w, r)
}

// DynamoDB stopped, then started: every event queued meanwhile is applied
// once it is back, none reaches the dead-letter queue, nobody redrives. The
// inbox queue is the template's (maxReceiveCount 15) and the test plays
// Lambda's event source mapping against moto. Time is scaled down: in
// production events back off 5 s doubling to 2 min, so 15 receives ride out
// 20 min 35 s against the 15 minutes SPEC 16 asks for; here they back off
// 1 s doubling to 2 s (1 + 13 x 2 = 27 s before the 15th receive) against a
// 20 s outage, the outage 45 times shorter and the budget about 45 times
// shorter too.
func TestDynamoDBOutageLosesNothingAndNeedsNoRedrive(t *testing.T) {
	s := testenv.Fresh(t)
	target, err := url.Parse(s.Env.DynamoEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	db := &stoppable{rp: httputil.NewSingleHostReverseProxy(target)}
	srv := httptest.NewServer(db)
	t.Cleanup(srv.Close)
	client := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	store := &dynamo.Store{DB: client, Streams: s.Streams, Table: s.Table, Shards: 4, Now: func() time.Time { return clock }}
	p := newProcessor(store, &sqs.Outbox{Messages: &sqs.Queue{API: s.SQS, URL: s.Outbound}, Events: &sqs.Queue{API: s.SQS, URL: s.Inbox}}, store.ShopSettings)
	scaled := func(n int) time.Duration { return aftercare.RetryDelay(time.Second, n, 2*time.Second) }
	h := handler.Processor(p, &sqs.Queue{API: s.SQS, URL: s.Inbox}, scaled, obs.NewLogger(io.Discard, "ERROR"))

	ctx := context.Background()
	const n = 20
	for i := range n {
		if _, err := s.SQS.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(s.Inbox), MessageBody: aws.String(customerEvent("out" + strconv.Itoa(i)).Body)}); err != nil {
			t.Fatal(err)
		}
	}
	const outage = 20 * time.Second
	db.stopped.Store(true)
	start := time.Now()
	applied, most := 0, 0
	for applied < n {
		if time.Since(start) > outage {
			db.stopped.Store(false)
		}
		if time.Since(start) > outage+90*time.Second {
			t.Fatalf("%d of %d events applied %s after the outage ended", applied, n, time.Since(start)-outage)
		}
		out, err := s.SQS.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(s.Inbox), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			a, err := s.SQS.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(s.InboxDLQ),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
			if err != nil {
				t.Fatal(err)
			}
			if d := a.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)]; d != "0" {
				t.Fatalf("%s events dead-lettered (%d applied): they would need a redrive", d, applied)
			}
			continue
		}
		batch := events.SQSEvent{}
		for _, m := range out.Messages {
			rc := m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)]
			if c, _ := strconv.Atoi(rc); c > most {
				most = c
			}
			batch.Records = append(batch.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
				Body: aws.ToString(m.Body), Attributes: map[string]string{"ApproximateReceiveCount": rc}})
		}
		resp, err := h(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		failed := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		for _, r := range batch.Records {
			if failed[r.MessageId] {
				continue
			}
			// As the event source mapping does for the records that succeeded.
			if _, err := s.SQS.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(s.Inbox), ReceiptHandle: aws.String(r.ReceiptHandle)}); err != nil {
				t.Fatal(err)
			}
			applied++
		}
	}
	if db.refused.Load() == 0 || most < 3 {
		t.Fatalf("the outage was not felt: %d requests refused, at most %d receives", db.refused.Load(), most)
	}
	t.Logf("%d events applied after a %s outage; %d DynamoDB requests refused; at most %d receives of the 15 allowed", n, outage, db.refused.Load(), most)
	for i := range n {
		if c := loadCustomer(t, store, shop, "out"+strconv.Itoa(i)); c.Email != "out"+strconv.Itoa(i)+"@example.com" {
			t.Fatalf("customer %d: %+v", i, c)
		}
	}
	dead, err := s.SQS.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(s.InboxDLQ), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(dead.Messages) != 0 {
		t.Fatalf("%d events dead-lettered: they would need a redrive", len(dead.Messages))
	}
}
