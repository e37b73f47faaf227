// Command cost drives a month of a store's order lives through the local
// stack, counts every billable unit and prints the AWS bill at list prices
// (SPEC section 17).
//
//	go run ./infra/cost -n 200
//
// The bill has two parts, measured apart. The fixed part is what one
// deployment pays a month whatever its orders: the hourly check runs with
// nothing due (measured on the empty stack) and the event sources' empty long
// polls (analytic). The per-order part is the rest: n order lives' webhooks,
// then one check run that finds their due follow-ups, win-backs and lapse
// notes, less that run's idle share. The last line is the per-order part per
// 1,000 orders; the fixed part is printed beside it.
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
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
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
	// Every hourly check run folds the report's counters from the stream
	// (dynamo.Store.Fold): a run that finds new writes commits one
	// transaction of the shard's mark and the day items they count. At a
	// store's pace that is one day item, 4 write units; at most once a run,
	// so 720 a month bound it (a run that finds nothing new writes nothing).
	foldWriteUnits = 4
	idleSamples    = 3 // idle check runs measured; the month's are priced at their mean
)

func main() {
	var r run
	flag.IntVar(&r.n, "n", 200, "order lives of the simulated month")
	flag.Uint64Var(&r.seed, "seed", 1, "seed of the order lives")
	flag.IntVar(&r.batch, "batch", 1, "messages per event-source batch (0: the template's BatchSize, as if webhooks came faster than one a second)")
	flag.BoolVar(&r.cpu, "cpu", true, "run each function on the CPU share Lambda gives its memory size (a cgroup quota; false: the host's CPUs)")
	flag.IntVar(&r.memory, "memory", 0, "MB for every function in place of the template's MemorySize (0: the template's)")
	sweep := flag.String("sweep", "", "comma-separated memory sizes: measure the month at each and compare the functions' durations and compute (make memory)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Minute)
	defer cancel()
	if *sweep != "" {
		if err := memorySweep(ctx, os.Stdout, r, *sweep); err != nil {
			fmt.Fprintln(os.Stderr, "cost:", err)
			os.Exit(2)
		}
		return
	}
	b, err := measure(ctx, r)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cost:", err)
		os.Exit(2)
	}
	byFunction(os.Stderr, b)
	if err := print(os.Stdout, b); err != nil {
		fmt.Fprintln(os.Stderr, "cost:", err)
		os.Exit(2)
	}
}

// run is what one measured month is run with.
type run struct {
	n      int
	seed   uint64
	batch  int
	cpu    bool // each function on its memory size's CPU share
	memory int  // MB for every function (0: the template's)
}

// Bill is a measured month: the fixed units of one deployment and the units
// Orders order lives added.
type Bill struct {
	Fixed    Units
	PerOrder Units // for Orders orders
	Orders   int
	ByFn     map[string]Units   // per function, the per-order part's metered units (diagnostic)
	Notes    map[string]Units   // per function, the whole run's diagnostics (index units)
	ByItem   map[string]float64 // the whole run's write units by action and item kind
	ByShape  map[string]Shape   // ... by write request: the items it changes together
	ByIndex  map[string]float64 // the index write units among them, by index and item kind
	Sizes    map[string][]int   // the items' stored sizes in bytes by kind, sorted (diagnostic)
	Runs     map[string]*Runs   // per function, the whole run's billed and init durations
}

// Runs are a function's invocations' billed durations and its processes'
// init durations, in ms, and the most memory a process of it used.
type Runs struct {
	Billed, Init []float64
	MaxMemMB     float64
}

// meter sums what the functions' log and their AWS calls bill.
type meter struct {
	mu      sync.Mutex
	u       Units
	byFn    map[string]Units
	notes   map[string]Units // per function, diagnostics that are not billed apart
	partial []byte
	// platformLogs: the platform's own records (REPORT) reach CloudWatch;
	// with the template's SystemLogLevel at WARN they do not (they are INFO).
	platformLogs bool
	idx          indexes
	runs         map[string]*Runs
}

