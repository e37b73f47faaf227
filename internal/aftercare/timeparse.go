package aftercare

import (
	"time"
)

// Layouts of the timestamps carriers and tracking providers send. A value
// without a zone is read as UTC: AfterShip's checkpoint times are carrier
// local with no offset and Shippo's test mode omits it, and UTC is the only
// reading that is the same on every machine.
const (
	layoutZoned      = time.RFC3339               // fraction optional on parse
	layoutZonedShort = "2006-01-02T15:04:05Z0700" // +0800, no colon
	layoutLocal      = "2006-01-02T15:04:05"      // fraction optional on parse
	layoutDate       = "2006-01-02"               // estimated delivery dates
)

// ParseTime reads a provider timestamp and returns it in UTC. The empty
// string is no time (zero, nil). Anything else it cannot read is an EINVALID
// error naming the value, so a caller can answer 400.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	var t time.Time
	var err error
	switch {
	case len(s) == len(layoutDate):
		t, err = time.Parse(layoutDate, s)
	case zoned(s):
		if t, err = time.Parse(layoutZoned, s); err != nil {
			t, err = time.Parse(layoutZonedShort, s)
		}
	default:
		t, err = time.Parse(layoutLocal, s)
	}
	if err != nil {
		return time.Time{}, Wrap(EINVALID, err, "unreadable time %q", clip(s))
	}
	// An offset can push year 0 or 9999 out of the range JSON can encode;
	// the queued event must always encode.
	if t = t.UTC(); t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, Errorf(EINVALID, "time %q is out of range", clip(s))
	}
	return t, nil
}

// zoned reports whether s ends in a zone: Z, ±hh:mm or ±hhmm. Choosing the
// layout up front keeps the common case to one parse.
func zoned(s string) bool {
	n := len(s)
	switch {
	case s[n-1] == 'Z' || s[n-1] == 'z':
		return true
	case n > 6 && (s[n-6] == '+' || s[n-6] == '-'):
		return true
	case n > 5 && (s[n-5] == '+' || s[n-5] == '-'):
		return true
	}
	return false
}

// Latest finds the newest of n timestamps, at(i) giving the i-th. It returns
// its index (-1 when none is set) and time; on equal times the later index
// wins, since providers list reports oldest first. Any unreadable timestamp
// is an error: a payload with a broken scan time is not trusted for order.
func Latest(n int, at func(i int) string) (int, time.Time, error) {
	best, newest := -1, time.Time{}
	for i := 0; i < n; i++ {
		t, err := ParseTime(at(i))
		if err != nil {
			return -1, time.Time{}, err
		}
		if !t.IsZero() && (best < 0 || !t.Before(newest)) {
			best, newest = i, t
		}
	}
	return best, newest, nil
}

// ReportTime is when a tracking report happened: its newest scan (returned
// as an index into the scans, -1 if none has a time), else when the provider
// last updated the tracker, else when the webhook was received. Always UTC.
func ReportTime(scans int, scanAt func(i int) string, updated string, received time.Time) (int, time.Time, error) {
	i, at, err := Latest(scans, scanAt)
	if err != nil {
		return -1, time.Time{}, err
	}
	if i < 0 {
		if at, err = ParseTime(updated); err != nil {
			return -1, time.Time{}, err
		}
	}
	if at.IsZero() {
		at = received
	}
	return i, at.UTC(), nil
}

// clip keeps error messages short when the input is huge.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
