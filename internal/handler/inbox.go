package handler

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/sesevents"
	"github.com/aftercare/aftercare/internal/shopify"
)

// SourceSES names events made from SES's bounce and complaint reports.
const SourceSES = "ses"

// decodeInbox reads one inbox message. Three senders share the queue: aftercare
// itself (a normalized event from WebhookFunction or the checks), Shopify
// through EventBridge (the envelope, authenticated by AWS, not by HMAC), and
// SES through SNS (bounces and complaints, raw or in the SNS envelope). ok is
// false for a message to acknowledge and drop: a topic aftercare ignores, an
// SES delivery notice, an SNS subscription confirmation, feedback about an
// email that names no customer. An error (EINVALID) means the message can
// never be read: it goes to the dead-letter queue to be looked at.
func decodeInbox(body []byte, received time.Time) (ev aftercare.Event, ok bool, err error) {
	ev, ok, err = decodeAny(body, received)
	if err == nil && ok {
		// Every sender's event is bounded before any of it is stored.
		err = ev.Bound()
	}
	return ev, ok, err
}

func decodeAny(body []byte, received time.Time) (ev aftercare.Event, ok bool, err error) {
	if shopify.IsEventBridge(body) {
		return shopify.DecodeInbox(body, received)
	}
	var probe struct {
		Kind             aftercare.EventKind `json:"kind"`
		Type             string              `json:"Type"`             // SNS envelope
		EventType        string              `json:"eventType"`        // SES event publishing, raw
		NotificationType string              `json:"notificationType"` // SES identity notifications, raw
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return ev, false, aftercare.Wrap(aftercare.EINVALID, err, "inbox message is not JSON")
	}
	if probe.Kind == "" && (probe.Type != "" || probe.EventType != "" || probe.NotificationType != "") {
		return feedbackEvent(body, received)
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return ev, false, aftercare.Wrap(aftercare.EINVALID, err, "inbox event is not an aftercare event")
	}
	return ev, true, nil
}

// feedbackEvent turns an SES report into an email_feedback event. Its id is
// the report's digest: SQS redelivers the same bytes, so duplicates dedupe.
func feedbackEvent(body []byte, received time.Time) (aftercare.Event, bool, error) {
	r, err := sesevents.Parse(body, received)
	if err != nil || len(r.Feedback) == 0 || r.Shop == "" || r.CustomerID == "" {
		return aftercare.Event{Source: SourceSES}, false, err
	}
	sum := sha256.Sum256(body)
	return aftercare.Event{
		ID: "ses:" + hex.EncodeToString(sum[:16]), Kind: aftercare.EventEmailFeedback, Source: SourceSES,
		Topic: "ses/" + r.Feedback[0].Type, Shop: r.Shop, At: r.Feedback[0].At, Received: received,
		EmailFeedback: &aftercare.EmailFeedbackReport{CustomerID: r.CustomerID, Feedback: r.Feedback},
	}, true, nil
}
