// Command soak replays realistic order lives as signed webhooks through the
// local stack twice, once clean and once with faults injected between the
// functions and the emulators (DynamoDB throttling and 500s, SQS send
// failures, bootstraps killed mid-batch, function timeouts, a sink answering
// 5xx or hanging), and compares the messages delivered (SPEC section 16).
//
//	go run ./infra/soak -n 1000
//
// Its last line: soak: <N> webhooks, <E> messages expected, lost <L>, duplicated <D>.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aftercare/aftercare/infra/devstack"
)

func main() {
	n := flag.Int("n", 1000, "webhooks to send (duplicates included)")
	seed := flag.Uint64("seed", 1, "seed of the order lives and of the faults")
	outage := flag.String("outage", "", `instead of random faults: "dynamodb", "sqs" (the functions' calls) or "sink" is down for -window from the start of the second phase; dead letters are redriven at the end and counted`)
	window := flag.Duration("window", 60*time.Second, "length of the -outage window")
	verbose := flag.Bool("v", false, "the stack's and functions' log lines on stderr")
	inboxReceives := flag.Int("inbox-receives", 0, "try this maxReceiveCount for InboxQueue instead of the template's")
	outboundReceives := flag.Int("outbound-receives", 0, "try this maxReceiveCount for OutboundQueue instead of the template's")
	cleanOnly := flag.Bool("clean-only", false, "only the clean run (to look at what a plan delivers)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	var logw io.Writer = io.Discard
	if *verbose {
		logw = os.Stderr
	}
	rep, err := soak(ctx, options{N: *n, Seed: *seed, Outage: *outage, Window: *window, Log: logw, CleanOnly: *cleanOnly,
		Receives: map[string]int{"InboxQueue": *inboxReceives, "OutboundQueue": *outboundReceives}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	rep.print(os.Stdout)
	if !rep.ok() {
		os.Exit(1)
	}
}

type options struct {
	N      int
	Seed   uint64
	Outage string
	Window time.Duration
	Log    io.Writer
	Root   string
	// CleanOnly skips the faulty run; the report compares the clean run with itself.
	CleanOnly bool
	Receives  map[string]int // maxReceiveCount by queue, replacing the template's
}

// rates sizes each fault kind so that about target of it are injected in a
// run of n webhooks (at least 60 at 10,000), from how many requests of each
// kind a webhook causes.
func rates(n int) (map[string]float64, map[string]int) {
	target := max(6, n*60/10000)
	perWebhook := map[string]float64{ // eligible requests per webhook, measured roughly
		FaultThrottle: 4, Fault500: 4, FaultSQSSend: 1.5, FaultPartial: 0.15,
		FaultKill: 3.5, FaultTimeout: 3.5, FaultSink5xx: 0.5, FaultSinkHang: 0.5,
	}
	r, m := map[string]float64{}, map[string]int{}
	for k, per := range perWebhook {
		r[k] = min(0.5, 2*float64(target)/(float64(n)*per))
		m[k] = 2 * target
	}
	// A partial batch is rare (few batches), so it fires on most of them.
	r[FaultPartial] = min(0.5, r[FaultPartial])
	return r, m
}

func soak(ctx context.Context, o options) (*report, error) {
	t0 := time.Now()
	if o.Root == "" {
		root, err := devstack.ProjectRoot()
		if err != nil {
			return nil, err
		}
		o.Root = root
	}
	g, err := loadGoldens(o.Root)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second) // the functions read the real clock, so the lives derive from it
	p := newPlan(g, o.Seed, o.N, now)
	// Its own build folder: `make dev`, the e2e tests or another soak may
	// be running the binaries of a shared one.
	build, err := os.MkdirTemp("", "aftercare-soak-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(build)
	base := config{Root: o.Root, BuildDir: build, Now: now, Log: o.Log, LogLevel: "WARN", Workers: 4, Drain: 10 * time.Minute, Progress: os.Stderr, Receives: o.Receives}
	if o.Log != io.Discard && o.Log != nil {
		base.LogLevel = "INFO"
	}
	clean := base
	clean.Faults = newFaults(o.Seed, nil, nil)
	fmt.Fprintf(os.Stderr, "soak: %d webhooks in %d order lives (%d duplicates, %d out of order); clean run\n", p.Count(), p.Lives, p.Dups, p.Moved)
	c, err := run(ctx, clean, p)
	if err != nil {
		return nil, fmt.Errorf("clean run: %w", err)
	}
	if o.CleanOnly {
		return compare(p.Count(), c, c, o, time.Since(t0)), nil
	}
	faulty := base
	if o.Outage != "" {
		faulty.Faults = newFaults(o.Seed, nil, nil)
		faulty.Outage, faulty.Window, faulty.Redrive = o.Outage, o.Window, true
	} else {
		r, m := rates(o.N)
		faulty.Faults = newFaults(o.Seed, r, m)
	}
	fmt.Fprintf(os.Stderr, "soak: clean run took %s; faulty run\n", c.Elapsed.Round(time.Second))
	f, err := run(ctx, faulty, p)
	if err != nil {
		return nil, fmt.Errorf("faulty run: %w", err)
	}
	return compare(p.Count(), c, f, o, time.Since(t0)), nil
}
