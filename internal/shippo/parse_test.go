package shippo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

const goldenDir = "../../events/webhooks/shippo"

// received is when the test pretends the webhook arrived; not UTC on purpose.
var received = time.Date(2025, 5, 28, 8, 0, 0, 0, time.FixedZone("PDT", -7*3600))

// goldens holds, for every file in goldenDir, the one-line summary its
// event must have, read off the JSON by hand.
var goldens = map[string]string{
	"pre-transit.json":        `tracking shippo:0b9e8f2d7c6a4e1f9a3b5c7d9e1f2a3b track_updated at 2025-05-12T17:58:00Z | 9205590164917312751089 usps | pre_transit playbook= detail=PRE_TRANSIT/information_received | eta 2025-05-15T00:00:00Z | Shipping Label Created, USPS Awaiting Item`,
	"transit.json":            `tracking shippo:2d1a0b4f9e8c4a3b1c5d7e9f1a3b4c5d track_updated at 2025-05-13T06:10:00Z | 9205590164917312751089 usps | in_transit playbook= detail=TRANSIT/package_departed | eta 2025-05-15T00:00:00Z | Departed USPS Regional Facility`,
	"out-for-delivery.json":   `tracking shippo:4f3c2d6b1a0e4c5d3e7f9a1b3c5d6e7f track_updated at 2025-05-15T13:04:00Z | 9205590164917312751089 usps | out_for_delivery playbook= detail=TRANSIT/out_for_delivery | eta 2025-05-15T00:00:00Z | Out for Delivery, Expected Delivery by 8:00pm`,
	"delivered.json":          `tracking shippo:5a4d3e7c2b1f4d6e4f8a0b2c4d6e7f8a track_updated at 2025-05-15T19:22:00Z | 9205590164917312751089 usps | delivered playbook= detail=DELIVERED/delivered | eta 2025-05-15T00:00:00Z | Delivered, In/At Mailbox`,
	"delivery-attempted.json": `tracking shippo:6b5e4f8d3c2a4e7f5a9b1c3d5e7f8a9b track_updated at 2025-05-15T21:40:00Z | 9205590164917312751089 usps | attempted_delivery playbook=failed_delivery detail=TRANSIT/delivery_attempted | eta 2025-05-16T00:00:00Z | Notice Left (No Authorized Recipient Available)`,
	"pickup-available.json":   `tracking shippo:7c6f5a9e4d3b4f8a6b0c2d4e6f8a9b0c track_updated at 2025-05-16T14:58:00Z | 9205590164917312751089 usps | available_for_pickup playbook=failed_delivery detail=TRANSIT/pickup_available | eta - | Available for Pickup`,
	"returned.json":           `tracking shippo:8d7a6b0f5e4c4a9b7c1d3e5f7a9b0c1d track_updated at 2025-05-27T10:02:00Z | 9205590164917312751089 usps | returned playbook=returned detail=RETURNED/return_to_sender | eta - | Return to Sender Processed`,
	"lost.json":               `tracking shippo:9e8b7c1a6f5d4b0c8d2e4f6a8b0c1d2e track_updated at 2025-05-22T16:30:00Z | 9205590164917312751089 usps | exception playbook=lost detail=FAILURE/package_lost | eta - | Missing Mail Search Request Initiated`,
	"delayed.json":            `tracking shippo:af9c8d2b7a6e4c1d9e3f5a7b9c1d2e3f track_updated at 2025-05-14T09:12:00Z | 9205590164917312751089 usps | exception playbook=delay detail=TRANSIT/delayed | eta 2025-05-17T00:00:00Z | In Transit, Arriving Late`,
	// Shippo's test-mode sample: no zones (read as UTC), no substatus, and a
	// history entry 3 ms newer than tracking_status.
	"test-mode-transit.json":   `tracking shippo:560f1b9cfe8341a2899e0388f1b9081c track_updated at 2018-07-29T16:44:42.589Z | SHIPPO_TRANSIT shippo | in_transit playbook= detail=TRANSIT | eta 2018-08-02T18:49:42.566Z | Your shipment has departed from the origin.`,
	"transaction-created.json": `ignored transaction_created`, // ignored: not a tracking event
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
		if ev.Source != aftercare.SourceShippo {
			t.Errorf("%s: source %q", f, ev.Source)
		}
		if tr := ev.Tracking; tr != nil && (ev.Received != received.UTC() || tr.EventTime != ev.At) {
			t.Errorf("%s: received %v, event time %v", f, ev.Received, tr.EventTime)
		}
	}
}

