package templates

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the templates")

// TestGolden keeps a few representative messages in testdata, so a wording
// change shows up in review as a diff of what customers and the team read.
// After an intended change: go test ./internal/templates/ -run Golden -update
func TestGolden(t *testing.T) {
	cases := []struct {
		name  string
		kind  aftercare.Kind
		ch    aftercare.Channel
		codes bool
		first string
	}{
		{"order_shipped.email", aftercare.KindOrderShipped, aftercare.ChannelEmail, false, "Ada"},
		{"order_shipped.sms", aftercare.KindOrderShipped, aftercare.ChannelSMS, false, "Ada"},
		{"delivered_setup.email", aftercare.KindDeliveredSetup, aftercare.ChannelEmail, false, ""},
		{"exception_damaged.email", aftercare.KindExceptionDamaged, aftercare.ChannelEmail, false, "Ada"},
		{"exception_failed_delivery.sms", aftercare.KindExceptionFailedDelivery, aftercare.ChannelSMS, false, "Ada"},
		{"exception_resolved.email", aftercare.KindExceptionResolved, aftercare.ChannelEmail, false, "Ada"},
		{"support_task.email", aftercare.KindSupportTask, aftercare.ChannelEmail, false, "Ada"},
		{"data_request.email", aftercare.KindDataRequest, aftercare.ChannelEmail, false, "Ada"},
		{"review_request.email", aftercare.KindReviewRequest, aftercare.ChannelEmail, false, "Ada"},
		{"win_back.email", aftercare.KindWinBack, aftercare.ChannelEmail, true, "Ada"},
		{"lapse_note.email.no_code", aftercare.KindLapseNote, aftercare.ChannelEmail, false, "Ada"},
		{"lapse_note.sms", aftercare.KindLapseNote, aftercare.ChannelSMS, true, ""},
		{"back_in_stock.email", aftercare.KindBackInStock, aftercare.ChannelEmail, false, "Ada"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Render(c.kind, c.ch, Build(c.kind, testSettings(c.codes), stateFields(c.kind, c.first)))
			if err != nil {
				t.Fatal(err)
			}
			fields, err := json.MarshalIndent(r.Fields, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("subject: %s\n\n%s\n\n---- fields\n%s\n", r.Subject, r.Body, fields)
			file := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the templates (run with -update if intended):\n--- got\n%s\n--- want\n%s", file, got, want)
			}
		})
	}
}
