package aftership

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
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzVerify(f *testing.F) {
	for i, b := range goldenBodies(f) {
		f.Add(b, "as_secret", sign("as_secret", b), uint(i*131))
	}
	f.Add([]byte{}, "s", "", uint(0))
	f.Add([]byte("{}"), "", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", uint(1))
	f.Add([]byte("{}"), "k", "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU", uint(2))
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
		``, `null`, `[]`, `"x"`, `{}`, `{"event":"tracking_update"}`,
		`{"event":"tracking_update","event_id":"e","msg":{"tracking_number":"1","tag":"Exception","subtag":"Exception_013"}}`,
		`{"event":"tracking_update","event_id":"e","msg":{"tracking_number":"1","checkpoints":[{"checkpoint_time":"2025-01-01T00:00:00+0800"},{"checkpoint_time":"2025-01-01"}]}}`,
		`{"event":"tracking_update","event_id":"e","msg":{"tracking_number":"1","latest_estimated_delivery":{"datetime_max":"0000-01-01T00:00:00+01:00"}}}`,
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
		if ev.Source != aftercare.SourceAfterShip || ev.Topic == "" {
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
