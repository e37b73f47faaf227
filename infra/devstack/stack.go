package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Options configure a local stack. Zero ports pick free ones.
type Options struct {
	Root        string // project root (go.mod, template.yaml, .local)
	Template    string // default Root/template.yaml
	EnvFile     string // sam local --env-vars file; default Root/infra/local/env.json, "-" for none
	BuildDir    string // default Root/.local/build
	Prefix      string // physical name prefix for tables and queues; default "aftercare-local-"
	HTTPPort    int
	InvokePort  int
	DynamoPort  int
	SQSPort     int
	Parameters  map[string]string // template parameter overrides (CheckSchedule, ...)
	Env         map[string]string // process-environment overrides, ahead of the real environment
	Log         io.Writer         // the stack's and the functions' JSON log lines; nil discards
	EmulatorLog io.Writer         // DynamoDB Local and moto output; nil discards
	// VisibilityTimeout, in seconds, replaces the polled queues' visibility
	// timeout so failed messages come back quickly locally (0 keeps the template's).
	VisibilityTimeout int
	NoSchedules       bool // do not run rate() schedules
	Concurrency       int  // instances per function unless ReservedConcurrentExecutions is set; default 4
	PollersPerQueue   int  // concurrent pollers per SQS event source; default 2
	// BatchSize, when set, replaces every SQS event source's BatchSize: 1
	// is what a store's pace gives Lambda's 1 s batching window (make cost).
	BatchSize int
	PidFile   string // records child pids so a later start kills leftovers; "" for none
	// FunctionEndpoints, when set, gives each function its own DynamoDB and
	// SQS endpoints in place of the emulators' (a fault-injecting proxy, say);
	// the pollers and provisioning still talk to the emulators directly.
	FunctionEndpoints func(function, dynamodb, sqs string) (string, string)
	// CPUShare runs each function process on the CPU share Lambda gives its
	// memory size (a cgroup quota; see CPULimiter), so durations are billed
	// as that memory size would bill them (make cost). The start fails
	// where no cgroup can be written.
	CPUShare bool
	// MemoryMB, when set, replaces every function's MemorySize (make memory).
	MemoryMB int
}

