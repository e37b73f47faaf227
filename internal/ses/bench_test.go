package ses_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/delivery"
	"github.com/aftercare/aftercare/internal/ses"
)

func benchMessage() *delivery.Message {
	html := make([]byte, 0, 6000)
	for len(html) < 5500 {
		html = append(html, `<p style="margin:0 0 16px 0;">Hi Ada, your order #1001 is on its way. Café crème.</p>`...)
	}
	return &delivery.Message{ID: "win_back-0123456789abcdef", Kind: aftercare.KindWinBack, Category: aftercare.Marketing,
		Shop: "example.myshopify.com", CustomerID: "115310627314723954", To: "ada@example.org", ToName: "Ada Lovelace",
		From: "Northwind Coffee <hello@northwind.example>", ReplyTo: "help@northwind.example", Subject: "We miss you, Ada",
		Text: string(html[:1500]), HTML: string(html), UnsubscribeURL: "https://api.example/unsubscribe/AbCdEf0123456789"}
}

// BenchmarkRaw builds a 6 KB marketing email's MIME; BenchmarkRawFloor is
// json.Marshal of the same parts, what the webhook provider pays.
func BenchmarkRaw(b *testing.B) {
	m, now := benchMessage(), time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ses.Raw(m, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawFloor(b *testing.B) {
	m := benchMessage()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML, "to": m.To}); err != nil {
			b.Fatal(err)
		}
	}
}
