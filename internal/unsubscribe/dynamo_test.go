package unsubscribe_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/dynamo/dynamotest"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/state"
	"github.com/aftercare/aftercare/internal/testenv"
	"github.com/aftercare/aftercare/internal/unsubscribe"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const shop = "unsub-shop.myshopify.com"

func putCustomer(t *testing.T, store *dynamo.Store, c *aftercare.Customer, due time.Time) {
	t.Helper()
	c.ExamineAt = due
	err := store.Commit(context.Background(), &state.Commit{Puts: []state.Entity{{Customer: c}}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDynamoUnsubscribe runs against DynamoDB Local with the table of template.yaml.
func TestDynamoUnsubscribe(t *testing.T) {
	s := testenv.Fresh(t)
	ctx := context.Background()
	now := time.Date(2015, 3, 4, 15, 6, 7, 0, time.UTC)
	store := &dynamo.Store{DB: s.DB, Streams: s.Streams, Table: s.Table, Shards: 4, Now: func() time.Time { return now }}
	counting := dynamotest.NewCounting(s.DB)
	d := unsubscribe.StoreConsent{Customers: &dynamo.Store{DB: counting, Streams: s.Streams, Table: s.Table}}
	c := &aftercare.Customer{Shop: shop, ID: "42", Email: "ada@example.org", Phone: "+15550001111",
		EmailConsent: aftercare.Consent{State: aftercare.ConsentSubscribed, UpdatedAt: now.Add(-48 * time.Hour)},
		SMSConsent:   aftercare.Consent{State: aftercare.ConsentSubscribed, UpdatedAt: now.Add(-48 * time.Hour)}}
	putCustomer(t, store, c, now.Add(24*time.Hour))

	if err := d.Unsubscribe(ctx, shop, "42", aftercare.ChannelEmail, now, unsubscribe.SourceOneClick); err != nil {
		t.Fatal(err)
	}
	got, _, _, err := store.State(ctx, shop, "42", "")
	if err != nil || got == nil {
		t.Fatalf("read back: %v", err)
	}
	if want := (aftercare.Consent{State: aftercare.ConsentUnsubscribed, UpdatedAt: now, Source: unsubscribe.SourceOneClick}); got.EmailConsent != want {
		t.Fatalf("email consent = %+v, want %+v", got.EmailConsent, want)
	}
	if got.SMSConsent.State != aftercare.ConsentSubscribed || got.Email != c.Email || got.Version != 2 {
		t.Fatalf("the rest of the customer changed: %+v", got)
	}
	if n := counting.Stats().Total; n != 2 {
		t.Errorf("round trips = %d, want 2 (GetItem, TransactWriteItems with the report's day)", n)
	}
	// The shop's report counts it on the day, with the withdrawal.
	day := now.In(aftercare.DefaultSettings().Location()).Format(time.DateOnly)
	unsubscribes := func() int64 {
		r, err := report.ParseRange(day, day)
		if err != nil {
			t.Fatal(err)
		}
		days, err := store.ReportDays(ctx, shop, day, day)
		if err != nil {
			t.Fatal(err)
		}
		return report.Compute(shop, r, days).Unsubscribes
	}
	if n := unsubscribes(); n != 1 {
		t.Fatalf("report for %s: %d unsubscribes, want 1", day, n)
	}

	// The due-index keys survive: the customer's lifecycle work is still found.
	out, err := s.DB.GetItem(ctx, dynamoKey(s.Table))
	if err != nil || out.Item["due_pk"] == nil {
		t.Fatalf("due keys lost: %v %v", err, out.Item)
	}

	// Again: nothing written, same answer.
	if err := d.Unsubscribe(ctx, shop, "42", aftercare.ChannelEmail, now.Add(time.Hour), unsubscribe.SourcePage); err != nil {
		t.Fatal(err)
	}
	again, _, _, _ := store.State(ctx, shop, "42", "")
	if again.Version != 2 || again.EmailConsent.UpdatedAt != now {
		t.Fatalf("a repeat unsubscribe rewrote the customer: %+v", again.EmailConsent)
	}
	if n := unsubscribes(); n != 1 {
		t.Fatalf("a repeat unsubscribe counted again: %d", n)
	}

	if err := d.Unsubscribe(ctx, shop, "nobody", aftercare.ChannelEmail, now, unsubscribe.SourceOneClick); aftercare.ErrorCode(err) != aftercare.ENOTFOUND {
		t.Fatalf("unknown customer: %v", err)
	}
}

// TestDynamoUnsubscribeRace: a webhook commit between the read and the
// write must not be lost; the update retries on the new version.
func TestDynamoUnsubscribeRace(t *testing.T) {
	s := testenv.Fresh(t)
	ctx := context.Background()
	now := time.Date(2015, 3, 4, 15, 6, 7, 0, time.UTC)
	store := &dynamo.Store{DB: s.DB, Streams: s.Streams, Table: s.Table, Shards: 4, Now: func() time.Time { return now }}
	c := &aftercare.Customer{Shop: shop, ID: "7", Email: "old@example.org",
		EmailConsent: aftercare.Consent{State: aftercare.ConsentSubscribed}}
	putCustomer(t, store, c, time.Time{})
	racer := &racingDB{API: s.DB, before: func() {
		cur, _, _, _ := store.State(ctx, shop, "7", "")
		cur.Email = "new@example.org"
		putCustomer(t, store, cur, time.Time{})
	}}
	d := unsubscribe.StoreConsent{Customers: &dynamo.Store{DB: racer, Streams: s.Streams, Table: s.Table}}
	if err := d.Unsubscribe(ctx, shop, "7", aftercare.ChannelEmail, now, unsubscribe.SourceOneClick); err != nil {
		t.Fatal(err)
	}
	got, _, _, _ := store.State(ctx, shop, "7", "")
	if got.Email != "new@example.org" || got.EmailConsent.State != aftercare.ConsentUnsubscribed || got.Version != 3 {
		t.Fatalf("after the race: email %s consent %+v version %d", got.Email, got.EmailConsent, got.Version)
	}
}
