// Package unsubscribe owns one-click unsubscribe (SPEC 12): the signed token
// every marketing message links to, and the HTTP handler behind
// GET/POST /unsubscribe/<token> that withdraws marketing consent for a channel.
package unsubscribe

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// Subject is who a token unsubscribes: ids only, no contact data.
type Subject struct {
	Shop       string
	CustomerID string
	Channel    aftercare.Channel
}

const (
	version = 1
	tagLen  = 16 // 128-bit HMAC-SHA256 tag, also the cipher's IV
	// MaxToken bounds what Parse reads: a shop domain and a customer id are
	// short, so anything longer is not ours.
	MaxToken = 512
)

// ErrBadToken is a token that is malformed, truncated or not signed by us.
var ErrBadToken = errors.New("unsubscribe: bad token")

var enc = base64.RawURLEncoding

// Signer makes and checks tokens with one secret (UNSUBSCRIBE_SECRET).
type Signer struct{ Secret []byte }

// Token is the opaque, URL-safe token for s. The payload (version, shop,
// customer id, channel) is signed with HMAC-SHA256 and then encrypted with
// AES-CTR under the tag as IV (a synthetic-IV construction): the link shows
// nothing of whom it names, the same subject always gets the same token, and
// any change to it fails the tag. It does not expire: an old email's link must
// keep working (RFC 8058, and the law in many places).
func (g Signer) Token(s Subject) string {
	p := payload(s)
	tag := g.tag(p)
	out := make([]byte, tagLen+len(p))
	copy(out, tag)
	g.xor(tag, out[tagLen:], p)
	return enc.EncodeToString(out)
}

// Parse decrypts a token, checks its tag in constant time and returns its subject.
func (g Signer) Parse(token string) (Subject, error) {
	if len(token) == 0 || len(token) > MaxToken || len(g.Secret) == 0 {
		return Subject{}, ErrBadToken
	}
	raw, err := enc.DecodeString(token)
	if err != nil || len(raw) < tagLen+2 {
		return Subject{}, ErrBadToken
	}
	tag, p := raw[:tagLen], make([]byte, len(raw)-tagLen)
	g.xor(tag, p, raw[tagLen:])
	if !hmac.Equal(tag, g.tag(p)) || p[0] != version {
		return Subject{}, ErrBadToken
	}
	parts := strings.Split(string(p[1:]), "\x00")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return Subject{}, ErrBadToken
	}
	ch := aftercare.Channel(parts[2])
	if ch != aftercare.ChannelEmail && ch != aftercare.ChannelSMS {
		return Subject{}, ErrBadToken
	}
	return Subject{Shop: parts[0], CustomerID: parts[1], Channel: ch}, nil
}

// URL is base + "/unsubscribe/" + the token.
func (g Signer) URL(base string, s Subject) string {
	return strings.TrimRight(base, "/") + "/unsubscribe/" + g.Token(s)
}

func payload(s Subject) []byte {
	p := []byte{version}
	return append(p, s.Shop+"\x00"+s.CustomerID+"\x00"+string(s.Channel)...)
}

// key derives one key per use from the secret, so the tag and the cipher
// never share a key.
func (g Signer) key(use string) []byte {
	h := hmac.New(sha256.New, g.Secret)
	h.Write([]byte("aftercare-unsubscribe-" + use))
	return h.Sum(nil)
}

func (g Signer) tag(p []byte) []byte {
	h := hmac.New(sha256.New, g.key("tag"))
	h.Write(p)
	return h.Sum(nil)[:tagLen]
}

func (g Signer) xor(iv, dst, src []byte) {
	block, err := aes.NewCipher(g.key("cipher")) // 32 bytes: AES-256, never an error
	if err != nil {
		panic(err)
	}
	cipher.NewCTR(block, iv).XORKeyStream(dst, src)
}

// Links makes unsubscribe URLs under one API base (PUBLIC_API_URL); it is
// dispatch's Links.
type Links struct {
	Signer Signer
	Base   string
}

// UnsubscribeURL is the link for one customer's channel.
func (l Links) UnsubscribeURL(shop, customerID string, ch aftercare.Channel) string {
	return l.Signer.URL(l.Base, Subject{Shop: shop, CustomerID: customerID, Channel: ch})
}
