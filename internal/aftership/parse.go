package aftership

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// TopicTrackingUpdate is the event of a shipment status change. AfterShip's
// other tracking events (edd_revise, tracking_pending_time) repeat the
// status already reported and are ignored.
const TopicTrackingUpdate = "tracking_update"

// webhook holds only what Parse reads of an AfterShip Tracking webhook.
type webhook struct {
	Event   string    `json:"event"`
	EventID string    `json:"event_id"`
	Msg     *tracking `json:"msg"`
}

type tracking struct {
	TrackingNumber   string       `json:"tracking_number"`
	Slug             string       `json:"slug"`
	TrackingLink     string       `json:"courier_tracking_link"`
	Tag              string       `json:"tag"`
	Subtag           string       `json:"subtag"`
	UpdatedAt        string       `json:"updated_at"`
	ExpectedDelivery string       `json:"expected_delivery"` // before 2024-04
	Latest           *estimate    `json:"latest_estimated_delivery"`
	Checkpoints      []checkpoint `json:"checkpoints"`
}

type estimate struct {
	Datetime    string `json:"datetime"`
	DatetimeMax string `json:"datetime_max"` // a range estimate promises its upper end
}

type checkpoint struct {
	CheckpointTime string `json:"checkpoint_time"`
	Message        string `json:"message"`
}

// Parse turns a verified body into one normalized event.
func (s Source) Parse(body []byte, _ http.Header, received time.Time) (aftercare.Event, error) {
	var w webhook
	// A syntax error leaves w empty; a type error still fills what fits, so
	// an event we ignore may have any shape.
	err := json.Unmarshal(body, &w)
	out := aftercare.Event{Source: aftercare.SourceAfterShip, Topic: w.Event}
	m := w.Msg
	switch {
	case w.Event == "":
		return aftercare.Event{}, aftercare.Wrap(aftercare.EINVALID, err, "not an AfterShip webhook (no event)")
	case w.Event != TopicTrackingUpdate:
		return out, nil
	case err != nil:
		return out, aftercare.Wrap(aftercare.EINVALID, err, "%s webhook has the wrong shape", w.Event)
	case w.EventID == "":
		return out, aftercare.Errorf(aftercare.EINVALID, "event_id is missing")
	case m == nil:
		return out, aftercare.Errorf(aftercare.EINVALID, "%s webhook has no msg", w.Event)
	case m.TrackingNumber == "":
		return out, aftercare.Errorf(aftercare.EINVALID, "msg has no tracking_number")
	}
	newest, at, err := aftercare.ReportTime(len(m.Checkpoints), func(i int) string { return m.Checkpoints[i].CheckpointTime }, m.UpdatedAt, received)
	if err != nil {
		return out, err
	}
	var message string
	if newest >= 0 {
		message = m.Checkpoints[newest].Message
	}
	eta, err := aftercare.ParseTime(m.eta())
	if err != nil {
		return out, err
	}
	o := classify(m.Tag, m.Subtag)
	out.ID, out.Kind, out.At, out.Received = "aftership:"+w.EventID, aftercare.EventTracking, at, received.UTC()
	out.Tracking = &aftercare.TrackingUpdate{
		TrackingNumber:    m.TrackingNumber,
		Carrier:           m.Slug,
		TrackingURL:       aftercare.TrackingLink(m.TrackingLink),
		Status:            o.status,
		Detail:            strings.Trim(m.Tag+"/"+m.Subtag, "/"), // AfterShip's own words
		Message:           message,
		Exception:         o.exception,
		EstimatedDelivery: eta,
		EventTime:         at,
	}
	return out, nil
}

// eta is the newest estimate AfterShip gives.
func (m *tracking) eta() string {
	if m.Latest != nil {
		if m.Latest.Datetime != "" {
			return m.Latest.Datetime
		}
		if m.Latest.DatetimeMax != "" {
			return m.Latest.DatetimeMax
		}
	}
	return m.ExpectedDelivery
}
