package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/dynamo/dynamotest"
	"github.com/aftercare/aftercare/internal/ledger"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/state"
	"github.com/aftercare/aftercare/internal/testenv"
)

const foldShop = "fold.myshopify.com"

func day(d string, counters map[string]int64) state.Add {
	return state.Add{Key: state.DayKey(foldShop, d), Counters: counters}
}

// Every kind of write that carries counters (an event's commit on its
// dedupe record or on its first put, a ledger decision, a customer changed
// outside an event) adds them once, however often the stream is folded;
// a later write that keeps or drops the carried value, and a delete, add
// nothing; and the event's transaction holds no day item.
func TestFoldCountsEachWriteOnce(t *testing.T) {
	s := testenv.Fresh(t)
	db := dynamotest.NewCounting(s.DB)
	now := time.Date(2025, 3, 3, 12, 0, 0, 0, time.UTC)
	store := &dynamo.Store{DB: db, Streams: s.Streams, Table: s.Table, Shards: 4, Now: func() time.Time { return now }}
	ctx := context.Background()
	want := report.Counters{}
	add := func(c map[string]int64) {
		for k, v := range c {
			want[k] += v
		}
	}

	// On the dedupe record.
	c1 := map[string]int64{"o": 1, "r:USD": 2500}
	cust := &aftercare.Customer{Shop: foldShop, ID: "c1", Email: "c1@example.org"}
	db.Reset()
	if err := store.Commit(ctx, &state.Commit{Dedupe: &state.Dedupe{ID: "ev-1", At: now}, Puts: []state.Entity{{Customer: cust}},
		Adds: []state.Add{day("2025-03-03", c1)}}); err != nil {
		t.Fatal(err)
	}
	add(c1)
	if st := db.Stats(); st.Calls["TransactWriteItems"] != 1 || st.Total != 1 {
		t.Fatalf("commit of a dedupe record and a customer: %v", st.Calls)
	}
	// On the only put: one conditional write, no transaction.
	c2 := map[string]int64{"o": 1}
	db.Reset()
	if err := store.Commit(ctx, &state.Commit{Puts: []state.Entity{{Order: &aftercare.Order{Shop: foldShop, ID: "o2"}}},
		Adds: []state.Add{day("2025-03-03", c2)}}); err != nil {
		t.Fatal(err)
	}
	add(c2)
	if st := db.Stats(); st.Calls["PutItem"] != 1 || st.Total != 1 {
		t.Fatalf("commit of one order with counters: %v, want one PutItem", st.Calls)
	}
	// The same order again without counters (a later event): nothing more.
	if err := store.Commit(ctx, &state.Commit{Puts: []state.Entity{{Order: &aftercare.Order{Shop: foldShop, ID: "o2", Version: 1, Name: "#2"}}}}); err != nil {
		t.Fatal(err)
	}
	// A ledger decision counts itself on its entry.
	if err := store.Record(ctx, ledger.Record{Shop: foldShop, ID: "m1", Kind: aftercare.KindOrderShipped, Decision: ledger.Sent, At: now,
		CustomerID: "c1", Channel: aftercare.ChannelEmail}); err != nil {
		t.Fatal(err)
	}
	add(report.Message(&report.Decision{Kind: aftercare.KindOrderShipped, Decision: ledger.Sent, At: now}, time.UTC)["2025-03-03"])
	// A customer changed outside an event, with counters, then without.
	c3 := map[string]int64{"u": 1}
	if err := store.UpdateCustomer(ctx, foldShop, "c1", func(c *aftercare.Customer) bool { c.FirstName = "Ada"; return true },
		func(_, _ *aftercare.Customer) []state.Add { return []state.Add{day("2025-03-03", c3)} }); err != nil {
		t.Fatal(err)
	}
	add(c3)
	if err := store.UpdateCustomer(ctx, foldShop, "c1", func(c *aftercare.Customer) bool { c.FirstName = "Ada L."; return true }, nil); err != nil {
		t.Fatal(err)
	}
	// Deleting a carrier takes nothing back.
	if err := store.Delete(ctx, []state.Key{{Kind: state.ItemOrder, Shop: foldShop, ID: "o2"}}); err != nil {
		t.Fatal(err)
	}

	k := state.DayKey(foldShop, "2025-03-03")
	for i := range 3 { // folding again changes nothing
		got, err := store.Counters(ctx, []state.Key{k})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(report.Counters(got[k]), want) {
			t.Fatalf("read %d: counters %v, want %v", i+1, got[k], want)
		}
	}
	// A fold with nothing new reads its mark and writes nothing.
	db.Reset()
	st, err := store.Fold(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c := db.Stats().Calls; c["PutItem"]+c["UpdateItem"]+c["TransactWriteItems"] != 0 || st.Counted != 0 {
		t.Fatalf("an idle fold wrote %v (%+v)", c, st)
	}
}

// Folds running at once (reports, the checks, a digest) while events are
// written count each write exactly once: a shard's mark moves only from the
// position a fold read, and the loser reads again from the winner's.
func TestConcurrentFoldsCountOnce(t *testing.T) {
	s := testenv.Fresh(t)
	now := time.Date(2025, 3, 3, 12, 0, 0, 0, time.UTC)
	store := &dynamo.Store{DB: s.DB, Streams: s.Streams, Table: s.Table, Shards: 4, Now: func() time.Time { return now }}
	ctx := context.Background()
	const writes = 60
	var wg sync.WaitGroup
	errs := make(chan error, writes+40)
	for i := range writes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := fmt.Sprintf("2025-03-%02d", 1+i%5)
			errs <- store.Commit(ctx, &state.Commit{Dedupe: &state.Dedupe{ID: fmt.Sprint("ev-", i), At: now},
				Adds: []state.Add{day(d, map[string]int64{"o": 1, "n": int64(i)})}})
		}()
		if i%3 == 0 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := store.Fold(ctx)
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := store.ReportDays(ctx, foldShop, "2025-03-01", "2025-03-05")
	if err != nil {
		t.Fatal(err)
	}
	var orders, sum int64
	for _, c := range got {
		orders += c["o"]
		sum += c["n"]
	}
	if orders != writes || sum != writes*(writes-1)/2 {
		t.Fatalf("after concurrent folds: %d orders (want %d), sum %d (want %d): %v", orders, writes, sum, writes*(writes-1)/2, got)
	}
}

