package report_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/report"
)

// a year of busy days: 40 counters a day.
func yearOfDays() (report.Range, map[string]report.Counters) {
	r := report.Range{From: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)}
	r.To = r.From.AddDate(0, 0, 364)
	days := map[string]report.Counters{}
	for i, d := range r.Each() {
		c := report.Counters{"o": 20, "r:USD": 123456, "cn": 5, "d": 18, "dt": 15, "dl": 3, "u": 1}
		for g := range 12 {
			c["ca:"+strconv.Itoa(g*30+1)] = 2
			c["cr:"+strconv.Itoa(g*30+1)] = 1
		}
		for _, k := range []string{"order_shipped", "delivered_setup", "review_request", "care_tips", "win_back"} {
			c["m:"+k+":sent"] = int64(i%7 + 1)
		}
		c["eo:delay"], c["er:delay"], c["eh:delay:30"], c["dd:3"], c["c2:40"], c["po:ups"] = 1, 1, 1, 18, 1, 18
		days[d] = c
	}
	return r, days
}

// Computing a 365-day report from its day items, against the floor of
// visiting every counter once (what any computation must do).
func BenchmarkCompute365(b *testing.B) {
	r, days := yearOfDays()
	b.ReportAllocs()
	for b.Loop() {
		report.Compute(shopDomain, r, days)
	}
}

func BenchmarkCompute365Floor(b *testing.B) {
	r, days := yearOfDays()
	b.ReportAllocs()
	var sink int64
	for b.Loop() {
		for _, d := range r.Each() {
			for n, v := range days[d] {
				if strings.IndexByte(n, ':') >= 0 {
					sink += v
				}
			}
		}
	}
	_ = sink
}

// What one commit adds for a changed order: two contributions and a delta.
func BenchmarkOrderChange(b *testing.B) {
	e := runSeed(b, seedHistory())
	var before, after any
	for k, it := range e.store.items {
		if k.Kind == "order" && k.ID == "1002" {
			before, after = it.Body(), it.Body()
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		report.Change(before, after, seedZone)
	}
}
