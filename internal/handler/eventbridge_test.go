package handler_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/shopify"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/state"
	"github.com/aftercare/aftercare/internal/testenv"
)

// eventBridge calls moto's EventBridge (JSON 1.1, signed like the SDK does:
// moto tells services apart by the signature's scope). The module has no
// EventBridge client and the test needs four calls, so they are made by hand.
func eventBridge(t *testing.T, endpoint, op string, in map[string]any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(in)
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSEvents."+op)
	sum := sha256.Sum256(body)
	// The signing time is only the request's date; moto does not check it.
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"},
		req, hex.EncodeToString(sum[:]), "events", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("EventBridge %s: %d %s", op, resp.StatusCode, raw)
	}
	out := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("EventBridge %s: %s", op, raw)
		}
	}
	return out
}

// A Shopify webhook put on an EventBridge bus reaches the inbox through the
// template's rule (detail-type shopifyWebhook, the inbox queue as target) and
// is applied like the same webhook by HTTP: the customer is stored, and the
// webhook's own event (same X-Shopify-Event-Id) then changes nothing.
func TestEventBridgeDeliveryThroughARuleIsApplied(t *testing.T) {
	testenv.NeedEmulators(t)
	s := testenv.Fresh(t)
	store := &dynamo.Store{DB: s.DB, Streams: s.Streams, Table: s.Table, Shards: 4, Now: func() time.Time { return clock }}
	p := newProcessor(store, &sqs.Outbox{Messages: &sqs.Queue{API: s.SQS, URL: s.Outbound}, Events: &sqs.Queue{API: s.SQS, URL: s.Inbox}}, store.ShopSettings)
	endpoint := s.Env.SQSEndpoint // moto serves EventBridge beside SQS

	// What the template's ShopifyEventBus and ShopifyEventRule make, on a
	// custom bus: moto 5.2.5 looks a bus up by the last "/" segment of its
	// name in PutRule, PutTargets and PutEvents, so a partner bus
	// (aws.partner/shopify.com/<app id>/<name>) gets no rule there, and its
	// PutPartnerEvents hands entries to the default bus. The rule's pattern,
	// its SQS target and the envelope are the real ones.
	bus := "shopify-" + s.Table
	source := "aws.partner/shopify.com/1234567/aftercare"
	eventBridge(t, endpoint, "CreateEventBus", map[string]any{"Name": bus})
	eventBridge(t, endpoint, "PutRule", map[string]any{"Name": "shopify-to-inbox", "EventBusName": bus,
		"EventPattern": `{"detail-type": ["` + shopify.EventBridgeDetailType + `"]}`, "State": "ENABLED"})
	eventBridge(t, endpoint, "PutTargets", map[string]any{"Rule": "shopify-to-inbox", "EventBusName": bus,
		"Targets": []map[string]any{{"Id": "inbox", "Arn": s.Attributes["InboxQueue"]["Arn"]}}})

	body := golden(t, "events/webhooks/shopify/customers__update.json")
	metadata := map[string]string{"Content-Type": "application/json", "X-Shopify-Topic": "customers/update",
		"X-Shopify-Shop-Domain": shop, "X-Shopify-Event-Id": "eb-moto-1", "X-Shopify-API-Version": "2026-10",
		"X-Shopify-Triggered-At": clock.Add(-time.Minute).Format(time.RFC3339)}
	detail, _ := json.Marshal(map[string]any{"payload": json.RawMessage(body), "metadata": metadata})
	put := eventBridge(t, endpoint, "PutEvents", map[string]any{"Entries": []map[string]any{{
		"EventBusName": bus, "Source": source, "DetailType": shopify.EventBridgeDetailType, "Detail": string(detail)}}})
	if n, _ := put["FailedEntryCount"].(float64); n != 0 {
		t.Fatalf("PutEvents: %v", put)
	}

	got, err := s.SQS.ReceiveMessage(context.Background(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(s.Inbox),
		MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Messages) != 1 {
		t.Fatalf("the rule delivered %d messages to the inbox, want 1", len(got.Messages))
	}
	msg := got.Messages[0]
	if !shopify.IsEventBridge([]byte(aws.ToString(msg.Body))) {
		t.Fatalf("the inbox holds no EventBridge envelope: %s", aws.ToString(msg.Body))
	}
	rec := events.SQSMessage{MessageId: aws.ToString(msg.MessageId), Body: aws.ToString(msg.Body), Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
	if failed := run(t, p, rec); len(failed) != 0 {
		t.Fatalf("the envelope was not applied: %v", failed)
	}
	var payload struct {
		ID json.Number `json:"id"`
	}
	if err := json.Unmarshal(body, &payload); err != nil {
		t.Fatal(err)
	}
	if c := loadCustomer(t, store, shop, payload.ID.String()); c.Email == "" {
		t.Fatalf("customer from EventBridge has no email: %+v", c)
	}

	// The same delivery by HTTP parses to the same event id: already applied.
	h := http.Header{}
	for k, v := range metadata {
		h.Set(k, v)
	}
	webhook, err := shopify.Source{}.Parse(body, h, clock)
	if err != nil {
		t.Fatal(err)
	}
	viaBus, err := shopify.ParseEventBridge([]byte(rec.Body), clock)
	if err != nil || viaBus.ID != webhook.ID {
		t.Fatalf("ids differ: bus %q, webhook %q (%v)", viaBus.ID, webhook.ID, err)
	}
	if res, err := p.Process(context.Background(), &webhook); err != nil || res.Outcome == state.Applied {
		t.Fatalf("the webhook copy of an applied envelope: %+v (%v), want nothing new", res, err)
	}
}
