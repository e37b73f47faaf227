package aftercare

import (
	"strings"
	"testing"
)

func TestTrackingLink(t *testing.T) {
	for raw, want := range map[string]string{
		"https://www.ups.com/track?tracknum=1Z999":  "https://www.ups.com/track?tracknum=1Z999",
		"  http://trk.example/a  ":                  "http://trk.example/a",
		"javascript:alert(1)":                       "",
		"ftp://x.example/a":                         "",
		"/relative/path":                            "",
		"https://user:pw@evil.example/":             "",
		"https://x.example/a\nb":                    "",
		"https://x.example/\"><script>":             "",
		"https://" + strings.Repeat("a", 1100):      "",
		"":                                          "",
		"https://tools.usps.com/go/TrackConfirm?x=": "https://tools.usps.com/go/TrackConfirm?x=",
	} {
		if got := TrackingLink(raw); got != want {
			t.Errorf("TrackingLink(%q) = %q, want %q", raw, got, want)
		}
	}
}

func FuzzTrackingLink(f *testing.F) {
	f.Add("https://www.ups.com/track?tracknum=1Z999")
	f.Add("javascript:alert(1)")
	f.Fuzz(func(t *testing.T, raw string) {
		got := TrackingLink(raw)
		if got == "" {
			return
		}
		if len(got) > MaxTrackingURL || !(strings.HasPrefix(got, "https://") || strings.HasPrefix(got, "http://")) || strings.ContainsAny(got, "\r\n\"<> ") {
			t.Fatalf("TrackingLink(%q) = %q", raw, got)
		}
	})
}
