package main

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// itemSizes are the stored sizes of the table's items by kind (the shape
// tables' names: ORDER, CUSTOMER, SHIPMENT, EVENT, DAY...), each sorted. A
// write is billed per KB of the item, so a kind whose items pass 1 KB costs
// twice per write. An update is billed on the item's size before or after
// it (the larger), not on the request's: the proxy prices a transaction's
// update from the request, which holds while an item stays under 1 KB.
// A measurement aid, so a Scan is fine here.
func itemSizes(ctx context.Context, db *dynamodb.Client, table string) (map[string][]int, error) {
	sizes := map[string][]int{}
	for p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			w := wire(it)
			kind := itemKind(action{Item: w})
			sizes[kind] = append(sizes[kind], itemSize(w))
		}
	}
	for _, v := range sizes {
		sort.Ints(v)
	}
	return sizes, nil
}

// wire is an item as DynamoDB's JSON protocol carries it, for itemSize and
// itemKind (maps, lists and sets count their type's name, a byte or so:
// the table's items keep their documents in one binary attribute).
func wire(it map[string]types.AttributeValue) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(it))
	for name, v := range it {
		var b []byte
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			b, _ = json.Marshal(map[string]string{"S": v.Value})
		case *types.AttributeValueMemberN:
			b, _ = json.Marshal(map[string]string{"N": v.Value})
		case *types.AttributeValueMemberB:
			b, _ = json.Marshal(map[string][]byte{"B": v.Value})
		case *types.AttributeValueMemberBOOL:
			b = []byte(`{"BOOL":true}`)
		default:
			b = []byte(`{"NULL":true}`)
		}
		out[name] = b
	}
	return out
}
