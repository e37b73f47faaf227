package devstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/testenv/tier"
)

// The whole local stack, as `make dev` runs it: the real functions built and
// run against the emulators. A signed sample Shopify webhook goes in over HTTP
// and comes out as state in the table, through the inbox queue and the
// processor's poller.
func TestStackEndToEnd(t *testing.T) {
	tier.NeedEmulators(t)
	root, err := devstack.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	log := &logBuf{}
	pidFile := filepath.Join(t.TempDir(), "devstack.pids")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	s, err := devstack.Start(ctx, devstack.Options{
		Root: root, BuildDir: t.TempDir(), Prefix: fmt.Sprintf("e2e%d-", time.Now().UnixNano()%1e6),
		Log: log, NoSchedules: true, VisibilityTimeout: 2, PidFile: pidFile,
	})
	if err != nil {
		t.Fatalf("Start: %v\n%s", err, log.String())
	}
	closed := false
	defer func() {
		if !closed {
			s.Close()
		}
		if t.Failed() {
			t.Logf("stack log:\n%s", log.String())
		}
	}()
	t.Logf("ready in %s (build %s, emulators %s)", time.Since(start).Round(time.Millisecond), s.BuildTime.Round(time.Millisecond), s.EmulatorTime.Round(time.Millisecond))
	if len(s.Functions) != 6 || s.Table == "" || s.Queues["InboxQueue"] == "" || len(s.Sources) != 2 || len(s.Schedules) != 1 {
		t.Errorf("stack = functions %v table %q queues %v sources %d schedules %d", s.Functions, s.Table, s.Queues, len(s.Sources), len(s.Schedules))
	}

	resp, err := http.Get(s.HTTPURL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	req, _ := http.NewRequest("POST", s.InvokeURL+"/2015-03-31/functions/LifecycleChecksFunction/invocations",
		strings.NewReader(`{"check":"all","scheduled_time":"2015-11-23T10:00:00Z"}`))
	resp, body := do(t, req)
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" {
		t.Errorf("invoke LifecycleChecksFunction: %d %v %s", resp.StatusCode, resp.Header, body)
	}

	// A webhook without a valid signature is refused by the function itself.
	resp, body = do(t, mustRequest(t, "POST", s.HTTPURL+"/webhooks/shopify", `{}`, map[string]string{"Content-Type": "application/json"}))
	if resp.StatusCode != 401 {
		t.Errorf("unsigned webhook: %d %s", resp.StatusCode, body)
	}

	// The sample is signed with env.json's secret.
	raw, err := os.ReadFile(filepath.Join(root, "events/api/shopify-orders-create.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sample struct {
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	}
	if err := json.Unmarshal(raw, &sample); err != nil {
		t.Fatal(err)
	}
	delete(sample.Headers, "host")
	resp, body = do(t, mustRequest(t, "POST", s.HTTPURL+"/webhooks/shopify", sample.Body, sample.Headers))
	if resp.StatusCode/100 != 2 {
		t.Fatalf("signed sample webhook: %d %s", resp.StatusCode, body)
	}
	// It verified because the secret reached the function through the
	// local SSM, as in AWS: seeded from env.json under the parameter the
	// template names, and not passed in the function's environment.
	emu := &devstack.Emulators{DynamoEndpoint: s.DynamoEndpoint, SQSEndpoint: s.SQSEndpoint}
	param, err := emu.SSM().GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/aftercare/shopify-webhook-secret"), WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(param.Parameter.Value) != "local-shopify-secret" || param.Parameter.Type != ssmtypes.ParameterTypeSecureString {
		t.Errorf("the Shopify secret in the local SSM: %+v %v", param, err)
	}
	if !strings.Contains(log.String(), "secrets seeded into the local SSM") {
		t.Error("the stack did not say it seeded the secrets")
	}
	db, _ := emu.Clients()
	waitFor(t, 30*time.Second, "the processor to write the order to the table", func() bool {
		out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(s.Table), Limit: aws.Int32(1)})
		return err == nil && out.Count > 0
	})
	// The item is written before the invocation ends and its output is flushed.
	waitFor(t, 10*time.Second, "EventProcessorFunction's REPORT", func() bool {
		return strings.Contains(log.String(), `{"function":"EventProcessorFunction","message":"REPORT RequestId: `)
	})

	pids := s.Pids()
	s.Close()
	closed = true
	// Close stops each bootstrap with SIGTERM first. No function registers
	// a shutdown hook today, so none registers the SIGTERM extension
	// (app.Start) and each simply ends on the signal.
	for _, pid := range pids {
		if err := processGone(pid); err != nil {
			t.Errorf("after Close: %v", err)
		}
	}
	for _, u := range []string{s.HTTPURL, s.InvokeURL, s.DynamoEndpoint, s.SQSEndpoint} {
		l, err := net.Listen("tcp", strings.TrimPrefix(u, "http://"))
		if err != nil {
			t.Errorf("after Close, %s is still taken: %v", u, err)
			continue
		}
		l.Close()
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Error("the pid file outlived Close")
	}
}

func mustRequest(t *testing.T, method, url, body string, headers map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req
}
