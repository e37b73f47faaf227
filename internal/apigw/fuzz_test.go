package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/shopify"
	"github.com/aftercare/aftercare/internal/signature"
	"github.com/aftercare/aftercare/internal/webhook"
)

type nopQueue struct{}

func (nopQueue) Send(context.Context, string, []byte) error { return nil }

// FuzzProxy drives the real ingest routes through the API Gateway adapter
// with arbitrary requests: whatever API Gateway hands over, the answer is a
// 2xx, 3xx or 4xx, never a 5xx or a panic, and every 4xx is a JSON error.
func FuzzProxy(f *testing.F) {
	body := []byte(`{"id":1,"name":"#1"}`)
	f.Add("POST", "/webhooks/shopify", "orders/create", signature.Base64([]byte("s"), body), body, false)
	f.Add("POST", "/webhooks/shopify", "orders/create", signature.Base64([]byte("s"), body), []byte(base64.StdEncoding.EncodeToString(body)), true)
	f.Add("POST", "/webhooks/carriers/nope", "", "", body, false)
	f.Add("GET", "/healthz", "", "", []byte{}, false)
	f.Add("PUT", "/%zz/../x?y", "x", "x", []byte("%%%"), true)
	svc := &webhook.Service{Shopify: shopify.Source{Secret: "s"}, Queue: nopQueue{}, Log: obs.NewLogger(io.Discard, "ERROR")}
	h := New(svc.Routes(), obs.NewLogger(io.Discard, "ERROR"))
	f.Fuzz(func(t *testing.T, method, path, topic, sig string, body []byte, b64 bool) {
		r := events.APIGatewayV2HTTPRequest{
			RawPath: path, Body: string(body), IsBase64Encoded: b64,
			Headers: map[string]string{"content-type": "application/json", "x-shopify-topic": topic, "x-shopify-hmac-sha256": sig,
				"x-shopify-shop-domain": "a.myshopify.com"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path}},
		}
		resp, err := h(context.Background(), r)
		if err != nil {
			t.Fatalf("handler error: %v", err)
		}
		if resp.StatusCode >= 500 || resp.StatusCode < 200 {
			t.Fatalf("%s %q: status %d: %s", method, path, resp.StatusCode, resp.Body)
		}
		// Errors explain themselves in JSON (a 3xx is net/http's path cleaning).
		if resp.StatusCode >= 400 && !json.Valid([]byte(resp.Body)) {
			t.Fatalf("%s %q: body is not JSON: %q", method, path, resp.Body)
		}
	})
}
