package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// now is the one "now" every date in these tests derives from. It is the real
// clock, read once, because the functions under test read the real clock too:
// a golden webhook's fixed dates are moved relative to it (shift), so a test
// means the same on any day it runs.
var now = time.Now().UTC().Truncate(time.Second)

// stamp matches an RFC 3339 timestamp or a bare date inside a JSON string.
var stamp = regexp.MustCompile(`"(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?"`)

// shift moves every timestamp in a JSON body by d, keeping each one's offset
// and precision, so the body tells the same story at another time.
func shift(t *testing.T, body []byte, d time.Duration) []byte {
	t.Helper()
	return stamp.ReplaceAllFunc(body, func(m []byte) []byte {
		s := strings.Trim(string(m), `"`)
		if !strings.Contains(s, "T") {
			day, err := time.Parse(time.DateOnly, s)
			if err != nil {
				t.Fatalf("shift %s: %v", s, err)
			}
			return []byte(`"` + day.Add(d).Format(time.DateOnly) + `"`)
		}
		at, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("shift %s: %v", s, err)
		}
		layout := time.RFC3339
		if i := strings.IndexByte(s, '.'); i >= 0 {
			frac := strings.IndexAny(s[i:], "Z+-")
			layout = "2006-01-02T15:04:05." + strings.Repeat("0", frac-1) + "Z07:00"
		}
		return []byte(`"` + at.Add(d).In(at.Location()).Format(layout) + `"`)
	})
}

// goldenTime reads an RFC 3339 time from a decoded golden body.
func goldenTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("golden time %v: %v", v, err)
	}
	return at
}

func TestShiftKeepsOffsetAndPrecision(t *testing.T) {
	in := []byte(`{"a":"2020-01-31T23:00:00-05:00","b":"2020-01-31T10:00:00.120Z","c":"2020-01-31","d":"not 2020-01-31"}`)
	got := string(shift(t, in, 24*time.Hour))
	want := `{"a":"2020-02-01T23:00:00-05:00","b":"2020-02-01T10:00:00.120Z","c":"2020-02-01","d":"not 2020-01-31"}`
	if got != want {
		t.Fatalf("shift:\n got %s\nwant %s", got, want)
	}
}
