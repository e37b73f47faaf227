// Package delivery is the HTTP adapter that hands rendered messages to the
// merchant's delivery endpoint: a signed POST, where any 2xx means delivered.
package delivery

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/aftercare/aftercare/internal/signature"
)

// Headers of every delivery.
const (
	HeaderID        = "X-Aftercare-Message-Id"
	HeaderSignature = "X-Aftercare-Signature"
)

// HTTP posts messages to URL, signed with Secret.
type HTTP struct {
	URL    string
	Secret []byte
	Client *http.Client
}

// New returns a sender with a per-request timeout.
func New(url string, secret []byte, timeout time.Duration) *HTTP {
	return &HTTP{URL: url, Secret: secret, Client: &http.Client{Timeout: timeout}}
}

// Sign is the X-Aftercare-Signature value for a body.
func Sign(secret, body []byte) string { return "sha256=" + signature.Hex(secret, body) }

// Send posts one message; a non-2xx answer or a timeout is an error.
func (h *HTTP) Send(ctx context.Context, id string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "aftercare-dispatch/1")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderSignature, Sign(h.Secret, body))
	resp, err := h.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post to delivery url: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("delivery url answered %d: %s", resp.StatusCode, bytes.TrimSpace(snippet))
	}
	return nil
}

// Log writes messages to the log instead of sending them: the behaviour
// without DELIVERY_URL.
type Log struct{ Log *slog.Logger }

// Send logs the message body.
func (l Log) Send(ctx context.Context, id string, body []byte) error {
	l.Log.InfoContext(ctx, "message not sent: DELIVERY_URL is not set", slog.String("message_id", id), slog.String("body", string(body)))
	return nil
}
