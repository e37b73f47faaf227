// Package delivery owns the last mile: the rendered Message every provider
// takes, the Router that picks a provider per channel and shop, and the two
// providers without a cloud SDK: the signed webhook POST (SPEC 6) and the log.
// The SES and SNS providers live in their own packages (ses, sns).
package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
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

// New returns a sender with a per-request timeout that never follows a
// redirect: a signed body must reach the configured URL or fail, not be
// replayed to wherever an answer points.
func New(url string, secret []byte, timeout time.Duration) *HTTP {
	return &HTTP{URL: url, Secret: secret, Client: &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// CheckURL accepts https, or http to a loopback host (local sinks): message
// bodies carry contact data and must not cross a network in clear.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("DELIVERY_URL=%q is not a URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("DELIVERY_URL=%q must be https (http only to a loopback address)", raw)
	}
	return fmt.Errorf("DELIVERY_URL=%q must be https", raw)
}

// Sign is the X-Aftercare-Signature value for a body.
func Sign(secret, body []byte) string { return "sha256=" + signature.Hex(secret, body) }

// ErrUnknownOutcome marks a failed attempt that may have reached the
// receiver all the same: a timeout or a connection lost after the request
// left. Dispatch retries it for transactional messages (receivers dedupe on
// the id) and not for marketing, which goes at most once.
var ErrUnknownOutcome = errors.New("outcome unknown")

// Transport classifies the error of sending a request: unknown outcome,
// unless it shows the request never left (no connection could be made, the
// host does not resolve) or the receiver answered (an API error, which has
// an error code).
func Transport(err error) error {
	var dns *net.DNSError
	var op *net.OpError
	var api interface{ ErrorCode() string }
	if err == nil || errors.As(err, &dns) || (errors.As(err, &op) && op.Op == "dial") || errors.As(err, &api) {
		return err
	}
	return fmt.Errorf("%w (%w)", err, ErrUnknownOutcome)
}

// Deliver posts the message's SPEC 6 JSON.
func (h *HTTP) Deliver(ctx context.Context, m *Message) error {
	if len(m.JSON) == 0 {
		return errors.New("delivery: message has no JSON body")
	}
	return h.Send(ctx, m.ID, m.JSON)
}

// Send posts one message; a non-2xx answer (a redirect included) or a timeout
// is an error.
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
		return Transport(fmt.Errorf("post to delivery url: %w", err))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The receiver's answer may echo the message; only its gist is kept.
		return fmt.Errorf("delivery url answered %d: %s", resp.StatusCode, Scrub(string(bytes.TrimSpace(snippet))))
	}
	return nil
}

// Log writes what would have been sent to the log instead of sending it: ids,
// kind, channel and sizes only, never a body or a contact.
type Log struct{ Log *slog.Logger }

// Deliver logs the message's outline.
func (l Log) Deliver(ctx context.Context, m *Message) error {
	l.Log.InfoContext(ctx, "message not sent: log provider", slog.String("message_id", m.ID), slog.String("shop", m.Shop),
		slog.String("order_id", m.OrderID), slog.String("kind", string(m.Kind)), slog.String("channel", string(m.Channel)),
		slog.String("audience", string(m.Audience)), slog.Int("text_bytes", len(m.Text)), slog.Int("html_bytes", len(m.HTML)),
		slog.Int("json_bytes", len(m.JSON)), slog.Bool("unsubscribe_link", m.UnsubscribeURL != ""))
	return nil
}

// Send logs a JSON-only message by id and size.
func (l Log) Send(ctx context.Context, id string, body []byte) error {
	l.Log.InfoContext(ctx, "message not sent: log provider", slog.String("message_id", id), slog.Int("json_bytes", len(body)))
	return nil
}
