package aftercare

import (
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	cases := []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"2024-08-02T19:26:52Z", utc(2024, 8, 2, 19, 26, 52, 0)},          // EasyPost
		{"2024-08-02T19:26:52.000Z", utc(2024, 8, 2, 19, 26, 52, 0)},      // EasyPost event
		{"2023-07-23T20:35:26.129Z", utc(2023, 7, 23, 20, 35, 26, 129e6)}, // Shippo
		{"2016-07-01T08:04:48+00:00", utc(2016, 7, 1, 8, 4, 48, 0)},       // AfterShip updated_at
		{"2021-01-14T08:52:00+08:00", utc(2021, 1, 14, 0, 52, 0, 0)},      // offset moves to UTC
		{"2021-01-13T19:52:00-05:00", utc(2021, 1, 14, 0, 52, 0, 0)},
		{"2021-01-14T08:52:00+0800", utc(2021, 1, 14, 0, 52, 0, 0)},
		{"2021-01-14T00:52:00", utc(2021, 1, 14, 0, 52, 0, 0)},           // AfterShip checkpoint, no zone
		{"2018-07-29T16:44:42.586", utc(2018, 7, 29, 16, 44, 42, 586e6)}, // Shippo test mode
		{"2024-05-20", utc(2024, 5, 20, 0, 0, 0, 0)},                     // estimated delivery date
	}
	for _, c := range cases {
		got, err := ParseTime(c.in)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", c.in, err)
			continue
		}
		if !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, want %v in UTC", c.in, got, c.want)
		}
	}
}

func TestParseTimeRejects(t *testing.T) {
	for _, in := range []string{
		"yesterday", "2024-13-01", "2024-02-30T10:00:00Z", "2024-08-02 19:26:52",
		"Z", "+", "1722626812", "2024-08-02T19:26:52+25:00", strings.Repeat("9", 500),
		"0000-01-01T00:00:00+01:00", "9999-12-31T23:00:00-02:00",
	} {
		_, err := ParseTime(in)
		if ErrorCode(err) != EINVALID {
			t.Errorf("ParseTime(%q) error = %v, want code %s", in, err, EINVALID)
			continue
		}
		if len(ErrorMessage(err)) > 80 {
			t.Errorf("ParseTime(%q) message is %d bytes; long input must be clipped", in[:10], len(ErrorMessage(err)))
		}
	}
}

func TestLatest(t *testing.T) {
	cases := []struct {
		name  string
		times []string
		index int
		want  string
	}{
		{"none", nil, -1, ""},
		{"all empty", []string{"", ""}, -1, ""},
		{"out of order", []string{"2024-08-01T10:00:00Z", "2024-08-03T10:00:00Z", "2024-08-02T10:00:00Z"}, 1, "2024-08-03T10:00:00Z"},
		{"zones compared as instants", []string{"2024-08-02T10:00:00+08:00", "2024-08-02T03:00:00Z"}, 1, "2024-08-02T03:00:00Z"},
		{"tie goes to the later report", []string{"2024-08-02T10:00:00Z", "2024-08-02T10:00:00Z"}, 1, "2024-08-02T10:00:00Z"},
		{"gaps skipped", []string{"", "2024-08-02T10:00:00Z", ""}, 1, "2024-08-02T10:00:00Z"},
	}
	for _, c := range cases {
		i, got, err := Latest(len(c.times), func(i int) string { return c.times[i] })
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var want time.Time
		if c.want != "" {
			want, _ = time.Parse(time.RFC3339, c.want)
		}
		if i != c.index || !got.Equal(want) {
			t.Errorf("%s: Latest = %d %v, want %d %v", c.name, i, got, c.index, want)
		}
	}
	if _, _, err := Latest(2, func(i int) string { return []string{"2024-08-02T10:00:00Z", "soon"}[i] }); ErrorCode(err) != EINVALID {
		t.Errorf("Latest with an unreadable time: error %v, want %s", err, EINVALID)
	}
}

func TestReportTime(t *testing.T) {
	received := time.Date(2025, 3, 20, 13, 0, 0, 0, time.FixedZone("CET", 3600))
	scans := []string{"2025-03-01T10:00:00Z", "2025-03-02T10:00:00+02:00"}
	cases := []struct {
		name    string
		scans   []string
		updated string
		index   int
		want    time.Time
	}{
		{"newest scan", scans, "2025-03-05T00:00:00Z", 1, time.Date(2025, 3, 2, 8, 0, 0, 0, time.UTC)},
		{"scans win even if updated is unreadable", scans, "later", 1, time.Date(2025, 3, 2, 8, 0, 0, 0, time.UTC)},
		{"no scans: updated", nil, "2025-03-05T01:00:00+01:00", -1, time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC)},
		{"scans without times: updated", []string{"", ""}, "2025-03-05T00:00:00Z", -1, time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC)},
		{"nothing: received", nil, "", -1, time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		i, got, err := ReportTime(len(c.scans), func(i int) string { return c.scans[i] }, c.updated, received)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if i != c.index || !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("%s: ReportTime = %d %v, want %d %v UTC", c.name, i, got, c.index, c.want)
		}
	}
	for _, c := range [][2]string{{"soon", ""}, {"", "soon"}} {
		if _, _, err := ReportTime(1, func(int) string { return c[0] }, c[1], received); ErrorCode(err) != EINVALID {
			t.Errorf("ReportTime(scan %q, updated %q): error %v, want %s", c[0], c[1], err, EINVALID)
		}
	}
}
