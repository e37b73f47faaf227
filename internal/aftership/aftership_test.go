package aftership

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
)

func header(v string) http.Header {
	h := http.Header{}
	if v != "" {
		h.Set(Header, v)
	}
	return h
}

// sign is the test's own oracle, written from AfterShip's documentation
// (base64 of HMAC-SHA256 over the raw body) rather than through the package.
func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestVerify(t *testing.T) {
	body, err := os.ReadFile(goldenDir + "/delivered.json")
	if err != nil {
		t.Fatal(err)
	}
	good := sign("as_secret", body)
	cases := []struct {
		name, secret, header string
		body                 []byte
		ok                   bool
	}{
		{"valid", "as_secret", good, body, true},
		{"route not configured", "", good, body, false},
		{"missing header", "as_secret", "", body, false},
		{"url-safe alphabet", "as_secret", strings.NewReplacer("+", "-", "/", "_").Replace(good) + "x", body, false},
		{"hex instead of base64", "as_secret", strings.Repeat("ab", 32), body, false},
		{"not base64", "as_secret", strings.Repeat("*", len(good)), body, false},
		{"truncated", "as_secret", good[:len(good)-4], body, false},
		{"padded out", "as_secret", good + "AAAA", body, false},
		{"other secret", "other", good, body, false},
		{"other body", "as_secret", good, body[:len(body)-1], false},
		{"empty body", "as_secret", good, nil, false},
	}
	for _, c := range cases {
		err := Source{Secret: c.secret}.Verify(c.body, header(c.header), nil)
		if c.ok {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if aftercare.ErrorCode(err) != aftercare.EUNAUTHORIZED || aftercare.ErrorMessage(err) == "" {
			t.Errorf("%s: error %v, want %s with a reason", c.name, err, aftercare.EUNAUTHORIZED)
		}
	}
	// The header name is case-insensitive on the wire.
	h := http.Header{"Aftership-Hmac-Sha256": {good}}
	if err := (Source{Secret: "as_secret"}).Verify(body, h, nil); err != nil {
		t.Errorf("canonical header spelling: %v", err)
	}
}

func TestName(t *testing.T) {
	if got := (Source{}).Name(); got != "aftership" {
		t.Errorf("Name() = %q, want aftership", got)
	}
}
