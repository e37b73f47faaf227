// Package mimemail writes the raw RFC 5322 / MIME form of an email:
// multipart/alternative with a plain-text and an HTML part, both UTF-8 and
// quoted-printable, RFC 2047 encoded subject and display names, and the
// RFC 8058 one-click unsubscribe headers on marketing.
package mimemail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Email is what goes into one message.
type Email struct {
	From       mail.Address
	To         mail.Address
	ReplyTo    string // bare address; empty leaves the header out
	Subject    string
	Text, HTML string
	MessageID  string // aftercare's id, also X-Aftercare-Message-Id
	// Shop and CustomerID come back in SES's bounce and complaint events
	// (mail.headers), so feedback finds its customer without a lookup by address.
	Shop, CustomerID string
	UnsubscribeURL   string // marketing: List-Unsubscribe + List-Unsubscribe-Post
	Date             time.Time
	Domain           string // right side of Message-ID; the From domain when empty
}

// Build returns the raw message. The boundary derives from the message id, so
// the same email always has the same bytes.
func Build(e Email) ([]byte, error) {
	if e.From.Address == "" || e.To.Address == "" {
		return nil, fmt.Errorf("mimemail: From and To are required")
	}
	var b bytes.Buffer
	h := func(name, value string) {
		// Values come from settings and customer data: a CR or LF would start
		// a new header, so they are flattened to spaces.
		b.WriteString(name + ": " + flat(value) + "\r\n")
	}
	domain := e.Domain
	if domain == "" {
		if i := strings.LastIndexByte(e.From.Address, '@'); i >= 0 {
			domain = e.From.Address[i+1:]
		}
	}
	sum := sha256.Sum256([]byte(e.MessageID))
	boundary := "aftercare-" + hex.EncodeToString(sum[:12])

	h("From", e.From.String())
	h("To", e.To.String())
	if e.ReplyTo != "" {
		h("Reply-To", (&mail.Address{Address: e.ReplyTo}).String())
	}
	h("Subject", mime.QEncoding.Encode("UTF-8", flat(e.Subject)))
	h("Date", e.Date.UTC().Format(time.RFC1123Z))
	h("Message-ID", "<"+safeID(e.MessageID)+"@"+domain+">")
	h("X-Aftercare-Message-Id", e.MessageID)
	if e.Shop != "" {
		h("X-Aftercare-Shop", e.Shop)
	}
	if e.CustomerID != "" {
		h("X-Aftercare-Customer-Id", e.CustomerID)
	}
	if e.UnsubscribeURL != "" {
		h("List-Unsubscribe", "<"+e.UnsubscribeURL+">")
		h("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	h("MIME-Version", "1.0")
	h("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")

	w := multipart.NewWriter(&b)
	if err := w.SetBoundary(boundary); err != nil {
		return nil, err
	}
	for _, part := range []struct{ typ, body string }{{"text/plain", e.Text}, {"text/html", e.HTML}} {
		pw, err := w.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=UTF-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := qp.Write([]byte(crlf(part.body))); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func flat(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// safeID keeps a Message-ID's left side to characters RFC 5322 allows there.
func safeID(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r)) {
			return r
		}
		return '-'
	}, s)
}

// crlf makes every line end in CRLF, as MIME bodies must.
func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}
