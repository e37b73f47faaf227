package aftership

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

const goldenDir = "../../events/webhooks/aftership"

// received is when the test pretends the webhook arrived; not UTC on purpose.
var received = time.Date(2025, 4, 12, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))

// goldens holds, for every file in goldenDir, the one-line summary its
// event must have, read off the JSON by hand.
var goldens = map[string]string{
	"info-received.json":    `tracking aftership:6a0d1f35-3a2e-4d8b-9b5f-1f0c2e7d9a01 tracking_update at 2025-04-07T16:20:00Z | 1Z999AA10123456784 ups | pre_transit playbook= detail=InfoReceived/InfoReceived_001 | eta 2025-04-11T00:00:00Z | Shipper created a label, UPS has not received the package yet.`,
	"in-transit.json":       `tracking aftership:0f6e2c41-8d7b-4a65-b0a9-3c2d1e4f5a02 tracking_update at 2025-04-08T23:55:00Z | 1Z999AA10123456784 ups | in_transit playbook= detail=InTransit/InTransit_007 | eta 2025-04-10T00:00:00Z | Departed from Facility`,
	"out-for-delivery.json": `tracking aftership:9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d03 tracking_update at 2025-04-10T08:42:00Z | 1Z999AA10123456784 ups | out_for_delivery playbook= detail=OutForDelivery/OutForDelivery_001 | eta 2025-04-10T00:00:00Z | Out For Delivery Today`,
	// The delivery scan carries a -04:00 offset: 14:03 local is 18:03 UTC.
	"delivered.json":            `tracking aftership:2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f04 tracking_update at 2025-04-10T18:03:00Z | 1Z999AA10123456784 ups | delivered playbook= detail=Delivered/Delivered_001 | eta 2025-04-10T00:00:00Z | Delivered`,
	"attempt-fail.json":         `tracking aftership:3e4f5a6b-7c8d-4e9f-a0b1-2c3d4e5f6a05 tracking_update at 2025-04-10T13:10:00Z | 1Z999AA10123456784 ups | attempted_delivery playbook=failed_delivery detail=AttemptFail/AttemptFail_002 | eta 2025-04-11T00:00:00Z | The receiver was not available for delivery. We'll make a second attempt the next business day.`,
	"available-for-pickup.json": `tracking aftership:4f5a6b7c-8d9e-4f0a-b1c2-3d4e5f6a7b06 tracking_update at 2025-04-11T10:05:00Z | 1Z999AA10123456784 ups | available_for_pickup playbook=failed_delivery detail=AvailableForPickup/AvailableForPickup_001 | eta - | Delivered to UPS Access Point™ and awaiting customer pickup`,
	"returned-to-sender.json":   `tracking aftership:5a6b7c8d-9e0f-4a1b-82c3-4d5e6f7a8b07 tracking_update at 2025-04-11T09:30:00Z | 1Z999AA10123456784 ups | returned playbook=returned detail=Exception/Exception_010 | eta - | Returning to Sender: The receiver refused the delivery.`,
	"damaged.json":              `tracking aftership:6b7c8d9e-0f1a-4b2c-93d4-5e6f7a8b9c08 tracking_update at 2025-04-10T06:48:00Z | 1Z999AA10123456784 ups | exception playbook=damaged detail=Exception/Exception_012 | eta - | Damage reported. / We're sorry, your package was damaged in transit. We'll notify the sender with details.`,
	"weather-delay.json":        `tracking aftership:7c8d9e0f-1a2b-4c3d-a4e5-6f7a8b9c0d09 tracking_update at 2025-04-09T15:20:00Z | 1Z999AA10123456784 ups | exception playbook=delay detail=Exception/Exception_005 | eta 2025-04-14T00:00:00Z | A severe weather condition has delayed delivery.`,
	"pending-time.json":         `ignored tracking_pending_time`, // ignored: not a status change
}

// summary renders what the golden test asserts on one line. Times print with
// their zone, so a time that is not UTC cannot match.
func summary(ev aftercare.Event) string {
	tr := ev.Tracking
	if ev.Kind == "" || tr == nil {
		return fmt.Sprintf("ignored %s", ev.Topic)
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%s %s %s at %s | %s %s | %s playbook=%s detail=%s | eta %s | %s", ev.Kind, ev.ID, ev.Topic, stamp(ev.At),
		tr.TrackingNumber, tr.Carrier, tr.Status, tr.Exception, tr.Detail, stamp(tr.EstimatedDelivery), tr.Message)
}

func TestParseGoldenEvents(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if len(files) != len(goldens) {
		t.Errorf("goldens lists %d files, %s has %d", len(goldens), goldenDir, len(files))
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := Source{}.Parse(body, nil, received)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		want, ok := goldens[filepath.Base(f)]
		if got := summary(ev); !ok || got != want {
			t.Errorf("%s:\n got %s\nwant %s", filepath.Base(f), got, want)
		}
		if ev.Source != aftercare.SourceAfterShip {
			t.Errorf("%s: source %q", f, ev.Source)
		}
		if tr := ev.Tracking; tr != nil && (ev.Received != received.UTC() || tr.EventTime != ev.At) {
			t.Errorf("%s: received %v, event time %v", f, ev.Received, tr.EventTime)
		}
	}
}

