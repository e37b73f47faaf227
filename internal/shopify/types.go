package shopify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// id is a Shopify id. The REST payloads send integers, a few senders and the
// GraphQL-era fields send strings; both become the same decimal string.
type id string

func (v *id) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0 || string(b) == "null":
		*v = ""
		return nil
	case b[0] == '"':
		s := b[1 : len(b)-1]
		if bytes.IndexByte(s, '\\') >= 0 || !utf8.Valid(s) {
			var str string
			if err := json.Unmarshal(b, &str); err != nil {
				return err
			}
			s = []byte(str)
		}
		if len(s) > maxID {
			return fmt.Errorf("id of %d bytes is too long", len(s))
		}
		*v = id(strings.TrimSpace(string(s)))
		return nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		for _, c := range b {
			if c < '0' || c > '9' {
				return fmt.Errorf("id %s is not a whole number", clip(string(b)))
			}
		}
		if len(b) > maxID {
			return fmt.Errorf("id of %d digits is too long", len(b))
		}
		*v = id(b)
		return nil
	}
	return fmt.Errorf("id must be a number or a string, not %s", clip(string(b)))
}

// ids is a list of ids.
type ids []id

func (l ids) strings() []string {
	if len(l) == 0 {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, v := range l {
		if v != "" {
			out = append(out, string(v))
		}
	}
	return out
}

// money is an amount in minor units (cents). Shopify sends decimal strings
// ("12.30"); floats would lose cents, so the digits are read exactly.
type money int64

func (m *money) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*m = 0
		return nil
	}
	if len(b) >= 2 && b[0] == '"' {
		b = b[1 : len(b)-1]
	}
	c, err := parseCents(string(b))
	if err != nil {
		return err
	}
	*m = money(c)
	return nil
}

// errAmount is returned for anything that is not a plain decimal amount.
var errAmount = errors.New("amount must be a decimal number such as \"12.30\"")

// parseCents reads "-12.345" as -1235 cents: exact digits, rounded half away
// from zero past the second decimal (three-decimal currencies round to cents).
func parseCents(s string) (int64, error) {
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(whole) > 15 || len(frac) > 12 {
		return 0, errAmount
	}
	var cents int64
	for i := 0; i < len(whole); i++ {
		c := whole[i]
		if c < '0' || c > '9' {
			return 0, errAmount
		}
		cents = cents*10 + int64(c-'0')
	}
	for i := 0; i < len(frac); i++ {
		if c := frac[i]; c < '0' || c > '9' {
			return 0, errAmount
		}
	}
	for i := 0; i < 2; i++ {
		cents *= 10
		if i < len(frac) {
			cents += int64(frac[i] - '0')
		}
	}
	if len(frac) > 2 && frac[2] >= '5' {
		cents++
	}
	if neg {
		cents = -cents
	}
	return cents, nil
}

// tags are Shopify's comma-separated tags ("vip, aftercare:damaged"); a JSON
// array is accepted too.
type tags []string

// Bounds on tags kept per order or customer.
const (
	maxTags   = 100
	maxTagLen = 255
)

func (t *tags) UnmarshalJSON(b []byte) error {
	var parts []string
	switch {
	case string(b) == "null":
	case len(b) > 0 && b[0] == '[':
		if err := json.Unmarshal(b, &parts); err != nil {
			return err
		}
	default:
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		parts = strings.Split(s, ",")
	}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" && len(out) < maxTags {
			out = append(out, truncate(p, maxTagLen))
		}
	}
	if len(out) == 0 {
		out = nil
	}
	*t = out
	return nil
}