// failingTx fails the nth TransactWriteItems (a fold cut short between two
// of its transactions: a timeout, a throttle), and lets the others through.
type failingTx struct {
	dynamo.API
	n, calls int
}

func (f *failingTx) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if f.calls++; f.calls == f.n {
		return nil, errors.New("injected: the fold is cut short here")
	}
	return f.API.TransactWriteItems(ctx, in, opts...)
}

// More days than one transaction takes, in many records or in one (a
// history import's customer, a long-open exception), are folded in several
// transactions, each moving the mark only past what it added; a fold cut
// short between two of them loses and repeats nothing: the next goes on
// from the mark.
func TestFoldSplitsManyDays(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	days := func(from, n int) []state.Add {
		var adds []state.Add
		for i := from; i < from+n; i++ {
			adds = append(adds, day(start.AddDate(0, 0, i).Format(report.DayFormat), map[string]int64{"o": int64(i + 1)}))
		}
		return adds
	}
	for _, c := range []struct {
		name    string
		records [][]state.Add
	}{
		{"one record of 250 days", [][]state.Add{days(0, 250)}},
		{"250 records of a day each", func() (r [][]state.Add) {
			for i := range 250 {
				r = append(r, days(i, 1))
			}
			return r
		}()},
		{"records across the cut", [][]state.Add{days(0, 60), days(60, 60), days(120, 130)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := testenv.Fresh(t)
			ctx := context.Background()
			clock := func() time.Time { return start }
			writer := &dynamo.Store{DB: s.DB, Streams: s.Streams, Table: s.Table, Now: clock}
			for i, adds := range c.records {
				if err := writer.Commit(ctx, &state.Commit{Dedupe: &state.Dedupe{ID: fmt.Sprint("many-", i), At: start}, Adds: adds}); err != nil {
					t.Fatal(err)
				}
			}
			cut := &dynamo.Store{DB: &failingTx{API: s.DB, n: 2}, Streams: s.Streams, Table: s.Table, Now: clock}
			if _, err := cut.Fold(ctx); err == nil {
				t.Fatal("the fold was not cut short")
			}
			st, err := writer.Fold(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Writes == 0 {
				t.Fatalf("the second fold wrote nothing: %+v", st)
			}
			got, err := writer.ReportDays(ctx, foldShop, "2024-01-01", "2024-12-31")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 250 {
				t.Fatalf("%d days, want 250", len(got))
			}
			for i := range 250 {
				if d := start.AddDate(0, 0, i).Format(report.DayFormat); got[d]["o"] != int64(i+1) {
					t.Fatalf("%s: %v, want o=%d", d, got[d], i+1)
				}
			}
		})
	}
}

// A store without a stream reader reads the day items as the last fold
// left them; one whose stream fails does the same (and logs it): a report
// an hour behind beats no report, and a stream fault must not stop
// shop/redact.
func TestReadsGoOnWithoutAFold(t *testing.T) {
	s := testenv.Fresh(t)
	ctx := context.Background()
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	seeded := &dynamo.Store{DB: s.DB, Table: s.Table, Now: func() time.Time { return now }}
	if err := seeded.SeedDays(ctx, foldShop, report.Adds{"2024-01-01": {"o": 2}}); err != nil {
		t.Fatal(err)
	}
	if err := seeded.Commit(ctx, &state.Commit{Dedupe: &state.Dedupe{ID: "later", At: now},
		Adds: []state.Add{day("2024-01-01", map[string]int64{"o": 1})}}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*dynamo.Store{seeded, {DB: s.DB, Streams: brokenStream{s.Streams}, Table: s.Table, Now: seeded.Now}} {
		got, err := st.ReportDays(ctx, foldShop, "2024-01-01", "2024-01-01")
		if err != nil || got["2024-01-01"]["o"] != 2 {
			t.Fatalf("read without a fold: %v %v, want the seeded o=2", got, err)
		}
	}
	folding := &dynamo.Store{DB: s.DB, Streams: s.Streams, Table: s.Table, Now: seeded.Now}
	if got, err := folding.ReportDays(ctx, foldShop, "2024-01-01", "2024-01-01"); err != nil || got["2024-01-01"]["o"] != 3 {
		t.Fatalf("read after a fold: %v %v, want o=3", got, err)
	}
}

// brokenStream answers every stream call with an error.
type brokenStream struct{ dynamo.Streams }

func (brokenStream) ListStreams(context.Context, *dynamodbstreams.ListStreamsInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.ListStreamsOutput, error) {
	return nil, errors.New("injected: streams unavailable")
}

// A stream without the old image would count a kept rc again: the fold
// refuses it.
func TestFoldRefusesAStreamWithoutOldImages(t *testing.T) {
	s := testenv.Fresh(t)
	ctx := context.Background()
	table := s.Table + "-newimage"
	_, err := s.DB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&dynamo.Store{DB: s.DB, Streams: s.Streams, Table: table}).Fold(ctx)
	if err == nil || !strings.Contains(err.Error(), "NEW_AND_OLD_IMAGES") {
		t.Fatalf("fold of a NEW_IMAGE stream: %v", err)
	}
}

// barrier holds the first GetRecords of n folds until all n have made it,
// so they read the same records from the same mark and race to commit.
type barrier struct {
	dynamo.Streams
	wg sync.WaitGroup
	n  atomic.Int32
}

func (b *barrier) GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	out, err := b.Streams.GetRecords(ctx, in, opts...)
	if b.n.Add(1) <= 2 {
		b.wg.Done()
		waited := make(chan struct{})
		go func() { b.wg.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(30 * time.Second): // the other fold failed before its read
		}
	}
	return out, err
}

