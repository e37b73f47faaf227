package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/aftercare/aftercare/infra/devstack"
)

// Time scale of a soak: function timeouts a fifth of the template's, the
// delivery backoff base a thirtieth (1 s for 30 s), the delivery timeout 2 s
// for 10 s, and failed batches back after 12 s instead of 180/360 s.
const (
	timeoutScale      = 5
	deliveryTimeout   = 2 * time.Second
	visibilityTimeout = 12
)

// config is one run of the stack.
type config struct {
	Root     string
	BuildDir string
	Now      time.Time
	Faults   *faults
	Outage   string        // "", "dynamodb" or "sink": a window in phase 2
	Window   time.Duration // the outage's length
	Log      io.Writer
	LogLevel string
	Workers  int
	Drain    time.Duration  // longest wait for the queues to drain, per phase
	Redrive  bool           // at the end, redrive what was dead-lettered
	Progress io.Writer      // a line per phase; nil for none
	Receives map[string]int // maxReceiveCount by queue logical id, replacing the template's
}

// outcome is what one run delivered.
type outcome struct {
	Sink       map[string]received
	BadSigs    int
	Rejected   map[string]int // webhooks the API refused for good (by status)
	Retried    int            // webhook posts retried after a 5xx, as Shopify and carriers do
	DeadInbox  int
	DeadOut    []string // message ids in the outbound DLQ
	DeadIn     []string // event ids in the inbox DLQ
	Undrained  []string // phases whose queues did not drain in time
	Checks     []string // lifecycle check results
	Elapsed    time.Duration
	FaultCount map[string]int
	// Redriven is how many dead letters needed a manual redrive at the end
	// (counted before the redrive; DeadInbox and DeadOut are what is left after it).
	Redriven []string
	// ItemFaults are the faults injected on each delivered message's requests.
	ItemFaults map[string][]string
	// Ledger is every message's final decision and its reason, by id: why
	// a message the clean run delivered was not sent.
	Ledger map[string]string
	// Died are the processes a fault killed or timed out.
	Died map[int]bool
	// Counters are the report's counters at the end, "<shop>|<day>" ->
	// counter -> value: the same lives must count the same.
	Counters map[string]map[string]int64
}

func (c config) progress() io.Writer {
	if c.Progress == nil {
		return io.Discard
	}
	return c.Progress
}

