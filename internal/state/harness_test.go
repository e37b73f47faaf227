package state_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/dynamo/dynamotest"
	"github.com/aftercare/aftercare/internal/memstore"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/rules"
	"github.com/aftercare/aftercare/internal/settings"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/state"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// env is a processor wired to a store and an outbox, with a fixed clock:
// the in-memory store (fast tier) or DynamoDB Local and moto (emulator tier).
type env struct {
	stack *testenv.Stack       // emulator tier only
	db    *dynamotest.Counting // emulator tier only
	mem   *memstore.Store      // fast tier only
	out   *memOutbox           // fast tier only
	store state.Store
	proc  *state.Processor
	now   time.Time
}

// Dated long before any real today: no result depends on the day tests run.
var clock = time.Date(2024, 3, 22, 12, 0, 0, 0, time.UTC)

// stores runs a test against each store: in memory (always) and DynamoDB
// Local (skipped only under -short).
func stores(t *testing.T, fn func(t *testing.T, newEnv func(t *testing.T) *env)) {
	t.Run("memory", func(t *testing.T) { fn(t, newMemEnv) })
	t.Run("dynamodb", func(t *testing.T) {
		testenv.NeedEmulators(t)
		fn(t, newEnv)
	})
}

func newProcessor(e *env, store state.Store, outbox state.Outbox, load func(context.Context, string) ([]byte, error)) *state.Processor {
	defaults := aftercare.DefaultSettings()
	if err := defaults.Validate(); err != nil {
		panic(err)
	}
	return &state.Processor{
		Store: store, Outbox: outbox,
		Settings: &settings.Cache{Defaults: defaults, Load: load},
		Rules:    rules.Rules{},
		Log:      obs.NewLogger(io.Discard, "ERROR"),
		Now:      func() time.Time { return e.now },
		// As EventProcessorFunction runs: tombstones keyed (aftercare.TombstoneID).
		TombstoneKey: tombstoneKey,
	}
}

var tombstoneKey = []byte("state-test-tombstone-key")

// newEnv is the emulator tier's env: DynamoDB Local and moto.
func newEnv(t *testing.T) *env {
	t.Helper()
	s := testenv.Fresh(t)
	e := &env{stack: s, db: dynamotest.NewCounting(s.DB), now: clock}
	store := &dynamo.Store{DB: e.db, Streams: s.Streams, Table: s.Table, Shards: 4, Now: func() time.Time { return e.now }}
	e.store = store
	e.proc = newProcessor(e, store, &sqs.Outbox{
		Messages: &sqs.Queue{API: s.SQS, URL: s.Outbound},
		Events:   &sqs.Queue{API: s.SQS, URL: s.Inbox},
	}, store.ShopSettings)
	return e
}

// newMemEnv is the fast tier's env: the in-memory store and outbox.
func newMemEnv(t *testing.T) *env {
	t.Helper()
	e := &env{mem: memstore.New(), out: &memOutbox{}, now: clock}
	e.mem.Shards, e.mem.Now = 4, func() time.Time { return e.now }
	e.store = e.mem
	e.proc = newProcessor(e, e.mem, e.out, e.mem.ShopSettings)
	return e
}

// memOutbox keeps what the processor queued, as the queue would hold it.
type memOutbox struct {
	mu   sync.Mutex
	msgs []string
}

func (o *memOutbox) SendMessages(_ context.Context, msgs []aftercare.Message, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, m := range msgs {
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		o.msgs = append(o.msgs, string(b))
	}
	return nil
}

func (o *memOutbox) SendEvents(context.Context, []aftercare.Event) error { return nil }

// sent returns (and forgets) what was queued for dispatch since the last call.
func (e *env) sent(t *testing.T) []string {
	t.Helper()
	if e.out != nil {
		e.out.mu.Lock()
		defer e.out.mu.Unlock()
		out := e.out.msgs
		e.out.msgs = nil
		return out
	}
	return drain(t, e.stack, e.stack.Outbound)
}

// afterHistory is a fresh env with the order's whole history applied.
func afterHistory(t *testing.T, newEnv func(*testing.T) *env) *env {
	t.Helper()
	e := newEnv(t)
	for _, ev := range history() {
		e.process(t, ev)
	}
	return e
}

func (e *env) process(t *testing.T, ev aftercare.Event) state.Result {
	t.Helper()
	res, err := e.proc.Process(context.Background(), &ev)
	if err != nil {
		t.Fatalf("process %s: %v", ev.ID, err)
	}
	return res
}

