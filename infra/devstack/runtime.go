package devstack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Lambda's limits that the local runtime enforces.
const (
	MaxPayload = 6 * 1024 * 1024 // synchronous request and response payload, bytes
	initLimit  = 10 * time.Second
)

// FunctionConfig is one function as the local runtime runs it.
type FunctionConfig struct {
	Name        string
	Bootstrap   string // the bootstrap binary; it runs with its own directory as working directory
	Timeout     time.Duration
	MemoryMB    int
	Env         map[string]string // the whole environment; AWS_LAMBDA_RUNTIME_API is added per process
	Concurrency int               // most instances at once (default 4)
	Log         io.Writer         // function output and REPORT records, one JSON object a line; nil discards
	Region      string
	Account     string
	// OnProcess, when set, hears about every bootstrap process start (started=true)
	// and exit, so leftovers can be killed after a crash.
	OnProcess func(pid int, started bool)
	// CPU, when set, gives each process the CPU share of MemoryMB, as Lambda
	// does; nil runs it on the host's CPUs.
	CPU *CPULimiter
}

// Invoker runs one invocation and reports how it went.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) *Result
}

// Result is the outcome of one invocation.
type Result struct {
	RequestID string
	Payload   []byte         // the response, or the error document when Error is set
	Error     *FunctionError // nil on success
	Duration  time.Duration
	Report    string // Lambda's REPORT line for the invocation
}

// FunctionError is a failed invocation, shaped as Lambda reports it.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Lambda's error types for failures the runtime, not the handler, detects.
const (
	ErrTypeTimeout  = "Sandbox.Timedout"
	ErrTypeExit     = "Runtime.ExitError"
	ErrTypeStopped  = "Runtime.Stopped"
	ErrTypeTooLarge = "Function.ResponseSizeTooLarge"
)

// TimedOut says whether the function ran out of time.
func (r *Result) TimedOut() bool { return r.Error != nil && r.Error.Type == ErrTypeTimeout }

// Runner runs a function: a small pool of instances, each one bootstrap process
// serving one invocation at a time against its own Runtime API, as in Lambda.
type Runner struct {
	cfg  FunctionConfig
	arn  string
	sem  chan struct{}
	out  *syncWriter
	mu   sync.Mutex
	idle []*instance
	all  []*instance
	shut bool
}

// NewRunner prepares a function; processes start on first use.
func NewRunner(cfg FunctionConfig) *Runner {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.MemoryMB <= 0 {
		cfg.MemoryMB = 128
	}
	if cfg.Region == "" {
		cfg.Region = Region
	}
	if cfg.Account == "" {
		cfg.Account = Account
	}
	return &Runner{
		cfg: cfg,
		arn: FunctionARN(cfg.Region, cfg.Account, cfg.Name),
		sem: make(chan struct{}, cfg.Concurrency),
		out: newSyncWriter(cfg.Log),
	}
}

// FunctionARN is a function's ARN.
func FunctionARN(region, account, name string) string {
	return "arn:aws:lambda:" + region + ":" + account + ":function:" + name
}

// Name is the function's name.
func (r *Runner) Name() string { return r.cfg.Name }

// Invoke runs one invocation, waiting for a free instance if all are busy.
func (r *Runner) Invoke(ctx context.Context, payload []byte) *Result {
	id := newRequestID()
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return failed(id, ErrTypeStopped, "the caller gave up before an instance was free")
	}
	defer func() { <-r.sem }()
	in := r.acquire()
	if in == nil {
		return failed(id, ErrTypeStopped, "the function is stopped")
	}
	res := in.invoke(ctx, id, payload)
	r.release(in)
	return res
}

func (r *Runner) acquire() *instance {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shut {
		return nil
	}
	if n := len(r.idle); n > 0 {
		in := r.idle[n-1]
		r.idle = r.idle[:n-1]
		return in
	}
	in := &instance{r: r}
	r.all = append(r.all, in)
	return in
}

func (r *Runner) release(in *instance) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.shut {
		r.idle = append(r.idle, in)
	}
}