// run starts a fresh stack, sends the plan phase by phase, runs the
// lifecycle checks at now, and reports every delivery.
func run(ctx context.Context, c config, p *plan) (*outcome, error) {
	t0 := time.Now()
	tpl, err := scaledTemplate(c.Root, c.Receives)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(filepath.Dir(tpl))
	snk, err := startSink(c.Faults, deliveryTimeout+time.Second)
	if err != nil {
		return nil, err
	}
	defer snk.Close()
	timeouts := map[string]time.Duration{}
	for _, fn := range []string{"WebhookFunction", "EventProcessorFunction", "LifecycleChecksFunction", "DispatchFunction"} {
		timeouts[fn] = 10 * time.Second
	}
	timeouts["EventProcessorFunction"] = 30 * time.Second / timeoutScale
	timeouts["DispatchFunction"] = 60 * time.Second / timeoutScale
	var (
		proxies []*proxy
		perr    error
		pmu     sync.Mutex
	)
	defer func() {
		for _, p := range proxies {
			p.Close()
		}
	}()
	endpoints := func(fn, dyn, sq string) (string, string) {
		pmu.Lock()
		defer pmu.Unlock()
		// Only the queue consumers are killed or timed out: the webhook's
		// caller (the sender) and the checks' (the scheduler) retry anyway.
		slow := fn == "EventProcessorFunction" || fn == "DispatchFunction"
		d, err := startProxy(fn, "dynamodb", dyn, c.Faults, timeouts[fn], slow)
		if err != nil {
			perr = err
			return dyn, sq
		}
		s, err := startProxy(fn, "sqs", sq, c.Faults, timeouts[fn], slow)
		if err != nil {
			perr = err
			return dyn, sq
		}
		proxies = append(proxies, d, s)
		return d.URL, s.URL
	}
	st, err := devstack.Start(ctx, devstack.Options{
		Root: c.Root, Template: tpl, EnvFile: filepath.Join(c.Root, "infra/local/env.json"), BuildDir: c.BuildDir, Prefix: "soak-",
		Env: map[string]string{
			"DELIVERY_URL":                snk.URL,
			"DELIVERY_RETRY_BASE_SECONDS": "1",
			"DELIVERY_TIMEOUT_SECONDS":    strconv.Itoa(int(deliveryTimeout / time.Second)),
			"LOG_LEVEL":                   c.LogLevel,
		},
		NoSchedules: true, VisibilityTimeout: visibilityTimeout, Log: c.Log, FunctionEndpoints: endpoints,
	})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if perr != nil {
		return nil, perr
	}
	c.Faults.pids = st.Pids
	db, sq := (&devstack.Emulators{DynamoEndpoint: st.DynamoEndpoint, SQSEndpoint: st.SQSEndpoint}).Clients()
	out := &outcome{Rejected: map[string]int{}}
	var retried atomic.Int64
	var rmu sync.Mutex
	for i, phase := range p.Phases {
		var outageDone chan struct{}
		if c.Outage != "" && i == 1 {
			outageDone = make(chan struct{})
			flag := map[string]*atomic.Bool{"dynamodb": &c.Faults.dynamoDown, "sqs": &c.Faults.sqsDown, "sink": &c.Faults.sinkDown}[c.Outage]
			flag.Store(true)
			go func() {
				defer close(outageDone)
				select {
				case <-time.After(c.Window):
				case <-ctx.Done():
				}
				flag.Store(false)
			}()
		}
		ts := time.Now()
		send(ctx, st.HTTPURL, phase, c.Workers, func(status int, what string) {
			rmu.Lock()
			out.Rejected[fmt.Sprintf("%d %s", status, what)]++
			rmu.Unlock()
		}, &retried)
		if outageDone != nil {
			<-outageDone
		}
		sent := time.Since(ts)
		if !drain(ctx, sq, st, snk, c.Drain) {
			out.Undrained = append(out.Undrained, fmt.Sprintf("phase %d", i+1))
		}
		fmt.Fprintf(c.progress(), "soak:   phase %d: %d webhooks sent in %s, drained after %s\n", i+1, len(phase), sent.Round(time.Second), time.Since(ts).Round(time.Second))
	}
	// The scheduler's run at now, then the same run again (a retried schedule).
	for range 2 {
		out.Checks = append(out.Checks, checks(ctx, st.InvokeURL, c.Now))
		if !drain(ctx, sq, st, snk, c.Drain) {
			out.Undrained = append(out.Undrained, "checks")
		}
	}
	if c.Redrive {
		// What an operator would do after an outage: move both DLQs back
		// and let them run. The report counts what needed it.
		for _, b := range redrive(ctx, sq, st.Queues["InboxDeadLetterQueue"], st.Queues["InboxQueue"]) {
			out.Redriven = append(out.Redriven, "event "+describe(b))
		}
		for _, b := range redrive(ctx, sq, st.Queues["OutboundDeadLetterQueue"], st.Queues["OutboundQueue"]) {
			out.Redriven = append(out.Redriven, "message "+describe(b))
		}
		if len(out.Redriven) > 0 && !drain(ctx, sq, st, snk, c.Drain) {
			out.Undrained = append(out.Undrained, "redrive")
		}
	}
	out.Ledger = ledgerDecisions(ctx, db, st.Table)
	if out.Counters, err = reportCounters(ctx, st, db, p); err != nil {
		return nil, fmt.Errorf("report counters: %w", err)
	}
	out.Retried = int(retried.Load())
	out.Sink = snk.snapshot()
	out.BadSigs = snk.badSigs
	for _, b := range readAll(ctx, sq, st.Queues["InboxDeadLetterQueue"]) {
		d := describe(b)
		if fs := c.Faults.faultsOn(strings.SplitN(d, " ", 2)[0]); len(fs) > 0 {
			d += fmt.Sprintf("; faults on its dedupe record: %v", fs)
		}
		out.DeadIn = append(out.DeadIn, d)
	}
	out.DeadInbox = len(out.DeadIn)
	for _, b := range readAll(ctx, sq, st.Queues["OutboundDeadLetterQueue"]) {
		out.DeadOut = append(out.DeadOut, describe(b))
	}
	out.FaultCount = c.Faults.snapshot()
	out.Died = c.Faults.dead()
	out.ItemFaults = map[string][]string{}
	for id := range out.Sink {
		if fs := c.Faults.faultsOn(id); len(fs) > 0 {
			out.ItemFaults[id] = fs
		}
	}
	out.Elapsed = time.Since(t0)
	return out, nil
}