// Without tracking_status.object_id the body's SHA-256 is the dedupe key.
func TestParseIDFallback(t *testing.T) {
	body := []byte(`{"event":"track_updated","data":{"tracking_number":"92055","carrier":"usps","tracking_status":{"status":"TRANSIT","status_date":"2025-05-13T06:10:00Z"}}}`)
	sum := sha256.Sum256(body)
	ev, err := Source{}.Parse(body, nil, received)
	if err != nil {
		t.Fatal(err)
	}
	if want := "shippo:sha256-" + hex.EncodeToString(sum[:]); ev.ID != want {
		t.Errorf("ID = %q, want %q", ev.ID, want)
	}
	again, _ := Source{}.Parse(body, nil, received.Add(time.Hour))
	if again.ID != ev.ID {
		t.Errorf("a redelivery got another ID: %q vs %q", again.ID, ev.ID)
	}
}

func TestParseRejects(t *testing.T) {
	cases := map[string]string{
		"not JSON":                  `track_updated`,
		"truncated":                 `{"event":"track_updated","data":{`,
		"array":                     `[{"event":"track_updated"}]`,
		"string":                    `"track_updated"`,
		"null":                      `null`,
		"no event":                  `{"data":{"tracking_number":"1"}}`,
		"event not text":            `{"event":{"name":"track_updated"}}`,
		"no data":                   `{"event":"track_updated"}`,
		"data not an object":        `{"event":"track_updated","data":[1]}`,
		"no tracking number":        `{"event":"track_updated","data":{"carrier":"usps"}}`,
		"status is a string":        `{"event":"track_updated","data":{"tracking_number":"1","tracking_status":"DELIVERED"}}`,
		"history not a list":        `{"event":"track_updated","data":{"tracking_number":"1","tracking_history":{}}}`,
		"status_date garbled":       `{"event":"track_updated","data":{"tracking_number":"1","tracking_status":{"status":"TRANSIT","status_date":"23/07/2016"}}}`,
		"history date garbled":      `{"event":"track_updated","data":{"tracking_number":"1","tracking_history":[{"status_date":"x"}]}}`,
		"object_updated garbled":    `{"event":"track_updated","data":{"tracking_number":"1","tracking_status":{"object_updated":"then"}}}`,
		"eta garbled":               `{"event":"track_updated","data":{"tracking_number":"1","eta":"soon"}}`,
		"substatus code not a text": `{"event":"track_updated","data":{"tracking_number":"1","tracking_status":{"substatus":{"code":1}}}}`,
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
		at         time.Time
	}{
		{"unknown status kept as detail",
			`{"event":"track_updated","data":{"tracking_number":"1","tracking_status":{"object_id":"o1","status":"LOST_IN_SPACE","substatus":{"code":"wormhole"},"object_updated":"2025-05-01T10:00:00Z"}}}`,
			aftercare.StatusUnknown, "LOST_IN_SPACE/wormhole", time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)},
		{"other: the status decides",
			`{"event":"track_updated","data":{"tracking_number":"1","tracking_status":{"object_id":"o1","status":"FAILURE","substatus":{"code":"other"}}}}`,
			aftercare.StatusException, "FAILURE/other", received.UTC()},
		{"no tracking_status yet",
			`{"event":"track_updated","data":{"tracking_number":"1","tracking_status":null,"tracking_history":[]}}`,
			aftercare.StatusUnknown, "", received.UTC()},
	}
	for _, c := range cases {
		ev, err := Source{}.Parse([]byte(c.body), nil, received)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		tr := ev.Tracking
		if tr.Status != c.status || tr.Detail != c.detail || !ev.At.Equal(c.at) || ev.ID == "" {
			t.Errorf("%s: %s %q at %v id %q, want %s %q at %v", c.name, tr.Status, tr.Detail, ev.At, ev.ID, c.status, c.detail, c.at)
		}
	}
	for _, topic := range []string{"transaction_updated", "batch_created", "batch_purchased"} {
		ev, err := Source{}.Parse([]byte(`{"event":"`+topic+`","data":"any shape"}`), nil, received)
		if err != nil || ev.Kind != "" || ev.Topic != topic {
			t.Errorf("%s: kind %q topic %q err %v, want ignored", topic, ev.Kind, ev.Topic, err)
		}
	}
}
