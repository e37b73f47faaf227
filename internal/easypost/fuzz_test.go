package easypost

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/signature/sigtest"
)

func goldenBodies(f *testing.F) [][]byte {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	var out [][]byte
	for _, name := range append(files, "testdata/event-body.json") {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzVerify(f *testing.F) {
	f.Add(vectorBody(f), vectorSecret, vectorHeader, uint(0))
	for i, b := range goldenBodies(f) {
		f.Add(b, "whsec_ü", sign("whsec_ü", b), uint(i*97))
	}
	f.Add([]byte{}, "s", prefix, uint(0))
	f.Add([]byte("{}"), "", "hmac-sha256-hex="+string(make([]byte, 64)), uint(1))
	f.Add([]byte("{}"), "ﬁ\u00e9", "HMAC-SHA256-HEX=00", uint(2))
	f.Fuzz(func(t *testing.T, body []byte, secret, value string, pos uint) {
		sigtest.Check(t, func(b []byte, secret, value string) error {
			return Source{Secret: secret}.Verify(b, header(value), nil)
		}, sign, body, secret, value, pos)
	})
}

func FuzzParse(f *testing.F) {
	for _, b := range goldenBodies(f) {
		f.Add(b)
	}
	for _, s := range []string{
		``, `null`, `[]`, `"x"`, `{}`, `{"description":"tracker.updated"}`,
		`{"id":"evt_1","description":"tracker.updated","result":{"tracking_code":"1","tracking_details":[{"datetime":"2025-01-01T00:00:00"}]}}`,
		`{"id":"evt_1","description":"tracker.created","result":{"tracking_code":"1","status":"failure","status_detail":"lost","est_delivery_date":"2025-01-01"}}`,
		`{"id":"evt_1","description":"tracker.updated","result":{"tracking_code":"1","tracking_details":[{"datetime":"2025-01-01T00:00:00+0800"},{"datetime":"x"}]}}`,
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
		if ev.Source != aftercare.SourceEasyPost || ev.Topic == "" {
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
