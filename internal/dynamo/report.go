package dynamo

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/internal/report"
)

// Day items hold a shop's report counters, one item per day of the shop's
// time zone: pk SHOP#<shop>, sk DAY#<yyyy-mm-dd>, each counter a number
// attribute named c_<counter>. Counters only ever change by ADD, so
// increments from concurrent transactions commute.
const daySKPrefix = "DAY#"

func dayKey(shop, day string) map[string]types.AttributeValue {
	return key("SHOP#"+shop, daySKPrefix+day)
}

// DayUpdate is the update that adds counters to one day item, for a
// TransactWriteItems beside the event that caused them (or alone).
func (s *Store) DayUpdate(shop, day string, c report.Counters) *types.Update {
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	sort.Strings(names)
	var expr strings.Builder
	attrNames := map[string]string{}
	values := map[string]types.AttributeValue{}
	for i, n := range names {
		if i == 0 {
			expr.WriteString("ADD ")
		} else {
			expr.WriteString(", ")
		}
		fmt.Fprintf(&expr, "#n%d :v%d", i, i)
		attrNames[fmt.Sprintf("#n%d", i)] = counterPrefix + n
		values[fmt.Sprintf(":v%d", i)] = &types.AttributeValueMemberN{Value: strconv.FormatInt(c[n], 10)}
	}
	return &types.Update{
		TableName: aws.String(s.Table), Key: dayKey(shop, day), UpdateExpression: aws.String(expr.String()),
		ExpressionAttributeNames: attrNames, ExpressionAttributeValues: values,
	}
}

// AddDays applies counter increments, one UpdateItem per day. The state
// engine puts the same updates into its commit's transaction instead.
func (s *Store) AddDays(ctx context.Context, shop string, a report.Adds) error {
	for _, day := range a.Days() {
		if len(a[day]) == 0 {
			continue
		}
		u := s.DayUpdate(shop, day, a[day])
		if _, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
			ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues,
		}); err != nil {
			return fmt.Errorf("add report counters of %s: %w", day, err)
		}
	}
	return nil
}

// ReportDays reads a shop's day items from..to (DayFormat, inclusive) with one
// Query on the sort key range: one item per day that had activity, never an
// order or a customer.
func (s *Store) ReportDays(ctx context.Context, shop, from, to string) (map[string]report.Counters, error) {
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
