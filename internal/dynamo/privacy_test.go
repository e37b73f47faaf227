package dynamo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/ledger"
	"github.com/aftercare/aftercare/internal/state"
	"github.com/aftercare/aftercare/internal/testenv"
)

// Items written before the owner index existed are filed under it by
// IndexOwners, once, so customers/redact finds them.
func TestIndexOwnersFilesOlderItems(t *testing.T) {
	testenv.NeedEmulators(t)
	env := testenv.Fresh(t)
	ctx := context.Background()
	now := time.Date(2024, 5, 14, 10, 0, 0, 0, time.UTC)
	s := &dynamo.Store{DB: env.DB, Streams: env.Streams, Table: env.Table, Now: func() time.Time { return now }}
	const shop = "owners.myshopify.com"
	m := aftercare.Message{Kind: aftercare.KindOrderShipped, Shop: shop, CustomerID: "c1"}
	m.Stamp(now, "x")
	if err := s.Record(ctx, ledger.Record{Shop: shop, ID: m.ID, Kind: m.Kind, Decision: ledger.Suppressed, At: now, CustomerID: "c1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, &state.Commit{Dedupe: &state.Dedupe{ID: "ev-1", Shop: shop, At: now, Outbox: []aftercare.Message{m}}}); err != nil {
		t.Fatal(err)
	}
	// As the items were before the index: no owner keys, and the ledger
	// entry naming its customer (entries no longer do).
	for _, u := range []struct {
		key  map[string]types.AttributeValue
		expr string
	}{
		{map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "SHOP#" + shop}, "sk": &types.AttributeValueMemberS{Value: "MESSAGE#" + m.ID}},
			"SET customer_id = :c REMOVE owner_pk, owner_sk"},
		{map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "EVENT#ev-1"}, "sk": &types.AttributeValueMemberS{Value: "EVENT"}},
			"REMOVE owner_pk, owner_sk"},
	} {
		in := &dynamodb.UpdateItemInput{TableName: aws.String(env.Table), Key: u.key, UpdateExpression: aws.String(u.expr)}
		if strings.Contains(u.expr, ":c") {
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: "c1"}}
		}
		if _, err := env.DB.UpdateItem(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if traces, _, err := s.Traces(ctx, shop, "c1", "", 10); err != nil || len(traces) != 0 {
		t.Fatalf("before: %v %v", traces, err)
	}
	n, err := s.IndexOwners(ctx, env.DB)
	if err != nil || n != 2 {
		t.Fatalf("filed %d (%v), want 2", n, err)
	}
	traces, _, err := s.Traces(ctx, shop, "c1", "", 10)
	if err != nil || len(traces) != 2 {
		t.Fatalf("after: %v %v", traces, err)
	}
	if n, err := s.IndexOwners(ctx, env.DB); err != nil || n != 0 {
		t.Fatalf("a second run filed %d (%v), want none", n, err)
	}
	// The older entry's next write takes it off the index and drops the
	// customer's id: nothing of the customer is left for redaction to find.
	if err := s.Record(ctx, ledger.Record{Shop: shop, ID: m.ID, Kind: m.Kind, Decision: ledger.Suppressed, At: now.Add(time.Minute), CustomerID: "c1"}); err != nil {
		t.Fatal(err)
	}
	if traces, _, err := s.Traces(ctx, shop, "c1", "", 10); err != nil || len(traces) != 1 || traces[0].EventID != "ev-1" {
		t.Fatalf("after the entry's next write: %+v %v, want the dedupe record alone", traces, err)
	}
	got, err := env.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(env.Table), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "SHOP#" + shop}, "sk": &types.AttributeValueMemberS{Value: "MESSAGE#" + m.ID}}})
	if err != nil || got.Item["customer_id"] != nil || got.Item["owner_pk"] != nil {
		t.Fatalf("the entry after its next write: %v %v", got.Item, err)
	}
}
