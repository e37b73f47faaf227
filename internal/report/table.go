package report

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// WriteTable prints the report as the dashboard's numbers in aligned columns,
// for `aftercare report --shop --from --to`.
func WriteTable(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	dash := func(f *float64, rate bool) string {
		switch {
		case f == nil:
			return "–"
		case rate:
			return pct(*f)
		}
		return fmt.Sprint(*f)
	}
	p("Report\t%s\t%s to %s\t\n", r.Shop, r.From, r.To)
	p("\t\t\t\n")
	p("Orders\t%d\t\t\n", r.Orders.Count)
	p("Revenue\t%s %s\t\t\n", r.Orders.Revenue, r.Orders.Currency)
	for _, cur := range sortedKeys(r.Orders.Other) {
		p("Revenue\t%s %s\t\t\n", r.Orders.Other[cur], cur)
	}
	p("New customers\t%d\t\t\n", r.Customers.New)
	p("Returning customers\t%d\t\t\n", r.Customers.Returning)
	p("Repeat purchase rate\t%s\t\t\n", pct(r.Customers.RepeatPurchaseRate))
	p("Median days to second order\t%s\t\t\n", dash(r.Customers.MedianDaysToSecondOrder, false))
	p("Deliveries\t%d\ton time %d, late %d\t\n", r.Deliveries.Count, r.Deliveries.OnTime, r.Deliveries.Late)
	p("On-time rate\t%s\t\t\n", dash(r.Deliveries.OnTimeRate, true))
	p("Median days to deliver\t%s\t\t\n", dash(r.Deliveries.MedianDaysToDeliver, false))
	p("Unsubscribes\t%d\t\t\n", r.Unsubscribes)
	if err := tw.Flush(); err != nil {
		return err
	}

	// Figures align right; labels are padded to one width so they read left-aligned.
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(cells ...any) {
		fmt.Fprintf(tw, "%-20s", cells[0])
		for _, c := range cells[1:] {
			fmt.Fprintf(tw, "\t%v", c)
		}
		fmt.Fprint(tw, "\t\n")
	}
	gap := func() { fmt.Fprint(tw, "\n") }
	gap()
	row("Problem", "Opened", "Resolved", "Open", "Median hours to resolve")
	for _, t := range ExceptionTypes {
		e := r.Exceptions[string(t)]
		row(label(string(t)), e.Opened, e.Resolved, e.Open, dash(e.MedianHoursToResolve, false))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	gap()
	row("Carrier", "Parcels", "Problems", "Rate")
	for _, name := range sortedKeys(r.Carriers) {
		c := r.Carriers[name]
		var n int64
		for _, v := range c.Exceptions {
			n += v
		}
		rate := 0.0
		if c.Parcels > 0 {
			rate = float64(n) / float64(c.Parcels)
		}
		row(name, c.Parcels, n, pct(rate))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	gap()
	row("Recovery", "Sent", "Recovered", "Revenue")
	for _, k := range RecoveryKinds {
		rc := r.Recovery[string(k)]
		row(label(string(k)), rc.Sent, rc.Recovered, rc.Revenue)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	gap()
	row("Messages", "Sent", "Held", "Suppressed", "Stale", "Failed")
	for _, k := range sortedKeys(r.Messages) {
		m := r.Messages[k]
		row(label(k), m.Sent, m.Held, m.Suppressed, m.Stale, m.Failed)
	}
	return tw.Flush()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