// Stack is a running local stack.
type Stack struct {
	HTTPURL        string // the HTTP API
	InvokeURL      string // the Lambda Invoke API (aws lambda invoke --endpoint-url)
	DynamoEndpoint string
	SQSEndpoint    string
	Table          string            // the table's name
	Queues         map[string]string // queue URLs by logical id
	Names          *Names            // every provisioned name and attribute
	Functions      []string
	Routes         []Route
	Sources        []SQSSource
	Schedules      []Schedule
	BuildTime      time.Duration // building every function
	EmulatorTime   time.Duration // starting the emulators (concurrent with the build)
	ReadyIn        time.Duration // from Start to ready (GET /healthz answered 200)
	Log            *slog.Logger

	runners   map[string]*Runner
	emu       *Emulators
	servers   []*http.Server
	invokeAPI *InvokeAPI
	pids      *pidFile
	cpu       *CPULimiter
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// Start builds every function, starts the emulators, creates the template's
// table and queues, and serves the HTTP API, the Invoke API, the SQS pollers
// and the schedules. ctx bounds the start only; Close stops the stack.
func Start(ctx context.Context, o Options) (*Stack, error) {
	t0 := time.Now()
	if o.Root == "" {
		root, err := ProjectRoot()
		if err != nil {
			return nil, err
		}
		o.Root = root
	}
	if o.Template == "" {
		o.Template = filepath.Join(o.Root, "template.yaml")
	}
	switch o.EnvFile {
	case "":
		o.EnvFile = filepath.Join(o.Root, "infra", "local", "env.json")
	case "-":
		o.EnvFile = ""
	}
	if o.BuildDir == "" {
		o.BuildDir = filepath.Join(o.Root, ".local", "build")
	}
	if o.Prefix == "" {
		o.Prefix = "aftercare-local-"
	}
	if o.PollersPerQueue <= 0 {
		o.PollersPerQueue = 2
	}
	out := newSyncWriter(o.Log)
	log := slog.New(slog.NewJSONHandler(out, nil))
	s := &Stack{Log: log, runners: map[string]*Runner{}, Queues: map[string]string{}}
	fail := func(err error) (*Stack, error) {
		s.Close()
		return nil, err
	}
	if o.PidFile != "" {
		if err := killLeftovers(o.PidFile, log); err != nil {
			return nil, err
		}
		s.pids = newPidFile(o.PidFile)
		s.pids.add(os.Getpid(), "devstack")
	}

	tpl, err := LoadTemplate(o.Template)
	if err != nil {
		return fail(err)
	}
	if o.CPUShare {
		if s.cpu, err = NewCPULimiter("/sys/fs/cgroup"); err != nil {
			return fail(err)
		}
		if err := s.cpu.Verify(); err != nil {
			return fail(err)
		}
	}
	envFile, err := LoadEnvFile(o.EnvFile)
	if err != nil {
		return fail(fmt.Errorf("env file: %w", err))
	}
	// Hold our own ports first and check the emulators' are free, so a busy
	// port fails in a second, not after the build.
	httpLn, err := listen(o.HTTPPort, "HTTP API")
	if err != nil {
		return fail(err)
	}
	s.servers = append(s.servers, &http.Server{ReadHeaderTimeout: 10 * time.Second})
	invokeLn, err := listen(o.InvokePort, "Invoke API")
	if err != nil {
		httpLn.Close()
		return fail(err)
	}
	closeLns := func() { httpLn.Close(); invokeLn.Close() }
	for _, p := range []struct {
		port int
		what string
	}{{o.DynamoPort, "DynamoDB Local"}, {o.SQSPort, "moto (SQS)"}} {
		if p.port == 0 {
			continue
		}
		l, err := listen(p.port, p.what)
		if err != nil {
			closeLns()
			return fail(err)
		}
		l.Close()
	}

	fns := tpl.Functions()
	var (
		wg              sync.WaitGroup
		bins            map[string]string
		buildErr, emuEr error
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		t := time.Now()
		bins, buildErr = Build(ctx, o.Root, o.BuildDir, fns)
		s.BuildTime = time.Since(t)
	}()
	go func() {
		defer wg.Done()
		t := time.Now()
		s.emu, emuEr = StartEmulators(ctx, EmulatorOptions{Root: o.Root, DynamoPort: o.DynamoPort, SQSPort: o.SQSPort, Log: o.EmulatorLog})
		s.EmulatorTime = time.Since(t)
	}()
	wg.Wait()
	if s.emu != nil {
		for _, pid := range s.emu.Pids() {
			s.pids.add(pid, "emulator")
		}
	}
	if err := errors.Join(buildErr, emuEr); err != nil {
		closeLns()
		return fail(err)
	}
	log.Info("built functions and started emulators", "build_ms", s.BuildTime.Milliseconds(), "emulators_ms", s.EmulatorTime.Milliseconds())
	s.DynamoEndpoint, s.SQSEndpoint = s.emu.DynamoEndpoint, s.emu.SQSEndpoint

	params := map[string]string{}
	for name, p := range tpl.Parameters {
		if p.Default == nil {
			params[name] = "" // unset, rather than resolving to the parameter's name
		}
	}
	for k, v := range o.Parameters {
		params[k] = v
	}
	names, err := s.emu.Provision(ctx, tpl, o.Prefix, params)
	if err != nil {
		closeLns()
		return fail(err)
	}
	s.Names = names
	s.Table = names.Refs["Table"]
	for _, id := range tpl.ResourcesOfType("AWS::SQS::Queue") {
		s.Queues[id] = names.Refs[id]
	}
	if s.Sources, err = SQSSources(fns, names); err != nil {
		closeLns()
		return fail(err)
	}
	if o.BatchSize > 0 {
		for i := range s.Sources {
			s.Sources[i].BatchSize = o.BatchSize
		}
	}
	if s.Schedules, err = Schedules(fns, names); err != nil {
		closeLns()
		return fail(err)
	}
	s.Routes = HTTPRoutes(fns)
	_, sq := s.emu.Clients()
	if o.VisibilityTimeout > 0 {
		timeouts := map[string]int{}
		for _, fn := range fns {
			timeouts[fn.Name] = fn.Timeout
		}
		for _, src := range s.Sources {
			// AWS refuses a visibility timeout under the function's timeout: a
			// batch still running would be received again and run twice.
			vt := max(o.VisibilityTimeout, timeouts[src.Function])
			if vt != o.VisibilityTimeout {
				log.Info("visibility timeout raised to the function's timeout", "queue", src.QueueURL, "function", src.Function, "seconds", vt)
			}
			if _, err := sq.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
				QueueUrl:   aws.String(src.QueueURL),
				Attributes: map[string]string{"VisibilityTimeout": strconv.Itoa(vt)},
			}); err != nil {
				closeLns()
				return fail(fmt.Errorf("visibility timeout of %s: %w", src.QueueURL, err))
			}
		}
	}

	invokers := map[string]Invoker{}
	for _, fn := range fns {
		env, sources, err := FunctionEnv(fn, names, envFile, ProcessEnv(o.Env))
		if err != nil {
			closeLns()
			return fail(err)
		}
		var fromProcess, ignored []string
		for k, src := range sources {
			switch src {
			case FromProcess:
				fromProcess = append(fromProcess, k)
			case Ignored:
				ignored = append(ignored, k)
			}
		}
		if len(ignored) > 0 {
			sort.Strings(ignored)
			log.Warn("env file variables the function does not declare are not passed", "function", fn.Name, "variables", ignored)
		}
		if len(fromProcess) > 0 {
			sort.Strings(fromProcess)
			log.Info("process environment overrides", "function", fn.Name, "variables", fromProcess)
		}
		seeded, err := SeedSecrets(ctx, s.emu.SSM(), env)
		if err != nil {
			closeLns()
			return fail(err)
		}
		if len(seeded) > 0 {
			log.Info("secrets seeded into the local SSM; the function reads them from there", "function", fn.Name, "variables", seeded)
		}
		if fn.Name == "DispatchFunction" {
			if domains, err := VerifySenders(ctx, s.emu.SQSEndpoint, env["AFTERCARE_SETTINGS"]); err != nil {
				log.Warn("local SES: cannot verify the sender domains", "error", err.Error())
			} else {
				log.Info("local SES: verified sender domains", "domains", domains)
			}
		}
		dynEndpoint, sqsEndpoint := s.DynamoEndpoint, s.SQSEndpoint
		if o.FunctionEndpoints != nil {
			dynEndpoint, sqsEndpoint = o.FunctionEndpoints(fn.Name, dynEndpoint, sqsEndpoint)
		}
		bin := bins[fn.Name]
		conc := o.Concurrency
		if fn.Reserved > 0 {
			conc = fn.Reserved
		}
		name := fn.Name
		if o.MemoryMB > 0 {
			fn.MemorySize = o.MemoryMB
		}
		r := NewRunner(FunctionConfig{
			Name: fn.Name, Bootstrap: bin, CPU: s.cpu,
			Timeout: time.Duration(fn.Timeout) * time.Second, MemoryMB: fn.MemorySize,
			Env:         MergeEnv(env, RuntimeEnv(fn, dynEndpoint, sqsEndpoint, filepath.Dir(bin))),
			Concurrency: conc, Log: out,
			OnProcess: func(pid int, started bool) {
				if started {
					s.pids.add(pid, "function:"+name)
				} else {
					s.pids.remove(pid)
				}
			},
		})
		s.runners[fn.Name] = r
		invokers[fn.Name] = r
		s.Functions = append(s.Functions, fn.Name)
	}

	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.servers[0].Handler = &HTTPAPI{Routes: s.Routes, Invoke: s.Invoke, Log: log}
	s.invokeAPI = &InvokeAPI{Functions: invokers, Log: log, ctx: runCtx}
	s.servers = append(s.servers, &http.Server{Handler: s.invokeAPI.Handler(), ReadHeaderTimeout: 10 * time.Second})
	s.HTTPURL = "http://" + httpLn.Addr().String()
	s.InvokeURL = "http://" + invokeLn.Addr().String()
	go func() { _ = s.servers[0].Serve(httpLn) }()
	go func() { _ = s.servers[1].Serve(invokeLn) }()

	for _, src := range s.Sources {
		for range o.PollersPerQueue {
			p := &Poller{Source: src, SQS: sq, Fn: s.runners[src.Function], Log: log, Wait: time.Second}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); p.Run(runCtx) }()
		}
	}
	for _, sc := range s.Schedules {
		byHand := fmt.Sprintf("aws lambda invoke --endpoint-url %s --function-name %s --payload '%s' out.json", s.InvokeURL, sc.Function, sc.Payload(time.Now()))
		switch {
		case o.NoSchedules:
			log.Info("schedules are off; invoke by hand", "function", sc.Function, "schedule", sc.Expression, "command", byHand)
		case sc.Every == 0:
			log.Info("only rate() schedules run locally; invoke by hand", "function", sc.Function, "schedule", sc.Expression, "command", byHand)
		default:
			s.wg.Add(1)
			go func() { defer s.wg.Done(); runSchedule(runCtx, sc, s.runners[sc.Function], log) }()
		}
	}

	if err := s.waitHealthy(ctx); err != nil {
		return fail(err)
	}
	s.ReadyIn = time.Since(t0)
	log.Info("ready", "http", s.HTTPURL, "invoke", s.InvokeURL, "ready_ms", s.ReadyIn.Milliseconds())
	return s, nil
}

