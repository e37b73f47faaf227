package handler

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzDecodeInbox: whatever arrives on the inbox, decoding never panics, and
// a message it accepts is an event with an id and a kind.
func FuzzDecodeInbox(f *testing.F) {
	for _, g := range []string{"../sesevents/testdata/*.json", "../../events/sqs/*.json"} {
		files, _ := filepath.Glob(g)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"detail-type":"shopifyWebhook","detail":{"metadata":{},"payload":{}}}`))
	f.Add([]byte(`{"Type":"Notification","Message":"{}"}`))
	f.Add([]byte(`{"kind":"order","id":"x"}`))
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, ok, err := decodeInbox(body, now)
		if ok && err != nil {
			t.Fatalf("accepted with an error: %v", err)
		}
		if ok && ev.Kind == "email_feedback" && (ev.ID == "" || ev.EmailFeedback == nil || ev.Shop == "") {
			t.Fatalf("feedback event without id, shop or report: %+v", ev)
		}
	})
}