// Close stops every instance: SIGTERM, then SIGKILL after a short grace.
// Invocations in flight end with Runtime.ExitError.
func (r *Runner) Close() {
	r.mu.Lock()
	r.shut = true
	all := r.all
	r.all, r.idle = nil, nil
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, in := range all {
		wg.Add(1)
		go func() { defer wg.Done(); in.stop(500 * time.Millisecond) }()
	}
	wg.Wait()
}

// instance is one execution environment. Only the goroutine that acquired it
// invokes it; mu guards proc against Close.
type instance struct {
	r      *Runner
	mu     sync.Mutex
	proc   *process
	closed bool // set by Close: an invocation in flight must not start a new process
}

// process is one run of the bootstrap binary with its own Runtime API server,
// so a killed process's late calls can never take a later invocation.
type process struct {
	cmd      *exec.Cmd
	srv      *http.Server
	started  time.Time
	pending  chan *invocation
	ready    chan struct{} // closed at the first /next: init is over
	readyOne sync.Once
	initDur  time.Duration // written before ready closes
	initFail chan struct{} // closed when the runtime reports an init error
	initOne  sync.Once
	initErr  []byte
	exited   chan struct{}
	exitErr  error // written before exited closes
	mu       sync.Mutex
	current  *invocation
	initSeen bool // the Init Duration was reported
	served   bool // took an invocation; only the invoking goroutine uses it
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan outcome // buffered: the handler never waits
}

type outcome struct {
	payload []byte
	err     *FunctionError
}

func (in *instance) invoke(ctx context.Context, id string, payload []byte) *Result {
	for attempt := 0; ; attempt++ {
		p, res := in.ready(ctx, id)
		if res != nil {
			return res
		}
		res, retry := in.run(ctx, p, id, payload)
		// A warm process that died between invocations (it exits after a
		// panic, say) never took this one: like Lambda, use a fresh one.
		if retry && attempt == 0 {
			continue
		}
		return res
	}
}

// ready returns the instance's process once its init is over, starting one
// if needed; a non-nil Result is a failed init.
func (in *instance) ready(ctx context.Context, id string) (*process, *Result) {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return nil, failed(id, ErrTypeStopped, "the function is stopped")
	}
	p := in.proc
	if p != nil && p.hasExited() {
		p = nil
	}
	if p == nil {
		var err error
		if p, err = in.r.start(); err != nil {
			in.mu.Unlock()
			return nil, failed(id, "Runtime.InvalidEntrypoint", err.Error())
		}
		in.proc = p
	}
	in.mu.Unlock()
	select {
	case <-p.ready:
		return p, nil
	default:
	}
	t := time.NewTimer(initLimit)
	defer t.Stop()
	select {
	case <-p.ready:
		return p, nil
	case <-p.initFail:
		in.kill(p)
		return nil, in.finish(p, id, time.Now(), initOutcome(p.initErr))
	case <-p.exited:
		return nil, in.finish(p, id, time.Now(), exitOutcome(id, p.exitErr))
	case <-t.C:
		in.kill(p)
		return nil, in.finish(p, id, time.Now(), outcome{err: &FunctionError{Type: ErrTypeTimeout, Message: fmt.Sprintf("RequestId: %s Error: Init phase timed out after %.2f seconds", id, initLimit.Seconds())}})
	case <-ctx.Done():
		in.kill(p)
		return nil, in.finish(p, id, time.Now(), outcome{err: &FunctionError{Type: ErrTypeStopped, Message: "invocation cancelled: " + ctx.Err().Error()}})
	}
}

