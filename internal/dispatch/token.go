package dispatch

import (
	"crypto/rand"
	"encoding/hex"
)

// randomToken names one claim, so only its owner can release or settle it.
func randomToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