// dump reads every item of the store as decoded documents keyed by pk|sk,
// with the stored version alongside (a test-only scan of the table, or the
// in-memory store's items under the table's key names).
func (e *env) dump(t *testing.T) map[string]map[string]any {
	t.Helper()
	if e.mem != nil {
		return memDump(t, e.mem)
	}
	// The table as a reader sees it: the report's counters folded first.
	if _, err := e.store.(interface {
		Fold(context.Context) (state.FoldStats, error)
	}).Fold(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	p := dynamodb.NewScanPaginator(e.stack.DB, &dynamodb.ScanInput{TableName: aws.String(e.stack.Table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if attr(it, "pk") == "FOLD" {
				continue // the fold's marks: where it read the stream to, not state
			}
			key := attr(it, "pk") + "|" + attr(it, "sk")
			doc := map[string]any{}
			d, err := dynamo.Doc(it)
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			if len(d) > 0 {
				if err := json.Unmarshal(d, &doc); err != nil {
					t.Fatalf("%s: %v", key, err)
				}
			}
			if v, ok := it["version"].(*types.AttributeValueMemberN); ok {
				doc["@version"] = v.Value
			}
			if v, ok := it["variants"].(*types.AttributeValueMemberSS); ok {
				sort.Strings(v.Value)
				doc["@variants"] = v.Value
			}
			if v := attr(it, "due_sk"); v != "" {
				doc["@due"] = v
			}
			for name, v := range it {
				if n, ok := v.(*types.AttributeValueMemberN); ok && strings.HasPrefix(name, "c_") && n.Value != "0" {
					doc["@"+name] = n.Value
				}
			}
			out[key] = doc
		}
	}
	return out
}

// memDump is dump for the in-memory store.
func memDump(t *testing.T, s *memstore.Store) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, it := range s.Items() {
		k := tableKey(it.Key)
		doc := map[string]any{}
		if it.Key.Kind == state.ItemStock {
			if len(it.Variants) > 0 {
				doc["@variants"] = it.Variants
			}
		} else {
			b, err := json.Marshal(it.Entity.Body())
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			doc["@version"] = fmt.Sprint(it.Entity.Version())
		}
		if !it.DueAt.IsZero() {
			doc["@due"] = it.DueAt.Format(time.RFC3339Nano)
		}
		out[k] = doc
	}
	// The report's day items, as the table holds them (c_<counter> numbers).
	days, err := s.ReportDays(context.Background(), shop, "0000-00-00", "9999-99-99")
	if err != nil {
		t.Fatal(err)
	}
	for day, cs := range days {
		doc := map[string]any{}
		for name, n := range cs {
			doc["@c_"+name] = fmt.Sprint(n)
		}
		out["SHOP#"+shop+"|DAY#"+day] = doc
	}
	for _, d := range s.Dedupes() {
		b, _ := json.Marshal(d)
		doc := map[string]any{}
		_ = json.Unmarshal(b, &doc)
		out["EVENT#"+d.ID+"|EVENT"] = doc
	}
	return out
}

// tableKey names an item as the table does, so tests read the same keys on
// both stores.
func tableKey(k state.Key) string {
	shop := "SHOP#" + k.Shop + "|"
	switch k.Kind {
	case state.ItemShipment:
		return "SHIPMENT#" + k.ID + "|SHIPMENT"
	case state.ItemOrder:
		return shop + "ORDER#" + k.ID
	case state.ItemCustomer:
		return shop + "CUSTOMER#" + k.ID
	case state.ItemInventory:
		return shop + "INVENTORY#" + k.ID
	case state.ItemWait:
		return shop + "WAIT#" + k.ID
	case state.ItemStock:
		return shop + "STOCKOUT"
	case state.ItemDigest:
		return shop + "DIGEST#" + k.ID
	}
	return shop + k.Kind + "#" + k.ID
}

func attr(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// drain reads every message left on a queue.
func drain(t *testing.T, s *testenv.Stack, url string) []string {
	t.Helper()
	var out []string
	for empty := 0; empty < 2; {
		res, err := s.SQS.ReceiveMessage(context.Background(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) == 0 {
			empty++
			continue
		}
		for _, m := range res.Messages {
			out = append(out, aws.ToString(m.Body))
		}
	}
	return out
}

// messageIDs decodes queued messages into their ids, by kind.
func messageIDs(t *testing.T, bodies []string) map[aftercare.Kind][]string {
	t.Helper()
	out := map[aftercare.Kind][]string{}
	for _, b := range bodies {
		var m aftercare.Message
		if err := json.Unmarshal([]byte(b), &m); err != nil {
			t.Fatalf("queued message %q: %v", b, err)
		}
		out[m.Kind] = append(out[m.Kind], m.ID)
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

func mustJSON(v any) string {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		panic(err)
	}
	return string(b)
}

func at(day int, hour int) time.Time {
	return time.Date(2024, 3, 3+day, hour, 0, 0, 0, time.UTC) // a Sunday, as 2026-03-01 was when these were written
}

// diff lists the fields where two dumps differ, for readable failures.
func diff(want, got map[string]map[string]any) []string {
	var out []string
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	for k := range keys {
		w, g := want[k], got[k]
		if w == nil || g == nil {
			out = append(out, fmt.Sprintf("%s: present in want=%v got=%v", k, w != nil, g != nil))
			continue
		}
		fields := map[string]bool{}
		for f := range w {
			fields[f] = true
		}
		for f := range g {
			fields[f] = true
		}
		for f := range fields {
			if a, b := mustJSON(w[f]), mustJSON(g[f]); a != b {
				out = append(out, fmt.Sprintf("%s .%s:\n  want %s\n  got  %s", k, f, a, b))
			}
		}
	}
	sort.Strings(out)
	return out
}
