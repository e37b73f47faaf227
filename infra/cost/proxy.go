package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
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
			units, index := consumed(b)
			m.note(fn, "index units", index)
			switch t := r.Request.Header.Get("X-Amz-Target"); {
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
		rp.ServeHTTP(w, r)
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	return &proxy{URL: "http://" + ln.Addr().String(), srv: srv}
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