// Two folds that read the same records from the same mark: one commits,
// the other's mark condition fails, it reads again from the winner's mark
// and finds nothing new. Each record counts once.
func TestRacingFoldsCountOnce(t *testing.T) {
	s := testenv.Fresh(t)
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	writer := &dynamo.Store{DB: s.DB, Streams: s.Streams, Table: s.Table, Now: func() time.Time { return now }}
	if err := writer.Commit(ctx, &state.Commit{Dedupe: &state.Dedupe{ID: "ev-1", At: now},
		Adds: []state.Add{day("2025-03-01", map[string]int64{"o": 1})}}); err != nil {
		t.Fatal(err)
	}
	b := &barrier{Streams: s.Streams}
	b.wg.Add(2)
	racer := &dynamo.Store{DB: s.DB, Streams: b, Table: s.Table, Now: writer.Now}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	stats := make([]state.FoldStats, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stats[i], errs[i] = racer.Fold(ctx)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if stats[0].Races+stats[1].Races == 0 {
		t.Fatalf("no fold lost the race (%+v): the test did not race them", stats)
	}
	got, err := writer.ReportDays(ctx, foldShop, "2025-03-01", "2025-03-01")
	if err != nil {
		t.Fatal(err)
	}
	if got["2025-03-01"]["o"] != 1 {
		t.Fatalf("two racing folds counted %v, want o=1", got)
	}
}
