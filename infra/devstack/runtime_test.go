package devstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aftercare/aftercare/infra/devstack"
)

type echoed struct {
	Payload   json.RawMessage `json:"payload"`
	RequestID string          `json:"request_id"`
	ARN       string          `json:"arn"`
	Deadline  int64           `json:"deadline_in_ms"`
	Cwd       string          `json:"cwd"`
	Pid       int             `json:"pid"`
}

func invokeEcho(t *testing.T, r *devstack.Runner) (echoed, *devstack.Result) {
	t.Helper()
	res := r.Invoke(context.Background(), []byte(`{"action":"echo","message":"hi"}`))
	if res.Error != nil {
		t.Fatalf("echo failed: %v (%s)", res.Error, res.Payload)
	}
	var e echoed
	if err := json.Unmarshal(res.Payload, &e); err != nil {
		t.Fatalf("echo payload %s: %v", res.Payload, err)
	}
	return e, res
}

// The real aws-lambda-go runtime loop gets the payload, request id, function
// ARN and deadline from the local Runtime API, runs in its own directory, and
// each invocation gets a REPORT record, with the Init Duration on the first.
func TestRuntimeInvokes(t *testing.T) {
	r, log := newRunner(t, 2*time.Second, nil)
	e, res := invokeEcho(t, r)
	if string(e.Payload) != `{"action":"echo","message":"hi"}` {
		t.Errorf("payload = %s", e.Payload)
	}
	if e.RequestID != res.RequestID || len(e.RequestID) != 36 {
		t.Errorf("function saw request id %q, result has %q", e.RequestID, res.RequestID)
	}
	if want := devstack.FunctionARN(devstack.Region, devstack.Account, "TestFunction"); e.ARN != want {
		t.Errorf("arn = %q, want %q", e.ARN, want)
	}
	if e.Deadline < 1500 || e.Deadline > 2000 {
		t.Errorf("deadline in %d ms, want about the 2 s timeout", e.Deadline)
	}
	if e.Cwd != filepath.Dir(testFn(t)) {
		t.Errorf("cwd = %q, want the bootstrap's directory", e.Cwd)
	}
	if !strings.Contains(res.Report, "REPORT RequestId: "+res.RequestID) || !strings.Contains(res.Report, "Init Duration: ") ||
		!strings.Contains(res.Report, "Memory Size: 128 MB") || !strings.Contains(res.Report, "Billed Duration: ") {
		t.Errorf("first report = %q, want Lambda's fields with Init Duration", res.Report)
	}
	e2, res2 := invokeEcho(t, r)
	if e2.Pid != e.Pid {
		t.Errorf("second invocation ran in pid %d, want the warm %d", e2.Pid, e.Pid)
	}
	if strings.Contains(res2.Report, "Init Duration") {
		t.Errorf("warm report has an Init Duration: %q", res2.Report)
	}
	out := log.String()
	for _, want := range []string{
		`{"function":"TestFunction","level":"INFO","msg":"echo","n":1}`,
		`"function":"TestFunction","message":"plain text line"`,
		`"type":"platform.report"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	for _, l := range lines(out) {
		if !json.Valid([]byte(l)) {
			t.Errorf("log line is not JSON: %s", l)
		}
	}
}

// A handler error is reported with its type and message, and the process
// stays warm.
func TestRuntimeFunctionError(t *testing.T) {
	r, _ := newRunner(t, 2*time.Second, nil)
	e, _ := invokeEcho(t, r)
	res := r.Invoke(context.Background(), []byte(`{"action":"error","message":"nope"}`))
	if res.Error == nil || res.Error.Type != "errorString" || res.Error.Message != "nope" {
		t.Fatalf("error = %+v, payload %s", res.Error, res.Payload)
	}
	var doc map[string]any
	if err := json.Unmarshal(res.Payload, &doc); err != nil || doc["errorMessage"] != "nope" {
		t.Errorf("error payload = %s", res.Payload)
	}
	if e2, _ := invokeEcho(t, r); e2.Pid != e.Pid {
		t.Errorf("a handled error restarted the process")
	}
}

// Past its timeout the process is killed, the caller hears Lambda's timeout
// error, and the next invocation starts a fresh process (with an Init Duration).
func TestRuntimeTimeout(t *testing.T) {
	r, _ := newRunner(t, time.Second, nil)
	e, _ := invokeEcho(t, r)
	start := time.Now()
	res := r.Invoke(context.Background(), []byte(`{"action":"sleep","ms":5000}`))
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Errorf("timeout took %s", took)
	}
	if !res.TimedOut() || !strings.Contains(res.Error.Message, "Task timed out after 1.00 seconds") {
		t.Fatalf("result = %+v", res.Error)
	}
	if !strings.Contains(res.Report, "Status: timeout") {
		t.Errorf("report = %q", res.Report)
	}
	if err := processGone(e.Pid); err != nil {
		t.Error(err)
	}
	e2, res2 := invokeEcho(t, r)
	if e2.Pid == e.Pid || !strings.Contains(res2.Report, "Init Duration") {
		t.Errorf("after a timeout: pid %d (was %d), report %q; want a fresh process", e2.Pid, e.Pid, res2.Report)
	}
}

func processGone(pid int) error {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(b), ") Z") {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("process %d still runs", pid)
}

// A process that exits mid-invocation is a Runtime.ExitError, and so is a
// panic (reported, then the runtime exits); the next invocation restarts it.
func TestRuntimeExitAndPanic(t *testing.T) {
	r, _ := newRunner(t, 2*time.Second, nil)
	res := r.Invoke(context.Background(), []byte(`{"action":"exit"}`))
	if res.Error == nil || res.Error.Type != devstack.ErrTypeExit || !strings.Contains(res.Error.Message, "Runtime exited with error: exit status 3") {
		t.Fatalf("exit: %+v", res.Error)
	}
	invokeEcho(t, r)
	res = r.Invoke(context.Background(), []byte(`{"action":"panic","message":"kaboom"}`))
	if res.Error == nil || res.Error.Message != "kaboom" {
		t.Fatalf("panic: %+v %s", res.Error, res.Payload)
	}
	invokeEcho(t, r)
}

// An init error posted to /runtime/init/error is the invocation's error.
func TestRuntimeInitError(t *testing.T) {
	r, _ := newRunner(t, 2*time.Second, map[string]string{"TESTFN_INIT_ERROR": "bad config"})
	res := r.Invoke(context.Background(), []byte(`{"action":"echo"}`))
	if res.Error == nil || res.Error.Type != "Config.Invalid" || res.Error.Message != "bad config" {
		t.Fatalf("init error = %+v %s", res.Error, res.Payload)
	}
}

// A response over Lambda's 6 MB limit is Function.ResponseSizeTooLarge.
func TestRuntimeResponseTooLarge(t *testing.T) {
	r, _ := newRunner(t, 5*time.Second, nil)
	res := r.Invoke(context.Background(), []byte(`{"action":"big","ms":7000000}`))
	if res.Error == nil || res.Error.Type != devstack.ErrTypeTooLarge {
		t.Fatalf("error = %+v", res.Error)
	}
	invokeEcho(t, r)
}

// Instances run invocations side by side, one each.
func TestRuntimeConcurrency(t *testing.T) {
	r, _ := newRunner(t, 5*time.Second, nil)
	start := time.Now()
	var wg sync.WaitGroup
	pids := make([]int, 2)
	for i := range pids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := r.Invoke(context.Background(), []byte(`{"action":"sleep","ms":800}`))
			var out struct{ Pid int }
			if res.Error != nil || json.Unmarshal(res.Payload, &out) != nil {
				t.Errorf("sleep: %+v %s", res.Error, res.Payload)
			}
			pids[i] = out.Pid
		}()
	}
	wg.Wait()
	if took := time.Since(start); took > 1600*time.Millisecond {
		t.Errorf("two 800 ms invocations took %s: not concurrent", took)
	}
	if pids[0] == pids[1] {
		t.Errorf("both ran in pid %d", pids[0])
	}
}

// The process sees exactly the configured environment plus
// AWS_LAMBDA_RUNTIME_API: nothing leaks from the parent.
func TestRuntimeEnvironmentIsExact(t *testing.T) {
	t.Setenv("DEVSTACK_TEST_LEAK", "leaked")
	r, _ := newRunner(t, 2*time.Second, map[string]string{"ONLY_THIS": "yes"})
	res := r.Invoke(context.Background(), []byte(`{"action":"env"}`))
	var env []string
	if res.Error != nil || json.Unmarshal(res.Payload, &env) != nil {
		t.Fatalf("env: %+v %s", res.Error, res.Payload)
	}
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	if got["ONLY_THIS"] != "yes" || !strings.HasPrefix(got["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:") {
		t.Errorf("env = %v", got)
	}
	delete(got, "_X_AMZN_TRACE_ID") // the runtime library sets it per invocation
	if _, ok := got["DEVSTACK_TEST_LEAK"]; ok || len(got) != 3 {
		t.Errorf("the parent's environment leaked: %v", got)
	}
}
