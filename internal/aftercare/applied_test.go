package aftercare

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// An item keeps a record for AppliedTTL and has room for MaxApplied; a copy
// finds its record until it is pruned.
func TestAnItemKeepsItsEventsRecordsForAWhile(t *testing.T) {
	now := time.Date(2019, 5, 1, 12, 0, 0, 0, time.UTC)
	var l AppliedLog
	l.Remember("old", now.Add(-AppliedTTL), []Message{{ID: "m-old"}})
	l.Remember("recent", now.Add(-AppliedTTL+time.Minute), []Message{{ID: "m-recent"}})
	l.Prune(now)
	if _, ok := l.Recalled("old"); ok {
		t.Error("a record AppliedTTL old is still kept")
	}
	if a, ok := l.Recalled("recent"); !ok || len(a.Outbox) != 1 || a.Outbox[0].ID != "m-recent" {
		t.Errorf("record of recent: %+v, %v", a, ok)
	}
	for i := 1; i < MaxApplied; i++ {
		if !l.Room() {
			t.Fatalf("no room with %d records", len(l))
		}
		l.Remember(fmt.Sprint("ev-", i), now, nil)
	}
	if l.Room() {
		t.Errorf("room with %d records, MaxApplied %d", len(l), MaxApplied)
	}
}

// Scrub drops one shop's messages to the customers named, and keeps the
// records themselves.
func TestScrubDropsTheCustomersMessagesAndKeepsTheRecords(t *testing.T) {
	at := time.Date(2019, 5, 1, 12, 0, 0, 0, time.UTC)
	l := AppliedLog{
		{Event: "e1", At: at, Outbox: []Message{{ID: "a", Shop: "s", CustomerID: "7"}, {ID: "b", Shop: "s", CustomerID: "8"}}},
		{Event: "e2", At: at, Outbox: []Message{{ID: "c", Shop: "other", CustomerID: "7"}}},
	}
	if !l.Scrub("s", []string{"7"}) {
		t.Fatal("nothing scrubbed")
	}
	want := AppliedLog{
		{Event: "e1", At: at, Outbox: []Message{{ID: "b", Shop: "s", CustomerID: "8"}}},
		{Event: "e2", At: at, Outbox: []Message{{ID: "c", Shop: "other", CustomerID: "7"}}},
	}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("scrubbed to %+v, want %+v", l, want)
	}
	if l.Scrub("s", []string{"7"}) {
		t.Error("a second scrub reports a change")
	}
}
