package report_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/report"
)

// Over a year of hourly runs (at an odd minute), each zone gets exactly one
// digest run a week, at Monday 08:xx local time, DST weeks included.
func TestDigestDueOncePerWeek(t *testing.T) {
	base := time.Date(2024, 1, 1, 0, 17, 0, 0, time.UTC)
	for _, zone := range []string{"UTC", "America/New_York", "Europe/London", "Asia/Kathmandu", "Pacific/Chatham", "Australia/Lord_Howe"} {
		loc := mustZone(zone)
		perWeek := map[string]int{}
		for h := range 366 * 24 {
			at := base.Add(time.Duration(h) * time.Hour)
			if !report.DigestDue(at, loc) {
				continue
			}
			l := at.In(loc)
			if l.Weekday() != time.Monday || l.Hour() != 8 {
				t.Errorf("%s: due at %s local", zone, l)
			}
			perWeek[report.LastWeek(at, loc).From.Format(report.DayFormat)]++
		}
		if len(perWeek) < 52 {
			t.Errorf("%s: digest in %d weeks of a year", zone, len(perWeek))
		}
		for w, n := range perWeek {
			if n != 1 {
				t.Errorf("%s: week after %s has %d digest runs", zone, w, n)
			}
		}
	}
}

func TestLastWeek(t *testing.T) {
	loc := mustZone("America/New_York")
	// Monday 08:30 New York is 12:30 or 13:30 UTC; Sunday 23:30 there is Monday in UTC.
	mon := time.Date(2024, 5, 13, 8, 30, 0, 0, loc)
	for _, at := range []time.Time{mon, mon.Add(6*24*time.Hour + 15*time.Hour)} {
		r := report.LastWeek(at, loc)
		if got := r.From.Format(report.DayFormat) + ".." + r.To.Format(report.DayFormat); got != "2024-05-06..2024-05-12" {
			t.Errorf("last week of %s: %s", at, got)
		}
	}
}

func TestDigestContent(t *testing.T) {
	e := runSeed(t, seedHistory())
	// The seeded month's second week: Ben's damaged parcel is delivered
	// late, Cleo's parcel is late, Dora comes back after her win-back.
	week := report.Range{From: seedRange().From.AddDate(0, 0, 7), To: seedRange().From.AddDate(0, 0, 13)}
	cur := report.Compute(shopDomain, week, days(e))
	prev := report.Compute(shopDomain, report.Range{From: seedRange().From, To: seedRange().From.AddDate(0, 0, 6)}, days(e))
	d := report.Digest(cur, prev, "https://api.example.com", token, seedNow)
	for _, want := range []string{
		"Week of 2024-05-13 to 2024-05-19",
		"Orders: 1 (−67% on the week before)", // Dora's; the week before had Ann's, Ben's and Cleo's
		"Revenue: 45.00 USD (−65% on the week before)",
		"New customers: 0 (",
		"Returning customers: 1 (none the week before)",
		"On-time deliveries: 0.0% of 2 delivered", // Ben's and Cleo's, both late
		"Won back: 1 customer, 45.00 USD",
	} {
		if !strings.Contains(d.WhatHappened, want) {
			t.Errorf("digest lacks %q:\n%s", want, d.WhatHappened)
		}
	}
	u, err := url.Parse(d.Link)
	if err != nil || !strings.Contains(d.NextAction, d.Link) {
		t.Fatalf("link %q in %q: %v", d.Link, d.NextAction, err)
	}
	if q := u.Query(); q.Get("from") != "2024-05-13" || q.Get("to") != "2024-05-19" || q.Get("shop") != shopDomain {
		t.Errorf("link names %v", q)
	}
	// The link opens the page until it expires.
	h := newHandler(&memDays{days: days(e)}, seedNow.Add(report.DigestLinkTTL-time.Minute))
	if w := get(h, u.RequestURI(), nil); w.Code != 200 {
		t.Errorf("digest link: status %d", w.Code)
	}
	h = newHandler(&memDays{days: days(e)}, seedNow.Add(report.DigestLinkTTL+time.Minute))
	if w := get(h, u.RequestURI(), nil); w.Code != 401 {
		t.Errorf("expired digest link: status %d", w.Code)
	}
	m := report.DigestMessage(shopDomain, week, seedNow)
	again := report.DigestMessage(shopDomain, week, seedNow.Add(time.Hour))
	next := report.DigestMessage(shopDomain, report.Range{From: week.From.AddDate(0, 0, 7), To: week.To.AddDate(0, 0, 7)}, seedNow)
	if m.ID != again.ID || m.ID == next.ID || m.Kind != aftercare.KindWeeklyReport || m.Kind.Audience() != aftercare.AudienceTeam || m.Kind.Category() != aftercare.Transactional {
		t.Errorf("digest messages: %+v %+v %+v", m, again, next)
	}
}
