// Package e2e drives the whole application through the local stack that
// `make dev` runs: real bootstrap binaries behind the local HTTP API, Invoke
// API and SQS pollers, DynamoDB Local and moto, and a local delivery sink.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/delivery"
	"github.com/aftercare/aftercare/internal/signature"
	"github.com/aftercare/aftercare/internal/sources"
	"github.com/aftercare/aftercare/internal/testenv"
)

// Secrets of infra/local/env.json, which the stack loads like `make dev`
// (and seeds into the local SSM, where the functions read them).
const (
	shopifySecret  = "local-shopify-secret"
	deliverySecret = "local-delivery-secret"
)

// localSecret reads a secret variable from infra/local/env.json.
func localSecret(t *testing.T, variable string) string {
	t.Helper()
	f, err := devstack.LoadEnvFile(filepath.Join(root, "infra/local/env.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range f {
		if v := sec[variable]; v != "" {
			return v
		}
	}
	t.Fatalf("infra/local/env.json sets no %s", variable)
	return ""
}

var (
	once     sync.Once
	st       *devstack.Stack
	ddb      *dynamodb.Client
	sqsc     *awssqs.Client
	startErr error
	snk      = &sink{attempts: map[string]int{}}
	sinkSrv  *httptest.Server
	root     string
)

func TestMain(m *testing.M) {
	sinkSrv = httptest.NewServer(snk)
	code := m.Run()
	if st != nil {
		st.Close()
	}
	if code == 0 && stackLog != nil {
		// Checked once every flow has run: the template's memory sizes
		// (128 MB for the busy functions, make memory) keep a quarter spare.
		if err := memoryHeadroom(stackLog.Name()); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL:", err)
			code = 1
		}
	}
	sinkSrv.Close()
	if code != 0 && stackLog != nil {
		printProblems(stackLog.Name())
	}
	if stackLog != nil {
		stackLog.Close()
		os.Remove(stackLog.Name())
	}
	os.Exit(code)
}

// stackLog keeps the stack's and the functions' log lines, so a failed run
// (on CI, say) shows what the functions said.
var stackLog *os.File

// memoryHeadroom reads every REPORT record of the run and fails if a
// function's processes ever used more than three quarters of its memory
// size (Max Memory Used is the process's peak resident size): Lambda would
// stop a function that outgrew it, and the local runtime does not. The
// largest user is WebhookFunction: an order at the 5 MiB cap takes about 60
// MB of its 128, and up to 80 MB in a process that read a body over the cap
// just before (TestOrderAtTheSizeCapIsAccepted, TestBadInputsLeaveNothingBehind).
func memoryHeadroom(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	peak, size := map[string]int{}, map[string]int{}
	for line := range strings.Lines(string(b)) {
		if !strings.Contains(line, `"platform.report"`) {
			continue
		}
		var rec struct {
			Function string `json:"function"`
			Record   struct {
				Metrics struct {
					Used int `json:"maxMemoryUsedMB"`
					Size int `json:"memorySizeMB"`
				} `json:"metrics"`
			} `json:"record"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Record.Metrics.Used == 0 {
			continue
		}
		fn := rec.Function
		peak[fn], size[fn] = max(peak[fn], rec.Record.Metrics.Used), rec.Record.Metrics.Size
	}
	if len(peak) == 0 {
		return errors.New("memory headroom: no REPORT record gave a Max Memory Used")
	}
	var over []string
	for fn, used := range peak {
		if testing.Verbose() {
			fmt.Fprintf(os.Stderr, "memory headroom: %s used at most %d of %d MB\n", fn, used, size[fn])
		}
		if used*4 > size[fn]*3 {
			over = append(over, fmt.Sprintf("%s %d of %d MB", fn, used, size[fn]))
		}
	}
	if len(over) > 0 {
		sort.Strings(over)
		return fmt.Errorf("memory headroom: over three quarters of the memory size: %s", strings.Join(over, ", "))
	}
	return nil
}

// printProblems prints the warning and error lines of the stack's log.
func printProblems(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	n := 0
	for line := range strings.Lines(string(b)) {
		if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"status":"error"`) {
			if n++; n > 80 {
				fmt.Fprintln(os.Stderr, "... more in the stack log")
				return
			}
			fmt.Fprint(os.Stderr, "stack log: ", line)
		}
	}
}

