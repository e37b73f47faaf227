package templates

import (
	"bytes"
	"go/build"
	htmltemplate "html/template"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"text/template"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// edgeValues are what a field may hold: markup, quotes, unicode, bad UTF-8,
// NUL, template syntax, newlines, long text and URLs good and bad.
var edgeValues = []string{
	"", "x", "Ada", "#1001", "damaged", "  spaced \t out  ", "two\nlines\n\nand a gap",
	`<b>"Juniper" & 'Oak'</b>`, "Zoë 🚚 Ünïcödé — ½", "\xff\xfe bad utf8", "nul\x00here",
	"{{.OrderNumber}}", "+1 555 010 0199", "100% %41 %zz", strings.Repeat("long words, ", 30),
	"https://juniperandoak.example/pages/help/delay", "https://t.example/track?n=1Z 99&x=<a>'\"#frag",
	"HTTP://UPPER.example/Path", "http://x.example/a_b-c.d~e!$*+,;=:@[]", "javascript:alert(1)",
	"data:text/html,<script>", "mailto:a@b.example", "//relative.example/x", "/path", "foo:bar/baz",
}

// fieldsFrom sets field i from the 2 bits of seed at i: empty, a, b, or both.
func fieldsFrom(seed uint64, a, b string) Fields {
	var f Fields
	for i, x := range f.strings() {
		*x.p = []string{"", a, b, a + " " + b}[seed>>(2*i%64)&3]
	}
	return f
}

// sameAsOld executes every template of every kind and channel on the engine
// and on text/template, with f as given and tidied, and the HTML part on the
// builder and on html/template, and reports any difference.
func sameAsOld(t *testing.T, f Fields) {
	t.Helper()
	for key, set := range sets {
		for _, f := range []Fields{f, f.tidy()} {
			for name := range set {
				got := execute(set, name, f.values())
				want, err := oldExecute(key.kind, key.ch, name, f)
				if err != nil {
					t.Fatalf("%s %s %q on text/template: %v", key.kind, key.ch, name, err)
				}
				if got != want {
					t.Fatalf("%s %s %q with %#v:\ngot  %q\nwant %q", key.kind, key.ch, name, f, got, want)
				}
			}
			if key.ch != aftercare.ChannelEmail {
				continue
			}
			tidy := f.tidy()
			v := tidy.values()
			r := Rendered{Subject: oneLine(execute(set, "subject", v)), Body: layout(key.ch, execute(set, "body", v))}
			if got, want := HTML(r, f), oldHTML(r, f); got != want {
				t.Fatalf("%s HTML with %#v:\ngot  %q\nwant %q", key.kind, f, got, want)
			}
		}
	}
}

// TestRenderMatchesTextTemplate: the engine and the HTML builder write what
// text/template and html/template wrote, for empty, full and random fields.
func TestRenderMatchesTextTemplate(t *testing.T) {
	sameAsOld(t, Fields{})
	for _, v := range edgeValues {
		sameAsOld(t, fieldsFrom(^uint64(0)/3, v, v)) // every field v
	}
	r, n := rand.New(rand.NewPCG(1, 2)), 40
	if testing.Short() {
		n = 5
	}
	for range n {
		sameAsOld(t, fieldsFrom(r.Uint64(), edgeValues[r.IntN(len(edgeValues))], edgeValues[r.IntN(len(edgeValues))]))
	}
}

// Whole messages built from settings, the way dispatch renders them, are the
// same as before, text and HTML.
func TestRenderMessagesMatchOld(t *testing.T) {
	for _, codes := range []bool{true, false} {
		s := testSettings(codes)
		for _, k := range aftercare.Kinds {
			for _, ch := range channels(k) {
				f := Build(k, s, stateFields(k, "Ada"))
				f.TrackingURL = "https://www.ups.com/track?tracknum=1Z999AA10123456784&loc=en_US"
				if k.Category() == aftercare.Marketing {
					f.UnsubscribeURL = "https://api.juniperandoak.example/unsubscribe?t=abc+def/ghi=="
				}
				got, err := Render(k, ch, f)
				if err != nil {
					t.Fatal(err)
				}
				want, err := oldRender(k, ch, f)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s %s:\ngot  %q\nwant %q", k, ch, got, want)
				}
				if ch == aftercare.ChannelEmail && HTML(got, f) != oldHTML(want, f) {
					t.Errorf("%s HTML:\ngot  %s\nwant %s", k, HTML(got, f), oldHTML(want, f))
				}
			}
		}
	}
}

func FuzzRenderMatchesTextTemplate(f *testing.F) {
	f.Add(uint64(0), "", "")
	f.Add(^uint64(0), "x", "y")
	for i, v := range edgeValues {
		f.Add(uint64(i)*0x9e3779b97f4a7c15, v, edgeValues[(i+7)%len(edgeValues)])
	}
	f.Fuzz(func(t *testing.T, seed uint64, a, b string) {
		sameAsOld(t, fieldsFrom(seed, a, b))
		for _, u := range []string{a, b} {
			if got, want := href(u), htmlHref(t, u); got != want {
				t.Errorf("href(%q) = %q, want %q", u, got, want)
			}
		}
	})
}

