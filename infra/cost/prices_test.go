package main

import (
	"bytes"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestBill(t *testing.T) {
	u := Units{"LambdaGBSeconds": 1000, "LambdaRequests": 1e6, "DynamoWRU": 2e6, "LogBytes": 1 << 30}
	_, total, err := bill(u)
	if err != nil {
		t.Fatal(err)
	}
	want := 1000*0.0000133334 + 0.20 + 2*0.625 + 0.50
	if math.Abs(total-want) > 1e-9 {
		t.Fatalf("total %v, want %v", total, want)
	}
	if _, _, err := bill(Units{"SESSends": 1}); err == nil {
		t.Fatal("an unpriced unit billed")
	}
}

func TestPrintLastLine(t *testing.T) {
	var b bytes.Buffer
	bl := Bill{Orders: 200, PerOrder: Units{"HTTPRequests": 2000}, Fixed: Units{"SQSRequests": 1e6}}
	if err := print(&b, bl); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	// 2,000 requests at $1/M for 200 orders: $0.002, $0.01 per 1,000 orders;
	// the $0.40 of fixed requests is beside it, not in it.
	if got := lines[len(lines)-1]; got != "cost: $0.0100 per 1,000 orders (infrastructure, excluding SES/SNS fees)" {
		t.Fatalf("last line %q", got)
	}
	if !strings.Contains(b.String(), "fixed: $0.4000 a month per deployment") {
		t.Fatalf("no fixed line in\n%s", b.String())
	}
	if !strings.Contains(b.String(), "month at 200 orders: $0.4020 in all ($2.0100 per 1,000 orders with the fixed part)") {
		t.Fatalf("no month line in\n%s", b.String())
	}
}

func TestUnitsArithmetic(t *testing.T) {
	a := Units{"x": 3, "y": 1}
	got := a.minus(Units{"x": 1, "y": 2}).floor()
	if got["x"] != 2 || got["y"] != 0 {
		t.Fatalf("minus/floor: %v", got)
	}
	if s := a.plus(nil, 2); s["x"] != 6 || a["x"] != 3 {
		t.Fatalf("scale: %v (a %v)", s, a)
	}
	// A function with nothing before the lives (no init line any more) minus nothing is itself.
	if d := a.minus(nil); d["x"] != 3 || d["y"] != 1 {
		t.Fatalf("minus nil: %v", d)
	}
}

var testIndexes = []gsi{{PK: "due_pk", SK: "due_sk", KeysOnly: true}, {PK: "owner_pk", SK: "owner_sk", KeysOnly: true}}

func TestTxUnitsFollowAWSRule(t *testing.T) {
	small := `{"Put":{"TableName":"t","Item":{"pk":{"S":"a"},"sk":{"S":"b"},"n":{"N":"12"}}}}`
	big := `{"Put":{"TableName":"t","Item":{"pk":{"S":"a"},"doc":{"S":"` + strings.Repeat("x", 1500) + `"}}}}`
	due := `{"Put":{"TableName":"t","Item":{"pk":{"S":"a"},"due_pk":{"S":"DUE#c#1"},"due_sk":{"S":"2024"},"docz":{"B":"AAEC"}}}}`
	both := `{"Put":{"TableName":"t","Item":{"pk":{"S":"e"},"due_pk":{"S":"DUE#c#1"},"due_sk":{"S":"2024"},"owner_pk":{"S":"O#s#c"},"owner_sk":{"S":"e"}}}}`
	upd := `{"Update":{"TableName":"t","Key":{"pk":{"S":"SHOP#s"},"sk":{"S":"DAY#2024-03-01"}},"UpdateExpression":"ADD #0 :0","ExpressionAttributeValues":{":0":{"N":"1"}}}}`
	owned := `{"Update":{"TableName":"t","Key":{"pk":{"S":"L"},"sk":{"S":"m1"}},"UpdateExpression":"SET #s = :s, #opk = :opk, #osk = :osk","ExpressionAttributeNames":{"#s":"status","#opk":"owner_pk","#osk":"owner_sk"},"ExpressionAttributeValues":{":s":{"S":"sent"},":opk":{"S":"O#s#c"},":osk":{"S":"m1"}}}}`
	for _, c := range []struct {
		name         string
		items        []string
		table, index float64
	}{
		{"three small puts", []string{small, small, small}, 6, 0},
		{"a 1.5 KB put", []string{big}, 4, 0},
		{"a put entering the due index (an index write is not doubled)", []string{due}, 2, 1},
		{"a put entering two indexes", []string{both}, 2, 2},
		{"a counter update", []string{upd}, 2, 0},
		{"an update filing an entry under its owner", []string{owned}, 2, 1},
	} {
		body := `{"TransactItems":[` + strings.Join(c.items, ",") + `]}`
		d := indexes{gsis: testIndexes}
		table, index := d.txUnits([]byte(body))
		if table != c.table || index != c.index {
			t.Errorf("%s: %v table, %v index units; want %v and %v", c.name, table, index, c.table, c.index)
		}
	}
}

// An entry its claim (an UpdateItem, priced by DynamoDB Local) filed under
// its owner costs no index write when its record sets the same keys again;
// an update that removes them takes it off the index.
func TestIndexesFollowUpdates(t *testing.T) {
	d := indexes{gsis: testIndexes}
	claim := `{"Key":{"pk":{"S":"L"},"sk":{"S":"m1"}},"UpdateExpression":"SET #s = :c, #opk = :opk, #osk = :osk ADD attempts :one","ExpressionAttributeNames":{"#s":"status","#opk":"owner_pk","#osk":"owner_sk"},"ExpressionAttributeValues":{":c":{"S":"claimed"},":opk":{"S":"O#s#c"},":osk":{"S":"m1"},":one":{"N":"1"}}}`
	d.write("Update", []byte(claim))
	record := `{"TransactItems":[{"Update":` + strings.Replace(claim, ":c\":{\"S\":\"claimed", ":c\":{\"S\":\"sent", 1) + `}]}`
	if _, index := d.txUnits([]byte(record)); index != 0 {
		t.Errorf("the record keeps the claim's owner keys, yet %v index units", index)
	}
	scrub := `{"TransactItems":[{"Update":{"Key":{"pk":{"S":"L"},"sk":{"S":"m1"}},"UpdateExpression":"SET #s = :s REMOVE #10, #11","ExpressionAttributeNames":{"#s":"status","#10":"owner_pk","#11":"owner_sk"},"ExpressionAttributeValues":{":s":{"S":"x"}}}}]}`
	if _, index := d.txUnits([]byte(scrub)); index != 1 {
		t.Errorf("taking the entry off the owner index: %v index units, want 1", index)
	}
}

// Index writes as AWS prices them, per projection: a put that keeps its due
// keys rewrites an ALL index's copy and costs a KEYS_ONLY index nothing.
func TestDueIndexWrites(t *testing.T) {
	for _, c := range []struct {
		keysOnly bool
		want     []float64 // enter, stay, move, leave
	}{{false, []float64{1, 1, 2, 1}}, {true, []float64{1, 0, 2, 1}}} {
		g := gsi{PK: "due_pk", SK: "due_sk", KeysOnly: c.keysOnly}
		var d indexes
		got := []float64{d.move(g, "a|b", "DUE#c#1|2024", 300), d.move(g, "a|b", "DUE#c#1|2024", 300), d.move(g, "a|b", "DUE#c#1|2025", 300), d.move(g, "a|b", "", 300)}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("keys only %v: enter, stay, move, leave = %v, want %v", c.keysOnly, got, c.want)
				break
			}
		}
	}
}

