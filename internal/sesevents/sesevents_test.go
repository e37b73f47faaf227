package sesevents

import (
	"os"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

var received = time.Date(2031, 3, 4, 7, 0, 0, 0, time.UTC)

func golden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseGolden(t *testing.T) {
	cases := []struct {
		file, typ string
		n         int
	}{
		{"hard-bounce", aftercare.FeedbackHardBounce, 1},
		{"raw-hard-bounce", aftercare.FeedbackHardBounce, 1},
		{"identity-bounce", aftercare.FeedbackHardBounce, 1},
		{"soft-bounce", aftercare.FeedbackSoftBounce, 1},
		{"complaint", aftercare.FeedbackComplaint, 1},
		{"delivery", "", 0},
		{"subscription-confirmation", "", 0},
	}
	for _, tc := range cases {
		r, err := Parse(golden(t, tc.file), received)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if len(r.Feedback) != tc.n {
			t.Fatalf("%s: %d feedback, want %d", tc.file, len(r.Feedback), tc.n)
		}
		if tc.n == 0 {
			continue
		}
		f := r.Feedback[0]
		if f.Type != tc.typ || f.Address != "ada@example.org" || f.MessageID != "win_back-0123456789abcdef" {
			t.Errorf("%s: %+v", tc.file, f)
		}
		if r.Shop != "example.myshopify.com" || r.CustomerID != "115310627314723954" {
			t.Errorf("%s: shop %q customer %q", tc.file, r.Shop, r.CustomerID)
		}
		if f.At.IsZero() || f.At.Equal(received) {
			t.Errorf("%s: time %v not from the event", tc.file, f.At)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, body := range map[string]string{
		"not json":         "nope",
		"unknown SNS type": `{"Type":"Weird"}`,
		"message not json": `{"Type":"Notification","Message":"hello"}`,
		"no event type":    `{"Type":"Notification","Message":"{}"}`,
		"bounce without":   `{"eventType":"Bounce"}`,
		"complaint absent": `{"eventType":"Complaint"}`,
	} {
		if _, err := Parse([]byte(body), received); aftercare.ErrorCode(err) != aftercare.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	big := make([]byte, MaxBody+1)
	if _, err := Parse(big, received); aftercare.ErrorCode(err) != aftercare.EINVALID {
		t.Errorf("over the cap: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, n := range []string{"hard-bounce", "raw-hard-bounce", "complaint", "delivery", "subscription-confirmation"} {
		b, _ := os.ReadFile("testdata/" + n + ".json")
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := Parse(body, received)
		if err != nil {
			if aftercare.ErrorCode(err) != aftercare.EINVALID {
				t.Fatalf("error without EINVALID: %v", err)
			}
			return
		}
		if len(r.Feedback) > maxRecipients || len(r.Shop) > 255 || len(r.CustomerID) > 64 {
			t.Fatalf("unbounded report: %d feedback", len(r.Feedback))
		}
		for _, fb := range r.Feedback {
			if fb.Address == "" || len(fb.Address) > 254 {
				t.Fatalf("bad address %q", fb.Address)
			}
		}
	})
}
