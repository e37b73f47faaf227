package main

import (
	"strings"
	"testing"
)

// A transactional duplicate is allowed only when every earlier 2xx went to
// a sender that then died before recording; any other duplicate fails the
// soak, and so does any marketing duplicate.
func TestCompareExplainsOnlyDuplicatesOfADeadSender(t *testing.T) {
	clean := &outcome{Sink: map[string]received{
		"a": {Kind: "order_shipped", Category: "transactional", OK: 1, From: []int{10}},
		"b": {Kind: "order_shipped", Category: "transactional", OK: 1, From: []int{10}},
		"w": {Kind: "win_back", Category: "marketing", OK: 1, From: []int{10}},
	}}
	faulty := func(b received, died ...int) *outcome {
		o := &outcome{Sink: map[string]received{
			"a": {Kind: "order_shipped", Category: "transactional", OK: 2, From: []int{21, 22}},
			"b": b,
			"w": {Kind: "win_back", Category: "marketing", OK: 1, From: []int{22}},
		}, Died: map[int]bool{}}
		for _, pid := range died {
			o.Died[pid] = true
		}
		return o
	}
	r := compare(3, clean, faulty(received{Kind: "order_shipped", Category: "transactional", OK: 1, From: []int{22}}, 21), options{}, 0)
	if l := r.By["transactional"]; l.Duplicated != 0 || l.Redelivered != 1 || l.SenderDied != 1 || !r.ok() {
		t.Fatalf("sender 21 died after its 2xx: duplicated %d, same id 2xx %d, sender died %d, ok %v", l.Duplicated, l.Redelivered, l.SenderDied, r.ok())
	}
	gone := faulty(received{Kind: "order_shipped", Category: "transactional", OK: 1, From: []int{22}})
	gone.Sink["a"] = received{Kind: "order_shipped", Category: "transactional", OK: 2, From: []int{0, 22}}
	if r := compare(3, clean, gone, options{}, 0); r.By["transactional"].SenderDied != 1 || !r.ok() {
		t.Fatalf("a sender no longer running as it was answered never read the 2xx: %+v", *r.By["transactional"])
	}
	r = compare(3, clean, faulty(received{Kind: "order_shipped", Category: "transactional", OK: 1, From: []int{22}}), options{}, 0)
	if l := r.By["transactional"]; l.SenderDied != 0 || l.Duplicated != 1 || r.ok() {
		t.Fatalf("both senders alive: sender died %d, duplicated %d, ok %v; want an unexplained duplicate", l.SenderDied, l.Duplicated, r.ok())
	}
	if !strings.Contains(r.By["transactional"].DupIDs[0], "alive after its 2xx") {
		t.Errorf("the duplicate is not explained: %v", r.By["transactional"].DupIDs)
	}
	extra := faulty(received{Kind: "order_shipped", Category: "transactional", OK: 1, From: []int{22}}, 21)
	extra.Sink["c"] = received{Kind: "order_shipped", Category: "transactional", OK: 1, From: []int{22}}
	if r := compare(3, clean, extra, options{}, 0); r.By["transactional"].Duplicated != 1 || r.By["transactional"].Extra != 1 || r.ok() {
		t.Fatalf("a message the clean run never sent is one the receiver acts on twice: %+v", *r.By["transactional"])
	}
	undrained := faulty(received{Kind: "order_shipped", Category: "transactional", OK: 1, From: []int{22}}, 21)
	undrained.Undrained = []string{"phase 2"}
	if r := compare(3, clean, undrained, options{}, 0); r.ok() {
		t.Fatal("a phase that did not drain proves nothing, yet the report passed")
	}
	r = compare(3, clean, faulty(received{Kind: "order_shipped", Category: "transactional"}, 21), options{}, 0)
	if l := r.By["transactional"]; l.Lost != 1 || r.ok() {
		t.Fatalf("b never delivered: lost %d, ok %v", l.Lost, r.ok())
	}
	f := faulty(received{Kind: "order_shipped", Category: "transactional", OK: 1, From: []int{22}}, 21, 22)
	f.Sink["w"] = received{Kind: "win_back", Category: "marketing", OK: 2, From: []int{21, 22}}
	if r := compare(3, clean, f, options{}, 0); r.By["marketing"].Duplicated != 1 || r.By["marketing"].SenderDied != 0 || r.ok() {
		t.Fatalf("marketing twice: %+v, ok %v; at most once has no excuse", *r.By["marketing"], r.ok())
	}
}

