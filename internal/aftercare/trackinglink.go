package aftercare

import (
	"net/url"
	"strings"
)

// MaxTrackingURL bounds a stored tracking link; carriers' links are short.
const MaxTrackingURL = 1024

// TrackingLink returns raw as a tracking link fit to put in a message: an
// absolute http(s) URL with a host, no user info and no control characters,
// at most MaxTrackingURL bytes. Anything else is "" (the message then has
// no link, never a bad one).
func TrackingLink(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > MaxTrackingURL {
		return ""
	}
	for _, r := range raw {
		if r < 0x20 || r == 0x7f || r == ' ' || r == '"' || r == '<' || r == '>' {
			return ""
		}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return ""
	}
	if out := u.String(); len(out) <= MaxTrackingURL {
		return out
	}
	return ""
}
