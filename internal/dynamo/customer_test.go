package dynamo_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/dynamo/dynamotest"
	"github.com/aftercare/aftercare/internal/state"
	"github.com/aftercare/aftercare/internal/testenv"
)

// racing runs before once, after UpdateCustomer's first read and before its
// first write.
type racing struct {
	dynamo.API
	before func()
	once   sync.Once
}

func (r *racing) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	r.once.Do(r.before)
	return r.API.UpdateItem(ctx, in, o...)
}

// An event committed between UpdateCustomer's read and write is not lost:
// the write fails its condition, and the change is applied to the new version.
func TestUpdateCustomerRetriesOnARace(t *testing.T) {
	s := testenv.Fresh(t)
	ctx := context.Background()
	now := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	plain := &dynamo.Store{DB: s.DB, Streams: s.Streams, Table: s.Table, Shards: 4, Now: func() time.Time { return now }}
	const shop = "race.myshopify.com"
	c := &aftercare.Customer{Shop: shop, ID: "7", Email: "old@example.org", EmailConsent: aftercare.Consent{State: aftercare.ConsentSubscribed}}
	if err := plain.Commit(ctx, &state.Commit{Puts: []state.Entity{{Customer: c}}}); err != nil {
		t.Fatal(err)
	}
	counting := dynamotest.NewCounting(s.DB)
	racer := &racing{API: counting, before: func() {
		cur, _, _, _ := plain.State(ctx, shop, "7", "")
		cur.Email = "new@example.org"
		if err := plain.Commit(ctx, &state.Commit{Puts: []state.Entity{{Customer: cur}}}); err != nil {
			t.Error(err)
		}
	}}
	store := &dynamo.Store{DB: racer, Streams: s.Streams, Table: s.Table, Shards: 4, Now: plain.Now}
	err := store.UpdateCustomer(ctx, shop, "7", func(c *aftercare.Customer) bool {
		c.EmailConsent = aftercare.Consent{State: aftercare.ConsentUnsubscribed, UpdatedAt: now}
		return true
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _, _, _ := plain.State(ctx, shop, "7", "")
	if got.Email != "new@example.org" || got.EmailConsent.State != aftercare.ConsentUnsubscribed || got.Version != 3 {
		t.Fatalf("after the race: email %s consent %+v version %d", got.Email, got.EmailConsent, got.Version)
	}
	if st := counting.Stats(); st.Calls["GetItem"] != 2 || st.Calls["UpdateItem"] != 2 || st.Total != 4 {
		t.Fatalf("calls %v, want a read and a write per attempt, two attempts", st.Calls)
	}
}
