package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// memorySweep measures the same month at each memory size, every function
// on that size's CPU share, and prints each function's durations and
// compute side by side: what right-sizing a function's MemorySize buys.
func memorySweep(ctx context.Context, w io.Writer, r run, sizes string) error {
	var mbs []int
	for _, f := range strings.Split(sizes, ",") {
		mb, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || mb < 128 || mb > 10240 {
			return fmt.Errorf("-sweep: %q is not a Lambda memory size in MB (128 to 10240)", f)
		}
		mbs = append(mbs, mb)
	}
	var rows []sweepRow
	for _, mb := range mbs {
		r.memory = mb
		fmt.Fprintf(os.Stderr, "cost: month at %d MB\n", mb)
		b, err := measure(ctx, r)
		if err != nil {
			return fmt.Errorf("%d MB: %w", mb, err)
		}
		rows = append(rows, sweepRows(b, mb)...)
	}
	return printSweep(w, rows, r)
}

// sweepRow is one function at one memory size.
type sweepRow struct {
	Fn               string
	MB               int
	Requests         float64 // the per-order part's
	Mean, P95, P99   float64 // billed ms, the whole run
	Init             float64 // mean init ms of its processes
	MaxMemMB         float64 // the most a process used
	GBs              float64 // the per-order part's GB-s
	USDPer1000       float64 // the per-order part's compute, per 1,000 orders
	FixedUSDPerMonth float64 // the fixed part's compute (the idle hourly checks)
}

func sweepRows(b Bill, mb int) []sweepRow {
	gbPrice := 0.0
	for _, p := range prices {
		if p.Unit == "LambdaGBSeconds" {
			gbPrice = p.USD / p.Per
		}
	}
	var out []sweepRow
	for fn, u := range b.ByFn {
		row := sweepRow{Fn: fn, MB: mb, Requests: u["LambdaRequests"], GBs: u["LambdaGBSeconds"]}
		row.USDPer1000 = perThousand(row.GBs*gbPrice, b.Orders)
		if strings.Contains(fn, "LifecycleChecks") {
			row.FixedUSDPerMonth = b.Fixed["LambdaGBSeconds"] * gbPrice
		}
		if rs := b.Runs[fn]; rs != nil {
			row.Mean, row.P95, row.P99 = mean(rs.Billed), quantile(rs.Billed, 0.95), quantile(rs.Billed, 0.99)
			row.Init, row.MaxMemMB = mean(rs.Init), rs.MaxMemMB
		}
		out = append(out, row)
	}
	return out
}

func printSweep(w io.Writer, rows []sweepRow, r run) error {
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Fn != rows[j].Fn {
			return rows[i].Fn < rows[j].Fn
		}
		return rows[i].MB < rows[j].MB
	})
	share := "each on the CPU share of its memory size"
	if !r.cpu {
		share = "on the host's CPUs (durations do not follow memory)"
	}
	fmt.Fprintf(w, "memory sweep: %d order lives, seed %d, batch %d, %s\n", r.n, r.seed, r.batch, share)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "function\tMB\tinvocations\tmean ms\tp95 ms\tp99 ms\tinit ms\tmax MB used\tGB-s\tcompute USD per 1,000 orders\tidle checks USD/month\t\n")
	best := map[string]sweepRow{}
	for _, x := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.1f\t%.0f\t%.0f\t%.0f\t%.0f\t%.2f\t%.6f\t%.6f\t\n", x.Fn, x.MB, x.Requests, x.Mean, x.P95, x.P99, x.Init, x.MaxMemMB,
			x.GBs, x.USDPer1000, x.FixedUSDPerMonth)
		if b, ok := best[x.Fn]; !ok || x.USDPer1000+x.FixedUSDPerMonth < b.USDPer1000+b.FixedUSDPerMonth {
			best[x.Fn] = x
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fns := make([]string, 0, len(best))
	for fn := range best {
		fns = append(fns, fn)
	}
	sort.Strings(fns)
	for _, fn := range fns {
		x := best[fn]
		fmt.Fprintf(w, "least compute: %s at %d MB (p99 %.0f ms, init %.0f ms)\n", fn, x.MB, x.P99, x.Init)
	}
	return nil
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// quantile is the nearest-rank q-quantile of v.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[int(math.Ceil(q*float64(len(s))))-1]
}
