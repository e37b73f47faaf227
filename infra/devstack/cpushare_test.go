package devstack_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aftercare/aftercare/infra/devstack"
)

func TestQuotaIsLambdasShareOfAVCPU(t *testing.T) {
	for _, c := range []struct {
		mb   int
		want time.Duration
	}{
		{1769, 100 * time.Millisecond}, // one vCPU: the whole period
		{3538, 200 * time.Millisecond}, // two
		{128, 100 * time.Millisecond * 128 / 1769},
		{256, 100 * time.Millisecond * 256 / 1769},
		{1, time.Millisecond}, // the kernel's floor
	} {
		if got := devstack.Quota(c.mb); got != c.want {
			t.Errorf("Quota(%d MB) = %v, want %v", c.mb, got, c.want)
		}
	}
}

// readFile reads a cgroup file the limiter wrote under a stand-in root.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fakeV1 is a limiter on a stand-in cgroup v1 root: a plain directory
// tree, which takes the files but enforces nothing.
func fakeV1(t *testing.T) (string, *devstack.CPULimiter) {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "cpu"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "cpu", "cpu.cfs_quota_us"), []byte("-1"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := devstack.NewCPULimiter(root)
	if err != nil {
		t.Fatal(err)
	}
	return root, l
}

// On cgroup v1 each process gets a cgroup of the cpu hierarchy with the
// period and the quota of its memory size, and Throttled sums what the
// kernel counts in each.
func TestCPULimiterV1(t *testing.T) {
	root, l := fakeV1(t)
	if _, err := l.Confine(4242, 256); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Confine(4343, 128); err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "cpu", "aftercare-*", "fn-*"))
	if len(dirs) != 2 {
		t.Fatalf("cgroups %v, want one per process", dirs)
	}
	want := map[string]string{"cgroup.procs": "4242", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": strconv.FormatInt(devstack.Quota(256).Microseconds(), 10)}
	for f, v := range want {
		if got := readFile(t, filepath.Join(dirs[0], f)); got != v {
			t.Errorf("%s = %q, want %q", f, got, v)
		}
	}
	if got := readFile(t, filepath.Join(dirs[1], "cgroup.procs")); got != "4343" {
		t.Errorf("second process's cgroup.procs = %q", got)
	}
	if n, err := l.Throttled(); err != nil || n != 0 {
		t.Errorf("Throttled() = %d, %v before any work, want 0", n, err)
	}
	for i, d := range dirs {
		stat := "nr_periods 40\nnr_throttled " + strconv.Itoa(3+i) + "\nthrottled_time 912000\n"
		if err := os.WriteFile(filepath.Join(d, "cpu.stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := l.Throttled(); err != nil || n != 7 {
		t.Errorf("Throttled() = %d, %v, want 3+4", n, err)
	}
}

// On cgroup v2 the stack's cgroup hands the cpu controller down and each
// process's quota goes in cpu.max.
func TestCPULimiterV2(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "cgroup.controllers"), []byte("cpuset cpu io memory pids\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := devstack.NewCPULimiter(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(root, "cgroup.subtree_control")); got != "+cpu" {
		t.Errorf("root subtree_control = %q, want +cpu", got)
	}
	if _, err := l.Confine(99, 512); err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "aftercare-*", "fn-*"))
	if len(dirs) != 1 {
		t.Fatalf("cgroups %v, want one", dirs)
	}
	if got, want := readFile(t, filepath.Join(dirs[0], "cpu.max")), strconv.FormatInt(devstack.Quota(512).Microseconds(), 10)+" 100000"; got != want {
		t.Errorf("cpu.max = %q, want %q", got, want)
	}
	if got := readFile(t, filepath.Join(filepath.Dir(dirs[0]), "cgroup.subtree_control")); got != "+cpu" {
		t.Errorf("stack subtree_control = %q, want +cpu", got)
	}
}

func TestCPULimiterWithoutController(t *testing.T) {
	_, err := devstack.NewCPULimiter(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no cpu cgroup controller") {
		t.Errorf("err = %v, want one naming the missing controller", err)
	}
}

// The runtime confines each process it starts, with its memory size's
// quota; where it cannot, the invocation fails and no process is left on
// the host's CPUs.
func TestRuntimeConfinesEachProcess(t *testing.T) {
	root, l := fakeV1(t)
	var mu sync.Mutex
	live := map[int]bool{}
	r := devstack.NewRunner(devstack.FunctionConfig{
		Name: "TestFunction", Bootstrap: testFn(t), Timeout: 5 * time.Second, MemoryMB: 128,
		Env: map[string]string{"PATH": os.Getenv("PATH")}, Concurrency: 1, CPU: l,
		OnProcess: func(pid int, started bool) { mu.Lock(); live[pid] = started; mu.Unlock() },
	})
	t.Cleanup(r.Close)
	e, _ := invokeEcho(t, r)
	dirs, _ := filepath.Glob(filepath.Join(root, "cpu", "aftercare-*", "fn-*"))
	if len(dirs) != 1 {
		t.Fatalf("cgroups %v, want the one process's", dirs)
	}
	if got := readFile(t, filepath.Join(dirs[0], "cgroup.procs")); got != strconv.Itoa(e.Pid) {
		t.Errorf("cgroup.procs = %q, want the function's pid %d", got, e.Pid)
	}
	if got, want := readFile(t, filepath.Join(dirs[0], "cpu.cfs_quota_us")), strconv.FormatInt(devstack.Quota(128).Microseconds(), 10); got != want {
		t.Errorf("quota = %q, want %q (128 MB)", got, want)
	}

	// A process that cannot be confined is not run.
	if err := os.RemoveAll(filepath.Join(root, "cpu")); err != nil {
		t.Fatal(err)
	}
	res := r.Invoke(context.Background(), []byte(`{"action":"exit"}`)) // the warm process exits
	if res.Error == nil {
		t.Fatalf("exit action succeeded")
	}
	res = r.Invoke(context.Background(), []byte(`{"action":"echo","message":"hi"}`))
	if res.Error == nil || !strings.Contains(string(res.Payload), "cpu share") {
		t.Errorf("invocation without a cgroup = %v %s, want a cpu share error", res.Error, res.Payload)
	}
	waitFor(t, 5*time.Second, "no live process", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, up := range live {
			if up {
				return false
			}
		}
		return true
	})
}

// Verify refuses a cgroup tree that takes the files but throttles nothing
// (here a plain directory, as a sandbox that ignores the quota would be).
func TestCPULimiterVerifyRefusesAnUnenforcedQuota(t *testing.T) {
	_, l := fakeV1(t)
	if err := l.Verify(); err == nil || !strings.Contains(err.Error(), "does not enforce") {
		t.Errorf("Verify() = %v, want a refusal", err)
	}
}
