// Package sesevents parses what SES reports back through SNS: bounce and
// complaint events of the configuration set (event publishing) and identity
// notifications, in an SNS envelope or delivered raw to SQS. It turns them
// into aftercare.EmailFeedback, one per recipient.
package sesevents

import (
	"bytes"
	"encoding/json"
	"net/mail"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// MaxBody bounds an event: SES truncates headers, so events are a few KB.
const MaxBody = 256 << 10

// maxRecipients bounds the feedback one event yields (SES sends to at most 50).
const maxRecipients = 50

// Report is one SES event: which shop and customer the email was for (from
// the X-Aftercare-* headers aftercare puts on every email) and the feedback.
type Report struct {
	Shop       string
	CustomerID string
	Feedback   []aftercare.EmailFeedback
}

type envelope struct {
	Type    string `json:"Type"`
	Message string `json:"Message"`
}

type event struct {
	EventType        string     `json:"eventType"`        // event publishing
	NotificationType string     `json:"notificationType"` // identity notifications
	Bounce           *bounce    `json:"bounce"`
	Complaint        *complaint `json:"complaint"`
	Mail             struct {
		Headers []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
	} `json:"mail"`
}

type recipient struct {
	EmailAddress string `json:"emailAddress"`
}

type bounce struct {
	BounceType        string      `json:"bounceType"` // Permanent, Transient, Undetermined
	BounceSubType     string      `json:"bounceSubType"`
	BouncedRecipients []recipient `json:"bouncedRecipients"`
	Timestamp         string      `json:"timestamp"`
}

type complaint struct {
	ComplainedRecipients  []recipient `json:"complainedRecipients"`
	ComplaintFeedbackType string      `json:"complaintFeedbackType"`
	Timestamp             string      `json:"timestamp"`
}

// Parse reads one SQS message body. A message that is neither a bounce nor a
// complaint (a delivery, an SNS subscription confirmation) yields an empty
// Report and no error; a body that is not an SES event at all is EINVALID.
func Parse(body []byte, received time.Time) (Report, error) {
	var r Report
	if len(body) > MaxBody {
		return r, aftercare.Errorf(aftercare.EINVALID, "ses event of %d bytes is over %d", len(body), MaxBody)
	}
	body = bytes.TrimSpace(body)
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return r, aftercare.Wrap(aftercare.EINVALID, err, "ses event is not JSON")
	}
	switch env.Type {
	case "Notification":
		body = []byte(env.Message)
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		return r, nil
	case "":
		// Raw message delivery: the body is the SES event itself.
	default:
		return r, aftercare.Errorf(aftercare.EINVALID, "unknown SNS message type %q", env.Type)
	}
	var e event
	if err := json.Unmarshal(body, &e); err != nil {
		return r, aftercare.Wrap(aftercare.EINVALID, err, "SNS message is not an SES event")
	}
	kind := e.EventType
	if kind == "" {
		kind = e.NotificationType
	}
	var msgID string
	for _, h := range e.Mail.Headers {
		switch strings.ToLower(h.Name) {
		case "x-aftercare-shop":
			r.Shop = bound(h.Value, 255)
		case "x-aftercare-customer-id":
			r.CustomerID = bound(h.Value, 64)
		case "x-aftercare-message-id":
			msgID = bound(h.Value, 128)
		}
	}
	add := func(typ, addr, detail, ts string) {
		a, err := mail.ParseAddress(addr)
		if err != nil || len(r.Feedback) >= maxRecipients {
			return
		}
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			at = received
		}
		r.Feedback = append(r.Feedback, aftercare.EmailFeedback{Type: typ, Address: bound(a.Address, 254), MessageID: msgID,
			At: at.UTC(), Detail: bound(detail, 64)})
	}
	switch kind {
	case "Bounce":
		if e.Bounce == nil {
			return r, aftercare.Errorf(aftercare.EINVALID, "bounce event without bounce")
		}
		typ := aftercare.FeedbackSoftBounce
		if e.Bounce.BounceType == "Permanent" {
			typ = aftercare.FeedbackHardBounce
		}
		for _, rc := range e.Bounce.BouncedRecipients {
			add(typ, rc.EmailAddress, e.Bounce.BounceType+"/"+e.Bounce.BounceSubType, e.Bounce.Timestamp)
		}
	case "Complaint":
		if e.Complaint == nil {
			return r, aftercare.Errorf(aftercare.EINVALID, "complaint event without complaint")
		}
		for _, rc := range e.Complaint.ComplainedRecipients {
			add(aftercare.FeedbackComplaint, rc.EmailAddress, e.Complaint.ComplaintFeedbackType, e.Complaint.Timestamp)
		}
	case "":
		return r, aftercare.Errorf(aftercare.EINVALID, "SNS message is not an SES event")
	}
	return r, nil
}

func bound(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n]
	}
	return s
}
