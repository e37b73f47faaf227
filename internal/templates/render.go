package templates

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"strings"
	"text/template"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// files holds <channel>/<kind>.tmpl for every kind and channel, plus each
// channel's common.tmpl of shared pieces (greeting, contact, opt-out).
//
//go:embed email/*.tmpl sms/*.tmpl
var files embed.FS

type setKey struct {
	kind aftercare.Kind
	ch   aftercare.Channel
}

// sets are parsed once, at start: a broken template stops the function from
// starting instead of failing a message at send time.
var sets = parseAll()

func parseAll() map[setKey]*template.Template {
	common := map[aftercare.Channel]*template.Template{}
	for _, ch := range []aftercare.Channel{aftercare.ChannelEmail, aftercare.ChannelSMS} {
		common[ch] = template.Must(template.New("common").Funcs(funcs).
			// The data is a struct, so a misspelt field already fails;
			// the option keeps map lookups just as strict.
			Option("missingkey=error").
			ParseFS(files, string(ch)+"/common.tmpl"))
	}
	out := map[setKey]*template.Template{}
	for _, k := range aftercare.Kinds {
		for _, ch := range channels(k) {
			// Each kind gets its own copy: they all define "subject" and "body".
			t := template.Must(template.Must(common[ch].Clone()).New(string(k)).
				ParseFS(files, string(ch)+"/"+string(k)+".tmpl"))
			for _, block := range blocks(ch) {
				if t.Lookup(block) == nil {
					panic(fmt.Sprintf("templates: %s/%s.tmpl defines no %q", ch, k, block))
				}
			}
			dryRun(t, ch)
			out[setKey{k, ch}] = t
		}
	}
	return out
}

// dryRun executes t with every field empty and with every field set, so a
// misspelt field or a bad helper call also fails at start: parsing alone
// finds neither.
func dryRun(t *template.Template, ch aftercare.Channel) {
	full := Fields{}
	for _, p := range full.strings() {
		*p = "x"
	}
	for _, f := range []Fields{{}, full} {
		for _, block := range blocks(ch) {
			if err := t.ExecuteTemplate(io.Discard, block, f); err != nil {
				panic(fmt.Sprintf("templates: %s/%s.tmpl: %v", ch, t.Name(), err))
			}
		}
	}
}

// blocks every template of a channel defines.
func blocks(ch aftercare.Channel) []string {
	if ch == aftercare.ChannelSMS {
		return []string{"body"}
	}
	return []string{"subject", "body"}
}

// Render renders kind for a channel. Team messages are always email. Errors
// are EINVALID for an unknown kind or channel or a missing required field.
func Render(kind aftercare.Kind, ch aftercare.Channel, f Fields) (Rendered, error) {
	n, ok := needs[kind]
	if !ok {
		return Rendered{}, aftercare.Errorf(aftercare.EINVALID, "templates: unknown message kind %q", kind)
	}
	if kind.Audience() == aftercare.AudienceTeam {
		ch = aftercare.ChannelEmail
	}
	t := sets[setKey{kind, ch}]
	if t == nil {
		return Rendered{}, aftercare.Errorf(aftercare.EINVALID, "templates: no %q template for %s", ch, kind)
	}
	f = f.tidy()
	if n.order == noOrder {
		f.OrderNumber = ""
	}
	if err := n.check(kind, f); err != nil {
		return Rendered{}, err
	}
	body, err := execute(t, "body", f)
	if err != nil {
		return Rendered{}, err
	}
	r := Rendered{Body: layout(ch, body), Fields: f.contract()}
	if ch == aftercare.ChannelEmail {
		subject, err := execute(t, "subject", f)
		if err != nil {
			return Rendered{}, err
		}
		r.Subject = oneLine(subject)
	}
	return r, nil
}

func execute(t *template.Template, block string, f Fields) (string, error) {
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, block, f); err != nil {
		return "", aftercare.Wrap(aftercare.EINTERNAL, err, "templates: render %s %s", t.Name(), block)
	}
	return b.String(), nil
}

// layout lets templates keep one sentence or block per line and an {{if}} on
// a line of its own. Email: trailing spaces go, runs of blank lines become
// one. SMS: one paragraph, lines joined by a space.
func layout(ch aftercare.Channel, s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := true // drops blank lines at the top
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if ch == aftercare.ChannelSMS {
			l = strings.TrimSpace(l)
			if l != "" {
				out = append(out, l)
			}
			continue
		}
		if l == "" && blank {
			continue
		}
		blank = l == ""
		out = append(out, l)
	}
	if ch == aftercare.ChannelSMS {
		return strings.Join(out, " ")
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n")
}
