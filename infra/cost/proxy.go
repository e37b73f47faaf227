package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// proxy sits between one function and an emulator and meters its calls:
// every SQS request, and DynamoDB capacity as the responses report it.
type proxy struct {
	URL string
	srv *http.Server
}

func (p *proxy) Close() { _ = p.srv.Close() }

func startProxy(fn, service, upstream string, m *meter) *proxy {
	target, _ := url.Parse(upstream)
	rp := httputil.NewSingleHostReverseProxy(target)
	if service == "dynamodb" {
		rp.ModifyResponse = func(r *http.Response) error {
			b, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil {
				return err
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
			t := r.Request.Header.Get("X-Amz-Target")
			if strings.HasPrefix(t, "DynamoDBStreams_") {
				// The fold reading the table's stream: GetRecords is billed
				// per request; listing and describing streams and shards is free.
				if strings.HasSuffix(t, ".GetRecords") {
					m.addFn(fn, "DynamoStreamReads", 1)
				}
				return nil
			}
			units, index := consumed(b)
			if strings.HasSuffix(t, ".BatchGetItem") && r.StatusCode == http.StatusOK {
				// AWS reads each key of a batch as a GetItem, and a key with
				// no item costs the minimum read; DynamoDB Local reports
				// nothing for it (it does for a GetItem).
				body, _ := r.Request.Context().Value(bodyKey{}).([]byte)
				units += missedReads(body, b)
			}
			if strings.HasSuffix(t, "TransactWriteItems") && r.StatusCode == http.StatusOK {
				// DynamoDB Local's transactional figures do not follow AWS's
				// rule (three small puts report 4 units, one reports 4 too):
				// price the request by the rule instead.
				body, _ := r.Request.Context().Value(bodyKey{}).([]byte)
				table, idx := m.idx.txUnits(body)
				units, index = table+idx, idx
			}
			for _, op := range []string{"Put", "Update", "Delete"} {
				if strings.HasSuffix(t, "."+op+"Item") && r.StatusCode == http.StatusOK {
					// Billed as DynamoDB Local reports it; followed so that a
					// later transactional write of the item knows where it was.
					body, _ := r.Request.Context().Value(bodyKey{}).([]byte)
					m.idx.write(op, body)
				}
			}
			m.note(fn, "index units", index)
			switch {
			case strings.Contains(t, "Get") || strings.HasSuffix(t, "Query") || strings.HasSuffix(t, "Scan"):
				m.addFn(fn, "DynamoRRU", units)
			default:
				m.addFn(fn, "DynamoWRU", units)
			}
			return nil
		}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if service == "sqs" {
			m.addFn(fn, "SQSRequests", 1)
		} else {
			body = askCapacity(r.Header.Get("X-Amz-Target"), body)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bodyKey{}, body)))
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	return &proxy{URL: "http://" + ln.Addr().String(), srv: srv}
}

// bodyKey carries a request's body to the response's metering.
type bodyKey struct{}

// gsi is a global secondary index the proxy follows: its key attributes,
// and whether it projects keys only.
type gsi struct {
	PK, SK   string
	KeysOnly bool
}

// indexes follows every item's keys in each index as the writes pass by, to
// price index writes as AWS does: with an ALL projection, a put of an item
// in the index writes its copy (and a move deletes the old one first); with
// KEYS_ONLY, only entering, leaving or moving in the index writes.
type indexes struct {
	mu   sync.Mutex
	gsis []gsi
	at   map[string]string // index pk, item pk|sk -> the item's index keys
	// ByItem are the write units (table and index) by action and item
	// kind, and ByShape by request: which items one write request
	// changes together, and what that costs. Where the writes go.
	ByItem  map[string]float64
	ByShape map[string]Shape
	// ByIndex are the index write units by index and item kind (part of
	// ByItem's): entering, leaving or moving in a keys-only index.
	ByIndex map[string]float64
}

// Shape is the count and write units of one kind of write request.
type Shape struct {
	N   int
	WRU float64
}

// charge books one write request's units by item and by shape.
func (d *indexes) charge(shape string, items map[string]float64) {
	if d.ByItem == nil {
		d.ByItem, d.ByShape = map[string]float64{}, map[string]Shape{}
	}
	s := d.ByShape[shape]
	s.N++
	for k, u := range items {
		d.ByItem[k] += u
		s.WRU += u
	}
	d.ByShape[shape] = s
}

// actionSize is the size a write is billed on, as far as the request shows
// it: a Put's item; a Delete's, Update's or ConditionCheck's stored item is
// not in the request, so the size of what it names (at least 1 KB: these
// are the small counter, mark and ledger items).
func actionSize(op string, a action) int {
	switch op {
	case "Put":
		return itemSize(a.Item)
	case "Delete":
		return itemSize(a.Key)
	}
	return itemSize(a.Key) + itemSize(a.ExpressionAttributeValues)
}

