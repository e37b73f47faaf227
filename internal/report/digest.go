package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// DigestLinkTTL is how long the digest's link to the dashboard works.
const DigestLinkTTL = 14 * 24 * time.Hour

// DigestDue reports whether a scheduled run at t is the shop's weekly digest
// run: t falls in Monday 08:00-08:59 in the shop's zone. An hourly schedule
// has exactly one run in that hour whatever its minute offset or the zone's;
// a more frequent one has several, which the message id (one per shop and
// week) lets out once.
func DigestDue(t time.Time, loc *time.Location) bool {
	l := t.In(loc)
	return l.Weekday() == time.Monday && l.Hour() == 8
}

// LastWeek is the Monday-to-Sunday week before the one t falls in, in loc.
func LastWeek(t time.Time, loc *time.Location) Range {
	today := civil(t, loc)
	monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	return Range{From: monday.AddDate(0, 0, -7), To: monday.AddDate(0, 0, -1)}
}

// DigestMessage is the weekly_report team message for a shop's week; its id
// derives from shop and week, so repeated runs queue it once.
func DigestMessage(shop string, week Range, now time.Time) aftercare.Message {
	m := aftercare.Message{Kind: aftercare.KindWeeklyReport, Shop: shop}
	m.Stamp(now, week.From.Format(DayFormat))
	return m
}

// DigestText is the digest's wording for the message contract's fields.
type DigestText struct {
	WhatHappened string // the headline numbers, one per line, with the change
	NextAction   string // open the dashboard, with the signed link
	Link         string
}

// Digest words the week's headline numbers against the week before, and
// links the week's dashboard (signed with the report token, expiring).
func Digest(cur, prev *Report, base, token string, now time.Time) DigestText {
	rng := Range{}
	rng.From, _ = time.Parse(DayFormat, cur.From)
	rng.To, _ = time.Parse(DayFormat, cur.To)
	link := SignedLink(base, token, cur.Shop, rng, now.Add(DigestLinkTTL))
	var b strings.Builder
	line := func(label, value, change string) {
		fmt.Fprintf(&b, "%s: %s (%s)\n", label, value, change)
	}
	ch := func(c, p float64) string {
		h := headline("", "", c, p, "", "", true)
		if h.Change == "new" {
			return "none the week before"
		}
		return h.Change + " on the week before"
	}
	line("Orders", fmt.Sprint(cur.Orders.Count), ch(float64(cur.Orders.Count), float64(prev.Orders.Count)))
	line("Revenue", cur.Orders.Revenue+" "+cur.Orders.Currency, ch(float64(cur.Orders.cents), float64(prev.Orders.cents)))
	line("New customers", fmt.Sprint(cur.Customers.New), ch(float64(cur.Customers.New), float64(prev.Customers.New)))
	line("Returning customers", fmt.Sprint(cur.Customers.Returning), ch(float64(cur.Customers.Returning), float64(prev.Customers.Returning)))
	onTime := "no deliveries judged"
	if r := cur.Deliveries.OnTimeRate; r != nil {
		onTime = pct(*r)
	}
	fmt.Fprintf(&b, "On-time deliveries: %s of %d delivered\n", onTime, cur.Deliveries.Count)
	line("Problems opened", fmt.Sprint(openedTotal(cur)), ch(float64(openedTotal(cur)), float64(openedTotal(prev))))
	wb := cur.Recovery[string(aftercare.KindWinBack)]
	ln := cur.Recovery[string(aftercare.KindLapseNote)]
	who := "customers"
	if wb.Recovered+ln.Recovered == 1 {
		who = "customer"
	}
	fmt.Fprintf(&b, "Won back: %d %s, %s %s\n", wb.Recovered+ln.Recovered, who, Money(wb.cents+ln.cents), cur.Orders.Currency)
	return DigestText{
		WhatHappened: strings.TrimSpace(fmt.Sprintf("Week of %s to %s\n%s", cur.From, cur.To, b.String())),
		NextAction:   "Open the dashboard for the whole picture (the link works for 14 days): " + link,
		Link:         link,
	}
}

// DigestAt is the week t falls in (Monday to Sunday in loc) and the time its
// digest is due: the Monday after, 08:00 in loc (SPEC 14).
func DigestAt(t time.Time, loc *time.Location) (Range, time.Time) {
	today := civil(t, loc)
	monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	next := monday.AddDate(0, 0, 7)
	return Range{From: monday, To: next.AddDate(0, 0, -1)}, time.Date(next.Year(), next.Month(), next.Day(), 8, 0, 0, 0, loc)
}
