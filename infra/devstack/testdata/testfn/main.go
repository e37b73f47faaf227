// Command testfn is a bootstrap for devstack's tests. What it does depends on
// the event: an SQS batch, an HTTP API request, or {"action": ...}.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type command struct {
	Action  string `json:"action"`
	Message string `json:"message"`
	Ms      int    `json:"ms"`
	Path    string `json:"path"`
}

func main() {
	if msg := os.Getenv("TESTFN_INIT_ERROR"); msg != "" {
		body := fmt.Sprintf(`{"errorMessage":%q,"errorType":"Config.Invalid"}`, msg)
		req, _ := http.NewRequest(http.MethodPost, "http://"+os.Getenv("AWS_LAMBDA_RUNTIME_API")+"/2018-06-01/runtime/init/error", strings.NewReader(body))
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "Config.Invalid")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		os.Exit(1)
	}
	if d, err := time.ParseDuration(os.Getenv("TESTFN_INIT_SLEEP")); err == nil {
		time.Sleep(d)
	}
	lambda.Start(handle)
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe map[string]json.RawMessage
	_ = json.Unmarshal(raw, &probe)
	switch {
	case probe["Records"] != nil:
		return sqsBatch(raw)
	case probe["routeKey"] != nil:
		return httpRequest(raw)
	}
	var c command
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	switch c.Action {
	case "echo":
		fmt.Println(`{"level":"INFO","msg":"echo","n":1}`)
		fmt.Println("plain text line")
		wd, _ := os.Getwd()
		return map[string]any{
			"payload": raw, "request_id": lc.AwsRequestID, "arn": lc.InvokedFunctionArn,
			"deadline_in_ms": time.Until(deadline).Milliseconds(), "cwd": wd, "pid": os.Getpid(),
		}, nil
	case "error":
		return nil, errors.New(c.Message)
	case "sleep":
		time.Sleep(time.Duration(c.Ms) * time.Millisecond)
		return map[string]any{"slept_ms": c.Ms, "pid": os.Getpid()}, nil
	case "exit":
		os.Exit(3)
	case "panic":
		panic(c.Message)
	case "env":
		return os.Environ(), nil
	case "touch":
		return nil, os.WriteFile(c.Path, raw, 0o644)
	case "big":
		return strings.Repeat("x", c.Ms), nil
	}
	return nil, fmt.Errorf("unknown action %q", c.Action)
}

// sqsBatch fails the messages whose body contains "fail", fails the whole
// invocation on "boom", and names a message that is not in the batch on "badid".
func sqsBatch(raw json.RawMessage) (any, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	var resp events.SQSEventResponse
	resp.BatchItemFailures = []events.SQSBatchItemFailure{}
	for _, r := range ev.Records {
		switch {
		case strings.Contains(r.Body, "boom"):
			return nil, errors.New("boom")
		case strings.Contains(r.Body, "badid"):
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: "not-in-the-batch"})
		case strings.Contains(r.Body, "fail"):
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, nil
}

// httpRequest echoes the API Gateway event back; some paths misbehave on purpose.
func httpRequest(raw json.RawMessage) (any, error) {
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	switch {
	case strings.HasSuffix(req.RawPath, "/error"):
		return nil, errors.New("handler failed")
	case strings.HasSuffix(req.RawPath, "/sleep"):
		time.Sleep(5 * time.Second)
	case strings.HasSuffix(req.RawPath, "/binary"):
		return events.APIGatewayV2HTTPResponse{StatusCode: 201, Headers: map[string]string{"Content-Type": "application/octet-stream"}, Body: base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 255}), IsBase64Encoded: true}, nil
	case strings.HasSuffix(req.RawPath, "/plain"):
		return map[string]string{"hello": "world"}, nil
	case strings.HasSuffix(req.RawPath, "/bad"):
		return map[string]any{"statusCode": 42}, nil
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode:        200,
		Headers:           map[string]string{"Content-Type": "application/json", "X-Route": req.RouteKey},
		MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}},
		Cookies:           []string{"a=1; Path=/", "b=2"},
		Body:              string(raw),
	}, nil
}
