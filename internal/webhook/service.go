// Package webhook is the ingest path: bound the body, verify its signature on
// the raw bytes, normalize it into a domain event, and queue it. Nothing heavier
// happens before the answer; a 200 means the event is durably queued.
package webhook

import (
	"context"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/obs"
)

// Source verifies and parses one provider's webhooks. Adding a carrier is one
// small package implementing it, plus its golden events.
type Source interface {
	Name() string
	// Verify checks the signature on the raw body; it must not parse it.
	Verify(body []byte, h http.Header, q url.Values) error
	// Parse turns a verified body into one event; Kind "" means ignored.
	Parse(body []byte, h http.Header, received time.Time) (aftercare.Event, error)
}

// Queue durably accepts one encoded event (one round trip).
type Queue interface {
	Send(ctx context.Context, id string, body []byte) error
}

// DefaultMaxBody is the body cap: Shopify orders with many line items pass 1 MB,
// and the SPEC requires at least 5 MiB.
const DefaultMaxBody = 5 << 20

// maxQueued stays well under the SQS message limit (256 KiB).
const maxQueued = 240 << 10

// Service ingests webhooks.
type Service struct {
	Shopify  Source
	Carriers map[string]Source // by route name: easypost, aftership, shippo
	Queue    Queue
	MaxBody  int64
	Log      *slog.Logger
	Now      func() time.Time
}

// Outcome is what happened to one webhook.
type Outcome struct {
	Status string `json:"status"` // accepted, ignored
	ID     string `json:"id,omitempty"`
	Source string `json:"source"`
	Topic  string `json:"topic,omitempty"`
	Shop   string `json:"shop,omitempty"`
	Kind   string `json:"-"`
	Queued int    `json:"-"` // bytes queued
}

// Source returns the source for a route: "shopify" or a carrier name.
func (s *Service) source(name string) (Source, error) {
	if name == aftercare.SourceShopify && s.Shopify != nil {
		return s.Shopify, nil
	}
	if src, ok := s.Carriers[name]; ok {
		return src, nil
	}
	return nil, aftercare.Errorf(aftercare.ENOTFOUND, "unknown webhook source %q", name)
}

// Handle ingests one webhook body that the caller already bounded by MaxBody.
func (s *Service) Handle(ctx context.Context, source string, body []byte, h http.Header, q url.Values) (Outcome, error) {
	out := Outcome{Source: source}
	src, err := s.source(source)
	if err != nil {
		return out, err
	}
	if err := src.Verify(body, h, q); err != nil {
		return out, asCode(err, aftercare.EUNAUTHORIZED)
	}
	if err := checkContentType(h.Get("Content-Type")); err != nil {
		return out, err
	}
	if len(body) == 0 {
		return out, aftercare.Errorf(aftercare.EINVALID, "empty body")
	}
	ev, err := src.Parse(body, h, s.now())
	out.Topic, out.Shop, out.ID = ev.Topic, ev.Shop, ev.ID
	if err != nil {
		return out, asCode(err, aftercare.EINVALID)
	}
	if ev.Kind == "" {
		out.Status = "ignored"
		obs.Count(ctx, s.Log, "IgnoredWebhooks", 1, map[string]string{"Source": source, "Topic": topicOrNone(ev.Topic)})
		return out, nil
	}
	out.Kind = string(ev.Kind)
	if err := ev.Bound(); err != nil {
		return out, err
	}
	msg, err := encode(&ev)
	if err != nil {
		return out, err
	}
	if err := s.Queue.Send(ctx, ev.ID, msg); err != nil {
		return out, aftercare.Wrap(aftercare.EUNAVAILABLE, err, "could not queue the event; retry")
	}
	out.Status, out.Queued = "accepted", len(msg)
	return out, nil
}

// encode marshals the event, shedding line item titles if a giant order would
// not fit on the queue; it never drops what the state engine needs.
func encode(ev *aftercare.Event) ([]byte, error) {
	msg, err := json.Marshal(ev)
	if err != nil {
		return nil, aftercare.Wrap(aftercare.EINTERNAL, err, "encode event")
	}
	if len(msg) <= maxQueued || ev.Order == nil {
		return msg, nil
	}
	o := *ev.Order
	o.LineItems = append([]aftercare.LineItem(nil), o.LineItems...)
	for i := range o.LineItems {
		o.LineItems[i].Title = ""
	}
	slim := *ev
	slim.Order = &o
	if msg, err = json.Marshal(&slim); err != nil {
		return nil, aftercare.Wrap(aftercare.EINTERNAL, err, "encode event")
	}
	if len(msg) > maxQueued {
		return nil, aftercare.Errorf(aftercare.ETOOLARGE, "the normalized event is %d bytes, over the queue limit", len(msg))
	}
	return msg, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// checkContentType accepts JSON (and a missing header, which some senders
// omit); anything else is a clear 400.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))) {
		return nil
	}
	return aftercare.Errorf(aftercare.EINVALID, "content type must be application/json, got %q", ct)
}

// asCode keeps a domain error's code and gives any other error the default one,
// so a source can never turn bad input into a 5xx.
func asCode(err error, code string) error {
	if c := aftercare.ErrorCode(err); c == code {
		return err
	}
	return aftercare.Wrap(code, err, "%s", aftercare.ErrorMessage(err))
}

func topicOrNone(t string) string {
	if t == "" {
		return "none"
	}
	return t
}
