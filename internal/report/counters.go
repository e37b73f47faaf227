// Package report owns the merchant's report: the per-shop daily counters that
// events and delivery decisions keep up, the report computed from a range of
// those days, the dashboard page, the weekly digest and the terminal table.
//
// Every entity (order, customer, parcel, message decision) contributes to the
// daily counters as a pure function of its own state. The engine adds
// contribution(after) - contribution(before) in the transaction that writes the
// entity, so a duplicate (no state change) adds nothing and any arrival order
// that reaches the same state gives the same counters.
package report

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// DayFormat names a day in the shop's time zone; day items sort by it.
const DayFormat = "2006-01-02"

// Counters are one day's aggregates of one shop: counter name -> value.
type Counters map[string]int64

// Adds are counter increments by day (DayFormat in the shop's time zone). The
// store applies each day's counters with DynamoDB's ADD, so increments commute.
type Adds map[string]Counters

// Add adds n to a counter of a day.
func (a Adds) Add(day, name string, n int64) {
	if n == 0 {
		return
	}
	c := a[day]
	if c == nil {
		c = Counters{}
		a[day] = c
	}
	c[name] += n
	if c[name] == 0 {
		delete(c, name)
		if len(c) == 0 {
			delete(a, day)
		}
	}
}

// Merge adds every counter of b into a.
func (a Adds) Merge(b Adds) {
	for day, cs := range b {
		for name, n := range cs {
			a.Add(day, name, n)
		}
	}
}

// Delta is after - before, without zero counters: what to add when an entity
// moves from before to after.
func Delta(before, after Adds) Adds {
	out := Adds{}
	out.Merge(after)
	for day, cs := range before {
		for name, n := range cs {
			out.Add(day, name, -n)
		}
	}
	return out
}

// Days lists the days of a, sorted.
func (a Adds) Days() []string {
	out := make([]string, 0, len(a))
	for d := range a {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Counter names. They are short because each is an attribute of a day item;
// a name's parts are joined by ':'.
const (
	cOrders        = "o"  // orders created (not test, not cancelled)
	cRevenue       = "r"  // r:<currency>: cents, net of refunds
	cNew           = "cn" // customers whose first order is on the day
	cActive        = "ca" // ca:<gap>: customers ordering on the day, by days since their previous order day
	cRepeatActive  = "cr" // cr:<gap>: the same, only customers with two or more orders ever
	cSecond        = "c2" // c2:<bucket>: second orders on the day, by days since the first
	cDeliveries    = "d"  // parcels delivered on the day
	cOnTime        = "dt" // ... by the carrier's first estimated day
	cLate          = "dl" // ... after it
	cDeliverDays   = "dd" // dd:<days>: days from first scan in transit to delivery
	cExcOpened     = "eo" // eo:<type>: exceptions opened on the day
	cExcStillOpen  = "ex" // ex:<type>: of those, still open
	cExcResolved   = "er" // er:<type>: exceptions closed on the day
	cExcHours      = "eh" // eh:<type>:<bucket>: hours from opening to closing, by close day
	cParcels       = "po" // po:<carrier>: parcels first shipped on the day
	cCarrierExc    = "pe" // pe:<carrier>:<type>: parcels of the carrier that hit the exception
	cMessages      = "m"  // m:<kind>:<decision>: message decisions on the day
	cRecovered     = "rv" // rv:<kind>: customers ordering within 30 days after kind was sent
	cRecoveredCent = "rc" // rc:<kind>: that order's cents
	cUnsubscribes  = "u"  // marketing consent withdrawn on the day, per channel
)

// gapFirst stands for "no earlier order day within the longest range": a
// report range is at most MaxRangeDays, so longer gaps count like first orders.
const gapFirst = "f"

func name(parts ...string) string { return strings.Join(parts, ":") }

// dayOf names the day of t in loc.
func dayOf(t time.Time, loc *time.Location) string { return t.In(loc).Format(DayFormat) }

// civil is the day of t in loc as a date at UTC midnight, so days subtract exactly.
func civil(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func daysBetween(a, b time.Time, loc *time.Location) int {
	return int(civil(b, loc).Sub(civil(a, loc)).Hours() / 24)
}

// Histograms are bounded so a day item stays small; each bucket is named by
// its lower bound. Medians read from them are exact to the bucket width.
func daysBucket(d int) int {
	switch {
	case d < 0:
		return 0
	case d <= 60:
		return d
	case d <= 365:
		return d / 7 * 7
	case d <= 1095:
		return d / 30 * 30
	}
	return 1095
}

func hoursBucket(h int) int {
	switch {
	case h < 0:
		return 0
	case h <= 72:
		return h
	case h <= 168:
		return h / 6 * 6
	case h <= 720:
		return h / 24 * 24
	}
	return 720
}

func itoa(n int) string { return strconv.Itoa(n) }
