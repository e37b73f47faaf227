package templates

import (
	"bytes"
	"html/template"
	"regexp"
	"strings"
)

// HTML is the email's HTML part, made from the same rendered text so the two
// parts never say different things: each paragraph of the text becomes a <p>,
// links become anchors, a tracking link becomes a button, and the footer names
// the shop, its support contact and, on marketing, the unsubscribe link.
// Styles are inline (mail clients drop <style> often); the one <style> block
// only adds dark-mode colours for clients that honour it.
func HTML(r Rendered, f Fields) string {
	f = f.tidy()
	var blocks []template.HTML
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
			blocks = append(blocks, template.HTML(`<p style="margin:0 0 16px 0;">`+strings.Join(lines, "<br>\n")+"</p>"))
		}
		if button {
			blocks = append(blocks, trackButton(f))
		}
	}
	var b bytes.Buffer
	_ = htmlPage.Execute(&b, struct {
		Subject string
		Blocks  []template.HTML
		F       Fields
	}{r.Subject, blocks, f})
	return b.String()
}

var buttonTmpl = template.Must(template.New("button").Parse(`<p style="margin:4px 0 20px 0;"><a class="ac-button" href="{{.TrackingURL}}" style="display:inline-block;background:#1a5fb4;color:#ffffff;text-decoration:none;padding:12px 20px;border-radius:6px;font-weight:600;">Track your parcel{{if .Carrier}} with {{.Carrier}}{{end}}</a></p>`))

func trackButton(f Fields) template.HTML {
	var b bytes.Buffer
	_ = buttonTmpl.Execute(&b, f)
	return template.HTML(b.String()) // html/template escaped the link and the carrier
}

var urlRE = regexp.MustCompile(`https?://[^\s<>"]+[^\s<>".,;:!?)]`)

// linkify escapes a line and turns its http(s) URLs into links.
func linkify(line string) string {
	var b strings.Builder
	last := 0
	for _, m := range urlRE.FindAllStringIndex(line, -1) {
		b.WriteString(template.HTMLEscapeString(line[last:m[0]]))
		u := template.HTMLEscapeString(line[m[0]:m[1]])
		b.WriteString(`<a href="` + u + `" style="color:#1a5fb4;text-decoration:underline">` + u + `</a>`)
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(line[last:]))
	return b.String()
}

var htmlPage = template.Must(template.New("email").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark"><meta name="supported-color-schemes" content="light dark">
<title>{{.Subject}}</title>
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
<tr><td style="padding:20px 24px 0 24px;font-size:14px;font-weight:600;letter-spacing:0.02em;" class="ac-muted">{{.F.ShopName}}</td></tr>
<tr><td style="padding:8px 24px 8px 24px;">
{{range .Blocks}}{{.}}
{{end}}</td></tr>
<tr><td class="ac-muted" style="padding:16px 24px 20px 24px;border-top:1px solid #e4e4e7;font-size:13px;color:#5f6368;">
{{.F.ShopName}}{{if .F.SupportContact}} · Questions? {{.F.SupportContact}}{{end}}
{{if .F.UnsubscribeURL}}<br>You get this email because you subscribed to news from {{.F.ShopName}}. <a href="{{.F.UnsubscribeURL}}" style="color:#5f6368;text-decoration:underline;">Unsubscribe</a>{{end}}
</td></tr></table>
</td></tr></table></body></html>
`))
