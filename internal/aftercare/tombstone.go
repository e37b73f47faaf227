package aftercare

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// tombstoneLabel separates the tombstone's use of the key from every other
// use of the same secret (the unsubscribe tokens'): a tombstone id can never
// be mistaken for, or help forge, anything else signed with it.
const tombstoneLabel = "aftercare/redaction-tombstone/v1"

// TombstoneID is the key of a redacted customer's tombstone: an HMAC-SHA256
// of shop and customer id under UNSUBSCRIBE_SECRET, so the tombstone names
// nobody (a guest's id is a hash of the email, which an unkeyed hash
// would give away to anyone holding a list of emails), yet the processor can
// still find it from the id any later event carries.
func TombstoneID(key []byte, shop, customerID string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tombstoneLabel))
	m.Write([]byte{0})
	m.Write([]byte(shop))
	m.Write([]byte{0})
	m.Write([]byte(customerID))
	return "redacted-" + hex.EncodeToString(m.Sum(nil)[:16])
}