// htmlHref is what html/template writes for u in a double-quoted href, and
// "#ZgotmplZ" for what HTML does not link.
func htmlHref(t *testing.T, u string) string {
	if !linkable(u) {
		return "#ZgotmplZ"
	}
	var b bytes.Buffer
	if err := htmlHrefTmpl.Execute(&b, u); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(strings.TrimPrefix(b.String(), `<a href="`), `">`)
}

var htmlHrefTmpl = htmltemplate.Must(htmltemplate.New("a").Parse(`<a href="{{.}}">`))

func TestHref(t *testing.T) {
	for _, u := range edgeValues {
		if got, want := href(u), htmlHref(t, u); got != want {
			t.Errorf("href(%q) = %q, want %q", u, got, want)
		}
	}
	// Only http(s) is linked; html/template also let relative URLs through,
	// which mean nothing in an email.
	for _, u := range []string{"javascript:alert(1)", " JavaScript:x", "data:,x", "vbscript:x", "//x.example", "/x", "x", "", "mailto:a@b.example"} {
		if got := href(u); got != "#ZgotmplZ" {
			t.Errorf("href(%q) = %q, want #ZgotmplZ", u, got)
		}
	}
	if got, want := href("https://t.example/a b?x=1&y=+"), "https://t.example/a%20b?x=1&amp;y=&#43;"; got != want {
		t.Errorf("href = %q, want %q", got, want)
	}
}