// Every write request is booked by the items it changes together, a
// transaction at 2 units an item, a write alone at 1: the table that shows
// where the writes go.
func TestWritesBookedByShape(t *testing.T) {
	d := indexes{gsis: testIndexes}
	order := `{"Put":{"TableName":"t","Item":{"pk":{"S":"SHOP#s"},"sk":{"S":"ORDER#1"}}}}`
	day := `{"Update":{"TableName":"t","Key":{"pk":{"S":"SHOP#s"},"sk":{"S":"DAY#2024-03-01"}},"UpdateExpression":"ADD #0 :0","ExpressionAttributeValues":{":0":{"N":"1"}}}}`
	d.txUnits([]byte(`{"TransactItems":[` + order + `,` + day + `]}`))
	d.txUnits([]byte(`{"TransactItems":[` + day + `,` + order + `]}`))
	d.write("Put", []byte(`{"TableName":"t","Item":{"pk":{"S":"SHOP#s"},"sk":{"S":"ORDER#2"}}}`))
	day2 := strings.Replace(day, "2024-03-01", "2024-03-02", 1)
	d.txUnits([]byte(`{"TransactItems":[` + day + `,` + order + `,` + day2 + `]}`))
	want := map[string]Shape{"transaction: DAY + ORDER": {2, 8}, "alone: Put ORDER": {1, 1}, "transaction: 2 DAY + ORDER": {1, 6}}
	if !reflect.DeepEqual(d.ByShape, want) {
		t.Errorf("by shape %v, want %v", d.ByShape, want)
	}
	if d.ByItem["Put ORDER"] != 7 || d.ByItem["Update DAY"] != 8 {
		t.Errorf("by item %v, want Put ORDER 7 and Update DAY 8", d.ByItem)
	}
}

