package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
)

// reportCounters folds what is left in the table's stream (as the next
// hourly check would; the run's own checks folded under faults) and reads
// every report counter of the plan's shops, as the report does:
// "<shop>|<day>" -> counter -> value.
func reportCounters(ctx context.Context, st *devstack.Stack, db *dynamodb.Client, p *plan) (map[string]map[string]int64, error) {
	emu := &devstack.Emulators{DynamoEndpoint: st.DynamoEndpoint}
	if _, err := (&dynamo.Store{DB: db, Streams: emu.Streams(), Table: st.Table}).Fold(ctx); err != nil {
		return nil, err
	}
	shops := map[string]bool{}
	for _, ph := range p.Phases {
		for _, h := range ph {
			if shop := h.Headers["X-Shopify-Shop-Domain"]; shop != "" {
				shops[shop] = true
			}
		}
	}
	read := &dynamo.Store{DB: db, Table: st.Table} // folded just now
	out := map[string]map[string]int64{}
	for shop := range shops {
		days, err := read.ReportDays(ctx, shop, "0000-00-00", "9999-99-99")
		if err != nil {
			return nil, err
		}
		for day, c := range days {
			out[shop+"|"+day] = c
		}
	}
	return out, nil
}

// counterDiff compares the faulty run's report counters with the clean
// run's: the same lives must count the same, whatever the faults, duplicates
// and retries. Message decisions (m:<kind>:<decision>) are compared summed
// over a shop's days (a decision counts on the day it is made, and the two
// runs make them minutes apart, perhaps across a midnight); everything else
// day by day. A marketing kind that lost a message (an attempt of unknown
// outcome, at most once) may count fewer sent and recovered: those
// differences are allowed and listed apart.
func counterDiff(clean, faulty map[string]map[string]int64, lostMarketing map[string]bool) (bad, allowed []string) {
	sum := func(days map[string]map[string]int64) map[string]int64 {
		out := map[string]int64{}
		for k, cs := range days {
			shop, day, _ := strings.Cut(k, "|")
			for name, v := range cs {
				if strings.HasPrefix(name, "m:") {
					out[shop+"|*|"+name] += v
				} else {
					out[shop+"|"+day+"|"+name] += v
				}
			}
		}
		return out
	}
	c, f := sum(clean), sum(faulty)
	keys := map[string]bool{}
	for k := range c {
		keys[k] = true
	}
	for k := range f {
		keys[k] = true
	}
	for k := range keys {
		if c[k] == f[k] {
			continue
		}
		line := fmt.Sprintf("%s: clean %d, faulty %d", k, c[k], f[k])
		parts := strings.Split(k, "|")
		name := parts[len(parts)-1]
		kind := ""
		if f := strings.Split(name, ":"); len(f) >= 2 && (f[0] == "m" || f[0] == "rv" || f[0] == "rc") {
			kind = f[1]
		}
		if kind != "" && lostMarketing[kind] && aftercare.Kind(kind).Category() == aftercare.Marketing {
			allowed = append(allowed, line)
		} else {
			bad = append(bad, line)
		}
	}
	sort.Strings(bad)
	sort.Strings(allowed)
	return bad, allowed
}
