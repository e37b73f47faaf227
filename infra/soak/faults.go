package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Fault kinds, as the report names them.
const (
	FaultThrottle = "dynamodb_throttle" // 400 ProvisionedThroughputExceeded / Throttling
	Fault500      = "dynamodb_500"      // 500 InternalServerError
	FaultSQSSend  = "sqs_send_500"      // SendMessage(Batch) answered 500
	FaultPartial  = "sqs_batch_partial" // SendMessageBatch with failed entries
	FaultKill     = "process_killed"    // SIGKILL of the calling bootstrap mid-invocation
	FaultTimeout  = "function_timeout"  // a request held past the function's timeout
	FaultSink5xx  = "sink_5xx"
	FaultSinkHang = "sink_hang"      // held past DELIVERY_TIMEOUT_SECONDS
	FaultOutage   = "outage_refused" // requests answered during an outage window
)

var faultKinds = []string{FaultThrottle, Fault500, FaultSQSSend, FaultPartial, FaultKill, FaultTimeout, FaultSink5xx, FaultSinkHang}

// faults decides which requests fail. Rates are per eligible request; max
// bounds the slow kinds (kills, timeouts, hangs) so a run stays bounded.
type faults struct {
	mu     sync.Mutex
	rng    *rand.Rand
	rate   map[string]float64
	max    map[string]int
	counts map[string]int
	// outage windows: while set, every DynamoDB request of a function (or
	// every delivery) is refused.
	dynamoDown, sqsDown, sinkDown atomic.Bool
	pids                          func() []int // the stack's child processes
	killed                        map[int]bool
	// byItem lists the faults injected on requests naming a ledger entry
	// (MESSAGE#<id>) or a dedupe record (EVENT#<id>), to explain a loss or
	// a duplicate.
	byItem map[string][]string
}

var itemRE = regexp.MustCompile(`"(?:MESSAGE|EVENT)#([^"]+)"`)

// note records a fault against the items a request names.
func (f *faults) note(kind, fn, op string, body []byte) {
	ids := itemRE.FindAllSubmatch(body, 4)
	if len(ids) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range ids {
		id := string(m[1])
		f.byItem[id] = append(f.byItem[id], kind+" on "+fn+" "+op)
	}
}

func newFaults(seed uint64, rate map[string]float64, max map[string]int) *faults {
	return &faults{rng: rand.New(rand.NewPCG(seed, 7)), rate: rate, max: max, counts: map[string]int{}, killed: map[int]bool{}, byItem: map[string][]string{}}
}

// roll says whether to inject kind now, and counts it.
func (f *faults) roll(kind string) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rate[kind]
	if r <= 0 || (f.max[kind] > 0 && f.counts[kind] >= f.max[kind]) {
		return false
	}
	if f.rng.Float64() < r {
		f.counts[kind]++
		return true
	}
	return false
}

func (f *faults) count(kind string) {
	f.mu.Lock()
	f.counts[kind]++
	f.mu.Unlock()
}

// missed takes back a kill whose caller could not be found (it had exited).
func (f *faults) missed() {
	f.mu.Lock()
	f.counts[FaultKill]--
	f.counts["kill_missed"]++
	f.mu.Unlock()
}

func (f *faults) snapshot() map[string]int {
	out := map[string]int{}
	if f == nil {
		return out
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	maps.Copy(out, f.counts)
	return out
}

// killCaller SIGKILLs the bootstrap process at the other end of a connection.
func (f *faults) killCaller(remote string) bool {
	pid := f.callerPID(remote)
	if pid == 0 {
		return false
	}
	// The runtime starts each bootstrap in its own process group.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	f.died(pid)
	return true
}

// died marks a bootstrap killed or timed out: whatever it delivered and had
// not yet recorded may be delivered again (at least once).
func (f *faults) died(pid int) {
	f.mu.Lock()
	f.killed[pid] = true
	f.mu.Unlock()
}

// dead is a copy of the processes that died by a fault.
func (f *faults) dead() map[int]bool {
	out := map[int]bool{}
	if f == nil {
		return out
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	maps.Copy(out, f.killed)
	return out
}

// callerPID finds the stack's process at the other end of a connection
// (through /proc: the socket's inode among the stack's children); 0 if none.
func (f *faults) callerPID(remote string) int {
	if f == nil || f.pids == nil {
		return 0
	}
	_, p, err := net.SplitHostPort(remote)
	if err != nil {
		return 0
	}
	port, _ := strconv.Atoi(p)
	inode := socketInode(port)
	if inode == "" {
		return 0
	}
	want := "socket:[" + inode + "]"
	for _, pid := range f.pids() {
		dir := "/proc/" + strconv.Itoa(pid) + "/fd"
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if l, err := os.Readlink(dir + "/" + e.Name()); err == nil && l == want {
				return pid
			}
		}
	}
	return 0
}

// socketInode finds the inode of the loopback TCP socket bound to a local port.
func socketInode(port int) string {
	want := fmt.Sprintf(":%04X", port)
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) > 9 && strings.HasSuffix(fs[1], want) {
				fh.Close()
				return fs[9]
			}
		}
		fh.Close()
	}
	return ""
}

// proxy stands between one function and one emulator.
type proxy struct {
	fn, service string // service: "dynamodb" or "sqs"
	upstream    *url.URL
	rp          *httputil.ReverseProxy
	f           *faults
	timeout     time.Duration // the function's timeout
	slow        bool          // kills and timeouts apply (queue consumers only)
	srv         *http.Server
	URL         string
}

