// Package signature holds the HMAC-SHA256 helpers every webhook verifier and
// the delivery signer share. Comparisons are constant-time on raw bytes.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// Sum is HMAC-SHA256(key, body).
func Sum(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return m.Sum(nil)
}

// Hex is the lower-case hex of Sum.
func Hex(key, body []byte) string { return hex.EncodeToString(Sum(key, body)) }

// Base64 is the standard base64 of Sum.
func Base64(key, body []byte) string { return base64.StdEncoding.EncodeToString(Sum(key, body)) }

// ValidBase64 reports whether sig is the base64 HMAC-SHA256 of body under key.
func ValidBase64(key, body []byte, sig string) bool {
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	return hmac.Equal(got, Sum(key, body))
}

// ValidHex reports whether sig is the hex HMAC-SHA256 of body under key
// (either case).
func ValidHex(key, body []byte, sig string) bool {
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	return hmac.Equal(got, Sum(key, body))
}

// EqualString compares two secrets in constant time.
func EqualString(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
