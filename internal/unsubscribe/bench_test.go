package unsubscribe

import (
	"crypto/hmac"
	"crypto/sha256"
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// BenchmarkParse checks a token; BenchmarkParseFloor is the HMAC-SHA256 of
// the same bytes alone, the least any signed token costs.
func BenchmarkParse(b *testing.B) {
	tok := testSigner.Token(Subject{Shop: "example.myshopify.com", CustomerID: "115310627314723954", Channel: aftercare.ChannelEmail})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := testSigner.Parse(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseFloor(b *testing.B) {
	tok := testSigner.Token(Subject{Shop: "example.myshopify.com", CustomerID: "115310627314723954", Channel: aftercare.ChannelEmail})
	raw, _ := enc.DecodeString(tok)
	b.ReportAllocs()
	for b.Loop() {
		h := hmac.New(sha256.New, testSigner.Secret)
		h.Write(raw)
		_ = h.Sum(nil)
	}
}
