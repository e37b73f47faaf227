package lifecycle_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/lifecycle"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/state"
)

// countingSQS counts SendMessage and SendMessageBatch calls.
type countingSQS struct {
	sqs.API
	single, batch atomic.Int64
}

func (c *countingSQS) SendMessage(ctx context.Context, in *awssqs.SendMessageInput, o ...func(*awssqs.Options)) (*awssqs.SendMessageOutput, error) {
	c.single.Add(1)
	return c.API.SendMessage(ctx, in, o...)
}

func (c *countingSQS) SendMessageBatch(ctx context.Context, in *awssqs.SendMessageBatchInput, o ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	c.batch.Add(1)
	return c.API.SendMessageBatch(ctx, in, o...)
}

// seedCustomers writes n customers with BatchWriteItem, the first `due` of
// them quiet for 95 days (due a win_back at now), the rest recent buyers
// whose next work is months away.
func seedCustomers(t testing.TB, e *env, n, due int, now time.Time) {
	t.Helper()
	st := aftercare.DefaultSettings()
	if err := st.Validate(); err != nil {
		t.Fatal(err)
	}
	items := make(chan []types.WriteRequest, 64)
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for reqs := range items {
				pending := map[string][]types.WriteRequest{e.stack.Table: reqs}
				for len(pending[e.stack.Table]) > 0 {
					out, err := e.stack.DB.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: pending})
					if err != nil {
						failed.Store(err)
						return
					}
					pending = out.UnprocessedItems
				}
			}
		}()
	}
	batch := make([]types.WriteRequest, 0, 25)
	for i := 0; i < n; i++ {
		last := now.Add(-10 * day)
		if i < due {
			last = now.Add(-95 * day)
		}
		c := aftercare.Customer{Shop: shop, ID: fmt.Sprintf("cust-%06d", i), Email: fmt.Sprintf("c%d@example.org", i),
			EmailConsent: aftercare.Consent{State: aftercare.ConsentSubscribed, UpdatedAt: last},
			Orders:       []aftercare.OrderRef{{ID: fmt.Sprintf("o-%06d", i), At: last, Cents: 3000}}, FirstOrderAt: last, Version: 0}
		c.Refresh(now.Add(-time.Hour), st)
		doc, _ := json.Marshal(&c)
		it := state.Item{Key: state.Key{Kind: state.ItemCustomer, Shop: c.Shop, ID: c.ID}, Doc: doc, DueAt: c.ExamineAt}
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: e.store.Entity(it)}})
		if len(batch) == 25 {
			items <- batch
			batch = make([]types.WriteRequest, 0, 25)
		}
	}
	if len(batch) > 0 {
		items <- batch
	}
	close(items)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatalf("seed: %v", err)
	}
}

type scaleRun struct {
	customers, due, messages, itemsRead, dynamoCalls int
	sqsBatches, sqsSingles                           int64
	wall                                             time.Duration
}

func (r scaleRun) String() string {
	return fmt.Sprintf("%d customers, %d due: %d messages, %.3f items read and %.3f DynamoDB calls per due message, %d SendMessageBatch + %d SendMessage, %s",
		r.customers, r.due, r.messages, float64(r.itemsRead)/float64(r.messages), float64(r.dynamoCalls)/float64(r.messages),
		r.sqsBatches, r.sqsSingles, r.wall.Round(time.Millisecond))
}

func runAtScale(t testing.TB, customers, due int) scaleRun {
	e := newEnv(t)
	now := t0.Add(200 * day)
	seedCustomers(t, e, customers, due, now)
	counter := &countingSQS{API: e.stack.SQS}
	e.checker.Outbox = &sqs.Outbox{Messages: &sqs.Queue{API: counter, URL: e.stack.Outbound}, Events: &sqs.Queue{API: counter, URL: e.stack.Inbox}}
	e.checker.PageSize = 100
	e.db.Reset()
	start := time.Now()
	res, err := e.checker.Run(context.Background(), lifecycle.Input{Check: lifecycle.CheckAll, ScheduledTime: now.Format(time.RFC3339)})
	wall := time.Since(start)
	if err != nil || !res.Complete {
		t.Fatalf("run: %v %+v", err, res)
	}
	st := e.db.Stats()
	_, _ = e.stack.SQS.PurgeQueue(context.Background(), &awssqs.PurgeQueueInput{QueueUrl: aws.String(e.stack.Outbound)})
	return scaleRun{customers: customers, due: due, messages: res.Messages, itemsRead: st.ItemsRead, dynamoCalls: st.Total,
		sqsBatches: counter.batch.Load(), sqsSingles: counter.single.Load(), wall: wall}
}

