package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	shopifyapp "github.com/aftercare/aftercare/infra/shopify"
	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/shopify"
	"github.com/aftercare/aftercare/internal/shopifyadmin"
	"github.com/aftercare/aftercare/internal/shopifyadmin/admintest"
	"github.com/aftercare/aftercare/internal/state"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const shop = "demo.myshopify.com"

// emulated points every client at the test's emulators.
type emulated struct{ env *testenv.Env }

func (c emulated) SQS(context.Context) (*awssqs.Client, error) {
	return awssqs.New(awssqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(c.env.SQSEndpoint), Credentials: creds}), nil
}

func (c emulated) SSM(context.Context) (*ssm.Client, error) {
	return ssm.New(ssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(c.env.SQSEndpoint), Credentials: creds}), nil
}

func (c emulated) DynamoDB(context.Context) (*dynamodb.Client, error) {
	return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(c.env.DynamoEndpoint), Credentials: creds}), nil
}

func (c emulated) DynamoDBStreams(context.Context) (*dynamodbstreams.Client, error) {
	return c.env.Streams(), nil
}

var creds = credentials.NewStaticCredentialsProvider("test", "test", "")

func cli(t *testing.T, clients awsClients, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &env{stdout: &out, stderr: &errb, stdin: strings.NewReader(stdin), aws: clients})
	return code, out.String(), errb.String()
}

func TestUsageAndExitCodes(t *testing.T) {
	if code, _, errs := cli(t, nil, ""); code != 2 || !strings.Contains(errs, "connect") || !strings.Contains(errs, "backfill") {
		t.Fatalf("no command: %d %q", code, errs)
	}
	if code, _, _ := cli(t, nil, "", "--help"); code != 0 {
		t.Fatalf("--help: %d", code)
	}
	if code, _, errs := cli(t, nil, "", "frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Fatalf("unknown: %d %q", code, errs)
	}
	for _, args := range [][]string{
		{"backfill", "--file", "x.jsonl"},
		{"connect", "--shop", shop},
		{"connect", "--shop", shop, "--uri", "http://plain.example.com"},
		{"redrive", "--from", "a"},
		{"report", "--table", "t", "--shop", shop, "--from", "2026-02-30", "--to", "2015-03-01"},
		{"settings"},
		{"backfill", "--nope"},
	} {
		if code, _, errs := cli(t, nil, "", args...); code != 2 || errs == "" {
			t.Errorf("%v: want exit 2 with a message, got %d %q", args, code, errs)
		}
	}
	if code, _, errs := cli(t, nil, "", "backfill", "--help"); code != 0 || !strings.Contains(errs, "--fetch") {
		t.Fatalf("backfill --help: %d %q", code, errs)
	}
}