// action is one write as a request shows it.
type action struct {
	Item, Key                 map[string]json.RawMessage
	UpdateExpression          string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]json.RawMessage
}

// txUnits prices a TransactWriteItems request by AWS's rule: each action
// costs 2 write units per KB of its item (a Put's item as sent; an Update,
// Delete or ConditionCheck, whose stored item the request does not show, at
// the size of what it names, at least 1 KB: these are the small counter and
// mark items). Index writes are not doubled: a transaction's changes reach
// the indexes after it commits, as ordinary index writes.
func (d *indexes) txUnits(body []byte) (table, index float64) {
	var req struct{ TransactItems []map[string]action }
	if json.Unmarshal(body, &req) != nil {
		return 0, 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	items := map[string]float64{}
	var kinds []string
	for _, ta := range req.TransactItems {
		for op, a := range ta {
			size := actionSize(op, a)
			ix := d.follow(op, a, size)
			index += ix
			table += 2 * units(size)
			items[op+" "+itemKind(a)] += 2*units(size) + ix
			kinds = append(kinds, itemKind(a))
		}
	}
	d.charge("transaction: "+shapeOf(kinds), items)
	return table, index
}

// shapeOf names the items of a transaction, sorted, a repeated kind once
// with its count ("93 DAY + SHARD": a fold of 93 days).
func shapeOf(kinds []string) string {
	sort.Strings(kinds)
	var out []string
	for i := 0; i < len(kinds); {
		j := i
		for j < len(kinds) && kinds[j] == kinds[i] {
			j++
		}
		if j-i > 1 {
			out = append(out, fmt.Sprintf("%d %s", j-i, kinds[i]))
		} else {
			out = append(out, kinds[i])
		}
		i = j
	}
	return strings.Join(out, " + ")
}

// write follows a PutItem, UpdateItem or DeleteItem request (DynamoDB Local
// prices those itself).
func (d *indexes) write(op string, body []byte) {
	var a action
	if json.Unmarshal(body, &a) != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	size := actionSize(op, a)
	k := op + " " + itemKind(a)
	d.charge("alone: "+k, map[string]float64{k: units(size) + d.follow(op, a, size)})
}

// follow records where one write leaves its item in every index and returns
// the index write units that costs.
func (d *indexes) follow(op string, a action, size int) float64 {
	item := a.Item
	if op != "Put" {
		item = a.Key
	}
	var total float64
	for _, g := range d.gsis {
		now, known := "", true
		switch op {
		case "Put":
			if item[g.PK] != nil {
				now = string(item[g.PK]) + "|" + string(item[g.SK])
			}
		case "Update":
			now, known = updatedKeys(a, g)
		case "ConditionCheck":
			known = false
		}
		if known {
			u := d.move(g, string(item["pk"])+"|"+string(item["sk"]), now, size)
			if u > 0 {
				if d.ByIndex == nil {
					d.ByIndex = map[string]float64{}
				}
				d.ByIndex[strings.TrimSuffix(g.PK, "_pk")+" index: "+itemKind(a)] += u
			}
			total += u
		}
	}
	return total
}

// itemKind names what an action writes by its sort key's prefix (ORDER,
// CUSTOMER, MESSAGE, DAY, ...) or, for a dedupe record, its kind.
func itemKind(a action) string {
	k := a.Key
	if k == nil {
		k = a.Item
	}
	var pk, sk struct{ S string }
	_ = json.Unmarshal(k["pk"], &pk)
	_ = json.Unmarshal(k["sk"], &sk)
	if kind, _, _ := strings.Cut(sk.S, "#"); kind != "" && kind == strings.ToUpper(kind) {
		return kind
	}
	kind, _, _ := strings.Cut(pk.S, "#")
	return kind
}

// updatedKeys: the index keys an update expression sets (or removes); known
// is false when it leaves them alone.
func updatedKeys(a action, g gsi) (keys string, known bool) {
	val := func(attr string) (string, bool) {
		for ph, name := range a.ExpressionAttributeNames {
			if name != attr {
				continue
			}
			m := regexp.MustCompile(regexp.QuoteMeta(ph) + `\s*=\s*(:\w+)`).FindStringSubmatch(a.UpdateExpression)
			if m != nil {
				return string(a.ExpressionAttributeValues[m[1]]), true
			}
			if regexp.MustCompile(regexp.QuoteMeta(ph) + `\b`).MatchString(a.UpdateExpression) {
				return "", true // removed
			}
		}
		return "", false
	}
	pk, ok := val(g.PK)
	if !ok {
		return "", false
	}
	if pk == "" {
		return "", true
	}
	sk, _ := val(g.SK)
	return pk + "|" + sk, true
}

// move records an item's new keys in one index ("" when it is not in it)
// and returns the index writes, in units, that the change costs.
func (d *indexes) move(g gsi, item, now string, size int) float64 {
	if d.at == nil {
		d.at = map[string]string{}
	}
	k := g.PK + " " + item
	old := d.at[k]
	if now == "" {
		delete(d.at, k)
	} else {
		d.at[k] = now
	}
	copySize := size // the index's copy of the item
	if g.KeysOnly {
		copySize = 0
		if now == old {
			return 0
		}
	}
	switch {
	case now == "" && old == "":
		return 0
	case now == "":
		return 1 // the old copy deleted
	case old == "" || old == now:
		return units(copySize)
	default:
		return 1 + units(copySize) // deleted under the old keys, put under the new
	}
}

// units is the write units of an item of size bytes: 1 per KB, at least 1.
func units(size int) float64 { return math.Max(1, math.Ceil(float64(size)/1024)) }

// itemSize is an item's size as DynamoDB bills it: attribute names plus
// values (strings and binary by length, numbers about a byte per two digits,
// sets and documents their members and a few bytes each).
func itemSize(item map[string]json.RawMessage) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(raw json.RawMessage) int {
	var v map[string]json.RawMessage
	if json.Unmarshal(raw, &v) != nil {
		return len(raw)
	}
	n := 0
	for t, x := range v {
		switch t {
		case "S":
			var s string
			_ = json.Unmarshal(x, &s)
			n += len(s)
		case "N":
			var s string
			_ = json.Unmarshal(x, &s)
			n += len(s)/2 + 1
		case "B":
			var b []byte // base64 on the wire
			_ = json.Unmarshal(x, &b)
			n += len(b)
		case "BOOL", "NULL":
			n++
		case "SS", "NS", "BS":
			var list []json.RawMessage
			_ = json.Unmarshal(x, &list)
			for _, e := range list {
				n += len(e) - 2
			}
		case "L":
			var list []json.RawMessage
			_ = json.Unmarshal(x, &list)
			n += 3
			for _, e := range list {
				n += 1 + valueSize(e)
			}
		case "M":
			var m map[string]json.RawMessage
			_ = json.Unmarshal(x, &m)
			n += 3 + itemSize(m)
		}
	}
	return n
}

// askCapacity adds ReturnConsumedCapacity to the operations that take it.
// The body is re-signed by nobody: DynamoDB Local does not check signatures.
func askCapacity(target string, body []byte) []byte {
	op := target[strings.LastIndexByte(target, '.')+1:]
	switch op {
	case "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan",
		"BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems":
	default:
		return body
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	m["ReturnConsumedCapacity"] = "INDEXES"
	b, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return b
}

// consumed sums the capacity units a response reports (one entry, or one
// per table for batches and transactions); with INDEXES, CapacityUnits
// includes the index units, which index also gives apart.
func consumed(b []byte) (total, index float64) {
	type cc struct {
		CapacityUnits          float64
		GlobalSecondaryIndexes map[string]struct{ CapacityUnits float64 }
	}
	var one struct{ ConsumedCapacity json.RawMessage }
	if json.Unmarshal(b, &one) != nil || len(one.ConsumedCapacity) == 0 {
		return 0, 0
	}
	var list []cc
	if json.Unmarshal(one.ConsumedCapacity, &list) != nil {
		var c cc
		if json.Unmarshal(one.ConsumedCapacity, &c) != nil {
			return 0, 0
		}
		list = []cc{c}
	}
	for _, c := range list {
		total += c.CapacityUnits
		for _, g := range c.GlobalSecondaryIndexes {
			index += g.CapacityUnits
		}
	}
	return total, index
}

// missedReads prices the keys a BatchGetItem asked for and found no item at:
// the minimum read each (1 unit strongly consistent, half eventually), as
// AWS bills a GetItem of a missing item. Unprocessed keys were not read.
func missedReads(req, resp []byte) float64 {
	var in struct {
		RequestItems map[string]struct {
			Keys           []json.RawMessage
			ConsistentRead bool
		}
	}
	var out struct {
		Responses       map[string][]json.RawMessage
		UnprocessedKeys map[string]struct{ Keys []json.RawMessage }
	}
	if json.Unmarshal(req, &in) != nil || json.Unmarshal(resp, &out) != nil {
		return 0
	}
	var units float64
	for table, r := range in.RequestItems {
		missed := len(r.Keys) - len(out.Responses[table]) - len(out.UnprocessedKeys[table].Keys)
		if missed <= 0 {
			continue
		}
		per := 0.5
		if r.ConsistentRead {
			per = 1
		}
		units += float64(missed) * per
	}
	return units
}