// run hands the invocation to a ready process and waits for its answer, the
// timeout, or the process's end. retry says the process ended before it took
// the invocation.
func (in *instance) run(ctx context.Context, p *process, id string, payload []byte) (res *Result, retry bool) {
	r := in.r
	start := time.Now()
	inv := &invocation{id: id, payload: payload, deadline: start.Add(r.cfg.Timeout), done: make(chan outcome, 1)}
	timer := time.NewTimer(r.cfg.Timeout)
	defer timer.Stop()
	timedOut := func() *Result {
		in.kill(p)
		return in.finish(p, id, start, outcome{err: &FunctionError{Type: ErrTypeTimeout, Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", id, r.cfg.Timeout.Seconds())}})
	}
	cancelled := func() *Result {
		in.kill(p)
		return in.finish(p, id, start, outcome{err: &FunctionError{Type: ErrTypeStopped, Message: "invocation cancelled: " + ctx.Err().Error()}})
	}
	select {
	case p.pending <- inv:
		p.served = true
	case <-p.exited:
		if p.served {
			return nil, true
		}
		return in.finish(p, id, start, exitOutcome(id, p.exitErr)), false
	case <-timer.C:
		return timedOut(), false
	case <-ctx.Done():
		return cancelled(), false
	}
	select {
	case out := <-inv.done:
		return in.finish(p, id, start, out), false
	case <-p.exited:
		select {
		case out := <-inv.done: // answered, then exited
			return in.finish(p, id, start, out), false
		default:
			return in.finish(p, id, start, exitOutcome(id, p.exitErr)), false
		}
	case <-timer.C:
		return timedOut(), false
	case <-ctx.Done():
		return cancelled(), false
	}
}

func initOutcome(body []byte) outcome {
	fe := &FunctionError{}
	_ = json.Unmarshal(body, fe)
	if fe.Type == "" {
		fe.Type = "Runtime.Unknown"
	}
	if !json.Valid(body) || len(body) == 0 {
		body, _ = json.Marshal(fe)
	}
	return outcome{payload: body, err: fe}
}

func exitOutcome(id string, err error) outcome {
	msg := "exit status 0"
	if err != nil {
		msg = err.Error()
	}
	return outcome{err: &FunctionError{Type: ErrTypeExit, Message: fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", id, msg)}}
}

// finish builds the result and writes the REPORT record.
func (in *instance) finish(p *process, id string, start time.Time, out outcome) *Result {
	r := in.r
	d := time.Since(start)
	res := &Result{RequestID: id, Payload: out.payload, Error: out.err, Duration: d}
	if out.err != nil && out.payload == nil {
		res.Payload, _ = json.Marshal(out.err)
	}
	ms := float64(d.Microseconds()) / 1000
	line := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB", id, ms, int64(math.Ceil(ms)), r.cfg.MemoryMB)
	metrics := map[string]any{"durationMs": round2(ms), "billedDurationMs": int64(math.Ceil(ms)), "memorySizeMB": r.cfg.MemoryMB}
	if mem := maxMemoryMB(p); mem > 0 {
		line += fmt.Sprintf("\tMax Memory Used: %d MB", mem)
		metrics["maxMemoryUsedMB"] = mem
	}
	p.mu.Lock()
	first := !p.initSeen
	p.initSeen = true
	p.mu.Unlock()
	select {
	case <-p.ready:
		if first {
			init := float64(p.initDur.Microseconds()) / 1000
			line += fmt.Sprintf("\tInit Duration: %.2f ms", init)
			metrics["initDurationMs"] = round2(init)
		}
	default:
	}
	status := "success"
	if out.err != nil {
		status = "error"
		if out.err.Type == ErrTypeTimeout {
			status = "timeout"
		}
		line += "\tStatus: " + status
	}
	res.Report = line
	rec, _ := json.Marshal(map[string]any{
		"time": time.Now().UTC().Format(time.RFC3339Nano), "type": "platform.report", "function": r.cfg.Name,
		"message": line, "record": map[string]any{"requestId": id, "metrics": metrics, "status": status},
	})
	r.out.writeLine(rec)
	return res
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// maxMemoryMB reads the process's peak resident size, as Max Memory Used.
func maxMemoryMB(p *process) int {
	if p.hasExited() || p.cmd.Process == nil {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0
	}
	for l := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return (kb + 1023) / 1024
		}
	}
	return 0
}

// kill ends a process at once (timeout, init failure, cancel); the next
// invocation starts a fresh one.
func (in *instance) kill(p *process) {
	if !p.hasExited() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
	in.mu.Lock()
	if in.proc == p {
		in.proc = nil
	}
	in.mu.Unlock()
}

func (in *instance) stop(grace time.Duration) {
	in.mu.Lock()
	p := in.proc
	in.proc, in.closed = nil, true
	in.mu.Unlock()
	if p == nil || p.hasExited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// start runs a fresh bootstrap process with its own Runtime API.
func (r *Runner) start() (*process, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &process{
		started:  time.Now(), // before the server runs: its handlers read it
		pending:  make(chan *invocation),
		ready:    make(chan struct{}),
		initFail: make(chan struct{}),
		exited:   make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, req *http.Request) { r.next(p, w, req) })
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, req *http.Request) { r.respond(p, w, req, false) })
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", func(w http.ResponseWriter, req *http.Request) { r.respond(p, w, req, true) })
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, MaxPayload))
		if t := req.Header.Get("Lambda-Runtime-Function-Error-Type"); t != "" && !json.Valid(body) {
			body, _ = json.Marshal(FunctionError{Type: t, Message: string(body)})
		}
		p.initOne.Do(func() { p.initErr = body; close(p.initFail) })
		accepted(w)
	})
	// The Extensions API, as far as aws-lambda-go's WithEnableSIGTERM uses it:
	// an internal extension registers (which is what makes Lambda send
	// SIGTERM before SIGKILL) and then waits on /next for events it never
	// subscribed to, so /next blocks until the process goes.
	mux.HandleFunc("POST /2020-01-01/extension/register", func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, 1<<16))
		w.Header().Set("Lambda-Extension-Identifier", newRequestID())
		writeJSON(w, http.StatusOK, map[string]string{"functionName": r.cfg.Name, "functionVersion": "$LATEST", "handler": "bootstrap"})
	})
	mux.HandleFunc("GET /2020-01-01/extension/event/next", func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-req.Context().Done():
		case <-p.exited:
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"errorType": "InvalidRequest", "errorMessage": "unknown Runtime API path " + req.URL.Path})
	})
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()

	env := make(map[string]string, len(r.cfg.Env)+1)
	for k, v := range r.cfg.Env {
		env[k] = v
	}
	env["AWS_LAMBDA_RUNTIME_API"] = ln.Addr().String()
	cmd := exec.Command(r.cfg.Bootstrap)
	cmd.Dir = filepath.Dir(r.cfg.Bootstrap)
	cmd.Env = envList(env)
	stdout, stderr := &lineWriter{fn: r.cfg.Name, stream: "stdout", out: r.out}, &lineWriter{fn: r.cfg.Name, stream: "stderr", out: r.out}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = childAttrs()
	cmd.WaitDelay = time.Second // a grandchild holding the pipes must not hang Wait
	p.cmd = cmd
	if err := cmd.Start(); err != nil {
		_ = p.srv.Close()
		return nil, fmt.Errorf("start %s: %w", r.cfg.Bootstrap, err)
	}
	pid := cmd.Process.Pid
	if r.cfg.OnProcess != nil {
		r.cfg.OnProcess(pid, true)
	}
	release, confineErr := func() {}, error(nil)
	if r.cfg.CPU != nil {
		release, confineErr = r.cfg.CPU.Confine(pid, r.cfg.MemoryMB)
	}
	go func() {
		err := cmd.Wait()
		release()
		stdout.flush()
		stderr.flush()
		_ = p.srv.Close()
		p.exitErr = err
		close(p.exited)
		if r.cfg.OnProcess != nil {
			r.cfg.OnProcess(pid, false)
		}
	}()
	if confineErr != nil {
		// On the host's CPUs it would bill a duration no memory size gives.
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-p.exited
		return nil, confineErr
	}
	return p, nil
}