// note counts a diagnostic (already inside a billed unit) under a function.
func (m *meter) note(fn, k string, v float64) {
	m.mu.Lock()
	if m.notes[fn] == nil {
		m.notes[fn] = Units{}
	}
	m.notes[fn][k] += v
	m.mu.Unlock()
}

func (m *meter) add(k string, v float64) { m.addFn("", k, v) }

// ran records an invocation's billed duration, its process's peak memory
// and, on a process's first, its init duration.
func (m *meter) ran(fn string, billed, init, maxMem float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.runs[fn]
	if r == nil {
		r = &Runs{}
		m.runs[fn] = r
	}
	r.Billed = append(r.Billed, billed)
	r.MaxMemMB = max(r.MaxMemMB, maxMem)
	if init > 0 {
		r.Init = append(r.Init, init)
	}
}

// addFn counts units, and under the function that spent them when known.
func (m *meter) addFn(fn, k string, v float64) {
	m.mu.Lock()
	m.u[k] += v
	if fn != "" {
		if m.byFn[fn] == nil {
			m.byFn[fn] = Units{}
		}
		m.byFn[fn][k] += v
	}
	m.mu.Unlock()
}

// snapshot copies the totals and the per-function units.
func (m *meter) snapshot() (Units, map[string]Units) {
	m.mu.Lock()
	defer m.mu.Unlock()
	by := map[string]Units{}
	for fn, u := range m.byFn {
		by[fn] = u.plus(nil, 1)
	}
	return m.u.plus(nil, 1), by
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
					Init   float64 `json:"initDurationMs"`
					MaxMem float64 `json:"maxMemoryUsedMB"`
				} `json:"metrics"`
			} `json:"record"`
		}
		// A function's lines are tagged first thing by the local runtime; the
		// stack's own lines (its pollers, the HTTP API) name a function too,
		// but Lambda's event sources write nothing to a function's log.
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte(`{"function":`)) || json.Unmarshal(line, &rec) != nil || rec.Function == "" {
			continue
		}
		fn := rec.Function
		if m.platformLogs || !strings.HasPrefix(rec.Type, "platform.") {
			tag, _ := json.Marshal(fn) // the runtime's tag, "function":"<name>", is not the function's
			m.addFn(fn, "LogBytes", float64(len(line)+1-len(`"function":,`)-len(tag)))
		}
		if rec.Type == "platform.report" {
			m.ran(fn, rec.Record.Metrics.Billed, rec.Record.Metrics.Init, rec.Record.Metrics.MaxMem)
			m.addFn(fn, "LambdaRequests", 1)
			m.addFn(fn, "LambdaGBSeconds", rec.Record.Metrics.Billed/1000*rec.Record.Metrics.Mem/1024)
			// The event source's ReceiveMessage and DeleteMessageBatch per
			// batch, made outside the functions and so not seen at the proxy.
			if strings.Contains(fn, "EventProcessor") || strings.Contains(fn, "Dispatch") {
				m.addFn(fn, "SQSRequests", 2)
			}
		}
	}
	return len(p), nil
}