// Reads grow with what is due, not with how many customers there are: the
// same due set among ten times the customers costs the same items.
func TestDueReadsDoNotGrowWithCustomers(t *testing.T) {
	small := runAtScale(t, 2000, 100)
	large := runAtScale(t, 20000, 100)
	t.Logf("small: %s", small)
	t.Logf("large: %s", large)
	for _, r := range []scaleRun{small, large} {
		if r.messages != r.due {
			t.Fatalf("want %d win_back messages, got %d", r.due, r.messages)
		}
		if per := float64(r.itemsRead) / float64(r.messages); per > 1.1 {
			t.Errorf("%d customers: %.3f items read per due message, budget 1.1", r.customers, per)
		}
		if r.sqsSingles != 0 || r.sqsBatches != int64((r.due+9)/10) {
			t.Errorf("%d customers: want %d SendMessageBatch calls and no single sends, got %d + %d", r.customers, (r.due+9)/10, r.sqsBatches, r.sqsSingles)
		}
	}
	if small.itemsRead != large.itemsRead {
		t.Errorf("items read differ with customer count: %d vs %d", small.itemsRead, large.itemsRead)
	}
}

// A run that must stop early (deadline or work bound) stops at a checkpoint;
// the next run continues, and nothing is queued twice.
func TestCutShortRunResumes(t *testing.T) {
	e := newEnv(t)
	now := t0.Add(200 * day)
	seedCustomers(t, e, 400, 300, now)
	e.checker.PageSize = 50
	e.checker.MaxItems = 120
	first, err := e.checker.Run(context.Background(), lifecycle.Input{Check: lifecycle.CheckWinBack, ScheduledTime: now.Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	if first.Complete || first.Messages != 120 {
		t.Fatalf("first run: want a stop at a checkpoint after 120, got complete=%v messages=%d", first.Complete, first.Messages)
	}
	seen := map[string]int{}
	for _, m := range e.queued(t)[aftercare.KindWinBack] {
		seen[m.CustomerID]++
	}
	for i := 0; i < 5; i++ {
		res, err := e.checker.Run(context.Background(), lifecycle.Input{Check: lifecycle.CheckWinBack, ScheduledTime: now.Add(time.Duration(i+1) * time.Hour).Format(time.RFC3339)})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range e.queued(t)[aftercare.KindWinBack] {
			seen[m.CustomerID]++
		}
		if res.Complete {
			break
		}
	}
	if len(seen) != 300 {
		t.Fatalf("want all 300 due customers served across runs, got %d", len(seen))
	}
	for c, n := range seen {
		if n != 1 {
			t.Fatalf("customer %s queued %d times", c, n)
		}
	}
}

// BenchmarkChecks measures a full run over the same 500 due customers among
// 10,000 and 100,000 stored ones (go test -run '^$' -bench Checks -benchtime 1x).
func BenchmarkChecks(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("customers=%d", n), func(b *testing.B) {
			var r scaleRun
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				r = runAtScale(b, n, 500)
				b.StartTimer()
			}
			b.ReportMetric(float64(r.itemsRead)/float64(r.messages), "items/msg")
			b.ReportMetric(float64(r.dynamoCalls)/float64(r.messages), "calls/msg")
			b.ReportMetric(float64(r.sqsBatches), "batches")
			b.ReportMetric(float64(r.wall.Milliseconds()), "run-ms")
			b.Logf("%s", r)
		})
	}
}
