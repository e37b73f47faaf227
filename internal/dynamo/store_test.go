package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/dynamo/dynamotest"
	"github.com/aftercare/aftercare/internal/state"
	"github.com/aftercare/aftercare/internal/storetest"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// The table keeps the store contract, against DynamoDB Local (emulator tier).
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s := testenv.Fresh(t)
		return &scanned{Store: &dynamo.Store{DB: s.DB, Streams: s.Streams, Table: s.Table, Shards: 4, Now: func() time.Time { return storetest.Now }}, db: s.DB}
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

// countingStore is a store on a fresh table whose calls are counted.
func countingStore(t *testing.T) (*dynamo.Store, *dynamotest.Counting) {
	t.Helper()
	s := testenv.Fresh(t)
	db := dynamotest.NewCounting(s.DB)
	return &dynamo.Store{DB: db, Streams: s.Streams, Table: s.Table, Shards: 4, Now: func() time.Time { return storetest.Now }}, db
}

// A commit that changes one item is one plain conditional write, at half
// the write units of a transaction of one (which writes the item twice);
// two items still go in one transaction.
func TestOneItemCommitIsAPlainWrite(t *testing.T) {
	st, db := countingStore(t)
	ctx := context.Background()
	const shop = "one.myshopify.com"
	o := state.Entity{Order: &aftercare.Order{Shop: shop, ID: "1", Name: "#1"}}
	if err := st.Commit(ctx, &state.Commit{Puts: []state.Entity{o}}); err != nil {
		t.Fatal(err)
	}
	if st := db.Stats(); st.Total != 1 || st.Calls["PutItem"] != 1 || st.Capacity != 1 {
		t.Fatalf("a one-item commit made %v for %.1f units; want one PutItem for 1 unit", st.Calls, st.Capacity)
	}
	db.Reset()
	d := &state.Dedupe{ID: "ev-one", Shop: shop, At: storetest.Now}
	c := state.Entity{Customer: &aftercare.Customer{Shop: shop, ID: "c1"}}
	if err := st.Commit(ctx, &state.Commit{Dedupe: d, Puts: []state.Entity{c}}); err != nil {
		t.Fatal(err)
	}
	if st := db.Stats(); st.Total != 1 || st.Calls["TransactWriteItems"] != 1 {
		t.Fatalf("a two-item commit made %v; want one TransactWriteItems", st.Calls)
	}
	if err := st.Commit(ctx, &state.Commit{Dedupe: d}); !errors.Is(err, state.ErrDuplicate) {
		t.Fatalf("a dedupe record alone, written twice: %v, want ErrDuplicate", err)
	}
}

// A shop's stock changes go in the event's one write (its transaction, or
// the stock item's update alone when nothing else changes), also when some
// variants run out and others come back: nothing is written after it that
// a crash could lose. A stock item of the earlier form (one string set)
// reads the same and loses its variants as they come back.
func TestStockChangesRideTheTransaction(t *testing.T) {
	st, db := countingStore(t)
	ctx := context.Background()
	const shop = "stock.myshopify.com"
	if _, err := db.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "SHOP#" + shop}, "sk": &types.AttributeValueMemberS{Value: "STOCKOUT"},
		"kind":     &types.AttributeValueMemberS{Value: "stock"},
		"variants": &types.AttributeValueMemberSS{Value: []string{"old1", "old2"}},
	}}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.OutOfStock(ctx, shop); err != nil || len(got) != 2 || !got["old1"] || !got["old2"] {
		t.Fatalf("the earlier form reads %v, %v", got, err)
	}
	db.Reset()
	if err := st.Commit(ctx, &state.Commit{StockOut: map[string][]string{shop: {"v.1", "gid://shopify/ProductVariant/2"}}, StockIn: map[string][]string{shop: {"old1"}}}); err != nil {
		t.Fatal(err)
	}
	if calls := db.Stats().Calls; calls["UpdateItem"] != 1 || db.Stats().Total != 1 {
		t.Fatalf("one commit made %v; want one write of the stock item and nothing after it", calls)
	}
	want := map[string]bool{"old2": true, "v.1": true, "gid://shopify/ProductVariant/2": true}
	if got, _ := st.OutOfStock(ctx, shop); !reflect.DeepEqual(got, want) {
		t.Fatalf("out of stock %v, want %v", got, want)
	}
	if err := st.Commit(ctx, &state.Commit{StockIn: map[string][]string{shop: {"v.1", "old2"}}, StockOut: map[string][]string{shop: {"v3"}}}); err != nil {
		t.Fatal(err)
	}
	want = map[string]bool{"gid://shopify/ProductVariant/2": true, "v3": true}
	if got, _ := st.OutOfStock(ctx, shop); !reflect.DeepEqual(got, want) {
		t.Fatalf("out of stock %v, want %v", got, want)
	}
}