// next blocks until an invocation is handed over, as Lambda's /next does.
func (r *Runner) next(p *process, w http.ResponseWriter, req *http.Request) {
	p.readyOne.Do(func() {
		p.initDur = time.Since(p.started)
		close(p.ready)
	})
	select {
	case inv := <-p.pending:
		p.mu.Lock()
		p.current = inv
		p.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", r.arn)
		h.Set("Lambda-Runtime-Trace-Id", traceID())
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(inv.payload)
	case <-req.Context().Done():
	}
}

// respond takes a function's response or error for the current invocation.
func (r *Runner) respond(p *process, w http.ResponseWriter, req *http.Request, isErr bool) {
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxPayload+1))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"errorType": "InvalidRequest", "errorMessage": err.Error()})
		return
	}
	id := req.PathValue("id")
	p.mu.Lock()
	inv := p.current
	if inv != nil && inv.id == id {
		p.current = nil
	} else {
		inv = nil
	}
	p.mu.Unlock()
	if inv == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"errorType": "InvalidRequestID", "errorMessage": "Invalid request ID"})
		return
	}
	switch {
	case isErr:
		fe := &FunctionError{}
		_ = json.Unmarshal(body, fe)
		if fe.Type == "" {
			fe.Type = req.Header.Get("Lambda-Runtime-Function-Error-Type")
		}
		if fe.Type == "" {
			fe.Type = "Unhandled"
		}
		if !json.Valid(body) || len(body) == 0 {
			if fe.Message == "" {
				fe.Message = string(body)
			}
			body, _ = json.Marshal(fe)
		}
		inv.done <- outcome{payload: body, err: fe}
	case req.Trailer.Get("Lambda-Runtime-Function-Error-Type") != "":
		// A streamed response that failed part way reports its error in trailers.
		fe := &FunctionError{Type: req.Trailer.Get("Lambda-Runtime-Function-Error-Type")}
		payload, _ := base64.StdEncoding.DecodeString(req.Trailer.Get("Lambda-Runtime-Function-Error-Body"))
		_ = json.Unmarshal(payload, fe)
		if !json.Valid(payload) || len(payload) == 0 {
			payload, _ = json.Marshal(fe)
		}
		inv.done <- outcome{payload: payload, err: fe}
	case len(body) > MaxPayload:
		inv.done <- outcome{err: &FunctionError{Type: ErrTypeTooLarge, Message: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxPayload)}}
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"errorType": "RequestEntityTooLarge", "errorMessage": "response too large"})
		return
	default:
		inv.done <- outcome{payload: body}
	}
	accepted(w)
}