func TestParseRejects(t *testing.T) {
	cases := map[string]string{
		"not JSON":                `tracking_update`,
		"truncated":               `{"event":"tracking_update","msg":{`,
		"array":                   `[{"event":"tracking_update"}]`,
		"string":                  `"tracking_update"`,
		"null":                    `null`,
		"no event":                `{"event_id":"e1","msg":{"tracking_number":"1"}}`,
		"event not text":          `{"event":["tracking_update"],"event_id":"e1"}`,
		"no msg":                  `{"event":"tracking_update","event_id":"e1"}`,
		"msg not an object":       `{"event":"tracking_update","event_id":"e1","msg":"1Z"}`,
		"no tracking number":      `{"event":"tracking_update","event_id":"e1","msg":{"tag":"InTransit"}}`,
		"no event id":             `{"event":"tracking_update","msg":{"tracking_number":"1"}}`,
		"checkpoints not a list":  `{"event":"tracking_update","event_id":"e1","msg":{"tracking_number":"1","checkpoints":{}}}`,
		"checkpoint time garbled": `{"event":"tracking_update","event_id":"e1","msg":{"tracking_number":"1","checkpoints":[{"checkpoint_time":"14/01/2021"}]}}`,
		"updated_at garbled":      `{"event":"tracking_update","event_id":"e1","msg":{"tracking_number":"1","updated_at":"now"}}`,
		"estimate garbled":        `{"event":"tracking_update","event_id":"e1","msg":{"tracking_number":"1","latest_estimated_delivery":{"datetime":"next week"}}}`,
		"tag not text":            `{"event":"tracking_update","event_id":"e1","msg":{"tracking_number":"1","tag":3}}`,
	}
	for name, body := range cases {
		_, err := Source{}.Parse([]byte(body), nil, received)
		if aftercare.ErrorCode(err) != aftercare.EINVALID || aftercare.ErrorMessage(err) == "" {
			t.Errorf("%s: error %v, want %s with a reason", name, err, aftercare.EINVALID)
		}
	}
}

func TestParseLenient(t *testing.T) {
	cases := []struct {
		name, body string
		status     aftercare.ShipmentStatus
		detail     string
		at, eta    time.Time
	}{
		{"unknown tag kept as detail",
			`{"event":"tracking_update","event_id":"e1","msg":{"tracking_number":"1","tag":"Teleported","subtag":"Teleported_001","updated_at":"2025-04-01T10:00:00+00:00"}}`,
			aftercare.StatusUnknown, "Teleported/Teleported_001", time.Date(2025, 4, 1, 10, 0, 0, 0, time.UTC), time.Time{}},
		{"a subtag newer than the table falls back to its tag",
			`{"event":"tracking_update","event_id":"e1","msg":{"tracking_number":"1","tag":"Exception","subtag":"Exception_099","checkpoints":[{"checkpoint_time":"2025-04-01T10:00:00"}]}}`,
			aftercare.StatusException, "Exception/Exception_099", time.Date(2025, 4, 1, 10, 0, 0, 0, time.UTC), time.Time{}},
		{"legacy expected_delivery, no times: received",
			`{"event":"tracking_update","event_id":"e1","msg":{"tracking_number":"1","tag":"InTransit","expected_delivery":"2025-04-03T18:00:00","checkpoints":[]}}`,
			aftercare.StatusInTransit, "InTransit", received.UTC(), time.Date(2025, 4, 3, 18, 0, 0, 0, time.UTC)},
		{"range estimate promises its upper end",
			`{"event":"tracking_update","event_id":"e1","msg":{"tracking_number":"1","tag":"InTransit","latest_estimated_delivery":{"type":"range","datetime":null,"datetime_min":"2025-04-03","datetime_max":"2025-04-05"}}}`,
			aftercare.StatusInTransit, "InTransit", received.UTC(), time.Date(2025, 4, 5, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		ev, err := Source{}.Parse([]byte(c.body), nil, received)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		tr := ev.Tracking
		if tr.Status != c.status || tr.Detail != c.detail || !ev.At.Equal(c.at) || !tr.EstimatedDelivery.Equal(c.eta) {
			t.Errorf("%s: %s %q at %v eta %v, want %s %q at %v eta %v", c.name, tr.Status, tr.Detail, ev.At, tr.EstimatedDelivery, c.status, c.detail, c.at, c.eta)
		}
	}
	for _, topic := range []string{"edd_revise", "tracking_pending_time", "return.approved"} {
		ev, err := Source{}.Parse([]byte(`{"event":"`+topic+`","msg":"any shape"}`), nil, received)
		if err != nil || ev.Kind != "" || ev.Topic != topic {
			t.Errorf("%s: kind %q topic %q err %v, want ignored", topic, ev.Kind, ev.Topic, err)
		}
	}
}
