package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// MaxRangeDays is the longest report range.
const MaxRangeDays = 366

// Range is a report's period: dates inclusive, in the shop's time zone, each
// a UTC midnight.
type Range struct{ From, To time.Time }

// ParseRange reads from and to (YYYY-MM-DD) and checks the range.
func ParseRange(from, to string) (Range, error) {
	f, err := time.Parse(DayFormat, from)
	if err != nil {
		return Range{}, aftercare.Errorf(aftercare.EINVALID, "from: want YYYY-MM-DD, got %q", clip(from))
	}
	t, err := time.Parse(DayFormat, to)
	if err != nil {
		return Range{}, aftercare.Errorf(aftercare.EINVALID, "to: want YYYY-MM-DD, got %q", clip(to))
	}
	r := Range{From: f, To: t}
	switch n := r.Days(); {
	case t.Before(f):
		return Range{}, aftercare.Errorf(aftercare.EINVALID, "to (%s) is before from (%s)", to, from)
	case n > MaxRangeDays:
		return Range{}, aftercare.Errorf(aftercare.EINVALID, "range of %d days is longer than %d", n, MaxRangeDays)
	}
	return r, nil
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// Days is the number of days in the range.
func (r Range) Days() int { return int(r.To.Sub(r.From).Hours()/24) + 1 }

// Previous is the range of the same length just before r.
func (r Range) Previous() Range {
	n := r.Days()
	return Range{From: r.From.AddDate(0, 0, -n), To: r.From.AddDate(0, 0, -1)}
}

// Each lists the range's days (DayFormat).
func (r Range) Each() []string {
	out := make([]string, 0, r.Days())
	for d := r.From; !d.After(r.To); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(DayFormat))
	}
	return out
}

// Report is the SPEC 14 JSON.
type Report struct {
	Shop         string                     `json:"shop"`
	From         string                     `json:"from"`
	To           string                     `json:"to"`
	Orders       Orders                     `json:"orders"`
	Customers    Customers                  `json:"customers"`
	Deliveries   Deliveries                 `json:"deliveries"`
	Exceptions   map[string]*ExceptionStats `json:"exceptions"`
	Messages     map[string]*MessageStats   `json:"messages"`
	Recovery     map[string]*Recovery       `json:"recovery"`
	Unsubscribes int64                      `json:"unsubscribes"`
	// Carriers adds the per-carrier exception picture to the SPEC fields.
	Carriers map[string]*CarrierStats `json:"carriers"`
}

// Orders are the orders created in the period.
type Orders struct {
	Count    int64  `json:"count"`
	Revenue  string `json:"revenue"`
	Currency string `json:"currency"`
	// Other currencies' revenue when the shop sells in more than one.
	Other map[string]string `json:"other_currencies,omitempty"`
	cents int64
}

// Customers are the buyers of the period.
type Customers struct {
	New                     int64    `json:"new"`
	Returning               int64    `json:"returning"`
	RepeatPurchaseRate      float64  `json:"repeat_purchase_rate"`
	MedianDaysToSecondOrder *float64 `json:"median_days_to_second_order"`
}

// Deliveries are the parcels delivered in the period.
type Deliveries struct {
	Count               int64    `json:"count"`
	OnTime              int64    `json:"on_time"`
	Late                int64    `json:"late"`
	OnTimeRate          *float64 `json:"on_time_rate"`
	MedianDaysToDeliver *float64 `json:"median_days_to_deliver"`
}

// ExceptionStats are one playbook's openings (in the period), closings (in
// the period) and, of the openings, how many are still open.
type ExceptionStats struct {
	Opened               int64    `json:"opened"`
	Resolved             int64    `json:"resolved"`
	Open                 int64    `json:"open"`
	MedianHoursToResolve *float64 `json:"median_hours_to_resolve"`
}

// MessageStats are one kind's decisions in the period.
type MessageStats struct {
	Sent       int64 `json:"sent"`
	Held       int64 `json:"held"`
	Suppressed int64 `json:"suppressed"`
	Stale      int64 `json:"stale"`
	Failed     int64 `json:"failed"`
}

// Recovery is what one lifecycle kind brought back.
type Recovery struct {
	Sent      int64  `json:"sent"`
	Recovered int64  `json:"recovered"`
	Revenue   string `json:"revenue"`
	cents     int64
}

// CarrierStats are one carrier's parcels shipped in the period and the
// exceptions they hit.
type CarrierStats struct {
	Parcels    int64            `json:"parcels"`
	Exceptions map[string]int64 `json:"exceptions"`
}

