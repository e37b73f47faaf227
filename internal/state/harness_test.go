package state_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/rules"
	"github.com/aftercare/aftercare/internal/settings"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/state"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// env is a processor wired to DynamoDB Local and moto, with a fixed clock.
type env struct {
	stack *testenv.Stack
	db    *dynamo.Counting
	store *dynamo.Store
	proc  *state.Processor
	now   time.Time
}

var clock = time.Date(2015, 3, 20, 12, 0, 0, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	s := testenv.Fresh(t)
	e := &env{stack: s, db: dynamo.NewCounting(s.DB), now: clock}
	e.store = &dynamo.Store{DB: e.db, Table: s.Table, Shards: 4, Now: func() time.Time { return e.now }}
	defaults := aftercare.DefaultSettings()
	if err := defaults.Validate(); err != nil {
		t.Fatal(err)
	}
	log := obs.NewLogger(io.Discard, "ERROR")
	e.proc = &state.Processor{
		Store: e.store,
		Outbox: &sqs.Outbox{
			Messages: &sqs.Queue{API: s.SQS, URL: s.Outbound},
			Events:   &sqs.Queue{API: s.SQS, URL: s.Inbox},
		},
		Settings: &settings.Cache{Defaults: defaults, Load: e.store.ShopSettings},
		Rules:    rules.Rules{},
		Log:      log,
		Now:      func() time.Time { return e.now },
	}
	return e
}

func (e *env) process(t *testing.T, ev aftercare.Event, redelivered bool) state.Result {
	t.Helper()
	res, err := e.proc.Process(context.Background(), &ev, redelivered)
	if err != nil {
		t.Fatalf("process %s: %v", ev.ID, err)
	}
	return res
}

// dump reads every item of the table (a test-only scan) as decoded documents
// keyed by pk|sk, with the stored version alongside.
func (e *env) dump(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	p := dynamodb.NewScanPaginator(e.stack.DB, &dynamodb.ScanInput{TableName: aws.String(e.stack.Table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			key := attr(it, "pk") + "|" + attr(it, "sk")
			doc := map[string]any{}
			if d := attr(it, "doc"); d != "" {
				if err := json.Unmarshal([]byte(d), &doc); err != nil {
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
			out[key] = doc
		}
	}
	return out
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
	return time.Date(2015, 3, 1+day, hour, 0, 0, 0, time.UTC)
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
