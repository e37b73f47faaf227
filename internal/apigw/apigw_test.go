package apigw

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aftercare/aftercare/internal/obs"
)

func echo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Path", r.URL.Path)
		w.Write(b)
	})
}

func req(body string, b64 bool) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		RawPath: "/webhooks/shopify", Body: body, IsBase64Encoded: b64,
		Headers:        map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/webhooks/shopify"}},
	}
}

// API Gateway may hand the body base64-encoded: the handler sees the raw
// bytes (what the signature covers).
func TestBase64BodyIsDecoded(t *testing.T) {
	h := New(echo(), obs.NewLogger(io.Discard, "ERROR"))
	raw := `{"id": 1, "note": "ünïcode"}`
	resp, err := h(context.Background(), req(base64.StdEncoding.EncodeToString([]byte(raw)), true))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %+v", err, resp)
	}
	got := resp.Body
	if resp.IsBase64Encoded {
		b, _ := base64.StdEncoding.DecodeString(resp.Body)
		got = string(b)
	}
	if got != raw {
		t.Fatalf("handler saw %q", got)
	}
}

// A body marked base64 that is not is bad input: a 400, not the proxy's 504.
func TestBadBase64Is400(t *testing.T) {
	h := New(echo(), obs.NewLogger(io.Discard, "ERROR"))
	resp, err := h(context.Background(), req("%%% not base64 %%%", true))
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("%v %+v", err, resp)
	}
}
