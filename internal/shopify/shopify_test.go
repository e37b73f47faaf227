package shopify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// sign is the test's own oracle, written from Shopify's documentation:
// base64(HMAC-SHA256(secret, raw body)).
func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func hmacHeader(v string) http.Header {
	h := http.Header{}
	if v != "" {
		h.Set(HeaderHmac, v)
	}
	return h
}

// A vector computed outside Go, with openssl:
// printf '%s' '{"id":1}' | openssl dgst -sha256 -hmac hush -binary | base64
const (
	vectorSecret = "hush"
	vectorBody   = `{"id":1}`
	vectorSig    = "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY="
)

func TestVerifyKnownVector(t *testing.T) {
	if got := sign(vectorSecret, []byte(vectorBody)); got != vectorSig {
		t.Fatalf("oracle drifted: %s", got)
	}
	if err := (Source{Secret: vectorSecret}).Verify([]byte(vectorBody), hmacHeader(vectorSig), nil); err != nil {
		t.Fatalf("known vector rejected: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	body := []byte(`{"id":5801234567890,"name":"#1001"}`)
	good := sign("shpss_secret", body)
	cases := []struct {
		name   string
		secret string
		header string
		body   []byte
		ok     bool
	}{
		{"good", "shpss_secret", good, body, true},
		{"missing header", "shpss_secret", "", body, false},
		{"wrong secret", "other", good, body, false},
		{"other body", "shpss_secret", good, []byte(`{"id":5801234567891,"name":"#1001"}`), false},
		{"truncated signature", "shpss_secret", good[:len(good)-4], body, false},
		{"signature plus junk", "shpss_secret", good + "AAAA", body, false},
		{"hex instead of base64", "shpss_secret", strings.Repeat("ab", 32), body, false},
		{"not base64", "shpss_secret", strings.Repeat("*", 44), body, false},
		{"empty body signed", "shpss_secret", sign("shpss_secret", nil), nil, true},
		{"unconfigured secret", "", sign("", body), body, false},
		{"trailing newline added", "shpss_secret", good, append(append([]byte(nil), body...), '\n'), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Source{Secret: c.secret}.Verify(c.body, hmacHeader(c.header), nil)
			if c.ok {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if aftercare.ErrorCode(err) != aftercare.EUNAUTHORIZED {
				t.Fatalf("got %v, want an %s error", err, aftercare.EUNAUTHORIZED)
			}
		})
	}
}
