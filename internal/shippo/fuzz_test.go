package shippo

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

func goldenBodies(f *testing.F) [][]byte {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	var out [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// Shippo's token does not depend on the body, so the property is about the
// query: the configured token always passes and any change to it never does.
func FuzzVerify(f *testing.F) {
	for i, b := range goldenBodies(f) {
		f.Add(b, "tok_9f8e7d", "token=tok_9f8e7d", uint(i))
	}
	f.Add([]byte{}, "", "token=", uint(0))
	f.Add([]byte("{}"), "t", "token=t&token=u", uint(1))
	f.Add([]byte("{}"), "t%20", "token=t%2520;x", uint(2))
	f.Fuzz(func(t *testing.T, body []byte, token, rawQuery string, pos uint) {
		src := Source{Token: token}
		q, _ := url.ParseQuery(rawQuery) // keeps what it could parse, as net/http does
		if err := src.Verify(body, nil, q); err != nil && aftercare.ErrorCode(err) != aftercare.EUNAUTHORIZED {
			t.Fatalf("Verify error code %q, want %s: %v", aftercare.ErrorCode(err), aftercare.EUNAUTHORIZED, err)
		}
		err := src.Verify(body, nil, url.Values{Param: {token}})
		if token == "" {
			if aftercare.ErrorCode(err) != aftercare.EUNAUTHORIZED {
				t.Fatalf("unconfigured token verified: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("the configured token rejected: %v", err)
		}
		changed := []byte(token)
		changed[pos%uint(len(changed))]++
		if err := src.Verify(body, nil, url.Values{Param: {string(changed)}}); aftercare.ErrorCode(err) != aftercare.EUNAUTHORIZED {
			t.Fatalf("token with one byte changed verified: %v", err)
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, b := range goldenBodies(f) {
		f.Add(b)
	}
	for _, s := range []string{
		``, `null`, `[]`, `"x"`, `{}`, `{"event":"track_updated"}`,
		`{"event":"track_updated","data":{"tracking_number":"1","tracking_status":{"status":"FAILURE","substatus":{"code":"package_lost"}}}}`,
		`{"event":"track_updated","data":{"tracking_number":"1","tracking_history":[{"status_date":"2025-01-01T00:00:00+0800"},{"status_date":"2025-01-01"}]}}`,
		`{"event":"track_updated","data":{"tracking_number":"1","eta":"9999-12-31T23:59:59-01:00"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := Source{}.Parse(body, nil, received)
		if err != nil {
			if aftercare.ErrorCode(err) != aftercare.EINVALID {
				t.Fatalf("Parse error code %q, want %s: %v", aftercare.ErrorCode(err), aftercare.EINVALID, err)
			}
			return
		}
		if ev.Source != aftercare.SourceShippo || ev.Topic == "" {
			t.Fatalf("source %q topic %q", ev.Source, ev.Topic)
		}
		if ev.Kind == "" {
			return
		}
		tr := ev.Tracking
		if ev.Kind != aftercare.EventTracking || tr == nil || ev.ID == "" || tr.TrackingNumber == "" || !tr.Status.Valid() {
			t.Fatalf("incomplete tracking event: %+v %+v", ev, tr)
		}
		if ev.At.IsZero() || ev.At.Location() != time.UTC || !tr.EventTime.Equal(ev.At) {
			t.Fatalf("event time %v / %v not a UTC time", ev.At, tr.EventTime)
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Fatalf("the event cannot be queued: %v", err)
		}
	})
}
