package main

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// daySizes are the stored sizes of the report's day items, sorted. An
// update is billed on the item's size before or after it (the larger), not
// on the request's: the proxy prices a transaction's counter update from
// the request, which holds true only while a day item stays under 1 KB.
// A measurement aid, so a Scan is fine here.
func daySizes(ctx context.Context, db *dynamodb.Client, table string) ([]int, error) {
	var sizes []int
	in := &dynamodb.ScanInput{TableName: aws.String(table), FilterExpression: aws.String("begins_with(sk, :day)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":day": &types.AttributeValueMemberS{Value: "DAY#"}}}
	for p := dynamodb.NewScanPaginator(db, in); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			sizes = append(sizes, itemSize(wire(it)))
		}
	}
	sort.Ints(sizes)
	return sizes, nil
}

// wire is an item as DynamoDB's JSON protocol carries it, for itemSize
// (day items hold strings and numbers only; anything else counts its
// type's name, a byte or so).
func wire(it map[string]types.AttributeValue) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(it))
	for name, v := range it {
		var b []byte
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			b, _ = json.Marshal(map[string]string{"S": v.Value})
		case *types.AttributeValueMemberN:
			b, _ = json.Marshal(map[string]string{"N": v.Value})
		default:
			b = []byte(`{"NULL":true}`)
		}
		out[name] = b
	}
	return out
}
