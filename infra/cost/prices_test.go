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
}
