package dynamo_test

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/dynamo/dynamotest"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/state"
	"github.com/aftercare/aftercare/internal/testenv"
)

// A year of day items with activity every day, beside orders and customers of
// the same shop and another shop's days: a report reads one item per day of
// its range and nothing else.
func TestReportDaysReadsOneItemPerDay(t *testing.T) {
	s := testenv.Fresh(t)
	db := dynamotest.NewCounting(s.DB)
	store := &dynamo.Store{DB: db, Streams: s.Streams, Table: s.Table, Shards: 4}
	ctx := context.Background()
	const shop = "year.myshopify.com"
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC) // any year; only the range matters
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string]report.Counters{}
	all := report.Adds{}
	for i := range 400 {
		d := start.AddDate(0, 0, i).Format(report.DayFormat)
		all.Add(d, "o", int64(1+rng.IntN(20)))
		all.Add(d, "r:USD", int64(rng.IntN(500000)))
		all.Add(d, "m:order_shipped:sent", int64(rng.IntN(9)+1))
		all.Add(d, "pe:ups:damaged", 1)
	}
	// Added in two halves: ADD accumulates.
	half := report.Adds{}
	for d, cs := range all {
		for n, v := range cs {
			half.Add(d, n, v/2)
		}
	}
	rest := report.Delta(half, all)
	for _, a := range []report.Adds{half, rest} {
		if err := store.SeedDays(ctx, shop, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.SeedDays(ctx, "other.myshopify.com", all); err != nil {
		t.Fatal(err)
	}
	// Orders and customers of the shop share its partition.
	if err := store.Commit(ctx, &state.Commit{Puts: []state.Entity{
		{Order: &aftercare.Order{Shop: shop, ID: "1"}},
		{Customer: &aftercare.Customer{Shop: shop, ID: "1"}},
	}, Dedupe: &state.Dedupe{ID: "seed"}}); err != nil {
		t.Fatal(err)
	}
	// The seed's writes are folded once, so each report's fold finds the
	// shard's mark and nothing new.
	if _, err := store.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{30, 365} {
		from, to := start.AddDate(0, 0, 10), start.AddDate(0, 0, 10+n-1)
		db.Reset()
		got, err := store.ReportDays(ctx, shop, from.Format(report.DayFormat), to.Format(report.DayFormat))
		if err != nil {
			t.Fatal(err)
		}
		st := db.Stats()
		t.Logf("%d-day report: %d items read, %d calls (%v), %.1f capacity units", n, st.ItemsRead, st.Total, st.Calls, st.Capacity)
		// The fold before it reads the shards' marks in one Query (DynamoDB
		// Local's stream has one shard, so one mark).
		if days := st.ItemsRead - 1; st.Total != 2 || days != n {
			t.Errorf("%d-day report read %d day items in %d calls %v, want %d (one per day) in 2 queries", n, days, st.Total, st.Calls, n)
		}
		for _, d := range (report.Range{From: from, To: to}).Each() {
			want[d] = all[d]
		}
		for d := range want {
			if d < from.Format(report.DayFormat) || d > to.Format(report.DayFormat) {
				delete(want, d)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%d-day report: counters differ from what was added", n)
		}
	}
}

// Counters that add up to zero read as absent, and a day without an item is
// missing from the answer rather than an error.
func TestReportDaysEmptyAndCancelled(t *testing.T) {
	s := testenv.Fresh(t)
	store := &dynamo.Store{DB: s.DB, Streams: s.Streams, Table: s.Table, Shards: 4}
	ctx := context.Background()
	a := report.Adds{"2023-02-01": {"o": 2, "u": 1}}
	if err := store.SeedDays(ctx, "s.myshopify.com", a); err != nil {
		t.Fatal(err)
	}
	if err := store.SeedDays(ctx, "s.myshopify.com", report.Delta(report.Adds{"2023-02-01": {"u": 1}}, report.Adds{})); err != nil {
		t.Fatal(err)
	}
	got, err := store.ReportDays(ctx, "s.myshopify.com", "2023-01-30", "2023-02-03")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]report.Counters{"2023-02-01": {"o": 2}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
