package handler_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/handler"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/rules"
	"github.com/aftercare/aftercare/internal/settings"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/state"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const shop = "handler-shop.myshopify.com"

func processor(t *testing.T, table string) (*state.Processor, *dynamo.Store) {
	t.Helper()
	s := testenv.Fresh(t)
	if table == "" {
		table = s.Table
	}
	store := &dynamo.Store{DB: s.DB, Table: table, Shards: 4}
	return &state.Processor{
		Store:    store,
		Outbox:   &sqs.Outbox{Messages: &sqs.Queue{API: s.SQS, URL: s.Outbound}, Events: &sqs.Queue{API: s.SQS, URL: s.Inbox}},
		Settings: &settings.Cache{Defaults: aftercare.DefaultSettings(), Load: store.ShopSettings},
		Rules:    rules.Rules{},
		Log:      obs.NewLogger(io.Discard, "ERROR"),
	}, store
}

func customerEvent(id string) events.SQSMessage {
	ev := aftercare.Event{ID: "shopify:" + shop + ":customers/update:" + id, Kind: aftercare.EventCustomer, Source: "shopify",
		Topic: "customers/update", Shop: shop, At: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Received: time.Now().UTC(),
		Customer: &aftercare.CustomerInfo{ID: id, Email: id + "@example.com", UpdatedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}}
	b, _ := json.Marshal(ev)
	return events.SQSMessage{MessageId: "m-" + id, Body: string(b), Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

// A poison message fails alone: the batch reports only its id, so SQS
// retries just it (and parks it in the DLQ after maxReceiveCount) while the
// good records of the same batch are applied.
func TestPoisonMessageFailsAlone(t *testing.T) {
	p, store := processor(t, "")
	batch := events.SQSEvent{Records: []events.SQSMessage{
		customerEvent("c1"),
		{MessageId: "m-poison", Body: `{"id": "x", "kind": `, Attributes: map[string]string{"ApproximateReceiveCount": "3"}},
		{MessageId: "m-shapeless", Body: `{"id":"shopify:` + shop + `:orders/create:9","kind":"order","shop":"` + shop + `"}`},
		customerEvent("c2"),
	}}
	resp, err := handler.Processor(p, obs.NewLogger(io.Discard, "ERROR"))(context.Background(), batch)
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
		d, _, err := store.Load(context.Background(), "shopify:"+shop+":customers/update:"+id, nil)
		if err != nil || d == nil {
			t.Fatalf("good record %s was not applied: %v", id, err)
		}
	}
}

// A store that fails (here: a table that does not exist, after the SDK's
// retries) is never swallowed: every record is reported for redelivery.
func TestStoreErrorsAreItemFailures(t *testing.T) {
	p, _ := processor(t, "no-such-table")
	batch := events.SQSEvent{Records: []events.SQSMessage{customerEvent("c1"), customerEvent("c2")}}
	resp, err := handler.Processor(p, obs.NewLogger(io.Discard, "ERROR"))(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 2 {
		t.Fatalf("batch item failures %+v, want both records", resp.BatchItemFailures)
	}
}
