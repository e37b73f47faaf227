package report_test

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/report"
)

// New, returning and repeat counts are distinct-customer counts over any
// range, yet come from per-day counters: compare them with counting the
// customers themselves, for random histories and random ranges.
func TestCustomerCountsExactOverAnyRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	loc := mustZone("Europe/Berlin")
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, loc)
	var customers []*aftercare.Customer
	all := report.Adds{}
	for i := range 300 {
		c := &aftercare.Customer{Shop: shopDomain, ID: strconv.Itoa(i)}
		for range 1 + rng.IntN(6) {
			at := start.Add(time.Duration(rng.IntN(700*24)) * time.Hour)
			c.AddOrder(aftercare.OrderRef{ID: strconv.Itoa(rng.IntN(1 << 30)), At: at, Cents: 1000, Cancelled: rng.IntN(10) == 0})
		}
		customers = append(customers, c)
		all.Merge(report.Customer(c, loc))
	}
	day := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	for range 200 {
		from := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(700))
		r := report.Range{From: from, To: from.AddDate(0, 0, rng.IntN(report.MaxRangeDays))}
		var newN, returning, active, repeat int64
		for _, c := range customers {
			placed := c.Placed()
			if len(placed) == 0 {
				continue
			}
			in := false
			for _, o := range placed {
				if d := day(o.At); !d.Before(r.From) && !d.After(r.To) {
					in = true
				}
			}
			if !in {
				continue
			}
			active++
			if len(placed) >= 2 {
				repeat++
			}
			if day(placed[0].At).Before(r.From) {
				returning++
			} else {
				newN++
			}
		}
		got := report.Compute(shopDomain, r, all).Customers
		wantRate := 0.0
		if active > 0 {
			wantRate = float64(int64(float64(repeat)/float64(active)*10000+0.5)) / 10000
		}
		if got.New != newN || got.Returning != returning || got.RepeatPurchaseRate != wantRate {
			t.Fatalf("%s..%s: got new %d returning %d rate %v, want %d %d %v", r.From.Format(report.DayFormat), r.To.Format(report.DayFormat),
				got.New, got.Returning, got.RepeatPurchaseRate, newN, returning, wantRate)
		}
	}
}
