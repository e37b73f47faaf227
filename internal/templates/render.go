package templates

import (
	"embed"
	"fmt"
	"maps"
	"strings"

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

func parseAll() map[setKey]set {
	common := map[aftercare.Channel]set{}
	for _, ch := range []aftercare.Channel{aftercare.ChannelEmail, aftercare.ChannelSMS} {
		common[ch] = set{}
		mustParse(common[ch], string(ch)+"/common.tmpl")
	}
	out := map[setKey]set{}
	for _, k := range aftercare.Kinds {
		for _, ch := range channels(k) {
			// Each kind gets its own copy: they all define "subject" and "body".
			t := maps.Clone(common[ch])
			file := string(ch) + "/" + string(k) + ".tmpl"
			mustParse(t, file)
			if err := t.check(); err != nil {
				panic(fmt.Sprintf("templates: %s: %v", file, err))
			}
			for _, block := range blocks(ch) {
				if t[block] == nil {
					panic(fmt.Sprintf("templates: %s defines no %q", file, block))
				}
			}
			dryRun(t)
			out[setKey{k, ch}] = t
		}
	}
	return out
}

func mustParse(t set, file string) {
	b, err := files.ReadFile(file)
	if err == nil {
		err = t.parse(string(b))
	}
	if err != nil {
		panic(fmt.Sprintf("templates: %s: %v", file, err))
	}
}

// dryRun executes every template of t with every field empty and with every
// field set, so a helper that breaks on either fails at start, not on a
// customer's message.
func dryRun(t set) {
	full := Fields{}
	for _, x := range full.strings() {
		*x.p = "x"
	}
	for _, v := range [][]string{(&Fields{}).values(), full.values()} {
		for name := range t {
			execute(t, name, v)
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
	v := f.values()
	r := Rendered{Body: layout(ch, execute(t, "body", v)), Fields: f.contract()}
	if ch == aftercare.ChannelEmail {
		r.Subject = oneLine(execute(t, "subject", v))
	}
	return r, nil
}

func execute(t set, name string, v []string) string {
	var b strings.Builder
	t.exec(&b, t[name], v)
	return b.String()
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
