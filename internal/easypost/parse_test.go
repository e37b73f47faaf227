package easypost

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

const goldenDir = "../../events/webhooks/easypost"

// received is when the test pretends the webhook arrived; not UTC on purpose.
var received = time.Date(2025, 3, 20, 13, 0, 0, 0, time.FixedZone("CET", 3600))

// goldens holds, for every file in goldenDir, the one-line summary its
// event must have, read off the JSON by hand.
var goldens = map[string]string{
	"tracker-created-pre-transit.json":          `tracking easypost:evt_1a2b3c4d5e6f11ef8a1b0242ac120002 tracker.created at 2025-03-03T17:12:00Z | 9400110898825022579493 USPS | pre_transit playbook= detail=pre_transit/label_created | eta - | Shipping Label Created, USPS Awaiting Item`,
	"tracker-updated-in-transit.json":           `tracking easypost:evt_2b3c4d5e6f7011ef8a1b0242ac120002 tracker.updated at 2025-03-06T09:02:00Z | 9400110898825022579493 USPS | in_transit playbook= detail=in_transit/arrived_at_facility | eta 2025-03-07T00:00:00Z | Arrived at USPS Regional Destination Facility`,
	"tracker-updated-out-for-delivery.json":     `tracking easypost:evt_3c4d5e6f708111ef8a1b0242ac120002 tracker.updated at 2025-03-07T12:05:00Z | 9400110898825022579493 USPS | out_for_delivery playbook= detail=out_for_delivery/out_for_delivery | eta 2025-03-07T00:00:00Z | Out for Delivery`,
	"tracker-updated-delivered.json":            `tracking easypost:evt_4d5e6f70819211ef8a1b0242ac120002 tracker.updated at 2025-03-07T16:47:00Z | 9400110898825022579493 USPS | delivered playbook= detail=delivered/arrived_at_destination | eta 2025-03-07T00:00:00Z | Delivered, In/At Mailbox`,
	"tracker-updated-available-for-pickup.json": `tracking easypost:evt_5e6f708192a311ef8a1b0242ac120002 tracker.updated at 2025-03-07T14:31:00Z | 9400110898825022579493 USPS | available_for_pickup playbook=failed_delivery detail=available_for_pickup/arrived_at_pickup_location | eta 2025-03-07T00:00:00Z | Available for Pickup`,
	"tracker-updated-delivery-exception.json":   `tracking easypost:evt_6f708192a3b411ef8a1b0242ac120002 tracker.updated at 2025-03-07T15:58:00Z | 9400110898825022579493 USPS | exception playbook=failed_delivery detail=failure/delivery_exception | eta 2025-03-07T00:00:00Z | Notice Left (No Authorized Recipient Available)`,
	"tracker-updated-return-to-sender.json":     `tracking easypost:evt_708192a3b4c511ef8a1b0242ac120002 tracker.updated at 2025-03-18T10:14:00Z | 9400110898825022579493 USPS | returned playbook=returned detail=return_to_sender/return | eta 2025-03-07T00:00:00Z | Return to Sender Processed`,
	"tracker-updated-damaged.json":              `tracking easypost:evt_8192a3b4c5d611ef8a1b0242ac120002 tracker.updated at 2025-03-06T21:40:00Z | 9400110898825022579493 USPS | exception playbook=damaged detail=failure/damaged | eta 2025-03-07T00:00:00Z | Damaged, Contact Sender`,
	"tracker-updated-weather-delay.json":        `tracking easypost:evt_92a3b4c5d6e711ef8a1b0242ac120002 tracker.updated at 2025-03-05T13:26:00Z | 9400110898825022579493 USPS | exception playbook=delay detail=in_transit/weather_delay | eta 2025-03-10T00:00:00Z | In Transit, Arriving Late - Weather Delay`,
	"batch-updated.json":                        `ignored batch.updated`, // ignored: not a tracker event
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
		if ev.Source != aftercare.SourceEasyPost {
			t.Errorf("%s: source %q", f, ev.Source)
		}
		if tr := ev.Tracking; tr != nil && (ev.Received != received.UTC() || tr.EventTime != ev.At) {
			t.Errorf("%s: received %v, event time %v", f, ev.Received, tr.EventTime)
		}
	}
}

