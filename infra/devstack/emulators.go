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
	procs          []*exec.Cmd
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
	dport, err := portOr(o.DynamoPort)
	if err != nil {
		return nil, err
	}
	sport, err := portOr(o.SQSPort)
	if err != nil {
		return nil, err
	}
	ddb := exec.Command(java, "-Xmx512m", "-Djava.library.path="+lib, "-cp", filepath.Join(lib, "*"),
		"com.amazonaws.services.dynamodbv2.local.main.ServerRunner",
		"-inMemory", "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(dport))
	ddb.Dir = filepath.Join(local, "dynamodb") // it writes a metadata file where it runs
	sqs := exec.Command(moto, "-H", "127.0.0.1", "-p", strconv.Itoa(sport))
	for _, c := range []*exec.Cmd{ddb, sqs} {
		c.Stdout, c.Stderr = log, log
		c.SysProcAttr = childAttrs()
		if err := c.Start(); err != nil {
			e.Stop()
			return nil, fmt.Errorf("start %s: %w", filepath.Base(c.Path), err)
		}
		e.procs = append(e.procs, c)
	}
	e.DynamoEndpoint = "http://127.0.0.1:" + strconv.Itoa(dport)
	e.SQSEndpoint = "http://127.0.0.1:" + strconv.Itoa(sport)
	if err := waitHTTP(ctx, e.DynamoEndpoint, ddb, 60*time.Second); err != nil {
		e.Stop()
		return nil, fmt.Errorf("DynamoDB Local did not come up on %s: %w", e.DynamoEndpoint, err)
	}
	if err := waitHTTP(ctx, e.SQSEndpoint, sqs, 60*time.Second); err != nil {
		e.Stop()
		return nil, fmt.Errorf("moto did not come up on %s: %w", e.SQSEndpoint, err)
	}
	return e, nil
}

// Pids returns the emulator process ids.
func (e *Emulators) Pids() []int {
	var out []int
	for _, c := range e.procs {
		if c.Process != nil {
			out = append(out, c.Process.Pid)
		}
	}
	return out
}

// Stop ends both emulators: SIGTERM, then SIGKILL after three seconds.
func (e *Emulators) Stop() {
	for _, c := range e.procs {
		stopProcess(c, 3*time.Second)
	}
	e.procs = nil
}

// childAttrs puts a child in its own process group (so a Ctrl-C reaches us
// first and we stop it in order) and kills it if we die.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// stopProcess stops a child's whole process group gracefully, then by force.
func stopProcess(c *exec.Cmd, grace time.Duration) {
	if c == nil || c.Process == nil {
		return
	}
	pid := c.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-done
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

// waitHTTP waits until url answers any HTTP response, the process exits, or
// the timeout passes.
func waitHTTP(ctx context.Context, url string, proc *exec.Cmd, timeout time.Duration) error {
	exited := make(chan struct{})
	go func() {
		// Only observe: Wait is owned by stopProcess, so poll the pid instead.
		for {
			if proc.Process == nil || syscall.Kill(proc.Process.Pid, 0) != nil {
				close(exited)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return errors.New("the process exited (see its output above)")
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("no answer within %s", timeout)
}