// waitHealthy waits for GET /healthz to answer 200 when the API has that
// route; it also starts the web function, so the first webhook is warm.
func (s *Stack) waitHealthy(ctx context.Context) error {
	found := false
	for _, r := range s.Routes {
		if r.Path == "/healthz" && (r.Method == "GET" || r.Method == "ANY") {
			found = true
		}
	}
	if !found {
		return nil
	}
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.HTTPURL+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("GET /healthz did not answer 200 within 30s (last: %s); see the function's log lines", last)
}

// Invoke runs a function by name, as the HTTP API and tests do.
func (s *Stack) Invoke(ctx context.Context, function string, payload []byte) *Result {
	r, ok := s.runners[function]
	if !ok {
		return failed(newRequestID(), "ResourceNotFoundException", "Function not found: "+function)
	}
	return r.Invoke(ctx, payload)
}

// CPUThrottled is how often the CPU share cut a function short so far (see
// CPULimiter.Throttled); an error without Options.CPUShare.
func (s *Stack) CPUThrottled() (int64, error) {
	if s.cpu == nil {
		return 0, errors.New("the stack runs on the host's CPUs (Options.CPUShare is off)")
	}
	return s.cpu.Throttled()
}

// Close stops the servers, pollers and schedules, the function processes and
// the emulators, and removes the pid file. It is safe to call more than once.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		for _, srv := range s.servers {
			if srv.Handler != nil {
				_ = srv.Shutdown(ctx)
			}
			_ = srv.Close()
		}
		cancel()
		var wg sync.WaitGroup
		for _, r := range s.runners {
			wg.Add(1)
			go func() { defer wg.Done(); r.Close() }()
		}
		wg.Wait()
		s.wg.Wait()
		if s.invokeAPI != nil {
			s.invokeAPI.Wait()
		}
		if s.emu != nil {
			s.emu.Stop()
		}
		if s.cpu != nil {
			_ = s.cpu.Close()
		}
		s.pids.delete()
	})
	return nil
}

func listen(port int, what string) (net.Listener, error) {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return nil, fmt.Errorf("%s port %d is busy (is another `make dev` running? stop it, or pick another port): %w", what, port, err)
	}
	return l, nil
}

// Pids lists the stack's running child processes: emulators and function instances.
func (s *Stack) Pids() []int {
	var out []int
	if s.emu != nil {
		out = append(out, s.emu.Pids()...)
	}
	for _, r := range s.runners {
		out = append(out, r.Pids()...)
	}
	return out
}