// stack starts one local stack for the package: building four functions and
// two emulators takes seconds, so the tests share it and keep apart by shop.
func stack(t *testing.T) *devstack.Stack {
	t.Helper()
	testenv.NeedEmulators(t)
	once.Do(func() {
		root, startErr = devstack.ProjectRoot()
		if startErr != nil {
			return
		}
		var logw io.Writer = io.Discard
		if stackLog, startErr = os.CreateTemp("", "aftercare-e2e-*.log"); startErr != nil {
			return
		}
		logw = stackLog
		if os.Getenv("E2E_VERBOSE") != "" {
			logw = io.MultiWriter(stackLog, os.Stderr)
		}
		build, err := os.MkdirTemp("", "aftercare-e2e-build-")
		if err != nil {
			startErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		// Its own build folder and free ports: `make dev` and other test
		// packages may run at the same time.
		st, startErr = devstack.Start(ctx, devstack.Options{
			Root: root, EnvFile: filepath.Join(root, "infra/local/env.json"), BuildDir: build, Prefix: "e2e-",
			Env: map[string]string{
				"AFTERCARE_SETTINGS":          noQuietHours(root),
				"DELIVERY_URL":                sinkSrv.URL,
				"DELIVERY_RETRY_BASE_SECONDS": "1",
				"DELIVERY_RETRY_MAX_SECONDS":  "2", // the outage budget scaled down: 14 attempts in about 27 s
				"DELIVERY_TIMEOUT_SECONDS":    "5",
				"LOG_LEVEL":                   "INFO",
			},
			NoSchedules: true,
			Log:         logw,
		})
		if startErr == nil {
			ddb, sqsc = (&devstack.Emulators{DynamoEndpoint: st.DynamoEndpoint, SQSEndpoint: st.SQSEndpoint}).Clients()
		}
	})
	if startErr != nil {
		t.Fatalf("the local stack could not start: %v", startErr)
	}
	return st
}

// --- the delivery sink ---

// sink is the merchant's delivery endpoint. Per shop it answers 200
// ("ok-..."), 500 twice then 200 per message ("flaky-..."), or always 500
// ("down-..."); it checks every signature.
type sink struct {
	mu         sync.Mutex
	attempts   map[string]int // by message id
	deliveries []delivered    // 2xx answers only
	badSigs    int
}

type delivered struct {
	ID, Kind, Shop, Channel, Audience string
	Order                             string
	Body                              map[string]any
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	id := r.Header.Get(delivery.HeaderID)
	shop, _ := m["shop"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Header.Get(delivery.HeaderSignature) != "sha256="+signature.Hex([]byte(deliverySecret), body) || id == "" || id != m["id"] {
		s.badSigs++
	}
	s.attempts[id]++
	status := http.StatusOK
	switch {
	case strings.HasPrefix(shop, "down-"):
		status = http.StatusInternalServerError
	case strings.HasPrefix(shop, "flaky-") && s.attempts[id] <= 2:
		status = http.StatusInternalServerError
	}
	if status == http.StatusOK {
		d := delivered{ID: id, Shop: shop, Body: m}
		d.Kind, _ = m["kind"].(string)
		d.Channel, _ = m["channel"].(string)
		d.Audience, _ = m["audience"].(string)
		if o, ok := m["order"].(map[string]any); ok {
			d.Order, _ = o["id"].(string)
		}
		s.deliveries = append(s.deliveries, d)
	}
	w.WriteHeader(status)
}

func (s *sink) forShop(shop string) []delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []delivered
	for _, d := range s.deliveries {
		if d.Shop == shop {
			out = append(out, d)
		}
	}
	return out
}

func (s *sink) attemptsFor(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[id]
}

// --- sending webhooks ---

type hook struct {
	path    string
	headers map[string]string
	body    []byte
}

func shopifyHook(shop, topic, eventID string, body []byte) hook {
	return hook{path: "/webhooks/shopify", body: body, headers: map[string]string{
		"Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop,
		"X-Shopify-Event-Id": eventID, "X-Shopify-Hmac-Sha256": signature.Base64([]byte(shopifySecret), body),
	}}
}

// carrierHook signs a body the way the carrier does, with env.json's secret,
// as the source registry describes it.
func carrierHook(t *testing.T, carrier string, body []byte) hook {
	t.Helper()
	h := hook{path: "/webhooks/carriers/" + carrier, body: body, headers: map[string]string{"Content-Type": "application/json"}}
	src, ok := sources.ByName(carrier)
	if !ok {
		return h // an unknown carrier goes out unsigned
	}
	hdr, q := src.Sign(localSecret(t, src.Secret), body)
	for k := range hdr {
		h.headers[k] = hdr.Get(k)
	}
	if len(q) > 0 {
		h.path += "?" + q.Encode()
	}
	return h
}

type answer struct {
	Status int
	Body   map[string]any
	Raw    string
}

func send(t *testing.T, h hook) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, stack(t).HTTPURL+h.path, bytes.NewReader(h.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h.headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", h.path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode, Raw: string(raw)}
	if err := json.Unmarshal(raw, &a.Body); err != nil {
		t.Errorf("POST %s: answer is not JSON: %q", h.path, raw)
	}
	return a
}

func readFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit decodes a JSON document, applies f and encodes it again.
func edit(t *testing.T, b []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// --- reading state ---

// eventLine is EventProcessorFunction's log line about one event.
type eventLine struct {
	EventID, Outcome string
}

// eventLines reads EventProcessorFunction's event lines from the stack's log.
func eventLines(t *testing.T) []eventLine {
	t.Helper()
	b, err := os.ReadFile(stackLog.Name())
	if err != nil {
		t.Fatal(err)
	}
	var out []eventLine
	for line := range strings.Lines(string(b)) {
		var l struct {
			Function string `json:"function"`
			Msg      string `json:"msg"`
			EventID  string `json:"event_id"`
			Outcome  string `json:"outcome"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Function == "EventProcessorFunction" && l.Msg == "event" && l.EventID != "" {
			out = append(out, eventLine{l.EventID, l.Outcome})
		}
	}
	return out
}

// processed reports whether EventProcessorFunction logged the event with
// this outcome.
func processed(t *testing.T, id, outcome string) bool {
	t.Helper()
	for _, l := range eventLines(t) {
		if l.EventID == id && l.Outcome == outcome {
			return true
		}
	}
	return false
}

// eventsOfShop lists the events of one shop that EventProcessorFunction
// handled, as its log says (a carrier scan that queues nothing keeps no
// dedupe record, so the table cannot tell).
func eventsOfShop(t *testing.T, source, shop string) []string {
	t.Helper()
	seen := map[string]bool{}
	var ids []string
	for _, l := range eventLines(t) {
		if strings.HasPrefix(l.EventID, source+":"+shop+":") && !seen[l.EventID] {
			seen[l.EventID] = true
			ids = append(ids, l.EventID)
		}
	}
	return ids
}

func queueDepth(t *testing.T, url string) int {
	t.Helper()
	stack(t)
	out, err := sqsc.GetQueueAttributes(context.Background(), &awssqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	n := 0
	for _, v := range out.Attributes {
		var k int
		fmt.Sscan(v, &k)
		n += k
	}
	return n
}

// eventually polls cond until it holds or the wait is over.
func eventually(t *testing.T, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.WaitFor(t, wait, 200*time.Millisecond, what, cond)
}

// settle waits until the inbox and outbound queues are empty and the sink has
// been quiet for a while: everything the test started has run its course.
func settle(t *testing.T) {
	t.Helper()
	s := stack(t)
	quietSince, last := time.Now(), -1
	// A bound for a loaded machine, not a speed: alone the stack drains a
	// replay of 180 webhooks in about 15 s.
	eventually(t, 180*time.Second, "the queues to drain", func() bool {
		snk.mu.Lock()
		n := len(snk.deliveries)
		snk.mu.Unlock()
		if n != last {
			last, quietSince = n, time.Now()
		}
		return queueDepth(t, s.Queues["InboxQueue"]) == 0 && queueDepth(t, s.Queues["OutboundQueue"]) == 0 && time.Since(quietSince) > 3*time.Second
	})
}

func uniq(prefix string) string {
	return fmt.Sprintf("%s-%d-%04d", prefix, time.Now().UnixNano()%1e9, rand.IntN(10000))
}

// kinds counts deliveries per kind.
func kinds(ds []delivered) map[string]int {
	out := map[string]int{}
	for _, d := range ds {
		out[d.Kind]++
	}
	return out
}

// noQuietHours is env.json's default settings without SMS quiet hours: the
// tests run at any hour, and an SMS deferred to the shop's morning would sit
// on the outbound queue past every drain. Quiet hours are tested in dispatch
// against an injected clock.
func noQuietHours(root string) string {
	b, err := os.ReadFile(filepath.Join(root, "infra/local/env.json"))
	if err != nil {
		panic(err)
	}
	var env struct {
		Parameters map[string]string
	}
	var settings map[string]any
	if err := json.Unmarshal(b, &env); err != nil {
		panic(err)
	}
	if err := json.Unmarshal([]byte(env.Parameters["AFTERCARE_SETTINGS"]), &settings); err != nil {
		panic(err)
	}
	settings["caps"] = map[string]any{"marketing_per_hours": 24, "quiet_hours_start": "00:00", "quiet_hours_end": "00:00"}
	out, _ := json.Marshal(settings)
	return string(out)
}

// The headroom check reads REPORT records as the local runtime writes them.
func TestMemoryHeadroomReadsReports(t *testing.T) {
	report := func(fn string, used, size int) string {
		return fmt.Sprintf(`{"function":%q,"type":"platform.report","record":{"metrics":{"maxMemoryUsedMB":%d,"memorySizeMB":%d}}}`+"\n", fn, used, size)
	}
	for _, c := range []struct {
		name, log, want string
	}{
		{"within", report("A", 30, 128) + report("A", 96, 128) + report("B", 190, 256), ""},
		{"over three quarters", report("A", 30, 128) + report("A", 97, 128) + report("B", 190, 256), "A 97 of 128 MB"},
		{"no records", `{"function":"A","level":"INFO","msg":"x"}` + "\n", "no REPORT record"},
	} {
		path := filepath.Join(t.TempDir(), "stack.log")
		if err := os.WriteFile(path, []byte(c.log), 0o644); err != nil {
			t.Fatal(err)
		}
		err := memoryHeadroom(path)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: err = %v, want one naming %q", c.name, err, c.want)
		}
	}
}