func accepted(w http.ResponseWriter) {
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func failed(id, typ, msg string) *Result {
	fe := &FunctionError{Type: typ, Message: msg}
	b, _ := json.Marshal(fe)
	return &Result{RequestID: id, Payload: b, Error: fe}
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// newRequestID is a random UUID, like Lambda's request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// traceID is an X-Ray trace header that is not sampled, so nothing is sent.
func traceID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), h[:24], h[24:40])
}

// syncWriter serialises whole lines from many sources onto one writer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func newSyncWriter(w io.Writer) *syncWriter {
	if sw, ok := w.(*syncWriter); ok {
		return sw
	}
	if w == nil {
		w = io.Discard
	}
	return &syncWriter{w: w}
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

func (s *syncWriter) writeLine(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = s.w.Write(append(b, '\n'))
}

// lineWriter tags each line of a function's output with the function's name:
// JSON objects get a "function" field (so the stream stays JSON lines), other
// text is wrapped in one.
type lineWriter struct {
	fn, stream string
	out        *syncWriter
	mu         sync.Mutex
	buf        []byte
}

func (l *lineWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.emit(l.buf[:i])
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 1<<20 { // a runaway line without newline
		l.emit(l.buf)
		l.buf = nil
	}
	return len(b), nil
}

func (l *lineWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(l.buf)
		l.buf = nil
	}
}

func (l *lineWriter) emit(line []byte) {
	s := strings.TrimRight(string(line), "\r")
	if strings.TrimSpace(s) == "" {
		return
	}
	tag, _ := json.Marshal(l.fn)
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "{") && json.Valid([]byte(t)) {
		rest := strings.TrimSpace(t[1:])
		if rest == "}" {
			l.out.writeLine([]byte(`{"function":` + string(tag) + `}`))
		} else {
			l.out.writeLine([]byte(`{"function":` + string(tag) + `,` + rest))
		}
		return
	}
	b, _ := json.Marshal(map[string]string{"time": time.Now().UTC().Format(time.RFC3339Nano), "function": l.fn, "stream": l.stream, "message": s})
	l.out.writeLine(b)
}

// Pids lists the function's running bootstrap processes.
func (r *Runner) Pids() []int {
	r.mu.Lock()
	all := append([]*instance(nil), r.all...)
	r.mu.Unlock()
	var out []int
	for _, in := range all {
		in.mu.Lock()
		if p := in.proc; p != nil && !p.hasExited() {
			out = append(out, p.cmd.Process.Pid)
		}
		in.mu.Unlock()
	}
	return out
}