// Compute builds the report of r from the shop's day counters (days missing
// from the map had no activity). Dates are the shop's.
func Compute(shop string, r Range, days map[string]Counters) *Report {
	rep := &Report{
		Shop: shop, From: r.From.Format(DayFormat), To: r.To.Format(DayFormat),
		Exceptions: map[string]*ExceptionStats{}, Messages: map[string]*MessageStats{},
		Recovery: map[string]*Recovery{}, Carriers: map[string]*CarrierStats{},
	}
	for _, t := range ExceptionTypes {
		rep.Exceptions[string(t)] = &ExceptionStats{}
	}
	for _, k := range RecoveryKinds {
		rep.Recovery[string(k)] = &Recovery{}
	}
	revenue := map[string]int64{}
	var active, repeatActive int64
	second, deliver := histogram{}, histogram{}
	hours := map[string]histogram{}
	for i, day := range r.Each() {
		for n, v := range days[day] {
			parts := split(n)
			switch parts[0] {
			case cOrders:
				rep.Orders.Count += v
			case cRevenue:
				revenue[part(parts, 1)] += v
			case cNew:
				rep.Customers.New += v
			case cActive, cRepeatActive:
				// Counted once, on the customer's first order day in the range:
				// the one whose previous order day is before the range.
				g := part(parts, 1)
				if n, err := strconv.Atoi(g); g == gapFirst || err == nil && n > i {
					if parts[0] == cActive {
						active += v
					} else {
						repeatActive += v
					}
				}
			case cSecond:
				second.add(part(parts, 1), v)
			case cDeliveries:
				rep.Deliveries.Count += v
			case cOnTime:
				rep.Deliveries.OnTime += v
			case cLate:
				rep.Deliveries.Late += v
			case cDeliverDays:
				deliver.add(part(parts, 1), v)
			case cExcOpened, cExcStillOpen, cExcResolved:
				e := rep.Exceptions[part(parts, 1)]
				if e == nil {
					e = &ExceptionStats{}
					rep.Exceptions[part(parts, 1)] = e
				}
				switch parts[0] {
				case cExcOpened:
					e.Opened += v
				case cExcStillOpen:
					e.Open += v
				default:
					e.Resolved += v
				}
			case cExcHours:
				typ := part(parts, 1)
				if hours[typ] == nil {
					hours[typ] = histogram{}
				}
				hours[typ].add(part(parts, 2), v)
			case cParcels:
				rep.carrier(part(parts, 1)).Parcels += v
			case cCarrierExc:
				rep.carrier(part(parts, 1)).Exceptions[part(parts, 2)] += v
			case cMessages:
				rep.message(part(parts, 1)).add(part(parts, 2), v)
			case cRecovered, cRecoveredCent:
				rc := rep.Recovery[part(parts, 1)]
				if rc == nil {
					continue
				}
				if parts[0] == cRecovered {
					rc.Recovered += v
				} else {
					rc.cents += v
				}
			case cUnsubscribes:
				rep.Unsubscribes += v
			}
		}
	}
	rep.Orders.Currency, rep.Orders.cents = mainCurrency(revenue)
	rep.Orders.Revenue = Money(rep.Orders.cents)
	for cur, cents := range revenue {
		if cur != rep.Orders.Currency {
			if rep.Orders.Other == nil {
				rep.Orders.Other = map[string]string{}
			}
			rep.Orders.Other[cur] = Money(cents)
		}
	}
	rep.Customers.Returning = max(active-rep.Customers.New, 0)
	if active > 0 {
		rep.Customers.RepeatPurchaseRate = round(float64(repeatActive)/float64(active), 4)
	}
	rep.Customers.MedianDaysToSecondOrder = second.median()
	if judged := rep.Deliveries.OnTime + rep.Deliveries.Late; judged > 0 {
		rate := round(float64(rep.Deliveries.OnTime)/float64(judged), 4)
		rep.Deliveries.OnTimeRate = &rate
	}
	rep.Deliveries.MedianDaysToDeliver = deliver.median()
	for typ, h := range hours {
		if e := rep.Exceptions[typ]; e != nil {
			e.MedianHoursToResolve = h.median()
		}
	}
	for kind, rc := range rep.Recovery {
		rc.Revenue = Money(rc.cents)
		if m := rep.Messages[kind]; m != nil {
			rc.Sent = m.Sent
		}
	}
	return rep
}

// split cuts a counter name into its (at most three) parts without allocating.
func split(n string) [3]string {
	var p [3]string
	p[0], n, _ = strings.Cut(n, ":")
	p[1], p[2], _ = strings.Cut(n, ":")
	return p
}

func part(parts [3]string, i int) string { return parts[i] }

func (rep *Report) carrier(name string) *CarrierStats {
	c := rep.Carriers[name]
	if c == nil {
		c = &CarrierStats{Exceptions: map[string]int64{}}
		rep.Carriers[name] = c
	}
	return c
}

func (rep *Report) message(kind string) *MessageStats {
	m := rep.Messages[kind]
	if m == nil {
		m = &MessageStats{}
		rep.Messages[kind] = m
	}
	return m
}

func (m *MessageStats) add(decision string, v int64) {
	switch decision {
	case "sent":
		m.Sent += v
	case "held":
		m.Held += v
	case "suppressed":
		m.Suppressed += v
	case "stale":
		m.Stale += v
	case "failed":
		m.Failed += v
	}
}

// mainCurrency is the currency with the most revenue (USD for none).
func mainCurrency(rev map[string]int64) (string, int64) {
	cur, best := "", int64(-1)
	for c, v := range rev {
		if v > best || v == best && c < cur {
			cur, best = c, v
		}
	}
	if cur == "" {
		return "USD", 0
	}
	return cur, best
}

// Money formats cents as "12.34".
func Money(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

func round(v float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// histogram counts values by bucket lower bound.
type histogram map[int]int64

func (h histogram) add(bucket string, v int64) {
	if n, err := strconv.Atoi(bucket); err == nil {
		h[n] += v
	}
}

// median is the median of the bucketed values (the mean of the two middle
// ones for an even count), nil without values.
func (h histogram) median() *float64 {
	var total int64
	keys := make([]int, 0, len(h))
	for k, v := range h {
		if v > 0 {
			keys = append(keys, k)
			total += v
		}
	}
	if total == 0 {
		return nil
	}
	sort.Ints(keys)
	at := func(rank int64) int { // 1-based
		var seen int64
		for _, k := range keys {
			seen += h[k]
			if seen >= rank {
				return k
			}
		}
		return keys[len(keys)-1]
	}
	m := float64(at((total + 1) / 2))
	if total%2 == 0 {
		m = (m + float64(at(total/2+1))) / 2
	}
	return &m
}