// The stderr tables put the largest first, so where to cut next is on top,
// and the sizes table names every kind with its median and what passed 1 KB.
func TestWhereToCutTablesLargestFirst(t *testing.T) {
	var buf bytes.Buffer
	byFunction(&buf, Bill{
		ByItem:  map[string]float64{"Put ORDER": 10, "Update MESSAGE": 30, "Put EVENT": 20},
		ByShape: map[string]Shape{"alone: Put ORDER": {N: 5, WRU: 5}, "transaction: EVENT + SHIPMENT": {N: 2, WRU: 12}},
		ByIndex: map[string]float64{"due index: ORDER": 4, "owner index: MESSAGE": 9},
		Sizes:   map[string][]int{"ORDER": {100, 200, 1100}},
	})
	out := buf.String()
	for _, pair := range [][2]string{
		{"Update MESSAGE", "Put EVENT"}, {"Put EVENT", "Put ORDER"},
		{"transaction: EVENT + SHIPMENT", "alone: Put ORDER"},
		{"owner index: MESSAGE", "due index: ORDER"},
	} {
		if a, b := strings.Index(out, pair[0]), strings.Index(out, pair[1]); a < 0 || b < 0 || a > b {
			t.Errorf("%q should come before %q:\n%s", pair[0], pair[1], out)
		}
	}
	if !regexp.MustCompile(`ORDER\s+3\s+200\s+1100\s+1100\s+1`).MatchString(out) {
		t.Errorf("sizes of ORDER: want 3 items, median 200, p90 1100, largest 1100, 1 over 1 KB:\n%s", out)
	}
}

// A BatchGetItem's keys with no item are billed at the minimum read each,
// which DynamoDB Local leaves out of its figure; unprocessed keys are not.
func TestMissedBatchReadsAreBilled(t *testing.T) {
	req := []byte(`{"RequestItems":{"t":{"Keys":[{"pk":{"S":"a"}},{"pk":{"S":"b"}},{"pk":{"S":"c"}},{"pk":{"S":"d"}}],"ConsistentRead":true},` +
		`"u":{"Keys":[{"pk":{"S":"a"}},{"pk":{"S":"b"}}]}}}`)
	resp := []byte(`{"Responses":{"t":[{"pk":{"S":"a"}}],"u":[]},"UnprocessedKeys":{"t":{"Keys":[{"pk":{"S":"d"}}]}}}`)
	// t: 4 asked, 1 found, 1 unprocessed: 2 missed, strongly consistent;
	// u: 2 asked, none found, eventually consistent.
	if got, want := missedReads(req, resp), 2*1+2*0.5; got != want {
		t.Errorf("missed reads %v units, want %v", got, want)
	}
	if got := missedReads(req, []byte(`{"Responses":{"t":[{},{},{},{}],"u":[{},{}]}}`)); got != 0 {
		t.Errorf("every key found: %v units, want 0", got)
	}
}
