package shopify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"
)

func benchFile(b *testing.B) []byte {
	var buf bytes.Buffer
	at := onboardNow.Add(-200 * 24 * time.Hour)
	for n := 1; n <= 1000; n++ {
		bulkOrder(&buf, n, 3, at.Add(time.Duration(n)*time.Minute))
	}
	return buf.Bytes()
}

// BenchmarkBulkReader reads 1,000 orders (4,000 lines) into normalized events.
func BenchmarkBulkReader(b *testing.B) {
	data := benchFile(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewBulkReader(bytes.NewReader(data), 0, testShop, func() time.Time { return onboardNow })
		for {
			if _, err := r.Next(); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkBulkFloor is the floor: split the same bytes into lines and
// decode each into map[string]any with encoding/json, nothing else.
func BenchmarkBulkFloor(b *testing.B) {
	data := benchFile(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), MaxBulkLine)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				b.Fatal(err)
			}
		}
	}
}
