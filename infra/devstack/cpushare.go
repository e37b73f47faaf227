package devstack

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// MBPerVCPU is the memory size at which Lambda gives a function one full
// vCPU; below it a function gets CPU in proportion to its memory (the Lambda
// developer guide, "Configuring function memory").
const MBPerVCPU = 1769

// cpuPeriod is the CFS period the quota is measured over (the kernel's
// default). Lambda does not publish its own, so a burst of work longer than
// the quota waits for the next period here as it may there.
const cpuPeriod = 100 * time.Millisecond

// CPULimiter gives each function process (one execution environment) the CPU
// Lambda gives its memory size, with a cgroup of its own and the kernel's CFS
// quota, so local durations are what that memory size would bill rather than
// what a whole idle core gives. It speaks cgroup v1 (a cpu hierarchy with
// cpu.cfs_quota_us) and v2 (cpu.max).
type CPULimiter struct {
	dir string // the stack's own cgroup, under which each process gets one
	v2  bool
	n   atomic.Int64
}

// NewCPULimiter makes the stack's cgroup under root (normally /sys/fs/cgroup).
// It fails, saying why, where no cpu controller can be written: the caller
// then bills the host's durations or stops, never silently mixes the two.
func NewCPULimiter(root string) (*CPULimiter, error) {
	name := "aftercare-" + strconv.Itoa(os.Getpid())
	l := &CPULimiter{}
	switch {
	case exists(filepath.Join(root, "cpu", "cpu.cfs_quota_us")):
		l.dir = filepath.Join(root, "cpu", name)
	case hasController(filepath.Join(root, "cgroup.controllers"), "cpu"):
		l.dir, l.v2 = filepath.Join(root, name), true
		// A v2 child gets the cpu controller only if its parent hands it down.
		if err := writeFile(filepath.Join(root, "cgroup.subtree_control"), "+cpu"); err != nil {
			return nil, fmt.Errorf("cpu share: %w", err)
		}
	default:
		return nil, fmt.Errorf("cpu share: no cpu cgroup controller under %s", root)
	}
	if err := os.Mkdir(l.dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("cpu share: %w (run as root, or bill host durations)", err)
	}
	if l.v2 {
		if err := writeFile(filepath.Join(l.dir, "cgroup.subtree_control"), "+cpu"); err != nil {
			_ = os.Remove(l.dir)
			return nil, fmt.Errorf("cpu share: %w", err)
		}
	}
	return l, nil
}

// Quota is the CPU time per period that a memory size buys: memoryMB/1769 of
// one vCPU, at least the kernel's 1 ms floor.
func Quota(memoryMB int) time.Duration {
	return max(cpuPeriod*time.Duration(memoryMB)/MBPerVCPU, time.Millisecond)
}

// Confine moves a process into a cgroup of its own with the quota of
// memoryMB. The process runs unconfined from its start until then (well
// under a millisecond: the runtime confines it right after starting it).
// release removes the cgroup once the process has exited (a no-op when
// Confine failed, so callers can always call it).
func (l *CPULimiter) Confine(pid, memoryMB int) (release func(), err error) {
	_, release, err = l.confine(pid, memoryMB)
	return release, err
}

func (l *CPULimiter) confine(pid, memoryMB int) (dir string, release func(), err error) {
	dir = filepath.Join(l.dir, "fn-"+strconv.FormatInt(l.n.Add(1), 10))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", func() {}, fmt.Errorf("cpu share: %w", err)
	}
	release = func() { _ = os.Remove(dir) }
	q, period := Quota(memoryMB).Microseconds(), cpuPeriod.Microseconds()
	if l.v2 {
		err = writeFile(filepath.Join(dir, "cpu.max"), fmt.Sprintf("%d %d", q, period))
	} else {
		err = writeFile(filepath.Join(dir, "cpu.cfs_period_us"), strconv.FormatInt(period, 10))
		if err == nil {
			err = writeFile(filepath.Join(dir, "cpu.cfs_quota_us"), strconv.FormatInt(q, 10))
		}
	}
	if err == nil {
		err = writeFile(filepath.Join(dir, "cgroup.procs"), strconv.Itoa(pid))
	}
	if err != nil {
		release()
		return "", func() {}, fmt.Errorf("cpu share: %w", err)
	}
	return dir, release, nil
}

// Verify proves that the kernel enforces the quota: a busy loop confined to
// 128 MB's share must be throttled within a few periods. Where it is not
// (a kernel or sandbox that accepts the files and ignores them), the
// durations would be the host's, so the stack does not start.
func (l *CPULimiter) Verify() error {
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	cmd.SysProcAttr = childAttrs()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cpu share: %w", err)
	}
	dir, release, err := l.confine(cmd.Process.Pid, 128)
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		release()
	}()
	if err != nil {
		return err
	}
	for range 20 {
		time.Sleep(cpuPeriod)
		if throttled(dir) > 0 {
			return nil
		}
	}
	return errors.New("cpu share: the kernel does not enforce the cgroup's CPU quota here (a busy loop was never throttled)")
}

// Throttled is how many CFS periods ended with a process of the stack out
// of quota (cpu.stat nr_throttled, summed over the live processes). After
// real work, zero means the kernel is not enforcing the quota, and the
// durations are the host's.
func (l *CPULimiter) Throttled() (int64, error) {
	stats, err := filepath.Glob(filepath.Join(l.dir, "fn-*", "cpu.stat"))
	if err != nil {
		return 0, err
	}
	var n int64
	for _, f := range stats {
		n += throttled(filepath.Dir(f))
	}
	return n, nil
}

// throttled reads a cgroup's nr_throttled (0 once it is gone).
func throttled(dir string) int64 {
	b, err := os.ReadFile(filepath.Join(dir, "cpu.stat"))
	if err != nil {
		return 0
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "nr_throttled "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// Close removes the stack's cgroup (its processes have gone by then).
func (l *CPULimiter) Close() error { return os.Remove(l.dir) }

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func hasController(path, name string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.Contains(" "+strings.TrimSpace(string(b))+" ", " "+name+" ")
}

func writeFile(path, v string) error {
	return os.WriteFile(path, []byte(v), 0o644)
}
