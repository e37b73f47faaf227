package easypost

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// Event descriptions that carry a Tracker. Every other EasyPost event
// (batch.updated, refund.successful, ...) is ignored.
const (
	TopicTrackerCreated = "tracker.created"
	TopicTrackerUpdated = "tracker.updated"
)

// event holds only what Parse reads of an EasyPost Event.
type event struct {
	ID          string   `json:"id"`
	Description string   `json:"description"`
	Result      *tracker `json:"result"`
}

type tracker struct {
	TrackingCode    string   `json:"tracking_code"`
	Carrier         string   `json:"carrier"`
	Status          string   `json:"status"`
	StatusDetail    string   `json:"status_detail"`
	EstDeliveryDate string   `json:"est_delivery_date"`
	PublicURL       string   `json:"public_url"`
	UpdatedAt       string   `json:"updated_at"`
	Details         []detail `json:"tracking_details"`
}

type detail struct {
	Datetime string `json:"datetime"`
	Message  string `json:"message"`
}

// Parse turns a verified body into one normalized event.
func (s Source) Parse(body []byte, _ http.Header, received time.Time) (aftercare.Event, error) {
	var e event
	// A syntax error leaves e empty; a type error still fills what fits, so
	// an event we ignore may have any shape.
	err := json.Unmarshal(body, &e)
	out := aftercare.Event{Source: aftercare.SourceEasyPost, Topic: e.Description}
	t := e.Result
	switch {
	case e.Description == "":
		return aftercare.Event{}, aftercare.Wrap(aftercare.EINVALID, err, "not an EasyPost event (no description)")
	case e.Description != TopicTrackerCreated && e.Description != TopicTrackerUpdated:
		return out, nil
	case err != nil:
		return out, aftercare.Wrap(aftercare.EINVALID, err, "%s event has the wrong shape", e.Description)
	case e.ID == "":
		return out, aftercare.Errorf(aftercare.EINVALID, "event id is missing")
	case t == nil:
		return out, aftercare.Errorf(aftercare.EINVALID, "%s event has no result", e.Description)
	case t.TrackingCode == "":
		return out, aftercare.Errorf(aftercare.EINVALID, "tracker has no tracking_code")
	}
	newest, at, err := aftercare.ReportTime(len(t.Details), func(i int) string { return t.Details[i].Datetime }, t.UpdatedAt, received)
	if err != nil {
		return out, err
	}
	var message string
	if newest >= 0 {
		message = t.Details[newest].Message
	}
	eta, err := aftercare.ParseTime(t.EstDeliveryDate)
	if err != nil {
		return out, err
	}
	o := classify(t.Status, t.StatusDetail)
	out.ID, out.Kind, out.At, out.Received = "easypost:"+e.ID, aftercare.EventTracking, at, received.UTC()
	out.Tracking = &aftercare.TrackingUpdate{
		TrackingNumber:    t.TrackingCode,
		Carrier:           t.Carrier,
		TrackingURL:       aftercare.TrackingLink(t.PublicURL),
		Status:            o.status,
		Detail:            strings.Trim(t.Status+"/"+t.StatusDetail, "/"), // EasyPost's own words
		Message:           message,
		Exception:         o.exception,
		EstimatedDelivery: eta,
		EventTime:         at,
	}
	return out, nil
}
