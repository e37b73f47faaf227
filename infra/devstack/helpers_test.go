package devstack_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/testenv"
)

var (
	testFnOnce sync.Once
	testFnDir  string
	testFnBin  string
	testFnErr  error
)

// testFn builds testdata/testfn once per test binary: a real aws-lambda-go
// bootstrap whose behaviour the event picks.
func testFn(t *testing.T) string {
	t.Helper()
	testFnOnce.Do(func() {
		testFnDir, testFnErr = os.MkdirTemp("", "devstack-testfn-")
		if testFnErr != nil {
			return
		}
		testFnBin = filepath.Join(testFnDir, "bootstrap")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		testFnErr = devstack.BuildPackage(ctx, ".", "./testdata/testfn", testFnBin)
	})
	if testFnErr != nil {
		t.Fatalf("build the test bootstrap: %v", testFnErr)
	}
	return testFnBin
}

func cleanupTestFn() {
	if testFnDir != "" {
		os.RemoveAll(testFnDir)
	}
}

// logBuf is a log sink tests can read while functions write to it.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.WaitFor(t, timeout, 50*time.Millisecond, what, cond)
}

// newRunner runs the test bootstrap as function "TestFunction".
func newRunner(t *testing.T, timeout time.Duration, env map[string]string) (*devstack.Runner, *logBuf) {
	t.Helper()
	log := &logBuf{}
	e := map[string]string{"PATH": os.Getenv("PATH")}
	for k, v := range env {
		e[k] = v
	}
	r := devstack.NewRunner(devstack.FunctionConfig{
		Name: "TestFunction", Bootstrap: testFn(t), Timeout: timeout, MemoryMB: 128,
		Env: e, Concurrency: 2, Log: log,
	})
	t.Cleanup(r.Close)
	return r, log
}

func lines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }
