package easypost

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestTrackingLinkFromGolden: the provider's public tracking page reaches the
// update, and a link that is not http(s) never does.
func TestTrackingLinkFromGolden(t *testing.T) {
	body, err := os.ReadFile("../../events/webhooks/easypost/tracker-updated-in-transit.json")
	if err != nil {
		t.Fatal(err)
	}
	received := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	ev, err := Source{}.Parse(body, nil, received)
	if err != nil || ev.Tracking == nil {
		t.Fatalf("parse: %v", err)
	}
	if !strings.HasPrefix(ev.Tracking.TrackingURL, "https://track.easypost.com/") {
		t.Fatalf("tracking url %q", ev.Tracking.TrackingURL)
	}
	bad := strings.Replace(string(body), ev.Tracking.TrackingURL, "javascript:alert(1)", 1)
	ev, err = Source{}.Parse([]byte(bad), nil, received)
	if err != nil || ev.Tracking.TrackingURL != "" {
		t.Fatalf("a javascript: link survived: %q %v", ev.Tracking.TrackingURL, err)
	}
}