// EasyPost's own signed fixture parses too.
func TestParseEasyPostFixture(t *testing.T) {
	ev, err := Source{}.Parse(vectorBody(t), nil, received)
	if err != nil {
		t.Fatal(err)
	}
	want := `tracking easypost:evt_1 tracker.updated at 2024-08-02T18:50:00Z | 1 FedEx | in_transit playbook= detail=in_transit/arrived_at_facility | eta 2024-08-05T00:00:00Z | Arrived at FedEx location`
	if got := summary(ev); got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

func TestParseRejects(t *testing.T) {
	cases := map[string]string{
		"not JSON":              `tracker.updated`,
		"truncated":             `{"description":"tracker.updated","result":{`,
		"array":                 `[{"description":"tracker.updated"}]`,
		"string":                `"tracker.updated"`,
		"null":                  `null`,
		"no description":        `{"id":"evt_1","result":{"tracking_code":"1"}}`,
		"description not text":  `{"id":"evt_1","description":7}`,
		"no result":             `{"id":"evt_1","description":"tracker.updated"}`,
		"null result":           `{"id":"evt_1","description":"tracker.updated","result":null}`,
		"result not an object":  `{"id":"evt_1","description":"tracker.updated","result":"trk_1"}`,
		"no tracking code":      `{"id":"evt_1","description":"tracker.updated","result":{"status":"in_transit"}}`,
		"no event id":           `{"description":"tracker.created","result":{"tracking_code":"1"}}`,
		"details not a list":    `{"id":"evt_1","description":"tracker.updated","result":{"tracking_code":"1","tracking_details":{}}}`,
		"scan time unreadable":  `{"id":"evt_1","description":"tracker.updated","result":{"tracking_code":"1","tracking_details":[{"datetime":"Tuesday"}]}}`,
		"updated_at unreadable": `{"id":"evt_1","description":"tracker.updated","result":{"tracking_code":"1","updated_at":"later"}}`,
		"eta unreadable":        `{"id":"evt_1","description":"tracker.updated","result":{"tracking_code":"1","est_delivery_date":"soon"}}`,
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
			`{"id":"evt_1","description":"tracker.updated","result":{"tracking_code":"1","status":"teleported","status_detail":"beamed_up","updated_at":"2025-03-01T10:00:00Z"}}`,
			aftercare.StatusUnknown, "teleported/beamed_up", time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)},
		{"no scans: tracker updated_at",
			`{"id":"evt_1","description":"tracker.updated","result":{"tracking_code":"1","status":"pre_transit","updated_at":"2025-03-01T10:00:00-05:00","tracking_details":[]}}`,
			aftercare.StatusPreTransit, "pre_transit", time.Date(2025, 3, 1, 15, 0, 0, 0, time.UTC)},
		{"no times at all: received",
			`{"id":"evt_1","description":"tracker.created","result":{"tracking_code":"1","status":"unknown","tracking_details":[{"datetime":null}]}}`,
			aftercare.StatusUnknown, "unknown", received.UTC()},
		{"other event with any shape is still ignored",
			`{"id":"evt_1","description":"refund.successful","result":"whatever"}`, "", "", time.Time{}},
	}
	for _, c := range cases {
		ev, err := Source{}.Parse([]byte(c.body), nil, received)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if c.status == "" {
			if ev.Kind != "" || ev.Topic != "refund.successful" {
				t.Errorf("%s: kind %q topic %q, want ignored refund.successful", c.name, ev.Kind, ev.Topic)
			}
			continue
		}
		if ev.Tracking.Status != c.status || ev.Tracking.Detail != c.detail || !ev.At.Equal(c.at) || ev.At.Location() != time.UTC {
			t.Errorf("%s: %s %q at %v, want %s %q at %v", c.name, ev.Tracking.Status, ev.Tracking.Detail, ev.At, c.status, c.detail, c.at)
		}
	}
}
