package aftercare

import (
	"fmt"
	"testing"
	"time"
)

var day = 24 * time.Hour

func quietCustomer(orders ...time.Time) *Customer {
	c := &Customer{Shop: "s", ID: "c", Email: "c@example.org", EmailConsent: Consent{State: ConsentSubscribed}}
	for i, at := range orders {
		c.AddOrder(OrderRef{ID: string(rune('a' + i)), At: at, Cents: 1000})
	}
	return c
}

func outcomes(ds []Decision) map[Kind]string {
	out := map[Kind]string{}
	for _, d := range ds {
		out[d.Kind] = string(d.Verdict) + ":" + string(d.Reason)
	}
	return out
}

func TestDecideWinBackAndLapse(t *testing.T) {
	s := DefaultSettings()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	one := quietCustomer(t0)
	if got := outcomes(one.Decide(t0.Add(95*day), s, nil)); got[KindWinBack] != "send:" {
		t.Fatalf("95 days quiet: %v", got)
	}
	if got := outcomes(one.Decide(t0.Add(80*day), s, nil)); got[KindWinBack] != "wait:not_due" {
		t.Fatalf("80 days quiet: %v", got)
	}
	loyal := quietCustomer(t0, t0.Add(30*day), t0.Add(60*day), t0.Add(90*day))
	got := outcomes(loyal.Decide(t0.Add(165*day), s, nil))
	if got[KindLapseNote] != "send:" || got[KindWinBack] != "" {
		t.Fatalf("loyal customer 75 days quiet: %v", got)
	}
	// The lapse threshold has a 30-day floor even for weekly buyers.
	weekly := quietCustomer(t0, t0.Add(7*day), t0.Add(14*day))
	if got := outcomes(weekly.Decide(t0.Add(14*day+20*day), s, nil)); got[KindLapseNote] != "wait:not_due" {
		t.Fatalf("weekly buyer 20 days quiet: %v", got)
	}
}

func TestDecideHoldsCapStaleAndRedaction(t *testing.T) {
	s := DefaultSettings()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := quietCustomer(t0)
	c.FirstDeliveredAt = t0.Add(2 * day)
	c.FollowUps = []FollowUp{{Kind: KindCareTips, OrderID: "a", DueAt: t0.Add(16 * day)}, {Kind: KindReviewRequest, OrderID: "a", DueAt: t0.Add(9 * day)}}

	now := t0.Add(17 * day) // review 8 days late: stale; care tips on time
	got := outcomes(c.Decide(now, s, nil))
	if got[KindReviewRequest] != "stale:late" || got[KindCareTips] != "send:" {
		t.Fatalf("stale and due: %v", got)
	}

	c.PutHold("exception:a:delay:order", Hold{Reason: HoldException, OrderID: "a", Since: now.Add(-time.Hour)})
	if got := outcomes(c.Decide(now, s, nil)); got[KindCareTips] != "held:hold" {
		t.Fatalf("under a hold: %v", got)
	}
	c.LiftHold("exception:a:delay:order")

	c.LastMarketingAt = now.Add(-2 * time.Hour)
	if got := outcomes(c.Decide(now, s, nil)); got[KindCareTips] != "wait:marketing_cap" {
		t.Fatalf("within the cap: %v", got)
	}
	c.LastMarketingAt = time.Time{}

	ref, _ := c.OrderRef("a")
	ref.Cancelled = true
	if got := outcomes(c.Decide(now, s, nil)); got[KindCareTips] != "suppressed:order_cancelled" {
		t.Fatalf("cancelled order: %v", got)
	}

	ref.Cancelled = false
	// A deleted customer keeps their history, and every piece of it is suppressed.
	c.Deleted = true
	ds := c.Decide(now, s, nil)
	if len(ds) == 0 {
		t.Fatal("a deleted customer still has work to decide")
	}
	for _, d := range ds {
		if d.Verdict != VerdictSuppressed || d.Reason != ReasonDeleted {
			t.Fatalf("deleted customer: %s got %s/%s, want suppressed/deleted", d.Kind, d.Verdict, d.Reason)
		}
	}
	// Redaction leaves nothing to work on at all.
	c.Redact(now)
	if ds := c.Decide(now, s, nil); len(ds) != 0 || !c.Redacted || c.Email != "" || len(c.FollowUps) != 0 {
		t.Fatalf("a redacted customer is a bare tombstone with no work: %+v, %+v", c, ds)
	}
}

