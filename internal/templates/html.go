package templates

import (
	"regexp"
	"strings"
)

// HTML is the email's HTML part, made from the same rendered text so the two
// parts never say different things: each paragraph of the text becomes a <p>,
// links become anchors, a tracking link becomes a button, and the footer names
// the shop, its support contact and, on marketing, the unsubscribe link.
// Styles are inline (mail clients drop <style> often); the one <style> block
// only adds dark-mode colours for clients that honour it.
//
// It is built by hand rather than with html/template, which would keep every
// exported method in the binary (see engine.go); the escaping is the one
// html/template did, byte for byte.
func HTML(r Rendered, f Fields) string {
	f = f.tidy()
	var b strings.Builder
	b.Grow(4096 + 2*len(r.Body))
	b.WriteString(pageHead)
	b.WriteString(escape(r.Subject))
	b.WriteString(pageShop)
	b.WriteString(escape(f.ShopName))
	b.WriteString(pageBlocks)
	for _, p := range strings.Split(r.Body, "\n\n") {
		p = strings.TrimSpace(p)
		if p == "" || p == "--" || strings.HasPrefix(p, "--\n") {
			continue // the text part's signature separator and opt-out: the footer says it
		}
		var lines []string
		button := false
		for _, l := range strings.Split(p, "\n") {
			if f.TrackingURL != "" && strings.HasSuffix(l, f.TrackingURL) {
				button = true // shown as a button right below its paragraph
				continue
			}
			lines = append(lines, linkify(l))
		}
		if len(lines) > 0 {
			b.WriteString(`<p style="margin:0 0 16px 0;">` + strings.Join(lines, "<br>\n") + "</p>\n")
		}
		if button {
			b.WriteString(`<p style="margin:4px 0 20px 0;"><a class="ac-button" href="` + href(f.TrackingURL) +
				`" style="display:inline-block;background:#1a5fb4;color:#ffffff;text-decoration:none;padding:12px 20px;border-radius:6px;font-weight:600;">Track your parcel`)
			if f.Carrier != "" {
				b.WriteString(" with " + escape(f.Carrier))
			}
			b.WriteString("</a></p>\n")
		}
	}
	b.WriteString(pageFooter)
	b.WriteString(escape(f.ShopName))
	if f.SupportContact != "" {
		b.WriteString(" · Questions? " + escape(f.SupportContact))
	}
	b.WriteString("\n")
	if f.UnsubscribeURL != "" {
		b.WriteString("<br>You get this email because you subscribed to news from " + escape(f.ShopName) +
			`. <a href="` + href(f.UnsubscribeURL) + `" style="color:#5f6368;text-decoration:underline;">Unsubscribe</a>`)
	}
	b.WriteString(pageEnd)
	return b.String()
}

var urlRE = regexp.MustCompile(`https?://[^\s<>"]+[^\s<>".,;:!?)]`)

// linkify escapes a line and turns its http(s) URLs into links.
func linkify(line string) string {
	var b strings.Builder
	last := 0
	for _, m := range urlRE.FindAllStringIndex(line, -1) {
		b.WriteString(escapeText(line[last:m[0]]))
		u := escapeText(line[m[0]:m[1]])
		b.WriteString(`<a href="` + u + `" style="color:#1a5fb4;text-decoration:underline">` + u + `</a>`)
		last = m[1]
	}
	b.WriteString(escapeText(line[last:]))
	return b.String()
}

// textEscapes are html/template's HTMLEscapeString: html.EscapeString's
// that also replace NUL, as the HTML parser would.
var textEscapes = []string{"\x00", "\uFFFD", `"`, "&#34;", "'", "&#39;", "&", "&amp;", "<", "&lt;", ">", "&gt;"}

// escapeText is HTMLEscapeString, which linkify used.
var escapeText = strings.NewReplacer(textEscapes...).Replace

// escape is what html/template wrote for a value in text, in <title> and in a
// quoted attribute: escapeText that also writes '+' as &#43;.
var escape = strings.NewReplacer(append(textEscapes[:len(textEscapes):len(textEscapes)], "+", "&#43;")...).Replace

// href is a link's attribute value. Only an http(s) URL is linked: any other
// gets html/template's "#ZgotmplZ", so a javascript: or data: URL from a
// carrier or a setting cannot run. Then, as html/template did, bytes a URL may
// not hold are percent-encoded (existing %XX escapes are kept) and the rest
// is escaped for the attribute.
func href(u string) string {
	if !linkable(u) {
		return "#ZgotmplZ"
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("!#$&*+,/:;=?@[]-._~", c) >= 0,
			c == '%' && i+2 < len(u) && isHex(u[i+1]) && isHex(u[i+2]):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return escape(b.String())
}

// linkable: the scheme is http or https, in any case.
func linkable(u string) bool {
	scheme, _, ok := strings.Cut(u, ":")
	return ok && (strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https"))
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

const pageHead = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark"><meta name="supported-color-schemes" content="light dark">
<title>`

const pageShop = `</title>
<style>
@media (prefers-color-scheme: dark) {
  .ac-body { background:#121212 !important; }
  .ac-card { background:#1e1e1e !important; color:#e8e8e8 !important; border-color:#333 !important; }
  .ac-card a { color:#8ab4f8 !important; }
  .ac-muted { color:#b0b0b0 !important; }
  .ac-button { background:#8ab4f8 !important; color:#121212 !important; }
}
</style></head>
<body class="ac-body" style="margin:0;padding:0;background:#f4f4f5;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f4f5;" class="ac-body"><tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" class="ac-card" style="max-width:560px;background:#ffffff;color:#1f2328;border:1px solid #e4e4e7;border-radius:8px;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.55;">
<tr><td style="padding:20px 24px 0 24px;font-size:14px;font-weight:600;letter-spacing:0.02em;" class="ac-muted">`

const pageBlocks = `</td></tr>
<tr><td style="padding:8px 24px 8px 24px;">
`

const pageFooter = `</td></tr>
<tr><td class="ac-muted" style="padding:16px 24px 20px 24px;border-top:1px solid #e4e4e7;font-size:13px;color:#5f6368;">
`

const pageEnd = `
</td></tr></table>
</td></tr></table></body></html>
`