// A transactional message lost in the faulty run fails the soak whatever
// its ledger says: the redactions come last, after every other phase has
// drained, so even a message its customer's redaction stopped was held too
// long. The redaction is named in the listing, as the likely cause.
func TestCompareExcusesNoLoss(t *testing.T) {
	clean := &outcome{Sink: map[string]received{
		"a": {Kind: "delivered_setup", Category: "transactional", OK: 1, From: []int{10}},
	}}
	for _, decision := range []string{"suppressed: customer redacted", "suppressed: unknown customer", ""} {
		f := &outcome{Sink: map[string]received{}, Ledger: map[string]string{}, Died: map[int]bool{}}
		if decision != "" {
			f.Ledger["a"] = decision
		}
		r := compare(1, clean, f, options{}, 0)
		l := r.By["transactional"]
		if l.Lost != 1 || (l.RedactedFirst == 1) != (decision == redactedDecision) || r.ok() {
			t.Errorf("ledger %q: lost %d, redacted first %d, ok %v; want lost and failing", decision, l.Lost, l.RedactedFirst, r.ok())
		}
	}
	// Marketing may lose an attempt of unknown outcome (at most once).
	clean.Sink["w"] = received{Kind: "win_back", Category: "marketing", OK: 1, From: []int{10}}
	f := &outcome{Sink: map[string]received{"a": clean.Sink["a"], "w": {Kind: "win_back", Category: "marketing", Unknown: 1}}, Died: map[int]bool{}}
	if r := compare(2, clean, f, options{}, 0); r.By["marketing"].Lost != 1 || !r.ok() {
		t.Errorf("marketing lost to an unknown outcome: %+v, ok %v", *r.By["marketing"], r.ok())
	}
}

// The faulty run's report counters must be the clean run's: message
// decisions summed over a shop's days (the runs decide minutes apart),
// the rest day by day; only a lost marketing attempt explains fewer sent.
func TestCounterDiff(t *testing.T) {
	clean := map[string]map[string]int64{
		"s|2019-01-01": {"o": 2, "m:order_shipped:sent": 1, "m:care_tips:sent": 3, "rv:win_back": 1},
		"s|2019-01-02": {"d": 1},
	}
	same := map[string]map[string]int64{
		"s|2019-01-01": {"o": 2, "m:care_tips:sent": 3, "rv:win_back": 1},
		"s|2019-01-02": {"d": 1, "m:order_shipped:sent": 1}, // decided after midnight
	}
	if bad, allowed := counterDiff(clean, same, nil); len(bad)+len(allowed) != 0 {
		t.Errorf("same counts, a decision a day later: bad %v, allowed %v", bad, allowed)
	}
	faulty := map[string]map[string]int64{
		"s|2019-01-01": {"o": 3, "m:order_shipped:sent": 1, "m:care_tips:sent": 2},
		"s|2019-01-02": {"d": 1},
	}
	bad, allowed := counterDiff(clean, faulty, map[string]bool{"care_tips": true, "order_shipped": true})
	if len(bad) != 2 || !strings.HasPrefix(bad[0], "s|2019-01-01|o:") || !strings.HasPrefix(bad[1], "s|2019-01-01|rv:win_back:") {
		t.Errorf("bad %v, want the order count and the win_back recovery (no win_back was lost)", bad)
	}
	if len(allowed) != 1 || !strings.HasPrefix(allowed[0], "s|*|m:care_tips:sent:") {
		t.Errorf("allowed %v, want care_tips sent (a lost marketing attempt)", allowed)
	}
	if bad, _ := counterDiff(clean, faulty, nil); len(bad) != 3 {
		t.Errorf("without a lost attempt every difference is bad: %v", bad)
	}
}