func TestHoldsEndByThemselves(t *testing.T) {
	s := DefaultSettings()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &Customer{}
	c.PutHold("cancelled:1", Hold{Reason: HoldCancelled, Since: now, Until: now.Add(14 * day)})
	c.PutHold("exception:2", Hold{Reason: HoldException, Since: now})
	if until, held := c.HeldUntil(now.Add(day), s); !held || !until.Equal(now.Add(30*day)) {
		t.Fatalf("held until %s, %v", until, held)
	}
	if _, held := c.HeldUntil(now.Add(31*day), s); held {
		t.Fatal("no hold outlives holds.max_days")
	}
}

func TestMedianGapAndLifetime(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := quietCustomer(t0, t0.Add(10*day), t0.Add(40*day), t0.Add(50*day))
	if g := c.MedianGap(); g != 10*day {
		t.Fatalf("median gap %s", g)
	}
	ref, _ := c.OrderRef("b")
	ref.Refunded = 400
	if v := c.LifetimeCents(); v != 3600 {
		t.Fatalf("lifetime %d", v)
	}
	for i := 0; i < 150; i++ {
		c.AddOrder(OrderRef{ID: "x" + string(rune(i+100)), At: t0.Add(time.Duration(60+i) * day), Cents: 100})
	}
	if len(c.Orders) != MaxOrderRefs || c.OrderCount() != 154 {
		t.Fatalf("history bounded to %d refs and counted fully: %d refs, %d orders", MaxOrderRefs, len(c.Orders), c.OrderCount())
	}
}

func TestPruneMarksKeepsWhatStillMatters(t *testing.T) {
	s := DefaultSettings()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := quietCustomer(t0, t0.Add(100*day))
	now := t0.Add(700 * day)
	c.Marks = map[string]Mark{
		// Sent before the order of day 100, which it recovered: the report reads it.
		"win_back:" + TimeKey(t0): {State: MarkSent, At: t0.Add(95 * day)},
		// The cause the state names now: deleting it would send it again.
		"win_back:" + TimeKey(t0.Add(100*day)): {State: MarkSent, At: t0.Add(200 * day)},
		"check_in":                             {State: MarkQueued, At: t0.Add(day)},
		"review_request":                       {State: MarkHeld, At: t0.Add(2 * day)},
		"recent":                               {State: MarkSent, At: now.Add(-10 * day)},
		"lapse_note:old":                       {State: MarkSent, At: t0.Add(20 * day)},
		"replenishment:gone:x":                 {State: MarkStale, At: t0.Add(10 * day)},
	}
	c.PruneMarks(now, s)
	for _, k := range []string{"win_back:" + TimeKey(t0), "win_back:" + TimeKey(t0.Add(100*day)), "check_in", "review_request", "recent"} {
		if _, ok := c.Marks[k]; !ok {
			t.Errorf("mark %q was pruned", k)
		}
	}
	for _, k := range []string{"lapse_note:old", "replenishment:gone:x"} {
		if _, ok := c.Marks[k]; ok {
			t.Errorf("mark %q is %s old and names nothing, yet was kept", k, now.Sub(c.Marks[k].At))
		}
	}

	current := "win_back:" + TimeKey(t0.Add(100*day))
	for i := range MaxMarks + 100 {
		c.Marks[fmt.Sprintf("m%04d", i)] = Mark{State: MarkSent, At: now.Add(-time.Duration(i) * time.Hour)}
	}
	c.PruneMarks(now, s)
	if len(c.Marks) > MaxMarks+1 {
		t.Fatalf("%d marks kept, want at most %d (+1 current)", len(c.Marks), MaxMarks)
	}
	if _, ok := c.Marks["m0000"]; !ok {
		t.Error("the newest mark was dropped by the cap")
	}
	if _, ok := c.Marks[fmt.Sprintf("m%04d", MaxMarks+99)]; ok {
		t.Error("the oldest mark survived the cap")
	}
	if _, ok := c.Marks[current]; !ok {
		t.Error("the cap dropped the mark of a current cause")
	}
}