// report prints what the day items say, as GET /report would.
func TestReportPrintsTheShopsNumbers(t *testing.T) {
	s := testenv.Fresh(t)
	placed := time.Date(2015, 1, 10, 15, 0, 0, 0, time.UTC)
	store := &dynamo.Store{DB: s.DB, Streams: s.Streams, Table: s.Table}
	for i, cents := range []int64{2500, 4050} {
		o := &aftercare.Order{Shop: shop, ID: fmt.Sprint(900 + i), CustomerID: "c1", CreatedAt: placed.Add(time.Duration(i) * 24 * time.Hour),
			TotalCents: cents, Currency: "USD", Seen: true}
		if err := store.SeedDays(context.Background(), shop, report.Order(o, time.UTC)); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs := cli(t, emulated{s.Env}, "", "report", "--table", s.Table, "--shop", shop, "--from", "2015-01-01", "--to", "2015-01-31")
	if code != 0 || !regexp.MustCompile(`Orders\s+2\s`).MatchString(out) || !regexp.MustCompile(`Revenue\s+65\.50 USD`).MatchString(out) {
		t.Fatalf("%d %q %q", code, out, errs)
	}
	code, out, _ = cli(t, emulated{s.Env}, "", "report", "--table", s.Table, "--shop", shop, "--from", "2015-01-11", "--to", "2015-01-11", "--json")
	var rep report.Report
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Orders.Count != 1 || rep.Orders.Revenue != "40.50" {
		t.Fatalf("%d %s", code, out)
	}
}

func TestAppConfig(t *testing.T) {
	code, out, _ := cli(t, nil, "", "app-config")
	if code != 0 || out != shopifyapp.AppTOML {
		t.Fatal("app-config with no flags prints the committed file")
	}
	_, out, _ = cli(t, nil, "", "app-config", "--client-id", "abc", "--api-url", "https://x.execute-api.eu-west-1.amazonaws.com")
	if !strings.Contains(out, `client_id = "abc"`) || !strings.Contains(out, `uri = "https://x.execute-api.eu-west-1.amazonaws.com/webhooks/shopify"`) {
		t.Fatal(out)
	}
}

func TestSettingsCheck(t *testing.T) {
	if code, out, _ := cli(t, nil, "", "settings", "--check", "../../settings.example.json"); code != 0 || !strings.Contains(out, "is valid") {
		t.Fatalf("%d %q", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"quiet_hours":{"start":"25:00"}}`), 0o600)
	if code, _, errs := cli(t, nil, "", "settings", "--check", bad); code != 1 || !strings.Contains(errs, bad) {
		t.Fatalf("%d %q", code, errs)
	}
}

// backfill into the inbox queue on moto: every order once, ten per batch;
// a second run sends the same ids.
func TestBackfillQueuesHistoryOnTheInbox(t *testing.T) {
	s := testenv.Fresh(t)
	clients := emulated{s.Env}
	file := filepath.Join(t.TempDir(), "orders.jsonl")
	f, _ := os.Create(file)
	now := time.Date(2015, 1, 5, 0, 0, 0, 0, time.UTC)
	for n := 1; n <= 23; n++ {
		at := now.Add(-time.Duration(n) * 72 * time.Hour).Format(time.RFC3339)
		fmt.Fprintf(f, `{"id":"gid://shopify/Order/%d","name":"#%d","createdAt":%q,"updatedAt":%q,"displayFinancialStatus":"PAID","displayFulfillmentStatus":"FULFILLED","totalPriceSet":{"shopMoney":{"amount":"9.00","currencyCode":"EUR"}},"customer":{"id":"gid://shopify/Customer/%d","email":"x%d@example.com"},"fulfillments":[]}`+"\n", n, n, at, at, n%4, n%4)
		fmt.Fprintf(f, `{"id":"gid://shopify/LineItem/%d","quantity":1,"title":"Soap","variant":{"id":"gid://shopify/ProductVariant/1"},"product":{"id":"gid://shopify/Product/2"},"__parentId":"gid://shopify/Order/%d"}`+"\n", n, n)
	}
	f.Close()
	name := s.Inbox[strings.LastIndex(s.Inbox, "/")+1:]
	read := func() []string {
		q, _ := clients.SQS(context.Background())
		var ids []string
		for {
			out, err := q.ReceiveMessage(context.Background(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(s.Inbox), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) == 0 {
				return ids
			}
			for _, m := range out.Messages {
				var ev aftercare.Event
				if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil || !ev.History || ev.Shop != shop {
					t.Fatalf("queued %s (%v)", aws.ToString(m.Body), err)
				}
				ids = append(ids, ev.ID)
				q.DeleteMessage(context.Background(), &awssqs.DeleteMessageInput{QueueUrl: aws.String(s.Inbox), ReceiptHandle: m.ReceiptHandle})
			}
		}
	}
	code, out, errs := cli(t, clients, "", "backfill", "--shop", shop, "--file", file, "--queue", name)
	if code != 0 || !strings.Contains(out, "23 orders read, 23 events queued in 3 batches, 0 skipped") || !strings.Contains(errs, "orders/s") {
		t.Fatalf("%d %q %q", code, out, errs)
	}
	first := read()
	code, _, _ = cli(t, clients, "", "backfill", "--shop", shop, "--file", file, "--queue", s.Inbox)
	second := read()
	if code != 0 || len(first) != 23 || !sameSet(first, second) {
		t.Fatalf("first %d ids, second %d: the same file must queue the same ids", len(first), len(second))
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

// connect stores the token in SSM and registers every topic; run again with
// the stored token, it changes nothing.
func TestConnectStoresTheTokenAndRegisters(t *testing.T) {
	clients := emulated{testenv.Get(t)}
	admin := fakeAdmin(t)
	srv, subs, tokens := admin.srv, admin.subs, admin.tokens
	const uri = "https://abc.execute-api.us-east-1.amazonaws.com/webhooks/shopify"
	code, out, errs := cli(t, clients, "shpat_secret_1\n", "connect", "--shop", shop, "--uri", uri, "--token-stdin", "--admin-url", srv.URL)
	want := len(shopify.WebhookTopics())
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d created, 0 updated, 0 unchanged", want)) || len(subs) != want {
		t.Fatalf("%d %q %q (%d subscriptions)", code, out, errs, len(subs))
	}
	if strings.Contains(out+errs, "shpat_secret_1") {
		t.Fatal("the token must never be printed")
	}
	stored, err := (&shopifyadmin.Tokens{SSM: must(clients.SSM(context.Background()))}).Get(context.Background(), shop)
	if err != nil || stored != "shpat_secret_1" {
		t.Fatalf("stored %q %v", stored, err)
	}
	code, out, _ = cli(t, clients, "", "connect", "--shop", shop, "--uri", uri, "--admin-url", srv.URL)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("0 created, 0 updated, %d unchanged", want)) || len(tokens) != 1 {
		t.Fatalf("second connect: %d %q, tokens %v", code, out, tokens)
	}
	code, _, errs = cli(t, clients, "", "connect", "--shop", "never.myshopify.com", "--uri", uri, "--admin-url", srv.URL)
	if code != 1 || !strings.Contains(errs, "aftercare connect --shop never.myshopify.com") {
		t.Fatalf("unknown shop: %d %q", code, errs)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// reconcile by hand: the orders updated since --since go to the inbox as live events.
func TestReconcileQueuesUpdatedOrders(t *testing.T) {
	s := testenv.Fresh(t)
	clients := emulated{s.Env}
	if err := (&shopifyadmin.Tokens{SSM: must(clients.SSM(context.Background()))}).Put(context.Background(), shop, "shpat_r"); err != nil {
		t.Fatal(err)
	}
	srv := admintest.New(t)
	srv.Put("shpat_r",
		admintest.Order{ID: 71, Created: time.Date(2015, 3, 1, 10, 0, 0, 0, time.UTC), Updated: time.Date(2015, 3, 2, 10, 0, 0, 0, time.UTC), Fulfilled: true},
		admintest.Order{ID: 72, Created: time.Date(2015, 3, 1, 11, 0, 0, 0, time.UTC), Updated: time.Date(2015, 3, 2, 11, 0, 0, 0, time.UTC)})
	code, out, errs := cli(t, clients, "", "reconcile", "--shop", shop, "--since", "2015-03-01T00:00:00Z", "--queue", s.Inbox, "--admin-url", srv.URL)
	if code != 0 || !strings.Contains(out, "2 orders queued; next cursor 2015-03-02T11:00:00Z") || srv.Asked("shpat_r")[0] != "updated_at:>='2015-03-01T00:00:00Z'" {
		t.Fatalf("%d %q %q (asked %q)", code, out, errs, srv.Asked("shpat_r"))
	}
	q, _ := clients.SQS(context.Background())
	got := 0
	for i := 0; i < 3 && got < 2; i++ {
		m, err := q.ReceiveMessage(context.Background(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(s.Inbox), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range m.Messages {
			var ev aftercare.Event
			if json.Unmarshal([]byte(aws.ToString(msg.Body)), &ev) != nil || ev.History || ev.Topic != shopify.TopicReconcile {
				t.Fatalf("queued %s", aws.ToString(msg.Body))
			}
			got++
		}
	}
	if got != 2 {
		t.Fatalf("%d events on the inbox", got)
	}
	if code, _, _ := cli(t, clients, "", "reconcile", "--shop", shop, "--since", "yesterday", "--queue", s.Inbox); code != 2 {
		t.Fatalf("a bad --since is a usage error: %d", code)
	}
}

// adminFake is an Admin API answering the subscription queries from memory,
// recording the tokens it was called with.
type adminFake struct {
	srv    *httptest.Server
	mu     sync.Mutex
	subs   map[string]string // topic -> uri
	tokens map[string]bool
}

func fakeAdmin(t *testing.T) *adminFake {
	a := &adminFake{subs: map[string]string{}, tokens: map[string]bool{}}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query     string         `json:"query"`
			Variables map[string]any `json:"variables"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		a.mu.Lock()
		defer a.mu.Unlock()
		a.tokens[r.Header.Get("X-Shopify-Access-Token")] = true
		switch {
		case strings.Contains(req.Query, "webhookSubscriptions("):
			var nodes []string
			for topic, uri := range a.subs {
				nodes = append(nodes, fmt.Sprintf(`{"id":"gid://shopify/WebhookSubscription/%s","topic":%q,"uri":%q}`, topic, topic, uri))
			}
			fmt.Fprintf(w, `{"data":{"webhookSubscriptions":{"nodes":[%s],"pageInfo":{"hasNextPage":false,"endCursor":null}}}}`, strings.Join(nodes, ","))
		case strings.Contains(req.Query, "webhookSubscriptionCreate("):
			a.subs[req.Variables["topic"].(string)] = req.Variables["sub"].(map[string]any)["uri"].(string)
			io.WriteString(w, `{"data":{"webhookSubscriptionCreate":{"webhookSubscription":{"id":"x"},"userErrors":[]}}}`)
		default:
			t.Errorf("unexpected query %s", req.Query)
		}
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// A reinstall comes with connect: with --table it marks the shop installed,
// so an app/uninstalled received before no longer stops its messages.
func TestConnectMarksTheShopInstalled(t *testing.T) {
	s := testenv.Fresh(t)
	store := &dynamo.Store{DB: s.DB, Streams: s.Streams, Table: s.Table}
	gone := &aftercare.Install{Shop: shop, UninstalledAt: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	if err := store.Commit(context.Background(), &state.Commit{Puts: []state.Entity{{Install: gone}}}); err != nil {
		t.Fatal(err)
	}
	srv := fakeAdmin(t).srv
	const uri = "https://abc.execute-api.us-east-1.amazonaws.com/webhooks/shopify"
	code, out, errs := cli(t, emulated{s.Env}, "shpat_secret_2\n", "connect", "--shop", shop, "--uri", uri, "--token-stdin", "--admin-url", srv.URL, "--table", s.Table)
	if code != 0 || !strings.Contains(out, shop+": marked installed at ") {
		t.Fatalf("connect: %d %q %q", code, out, errs)
	}
	inst, err := store.Install(context.Background(), shop)
	if err != nil || inst == nil || inst.Uninstalled() {
		t.Fatalf("after connect: %+v %v", inst, err)
	}
	code, _, errs = cli(t, emulated{s.Env}, "", "connect", "--shop", shop, "--uri", uri, "--admin-url", srv.URL)
	if code != 0 || !strings.Contains(errs, "not marked installed") {
		t.Fatalf("connect without a table says what it did not do: %d %q", code, errs)
	}
}
