// Package apigw runs a net/http handler behind API Gateway's HTTP API (payload
// format 2.0) through aws-lambda-go-api-proxy, adding what the proxy lacks for
// untrusted input: a body that claims to be base64 but is not gets a 400, not
// the proxy's 504.
package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// Handler is the Lambda handler for an HTTP API route set.
type Handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// New adapts h.
func New(h http.Handler, log *slog.Logger) Handler {
	adapter := httpadapter.NewV2(h)
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if req.IsBase64Encoded {
			if _, err := base64.StdEncoding.DecodeString(req.Body); err != nil {
				log.Warn("webhook", slog.String("path", req.RawPath), slog.Int("status", http.StatusBadRequest),
					slog.String("outcome", "rejected"), slog.String("error", "body is not valid base64"))
				return jsonError(http.StatusBadRequest, "invalid", "the body is marked base64 but is not valid base64"), nil
			}
		}
		if msg := malformed(req); msg != "" {
			log.Warn("webhook", slog.String("path", req.RawPath), slog.Int("status", http.StatusBadRequest),
				slog.String("outcome", "rejected"), slog.String("error", msg))
			return jsonError(http.StatusBadRequest, "invalid", msg), nil
		}
		resp, err := adapter.ProxyWithContext(ctx, req)
		if err != nil {
			// The adapter fails only when it cannot build the request: the
			// request is at fault, and the sender gets a 400, not a 5xx.
			log.Warn("webhook", slog.String("path", req.RawPath), slog.Int("status", http.StatusBadRequest),
				slog.String("outcome", "rejected"), slog.String("error", err.Error()))
			return jsonError(http.StatusBadRequest, "invalid", "malformed request"), nil
		}
		return resp, nil
	}
}

// malformed names what would stop the adapter from building an http.Request
// (it would print to stdout and answer 504): no method, or a method or path
// net/http refuses. API Gateway never sends these; a direct invoke may.
func malformed(req events.APIGatewayV2HTTPRequest) string {
	if req.RequestContext.HTTP.Method == "" {
		return "the request has no method"
	}
	path := req.RawPath
	if path == "" {
		path = req.RequestContext.HTTP.Path
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if req.RawQueryString != "" {
		path += "?" + req.RawQueryString
	}
	// The adapter's own check, with nothing to read.
	if _, err := http.NewRequest(strings.ToUpper(req.RequestContext.HTTP.Method), "https://localhost"+path, nil); err != nil {
		return "the request method or path is malformed"
	}
	return ""
}

func jsonError(status int, code, msg string) events.APIGatewayV2HTTPResponse {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b) + "\n",
	}
}
