package dynamo_test

import (
	"context"
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
	// As the items were before the index: no owner keys.
	for _, k := range []map[string]types.AttributeValue{
		{"pk": &types.AttributeValueMemberS{Value: "SHOP#" + shop}, "sk": &types.AttributeValueMemberS{Value: "MESSAGE#" + m.ID}},
		{"pk": &types.AttributeValueMemberS{Value: "EVENT#ev-1"}, "sk": &types.AttributeValueMemberS{Value: "EVENT"}},
	} {
		if _, err := env.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(env.Table), Key: k,
			UpdateExpression: aws.String("REMOVE owner_pk, owner_sk")}); err != nil {
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
}
