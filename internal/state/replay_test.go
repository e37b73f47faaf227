package state_test

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aftercare/aftercare/infra/lives"
	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/sources"
	"github.com/aftercare/aftercare/internal/state"
)

// livesEvents parses n order lives of infra/lives (the soak's and the cost
// run's) into events, in the plan's order.
func livesEvents(t *testing.T, n int) []aftercare.Event {
	t.Helper()
	g, err := lives.LoadGoldens("../..")
	if err != nil {
		t.Fatal(err)
	}
	var out []aftercare.Event
	for _, phase := range lives.NewLives(g, 11, n, clock).Phases {
		for _, h := range phase {
			path, _, _ := strings.Cut(h.Path, "?")
			name := strings.TrimPrefix(strings.TrimPrefix(path, "/webhooks/carriers/"), "/webhooks/")
			src, ok := sources.ByName(name)
			if !ok {
				t.Fatalf("no source for %s", h.Path)
			}
			hdr := http.Header{}
			for k, v := range h.Headers {
				hdr.Set(k, v)
			}
			ev, err := src.New("").Parse(h.Body, hdr, clock)
			if err != nil {
				t.Fatalf("%s: %v", h.What, err)
			}
			if ev.Kind != "" {
				out = append(out, ev)
			}
		}
	}
	return out
}

// Every event is idempotent by state alone: after 120 lives (redactions
// included), each event delivered again under a new id, so that its dedupe
// record cannot catch it, changes nothing, counts nothing and queues
// nothing. A late fulfillment or scan of an order customers/redact took is
// the case that used to fail: it stored the order and its parcels again.
func TestEveryEventIsIdempotentByState(t *testing.T) {
	e := newMemEnv(t)
	evs := livesEvents(t, 120)
	for _, ev := range evs {
		e.process(t, ev)
	}
	before := e.dump(t)
	failed := map[string]int{}
	for i, ev := range evs {
		again := ev
		again.ID = "replay-" + strconv.Itoa(i) + ":" + ev.ID
		res := e.process(t, again)
		// A privacy request keeps its dedupe record whatever it finds (it
		// fans out in steps); its copy must still find nothing to do.
		privacy := ev.Privacy != nil && res.Outcome == state.Applied && len(res.Changes) == 0
		if res.Outcome != state.Unchanged && !privacy || len(res.Messages) > 0 {
			failed[ev.Topic+" "+string(ev.Kind)]++
			if failed[ev.Topic+" "+string(ev.Kind)] == 1 {
				t.Logf("%s (%s): outcome %s, %d messages, changes %v", ev.ID, ev.Topic, res.Outcome, len(res.Messages), res.Changes)
			}
		}
	}
	after := e.dump(t)
	for k := range after {
		if strings.HasPrefix(k, "EVENT#") {
			delete(after, k)
		}
	}
	for k := range before {
		if strings.HasPrefix(k, "EVENT#") {
			delete(before, k)
		}
	}
	if d := diff(before, after); len(d) > 0 {
		sort.Strings(d)
		if len(d) > 20 {
			d = d[:20]
		}
		t.Errorf("the replay changed the state:\n%s", strings.Join(d, "\n"))
	}
	if len(failed) > 0 {
		t.Errorf("events not idempotent by state (topic kind: count of %d events): %v", len(evs), failed)
	}
}
