package templates

import (
	"bytes"
	htmltemplate "html/template"
	"strings"
	"text/template"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// The text/template and html/template code this package ran before its own
// engine, kept as the oracle of the differential tests and benchmarks.

var oldSets = func() map[setKey]*template.Template {
	funcs := template.FuncMap{"clip": clip, "problem": problem, "list": list}
	out := map[setKey]*template.Template{}
	for _, k := range aftercare.Kinds {
		for _, ch := range channels(k) {
			common := template.Must(template.New("common").Funcs(funcs).Option("missingkey=error").
				ParseFS(files, string(ch)+"/common.tmpl"))
			out[setKey{k, ch}] = template.Must(common.New(string(k)).ParseFS(files, string(ch)+"/"+string(k)+".tmpl"))
		}
	}
	return out
}()

func oldExecute(k aftercare.Kind, ch aftercare.Channel, block string, f Fields) (string, error) {
	var b bytes.Buffer
	err := oldSets[setKey{k, ch}].ExecuteTemplate(&b, block, f)
	return b.String(), err
}

// oldRender is Render on text/template, for the benchmark.
func oldRender(kind aftercare.Kind, ch aftercare.Channel, f Fields) (Rendered, error) {
	if kind.Audience() == aftercare.AudienceTeam {
		ch = aftercare.ChannelEmail
	}
	f = f.tidy()
	if needs[kind].order == noOrder {
		f.OrderNumber = ""
	}
	if err := needs[kind].check(kind, f); err != nil {
		return Rendered{}, err
	}
	body, err := oldExecute(kind, ch, "body", f)
	if err != nil {
		return Rendered{}, err
	}
	r := Rendered{Body: layout(ch, body), Fields: f.contract()}
	if ch == aftercare.ChannelEmail {
		subject, err := oldExecute(kind, ch, "subject", f)
		if err != nil {
			return Rendered{}, err
		}
		r.Subject = oneLine(subject)
	}
	return r, nil
}

// oldHTML is the html/template HTML, with one intended change: a link that
// is not http(s) goes through oldLinkable, as HTML now links only those.
func oldHTML(r Rendered, f Fields) string {
	f = f.tidy()
	var blocks []htmltemplate.HTML
	for _, p := range strings.Split(r.Body, "\n\n") {
		p = strings.TrimSpace(p)
		if p == "" || p == "--" || strings.HasPrefix(p, "--\n") {
			continue
		}
		var lines []string
		button := false
		for _, l := range strings.Split(p, "\n") {
			if f.TrackingURL != "" && strings.HasSuffix(l, f.TrackingURL) {
				button = true
				continue
			}
			lines = append(lines, oldLinkify(l))
		}
		if len(lines) > 0 {
			blocks = append(blocks, htmltemplate.HTML(`<p style="margin:0 0 16px 0;">`+strings.Join(lines, "<br>\n")+"</p>"))
		}
		if button {
			var b bytes.Buffer
			_ = oldButton.Execute(&b, f)
			blocks = append(blocks, htmltemplate.HTML(b.String()))
		}
	}
	var b bytes.Buffer
	_ = oldPage.Execute(&b, struct {
		Subject string
		Blocks  []htmltemplate.HTML
		F       Fields
	}{r.Subject, blocks, f})
	return b.String()
}

// oldLinkable turns what html/template let through as a relative URL into
// what its filter writes for an unsafe one.
func oldLinkable(u string) string {
	if linkable(u) {
		return u
	}
	return "javascript:unsafe"
}

func oldLinkify(line string) string {
	var b strings.Builder
	last := 0
	for _, m := range urlRE.FindAllStringIndex(line, -1) {
		b.WriteString(htmltemplate.HTMLEscapeString(line[last:m[0]]))
		u := htmltemplate.HTMLEscapeString(line[m[0]:m[1]])
		b.WriteString(`<a href="` + u + `" style="color:#1a5fb4;text-decoration:underline">` + u + `</a>`)
		last = m[1]
	}
	b.WriteString(htmltemplate.HTMLEscapeString(line[last:]))
	return b.String()
}

var oldFuncs = htmltemplate.FuncMap{"linkable": oldLinkable}

var oldButton = htmltemplate.Must(htmltemplate.New("button").Funcs(oldFuncs).Parse(`<p style="margin:4px 0 20px 0;"><a class="ac-button" href="{{linkable .TrackingURL}}" style="display:inline-block;background:#1a5fb4;color:#ffffff;text-decoration:none;padding:12px 20px;border-radius:6px;font-weight:600;">Track your parcel{{if .Carrier}} with {{.Carrier}}{{end}}</a></p>`))

var oldPage = htmltemplate.Must(htmltemplate.New("email").Funcs(oldFuncs).Parse(`<!doctype html>
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
{{if .F.UnsubscribeURL}}<br>You get this email because you subscribed to news from {{.F.ShopName}}. <a href="{{linkable .F.UnsubscribeURL}}" style="color:#5f6368;text-decoration:underline;">Unsubscribe</a>{{end}}
</td></tr></table>
</td></tr></table></body></html>
`))
