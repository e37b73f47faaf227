package state_test

import (
	"strings"
	"testing"

	"github.com/aftercare/aftercare/internal/state"
)

// An event's notes go into the processor's log line, which outlives
// customers/redact: they name a parcel by carrier and order, never by its
// tracking number. The history applied twice gives every kind of note a
// parcel can get (recorded, status unchanged, repeat).
func TestNotesNameNoTrackingNumber(t *testing.T) {
	e := newMemEnv(t)
	numbers := map[string]bool{}
	var notes []string
	for pass := range 2 {
		for _, ev := range history() {
			if ev.Tracking != nil && ev.Tracking.TrackingNumber != "" {
				numbers[ev.Tracking.TrackingNumber] = true
			}
			if ev.Fulfillment != nil {
				for _, n := range ev.Fulfillment.TrackingNumbers {
					numbers[n] = true
				}
			}
			if pass == 1 {
				ev.ID += "-copy" // a copy under a new id is applied, not deduplicated
			}
			notes = append(notes, e.process(t, ev).Notes...)
		}
	}
	if len(numbers) == 0 {
		t.Fatal("the history names no tracking number")
	}
	parcelNotes := 0
	for _, n := range notes {
		if strings.Contains(n, "parcel") {
			parcelNotes++
		}
		for num := range numbers {
			if strings.Contains(n, num) {
				t.Errorf("note names tracking number %s: %q", num, n)
			}
		}
	}
	if parcelNotes == 0 {
		t.Errorf("no note about a parcel in %q: the test proves nothing", notes)
	}
}

func TestKeyRefWithholdsTrackingNumbers(t *testing.T) {
	if got := (state.Key{Kind: state.ItemShipment, ID: "ups:1Z999AA10123456784"}).Ref(); strings.Contains(got, "1Z999") {
		t.Errorf("parcel ref %q names the tracking number", got)
	}
	if got, want := (state.Key{Kind: state.ItemOrder, Shop: "s.myshopify.com", ID: "5001"}).Ref(), state.ItemOrder+" s.myshopify.com/5001"; got != want {
		t.Errorf("order ref %q, want %q", got, want)
	}
}