// Sources in the syntax the files may use execute as text/template does.
func TestEngineMatchesTextTemplateSyntax(t *testing.T) {
	sources := []string{
		`{{define "body"}}a {{ .Items }} b{{end}}`,
		`top text {{/* a comment
over lines with {{if}} in it */}}{{define "body"}}{{/* x */}}{{.Carrier}}{{end}}`,
		`{{define "body"}}{{if .Carrier}}c{{else if .TrackingNumber}}t{{else if .Items}}i{{else}}none{{end}}{{end}}`,
		`{{define "body"}}{{if or .Carrier .Items}}{{or .Carrier .Items "neither"}}{{end}}{{end}}`,
		`{{define "body"}}{{or (list .FirstName (or .CustomerEmail "no \"email\"") .CustomerPhone) "x"}}{{end}}`,
		`{{define "body"}}{{if (problem .Playbook)}}{{clip 10 (list .Items .Carrier)}}{{end}}{{clip 0 .Items}}{{end}}`,
		`{{define "body"}}{{template "p" .}}{{template "p" .}}{{end}}{{define "p"}}[{{.Detail}}]{{end}}`,
		`{{define "body"}}{{or ")" .Items}}{{list}}{{or .Items}}{{end}}`,
		`{{define "body"}}}} {{"}}"}} { }{{end}}`,
		`{{define "body"}}{{"end"}}{{"else"}}{{if "if"}}{{"define"}}{{else}}{{"clip"}}{{end}}{{end}}`,
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, src := range sources {
		s := set{}
		if err := s.parse(src); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if err := s.check(); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		old := template.Must(template.New("x").Funcs(template.FuncMap{"clip": clip, "problem": problem, "list": list}).Parse(src))
		for range 50 {
			f := fieldsFrom(r.Uint64(), edgeValues[r.IntN(len(edgeValues))], "damaged")
			var b bytes.Buffer
			if err := old.ExecuteTemplate(&b, "body", f); err != nil {
				t.Fatal(err)
			}
			if got := execute(s, "body", f.values()); got != b.String() {
				t.Fatalf("%s:\ngot  %q\nwant %q", src, got, b.String())
			}
		}
	}
}

// A kind's file may reword a common piece, as text/template let it.
func TestKindReplacesCommonPiece(t *testing.T) {
	s := set{}
	if err := s.parse(`{{define "hi"}}common{{end}}{{define "body"}}{{template "hi" .}}{{end}}`); err != nil {
		t.Fatal(err)
	}
	if err := s.parse(`{{define "hi"}}kind{{end}}`); err != nil {
		t.Fatal(err)
	}
	if got := execute(s, "body", (&Fields{}).values()); got != "kind" {
		t.Errorf("got %q, want the kind's piece", got)
	}
}

// Anything the engine does not run, or a name it does not know, fails when
// the file is parsed: at start, not when a message is sent.
func TestParseRejects(t *testing.T) {
	for _, src := range []string{
		`{{define "body"}}{{.Nope}}{{end}}`,
		`{{define "body"}}{{.Items.Len}}{{end}}`,
		`{{define "body"}}{{.}}{{end}}`,
		`{{define "body"}}{{nope .Items}}{{end}}`,
		`{{define "body"}}{{template "nope" .}}{{end}}`,
		`{{define "body"}}{{template "body" .}}{{end}}`,
		`{{define "body"}}{{template "a" .}}{{end}}{{define "a"}}{{if .Items}}{{template "body" .}}{{end}}{{end}}`,
		`{{define "body"}}{{template "a"}}{{end}}{{define "a"}}{{end}}`,
		`{{define "body"}}{{range .Items}}{{end}}{{end}}`,
		`{{define "body"}}{{with .Items}}{{end}}{{end}}`,
		`{{define "body"}}{{block "a" .}}{{end}}{{end}}`,
		`{{define "body"}}{{$x := .Items}}{{end}}`,
		`{{define "body"}}{{.Items | clip 3}}{{end}}`,
		`{{define "body"}}{{- .Items}}{{end}}`,
		`{{define "body"}}{{.Items -}}{{end}}`,
		`{{define "body"}}{{.Items .Carrier}}{{end}}`,
		`{{define "body"}}{{clip .Items}}{{end}}`,
		`{{define "body"}}{{clip 10 .Items .Carrier}}{{end}}`,
		`{{define "body"}}{{clip "10" .Items}}{{end}}`,
		`{{define "body"}}{{problem}}{{end}}`,
		`{{define "body"}}{{problem 3}}{{end}}`,
		`{{define "body"}}{{or}}{{end}}`,
		`{{define "body"}}{{list .Items 2}}{{end}}`,
		`{{define "body"}}{{60}}{{end}}`,
		`{{define "body"}}{{if 1}}x{{end}}{{end}}`,
		`{{define "body"}}{{if}}x{{end}}{{end}}`,
		`{{define "body"}}{{}}{{end}}`,
		`{{define "body"}}{{(list .Items}}{{end}}`,
		`{{define "body"}}{{"open}}{{end}}`,
		`{{define "body"}}{{.Items}{{end}}`,
		`{{define "body"}}{{.Items`,
		`{{define "body"}}{{/* x */ }}{{end}}`,
		`{{define "body"}}{{/* x }}{{end}}`,
		`{{define "body"}}{{if .Items}}x{{end}}`,
		`{{define "body"}}{{if .Items}}x{{end}}{{end}}{{define "body"}}y{{end}}`,
		`{{define "body"}}{{if .Items}}x{{else}}y{{else}}z{{end}}{{end}}`,
		`{{define "body"}}{{if .Items}}x{{else with .Carrier}}y{{end}}{{end}}`,
		`{{define "body"}}{{else}}{{end}}`,
		`{{define "body"}}x{{end}}{{end}}`,
		`{{define "body"}}{{define "a"}}{{end}}{{end}}`,
		`{{define "body"}}x{{end .Items}}`,
		`{{define body}}x{{end}}`,
		`{{.Items}}`,
		`{{template "body" .}}`,
		`{{"define" "body"}}x{{end}}`,
		`{{define "body"}}{{template "a" "."}}{{end}}{{define "a"}}{{end}}`,
		`{{define "body"}}{{"clip" 3 .Items}}{{end}}`,
		`{{define "body"}}{{if .Items}}x{{else "if" .Carrier}}y{{end}}{{end}}`,
	} {
		s := set{}
		err := s.parse(src)
		if err == nil {
			err = s.check()
		}
		if err == nil {
			t.Errorf("%s: parsed", src)
		}
	}
}

// The engine finds fields through Fields.strings: it must name every field,
// by its Go name, and point at it.
func TestFieldsTableComplete(t *testing.T) {
	var f Fields
	table := f.strings()
	typ := reflect.TypeOf(f)
	if len(table) != typ.NumField() {
		t.Fatalf("Fields.strings has %d fields, Fields %d", len(table), typ.NumField())
	}
	for _, x := range table {
		sf, ok := typ.FieldByName(x.name)
		if !ok || sf.Type.Kind() != reflect.String || reflect.ValueOf(&f).Elem().FieldByIndex(sf.Index).Addr().Interface() != x.p {
			t.Errorf("Fields.strings: %q does not point at the field of that name", x.name)
		}
	}
}

// The point of the engine: nothing outside tests links text/template or
// html/template, whose reflection keeps every method in the binary.
func TestNoReflectingTemplates(t *testing.T) {
	p, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range p.Imports {
		if imp == "text/template" || imp == "html/template" {
			t.Errorf("the package imports %s", imp)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	k, ch := aftercare.KindOrderShipped, aftercare.ChannelEmail
	f := Build(k, testSettings(false), stateFields(k, "Ada"))
	for _, c := range []struct {
		name   string
		render func(aftercare.Kind, aftercare.Channel, Fields) (Rendered, error)
	}{{"text_template", oldRender}, {"engine", Render}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.render(k, ch, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkHTML(b *testing.B) {
	k := aftercare.KindOrderShipped
	f := Build(k, testSettings(false), stateFields(k, "Ada"))
	f.TrackingURL = "https://www.ups.com/track?tracknum=1Z999AA10123456784"
	r, err := Render(k, aftercare.ChannelEmail, f)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		html func(Rendered, Fields) string
	}{{"html_template", oldHTML}, {"builder", HTML}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.html(r, f)
			}
		})
	}
}
