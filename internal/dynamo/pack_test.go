package dynamo

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/state"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestPackRoundTrip(t *testing.T) {
	for _, doc := range []string{"", "{}", `{"a":1}`, strings.Repeat(`{"line":"item","qty":1},`, 500)} {
		got, err := unpack(pack([]byte(doc)))
		if err != nil || string(got) != doc {
			t.Fatalf("round trip of %d bytes: %d bytes, %v", len(doc), len(got), err)
		}
	}
	if _, err := unpack([]byte("not deflate")); err == nil {
		t.Fatal("garbage inflated")
	}
}

func TestUnpackIsBounded(t *testing.T) {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	_, _ = w.Write(make([]byte, maxDoc+1))
	_ = w.Close()
	if _, err := unpack(b.Bytes()); err == nil {
		t.Fatalf("%d bytes deflated to %d inflated past the bound", maxDoc+1, b.Len())
	}
}

// An item written before docz (JSON in doc) still decodes; a new write
// stores docz only.
func TestLegacyDocDecodes(t *testing.T) {
	c := &aftercare.Customer{Shop: "s.myshopify.com", ID: "7", Email: "a@example.com", EarlierOrders: 3}
	doc, _ := json.Marshal(c)
	legacy, err := attributevalue.MarshalMap(record{PK: "SHOP#s.myshopify.com", SK: "CUSTOMER#7", Kind: state.ItemCustomer, Doc: string(doc), Version: 4})
	if err != nil {
		t.Fatal(err)
	}
	e, ok, err := decode(legacy)
	if err != nil || !ok || e.Customer == nil || e.Customer.EarlierOrders != 3 || e.Customer.Version != 4 {
		t.Fatalf("legacy item: %+v ok %v err %v", e.Customer, ok, err)
	}
	s := &Store{Table: "t", Shards: 1}
	item, err := s.encode(state.Entity{Customer: c})
	if err != nil {
		t.Fatal(err)
	}
	if _, has := item[attrDoc]; has {
		t.Fatal("a new write still stores doc")
	}
	back, _, err := decode(item)
	if err != nil || back.Customer.Email != c.Email || back.Customer.EarlierOrders != 3 {
		t.Fatalf("new item: %+v, %v", back.Customer, err)
	}
}

// The point of docz: a customer whose JSON takes two write units takes one,
// as DynamoDB Local bills the put.
func TestDeflatedCustomerCostsOneWriteUnit(t *testing.T) {
	testenv.NeedEmulators(t)
	env := testenv.Fresh(t)
	s := &Store{DB: env.DB, Streams: env.Streams, Table: env.Table, Shards: 4, Now: func() time.Time { return time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC) }}
	c := &aftercare.Customer{Shop: "s.myshopify.com", ID: "7", Email: "buyer@example.com", FirstName: "Ada", EarlierOrders: 9}
	c.Marks = map[string]aftercare.Mark{}
	for i := range 12 {
		c.Marks["win_back:"+strings.Repeat("x", i)] = aftercare.Mark{State: "sent", At: s.Now(), ID: "msg-" + strings.Repeat("y", 20)}
	}
	doc, _ := json.Marshal(c)
	if len(doc) < 1100 {
		t.Fatalf("the customer's JSON is %d bytes: make it over 1 KB", len(doc))
	}
	item, err := s.encode(state.Entity{Customer: c})
	if err != nil {
		t.Fatal(err)
	}
	units := func(item map[string]types.AttributeValue) float64 {
		out, err := env.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(env.Table), Item: item,
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		if err != nil {
			t.Fatal(err)
		}
		return *out.ConsumedCapacity.CapacityUnits
	}
	plain := map[string]types.AttributeValue{}
	for k, v := range item {
		plain[k] = v
	}
	delete(plain, attrDocZ)
	plain[attrDoc] = str(string(doc))
	plain[attrSK] = str("CUSTOMER#8")
	if z, j := units(item), units(plain); z >= j || z != 1 {
		t.Fatalf("deflated put %v units, JSON put %v: want 1 and more", z, j)
	}
}
