package aftercare

import (
	"testing"
	"time"
)

// A change the search index shows after a newer one (updated before the
// cursor, within the overlap) is not seen, so it is queued, once; changes
// older than the overlap count as seen; the same second is told apart by id.
func TestReconcileCursorCatchesALateIndexedChange(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var c ReconcileCursor
	if !c.Since().IsZero() || c.Seen("1", t0) {
		t.Fatalf("a new cursor: since %s, seen %v", c.Since(), c.Seen("1", t0))
	}
	c.Advance("1", t0)
	c.Advance("2", t0.Add(10*time.Second))
	c.Advance("3", t0.Add(10*time.Second))
	if got := c.Since(); !got.Equal(t0.Add(10*time.Second - ReconcileOverlap)) {
		t.Fatalf("since %s", got)
	}
	late := t0.Add(5 * time.Second) // indexed after order 2's change
	if c.Seen("4", late) {
		t.Fatal("the late-indexed change counts as queued: it would be missed")
	}
	for _, q := range []struct {
		id string
		at time.Time
	}{{"1", t0}, {"2", t0.Add(10 * time.Second)}, {"3", t0.Add(10 * time.Second)}, {"9", t0.Add(-ReconcileOverlap)}} {
		if !c.Seen(q.id, q.at) {
			t.Errorf("order %s at %s is queued again", q.id, q.at)
		}
	}
	if c.Seen("4", t0.Add(10*time.Second)) {
		t.Error("another order of the cursor's second counts as queued")
	}
	c.Advance("4", late)
	if !c.Seen("4", late) || !c.At.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("after queueing the late change: seen %v, at %s", c.Seen("4", late), c.At)
	}
	// The overlap's memory stays bounded: what falls out of it is seen by time.
	c.Advance("5", t0.Add(time.Hour))
	if len(c.Recent) != 0 || !c.Seen("4", late) {
		t.Fatalf("an hour later: recent %v, order 4 seen %v", c.Recent, c.Seen("4", late))
	}
}
