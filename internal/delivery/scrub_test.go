package delivery_test

import (
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/aftercare/aftercare/internal/delivery"
)

func TestScrubRemovesContactsOnly(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"MessageRejected: Email address is not verified. The following identities failed the check in region US-EAST-1: ada.lovelace+shop@mail.example.co.uk",
			"MessageRejected: Email address is not verified. The following identities failed the check in region US-EAST-1: <email>"},
		{"InvalidParameter: PhoneNumber Reason: +15555550123 is not valid to publish", "InvalidParameter: PhoneNumber Reason: <phone> is not valid to publish"},
		{"bad number +44 20 7946-0958, try again", "bad number <phone>, try again"},
		{"delivery url answered 500: {\"error\":\"no customer ada@example.org\",\"phone\":\"+1 (555) 555-0123\"}",
			"delivery url answered 500: {\"error\":\"no customer <email>\",\"phone\":\"<phone>\"}"},
		// Left alone: times, ids, codes, order names, short numbers.
		{"throttled at 2019-03-14T10:00:00.123Z, request id 8f3c2a1e-77b0-4f53-9b8e-0c5d6a7b8c9d, status 429", ""},
		{"order #1001 of shop example.myshopify.com, +1 attempt, 5551234 units", ""},
	} {
		want := c.want
		if want == "" {
			want = c.in
		}
		if got := delivery.Scrub(c.in); got != want {
			t.Errorf("Scrub(%q)\n = %q\nwant %q", c.in, got, want)
		}
	}
}

func TestScrubErrorKeepsTheChain(t *testing.T) {
	cause := &net.DNSError{Err: "no such host", Name: "ada@example.org"}
	err := fmt.Errorf("send: %w", delivery.ScrubError(cause))
	if got := err.Error(); got != "send: lookup <email>: no such host" {
		t.Errorf("text = %q", got)
	}
	var dns *net.DNSError
	if !errors.As(err, &dns) || dns != cause {
		t.Errorf("errors.As lost the cause: %v", err)
	}
	if delivery.ScrubError(nil) != nil {
		t.Error("ScrubError(nil) is not nil")
	}
}

// Whatever the text, scrubbing leaves nothing a second pass would change:
// no contact survives, and a replacement never forms a new one.
func FuzzScrub(f *testing.F) {
	for _, s := range []string{"ada@example.org", "+1 (555) 555-0123", "a@b.co@c.de", "+1234567+7654321", "2019-03-14T10:00:00Z", "", "@@..++"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := delivery.Scrub(s)
		if twice := delivery.Scrub(once); twice != once {
			t.Errorf("Scrub not idempotent on %q: %q then %q", s, once, twice)
		}
	})
}
