// Package testenv gives integration tests real emulators: AWS's DynamoDB Local
// and moto's SQS, started once per test package on free ports, with a fresh
// table and queues per test created from template.yaml. A missing emulator
// fails the test with the reason; it is never a skip. The one exception is the
// fast tier: under `go test -short` every emulator test is skipped here, in
// NeedEmulators, so the switch between the tiers lives in one place.
package testenv

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/testenv/tier"
)

// Env is the package's running emulators.
type Env struct {
	*devstack.Emulators
	Template *devstack.Template
	Root     string
}

var (
	once     sync.Once
	shared   *Env
	startErr error
	counter  atomic.Int64
)

// Main runs the package's tests and stops the emulators afterwards, if any test
// started them. Use it from TestMain: os.Exit(testenv.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	return code
}

// NeedEmulators marks a test as belonging to the emulator tier: under -short
// (the fast tier) it is skipped; otherwise it runs and a missing emulator fails
// it. Tests that start emulators or the local stack without Get call it first.
func NeedEmulators(t testing.TB) {
	t.Helper()
	tier.NeedEmulators(t)
}

// Get returns the package's emulators, starting them on first use.
func Get(t testing.TB) *Env {
	t.Helper()
	NeedEmulators(t)
	once.Do(func() {
		root, err := devstack.ProjectRoot()
		if err != nil {
			startErr = err
			return
		}
		tpl, err := devstack.LoadTemplate(root + "/template.yaml")
		if err != nil {
			startErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		var log *os.File
		if os.Getenv("TESTENV_VERBOSE") != "" {
			log = os.Stderr
		}
		opts := devstack.EmulatorOptions{Root: root}
		if log != nil {
			opts.Log = log
		}
		emu, err := devstack.StartEmulators(ctx, opts)
		if err != nil {
			startErr = err
			return
		}
		shared = &Env{Emulators: emu, Template: tpl, Root: root}
	})
	if startErr != nil {
		t.Fatalf("integration emulators could not start: %v", startErr)
	}
	return shared
}

// Stack is a fresh set of the template's resources for one test.
type Stack struct {
	*devstack.Names
	Env      *Env
	Table    string
	Inbox    string // queue URLs
	InboxDLQ string
	Outbound string
	OutDLQ   string
	DB       *dynamodb.Client
	Streams  *dynamodbstreams.Client // the table's stream (the report's counters are folded from it)
	SQS      *sqs.Client
}

// Fresh creates the template's table and queues under a prefix unique to this
// test, so tests never see each other's items or messages.
func Fresh(t testing.TB) *Stack {
	t.Helper()
	e := Get(t)
	prefix := fmt.Sprintf("t%d-", counter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	names, err := e.Provision(ctx, e.Template, prefix, nil)
	if err != nil {
		t.Fatalf("provision from template.yaml: %v", err)
	}
	db, sq := e.Clients()
	return &Stack{
		Names: names, Env: e, DB: db, SQS: sq, Streams: e.Streams(),
		Table:    names.Refs["Table"],
		Inbox:    names.Refs["InboxQueue"],
		InboxDLQ: names.Refs["InboxDeadLetterQueue"],
		Outbound: names.Refs["OutboundQueue"],
		OutDLQ:   names.Refs["OutboundDeadLetterQueue"],
	}
}

// WaitFor polls cond every interval until it holds, failing the test with
// what it waited for once timeout has passed.
func WaitFor(t testing.TB, timeout, every time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(every)
	}
}

// SeedEnv names the variable that replays a randomized test with a seed.
const SeedEnv = "AFTERCARE_TEST_SEED"

// Seed returns the seed of a randomized test: AFTERCARE_TEST_SEED when set
// (to replay a failure), else a fresh random one. It logs the seed either way,
// so a failing run says how to replay it.
func Seed(t testing.TB) uint64 {
	t.Helper()
	seed := rand.Uint64()
	if v := os.Getenv(SeedEnv); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: not a seed: %v", SeedEnv, v, err)
		}
		seed = n
	}
	t.Logf("random seed %d (replay: %s=%d go test -run '%s')", seed, SeedEnv, seed, t.Name())
	return seed
}
