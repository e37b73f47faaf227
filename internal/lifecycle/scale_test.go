package lifecycle_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	items := make([]state.Entity, 0, n)
	for i := 0; i < n; i++ {
		last := now.Add(-10 * day)
		if i < due {
			last = now.Add(-95 * day)
		}
		c := aftercare.Customer{Shop: shop, ID: fmt.Sprintf("cust-%06d", i), Email: fmt.Sprintf("c%d@example.org", i),
			EmailConsent: aftercare.Consent{State: aftercare.ConsentSubscribed, UpdatedAt: last},
			Orders:       []aftercare.OrderRef{{ID: fmt.Sprintf("o-%06d", i), At: last, Cents: 3000}}, FirstOrderAt: last, Version: 0}
		c.Refresh(now.Add(-time.Hour), st)
		items = append(items, state.Entity{Customer: &c})
	}
	if err := e.store.PutAll(context.Background(), items); err != nil {
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

// scale is a seeded table ready for one check run over it.
type scale struct {
	e              *env
	customers, due int
	now            time.Time
	counter        *countingSQS
}

func seedScale(t testing.TB, customers, due int) *scale {
	e := newEnv(t)
	now := t0.Add(200 * day)
	seedCustomers(t, e, customers, due, now)
	counter := &countingSQS{API: e.stack.SQS}
	e.checker.Outbox = &sqs.Outbox{Messages: &sqs.Queue{API: counter, URL: e.stack.Outbound}, Events: &sqs.Queue{API: counter, URL: e.stack.Inbox}}
	e.checker.PageSize = 100
	return &scale{e: e, customers: customers, due: due, now: now, counter: counter}
}

// run runs the checks once over the seeded table, counting what they cost.
func (s *scale) run(t testing.TB) scaleRun {
	e := s.e
	e.db.Reset()
	s.counter.batch.Store(0)
	s.counter.single.Store(0)
	start := time.Now()
	res, err := e.checker.Run(context.Background(), lifecycle.Input{Check: lifecycle.CheckAll, ScheduledTime: s.now.Format(time.RFC3339)})
	wall := time.Since(start)
	if err != nil || !res.Complete {
		t.Fatalf("run: %v %+v", err, res)
	}
	st := e.db.Stats()
	return scaleRun{customers: s.customers, due: s.due, messages: res.Messages, itemsRead: st.ItemsRead, dynamoCalls: st.Total,
		sqsBatches: s.counter.batch.Load(), sqsSingles: s.counter.single.Load(), wall: wall}
}

func runAtScale(t testing.TB, customers, due int) scaleRun {
	s := seedScale(t, customers, due)
	r := s.run(t)
	_, _ = s.e.stack.SQS.PurgeQueue(context.Background(), &awssqs.PurgeQueueInput{QueueUrl: aws.String(s.e.stack.Outbound)})
	return r
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
		// Per due message: its key from the (keys-only) due index, then the
		// item by key.
		if per := float64(r.itemsRead) / float64(r.messages); per > 2.1 {
			t.Errorf("%d customers: %.3f items read per due message, budget 2.1 (an index key and the item)", r.customers, per)
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
			s := seedScale(b, n, 500) // seeding is not timed
			var r scaleRun
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// Each iteration is a first run over the same due set: the
				// marks a run leaves are taken back outside the timer.
				if i > 0 {
					b.StopTimer()
					seedCustomers(b, s.e, n, 500, s.now)
					b.StartTimer()
				}
				r = s.run(b)
			}
			b.StopTimer()
			if r.messages != 500 {
				b.Fatalf("run queued %d messages, want the 500 due", r.messages)
			}
			b.ReportMetric(float64(r.itemsRead)/float64(r.messages), "items/msg")
			b.ReportMetric(float64(r.dynamoCalls)/float64(r.messages), "calls/msg")
			b.ReportMetric(float64(r.sqsBatches), "batches")
			b.Logf("%s", r)
		})
	}
}
