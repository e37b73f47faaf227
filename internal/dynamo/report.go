package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/state"
)

// Day items hold a shop's report counters, one item per day of the shop's
// time zone: pk SHOP#<shop>, sk DAY#<yyyy-mm-dd> (state.ItemCounters), each
// counter a number attribute named c_<counter>. They are written only by
// counter updates (ADD): Fold's, from the counters each write carries, and
// SeedDays'. Readers fold first, so what they read includes every write.
const daySKPrefix = "DAY#"

// SeedDays adds counters through Commit, up to a transaction's worth of days
// at a time: for loaders and tests that seed a history of days (no event
// is deduplicated, so calling it twice counts twice).
func (s *Store) SeedDays(ctx context.Context, shop string, a report.Adds) error {
	adds := state.DayAdds(shop, a)
	for start := 0; start < len(adds); start += maxTransact {
		if err := s.Commit(ctx, &state.Commit{Adds: adds[start:min(start+maxTransact, len(adds))]}); err != nil {
			return fmt.Errorf("seed report days: %w", err)
		}
	}
	return nil
}

// ReportDays folds (with a stream reader), then reads a shop's day items
// from..to (DayFormat, inclusive) with one Query on the sort key range: one
// item per day that had activity, never an order or a customer.
func (s *Store) ReportDays(ctx context.Context, shop, from, to string) (map[string]report.Counters, error) {
	s.foldFirst(ctx)
	out := map[string]report.Counters{}
	err := s.query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.Table),
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str("SHOP#" + shop), ":from": str(daySKPrefix + from), ":to": str(daySKPrefix + to),
		},
	}, func(it map[string]types.AttributeValue) error {
		day := strings.TrimPrefix(getS(it, attrSK), daySKPrefix)
		c := report.Counters{}
		for name, v := range it {
			counter, ok := strings.CutPrefix(name, counterPrefix)
			n, isN := v.(*types.AttributeValueMemberN)
			if !ok || !isN {
				continue
			}
			x, err := strconv.ParseInt(n.Value, 10, 64)
			if err != nil {
				return fmt.Errorf("day item %s: counter %s: %w", day, counter, err)
			}
			if x != 0 {
				c[counter] = x
			}
		}
		out[day] = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
