package shopify

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// EventBridgeDetailType is the detail-type of every Shopify webhook that
// arrives through Amazon EventBridge.
const EventBridgeDetailType = "shopifyWebhook"

// envelope is an EventBridge event as an SQS target receives it: Shopify's
// headers in detail.metadata, the webhook body in detail.payload.
type envelope struct {
	DetailType string `json:"detail-type"`
	Source     string `json:"source"`
	Time       string `json:"time"`
	Detail     *struct {
		Metadata map[string]json.RawMessage `json:"metadata"`
		Payload  json.RawMessage            `json:"payload"`
	} `json:"detail"`
}

// IsEventBridge reports whether an inbox message body is a Shopify
// EventBridge envelope rather than an aftercare event. It only looks at the
// top-level keys, so it is cheap enough to call on every message.
func IsEventBridge(body []byte) bool {
	if !bytes.Contains(body, []byte(`"detail-type"`)) {
		return false
	}
	var head struct {
		DetailType string          `json:"detail-type"`
		Detail     json.RawMessage `json:"detail"`
	}
	return json.Unmarshal(body, &head) == nil && head.DetailType == EventBridgeDetailType && len(head.Detail) > 0
}

// ParseEventBridge turns an EventBridge envelope into the event the webhook
// path gives for the same delivery: topic and shop from detail.metadata,
// dedupe id from its X-Shopify-Event-Id, body from detail.payload, parsed by
// the same topic parsers. There is no HMAC on this path: AWS authenticates
// the partner event source, and only Shopify's source can put on its bus.
// An event of a topic aftercare does not handle returns an Event with no
// Kind (ignored), as on the webhook path.
func ParseEventBridge(body []byte, received time.Time) (aftercare.Event, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return aftercare.Event{Source: aftercare.SourceShopify}, aftercare.Wrap(aftercare.EINVALID, err, "EventBridge envelope is not JSON: %s", clip(err.Error()))
	}
	if env.DetailType != EventBridgeDetailType || env.Detail == nil {
		return aftercare.Event{Source: aftercare.SourceShopify}, aftercare.Errorf(aftercare.EINVALID, "not a Shopify EventBridge event (detail-type %q)", clip(env.DetailType))
	}
	h := http.Header{}
	for k, raw := range env.Detail.Metadata {
		// Shopify sends header values as strings; ids sometimes as numbers.
		var v string
		if json.Unmarshal(raw, &v) != nil {
			v = strings.Trim(string(raw), `"`)
		}
		h.Set(k, v)
	}
	if h.Get(HeaderEventID) == "" {
		return aftercare.Event{Source: aftercare.SourceShopify}, aftercare.Errorf(aftercare.EINVALID, "EventBridge event has no %s in detail.metadata", HeaderEventID)
	}
	payload := env.Detail.Payload
	if len(payload) == 0 || string(payload) == "null" {
		return aftercare.Event{Source: aftercare.SourceShopify}, aftercare.Errorf(aftercare.EINVALID, "EventBridge event has no detail.payload")
	}
	// The same parser as the webhook path, so both give the same event id
	// (shop + topic + X-Shopify-Event-Id) and a delivery by both dedupes.
	return Source{}.Parse(payload, h, received)
}

// DecodeInbox reads one inbox message: an aftercare event as the webhook
// function queues it, or a Shopify EventBridge envelope the partner bus's
// rule delivered, normalized exactly as the webhook path would. ok is false
// when there is nothing to process: an envelope of a topic aftercare ignores
// (acknowledge it). An unusable envelope is an EINVALID error; no sender
// waits for an answer on this path, so the consumer should log, count and
// acknowledge it rather than retry it into the dead-letter queue.
//
// The event processor's hook-in (internal/handler) is one line, in place of
// json.Unmarshal(r.Body, &ev):
//
//	ev, ok, err := shopify.DecodeInbox(r.Body, r.SentAt)
func DecodeInbox(body []byte, received time.Time) (ev aftercare.Event, ok bool, err error) {
	if IsEventBridge(body) {
		ev, err = ParseEventBridge(body, received)
		return ev, err == nil && ev.Kind != "", err
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return ev, false, err
	}
	return ev, true, nil
}
