// Package sigtest holds the properties every webhook verifier must have,
// shared by the verifiers' fuzz tests. Only tests import it.
package sigtest

import (
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// Verify checks a signature value (as the sender puts it in its header) over
// a body under a secret.
type Verify func(body []byte, secret, value string) error

// Sign is the test's own oracle for the correct value.
type Sign func(secret string, body []byte) string

// Check asserts, for one fuzz input: an arbitrary value is either accepted or
// rejected as EUNAUTHORIZED (never another error); an empty secret rejects
// even a correct signature; otherwise a correct signature verifies, and the
// same signature over the body with one byte changed does not.
func Check(t testing.TB, verify Verify, sign Sign, body []byte, secret, value string, pos uint) {
	t.Helper()
	if err := verify(body, secret, value); err != nil && aftercare.ErrorCode(err) != aftercare.EUNAUTHORIZED {
		t.Fatalf("Verify error code %q, want %s: %v", aftercare.ErrorCode(err), aftercare.EUNAUTHORIZED, err)
	}
	good := sign(secret, body)
	err := verify(body, secret, good)
	if secret == "" {
		if aftercare.ErrorCode(err) != aftercare.EUNAUTHORIZED {
			t.Fatalf("unconfigured secret verified: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("correctly signed body rejected: %v", err)
	}
	if len(body) == 0 {
		return
	}
	changed := append([]byte(nil), body...)
	changed[pos%uint(len(changed))]++
	if err := verify(changed, secret, good); aftercare.ErrorCode(err) != aftercare.EUNAUTHORIZED {
		t.Fatalf("body with one byte changed verified: %v", err)
	}
}