// measure runs the month. The webhooks go out back to back, so the event
// sources' 1 s batching window would fill batches of ten; a store sends a
// few an hour, and Lambda then invokes once per event and the event source
// receives and deletes once per event: batch (1 by default) says which to
// bill.
func measure(ctx context.Context, r run) (Bill, error) {
	root, err := devstack.ProjectRoot()
	if err != nil {
		return Bill{}, err
	}
	tpl, err := devstack.LoadTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		return Bill{}, err
	}
	tracing := tracingActive(tpl)
	g, err := lives.LoadGoldens(root)
	if err != nil {
		return Bill{}, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	p := lives.NewLives(g, r.seed, r.n, now)
	build, err := os.MkdirTemp("", "aftercare-cost-build-")
	if err != nil {
		return Bill{}, err
	}
	defer os.RemoveAll(build)
	snk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer snk.Close()
	m := &meter{u: Units{}, byFn: map[string]Units{}, notes: map[string]Units{}, platformLogs: platformLogs(tpl),
		idx: indexes{gsis: tableIndexes(tpl)}, runs: map[string]*Runs{}}
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
		d, s := startProxy(fn, "dynamodb", dyn, m), startProxy(fn, "sqs", sq, m)
		proxies = append(proxies, d, s)
		return d.URL, s.URL
	}
	st, err := devstack.Start(ctx, devstack.Options{
		Root: root, EnvFile: filepath.Join(root, "infra/local/env.json"), BuildDir: build, Prefix: "cost-",
		Env:         map[string]string{"DELIVERY_URL": snk.URL, "LOG_LEVEL": tplDefault(tpl, "LogLevel", "INFO")},
		NoSchedules: true, Log: m, FunctionEndpoints: endpoints, BatchSize: r.batch,
		CPUShare: r.cpu, MemoryMB: r.memory,
	})
	if err != nil {
		return Bill{}, err
	}
	defer st.Close()
	client := &http.Client{Timeout: 30 * time.Second}
	check := func() {
		in := fmt.Sprintf(`{"check": "all", "scheduled_time": %q}`, now.Format(time.RFC3339))
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, st.InvokeURL+"/2015-03-31/functions/LifecycleChecksFunction/invocations", strings.NewReader(in))
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		settle(ctx, m)
	}
	// An hourly run with nothing due: the empty stack's.
	settle(ctx, m)
	start, _ := m.snapshot()
	for range idleSamples {
		check()
	}
	afterIdle, afterIdleFn := m.snapshot()
	idle := afterIdle.minus(start).plus(nil, 1.0/idleSamples)
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
			if tracing {
				m.add("XRayTraces", 1) // each API request starts a trace; SQS hops join it
			}
		}
		settle(ctx, m)
		fmt.Fprintf(os.Stderr, "cost: phase %d: %d webhooks\n", i+1, len(phase))
	}
	// The run that finds the lives' due work; its idle share is in the fixed part.
	check()
	end, endFn := m.snapshot()
	if r.cpu {
		n, err := st.CPUThrottled()
		if err != nil {
			return Bill{}, err
		}
		fmt.Fprintf(os.Stderr, "cost: cpu share: the quota cut %d periods short\n", n)
	}
	db, _ := (&devstack.Emulators{DynamoEndpoint: st.DynamoEndpoint, SQSEndpoint: st.SQSEndpoint}).Clients()
	sizes, err := itemSizes(ctx, db, st.Table)
	if err != nil {
		return Bill{}, err
	}
	b := Bill{Orders: p.Lives, ByFn: map[string]Units{}, Notes: m.notes, ByItem: m.idx.ByItem, ByShape: m.idx.ByShape, ByIndex: m.idx.ByIndex, Sizes: sizes, Runs: m.runs,
		PerOrder: end.minus(afterIdle).minus(idle).floor(),
		Fixed:    idle.plus(nil, hoursPerMonth)}
	for fn, u := range endFn {
		b.ByFn[fn] = u.minus(afterIdleFn[fn])
	}
	b.Fixed["SchedulerInvocations"] += hoursPerMonth
	if tracing {
		b.Fixed["XRayTraces"] += hoursPerMonth
	}
	b.Fixed["SQSRequests"] += emptyPollsPerQueue * eventSourceQueues
	b.Fixed["DynamoWRU"] += hoursPerMonth * foldWriteUnits
	return b, nil
}

// tracingActive reports whether the template's functions record X-Ray
// traces by default (Tracing: Active, directly or through a parameter).
func tracingActive(t *devstack.Template) bool {
	v := t.Globals["Tracing"]
	if ref, ok := v.(map[string]any); ok {
		name, _ := ref["Ref"].(string)
		return tplDefault(t, name, "") == "Active"
	}
	s, _ := v.(string)
	return s == "Active"
}

// platformLogs reports whether the platform's INFO records (START, REPORT)
// are ingested: only when the functions' SystemLogLevel lets INFO through.
func platformLogs(t *devstack.Template) bool {
	lc, _ := t.Globals["LoggingConfig"].(map[string]any)
	switch lvl, _ := lc["SystemLogLevel"].(string); lvl {
	case "WARN", "ERROR", "FATAL":
		return false
	}
	return true
}

