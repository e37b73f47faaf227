package devstack

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/testenv/tier"
)

// A pid file from a crashed run gets its live processes killed; entries whose
// pid now belongs to another process (start time differs) are left alone.
func TestKillLeftovers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "devstack.pids")
	var cmds []*exec.Cmd
	pf := newPidFile(path)
	for _, role := range []string{"devstack", "emulator", "function:X"} {
		c := exec.Command("sleep", "30")
		c.SysProcAttr = childAttrs()
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
		pf.add(c.Process.Pid, role)
	}
	other := exec.Command("sleep", "30")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Process.Kill(); _ = other.Wait() }()
	b, _ := os.ReadFile(path)
	// The same pid with another start time: a recycled pid, not ours.
	b = append(b, []byte(strings.Join([]string{itoa(other.Process.Pid), "1", "emulator"}, " ")+"\n")...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}

	waited := make(chan error, len(cmds))
	for _, c := range cmds {
		go func() { waited <- c.Wait() }()
	}
	// A devstack that still runs is not a leftover: nothing is killed.
	if err := killLeftovers(path, discardLog()); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("with the previous devstack alive: %v, want an error", err)
	}
	for _, c := range cmds {
		if procStartTime(c.Process.Pid) == "" {
			t.Fatal("a process of a running devstack was killed")
		}
	}
	// Once it is gone (crashed), its children are leftovers.
	_ = cmds[0].Process.Kill()
	for end := time.Now().Add(5 * time.Second); procStartTime(cmds[0].Process.Pid) != "" && !isZombie(cmds[0].Process.Pid) && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if err := killLeftovers(path, discardLog()); err != nil {
		t.Fatal(err)
	}
	for range cmds {
		select {
		case err := <-waited:
			if err == nil {
				t.Error("a leftover exited cleanly instead of being killed")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a leftover process survived")
		}
	}
	if procStartTime(other.Process.Pid) == "" {
		t.Error("a process whose pid was merely recorded with another start time was killed")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("the pid file was not removed")
	}
}

// countInvoker counts invocations and calls done after the third.
type countInvoker struct {
	n    atomic.Int32
	done func()
}

func (c *countInvoker) Invoke(ctx context.Context, payload []byte) *Result {
	if !strings.Contains(string(payload), `"scheduled_time": "20`) {
		return failed("x", "Bad", string(payload))
	}
	if c.n.Add(1) == 3 && c.done != nil {
		c.done()
	}
	return &Result{}
}

// A schedule keeps firing: three runs at a 20 ms rate, counted, not timed
// (the deadline only bounds a broken run on a loaded machine).
func TestRunSchedule(t *testing.T) {
	s := Schedule{Function: "F", Type: "ScheduleV2", Expression: "rate(1 minute)", Every: 20 * time.Millisecond,
		Input: `{"check": "all", "scheduled_time": "<aws.scheduler.scheduled-time>"}`}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := countInvoker{done: cancel}
	runSchedule(ctx, s, &c, discardLog())
	if n := c.n.Load(); n < 3 {
		t.Errorf("ran %d times before the 30 s bound at a 20 ms rate", n)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// An emulator that dies at start (here: its port is busy) is reported at
// once as exited, not after the minute-long wait for an answer.
func TestEmulatorExitIsSeen(t *testing.T) {
	tier.NeedEmulators(t)
	root, err := ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	start := time.Now()
	e, err := StartEmulators(context.Background(), EmulatorOptions{Root: root, SQSPort: port})
	if err == nil {
		e.Stop()
		t.Fatal("started on a busy port")
	}
	if !errors.Is(err, errExited) {
		t.Fatalf("got %v, want the exit to be reported", err)
	}
	t.Logf("reported after %s: %v", time.Since(start).Round(time.Millisecond), err)
}
