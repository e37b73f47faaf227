package shippo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// TopicTrackUpdated is the tracking event. Shippo's other events
// (transaction_created, transaction_updated, batch_created, batch_purchased)
// are ignored.
const TopicTrackUpdated = "track_updated"

// webhook holds only what Parse reads of a Shippo webhook.
type webhook struct {
	Event string `json:"event"`
	Data  *track `json:"data"`
}

type track struct {
	TrackingNumber string   `json:"tracking_number"`
	Carrier        string   `json:"carrier"`
	TrackingURL    string   `json:"tracking_url_provider"`
	ETA            string   `json:"eta"`
	Status         *status  `json:"tracking_status"`
	History        []status `json:"tracking_history"`
}

type status struct {
	ObjectID      string `json:"object_id"`
	ObjectUpdated string `json:"object_updated"`
	Status        string `json:"status"`
	Substatus     *struct {
		Code string `json:"code"`
	} `json:"substatus"`
	StatusDetails string `json:"status_details"`
	StatusDate    string `json:"status_date"`
}

// Parse turns a verified body into one normalized event.
func (s Source) Parse(body []byte, _ http.Header, received time.Time) (aftercare.Event, error) {
	var w webhook
	// A syntax error leaves w empty; a type error still fills what fits, so
	// an event we ignore may have any shape (a transaction's tracking_status
	// is a string).
	err := json.Unmarshal(body, &w)
	out := aftercare.Event{Source: aftercare.SourceShippo, Topic: w.Event}
	d := w.Data
	switch {
	case w.Event == "":
		return aftercare.Event{}, aftercare.Wrap(aftercare.EINVALID, err, "not a Shippo webhook (no event)")
	case w.Event != TopicTrackUpdated:
		return out, nil
	case err != nil:
		return out, aftercare.Wrap(aftercare.EINVALID, err, "%s webhook has the wrong shape", w.Event)
	case d == nil:
		return out, aftercare.Errorf(aftercare.EINVALID, "%s webhook has no data", w.Event)
	case d.TrackingNumber == "":
		return out, aftercare.Errorf(aftercare.EINVALID, "data has no tracking_number")
	}
	// tracking_status is the latest report; it goes last so it wins a tie
	// with the same scan in tracking_history.
	reports := d.History
	if d.Status != nil {
		reports = append(reports[:len(reports):len(reports)], *d.Status)
	}
	cur := d.current()
	newest, at, err := aftercare.ReportTime(len(reports), func(i int) string { return reports[i].StatusDate }, cur.ObjectUpdated, received)
	if err != nil {
		return out, err
	}
	var message string
	if newest >= 0 {
		message = reports[newest].StatusDetails
	}
	eta, err := aftercare.ParseTime(d.ETA)
	if err != nil {
		return out, err
	}
	code := cur.code()
	o := classify(cur.Status, code)
	out.ID, out.Kind, out.At, out.Received = id(cur.ObjectID, body), aftercare.EventTracking, at, received.UTC()
	out.Tracking = &aftercare.TrackingUpdate{
		TrackingNumber:    d.TrackingNumber,
		Carrier:           d.Carrier,
		TrackingURL:       aftercare.TrackingLink(d.TrackingURL),
		Status:            o.status,
		Detail:            strings.Trim(cur.Status+"/"+code, "/"), // Shippo's own words
		Message:           message,
		Exception:         o.exception,
		EstimatedDelivery: eta,
		EventTime:         at,
	}
	return out, nil
}

// current is the latest tracking status, empty when Shippo sent none.
func (d *track) current() status {
	if d.Status == nil {
		return status{}
	}
	return *d.Status
}

func (s status) code() string {
	if s.Substatus == nil {
		return ""
	}
	return s.Substatus.Code
}

// id is the dedupe key. Shippo webhooks carry no event id; the latest
// status's object_id names the report, and failing that the body itself does.
func id(objectID string, body []byte) string {
	if objectID != "" {
		return "shippo:" + objectID
	}
	sum := sha256.Sum256(body)
	return "shippo:sha256-" + hex.EncodeToString(sum[:])
}