// send posts a phase's webhooks with a few workers, in order per worker
// slot; a 5xx or a refused connection is retried with backoff, as Shopify
// and the carriers redeliver.
func send(ctx context.Context, base string, hooks []hook, workers int, reject func(int, string), retried *atomic.Int64) {
	ch := make(chan hook)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := range ch {
				wait := 200 * time.Millisecond
				giveUp := time.Now().Add(10 * time.Minute)
				for {
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+h.Path, bytes.NewReader(h.Body))
					for k, v := range h.Headers {
						req.Header.Set(k, v)
					}
					resp, err := client.Do(req)
					status := 0
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						status = resp.StatusCode
					}
					if status == http.StatusOK {
						break
					}
					if status >= 400 && status < 500 || time.Now().After(giveUp) || ctx.Err() != nil {
						reject(status, h.What)
						break
					}
					retried.Add(1)
					time.Sleep(wait)
					wait = min(2*wait, 5*time.Second)
				}
			}
		}()
	}
	for _, h := range hooks {
		ch <- h
	}
	close(ch)
	wg.Wait()
}

// drain waits until the inbox and outbound queues hold nothing visible or
// in flight and the sink has been quiet for a few seconds. Messages a
// deferral delays (the marketing cap, quiet hours) wait for hours; they are
// not part of a run.
func drain(ctx context.Context, sq *awssqs.Client, st *devstack.Stack, snk *sink, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		busy := depth(ctx, sq, st.Queues["InboxQueue"]) + depth(ctx, sq, st.Queues["OutboundQueue"])
		if busy == 0 && time.Since(snk.quietSince()) > 3*time.Second {
			// Twice, a second apart: a batch being settled is briefly invisible to both counts.
			time.Sleep(time.Second)
			if depth(ctx, sq, st.Queues["InboxQueue"])+depth(ctx, sq, st.Queues["OutboundQueue"]) == 0 {
				return true
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	return false
}

func depth(ctx context.Context, sq *awssqs.Client, url string) int {
	out, err := sq.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible},
	})
	if err != nil {
		return 1
	}
	n := 0
	for _, v := range out.Attributes {
		k, _ := strconv.Atoi(v)
		n += k
	}
	return n
}

// redrive moves every message of a dead-letter queue back to its queue, as
// infra/cmd/redrive does.
func redrive(ctx context.Context, sq *awssqs.Client, from, to string) []string {
	var moved []string
	for range 1000 {
		r, err := sq.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(from), MaxNumberOfMessages: 10, VisibilityTimeout: 60})
		if err != nil || len(r.Messages) == 0 {
			break
		}
		for _, m := range r.Messages {
			if _, err := sq.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(to), MessageBody: m.Body}); err != nil {
				continue
			}
			_, _ = sq.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(from), ReceiptHandle: m.ReceiptHandle})
			moved = append(moved, aws.ToString(m.Body))
		}
	}
	return moved
}

