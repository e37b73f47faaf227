package dynamo_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/storetest"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// The table keeps the store contract, against DynamoDB Local (emulator tier).
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s := testenv.Fresh(t)
		return &scanned{Store: &dynamo.Store{DB: s.DB, Table: s.Table, Shards: 4, Now: func() time.Time { return storetest.Now }}, db: s.DB}
	})
}

// scanned is the store with a Scan of its whole table, every attribute of
// every item as text (the privacy cases search it).
type scanned struct {
	*dynamo.Store
	db *dynamodb.Client
}

func (s *scanned) Dump(ctx context.Context) ([]string, error) {
	var out []string
	p := dynamodb.NewScanPaginator(s.db, &dynamodb.ScanInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			// The deflated document as the text it holds, so a search finds
			// what it names.
			if _, z := it["docz"]; z {
				doc, err := dynamo.Doc(it)
				if err != nil {
					return nil, err
				}
				it["docz"] = &types.AttributeValueMemberS{Value: string(doc)}
			}
			out = append(out, text(it))
		}
	}
	sort.Strings(out)
	return out, nil
}

// text renders an item's attributes, names and values, in name order.
func text(item map[string]types.AttributeValue) string {
	names := make([]string, 0, len(item))
	for n := range item {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s=%s ", n, value(item[n]))
	}
	return b.String()
}

func value(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	case *types.AttributeValueMemberSS:
		return strings.Join(v.Value, ",")
	case *types.AttributeValueMemberM:
		return "{" + text(v.Value) + "}"
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = value(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprintf("%v", v)
}
