package shopify

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestFulfillmentTrackingURLs: each parcel keeps its own link, in
// tracking_numbers' order, and a link that is not http(s) is dropped.
func TestFulfillmentTrackingURLs(t *testing.T) {
	body, err := os.ReadFile("../../events/webhooks/shopify/fulfillments__create.json")
	if err != nil {
		t.Fatal(err)
	}
	received := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	ev, err := Source{}.Parse(body, headers("fulfillments/create"), received)
	if err != nil || ev.Fulfillment == nil {
		t.Fatalf("parse: %v", err)
	}
	f := ev.Fulfillment
	if len(f.TrackingURLs) != len(f.TrackingNumbers) || !strings.HasPrefix(f.TrackingURLs[0], "https://") ||
		!strings.Contains(f.TrackingURLs[0], f.TrackingNumbers[0]) {
		t.Fatalf("numbers %v urls %v", f.TrackingNumbers, f.TrackingURLs)
	}
	bad := strings.ReplaceAll(string(body), f.TrackingURLs[0], "javascript:alert(1)")
	ev, err = Source{}.Parse([]byte(bad), headers("fulfillments/create"), received)
	if err != nil || ev.Fulfillment.TrackingURLs != nil {
		t.Fatalf("a javascript: link survived: %v %v", ev.Fulfillment.TrackingURLs, err)
	}
}
