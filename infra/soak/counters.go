package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
)

// reportCounters folds what is left in the table's stream (as the next
// hourly check would; the run's own checks folded under faults) and reads
// every report counter: "<shop>|<day>" -> counter -> value.
func reportCounters(ctx context.Context, st *devstack.Stack, db *dynamodb.Client) (map[string]map[string]int64, error) {
	emu := &devstack.Emulators{DynamoEndpoint: st.DynamoEndpoint}
	if _, err := (&dynamo.Store{DB: db, Streams: emu.Streams(), Table: st.Table}).Fold(ctx); err != nil {
		return nil, err
	}
	out := map[string]map[string]int64{}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(st.Table), ConsistentRead: aws.Bool(true),
		FilterExpression:          aws.String("begins_with(sk, :d)"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":d": &ddbtypes.AttributeValueMemberS{Value: "DAY#"}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			pk, _ := it["pk"].(*ddbtypes.AttributeValueMemberS)
			sk, _ := it["sk"].(*ddbtypes.AttributeValueMemberS)
			if pk == nil || sk == nil {
				continue
			}
			c := map[string]int64{}
			for name, v := range it {
				n, ok := v.(*ddbtypes.AttributeValueMemberN)
				counter, isCounter := strings.CutPrefix(name, "c_")
				if !ok || !isCounter {
					continue
				}
				var x int64
				if _, err := fmt.Sscan(n.Value, &x); err == nil && x != 0 {
					c[counter] = x
				}
			}
			out[strings.TrimPrefix(pk.Value, "SHOP#")+"|"+strings.TrimPrefix(sk.Value, "DAY#")] = c
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
