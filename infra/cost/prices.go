package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// PriceDate is when the prices below were taken: the published us-east-1
// on-demand list prices, no free tier (a shop shares its account).
const PriceDate = "2026-12"

// price is one billable unit at list price.
type price struct {
	Unit string  // the Units field it multiplies
	Per  float64 // how many units the Dollars buy
	USD  float64
	What string
}

// prices is the one table of the bill; README.md's Cost section copies it.
var prices = []price{
	{"LambdaGBSeconds", 1, 0.0000133334, "Lambda arm64 compute, per GB-second"},
	{"LambdaRequests", 1e6, 0.20, "Lambda requests, per million"},
	{"HTTPRequests", 1e6, 1.00, "API Gateway HTTP API requests, per million"},
	{"SQSRequests", 1e6, 0.40, "SQS standard requests, per million"},
	{"DynamoWRU", 1e6, 0.625, "DynamoDB on-demand write request units, per million"},
	{"DynamoRRU", 1e6, 0.125, "DynamoDB on-demand read request units, per million"},
	{"DynamoStreamReads", 1e5, 0.02, "DynamoDB Streams read requests (GetRecords), per 100,000"},
	{"LogBytes", 1 << 30, 0.50, "CloudWatch Logs ingestion, per GB"},
	{"XRayTraces", 1e6, 5.00, "X-Ray traces recorded, per million"},
	{"SchedulerInvocations", 1e6, 1.00, "EventBridge Scheduler invocations, per million"},
}

// Units are the billable units of a run.
type Units map[string]float64

// plus returns u + k*o (o nil: k*u).
func (u Units) plus(o Units, k float64) Units {
	out := Units{}
	if o == nil {
		for n, v := range u {
			out[n] = v * k
		}
		return out
	}
	for n, v := range u {
		out[n] = v
	}
	for n, v := range o {
		out[n] += v * k
	}
	return out
}

// minus returns u - o.
func (u Units) minus(o Units) Units {
	if o == nil {
		return u.plus(nil, 1) // plus(nil, k) scales u: nothing to take away is a copy
	}
	return u.plus(o, -1)
}

// floor clamps negatives (an idle share larger than a noisy sample) to 0.
func (u Units) floor() Units {
	out := Units{}
	for n, v := range u {
		out[n] = max(v, 0)
	}
	return out
}

// line is one priced row of the bill.
type line struct {
	Unit    string
	Units   float64
	Dollars float64
}

// bill prices units line by line; units with no price are an error so that
// a counter added without its price cannot silently cost nothing.
func bill(u Units) ([]line, float64, error) {
	known := map[string]bool{}
	var out []line
	total := 0.0
	for _, p := range prices {
		known[p.Unit] = true
		d := u[p.Unit] / p.Per * p.USD
		out = append(out, line{p.Unit, u[p.Unit], d})
		total += d
	}
	for k := range u {
		if !known[k] {
			return nil, 0, fmt.Errorf("no price for unit %q", k)
		}
	}
	return out, total, nil
}

// perThousand scales a cost over orders to 1,000 orders.
func perThousand(total float64, orders int) float64 {
	if orders <= 0 {
		return 0
	}
	return total * 1000 / float64(orders)
}

// print writes the bill, fixed and per-order parts side by side, the whole
// month at the measured volume, and the contract's last line: the per-order
// part per 1,000 orders.
func print(w io.Writer, b Bill) error {
	fixed, fixedTotal, err := bill(b.Fixed)
	if err != nil {
		return err
	}
	per, perTotal, err := bill(b.PerOrder)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "unit\tfixed units/month\tfixed USD/month\tunits (%d orders)\tUSD per 1,000 orders\t\n", b.Orders)
	for i := range per {
		fmt.Fprintf(tw, "%s\t%.1f\t%.6f\t%.1f\t%.6f\t\n", per[i].Unit, fixed[i].Units, fixed[i].Dollars,
			per[i].Units, perThousand(per[i].Dollars, b.Orders))
	}
	fmt.Fprintf(tw, "total\t\t%.6f\t\t%.6f\t\n", fixedTotal, perThousand(perTotal, b.Orders))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "fixed: $%.4f a month per deployment, whatever the orders (hourly check runs with nothing due, the event sources' empty long polls)\n", fixedTotal)
	fmt.Fprintf(w, "month at %d orders: $%.4f in all ($%.4f per 1,000 orders with the fixed part)\n",
		b.Orders, fixedTotal+perTotal, perThousand(fixedTotal+perTotal, b.Orders))
	_, err = fmt.Fprintf(w, "cost: $%.4f per 1,000 orders (infrastructure, excluding SES/SNS fees)\n", perThousand(perTotal, b.Orders))
	return err
}