// tableIndexes are the table's global secondary indexes in the template.
func tableIndexes(t *devstack.Template) []gsi {
	var out []gsi
	for _, r := range t.Resources {
		if r.Type != "AWS::DynamoDB::Table" {
			continue
		}
		gsis, _ := r.Properties["GlobalSecondaryIndexes"].([]any)
		for _, g := range gsis {
			gm, _ := g.(map[string]any)
			p, _ := gm["Projection"].(map[string]any)
			x := gsi{KeysOnly: p["ProjectionType"] == "KEYS_ONLY"}
			ks, _ := gm["KeySchema"].([]any)
			for _, k := range ks {
				km, _ := k.(map[string]any)
				name, _ := km["AttributeName"].(string)
				if km["KeyType"] == "HASH" {
					x.PK = name
				} else {
					x.SK = name
				}
			}
			out = append(out, x)
		}
	}
	return out
}

// tplDefault is a template parameter's default.
func tplDefault(t *devstack.Template, name, def string) string {
	if p, ok := t.Parameters[name]; ok && p.Default != nil {
		return *p.Default
	}
	return def
}

// settle waits until the meter stops moving: queues drained, messages sent.
func settle(ctx context.Context, m *meter) {
	last, still := -1.0, 0
	for still < 6 && ctx.Err() == nil {
		time.Sleep(500 * time.Millisecond)
		s, _ := m.snapshot()
		v := s["LambdaRequests"] + s["DynamoWRU"]
		if v == last {
			still++
		} else {
			still, last = 0, v
		}
	}
}

// byValue is m's keys, largest value first.
func byValue[V any](m map[string]V, val func(V) float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return val(m[keys[i]]) > val(m[keys[j]]) })
	return keys
}

// unitsTable writes one title and its units, largest first.
func unitsTable(tw *tabwriter.Writer, title string, m map[string]float64) {
	fmt.Fprintf(tw, "%s\tWRU\t\n", title)
	for _, k := range byValue(m, func(v float64) float64 { return v }) {
		fmt.Fprintf(tw, "%s\t%.0f\t\n", k, m[k])
	}
	_ = tw.Flush()
}

// byFunction writes, to stderr, which function spent the per-order part's
// metered units: where to cut next.
func byFunction(w io.Writer, b Bill) {
	fns := make([]string, 0, len(b.ByFn))
	for fn := range b.ByFn {
		fns = append(fns, fn)
	}
	sort.Strings(fns)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "function (%d orders)\trequests\tGB-s\tWRU\tRRU\tSQS\tlog KB\tindex units (whole run)\t\n", b.Orders)
	for _, fn := range fns {
		u := b.ByFn[fn]
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t\n", fn, u["LambdaRequests"], u["LambdaGBSeconds"],
			u["DynamoWRU"], u["DynamoRRU"], u["SQSRequests"], u["LogBytes"]/1024, b.Notes[fn]["index units"])
	}
	_ = tw.Flush()
	unitsTable(tw, "write units (whole run), by action and item", b.ByItem)
	fmt.Fprintf(tw, "write requests (whole run), by the items they change\trequests\tWRU\t\n")
	for _, k := range byValue(b.ByShape, func(s Shape) float64 { return s.WRU }) {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t\n", k, b.ByShape[k].N, b.ByShape[k].WRU)
	}
	_ = tw.Flush()
	unitsTable(tw, "index write units (whole run), by index and item", b.ByIndex)
	kinds := make([]string, 0, len(b.Sizes))
	for k := range b.Sizes {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	fmt.Fprintf(tw, "items stored at the end, by kind\titems\tmedian B\tp90 B\tlargest B\tover 1 KB\t\n")
	for _, k := range kinds {
		d := b.Sizes[k]
		over := 0
		for _, n := range d {
			if n > 1024 {
				over++
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", k, len(d), d[len(d)/2], d[len(d)*9/10], d[len(d)-1], over)
	}
	_ = tw.Flush()
}
