// Command cost drives a month of a store's order lives through the local
// stack, counts every billable unit and prints the AWS bill at list prices
// (SPEC section 17).
//
//	go run ./infra/cost -n 200
//
// The run is one month of a store taking n orders: the lives' webhooks, then
// the lifecycle checks. Costs that do not scale with orders are added for the
// month analytically: the hourly schedule (720 check runs at the measured
// units of one) and the empty long polls of the event-source queues.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/infra/lives"
)

const (
	hoursPerMonth = 720
	// Lambda's SQS event source keeps 5 pollers long-polling (20 s) each
	// queue whether or not it holds messages: 5 x 30 d x 86,400 s / 20 s.
	emptyPollsPerQueue = 5 * 30 * 86400 / 20
	eventSourceQueues  = 2 // InboxQueue and OutboundQueue
	checkSamples       = 3 // measured check runs; the month's 720 are priced at their mean
)

func main() {
	n := flag.Int("n", 200, "orders (order lives) of the simulated month")
	seed := flag.Uint64("seed", 1, "seed of the order lives")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	u, orders, err := measure(ctx, *n, *seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cost:", err)
		os.Exit(2)
	}
	if err := print(os.Stdout, u, orders); err != nil {
		fmt.Fprintln(os.Stderr, "cost:", err)
		os.Exit(2)
	}
}

// meter sums what the functions' log and their AWS calls bill.
type meter struct {
	mu      sync.Mutex
	u       Units
	partial []byte
}

func (m *meter) add(k string, v float64) {
	m.mu.Lock()
	m.u[k] += v
	m.mu.Unlock()
}

func (m *meter) snapshot() Units {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := Units{}
	for k, v := range m.u {
		c[k] = v
	}
	return c
}

// Write reads the stack's JSON log: a REPORT record is a Lambda request
// billed at its duration and memory; every line a function wrote (REPORT
// included, as CloudWatch ingests it) counts as log bytes.
func (m *meter) Write(p []byte) (int, error) {
	m.mu.Lock()
	buf := append(m.partial, p...)
	i := bytes.LastIndexByte(buf, '\n')
	m.partial = append([]byte(nil), buf[i+1:]...)
	m.mu.Unlock()
	if i < 0 {
		return len(p), nil
	}
	sc := bufio.NewScanner(bytes.NewReader(buf[:i+1]))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			Type     string `json:"type"`
			Function string `json:"function"`
			Record   struct {
				Metrics struct {
					Billed float64 `json:"billedDurationMs"`
					Mem    float64 `json:"memorySizeMB"`
				} `json:"metrics"`
			} `json:"record"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) != nil || rec.Function == "" {
			continue
		}
		m.add("LogBytes", float64(len(sc.Bytes())+1))
		if rec.Type == "platform.report" {
			m.add("LambdaRequests", 1)
			m.add("LambdaGBSeconds", rec.Record.Metrics.Billed/1000*rec.Record.Metrics.Mem/1024)
			// The event source's ReceiveMessage and DeleteMessageBatch per
			// batch, made outside the functions and so not seen at the proxy.
			if strings.Contains(rec.Function, "EventProcessor") || strings.Contains(rec.Function, "Dispatch") {
				m.add("SQSRequests", 2)
			}
		}
	}
	return len(p), nil
}

func measure(ctx context.Context, n int, seed uint64) (Units, int, error) {
	root, err := devstack.ProjectRoot()
	if err != nil {
		return nil, 0, err
	}
	g, err := lives.LoadGoldens(root)
	if err != nil {
		return nil, 0, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	// The plan is sized in webhooks; about 6 per life, so ask for 6n and
	// report the lives it made.
	p := lives.NewPlan(g, seed, 6*n, now)
	build, err := os.MkdirTemp("", "aftercare-cost-build-")
	if err != nil {
		return nil, 0, err
	}
	defer os.RemoveAll(build)
	snk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer snk.Close()
	m := &meter{u: Units{}}
	var proxies []*proxy
	var pmu sync.Mutex
	defer func() {
		for _, p := range proxies {
			p.Close()
		}
	}()
	endpoints := func(fn, dyn, sq string) (string, string) {
		pmu.Lock()
		defer pmu.Unlock()
		d, s := startProxy("dynamodb", dyn, m), startProxy("sqs", sq, m)
		proxies = append(proxies, d, s)
		return d.URL, s.URL
	}
	st, err := devstack.Start(ctx, devstack.Options{
		Root: root, EnvFile: filepath.Join(root, "infra/local/env.json"), BuildDir: build, Prefix: "cost-",
		Env:         map[string]string{"DELIVERY_URL": snk.URL, "LOG_LEVEL": "INFO"},
		NoSchedules: true, Log: m, FunctionEndpoints: endpoints,
	})
	if err != nil {
		return nil, 0, err
	}
	defer st.Close()
	client := &http.Client{Timeout: 30 * time.Second}
	for i, phase := range p.Phases {
		for _, h := range phase {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, st.HTTPURL+h.Path, bytes.NewReader(h.Body))
			for k, v := range h.Headers {
				req.Header.Set(k, v)
			}
			if resp, err := client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			m.add("HTTPRequests", 1)
			m.add("XRayTraces", 1) // each API request starts a trace; SQS hops join it
		}
		settle(ctx, m)
		fmt.Fprintf(os.Stderr, "cost: phase %d: %d webhooks\n", i+1, len(phase))
	}
	before := m.snapshot()
	for range checkSamples {
		in := fmt.Sprintf(`{"check": "all", "scheduled_time": %q}`, now.Format(time.RFC3339))
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, st.InvokeURL+"/2015-03-31/functions/LifecycleChecksFunction/invocations", strings.NewReader(in))
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		settle(ctx, m)
	}
	after := m.snapshot()
	u := Units{}
	for k, v := range before {
		u[k] = v
	}
	// The month's checks at the mean of the sampled runs (messages they
	// queued and dispatched included).
	for k, v := range after {
		u[k] += (v - before[k]) / checkSamples * hoursPerMonth
	}
	u["SchedulerInvocations"] = hoursPerMonth
	u["XRayTraces"] += hoursPerMonth
	u["SQSRequests"] += emptyPollsPerQueue * eventSourceQueues
	return u, p.Lives, nil
}

// settle waits until the meter stops moving: queues drained, messages sent.
func settle(ctx context.Context, m *meter) {
	last, still := -1.0, 0
	for still < 6 && ctx.Err() == nil {
		time.Sleep(500 * time.Millisecond)
		s := m.snapshot()
		v := s["LambdaRequests"] + s["DynamoWRU"]
		if v == last {
			still++
		} else {
			still, last = 0, v
		}
	}
}