// describe names a queued event or message by id and kind.
func describe(body string) string {
	var m struct {
		ID   string `json:"id"`
		Kind string `json:"kind"`
	}
	_ = json.Unmarshal([]byte(body), &m)
	return m.ID + " (" + m.Kind + ")"
}

// readAll reads every message body of a queue once (a dead-letter queue at the end).
func readAll(ctx context.Context, sq *awssqs.Client, url string) []string {
	var out []string
	for range 1000 {
		r, err := sq.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: 600})
		if err != nil || len(r.Messages) == 0 {
			break
		}
		for _, m := range r.Messages {
			out = append(out, aws.ToString(m.Body))
		}
	}
	return out
}

// checks runs every lifecycle check at now through the Invoke API, as the
// scheduler does (it retries a failed invocation twice).
func checks(ctx context.Context, invokeURL string, now time.Time) string {
	in := fmt.Sprintf(`{"check": "all", "scheduled_time": %q}`, now.Format(time.RFC3339))
	var last string
	for range 3 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, invokeURL+"/2015-03-31/functions/LifecycleChecksFunction/invocations", strings.NewReader(in))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			last = err.Error()
			continue
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = string(raw)
		if resp.StatusCode == 200 && resp.Header.Get("X-Amz-Function-Error") == "" {
			return last
		}
	}
	return "failed: " + last
}

var (
	timeoutLine  = regexp.MustCompile(`^(\s+)Timeout: (\d+)\s*$`)
	receivesLine = regexp.MustCompile(`^(\s+)maxReceiveCount: (\d+)\s*$`)
)

// scaledTemplate writes template.yaml with the queue consumers' timeouts
// divided by timeoutScale, so a held request times a function out in
// seconds, and with the queues' maxReceiveCount replaced where receives
// says (to try a redrive policy before changing the template); everything
// else is the template's.
func scaledTemplate(root string, receives map[string]int) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		return "", err
	}
	var out []string
	resource := ""
	for _, l := range strings.Split(string(b), "\n") {
		if m := regexp.MustCompile(`^  ([A-Za-z0-9]+):\s*$`).FindStringSubmatch(l); m != nil {
			resource = m[1]
		}
		if m := timeoutLine.FindStringSubmatch(l); m != nil && len(m[1]) == 6 && (resource == "EventProcessorFunction" || resource == "DispatchFunction") {
			n, _ := strconv.Atoi(m[2])
			l = m[1] + "Timeout: " + strconv.Itoa(max(n/timeoutScale, 1))
		}
		if m := receivesLine.FindStringSubmatch(l); m != nil && receives[resource] > 0 {
			l = m[1] + "maxReceiveCount: " + strconv.Itoa(receives[resource])
		}
		out = append(out, l)
	}
	dir, err := os.MkdirTemp("", "aftercare-soak-template-")
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "template.yaml")
	return p, os.WriteFile(p, []byte(strings.Join(out, "\n")), 0o644)
}

// ledgerDecisions reads every ledger entry's decision ("stale: <why>").
func ledgerDecisions(ctx context.Context, db *dynamodb.Client, table string) map[string]string {
	out := map[string]string{}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		FilterExpression:          aws.String("begins_with(sk, :m)"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":m": &ddbtypes.AttributeValueMemberS{Value: "MESSAGE#"}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			out["(scan)"] = err.Error()
			return out
		}
		for _, it := range page.Items {
			s := func(k string) string {
				if v, ok := it[k].(*ddbtypes.AttributeValueMemberS); ok {
					return v.Value
				}
				return ""
			}
			out[strings.TrimPrefix(s("sk"), "MESSAGE#")] = strings.TrimSuffix(s("status")+": "+s("why"), ": ")
		}
	}
	return out
}
