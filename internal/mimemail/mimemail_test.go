package mimemail

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"
)

func sample() Email {
	return Email{
		From:           mail.Address{Name: "Jüniper & Oak", Address: "hello@shop.example"},
		To:             mail.Address{Name: "Zoë Ada", Address: "ada@example.org"},
		ReplyTo:        "help@shop.example",
		Subject:        "Café beans are back — 10% off",
		Text:           "Hi Zoë,\nYour café order is back in stock. A long line that goes on and on and on and on and on and on and on and on past seventy-six characters.\n",
		HTML:           `<p style="color:#333">Hi Zoë, <a href="https://shop.example/x?a=1&b=2">shop</a></p>`,
		MessageID:      "win_back-0123abcd",
		UnsubscribeURL: "https://api.example/unsubscribe/TOKEN",
		Date:           time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC),
	}
}

// parse reads the message back as a mail client would.
func parse(t *testing.T, raw []byte) (*mail.Message, map[string]string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not a mail message: %v\n%s", err, raw)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	parts := map[string]string{}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		ct, cp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if cp["charset"] != "UTF-8" {
			t.Errorf("%s charset %q", ct, cp["charset"])
		}
		parts[ct] = string(b)
	}
	return m, parts
}

func TestBuildMarketing(t *testing.T) {
	e := sample()
	raw, err := Build(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line over RFC 5322's 998 characters: %d", len(line))
		}
		for _, r := range line {
			if r > 127 {
				t.Fatalf("8-bit character %q in the raw message: %s", r, line)
			}
		}
	}
	m, parts := parse(t, raw)
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(m.Header.Get("Subject"))
	if subject != e.Subject {
		t.Errorf("Subject decodes to %q", subject)
	}
	from, err := mail.ParseAddress(m.Header.Get("From"))
	if err != nil || from.Name != e.From.Name || from.Address != e.From.Address {
		t.Errorf("From = %v %v", from, err)
	}
	to, _ := mail.ParseAddress(m.Header.Get("To"))
	if to == nil || to.Name != "Zoë Ada" {
		t.Errorf("To = %v", m.Header.Get("To"))
	}
	for h, want := range map[string]string{
		"Reply-To":               "<help@shop.example>",
		"X-Aftercare-Message-Id": "win_back-0123abcd",
		"List-Unsubscribe":       "<https://api.example/unsubscribe/TOKEN>",
		"List-Unsubscribe-Post":  "List-Unsubscribe=One-Click",
		"MIME-Version":           "1.0",
		"Message-Id":             "<win_back-0123abcd@shop.example>",
		"Date":                   "Tue, 04 Mar 2031 05:06:07 +0000",
	} {
		if got := m.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if parts["text/plain"] != strings.ReplaceAll(e.Text, "\n", "\r\n") {
		t.Errorf("text part = %q", parts["text/plain"])
	}
	if parts["text/html"] != e.HTML {
		t.Errorf("html part = %q", parts["text/html"])
	}
	again, _ := Build(e)
	if !bytes.Equal(raw, again) {
		t.Error("the same email built twice differs")
	}
}

func TestTransactionalHasNoUnsubscribeHeaders(t *testing.T) {
	e := sample()
	e.UnsubscribeURL = ""
	raw, err := Build(e)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := parse(t, raw)
	if m.Header.Get("List-Unsubscribe") != "" || m.Header.Get("List-Unsubscribe-Post") != "" {
		t.Error("transactional email carries unsubscribe headers")
	}
}

func TestHeaderInjection(t *testing.T) {
	e := sample()
	e.Subject = "Hello\r\nBcc: victim@example.org"
	e.To.Name = "Eve\nBcc: x@example.org"
	raw, err := Build(e)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := parse(t, raw)
	if m.Header.Get("Bcc") != "" {
		t.Fatalf("a subject or name injected a header:\n%s", raw)
	}
}

func TestRequiresAddresses(t *testing.T) {
	e := sample()
	e.To.Address = ""
	if _, err := Build(e); err == nil {
		t.Fatal("built an email without a recipient")
	}
}
