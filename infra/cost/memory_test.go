package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestQuantileIsNearestRank(t *testing.T) {
	v := make([]float64, 0, 100)
	for i := 100; i >= 1; i-- {
		v = append(v, float64(i))
	}
	for q, want := range map[float64]float64{0.5: 50, 0.95: 95, 0.99: 99, 1: 100} {
		if got := quantile(v, q); got != want {
			t.Errorf("quantile(1..100, %v) = %v, want %v", q, got, want)
		}
	}
	if quantile(nil, 0.99) != 0 || mean(nil) != 0 || mean([]float64{1, 2, 6}) != 3 {
		t.Error("empty or mean wrong")
	}
}

// The sweep prices each function's GB-s per 1,000 orders, adds the idle
// checks' month to LifecycleChecks only, and picks the size that bills
// least with both.
func TestSweepPicksTheCheapestSize(t *testing.T) {
	bill := func(mb int, hookGBs, checkGBs, idleGBs float64) Bill {
		return Bill{Orders: 200,
			ByFn: map[string]Units{
				"WebhookFunction":         {"LambdaRequests": 1502, "LambdaGBSeconds": hookGBs},
				"LifecycleChecksFunction": {"LambdaRequests": 1, "LambdaGBSeconds": checkGBs},
			},
			Fixed: Units{"LambdaGBSeconds": idleGBs},
			Runs:  map[string]*Runs{"WebhookFunction": {Billed: []float64{40, 60}, Init: []float64{20}, MaxMemMB: 21}},
		}
	}
	var rows []sweepRow
	rows = append(rows, sweepRows(bill(128, 10, 0.4, 60), 128)...)
	rows = append(rows, sweepRows(bill(256, 19, 0.3, 120), 256)...)
	for _, r := range rows {
		if r.Fn == "WebhookFunction" && r.MB == 128 {
			if want := 10 * 0.0000133334 * 1000 / 200; math.Abs(r.USDPer1000-want) > 1e-12 || r.FixedUSDPerMonth != 0 || r.Mean != 50 || r.MaxMemMB != 21 {
				t.Errorf("webhook at 128 MB: %+v, want %v per 1,000 orders and no fixed part", r, want)
			}
		}
		if r.Fn == "LifecycleChecksFunction" && r.MB == 256 && math.Abs(r.FixedUSDPerMonth-120*0.0000133334) > 1e-12 {
			t.Errorf("checks at 256 MB: fixed %v, want the idle month's compute", r.FixedUSDPerMonth)
		}
	}
	var out bytes.Buffer
	if err := printSweep(&out, rows, run{n: 200, seed: 1, batch: 1, cpu: true}); err != nil {
		t.Fatal(err)
	}
	// Checks: 0.4 GB-s and 60 idle at 128 beat 0.3 and 120 at 256.
	for _, want := range []string{"least compute: LifecycleChecksFunction at 128 MB", "least compute: WebhookFunction at 128 MB"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("sweep output lacks %q:\n%s", want, out.String())
		}
	}
}
