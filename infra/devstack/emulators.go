package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Emulators are a running DynamoDB Local and moto (SQS) pair.
type Emulators struct {
	DynamoEndpoint string
	SQSEndpoint    string
	procs          []*child
}

// child is a started emulator and the channel its reaper closes when it exits.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// EmulatorOptions say where the installed tools are and which ports to use
// (0 picks a free port).
type EmulatorOptions struct {
	Root       string // project root; tools are under Root/.local
	DynamoPort int
	SQSPort    int
	Log        io.Writer // emulator output; nil discards it
}

// ProjectRoot finds the directory holding go.mod, starting at the working directory.
func ProjectRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// StartEmulators starts DynamoDB Local and moto and waits until both answer.
// A missing tool is an error that says how to install it: never a skip.
func StartEmulators(ctx context.Context, o EmulatorOptions) (*Emulators, error) {
	local := filepath.Join(o.Root, ".local")
	lib := filepath.Join(local, "dynamodb", "lib")
	moto := filepath.Join(local, "venv", "bin", "moto_server")
	if _, err := os.Stat(filepath.Join(lib, "DynamoDBLocal-2.6.1.jar")); err != nil {
		return nil, fmt.Errorf("DynamoDB Local is not installed in %s: run `bash infra/local/install.sh` (make test and make dev do)", lib)
	}
	if _, err := os.Stat(moto); err != nil {
		return nil, fmt.Errorf("moto_server is not installed at %s: run `bash infra/local/install.sh` (make test and make dev do)", moto)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, errors.New("java is not on PATH: DynamoDB Local needs a Java 17+ runtime")
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	e := &Emulators{}
	ddb, err := e.launch(ctx, "DynamoDB Local", o.DynamoPort, log, func(port int) *exec.Cmd {
		c := exec.Command(java, "-Xmx512m", "-Djava.library.path="+lib, "-cp", filepath.Join(lib, "*"),
			"com.amazonaws.services.dynamodbv2.local.main.ServerRunner",
			"-inMemory", "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port))
		c.Dir = filepath.Join(local, "dynamodb") // it writes a metadata file where it runs
		return c
	})
	if err != nil {
		e.Stop()
		return nil, err
	}
	sqs, err := e.launch(ctx, "moto", o.SQSPort, log, func(port int) *exec.Cmd {
		return exec.Command(moto, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	})
	if err != nil {
		e.Stop()
		return nil, err
	}
	e.DynamoEndpoint, e.SQSEndpoint = ddb, sqs
	return e, nil
}

// launch starts one emulator and waits until it answers. A port picked at
// random can be taken between the pick and the emulator's bind (another test
// package starting its own pair): the emulator then exits, and launch tries
// another port.
func (e *Emulators) launch(ctx context.Context, name string, port int, log io.Writer, cmd func(port int) *exec.Cmd) (string, error) {
	for attempt := 1; ; attempt++ {
		p, err := portOr(port)
		if err != nil {
			return "", err
		}
		c := cmd(p)
		c.Stdout, c.Stderr = log, log
		c.SysProcAttr = childAttrs()
		if err := c.Start(); err != nil {
			return "", fmt.Errorf("start %s: %w", name, err)
		}
		ch := &child{cmd: c, done: make(chan struct{})}
		go func() { _ = c.Wait(); close(ch.done) }() // the only Wait: stop and waitHTTP watch done
		e.procs = append(e.procs, ch)
		url := "http://127.0.0.1:" + strconv.Itoa(p)
		err = waitHTTP(ctx, url, ch.done, 60*time.Second)
		if err == nil {
			return url, nil
		}
		if errors.Is(err, errExited) && port == 0 && attempt < 3 {
			continue
		}
		return "", fmt.Errorf("%s did not come up on %s: %w", name, url, err)
	}
}

// Pids returns the emulator process ids.
func (e *Emulators) Pids() []int {
	var out []int
	for _, c := range e.procs {
		if c.cmd.Process != nil {
			out = append(out, c.cmd.Process.Pid)
		}
	}
	return out
}

// Stop ends both emulators: SIGTERM, then SIGKILL after three seconds.
func (e *Emulators) Stop() {
	for _, c := range e.procs {
		stopChild(c, 3*time.Second)
	}
	e.procs = nil
}

// childAttrs puts a child in its own process group (so a Ctrl-C reaches us
// first and we stop it in order) and kills it if we die.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// stopChild stops a child's whole process group gracefully, then by force.
func stopChild(c *child, grace time.Duration) {
	pid := c.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-c.done
	}
}

func portOr(p int) (int, error) {
	if p != 0 {
		return p, nil
	}
	return FreePort()
}

// FreePort asks the kernel for an unused loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// errExited says an emulator died while starting (often: its port was taken).
var errExited = errors.New("the process exited (its output is in the emulator log)")

// waitHTTP waits until url answers any HTTP response, the process exits, or
// the timeout passes. An answer counts only while the process still runs: a
// dead emulator's port may be another's.
func waitHTTP(ctx context.Context, url string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			select {
			case <-exited:
				return errExited
			default:
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return errExited
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("no answer within %s", timeout)
}
