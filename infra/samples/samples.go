// Package samples generates the sample invocation events in events/ (API
// Gateway requests signed with infra/local/env.json's secrets, SQS batches
// holding what the functions really queue, scheduler inputs) from the golden
// webhooks, so `sam local invoke -e` and the local Invoke API get inputs that
// match the code. A test fails when a committed sample drifts.
package samples

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/lifecycle"
	"github.com/aftercare/aftercare/internal/shopify"
	"github.com/aftercare/aftercare/internal/sources"
)

// At is the fixed moment the samples pretend to be sent, so they are stable.
var At = time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)

// Shop is the sample shop.
const Shop = "aftercare-demo.myshopify.com"

// Generate returns every sample file, keyed by its path under root.
func Generate(root string) (map[string][]byte, error) {
	secrets, err := localSecrets(filepath.Join(root, "infra/local/env.json"))
	if err != nil {
		return nil, err
	}
	read := func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(root, p)) }
	order, err := read("events/webhooks/shopify/orders__create.json")
	if err != nil {
		return nil, err
	}
	fulfillment, err := read("events/webhooks/shopify/fulfillments__create.json")
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	put := func(path string, v any) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		out[path] = append(b, '\n')
		return nil
	}

	// WebhookFunction: API Gateway HTTP API (payload 2.0) requests, one per
	// source of the registry, signed as its sender signs.
	for _, src := range sources.All {
		body, err := read(src.Goldens() + "/" + src.Sample)
		if err != nil {
			return nil, err
		}
		hdr, q := src.Sign(secrets[src.Secret], body)
		h := map[string]string{"content-type": "application/json"}
		for k := range hdr {
			h[strings.ToLower(k)] = hdr.Get(k)
		}
		route, params := "POST "+src.Path, map[string]string(nil)
		if src.Carrier() {
			route, params = "POST "+sources.CarrierRoute, map[string]string{"carrier": src.Name}
		} else {
			for k, v := range map[string]string{
				"x-shopify-topic":        "orders/create",
				"x-shopify-shop-domain":  Shop,
				"x-shopify-event-id":     "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
				"x-shopify-webhook-id":   "4cbb7d47-3d8a-4d3c-9c1f-4b2a2b51f0a1",
				"x-shopify-api-version":  "2026-10",
				"x-shopify-triggered-at": "2026-11-02T14:15:41.123Z",
			} {
				h[k] = v
			}
		}
		req := apiRequest("POST", src.Path, route, params, h, string(body))
		if len(q) > 0 {
			req.RawQueryString = q.Encode()
			req.QueryStringParameters = map[string]string{}
			for k := range q {
				req.QueryStringParameters[k] = q.Get(k)
			}
		}
		if err := put(APISample(src), req); err != nil {
			return nil, err
		}
	}
	if err := put("events/api/healthz.json", apiRequest("GET", "/healthz", "GET /healthz", nil, map[string]string{}, "")); err != nil {
		return nil, err
	}

	// EventProcessorFunction: an inbox batch of what WebhookFunction queues.
	var inbox []events.SQSMessage
	for i, in := range []struct {
		topic string
		body  []byte
	}{{"orders/create", order}, {"fulfillments/create", fulfillment}} {
		h := http.Header{}
		h.Set(shopify.HeaderTopic, in.topic)
		h.Set(shopify.HeaderShop, Shop)
		h.Set(shopify.HeaderEventID, fmt.Sprintf("sample-event-%d", i+1))
		ev, err := shopify.Source{}.Parse(in.body, h, At)
		if err != nil {
			return nil, fmt.Errorf("sample %s: %w", in.topic, err)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		inbox = append(inbox, sqsMessage("aftercare-inbox", i, ev.ID, string(b)))
	}
	if err := put("events/sqs/inbox-batch.json", events.SQSEvent{Records: inbox}); err != nil {
		return nil, err
	}

	// DispatchFunction: an outbound batch of what the rules queue.
	msg := aftercare.Message{Kind: aftercare.KindOrderShipped, Shop: Shop, CustomerID: "7301234567890", OrderID: "5801234567890",
		Shipment: "9400110898825022579493", Carrier: "USPS", Tracking: "9400110898825022579493", What: "Your parcel is on its way"}
	msg.Stamp(At, "9400110898825022579493")
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	if err := put("events/sqs/outbound-batch.json", events.SQSEvent{Records: []events.SQSMessage{sqsMessage("aftercare-outbound", 0, msg.ID, string(b))}}); err != nil {
		return nil, err
	}

	// LifecycleChecksFunction: the scheduler's input, one per check.
	for _, name := range append([]string{lifecycle.CheckAll}, lifecycle.Names...) {
		if err := put("events/schedule/"+name+".json", lifecycle.Input{Check: name, ScheduledTime: At.Format(time.RFC3339)}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// APISample is the path of a source's API Gateway sample request.
func APISample(src sources.Source) string {
	base := strings.TrimSuffix(src.Sample, ".json")
	return "events/api/" + src.Name + "-" + strings.ReplaceAll(strings.ReplaceAll(base, "__", "-"), "_", "-") + ".json"
}

// localSecrets reads the WebhookFunction section of env.json.
func localSecrets(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return env["WebhookFunction"], nil
}

func apiRequest(method, path, route string, params, headers map[string]string, body string) events.APIGatewayV2HTTPRequest {
	headers["host"] = "abcdef1234.execute-api.us-east-1.amazonaws.com"
	headers["user-agent"] = "Shopify-Captain-Hook"
	headers["x-forwarded-proto"] = "https"
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: route, RawPath: path, Headers: headers, PathParameters: params, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID: "123456789012", APIID: "abcdef1234", DomainName: headers["host"], DomainPrefix: "abcdef1234",
			RequestID: "sample-request-" + strings.ReplaceAll(strings.Trim(path, "/"), "/", "-"), RouteKey: route, Stage: "$default",
			Time: At.Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: At.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.10", UserAgent: headers["user-agent"]},
		},
	}
}

func sqsMessage(queue string, i int, id, body string) events.SQSMessage {
	return events.SQSMessage{
		MessageId: fmt.Sprintf("0e5b3c4a-1f2d-4e6b-9a8c-%012d", i+1), ReceiptHandle: fmt.Sprintf("sample-receipt-%s-%d", queue, i+1), Body: body,
		Attributes: map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": fmt.Sprint(At.UnixMilli()),
			"SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": fmt.Sprint(At.UnixMilli() + 20)},
		MessageAttributes: map[string]events.SQSMessageAttribute{"id": {StringValue: &id, DataType: "String"}},
		EventSource:       "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:" + queue, AWSRegion: "us-east-1",
	}
}
