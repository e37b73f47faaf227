package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/easypost"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/shopify"
	"github.com/aftercare/aftercare/internal/signature"
)

// The SPEC budget: the webhook path (verify, parse, normalize, encode) costs
// at most 1.5x the floor of HMAC + encoding/json decode of the same body into
// map[string]any. Both run side by side in one `go test -bench` run.

type nopQueue struct{ bytes int }

func (q *nopQueue) Send(_ context.Context, _ string, body []byte) error {
	q.bytes = len(body)
	return nil
}

type ingestCase struct {
	name, source, file string
	header             http.Header
	secret             []byte
	verify             func(key, body []byte, sig string) bool
	sig                string
}

func ingestCases(tb testing.TB) []ingestCase {
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	order := read("../../events/webhooks/shopify/orders__updated_30_items.json")
	tracker := read("../../events/webhooks/easypost/tracker-updated-in-transit.json")
	sh := http.Header{}
	sh.Set("Content-Type", "application/json")
	sh.Set(shopify.HeaderTopic, "orders/updated")
	sh.Set(shopify.HeaderShop, "aftercare-demo.myshopify.com")
	sh.Set(shopify.HeaderEventID, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
	sh.Set(shopify.HeaderHmac, signature.Base64([]byte("bench-secret"), order))
	eh := http.Header{}
	eh.Set("Content-Type", "application/json")
	eh.Set(easypost.Header, "hmac-sha256-hex="+signature.Hex([]byte("bench-secret"), tracker))
	return []ingestCase{
		{name: "OrdersUpdated", source: "shopify", file: string(order), header: sh, secret: []byte("bench-secret"),
			verify: signature.ValidBase64, sig: sh.Get(shopify.HeaderHmac)},
		{name: "TrackerUpdated", source: "easypost", file: string(tracker), header: eh, secret: []byte("bench-secret"),
			verify: signature.ValidHex, sig: eh.Get(easypost.Header)[len("hmac-sha256-hex="):]},
	}
}

func benchService() (*Service, *nopQueue) {
	q := &nopQueue{}
	return &Service{
		Shopify:  shopify.Source{Secret: "bench-secret"},
		Carriers: map[string]Source{"easypost": easypost.Source{Secret: "bench-secret"}},
		Queue:    q, MaxBody: DefaultMaxBody, Log: obs.NewLogger(io.Discard, "ERROR"),
		Now: func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) },
	}, q
}

// ingest is the measured path: everything WebhookFunction does for one
// request except the network round trip to SQS.
func ingest(b testing.TB, s *Service, c ingestCase, body []byte) {
	out, err := s.Handle(context.Background(), c.source, body, c.header, nil)
	if err != nil || out.Status != "accepted" {
		b.Fatalf("%s: %+v %v", c.name, out, err)
	}
}

// floor is HMAC + encoding/json into map[string]any of the same body.
func floor(b testing.TB, c ingestCase, body []byte) {
	if !c.verify(c.secret, body, c.sig) {
		b.Fatal("floor: signature")
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkIngest(b *testing.B) {
	for _, c := range ingestCases(b) {
		body := []byte(c.file)
		s, q := benchService()
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				ingest(b, s, c, body)
			}
			b.ReportMetric(float64(q.bytes), "queued-bytes")
		})
	}
}

func BenchmarkFloor(b *testing.B) {
	for _, c := range ingestCases(b) {
		body := []byte(c.file)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				floor(b, c, body)
			}
		})
	}
}

// TestIngestAllocsBounded keeps the allocation count of the webhook path at
// or under the floor's: counted, not timed, so it holds on a noisy machine.
func TestIngestAllocsBounded(t *testing.T) {
	for _, c := range ingestCases(t) {
		body := []byte(c.file)
		s, _ := benchService()
		got := testing.AllocsPerRun(20, func() { ingest(t, s, c, body) })
		base := testing.AllocsPerRun(20, func() { floor(t, c, body) })
		t.Logf("%s: ingest %.0f allocs, floor %.0f", c.name, got, base)
		if got > base {
			t.Errorf("%s: ingest makes %.0f allocations, more than the floor's %.0f", c.name, got, base)
		}
	}
}
