package handler_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/handler"
	"github.com/aftercare/aftercare/internal/memstore"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/rules"
	"github.com/aftercare/aftercare/internal/settings"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/state"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const shop = "handler-shop.myshopify.com"

// clock is the tests' now, a day long before any real today.
var clock = time.Date(2024, 11, 1, 12, 0, 0, 0, time.UTC)

func newProcessor(store state.Store, outbox state.Outbox, load func(context.Context, string) ([]byte, error)) *state.Processor {
	return &state.Processor{
		Store: store, Outbox: outbox,
		Settings: &settings.Cache{Defaults: aftercare.DefaultSettings(), Load: load},
		Rules:    rules.Rules{},
		Log:      obs.NewLogger(io.Discard, "ERROR"),
		Now:      func() time.Time { return clock },
	}
}

// processor is the emulator tier's processor, on table (the test's own when "").
func processor(t *testing.T, table string) (*state.Processor, state.Store) {
	t.Helper()
	s := testenv.Fresh(t)
	if table == "" {
		table = s.Table
	}
	store := &dynamo.Store{DB: s.DB, Streams: s.Streams, Table: table, Shards: 4, Now: func() time.Time { return clock }}
	return newProcessor(store, &sqs.Outbox{Messages: &sqs.Queue{API: s.SQS, URL: s.Outbound}, Events: &sqs.Queue{API: s.SQS, URL: s.Inbox}},
		store.ShopSettings), store
}

// memProcessor is the fast tier's processor: the in-memory store, or one
// that fails every call when broken.
func memProcessor(t *testing.T, broken bool) (*state.Processor, state.Store) {
	t.Helper()
	m := memstore.New()
	var store state.Store = m
	if broken {
		store = failingStore{m}
	}
	return newProcessor(store, discardOutbox{}, m.ShopSettings), store
}

type failingStore struct{ state.Store }

var errStore = errors.New("store unavailable")

func (failingStore) Load(context.Context, string, []state.Key) (*state.Dedupe, *state.Loaded, error) {
	return nil, nil, errStore
}
func (failingStore) Commit(context.Context, *state.Commit) error { return errStore }

type discardOutbox struct{}

func (discardOutbox) SendMessages(context.Context, []aftercare.Message, time.Time) error { return nil }
func (discardOutbox) SendEvents(context.Context, []aftercare.Event) error                { return nil }

// tiers runs a test on the in-memory store (always) and on the emulators
// (skipped only under -short); broken asks for a store that always fails.
func tiers(t *testing.T, fn func(t *testing.T, open func(t *testing.T, broken bool) (*state.Processor, state.Store))) {
	t.Run("memory", func(t *testing.T) { fn(t, memProcessor) })
	t.Run("dynamodb", func(t *testing.T) {
		testenv.NeedEmulators(t)
		fn(t, func(t *testing.T, broken bool) (*state.Processor, state.Store) {
			if broken {
				return processor(t, "no-such-table") // fails after the SDK's retries
			}
			return processor(t, "")
		})
	})
}

