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
		resp, err := adapter.ProxyWithContext(ctx, req)
		if err != nil {
			// Only a bug gets here: the request was already checked.
			log.Error("proxy failed", slog.String("path", req.RawPath), slog.String("error", err.Error()))
			return jsonError(http.StatusInternalServerError, "internal", "internal error"), nil
		}
		return resp, nil
	}
}

func jsonError(status int, code, msg string) events.APIGatewayV2HTTPResponse {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b) + "\n",
	}
}
