package dynamo

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Entity and dedupe documents are stored deflated in docz (binary). Their
// JSON is 1 to 3 KB and deflates to a third of that: most items then fit
// one write unit instead of two or three, in the table and in the due index,
// and a transaction doubles each. Items written before docz carry their JSON
// in doc; both are read.

// maxDoc bounds an inflated document: a stored item is at most 400 KB, and
// JSON of that deflates by a factor of 3 to 10, never hundreds.
const maxDoc = 16 << 20

var writers = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.DefaultCompression) // the level is valid: no error
	return w
}}

// pack deflates a JSON document.
func pack(doc []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(doc)/2 + 16)
	w := writers.Get().(*flate.Writer)
	w.Reset(&b)
	_, _ = w.Write(doc) // writes to a bytes.Buffer do not fail
	_ = w.Close()
	writers.Put(w)
	return b.Bytes()
}

// unpack inflates a document pack made.
func unpack(z []byte) ([]byte, error) {
	r := flate.NewReader(bytes.NewReader(z))
	defer r.Close()
	doc, err := io.ReadAll(io.LimitReader(r, maxDoc+1))
	if err != nil {
		return nil, fmt.Errorf("inflate doc: %w", err)
	}
	if len(doc) > maxDoc {
		return nil, fmt.Errorf("inflate doc: over %d bytes", maxDoc)
	}
	return doc, nil
}

// Doc returns a stored item's JSON document: docz inflated, or the doc of an
// item written before docz ("" when it has neither).
func Doc(item map[string]types.AttributeValue) ([]byte, error) {
	if z, ok := item[attrDocZ].(*types.AttributeValueMemberB); ok {
		return unpack(z.Value)
	}
	return []byte(getS(item, attrDoc)), nil
}