func startProxy(fn, service, upstream string, f *faults, timeout time.Duration, slow bool) (*proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	p := &proxy{fn: fn, service: service, upstream: u, f: f, timeout: timeout, slow: slow}
	p.rp = httputil.NewSingleHostReverseProxy(u)
	p.rp.ErrorLog = log.New(io.Discard, "", 0) // a killed caller cancels its request: expected
	p.rp.Transport = &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	p.URL = "http://" + ln.Addr().String()
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

func (p *proxy) Close() { _ = p.srv.Close() }

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndexByte(target, '.')+1:]
	f := p.f
	if p.service == "dynamodb" {
		if f != nil && f.dynamoDown.Load() {
			f.count(FaultOutage)
			awsError(w, 500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error")
			return
		}
		if f.roll(FaultThrottle) {
			f.note(FaultThrottle, p.fn, op, body)
			if f.coin() {
				awsError(w, 400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
					"The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.")
			} else {
				awsError(w, 400, "com.amazon.coral.availability#ThrottlingException", "Rate of requests exceeds the allowed throughput.")
			}
			return
		}
		if f.roll(Fault500) {
			f.note(Fault500, p.fn, op, body)
			awsError(w, 500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error")
			return
		}
	}
	if p.service == "sqs" && f != nil && f.sqsDown.Load() {
		f.count(FaultOutage)
		w.Header().Set("x-amzn-query-error", "InternalError;Receiver")
		awsError(w, 500, "com.amazonaws.sqs#InternalError", "We encountered an internal error. Please try again.")
		return
	}
	if p.service == "sqs" && (op == "SendMessage" || op == "SendMessageBatch") {
		if f.roll(FaultSQSSend) {
			w.Header().Set("x-amzn-query-error", "InternalError;Receiver")
			awsError(w, 500, "com.amazonaws.sqs#InternalError", "We encountered an internal error. Please try again.")
			return
		}
		if op == "SendMessageBatch" && f.roll(FaultPartial) {
			p.partial(w, r, body)
			return
		}
	}
	if p.slow && p.service == "dynamodb" || p.slow && op == "SendMessageBatch" || p.slow && op == "SendMessage" {
		if f.roll(FaultKill) {
			before := f.coin()
			f.note(map[bool]string{true: "process_killed (request not applied)", false: "process_killed (request applied)"}[before], p.fn, op, body)
			// Half the kills land before the request reaches the emulator,
			// half after it took effect but before the function hears back.
			if !before {
				rec := httptest.NewRecorder()
				p.rp.ServeHTTP(rec, r)
			}
			if !f.killCaller(r.RemoteAddr) {
				f.missed()
			}
			hangUp(w)
			return
		}
		if f.roll(FaultTimeout) {
			f.note(FaultTimeout, p.fn, op, body)
			if pid := f.callerPID(r.RemoteAddr); pid != 0 {
				f.died(pid) // the runtime kills it at its timeout
			}
			// Held past the function's timeout: the runtime kills the
			// function; the request still lands afterwards, as a slow one would.
			time.Sleep(p.timeout + 500*time.Millisecond)
			rec := httptest.NewRecorder()
			// Not cancelled with the dead caller's connection: the request
			// was on its way and reaches the service.
			p.rp.ServeHTTP(rec, r.WithContext(context.WithoutCancel(r.Context())))
			hangUp(w)
			return
		}
	}
	p.rp.ServeHTTP(w, r)
}

// partial forwards a SendMessageBatch without some of its entries and
// reports those as failed, as SQS does when part of a batch fails.
func (p *proxy) partial(w http.ResponseWriter, r *http.Request, body []byte) {
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		p.rp.ServeHTTP(w, r)
		return
	}
	entries, _ := in["Entries"].([]any)
	var keep, drop []any
	for i, e := range entries {
		if i%2 == 0 || len(entries) == 1 {
			drop = append(drop, e)
		} else {
			keep = append(keep, e)
		}
	}
	failed := make([]any, 0, len(drop))
	for _, e := range drop {
		id, _ := e.(map[string]any)["Id"].(string)
		failed = append(failed, map[string]any{"Id": id, "SenderFault": false, "Code": "InternalError", "Message": "We encountered an internal error. Please try again."})
	}
	out := map[string]any{"Successful": []any{}, "Failed": failed}
	if len(keep) > 0 {
		in["Entries"] = keep
		nb, _ := json.Marshal(in)
		r.Body = io.NopCloser(bytes.NewReader(nb))
		r.ContentLength = int64(len(nb))
		r.Header.Set("Content-Length", strconv.Itoa(len(nb)))
		rec := httptest.NewRecorder()
		p.rp.ServeHTTP(rec, r)
		if rec.Code != 200 {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		var up map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &up); err == nil {
			if s, ok := up["Successful"].([]any); ok {
				out["Successful"] = s
			}
			if fl, ok := up["Failed"].([]any); ok {
				out["Failed"] = append(fl, failed...)
			}
		}
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(200)
	_, _ = w.Write(b)
}

// awsError answers in the AWS JSON protocol's error shape.
func awsError(w http.ResponseWriter, status int, typ, msg string) {
	b, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-ErrorType", typ[strings.LastIndexByte(typ, '#')+1:])
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// hangUp drops the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// coin is a fair coin from the faults' seeded source.
func (f *faults) coin() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.IntN(2) == 0
}

func (f *faults) noteID(id, what string) {
	f.mu.Lock()
	f.byItem[id] = append(f.byItem[id], what+" at the sink")
	f.mu.Unlock()
}

func (f *faults) faultsOn(id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.byItem[id]...)
}
