package devstack

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// pidFile records the stack's processes (itself, the emulators, the function
// processes) so the next start can kill what a crash left behind. Each entry
// carries the process's start time, so a reused pid is never killed.
type pidFile struct {
	path string
	mu   sync.Mutex
	pids map[int]string // pid -> role
}

func newPidFile(path string) *pidFile {
	return &pidFile{path: path, pids: map[int]string{}}
}

func (p *pidFile) add(pid int, role string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pids[pid] = role
	p.write()
}

func (p *pidFile) remove(pid int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.pids, pid)
	p.write()
}

func (p *pidFile) delete() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pids = map[int]string{}
	_ = os.Remove(p.path)
}

// write replaces the file atomically; callers hold mu.
func (p *pidFile) write() {
	var b strings.Builder
	pids := make([]int, 0, len(p.pids))
	for pid := range p.pids {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	for _, pid := range pids {
		fmt.Fprintf(&b, "%d %s %s\n", pid, procStartTime(pid), p.pids[pid])
	}
	if err := os.MkdirAll(filepath.Dir(p.path), 0o755); err != nil {
		return
	}
	tmp := p.path + ".tmp"
	if os.WriteFile(tmp, []byte(b.String()), 0o644) == nil {
		_ = os.Rename(tmp, p.path)
	}
}

// procStartTime is field 22 of /proc/<pid>/stat (start time in clock ticks
// since boot), or "" when the process is gone.
func procStartTime(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// killLeftovers kills what a crashed previous run left behind (its emulators
// and function processes, each its own process group). A previous devstack
// that is still running is not a leftover: it is an error naming its pid, so
// a second `make dev` never takes down one that works.
func killLeftovers(path string, log *slog.Logger) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	type entry struct {
		pid  int
		role string
	}
	var owners, children []entry
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil || pid <= 1 || pid == os.Getpid() || procStartTime(pid) != f[1] {
			continue // gone, or the pid now belongs to someone else
		}
		if f[2] == "devstack" {
			owners = append(owners, entry{pid, f[2]})
		} else {
			children = append(children, entry{pid, f[2]})
		}
	}
	for _, e := range owners {
		if !isZombie(e.pid) {
			return fmt.Errorf("a local stack is already running here (pid %d): stop it (Ctrl-C, or kill %d) first", e.pid, e.pid)
		}
	}
	for _, e := range children {
		if procStartTime(e.pid) == "" {
			continue
		}
		log.Warn("killing a leftover process", "pid", e.pid, "role", e.role)
		_ = syscall.Kill(-e.pid, syscall.SIGKILL) // children lead their own process group
		_ = syscall.Kill(e.pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(3 * time.Second)
	for _, e := range children {
		for procStartTime(e.pid) != "" && time.Now().Before(deadline) && !isZombie(e.pid) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	_ = os.Remove(path)
	return nil
}

func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && strings.HasPrefix(strings.TrimSpace(s[i+1:]), "Z")
}
