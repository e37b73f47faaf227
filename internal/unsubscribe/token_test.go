package unsubscribe

import (
	"strings"
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
)

var testSigner = Signer{Secret: []byte("test-unsubscribe-secret-0123456789")}

func TestTokenRoundTrip(t *testing.T) {
	for _, s := range []Subject{
		{Shop: "a.myshopify.com", CustomerID: "115310627314723954", Channel: aftercare.ChannelEmail},
		{Shop: "b.myshopify.com", CustomerID: "7", Channel: aftercare.ChannelSMS},
	} {
		tok := testSigner.Token(s)
		got, err := testSigner.Parse(tok)
		if err != nil || got != s {
			t.Fatalf("Parse(Token(%+v)) = %+v, %v", s, got, err)
		}
		raw, _ := enc.DecodeString(tok)
		if strings.Contains(string(raw), s.Shop) || strings.Contains(string(raw), s.CustomerID+"\x00") {
			t.Errorf("token %s carries its subject in clear", tok)
		}
		if strings.ContainsAny(tok, "+/=") {
			t.Errorf("token %s is not URL-safe", tok)
		}
	}
}

func TestTokenRejectsForgedAndTruncated(t *testing.T) {
	s := Subject{Shop: "a.myshopify.com", CustomerID: "42", Channel: aftercare.ChannelEmail}
	tok := testSigner.Token(s)
	other := Signer{Secret: []byte("another-secret-of-some-length")}
	// The same subject for SMS, to splice its payload with email's signature.
	sms := testSigner.Token(Subject{Shop: s.Shop, CustomerID: s.CustomerID, Channel: aftercare.ChannelSMS})
	flipped := []byte(tok)
	flipped[len(flipped)/2] ^= 1
	if flipped[len(flipped)/2] == '.' || flipped[len(flipped)/2] > 'z' {
		flipped[len(flipped)/2] = 'A'
	}
	cases := map[string]string{
		"empty":             "",
		"truncated":         tok[:len(tok)-1],
		"half":              tok[:len(tok)/2],
		"one byte changed":  string(flipped),
		"other secret":      other.Token(s),
		"spliced":           tok[:22] + sms[22:],
		"not base64":        "!!!" + tok,
		"too long":          strings.Repeat("A", MaxToken+1),
		"padding appended":  tok + "==",
		"path in the token": tok + "/x",
	}
	for name, bad := range cases {
		if got, err := testSigner.Parse(bad); err == nil {
			t.Errorf("%s: Parse accepted it as %+v", name, got)
		}
	}
	if _, err := (Signer{}).Parse(tok); err == nil {
		t.Error("a signer without a secret accepted a token")
	}
}

func TestLinks(t *testing.T) {
	l := Links{Signer: testSigner, Base: "https://api.example/"}
	u := l.UnsubscribeURL("a.myshopify.com", "42", aftercare.ChannelSMS)
	tok, ok := strings.CutPrefix(u, "https://api.example/unsubscribe/")
	if !ok {
		t.Fatalf("URL %s is not under the base", u)
	}
	if s, err := testSigner.Parse(tok); err != nil || s.Channel != aftercare.ChannelSMS || s.CustomerID != "42" {
		t.Fatalf("URL token parses to %+v, %v", s, err)
	}
}

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := LoadConfig(env(map[string]string{"UNSUBSCRIBE_SECRET": "0123456789abcdef", "API_URL": "https://x.execute-api.example"}))
	if err != nil || c.Base != "https://x.execute-api.example" {
		t.Fatalf("API_URL fallback: %+v %v", c, err)
	}
	c, _ = LoadConfig(env(map[string]string{"UNSUBSCRIBE_SECRET": "0123456789abcdef", "API_URL": "https://x", "PUBLIC_API_URL": "https://care.shop.example"}))
	if c.Base != "https://care.shop.example" {
		t.Fatalf("PUBLIC_API_URL must win: %s", c.Base)
	}
	if c, _ := LoadConfig(env(map[string]string{"UNSUBSCRIBE_SECRET": "0123456789abcdef"})); c.Base != DefaultBase {
		t.Fatalf("local default: %s", c.Base)
	}
	if _, err := LoadConfig(env(map[string]string{})); err == nil || !strings.Contains(err.Error(), "UNSUBSCRIBE_SECRET") {
		t.Fatalf("missing secret: %v", err)
	}
	if _, err := LoadConfig(env(map[string]string{"UNSUBSCRIBE_SECRET": "0123456789abcdef", "PUBLIC_API_URL": "ftp://x"})); err == nil || !strings.Contains(err.Error(), "PUBLIC_API_URL") {
		t.Fatalf("bad URL: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(testSigner.Token(Subject{Shop: "a.myshopify.com", CustomerID: "42", Channel: aftercare.ChannelEmail}))
	f.Add("")
	f.Add("AQ")
	f.Add(strings.Repeat("_", 80))
	f.Fuzz(func(t *testing.T, tok string) {
		s, err := testSigner.Parse(tok)
		if err != nil {
			return
		}
		// Whatever parses must be exactly what we sign for it.
		if testSigner.Token(s) != tok {
			t.Fatalf("Parse(%q) = %+v, which signs to a different token", tok, s)
		}
	})
}
