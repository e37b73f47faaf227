package main

import (
	"bytes"
	"math"
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
	if err := print(&b, Units{"HTTPRequests": 2000}, 200); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	// 2,000 requests at $1/M for 200 orders: $0.002 per run, $0.01 per 1,000 orders.
	if got := lines[len(lines)-1]; got != "cost: $0.0100 per 1,000 orders (infrastructure, excluding SES/SNS fees)" {
		t.Fatalf("last line %q", got)
	}
}
