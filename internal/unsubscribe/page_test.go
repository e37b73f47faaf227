package unsubscribe

import (
	"bytes"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// The html/template pages the handler answered with until they were written
// in plain Go, kept only to prove the two render alike.
const oldShell = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="color-scheme" content="light dark">
<title>{{block "title" .}}{{end}}</title></head>
<body style="margin:0;padding:32px 16px;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;line-height:1.5">
<main style="max-width:480px;margin:0 auto">{{block "main" .}}{{end}}</main></body></html>`

func oldPageOf(title, main string) *template.Template {
	t := template.Must(template.New("page").Parse(oldShell))
	template.Must(t.New("title").Parse(title))
	template.Must(t.New("main").Parse(main))
	return t
}

var oldPages = map[string]struct {
	old *template.Template
	new page
}{
	"confirm": {oldPageOf("Unsubscribe", `<h1 style="font-size:22px">Unsubscribe?</h1>
<p>You will get no more marketing {{.What}} from this shop. Messages about your orders (shipping, delivery) still come.</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><input type="hidden" name="from" value="page">
<button type="submit" style="font-size:16px;padding:10px 20px;border-radius:6px;border:1px solid #888;cursor:pointer">Unsubscribe</button></form>`), pageConfirm},
	"done":      {oldPageOf("Unsubscribed", `<h1 style="font-size:22px">You're unsubscribed</h1><p>You will get no more marketing {{.What}} from this shop. Messages about your orders still come.</p>`), pageDone},
	"bad link":  {oldPageOf("Link not valid", `<h1 style="font-size:22px">This link is not valid</h1><p>It may have been cut short. Use the unsubscribe link in the message again, or reply to the message and ask to be removed.</p>`), pageBadLink},
	"not found": {oldPageOf("Not found", `<h1 style="font-size:22px">We could not find this subscription</h1><p>Reply to the message and ask to be removed.</p>`), pageNotFound},
	"try later": {oldPageOf("Try again", `<h1 style="font-size:22px">Something went wrong on our side</h1><p>Nothing was changed. Please try again in a few minutes.</p>`), pageTryLater},
}

// Byte for byte the html/template page, but for + (which html/template
// writes &#43;, html.EscapeString as is; both mean +).
func TestPagesEqualTheTemplatePages(t *testing.T) {
	for name, p := range oldPages {
		for _, what := range []string{"emails", "text messages", `<b>"Tom's" & co</b>+`} {
			var old bytes.Buffer
			if err := p.old.Execute(&old, map[string]string{"What": what}); err != nil {
				t.Fatal(err)
			}
			want := strings.ReplaceAll(old.String(), "&#43;", "+")
			if got := p.new.render(what); got != want {
				t.Errorf("%s, %q:\n got %s\nwant %s", name, what, got, want)
			}
		}
	}
	if got := pageConfirm.render("<b>"); strings.Contains(got, "<b>") {
		t.Errorf("what reached the page unescaped: %s", got)
	}
}

// The confirm page's form, submitted as a browser would (to the page's own
// URL, with its hidden fields), unsubscribes from the page.
func TestConfirmFormPostsToTheTokenURL(t *testing.T) {
	c := &fakeConsent{known: map[string]bool{"42": true}}
	h := newHandler(c, io.Discard)
	path := "/unsubscribe/" + testSigner.Token(Subject{Shop: "a.myshopify.com", CustomerID: "42", Channel: aftercare.ChannelEmail})
	page := do(h, http.MethodGet, path, "").Body.String()
	form := regexp.MustCompile(`<form method="post">(.*?)</form>`).FindStringSubmatch(strings.ReplaceAll(page, "\n", " "))
	if form == nil {
		t.Fatalf("no form without an action (posting to the page's URL):\n%s", page)
	}
	fields := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]+)">`).FindAllStringSubmatch(form[1], -1) {
		fields.Add(m[1], m[2])
	}
	w := do(h, http.MethodPost, path, fields.Encode())
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "unsubscribed") {
		t.Fatalf("form POST = %d %s", w.Code, w.Body)
	}
	if len(c.calls) != 1 || c.calls[0].source != SourcePage || c.calls[0].ch != aftercare.ChannelEmail {
		t.Fatalf("calls = %+v", c.calls)
	}
}