func customerEvent(id string) events.SQSMessage {
	ev := aftercare.Event{ID: "shopify:" + shop + ":customers/update:" + id, Kind: aftercare.EventCustomer, Source: "shopify",
		Topic: "customers/update", Shop: shop, At: clock.Add(-time.Hour), Received: clock,
		Customer: &aftercare.CustomerInfo{ID: id, Email: id + "@example.com", UpdatedAt: clock.Add(-time.Hour)}}
	b, _ := json.Marshal(ev)
	return events.SQSMessage{MessageId: "m-" + id, Body: string(b), Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

// A poison message fails alone: the batch reports only its id, so SQS
// retries just it (and parks it in the DLQ after maxReceiveCount) while the
// good records of the same batch are applied.
func TestPoisonMessageFailsAlone(t *testing.T) {
	tiers(t, func(t *testing.T, open func(*testing.T, bool) (*state.Processor, state.Store)) {
		p, store := open(t, false)
		batch := events.SQSEvent{Records: []events.SQSMessage{
			customerEvent("c1"),
			{MessageId: "m-poison", Body: `{"id": "x", "kind": `, Attributes: map[string]string{"ApproximateReceiveCount": "3"}},
			{MessageId: "m-shapeless", Body: `{"id":"shopify:` + shop + `:orders/create:9","kind":"order","shop":"` + shop + `"}`},
			customerEvent("c2"),
		}}
		resp, err := handler.Processor(p, nil, nil, obs.NewLogger(io.Discard, "ERROR"))(context.Background(), batch)
		if err != nil {
			t.Fatal(err)
		}
		var failed []string
		for _, f := range resp.BatchItemFailures {
			failed = append(failed, f.ItemIdentifier)
		}
		if len(failed) != 2 || failed[0] != "m-poison" || failed[1] != "m-shapeless" {
			t.Fatalf("batch item failures %v, want [m-poison m-shapeless]", failed)
		}
		for _, id := range []string{"c1", "c2"} {
			if c := loadCustomer(t, store, shop, id); c.Email != id+"@example.com" {
				t.Fatalf("good record %s was not applied: %+v", id, c)
			}
		}
	})
}

// A store that fails (on the emulators: a table that does not exist, after
// the SDK's retries) is never swallowed: every record is reported for redelivery.
func TestStoreErrorsAreItemFailures(t *testing.T) {
	tiers(t, func(t *testing.T, open func(*testing.T, bool) (*state.Processor, state.Store)) {
		p, _ := open(t, true)
		batch := events.SQSEvent{Records: []events.SQSMessage{customerEvent("c1"), customerEvent("c2")}}
		resp, err := handler.Processor(p, nil, nil, obs.NewLogger(io.Discard, "ERROR"))(context.Background(), batch)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.BatchItemFailures) != 2 {
			t.Fatalf("batch item failures %+v, want both records", resp.BatchItemFailures)
		}
	})
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 5 * time.Second, 1: 5 * time.Second, 2: 10 * time.Second, 3: 20 * time.Second,
		4: 40 * time.Second, 5: 80 * time.Second, 6: 2 * time.Minute, 50: 2 * time.Minute} {
		if got := handler.Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %s, want %s", n, got, want)
		}
	}
}

// Against moto: a failed event is not left for the queue's 3-minute
// visibility timeout; it comes back after the backoff.
func TestFailedEventBacksOff(t *testing.T) {
	p, _ := processor(t, "")
	s := testenv.Fresh(t)
	ctx := context.Background()
	if _, err := s.SQS.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(s.Inbox), MessageBody: aws.String(`{"id":`)}); err != nil {
		t.Fatal(err)
	}
	receive := func(wait int32) []sqstypes.Message {
		out, err := s.SQS.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(s.Inbox), WaitTimeSeconds: wait,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Messages
	}
	msgs := receive(2)
	if len(msgs) != 1 {
		t.Fatalf("received %d messages", len(msgs))
	}
	m := msgs[0]
	batch := events.SQSEvent{Records: []events.SQSMessage{{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
		Body: aws.ToString(m.Body), Attributes: map[string]string{"ApproximateReceiveCount": "1"}}}}
	h := handler.Processor(p, &sqs.Queue{API: s.SQS, URL: s.Inbox}, nil, obs.NewLogger(io.Discard, "ERROR"))
	resp, err := h(ctx, batch)
	if err != nil || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("%+v %v", resp, err)
	}
	start := time.Now()
	if again := receive(1); len(again) != 0 {
		t.Fatal("the failed message came back at once")
	}
	testenv.WaitFor(t, 30*time.Second, 100*time.Millisecond, "the failed message to come back", func() bool { return len(receive(1)) == 1 })
	if waited := time.Since(start); waited < 3*time.Second {
		t.Fatalf("came back after %s, want about the 5 s backoff", waited)
	}
}
