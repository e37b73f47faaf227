package easypost

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// EasyPost's own webhook test vector, shared by its client libraries
// (EasyPost/examples official/fixtures/client-library-fixtures.json): the
// secret "sécret" with a composed é, the body in testdata/event-body.json
// byte for byte, and the header EasyPost computed over them.
const (
	vectorSecret = "s\u00e9cret"
	vectorHeader = "hmac-sha256-hex=38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db"
)

func vectorBody(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/event-body.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func header(v string) http.Header {
	h := http.Header{}
	if v != "" {
		h.Set(Header, v)
	}
	return h
}

// sign is the test's own oracle for a signature, written from EasyPost's
// documentation rather than through the package.
func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(norm.NFKD.String(secret)))
	m.Write(body)
	return prefix + hex.EncodeToString(m.Sum(nil))
}

func TestVerifyEasyPostVector(t *testing.T) {
	body := vectorBody(t)
	if err := (Source{Secret: vectorSecret}).Verify(body, header(vectorHeader), nil); err != nil {
		t.Fatalf("EasyPost's own signed fixture does not verify: %v", err)
	}
	// The decomposed spelling of the same secret must verify too: both
	// normalize to the same NFKD key.
	if err := (Source{Secret: "se\u0301cret"}).Verify(body, header(vectorHeader), nil); err != nil {
		t.Fatalf("decomposed secret: %v", err)
	}
	// Keying with the raw composed bytes (no NFKD) gives another signature;
	// this proves the vector exercises normalization.
	m := hmac.New(sha256.New, []byte(vectorSecret))
	m.Write(body)
	if prefix+hex.EncodeToString(m.Sum(nil)) == vectorHeader {
		t.Fatal("vector does not depend on NFKD; the test proves nothing")
	}
}

func TestVerifyRejects(t *testing.T) {
	body := vectorBody(t)
	good := sign("whsec", body)
	upper := prefix + strings.ToUpper(strings.TrimPrefix(good, prefix))
	cases := []struct {
		name   string
		secret string
		header string
		body   []byte
		ok     bool
	}{
		{"valid", "whsec", good, body, true},
		{"valid upper-case hex", "whsec", upper, body, true},
		{"route not configured", "", good, body, false},
		{"missing header", "whsec", "", body, false},
		{"wrong prefix", "whsec", "sha256=" + strings.TrimPrefix(good, prefix), body, false},
		{"no prefix", "whsec", strings.TrimPrefix(good, prefix), body, false},
		{"not hex", "whsec", prefix + strings.Repeat("zz", 32), body, false},
		{"short", "whsec", good[:len(good)-2], body, false},
		{"long", "whsec", good + "00", body, false},
		{"other secret", "other", good, body, false},
		{"other body", "whsec", good, append([]byte(" "), body...), false},
		{"empty body", "whsec", good, nil, false},
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
}

func TestName(t *testing.T) {
	if got := (Source{}).Name(); got != "easypost" {
		t.Errorf("Name() = %q, want easypost", got)
	}
}
